/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * worker.c: worker thread pools for the lab's slow jobs (see worker.h).
 *
 * Under the pool's mutex: the FIFO of jobs to do, the FIFO of jobs
 * done, the count of waiting jobs and the quit flag.  A worker takes
 * the oldest job, runs it unlocked, appends it to the done list and
 * then, after the unlock, writes a byte into the pipe the loop polls.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_THREADS_MAX	8

struct worker_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct worker_job *todo, *todo_tail;	/* FIFO */
	struct worker_job *done, *done_tail;	/* FIFO */
	size_t ntodo, queue_max;
	bool quit, drain;
	pthread_t th[WORKER_THREADS_MAX];
	int nth;
	int pipe[2];
};

/* Appends j to the list head..tail. */
static void
worker_list_put(struct worker_job **head, struct worker_job **tail,
    struct worker_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

/* Frees every job of the list l. */
static void
worker_list_free(struct worker_job *l)
{
	while (l) {
		struct worker_job *j = l;
		l = j->next;
		j->free(j);
	}
}

/* A worker: runs jobs until worker_stop. */
static void *
worker_main(void *arg)
{
	struct worker_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->todo && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->todo || (p->quit && !p->drain))
			break;
		struct worker_job *j = p->todo;
		p->todo = j->next;
		if (!p->todo)
			p->todo_tail = NULL;
		p->ntodo--;
		pthread_mutex_unlock(&p->mu);
		j->run(j);
		pthread_mutex_lock(&p->mu);
		worker_list_put(&p->done, &p->done_tail, j);
		/* the loop is woken after the unlock: woken while this
		 * thread holds the mutex (and may be preempted by it), it
		 * would wait for it (seen: a 65 ms turn on a busy machine) */
		pthread_mutex_unlock(&p->mu);
		/* full pipe: the loop has a byte to wake for already */
		if (write(p->pipe[1], "", 1) < 0 && errno != EAGAIN)
			fprintf(stderr, "mailsh lab: worker pipe: %s\n",
			    strerror(errno));
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* On the loop (loop_watch): hands finished jobs to their sessions,
 * oldest first; a session gone meanwhile is skipped. */
static void
worker_ready(void *arg)
{
	struct worker_pool *p = arg;
	char drain[64];
	while (read(p->pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	struct worker_job *l = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while (l) {
		struct worker_job *j = l;
		l = j->next;
		struct lconn *c = loop_find(j->conn);
		if (c) {
			j->done(c, j);
			lconn_resume(c);
		}
		j->free(j);
	}
}

struct worker_pool *
worker_start(int threads, size_t queue_max, bool drain, int *err)
{
	struct worker_pool *p = calloc(1, sizeof(*p));
	if (!p) {
		*err = errno;
		return NULL;
	}
	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		*err = errno;
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->queue_max = queue_max;
	p->drain = drain;
	if (threads > WORKER_THREADS_MAX)
		threads = WORKER_THREADS_MAX;
	/* the loop thread alone takes SIGINT / SIGTERM (in ppoll) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	for (p->nth = 0; p->nth < threads; p->nth++) {
		e = pthread_create(&p->th[p->nth], NULL, worker_main, p);
		if (e != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nth == 0) {
		*err = e;
		close(p->pipe[0]);
		close(p->pipe[1]);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	loop_watch(p->pipe[0], worker_ready, p);
	return p;
}

void
worker_stop(struct worker_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	worker_list_free(p->todo);	/* none left if drain */
	worker_list_free(p->done);
	loop_watch(-1, worker_ready, p);
	close(p->pipe[0]);
	close(p->pipe[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

enum worker_put
worker_submit(struct worker_pool *p, struct lconn *c, struct worker_job *j)
{
	if (!p)
		return WORKER_OFF;
	j->conn = c->id;
	pthread_mutex_lock(&p->mu);
	bool full = p->ntodo >= p->queue_max;
	if (!full) {
		worker_list_put(&p->todo, &p->todo_tail, j);
		p->ntodo++;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (full)
		return WORKER_FULL;
	/* done runs on this thread, later: nothing can resume c before */
	lconn_suspend(c);
	return WORKER_QUEUED;
}
