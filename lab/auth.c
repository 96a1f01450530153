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
#include "../protocols/sasl.h"
#include "../protocols/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

/* ---- --sasl-extra: CRAM-MD5 and SCRAM-SHA-256 (auth.h) ---- */

struct authx_job {
	struct worker_job w;		/* first */
	struct auth_x *x;		/* the session's: touched only at done,
					 * on the loop, when the session is
					 * still there (never by run: the
					 * session may be gone by then) */
	enum auth_xmech mech;
	char name[LAB_NAME_MAX + 1];
	bool known;
	/* CRAM-MD5 */
	char key[USERS_PASS_MAX + 1];
	size_t keylen;
	char chal[AUTH_X_MSG];
	size_t chlen;
	char hex[33];
	/* SCRAM */
	unsigned char stored[32], server[32], proof[32], sig[32];
	char auth[AUTH_X_MSG + 512];
	size_t authlen;
	bool ok;
};

enum auth_xmech
auth_x_mech(const struct lconn *c, const char *mech, size_t n)
{
	if (!c->lab->cfg.sasl_extra)
		return AUTH_X_NONE;
	if (n == 8 && strncasecmp(mech, "CRAM-MD5", 8) == 0)
		return AUTH_X_CRAM;
	if (n == 13 && strncasecmp(mech, "SCRAM-SHA-256", 13) == 0)
		return AUTH_X_SCRAM;
	return AUTH_X_NONE;
}

void
auth_x_end(struct auth_x *x)
{
	OPENSSL_cleanse(x, sizeof(*x));
}

/* x->out = base64 of m (n bytes).  False if it does not fit. */
static bool
authx_out(struct auth_x *x, const char *m, size_t n)
{
	return b64_encode(m, n, x->out, sizeof(x->out)) >= 0;
}

static void
authx_job_run(struct worker_job *w)
{
	struct authx_job *j = (struct authx_job *)w;
	if (j->mech == AUTH_X_CRAM) {
		char want[33];
		j->ok = sasl_cram_digest(j->key, j->keylen, j->chal, j->chlen,
		    want) && CRYPTO_memcmp(want, j->hex, 32) == 0 && j->known;
		OPENSSL_cleanse(j->key, sizeof(j->key));
	} else {
		j->ok = sasl_scram_check_proof(j->stored, j->server, j->auth,
		    j->authlen, j->proof, j->sig) && j->known;
	}
}

static void
authx_job_free(struct worker_job *w)
{
	OPENSSL_cleanse(w, sizeof(struct authx_job));
	free(w);
}

static void
authx_job_done(struct lconn *c, struct worker_job *w)
{
	struct authx_job *j = (struct authx_job *)w;
	struct auth_x *x = j->x;
	auth_done_fn done = x->done;
	if (!j->ok || x->mech == AUTH_X_CRAM) {
		auth_settle(c, j->name, j->ok);
		auth_x_end(x);
		done(c, j->ok ? AUTH_OK : AUTH_FAIL);
		return;
	}
	/* SCRAM: prove the server knew the key too (RFC 5802 3) */
	char v[64], sig64[48];
	b64_encode(j->sig, sizeof(j->sig), sig64, sizeof(sig64));
	int vl = snprintf(v, sizeof(v), "v=%s", sig64);
	authx_out(x, v, (size_t)vl);
	x->step = 3;
	x->done(c, AUTH_CONTINUE);
}

/* A new job for x, the login rate taken; NULL (with *r) if not. */
static struct authx_job *
authx_job_new(struct lconn *c, struct auth_x *x, enum auth_res *r)
{
	unsigned wait_s;
	if (!limits_login_take(&c->lab->cfg, c->addr, &wait_s)) {
		lconn_note(c, "login rate limit: next in %u s", wait_s);
		*r = AUTH_TEMP;
		return NULL;
	}
	struct authx_job *j = calloc(1, sizeof(*j));
	if (!j) {
		limits_login_refund(&c->lab->cfg, c->addr);
		lconn_note(c, "auth: out of memory");
		*r = AUTH_TEMP;
		return NULL;
	}
	j->w.run = authx_job_run;
	j->w.done = authx_job_done;
	j->w.free = authx_job_free;
	j->x = x;
	j->mech = x->mech;
	memcpy(j->name, x->name, sizeof(j->name));
	j->known = x->known;
	return j;
}

/* A salt for a name that is not a user: the same every time in this
 * process, so that asking twice does not tell. */
static void
authx_fake_salt(const char *name, unsigned char salt[USERS_SALT])
{
	static unsigned char key[32];
	static bool have;
	unsigned char h[32];
	if (!have && RAND_bytes(key, sizeof(key)) == 1)
		have = true;
	sasl_hmac_sha256(key, sizeof(key), name, strlen(name), h);
	memcpy(salt, h, USERS_SALT);
}

/* SCRAM client-first-message: the server-first in x->out. */
static enum auth_res
authx_scram_first(struct lconn *c, struct auth_x *x, const char *m,
    size_t n)
{
	char user[LAB_NAME_MAX * 3 + 1], cnonce[128];
	size_t bare;
	if (!sasl_scram_parse_client_first(m, n, user, sizeof(user), cnonce,
	    sizeof(cnonce), &bare)) {
		lconn_note(c, "auth: bad SCRAM client-first message");
		return AUTH_SYNTAX;
	}
	/* "n,," or "y,,": no channel binding, no other authzid (an
	 * authzid equal to the user is fine) */
	if (bare > 3) {
		size_t al = bare - 5;	/* "n,a=" ... "," */
		if (strlen(user) != al || memcmp(m + 4, user, al) != 0) {
			lconn_note(c, "auth: SCRAM authzid refused");
			return AUTH_SYNTAX;
		}
	}
	b64_encode(m, bare, x->cbind, sizeof(x->cbind));
	size_t ul = strlen(user);
	x->known = lab_name_ok(user, ul);
	if (x->known)
		memcpy(x->name, user, ul + 1);
	struct users_probe pr;
	users_probe(c->lab->users, user, ul, &pr);
	x->known = x->known && pr.known;
	unsigned char salt[USERS_SALT];
	if (x->known) {
		memcpy(salt, pr.salt, USERS_SALT);
		if (!sasl_scram_keys(pr.dk, x->stored, x->server))
			x->known = false;
	} else {
		authx_fake_salt(user, salt);
		RAND_bytes(x->stored, sizeof(x->stored));
		RAND_bytes(x->server, sizeof(x->server));
	}
	unsigned iter = pr.iter;
	OPENSSL_cleanse(&pr, sizeof(pr));
	unsigned char rnd[18];
	char snonce[32], salt64[32];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return AUTH_TEMP;
	b64_encode(rnd, sizeof(rnd), snonce, sizeof(snonce));
	b64_encode(salt, sizeof(salt), salt64, sizeof(salt64));
	snprintf(x->nonce, sizeof(x->nonce), "%s%s", cnonce, snonce);
	int k = snprintf(x->msg, sizeof(x->msg), "%.*s,r=%s,s=%s,i=%u",
	    (int)(n - bare), m + bare, x->nonce, salt64, iter);
	if (k < 0 || (size_t)k >= sizeof(x->msg))
		return AUTH_SYNTAX;
	x->msglen = (size_t)k;
	const char *sfirst = memchr(x->msg + (n - bare), ',',
	    x->msglen - (n - bare));
	sfirst = sfirst ? sfirst + 1 : x->msg;
	if (!authx_out(x, sfirst, (size_t)(x->msg + x->msglen - sfirst)))
		return AUTH_SYNTAX;
	x->step = 2;
	return AUTH_CONTINUE;
}

/* SCRAM client-final-message: the proof, checked as a worker job. */
static enum auth_res
authx_scram_final(struct lconn *c, struct auth_x *x, const char *m,
    size_t n)
{
	const char *cb, *nonce;
	size_t cbl, nl, wl;
	unsigned char proof[32];
	if (!sasl_scram_parse_client_final(m, n, &cb, &cbl, &nonce, &nl,
	    &wl, proof) || cbl != strlen(x->cbind) ||
	    memcmp(cb, x->cbind, cbl) != 0 || nl != strlen(x->nonce) ||
	    memcmp(nonce, x->nonce, nl) != 0) {
		lconn_note(c, "auth: bad SCRAM client-final message");
		return AUTH_SYNTAX;
	}
	enum auth_res r;
	struct authx_job *j = authx_job_new(c, x, &r);
	if (!j)
		return r;
	memcpy(j->stored, x->stored, 32);
	memcpy(j->server, x->server, 32);
	memcpy(j->proof, proof, 32);
	int al = snprintf(j->auth, sizeof(j->auth), "%.*s,%.*s",
	    (int)x->msglen, x->msg, (int)wl, m);
	if (al < 0 || (size_t)al >= sizeof(j->auth)) {
		authx_job_free(&j->w);
		limits_login_refund(&c->lab->cfg, c->addr);
		return AUTH_SYNTAX;
	}
	j->authlen = (size_t)al;
	return auth_queue(c, &j->w);
}

/* CRAM-MD5 answer "user hexdigest" (RFC 2195 2). */
static enum auth_res
authx_cram(struct lconn *c, struct auth_x *x, const char *m, size_t n)
{
	const char *sp = n > 33 ? m + n - 33 : NULL;
	if (!sp || *sp != ' ') {
		lconn_note(c, "auth: bad CRAM-MD5 answer");
		return AUTH_SYNTAX;
	}
	for (int i = 1; i <= 32; i++)
		if (!((sp[i] >= '0' && sp[i] <= '9') || (sp[i] >= 'a' &&
		    sp[i] <= 'f'))) {
			lconn_note(c, "auth: bad CRAM-MD5 answer");
			return AUTH_SYNTAX;
		}
	size_t ul = (size_t)(sp - m);
	const char *key = users_clear(c->lab->users, m, ul);
	x->known = key != NULL && lab_name_ok(m, ul);
	if (lab_name_ok(m, ul)) {
		memcpy(x->name, m, ul);
		x->name[ul] = '\0';
	}
	enum auth_res r;
	struct authx_job *j = authx_job_new(c, x, &r);
	if (!j)
		return r;
	if (key) {
		j->keylen = strlen(key);
		memcpy(j->key, key, j->keylen);
	}
	memcpy(j->chal, x->msg, x->msglen);
	j->chlen = x->msglen;
	memcpy(j->hex, sp + 1, 32);
	return auth_queue(c, &j->w);
}

enum auth_res
auth_x_start(struct lconn *c, struct auth_x *x, enum auth_xmech mech,
    const char *ir, size_t irn, auth_done_fn done)
{
	auth_x_end(x);
	x->mech = mech;
	x->done = done;
	if (mech == AUTH_X_CRAM) {
		if (ir)			/* CRAM-MD5 begins with the server */
			return AUTH_SYNTAX;
		unsigned char rnd[8];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return AUTH_TEMP;
		int k = snprintf(x->msg, sizeof(x->msg), "<%llu.%lld@%s>",
		    (unsigned long long)rnd[0] << 56 | (unsigned long long)
		    rnd[1] << 48 | (unsigned long long)rnd[2] << 40 |
		    (unsigned long long)rnd[3] << 32 | (unsigned long long)
		    rnd[4] << 24 | (unsigned long long)rnd[5] << 16 |
		    (unsigned long long)rnd[6] << 8 | rnd[7],
		    (long long)time(NULL), c->lab->cfg.hostname);
		x->msglen = (size_t)k;
		authx_out(x, x->msg, x->msglen);
		x->step = 1;
		return AUTH_CONTINUE;
	}
	x->step = 1;
	if (!ir) {			/* the empty challenge first */
		x->out[0] = '\0';
		return AUTH_CONTINUE;
	}
	return auth_x_line(c, x, ir, irn);
}

enum auth_res
auth_x_line(struct lconn *c, struct auth_x *x, const char *line, size_t n)
{
	char m[AUTH_BUF];
	long ml = auth_b64(line, n, m, sizeof(m));
	enum auth_res r;
	if (ml < 0) {
		r = AUTH_SYNTAX;
	} else if (x->mech == AUTH_X_CRAM) {
		r = authx_cram(c, x, m, (size_t)ml);
	} else if (x->step == 1) {
		r = authx_scram_first(c, x, m, (size_t)ml);
	} else if (x->step == 2) {
		r = authx_scram_final(c, x, m, (size_t)ml);
	} else {
		/* the answer to v=: empty (RFC 5802 5) */
		r = ml == 0 ? AUTH_OK : AUTH_SYNTAX;
		if (r == AUTH_OK)
			auth_settle(c, x->name, true);
	}
	OPENSSL_cleanse(m, sizeof(m));
	if (r != AUTH_CONTINUE && r != AUTH_PENDING)
		auth_x_end(x);
	return r;
}
