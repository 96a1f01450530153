/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commit.c: deliveries made durable off the event loop (see commit.h).
 * One worker thread: fsyncs go to one disk, one after another anyway.
 * The shape is auth.c's: a FIFO of jobs under a mutex, a condition
 * variable for the worker, a pipe that wakes the loop.
 */
#include "commit.h"
#include "../protocols/i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMIT_NAME_MAX	320	/* "user/.folder" (imapbox_store_user) */

struct commit_job {
	struct commit_job *next;
	uint64_t conn;			/* lconn.id */
	commit_done_fn done;
	struct store_msg *msg;
	char (*users)[COMMIT_NAME_MAX];	/* n of them */
	size_t n;
	int r;
	char id[STORE_NAME_MAX];
};

static pthread_mutex_t commit_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t commit_cv = PTHREAD_COND_INITIALIZER;
static struct commit_job *commit_todo, *commit_todo_tail;
static struct commit_job *commit_done_list;	/* LIFO */
static size_t commit_ntodo;
static bool commit_quit, commit_running;
static pthread_t commit_th;
static int commit_pipe[2] = { -1, -1 };

/* Runs one commit (on the worker). */
static void
commit_run(struct commit_job *j)
{
	const char **users = malloc(j->n * sizeof(*users));
	if (!users) {
		store_abort(j->msg);
		j->r = -1;
	} else {
		for (size_t i = 0; i < j->n; i++)
			users[i] = j->users[i];
		j->r = store_commit(j->msg, users, j->n, j->id,
		    sizeof(j->id));
	}
	free(users);
	free(j->msg);
	j->msg = NULL;
}

static void
commit_free(struct commit_job *j)
{
	free(j->users);
	free(j);
}

static void *
commit_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&commit_mu);
	for (;;) {
		while (!commit_todo && !commit_quit)
			pthread_cond_wait(&commit_cv, &commit_mu);
		if (!commit_todo)
			break;		/* quit, and nothing left */
		struct commit_job *j = commit_todo;
		commit_todo = j->next;
		if (!commit_todo)
			commit_todo_tail = NULL;
		commit_ntodo--;
		pthread_mutex_unlock(&commit_mu);
		commit_run(j);
		pthread_mutex_lock(&commit_mu);
		j->next = commit_done_list;
		commit_done_list = j;
		/* wake the loop only after the unlock: woken while this
		 * thread holds the mutex (and may be preempted by it), the
		 * loop would wait for it (seen: 65 ms on a busy machine) */
		pthread_mutex_unlock(&commit_mu);
		ssize_t w = write(commit_pipe[1], "x", 1);
		(void)w;	/* full: the loop wakes anyway */
		pthread_mutex_lock(&commit_mu);
	}
	pthread_mutex_unlock(&commit_mu);
	return NULL;
}

/* On the loop (loop_watch): hands finished commits to their sessions,
 * oldest first. */
static void
commit_ready(void *arg)
{
	(void)arg;
	char drain[64];
	while (read(commit_pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&commit_mu);
	struct commit_job *list = commit_done_list, *fifo = NULL;
	commit_done_list = NULL;
	pthread_mutex_unlock(&commit_mu);
	while (list) {			/* reverse: oldest first */
		struct commit_job *j = list;
		list = j->next;
		j->next = fifo;
		fifo = j;
	}
	while (fifo) {
		struct commit_job *j = fifo;
		fifo = j->next;
		struct lconn *c = loop_find(j->conn);
		if (c) {
			j->done(c, j->r, j->id);
			lconn_resume(c);
		}
		commit_free(j);
	}
}

int
commit_start(void)
{
	if (pipe2(commit_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, _("mailsh lab: cannot start the delivery "
		    "thread: %s\n"), strerror(errno));
		return -1;
	}
	commit_quit = false;
	/* the loop thread alone takes SIGINT / SIGTERM (in ppoll) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&commit_th, NULL, commit_worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		fprintf(stderr, _("mailsh lab: cannot start the delivery "
		    "thread: %s\n"), strerror(e));
		close(commit_pipe[0]);
		close(commit_pipe[1]);
		commit_pipe[0] = commit_pipe[1] = -1;
		return -1;
	}
	commit_running = true;
	loop_watch(commit_pipe[0], commit_ready, NULL);
	return 0;
}

void
commit_stop(void)
{
	if (!commit_running)
		return;
	pthread_mutex_lock(&commit_mu);
	commit_quit = true;
	pthread_cond_broadcast(&commit_cv);
	pthread_mutex_unlock(&commit_mu);
	pthread_join(commit_th, NULL);	/* the queue is done first */
	commit_running = false;
	for (struct commit_job *l = commit_done_list; l;) {
		struct commit_job *j = l;
		l = j->next;
		commit_free(j);
	}
	commit_done_list = NULL;
	loop_watch(-1, commit_ready, NULL);
	close(commit_pipe[0]);
	close(commit_pipe[1]);
	commit_pipe[0] = commit_pipe[1] = -1;
}

bool
commit_async(struct lconn *c, struct store_msg *m,
    const char *const *users, size_t n, commit_done_fn done)
{
	if (!commit_running || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strlen(users[i]) >= COMMIT_NAME_MAX)
			return false;
	pthread_mutex_lock(&commit_mu);
	bool full = commit_ntodo >= COMMIT_QUEUE_MAX;
	pthread_mutex_unlock(&commit_mu);
	struct commit_job *j = full ? NULL : calloc(1, sizeof(*j));
	if (!j)
		return false;
	if (!(j->users = calloc(n, sizeof(*j->users)))) {
		free(j);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(j->users[i], users[i], strlen(users[i]) + 1);
	j->n = n;
	j->conn = c->id;
	j->done = done;
	j->msg = m;
	lconn_suspend(c);
	pthread_mutex_lock(&commit_mu);
	if (commit_todo_tail)
		commit_todo_tail->next = j;
	else
		commit_todo = j;
	commit_todo_tail = j;
	commit_ntodo++;
	pthread_cond_signal(&commit_cv);
	pthread_mutex_unlock(&commit_mu);
	return true;
}
