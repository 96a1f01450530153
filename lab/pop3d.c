/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pop3d.c: the lab's POP3 server.
 *
 * RFC 1939 (POP3; states AUTHORIZATION, TRANSACTION, UPDATE; 3:
 * byte-stuffing of multi-line responses), RFC 2449 (CAPA, response
 * codes [IN-USE], [AUTH], [SYS/TEMP], [SYS/PERM]), RFC 2595 (STLS),
 * RFC 5034 (AUTH, "+ " continuation, initial response), RFC 3206
 * (AUTH and SYS response codes), RFC 8314 (implicit TLS).
 *
 * Messages are streamed from the Maildir through the loop's refill hook:
 * LF becomes CRLF, a line starting with '.' gets another one.
 */
#include "pop3d.h"
#include "auth.h"
#include "maildir.h"
#include "users.h"
#include "../protocols/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POP3D_CHUNK	1500	/* file bytes per refill (2x on the wire) */

enum pop3d_state {
	PS_AUTH,	/* AUTHORIZATION */
	PS_AUTH_PLAIN,	/* "+ " sent, waiting for the PLAIN response */
	PS_TRANS,	/* TRANSACTION */
	PS_AUTH_X,	/* CRAM-MD5 / SCRAM-SHA-256 under way (auth.h) */
};

static const char *const pop3d_state_name[] = {
	"authorization", "auth-plain", "transaction", "auth-x",
};

struct pop3d {
	enum pop3d_state st;
	char name[LAB_NAME_MAX * 4 + 1];	/* from USER */
	bool have_name;
	struct lab_user *u;	/* holds the maildrop lock */
	struct maildir_list box;
	/* a message being sent */
	int fd;
	size_t list_i;		/* LIST / UIDL: next message */
	bool list_uidl;
	bool bol;		/* at the start of a line */
	int prev;		/* previous byte sent */
	bool top;		/* TOP: stop after body_max lines */
	bool in_body;
	unsigned long body_lines, body_max;
	struct auth_x ax;	/* --sasl-extra exchange */
};

/* Changes state; the ONLY way to do so. */
static void
pop3d_set(struct pop3d *p, enum pop3d_state st)
{
	if ((unsigned)st >= sizeof(pop3d_state_name) /
	    sizeof(*pop3d_state_name))
		abort();
	p->st = st;
}

static bool
pop3d_auth_allowed(const struct lconn *c)
{
	return lconn_is_tls(c) || c->lab->cfg.plaintext_auth;
}

static void
pop3d_open(struct lconn *c)
{
	struct pop3d *p = calloc(1, sizeof(*p));
	if (!p) {
		lconn_reply(c, "-ERR [SYS/TEMP] out of memory");
		lconn_close(c, "out of memory");
		return;
	}
	p->fd = -1;
	c->ps = p;
	lconn_reply(c, "+OK mailsh-lab POP3 ready");
}

/* Gives the maildrop back (without UPDATE). */
static void
pop3d_release(struct pop3d *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->u)
		p->u->maildrop_open = false;
	p->u = NULL;
	maildir_list_free(&p->box);
}

static void
pop3d_close(struct lconn *c)
{
	struct pop3d *p = c->ps;
	if (!p)
		return;
	if (p->st != PS_AUTH)
		lconn_note(c, "left in state %s", pop3d_state_name[p->st]);
	pop3d_release(p);
	auth_x_end(&p->ax);
	free(p);
	c->ps = NULL;
}

static void
pop3d_tls_ready(struct lconn *c)
{
	struct pop3d *p = c->ps;
	p->have_name = false;
	pop3d_set(p, PS_AUTH);
}

static void
pop3d_error(struct lconn *c, enum lab_err e)
{
	switch (e) {
	case LAB_E_TOOLONG:
		lconn_reply(c, "-ERR line too long");
		break;
	case LAB_E_TIMEOUT:
		lconn_reply(c, "-ERR autologout: idle for too long");
		break;
	case LAB_E_BUSY:
		lconn_reply(c, "-ERR [SYS/TEMP] too many connections");
		break;
	case LAB_E_TOOMANY:
		lconn_reply(c, "-ERR too many commands");
		break;
	case LAB_E_SHUTDOWN:
		lconn_reply(c, "-ERR [SYS/TEMP] server shutting down");
		break;
	case LAB_E_AUTHFAIL:
		lconn_reply(c, "-ERR [AUTH] too many failed logins, "
		    "closing");
		break;
	default:
		abort();
	}
}

static void
pop3d_capa(struct lconn *c, struct pop3d *p)
{
	lconn_reply(c, "+OK Capability list follows");
	lconn_reply(c, "TOP");
	lconn_reply(c, "UIDL");
	lconn_reply(c, "RESP-CODES");
	lconn_reply(c, "AUTH-RESP-CODE");
	lconn_reply(c, "PIPELINING");
	if (p->st != PS_TRANS && pop3d_auth_allowed(c)) {
		lconn_reply(c, "USER");
		lconn_reply(c, c->lab->cfg.sasl_extra ? "SASL PLAIN CRAM-MD5 "
		    "SCRAM-SHA-256" : "SASL PLAIN");
	}
	if (p->st != PS_TRANS && !lconn_is_tls(c))
		lconn_reply(c, "STLS");
	lconn_reply(c, "IMPLEMENTATION mailsh-lab");
	lconn_reply(c, ".");
}

/* Messages and octets not marked deleted. */
static void
pop3d_count(const struct pop3d *p, size_t *n, unsigned long long *oct)
{
	*n = 0;
	*oct = 0;
	for (size_t i = 0; i < p->box.n; i++) {
		if (p->box.e[i].deleted)
			continue;
		(*n)++;
		*oct += p->box.e[i].size;
	}
}

/* After a good password: lock and list the maildrop. */
static void
pop3d_login(struct lconn *c, struct pop3d *p, enum auth_res r)
{
	if (r == AUTH_SYNTAX) {
		c->user[0] = '\0';
		lconn_reply(c, "-ERR [AUTH] invalid SASL response");
		return;
	}
	if (r == AUTH_TEMP) {
		/* RFC 3206 4: not the credentials (that is [AUTH]); RFC
		 * 2449's LOGIN-DELAY is about one user logging in too
		 * often, this is one address */
		lconn_reply(c, "-ERR [SYS/TEMP] Too many login attempts, "
		    "try again later");
		return;
	}
	if (r != AUTH_OK) {
		lconn_reply(c, "-ERR [AUTH] Authentication failed");
		return;
	}
	struct lab_user *u = users_find(c->lab->users, c->user,
	    strlen(c->user));
	if (!u) {
		lconn_reply(c, "-ERR [AUTH] Authentication failed");
		return;
	}
	if (u->maildrop_open) {
		c->user[0] = '\0';
		lconn_reply(c, "-ERR [IN-USE] maildrop already locked by "
		    "another session");
		lconn_note(c, "maildrop in use");
		return;
	}
	char path[4300];
	snprintf(path, sizeof(path), "%s/mail/%s", c->lab->cfg.state,
	    u->name);
	if (maildir_list_scan(&p->box, path) != 0) {
		c->user[0] = '\0';
		lconn_reply(c, "-ERR [SYS/TEMP] cannot open the maildrop");
		return;
	}
	u->maildrop_open = true;
	p->u = u;
	pop3d_set(p, PS_TRANS);
	if (c->lab->cfg.pop_before_smtp)
		lab_pbs_add(c->lab, c->addr, u->name);
	size_t n;
	unsigned long long oct;
	pop3d_count(p, &n, &oct);
	lconn_reply(c, "+OK Logged in, %zu messages (%llu octets)", n, oct);
}

/* The result of a password check run off the loop (auth.h); a
 * challenge of --sasl-extra's mechanisms. */
static void
pop3d_auth_done(struct lconn *c, enum auth_res r)
{
	struct pop3d *p = c->ps;
	if (r == AUTH_CONTINUE) {
		pop3d_set(p, PS_AUTH_X);
		lconn_reply(c, "+ %s", p->ax.out);
		return;
	}
	pop3d_set(p, PS_AUTH);
	pop3d_login(c, p, r);
}

/* A check's first answer: now, or later through pop3d_auth_done. */
static void
pop3d_login_result(struct lconn *c, struct pop3d *p, enum auth_res r)
{
	(void)p;
	if (r != AUTH_PENDING)
		pop3d_auth_done(c, r);
}

/*
 * Parses a message number (1..n, decimal, nothing else) from s.  Returns
 * the index, or -1 after replying -ERR (also for a deleted message).
 */
static long
pop3d_msgno(struct lconn *c, struct pop3d *p, const char *s, size_t n,
    bool want_undeleted)
{
	unsigned long v = 0;
	size_t i = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9' && v < 1000000000; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (i == 0 || (i < n && s[i] != ' ')) {
		lconn_reply(c, "-ERR invalid message number");
		return -1;
	}
	if (v == 0 || v > p->box.n) {
		lconn_reply(c, "-ERR no such message");
		return -1;
	}
	if (want_undeleted && p->box.e[v - 1].deleted) {
		lconn_reply(c, "-ERR message %lu already deleted", v);
		return -1;
	}
	return (long)v - 1;
}

/* Refill hook: the next lines of a LIST or UIDL listing. */
static bool
pop3d_list_refill(struct lconn *c)
{
	struct pop3d *p = c->ps;
	char uid[MAILDIR_NAME_MAX];
	for (int k = 0; k < 16 && p->list_i < p->box.n; k++) {
		size_t i = p->list_i++;
		if (p->box.e[i].deleted)
			continue;
		maildir_uniq(p->box.e[i].name, uid, sizeof(uid));
		if (p->list_uidl)
			lconn_reply(c, "%zu %s", i + 1, uid);
		else
			lconn_reply(c, "%zu %llu", i + 1,
			    (unsigned long long)p->box.e[i].size);
	}
	if (p->list_i < p->box.n)
		return true;
	lconn_reply(c, ".");
	return false;
}

/* LIST or UIDL, with or without a message number. */
static void
pop3d_list(struct lconn *c, struct pop3d *p, const char *arg, size_t n,
    bool uidl)
{
	char uid[MAILDIR_NAME_MAX];
	if (n > 0) {
		long i = pop3d_msgno(c, p, arg, n, true);
		if (i < 0)
			return;
		maildir_uniq(p->box.e[i].name, uid, sizeof(uid));
		if (uidl)
			lconn_reply(c, "+OK %ld %s", i + 1, uid);
		else
			lconn_reply(c, "+OK %ld %llu", i + 1,
			    (unsigned long long)p->box.e[i].size);
		return;
	}
	size_t k;
	unsigned long long oct;
	pop3d_count(p, &k, &oct);
	if (uidl)
		lconn_reply(c, "+OK unique-id listing follows");
	else
		lconn_reply(c, "+OK %zu messages (%llu octets)", k, oct);
	p->list_i = 0;
	p->list_uidl = uidl;
	c->refill = pop3d_list_refill;
}

/* Refill hook: the next piece of the message, stuffed and CRLF'd. */
static bool
pop3d_refill(struct lconn *c)
{
	struct pop3d *p = c->ps;
	char in[POP3D_CHUNK], out[POP3D_CHUNK * 2 + 8];
	size_t o = 0;
	ssize_t r = read(p->fd, in, sizeof(in));
	bool done = r <= 0;
	if (r < 0)
		lconn_note(c, "read error: %s", strerror(errno));
	for (ssize_t i = 0; i < r && !done; i++) {
		char ch = in[i];
		if (p->bol && ch == '.')
			out[o++] = '.';		/* byte-stuffing */
		if (ch == '\n') {
			if (p->prev != '\r')
				out[o++] = '\r';
			out[o++] = '\n';
			if (p->top && p->in_body &&
			    ++p->body_lines >= p->body_max)
				done = true;
			else if (p->top && !p->in_body && p->bol) {
				p->in_body = true;	/* the empty line */
				done = p->body_max == 0;
			}
			p->bol = true;
		} else {
			out[o++] = ch;
			p->bol = false;
		}
		p->prev = (unsigned char)ch;
	}
	if (done) {
		if (!p->bol) {
			memcpy(out + o, "\r\n", 2);
			o += 2;
		}
		memcpy(out + o, ".\r\n", 3);
		o += 3;
		close(p->fd);
		p->fd = -1;
	}
	lconn_write(c, out, o);
	return !done;
}

/* RETR n, TOP n lines */
static void
pop3d_retr(struct lconn *c, struct pop3d *p, const char *arg, size_t n,
    bool top)
{
	long i = pop3d_msgno(c, p, arg, n, true);
	if (i < 0)
		return;
	unsigned long lines = 0;
	if (top) {
		size_t rest;
		const char *l = next_word(arg, n, &rest);
		char *end;
		if (rest == 0 || *l < '0' || *l > '9') {
			lconn_reply(c, "-ERR Syntax: TOP msg lines");
			return;
		}
		lines = strtoul(l, &end, 10);
		if (*end) {
			lconn_reply(c, "-ERR Syntax: TOP msg lines");
			return;
		}
	}
	p->fd = maildir_list_open(&p->box, (size_t)i);
	if (p->fd < 0) {
		lconn_reply(c, "-ERR [SYS/TEMP] cannot read message %ld",
		    i + 1);
		return;
	}
	p->bol = true;
	p->prev = 0;
	p->top = top;
	p->in_body = false;
	p->body_lines = 0;
	p->body_max = lines;
	if (top)
		lconn_reply(c, "+OK top of message follows");
	else
		lconn_reply(c, "+OK %llu octets",
		    (unsigned long long)p->box.e[i].size);
	c->refill = pop3d_refill;
}

/* QUIT in TRANSACTION: the UPDATE state. */
static void
pop3d_update(struct lconn *c, struct pop3d *p)
{
	size_t left = 0, gone = 0;
	bool fail = false;
	for (size_t i = 0; i < p->box.n; i++) {
		if (!p->box.e[i].deleted)
			left++;
		else if (maildir_list_remove(&p->box, i) == 0)
			gone++;
		else
			fail = true;
	}
	if (gone) {
		lconn_note(c, "deleted %zu", gone);
		loop_wake(c->lab);	/* IMAP IDLE sessions look */
	}
	if (fail)
		lconn_reply(c, "-ERR [SYS/PERM] some deleted messages not "
		    "removed");
	else
		lconn_reply(c, "+OK %s signing off (%zu messages left)",
		    p->u->name, left);
	pop3d_release(p);
	pop3d_set(p, PS_AUTH);	/* UPDATE is over */
	lconn_close(c, "quit");
}

/* Commands of the AUTHORIZATION state. */
static void
pop3d_line_auth(struct lconn *c, struct pop3d *p, const char *line,
    size_t n, const char *arg, size_t an)
{
	if (word_is(line, n, "STLS")) {
		if (lconn_is_tls(c)) {
			lconn_reply(c, "-ERR TLS already active");
		} else {
			lconn_reply(c, "+OK Begin TLS negotiation");
			lconn_starttls(c);
		}
		return;
	}
	bool user = word_is(line, n, "USER"), pass = word_is(line, n, "PASS");
	bool auth = word_is(line, n, "AUTH");
	if (auth && an == 0) {
		lconn_reply(c, "+OK SASL mechanisms follow");
		lconn_reply(c, "PLAIN");
		if (c->lab->cfg.sasl_extra) {
			lconn_reply(c, "CRAM-MD5");
			lconn_reply(c, "SCRAM-SHA-256");
		}
		lconn_reply(c, ".");
		return;
	}
	if ((user || pass || auth) && !pop3d_auth_allowed(c)) {
		lconn_reply(c, "-ERR [AUTH] Plaintext authentication "
		    "disallowed on non-secure (SSL/TLS) connections");
		lconn_note(c, "auth refused before TLS");
		return;
	}
	if (user) {
		if (an == 0 || an >= sizeof(p->name)) {
			lconn_reply(c, "-ERR Syntax: USER name");
			return;
		}
		memcpy(p->name, arg, an);
		p->name[an] = '\0';
		p->have_name = true;
		lconn_reply(c, "+OK");
	} else if (pass) {
		if (!p->have_name) {
			lconn_reply(c, "-ERR no USER given");
			return;
		}
		p->have_name = false;
		pop3d_login_result(c, p, auth_check(c, p->name,
		    strlen(p->name), arg, an, pop3d_auth_done));
	} else if (auth) {
		size_t rest;
		const char *ir = next_word(arg, an, &rest);
		enum auth_xmech xm = auth_x_mech(c, arg, strcspn(arg, " "));
		if (xm != AUTH_X_NONE) {
			pop3d_login_result(c, p, auth_x_start(c, &p->ax, xm,
			    rest > 0 ? ir : NULL, rest, pop3d_auth_done));
		} else if (!word_is(arg, an, "PLAIN")) {
			lconn_reply(c, "-ERR [AUTH] unsupported mechanism");
		} else if (rest > 0) {
			pop3d_login_result(c, p, auth_plain(c, ir, rest,
			    pop3d_auth_done));
		} else {
			pop3d_set(p, PS_AUTH_PLAIN);
			lconn_reply(c, "+ ");
		}
	} else if (word_is(line, n, "APOP")) {
		lconn_reply(c, "-ERR APOP not supported (no timestamp in "
		    "the greeting)");
	} else {
		lconn_reply(c, "-ERR command not valid before login");
	}
}

/* Commands of the TRANSACTION state. */
static void
pop3d_line_trans(struct lconn *c, struct pop3d *p, const char *line,
    size_t n, const char *arg, size_t an)
{
	if (word_is(line, n, "STAT")) {
		size_t k;
		unsigned long long oct;
		pop3d_count(p, &k, &oct);
		lconn_reply(c, "+OK %zu %llu", k, oct);
	} else if (word_is(line, n, "LIST")) {
		pop3d_list(c, p, arg, an, false);
	} else if (word_is(line, n, "UIDL")) {
		pop3d_list(c, p, arg, an, true);
	} else if (word_is(line, n, "RETR")) {
		pop3d_retr(c, p, arg, an, false);
	} else if (word_is(line, n, "TOP")) {
		pop3d_retr(c, p, arg, an, true);
	} else if (word_is(line, n, "DELE")) {
		long i = pop3d_msgno(c, p, arg, an, true);
		if (i >= 0) {
			p->box.e[i].deleted = true;
			lconn_reply(c, "+OK message %ld deleted", i + 1);
		}
	} else if (word_is(line, n, "RSET")) {
		for (size_t i = 0; i < p->box.n; i++)
			p->box.e[i].deleted = false;
		size_t k;
		unsigned long long oct;
		pop3d_count(p, &k, &oct);
		lconn_reply(c, "+OK maildrop has %zu messages (%llu octets)",
		    k, oct);
	} else if (word_is(line, n, "NOOP")) {
		lconn_reply(c, "+OK");
	} else if (word_is(line, n, "QUIT")) {
		pop3d_update(c, p);
	} else {
		lconn_reply(c, "-ERR command not valid in this state");
	}
}

static void
pop3d_line(struct lconn *c, char *line, size_t n)
{
	struct pop3d *p = c->ps;
	if (!p || !lconn_command(c))
		return;
	if (p->st == PS_AUTH_X) {
		if (n == 1 && line[0] == '*') {
			pop3d_set(p, PS_AUTH);
			auth_x_end(&p->ax);
			lconn_reply(c, "-ERR Authentication cancelled");
		} else {
			pop3d_login_result(c, p, auth_x_line(c, &p->ax, line,
			    n));
		}
		return;
	}
	if (p->st == PS_AUTH_PLAIN) {
		pop3d_set(p, PS_AUTH);
		if (n == 1 && line[0] == '*')
			lconn_reply(c, "-ERR Authentication cancelled");
		else
			pop3d_login_result(c, p, auth_plain(c, line, n,
			    pop3d_auth_done));
		return;
	}
	if (strlen(line) != n) {
		lconn_reply(c, "-ERR NUL byte in command");
		return;
	}
	size_t an;
	const char *arg = next_word(line, n, &an);
	if (word_is(line, n, "CAPA")) {
		pop3d_capa(c, p);
	} else if (word_is(line, n, "QUIT") && p->st == PS_AUTH) {
		lconn_reply(c, "+OK Bye");
		lconn_close(c, "quit");
	} else if (word_is(line, n, "NOOP") && p->st == PS_AUTH) {
		lconn_reply(c, "-ERR command not valid before login");
	} else if (p->st == PS_AUTH) {
		pop3d_line_auth(c, p, line, n, arg, an);
	} else {
		pop3d_line_trans(c, p, line, n, arg, an);
	}
}

const struct lab_proto pop3d_proto = {
	.name = "pop3",
	.open = pop3d_open,
	.line = pop3d_line,
	.tls_ready = pop3d_tls_ready,
	.error = pop3d_error,
	.close = pop3d_close,
	.idle_s = 600,		/* RFC 1939 3: at least 10 minutes */
};
