/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.h: password checks shared by the lab's protocols: SASL PLAIN
 * (RFC 4616) and plain name + password (SASL LOGIN, POP3 USER/PASS,
 * IMAP LOGIN).  Successes and failures go into the session log line,
 * never the password.
 *
 * A check costs one PBKDF2 (users.h: 6 ms of CPU at the default
 * iteration count, seconds with a large one in STATE/users), so it
 * runs off the event loop (issue 12, finding 10) as a job of a
 * worker.h pool of AUTH_WORKERS threads: the session is suspended (its
 * further commands stay buffered), a worker checks a copy of the
 * password against a copy of the hash, and the result comes back to
 * the session on the loop if it is still there.  Before that, the
 * client address's login rate (limits.h) is checked: a limited address
 * or a full queue answers AUTH_TEMP at once.
 *
 * Tests only: the environment variable MAILSH_TEST_AUTH_QUEUE=N (0 to
 * AUTH_QUEUE_MAX) lowers the queue limit; 0 makes every check that
 * would wait for a worker find the queue full.
 */
#ifndef MAILSH_LAB_AUTH_H
#define MAILSH_LAB_AUTH_H

#include "loop.h"
#include "worker.h"

#include <stdbool.h>
#include <stddef.h>

#define AUTH_BUF	1024	/* decoded SASL response */
#define AUTH_WORKERS	2	/* threads checking passwords */
#define AUTH_QUEUE_MAX	64	/* checks waiting for a worker */

enum auth_res {
	AUTH_OK,	/* c->user is set */
	AUTH_SYNTAX,	/* not base64, or not authzid\0authcid\0passwd */
	AUTH_FAIL,	/* unknown user or wrong password */
	AUTH_TEMP,	/* not checked: the address's login rate is used
			 * up, or the queue is full; try again later */
	AUTH_PENDING,	/* being checked: done is called later */
};

/* The result of a check that returned AUTH_PENDING, on the loop, with
 * the session resumed right after (c->ps is still the session's). */
typedef void (*auth_done_fn)(struct lconn *c, enum auth_res r);

/* Starts the worker threads.  Returns 0, or -1 after printing why;
 * without them checks run on the loop (never AUTH_PENDING). */
int auth_start(void);

/* Stops them (a running check is finished first, then dropped). */
void auth_stop(void);

/* Decodes base64 (n bytes; "=" is the empty string) into buf as a
 * NUL-terminated string.  Returns its length, or -1. */
long auth_b64(const char *s, size_t n, char *buf, size_t cap);

/* Checks a base64 SASL PLAIN response: AUTH_PENDING, or the result
 * now (done is not called then). */
enum auth_res auth_plain(struct lconn *c, const char *b64, size_t n,
    auth_done_fn done);

/* Checks a name and password: as auth_plain. */
enum auth_res auth_check(struct lconn *c, const char *name, size_t nl,
    const char *pass, size_t pl, auth_done_fn done);

/*
 * A check of another kind (a SASL mechanism of its own) as a job of
 * the password workers: j->run checks on a worker thread, j->done
 * (on the loop, the session still there) calls auth_settle and the
 * protocol's reply, j->free frees j.  The caller has taken the
 * address's login rate (limits_login_take) as auth_check does.
 * Returns AUTH_PENDING: j is queued, the session suspended until its
 * done (without workers, as in the fuzz targets, j is run, done and
 * freed before the return); or AUTH_TEMP: the queue is full, j was
 * freed, the rate refunded: answer the temporary failure.
 */
enum auth_res auth_queue(struct lconn *c, struct worker_job *j);

/* On the loop: records a check's result for the session: its log
 * line, a failed login (lconn_auth_failed), or c->user and the
 * login rate refunded on success.  name "" for an invalid name. */
void auth_settle(struct lconn *c, const char *name, bool ok);

#endif
