/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.c: password checks for the lab's protocols, on the worker
 * threads of worker.c (see auth.h).  A worker sees only its job:
 * copies of the hash and the password.
 */
#include "auth.h"
#include "limits.h"
#include "users.h"
#include "worker.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct auth_job {
	struct worker_job w;		/* first */
	auth_done_fn done;
	struct users_probe pr;
	char name[LAB_NAME_MAX + 1];	/* "" when not a valid name */
	char pass[AUTH_BUF];
	size_t plen;
	bool ok;
};

static struct worker_pool *auth_pool;
static size_t auth_queue_max = AUTH_QUEUE_MAX;

/* On a worker: the PBKDF2. */
static void
auth_job_run(struct worker_job *w)
{
	struct auth_job *j = (struct auth_job *)w;
	j->ok = users_verify(&j->pr, j->pass, j->plen);
	OPENSSL_cleanse(j->pass, sizeof(j->pass));
}

static void
auth_job_free(struct worker_job *w)
{
	OPENSSL_cleanse(w, sizeof(struct auth_job));
	free(w);
}

void
auth_settle(struct lconn *c, const char *name, bool ok)
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

/* On the loop, the session still there: its part of the result, then
 * the protocol's reply. */
static void
auth_job_done(struct lconn *c, struct worker_job *w)
{
	struct auth_job *j = (struct auth_job *)w;
	auth_settle(c, j->name, j->ok);
	j->done(c, j->ok ? AUTH_OK : AUTH_FAIL);
}

int
auth_start(void)
{
	/* tests only: a smaller queue (0: always full) */
	const char *q = getenv("MAILSH_TEST_AUTH_QUEUE");
	if (q && *q) {
		char *end;
		unsigned long v = strtoul(q, &end, 10);
		if (*end == '\0' && v <= AUTH_QUEUE_MAX)
			auth_queue_max = v;
	}
	int e;
	auth_pool = worker_start(AUTH_WORKERS, auth_queue_max, false, &e);
	if (!auth_pool) {
		fprintf(stderr, _("mailsh lab: cannot start the password "
		    "checks: %s\n"), strerror(e));
		return -1;
	}
	return 0;
}

void
auth_stop(void)
{
	worker_stop(auth_pool);
	auth_pool = NULL;
}

enum auth_res
auth_queue(struct lconn *c, struct worker_job *j)
{
	switch (worker_submit(auth_pool, c, j)) {
	case WORKER_QUEUED:
		return AUTH_PENDING;
	case WORKER_FULL:
		j->free(j);
		limits_login_refund(&c->lab->cfg, c->addr);
		lconn_note(c, "auth: %zu checks queued", auth_queue_max);
		return AUTH_TEMP;
	case WORKER_OFF:
		break;
	}
	j->run(j);			/* no workers: on the loop */
	j->done(c, j);
	j->free(j);
	return AUTH_PENDING;
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
	j->w.run = auth_job_run;
	j->w.done = auth_job_done;
	j->w.free = auth_job_free;
	j->done = done;
	users_probe(c->lab->users, name, nl, &j->pr);
	if (lab_name_ok(name, nl))
		memcpy(j->name, name, nl);
	memcpy(j->pass, pass, pl);
	j->plen = pl;
	if (!auth_pool) {		/* no workers: on the loop */
		auth_job_run(&j->w);
		auth_settle(c, j->name, j->ok);
		enum auth_res r = j->ok ? AUTH_OK : AUTH_FAIL;
		auth_job_free(&j->w);
		return r;
	}
	return auth_queue(c, &j->w);
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
