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
	AUTH_CONTINUE,	/* auth_x: send x->out as a challenge, pass the
			 * answer to auth_x_line (also given to done) */
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

/*
 * --sasl-extra: the challenge-response mechanisms, server side.
 *   CRAM-MD5 (RFC 2195): challenge "<random.time@host>", answer
 *     "user hexdigest"; the digest checked with the password kept for
 *     CRAM-MD5 (users.h), as a worker job.
 *   SCRAM-SHA-256 (RFC 5802, 7677): the stored PBKDF2-HMAC-SHA-256 hash
 *     is SaltedPassword (same salt and iterations go to the client), so
 *     StoredKey and ServerKey derive from it; the proof is checked as a
 *     worker job, then "v=ServerSignature" goes out as a challenge and
 *     the empty answer ends the exchange.  Channel binding (-PLUS) and
 *     an authzid other than the user are refused.  An unknown user gets
 *     a salt of its own (HMAC of the name under a key of this process),
 *     so the reply does not tell that the name is unknown.
 * The client's messages go through the bounded parsers of
 * protocols/sasl.h; every failed attempt counts for --login-rate.
 */
#define AUTH_X_MSG	1024	/* SCRAM AuthMessage parts, CRAM challenge */
#define AUTH_X_OUT	1024	/* a challenge, base64 */

enum auth_xmech { AUTH_X_NONE, AUTH_X_CRAM, AUTH_X_SCRAM };

struct auth_x {
	enum auth_xmech mech;
	int step;		/* SCRAM: 1 client-first, 2 client-final,
				 * 3 the empty answer after v= */
	char name[LAB_NAME_MAX + 1];
	bool known;
	char msg[AUTH_X_MSG];	/* CRAM: the challenge; SCRAM:
				 * client-first-bare "," server-first */
	size_t msglen;
	char cbind[16];		/* SCRAM: base64 of the gs2 header */
	char nonce[256];	/* SCRAM: client + server nonce */
	unsigned char stored[32], server[32];
	char out[AUTH_X_OUT];	/* the challenge to send, base64 */
	auth_done_fn done;
};

/* The mechanism named mech (n bytes) when --sasl-extra offers it. */
enum auth_xmech auth_x_mech(const struct lconn *c, const char *mech,
    size_t n);

/* Starts an exchange; ir/irn the initial response (base64, NULL none).
 * AUTH_CONTINUE (x->out to send), AUTH_SYNTAX, AUTH_FAIL, AUTH_TEMP. */
enum auth_res auth_x_start(struct lconn *c, struct auth_x *x,
    enum auth_xmech mech, const char *ir, size_t irn, auth_done_fn done);

/* A line answering x->out ("*" is the caller's): as auth_x_start, or
 * AUTH_PENDING (done is called with the result, maybe AUTH_CONTINUE),
 * or AUTH_OK. */
enum auth_res auth_x_line(struct lconn *c, struct auth_x *x,
    const char *line, size_t n);

/* Forgets an exchange (wipes it). */
void auth_x_end(struct auth_x *x);

#endif
