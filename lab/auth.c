/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.c: password checks for the lab's protocols, on worker threads
 * (see auth.h).
 *
 * Threads: the loop thread owns every session; a worker sees only its
 * job (copies of the hash and the password, the session's id) and the
 * two lists below, under auth_mu.  A finished job goes on the done
 * list and a byte into the pipe the loop polls (loop_watch).
 */
#include "auth.h"
#include "limits.h"
#include "users.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

struct auth_job {
	struct auth_job *next;
	uint64_t conn;			/* lconn.id */
	auth_done_fn done;
	struct users_probe pr;
	char name[LAB_NAME_MAX + 1];	/* "" when not a valid name */
	char pass[AUTH_BUF];
	size_t plen;
	bool ok;
};

static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cv = PTHREAD_COND_INITIALIZER;
static struct auth_job *auth_todo, *auth_done;	/* FIFO, LIFO */
static size_t auth_ntodo;
static bool auth_quit;
static pthread_t auth_th[AUTH_WORKERS];
static int auth_nth;
static int auth_pipe[2] = { -1, -1 };

static void
auth_job_free(struct auth_job *j)
{
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* A worker: checks jobs until auth_stop. */
static void *
auth_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&auth_mu);
	for (;;) {
		while (!auth_todo && !auth_quit)
			pthread_cond_wait(&auth_cv, &auth_mu);
		if (auth_quit)
			break;
		struct auth_job *j = auth_todo;
		auth_todo = j->next;
		auth_ntodo--;
		pthread_mutex_unlock(&auth_mu);
		j->ok = users_verify(&j->pr, j->pass, j->plen);
		OPENSSL_cleanse(j->pass, sizeof(j->pass));
		pthread_mutex_lock(&auth_mu);
		j->next = auth_done;
		auth_done = j;
		/* the loop is woken after the unlock: woken while this
		 * thread holds the mutex (and may be preempted by it), it
		 * would wait for it (seen: a 65 ms turn on a busy machine) */
		pthread_mutex_unlock(&auth_mu);
		/* full pipe: the loop has a byte to wake for already */
		if (write(auth_pipe[1], "", 1) < 0 && errno != EAGAIN)
			fprintf(stderr, "mailsh lab: auth pipe: %s\n",
			    strerror(errno));
		pthread_mutex_lock(&auth_mu);
	}
	pthread_mutex_unlock(&auth_mu);
	return NULL;
}

/* On the loop: the session's part of a result. */
static void
auth_result(struct lconn *c, const char *name, bool ok)
{
	if (!ok) {
		if (name[0])
			lconn_note(c, "auth failed for %s", name);
		else
			lconn_note(c, "auth failed (no such name)");
		lconn_auth_failed(c);
		return;
	}
	limits_login_refund(&c->lab->cfg, c->addr);
	memcpy(c->user, name, strlen(name) + 1);
	lconn_note(c, "auth %s", c->user);
}

/* On the loop (loop_watch): hands finished checks to their sessions,
 * oldest first; a session gone meanwhile is skipped. */
static void
auth_ready(void *arg)
{
	(void)arg;
	char drain[64];
	while (read(auth_pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&auth_mu);
	struct auth_job *list = auth_done, *fifo = NULL;
	auth_done = NULL;
	pthread_mutex_unlock(&auth_mu);
	while (list) {			/* reverse: oldest first */
		struct auth_job *j = list;
		list = j->next;
		j->next = fifo;
		fifo = j;
	}
	while (fifo) {
		struct auth_job *j = fifo;
		fifo = j->next;
		struct lconn *c = loop_find(j->conn);
		if (c) {
			auth_result(c, j->name, j->ok);
			j->done(c, j->ok ? AUTH_OK : AUTH_FAIL);
			lconn_resume(c);
		}
		auth_job_free(j);
	}
}

int
auth_start(void)
{
	if (pipe2(auth_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, _("mailsh lab: cannot start the password "
		    "checks: %s\n"), strerror(errno));
		return -1;
	}
	auth_quit = false;
	/* the loop thread alone takes SIGINT / SIGTERM (in ppoll) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	for (auth_nth = 0; auth_nth < AUTH_WORKERS; auth_nth++) {
		e = pthread_create(&auth_th[auth_nth], NULL, auth_worker,
		    NULL);
		if (e != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (auth_nth == 0) {
		fprintf(stderr, _("mailsh lab: cannot start the password "
		    "checks: %s\n"), strerror(e));
		close(auth_pipe[0]);
		close(auth_pipe[1]);
		auth_pipe[0] = auth_pipe[1] = -1;
		return -1;
	}
	loop_watch(auth_pipe[0], auth_ready, NULL);
	return 0;
}

void
auth_stop(void)
{
	if (auth_nth == 0)
		return;
	pthread_mutex_lock(&auth_mu);
	auth_quit = true;
	pthread_cond_broadcast(&auth_cv);
	pthread_mutex_unlock(&auth_mu);
	for (int i = 0; i < auth_nth; i++)
		pthread_join(auth_th[i], NULL);
	auth_nth = 0;
	for (struct auth_job *l = auth_todo; l;) {
		struct auth_job *j = l;
		l = j->next;
		auth_job_free(j);
	}
	for (struct auth_job *l = auth_done; l;) {
		struct auth_job *j = l;
		l = j->next;
		auth_job_free(j);
	}
	auth_todo = auth_done = NULL;
	auth_ntodo = 0;
	loop_watch(-1, auth_ready, NULL);
	close(auth_pipe[0]);
	close(auth_pipe[1]);
	auth_pipe[0] = auth_pipe[1] = -1;
}

long
auth_b64(const char *s, size_t n, char *buf, size_t cap)
{
	if (n == 1 && s[0] == '=') {	/* RFC 4954 4: empty response */
		buf[0] = '\0';
		return 0;
	}
	long r = b64_decode(s, n, buf, cap - 1);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return r;
}

enum auth_res
auth_check(struct lconn *c, const char *name, size_t nl, const char *pass,
    size_t pl, auth_done_fn done)
{
	unsigned wait_s;
	if (!limits_login_take(&c->lab->cfg, c->addr, &wait_s)) {
		lconn_note(c, "login rate limit: next in %u s", wait_s);
		return AUTH_TEMP;
	}
	if (pl >= AUTH_BUF) {		/* longer than any SASL response */
		lconn_note(c, "auth failed (password too long)");
		lconn_auth_failed(c);
		return AUTH_FAIL;
	}
	struct auth_job *j = calloc(1, sizeof(*j));
	if (!j) {
		limits_login_refund(&c->lab->cfg, c->addr);
		lconn_note(c, "auth: out of memory");
		return AUTH_TEMP;
	}
	j->conn = c->id;
	j->done = done;
	users_probe(c->lab->users, name, nl, &j->pr);
	if (lab_name_ok(name, nl))
		memcpy(j->name, name, nl);
	memcpy(j->pass, pass, pl);
	j->plen = pl;
	if (auth_nth == 0) {		/* no workers: on the loop */
		j->ok = users_verify(&j->pr, j->pass, j->plen);
		auth_result(c, j->name, j->ok);
		enum auth_res r = j->ok ? AUTH_OK : AUTH_FAIL;
		auth_job_free(j);
		return r;
	}
	pthread_mutex_lock(&auth_mu);
	bool full = auth_ntodo >= AUTH_QUEUE_MAX;
	if (!full) {
		struct auth_job **t = &auth_todo;
		while (*t)
			t = &(*t)->next;
		*t = j;
		auth_ntodo++;
		pthread_cond_signal(&auth_cv);
	}
	pthread_mutex_unlock(&auth_mu);
	if (full) {
		auth_job_free(j);
		limits_login_refund(&c->lab->cfg, c->addr);
		lconn_note(c, "auth: %d checks queued", AUTH_QUEUE_MAX);
		return AUTH_TEMP;
	}
	lconn_suspend(c);
	return AUTH_PENDING;
}

enum auth_res
auth_plain(struct lconn *c, const char *b64, size_t n, auth_done_fn done)
{
	char buf[AUTH_BUF];
	long len = auth_b64(b64, n, buf, sizeof(buf));
	if (len < 0)
		return AUTH_SYNTAX;
	/* authzid NUL authcid NUL passwd */
	const char *authz = buf;
	const char *nul1 = memchr(buf, '\0', (size_t)len);
	if (!nul1)
		return AUTH_SYNTAX;
	const char *authc = nul1 + 1;
	const char *nul2 = memchr(authc, '\0', (size_t)(buf + len - authc));
	if (!nul2)
		return AUTH_SYNTAX;
	const char *pass = nul2 + 1;
	size_t al = (size_t)(nul2 - authc);
	size_t pl = (size_t)(buf + len - pass);
	enum auth_res r;
	if (*authz && (strlen(authz) != al || memcmp(authz, authc, al))) {
		r = AUTH_FAIL;	/* acting as someone else: not here */
		lconn_auth_failed(c);
	} else {
		r = auth_check(c, authc, al, pass, pl, done);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}
