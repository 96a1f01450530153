/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpd.c: the lab's SMTP server, relay/MX and submission.
 *
 * RFC 5321 (SMTP; 4.1.1 commands, 4.2 replies, 4.5.2 dot-stuffing,
 * 4.4 Received:), RFC 1870 (SIZE), RFC 2920 (PIPELINING), RFC 2034 and
 * RFC 3463 (enhanced status codes), RFC 3207 (STARTTLS; 4.2: forget
 * everything after the upgrade), RFC 4954 (AUTH; 334, 235, 535, 538),
 * RFC 4616 (PLAIN), RFC 6409 (submission), RFC 8314 (implicit TLS),
 * RFC 3848 (ESMTPS / ESMTPA / ESMTPSA in Received:), RFC 5321 4.2.2
 * and RFC 3463 3.3 (452 4.2.2 mailbox full: the quota), RFC 3463 3.8
 * (450 4.7.1 at RCPT: the delivery rate, a policy; RFC 5321 4.2.3
 * "temporarily blocked for policy reasons"), RFC 6409 8.2 and
 * 8.3 (submission adds a missing Date: and Message-ID:), RFC 5322 3.3
 * (date-time), RFC 5321 4.4 (Return-Path: at final delivery).
 *
 * Replies follow Postfix's wording where a learner may compare both.
 */
#include "smtpd.h"
#include "auth.h"
#include "commit.h"
#include "limits.h"
#include "store.h"
#include "users.h"
#include "../protocols/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SMTPD_ADDR_MAX	256	/* RFC 5321 4.5.3.1.3: path */
#define SMTPD_RCPT_MAX	100	/* RFC 5321 4.5.3.1.8 */

enum smtpd_state {
	SS_GREET,	/* waiting for EHLO / HELO */
	SS_READY,	/* greeted, no transaction */
	SS_MAIL,	/* MAIL given */
	SS_RCPT,	/* at least one RCPT accepted */
	SS_DATA,	/* reading message text */
	SS_AUTH_PLAIN,	/* 334 sent, waiting for the PLAIN response */
	SS_AUTH_USER,	/* LOGIN: waiting for the name */
	SS_AUTH_PASS,	/* LOGIN: waiting for the password */
	SS_AUTH_X,	/* CRAM-MD5 / SCRAM-SHA-256 under way (auth.h) */
};

static const char *const smtpd_state_name[] = {
	"greet", "ready", "mail", "rcpt", "data", "auth-plain",
	"auth-user", "auth-pass", "auth-x",
};

struct smtpd {
	enum smtpd_state st;
	bool esmtp;
	bool authed;
	bool pbs;		/* authed by POP-before-SMTP, not SASL */
	char helo[128];
	char from[SMTPD_ADDR_MAX + 1];
	char rcpt[SMTPD_RCPT_MAX][LAB_NAME_MAX + 1];	/* users */
	size_t committing;	/* recipients of the commit off the loop */
	char rcpt_addr[SMTPD_ADDR_MAX + 1];	/* the first, for "for" */
	size_t nrcpt;
	char login_user[LAB_NAME_MAX * 4 + 1];
	struct store_msg *msg;
	bool data_toolong, data_oversize;
	bool data_bare_lf;	/* a line of the text ended in LF only */
	bool prev_bare_lf;	/* the line before this one did */
	bool in_hdr;		/* still in the message's header section */
	bool seen_date, seen_msgid;	/* it has Date: / Message-ID: */
	unsigned delivered;
	bool rated;		/* this transaction took its delivery token */
	struct auth_x ax;	/* --sasl-extra exchange */
};

/* Changes state; the ONLY way to do so. */
static void
smtpd_set(struct smtpd *s, enum smtpd_state st)
{
	if ((unsigned)st >= sizeof(smtpd_state_name) /
	    sizeof(*smtpd_state_name))
		abort();
	s->st = st;
}

/* The name the server greets with (--hostname). */
static const char *
smtpd_host(const struct lconn *c)
{
	return c->lab->cfg.hostname;
}

/* Forgets the mail transaction (RSET, EHLO, after DATA). */
static void
smtpd_reset(struct smtpd *s)
{
	if (s->msg) {
		store_abort(s->msg);
		free(s->msg);
		s->msg = NULL;
	}
	s->from[0] = '\0';
	s->rcpt_addr[0] = '\0';
	s->nrcpt = 0;
	s->rated = false;
	s->data_toolong = s->data_oversize = false;
	s->data_bare_lf = s->prev_bare_lf = false;
	s->in_hdr = s->seen_date = s->seen_msgid = false;
	if (s->st != SS_GREET)
		smtpd_set(s, SS_READY);
}

/* New session: state, then the 220 greeting (421 if out of
 * memory). */
static void
smtpd_open(struct lconn *c)
{
	struct smtpd *s = calloc(1, sizeof(*s));
	if (!s) {
		lconn_reply(c, "421 4.3.0 %s out of memory", smtpd_host(c));
		lconn_close(c, "out of memory");
		return;
	}
	c->ps = s;
	lconn_reply(c, "220 %s ESMTP mailsh-lab ready", smtpd_host(c));
}

/* Session over: notes an unfinished transaction, frees the state. */
static void
smtpd_close(struct lconn *c)
{
	struct smtpd *s = c->ps;
	if (!s)
		return;
	if (s->st != SS_GREET && s->st != SS_READY)
		lconn_note(c, "left in state %s", smtpd_state_name[s->st]);
	smtpd_reset(s);
	auth_x_end(&s->ax);
	free(s);
	c->ps = NULL;
}

/* RFC 3207 4.2: after the handshake the client starts over. */
static void
smtpd_tls_ready(struct lconn *c)
{
	struct smtpd *s = c->ps;
	smtpd_reset(s);
	smtpd_set(s, SS_GREET);
	s->authed = false;
	s->pbs = false;
	c->user[0] = '\0';
}

/* The loop's errors as SMTP replies; in DATA an overlong line is
 * reported after the final dot. */
static void
smtpd_error(struct lconn *c, enum lab_err e)
{
	struct smtpd *s = c->ps;
	const char *h = smtpd_host(c);
	switch (e) {
	case LAB_E_TOOLONG:
		if (s && s->st == SS_DATA)
			s->data_toolong = true;	/* said after the dot */
		else
			lconn_reply(c, "500 5.5.2 Error: line too long");
		break;
	case LAB_E_TIMEOUT:
		lconn_reply(c, "421 4.4.2 %s Error: timeout exceeded", h);
		break;
	case LAB_E_BUSY:
		lconn_reply(c, "421 4.7.0 %s Error: too many connections",
		    h);
		break;
	case LAB_E_TOOMANY:
		lconn_reply(c, "421 4.7.0 %s Error: too many commands", h);
		break;
	case LAB_E_SHUTDOWN:
		lconn_reply(c, "421 4.3.2 %s Service shutting down", h);
		break;
	case LAB_E_AUTHFAIL:
		lconn_reply(c, "421 4.7.0 %s Error: too many failed "
		    "logins, closing", h);
		break;
	default:
		abort();
	}
}

/* Submission without AUTH may still go through POP-before-SMTP. */
static bool
smtpd_may_submit(struct lconn *c, struct smtpd *s)
{
	if (s->authed)
		return true;
	const char *u = lab_pbs_find(c->lab, c->addr);
	if (!u)
		return false;
	snprintf(c->user, sizeof(c->user), "%s", u);
	s->authed = true;
	s->pbs = true;
	lconn_note(c, "pop-before-smtp as %s", u);
	return true;
}

/* May a password be sent now (TLS, or plaintext auth allowed)? */
static bool
smtpd_auth_allowed(const struct lconn *c)
{
	return lconn_is_tls(c) || c->lab->cfg.plaintext_auth;
}

/* EHLO / HELO. */
static void
smtpd_ehlo(struct lconn *c, struct smtpd *s, const char *arg, bool ehlo)
{
	if (!*arg || strchr(arg, ' ')) {
		lconn_reply(c, "501 5.5.4 Syntax: %s hostname",
		    ehlo ? "EHLO" : "HELO");
		return;
	}
	snprintf(s->helo, sizeof(s->helo), "%s", arg);
	for (char *p = s->helo; *p; p++)	/* it goes into headers */
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ||
		    strchr("()\\;", *p))
			*p = '?';	/* and must not end the comment */
	s->esmtp = ehlo;
	smtpd_set(s, SS_READY);
	smtpd_reset(s);
	if (!ehlo) {
		lconn_reply(c, "250 %s", smtpd_host(c));
		return;
	}
	const char *ext[8];
	char size[40];
	size_t n = 0;
	ext[n++] = "PIPELINING";
	snprintf(size, sizeof(size), "SIZE %llu",
	    (unsigned long long)c->lab->cfg.max_size);
	ext[n++] = size;
	if (!lconn_is_tls(c))
		ext[n++] = "STARTTLS";
	if (smtpd_auth_allowed(c))
		ext[n++] = c->lab->cfg.sasl_extra ? "AUTH PLAIN LOGIN "
		    "CRAM-MD5 SCRAM-SHA-256" : "AUTH PLAIN LOGIN";
	if (c->lab->cfg.vrfy)
		ext[n++] = "VRFY";
	ext[n++] = "ENHANCEDSTATUSCODES";
	ext[n++] = "8BITMIME";
	lconn_reply(c, "250-%s greets %s", smtpd_host(c), s->helo);
	for (size_t i = 0; i < n; i++)
		lconn_reply(c, "250%c%s", i + 1 == n ? ' ' : '-', ext[i]);
}

/*
 * Parses "<path>" at p (after "FROM:" / "TO:", spaces allowed) into
 * addr; *rest points after '>'.  A source route "@a,@b:" is dropped
 * (RFC 5321 4.1.2).  Returns true if the syntax holds.
 */
static bool
smtpd_path(const char *p, char *addr, size_t cap, const char **rest)
{
	while (*p == ' ')
		p++;
	if (*p != '<')
		return false;
	const char *end = strchr(p, '>');
	if (!end)
		return false;
	p++;
	if (*p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (!colon)
			return false;
		p = colon + 1;
	}
	size_t n = (size_t)(end - p);
	if (n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == '<' ||
		    (unsigned char)p[i] == 0x7f)
			return false;
	if (n > 0) {		/* local@domain, both non-empty */
		const char *at = memrchr(p, '@', n);
		if (!at || at == p || at == end - 1)
			return false;
	}
	memcpy(addr, p, n);
	addr[n] = '\0';
	*rest = end + 1;
	return true;
}

/* The lab user an address delivers to, or NULL (not a local address,
 * or *known is false for a local domain without such a user). */
static const char *
smtpd_local_user(struct lconn *c, const char *addr, bool *local)
{
	const char *at = strrchr(addr, '@');
	*local = at && lab_domain_local(c->lab, at + 1, strlen(at + 1));
	if (!*local)
		return NULL;
	size_t n = (size_t)(at - addr);
	if (!lab_name_ok(addr, n))
		return NULL;
	struct lab_user *u = users_find(c->lab->users, addr, n);
	return u ? u->name : NULL;
}

/* MAIL FROM:<addr> [SIZE=n] [BODY=...] [AUTH=...] */
static void
smtpd_mail(struct lconn *c, struct smtpd *s, const char *arg)
{
	const struct lab_cfg *cfg = &c->lab->cfg;
	if (s->st == SS_GREET) {
		lconn_reply(c, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->st != SS_READY) {
		lconn_reply(c, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if ((c->l->flags & LAB_L_SUBMIT) && !smtpd_may_submit(c, s)) {
		if (!smtpd_auth_allowed(c))
			lconn_reply(c, "530 5.7.0 Must issue a STARTTLS "
			    "command first");
		else
			lconn_reply(c, "530 5.7.0 Authentication required");
		return;
	}
	const char *rest;
	char from[SMTPD_ADDR_MAX + 1];
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    !smtpd_path(arg + 5, from, sizeof(from), &rest)) {
		lconn_reply(c, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	while (*rest == ' ')
		rest++;
	while (*rest) {
		const char *sp = strchr(rest, ' ');
		size_t n = sp ? (size_t)(sp - rest) : strlen(rest);
		if (n > 5 && strncasecmp(rest, "SIZE=", 5) == 0) {
			unsigned long long v = strtoull(rest + 5, NULL, 10);
			if (v > cfg->max_size) {
				lconn_reply(c, "552 5.3.4 Message size "
				    "exceeds fixed limit");
				return;
			}
		} else if (!(n > 5 && strncasecmp(rest, "BODY=", 5) == 0) &&
		    !(n > 5 && strncasecmp(rest, "AUTH=", 5) == 0)) {
			lconn_reply(c, "555 5.5.4 Unsupported option: %.*s",
			    (int)(n > 64 ? 64 : n), rest);
			return;
		}
		rest += n;
		while (*rest == ' ')
			rest++;
	}
	if ((c->l->flags & LAB_L_SUBMIT) && !cfg->any_from) {
		bool local;
		const char *u = smtpd_local_user(c, from, &local);
		if (!u || strcmp(u, c->user) != 0) {
			lconn_reply(c, "553 5.7.1 <%s>: Sender address "
			    "rejected: not owned by user %s", from, c->user);
			lconn_note(c, "rejected sender %s", from);
			return;
		}
	}
	memcpy(s->from, from, sizeof(from));
	smtpd_set(s, SS_MAIL);
	lconn_reply(c, "250 2.1.0 Ok");
}

/* RCPT TO:<addr> */
static void
smtpd_rcpt(struct lconn *c, struct smtpd *s, const char *arg)
{
	if (s->st != SS_MAIL && s->st != SS_RCPT) {
		lconn_reply(c, "503 5.5.1 Error: need MAIL command");
		return;
	}
	const char *rest;
	char to[SMTPD_ADDR_MAX + 1];
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    !smtpd_path(arg + 3, to, sizeof(to), &rest) || !to[0]) {
		lconn_reply(c, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->nrcpt >= SMTPD_RCPT_MAX) {
		lconn_reply(c, "452 4.5.3 Error: too many recipients");
		return;
	}
	/* the delivery rate: one token per transaction, at its first
	 * RCPT (RFC 5321 4.3.2 lists 450 for RCPT, not for MAIL) */
	unsigned wait_s;
	if (!s->rated && !limits_rate_take(&c->lab->cfg, c->addr, &wait_s)) {
		lconn_reply(c, "450 4.7.1 <%s>: Recipient address rejected: "
		    "too much mail from %s; try again in %u s", to, c->addr,
		    wait_s);
		lconn_note(c, "rate limit: refused RCPT");
		return;
	}
	s->rated = true;
	bool local;
	const char *u = smtpd_local_user(c, to, &local);
	if (!local) {
		if (s->authed)
			lconn_reply(c, "550 5.7.1 <%s>: Recipient address "
			    "rejected: this lab delivers only to its own "
			    "domains (%s, localhost)", to,
			    c->lab->cfg.hostname);
		else
			lconn_reply(c, "554 5.7.1 <%s>: Relay access denied",
			    to);
		return;
	}
	if (!u) {
		lconn_reply(c, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in local recipient table", to);
		return;
	}
	uint64_t qm, qb;
	if (limits_over_quota(&c->lab->cfg, u, 1, 0, &qm, &qb)) {
		lconn_reply(c, "452 4.2.2 <%s>: Recipient address rejected: "
		    "Mailbox full (quota)", to);
		lconn_note(c, "%s over quota", u);
		return;
	}
	bool dup = false;
	for (size_t i = 0; i < s->nrcpt; i++)
		dup = dup || strcmp(s->rcpt[i], u) == 0;
	if (!dup) {
		if (s->nrcpt == 0)
			memcpy(s->rcpt_addr, to, sizeof(to));
		snprintf(s->rcpt[s->nrcpt++], sizeof(s->rcpt[0]), "%s", u);
	}
	smtpd_set(s, SS_RCPT);
	lconn_reply(c, "250 2.1.5 Ok");
}

/*
 * An RFC 5322 3.3 date-time of now, local time, in the C locale's words
 * whatever the user's locale ("Tue, 04 Mar 2025 14:05:09 +0100").
 */
static void
smtpd_date(char *buf, size_t cap)
{
	static const char *const day[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const mon[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    day[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60, off % 60);
}

/* The client's host name for Received: without a DNS lookup (which
 * would stall the loop): "localhost" for loopback, else "unknown", as
 * Postfix writes when the reverse lookup gives nothing. */
static const char *
smtpd_peer_name(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strncmp(addr, "::ffff:127.", 11) == 0 ? "localhost" : "unknown";
}

/*
 * Writes what goes on top of the message: Return-Path: with the
 * envelope sender (RFC 5321 4.4: the lab delivers every message it
 * accepts into a mailbox, so every delivery is final), then Received:
 * in the form of RFC 5321 4.4,
 *   Received: from EHLO-NAME (HOST [IP])
 *   	(Authenticated sender: USER)  (using TLSv1.3)
 *   	by lab.example (mailsh-lab) with ESMTPSA id ID
 *   	for <rcpt>; DATE
 * the EHLO name as the client claimed it, HOST and IP as observed, and
 * "with" as in RFC 3848.
 */
static void
smtpd_received(struct lconn *c, struct smtpd *s)
{
	char date[64], hdr[1600];
	smtpd_date(date, sizeof(date));
	bool tls = lconn_is_tls(c);
	/* ESMTPA only for SMTP AUTH (RFC 3848): POP-before-SMTP trusted
	 * the IP address, no credential crossed this session */
	bool sasl = s->authed && !s->pbs;
	const char *with = !s->esmtp ? "SMTP" : tls && sasl ?
	    "ESMTPSA" : tls ? "ESMTPS" : sasl ? "ESMTPA" : "ESMTP";
	char auth[LAB_NAME_MAX + 48] = "";
	if (sasl)
		snprintf(auth, sizeof(auth), "\n\t(Authenticated sender: "
		    "%s)", c->user);
	else if (s->pbs)
		snprintf(auth, sizeof(auth), "\n\t(POP-before-SMTP: %s)",
		    c->user);
	char tlsinfo[64] = "";
	if (tls)
		snprintf(tlsinfo, sizeof(tlsinfo), "\n\t(using %s)",
		    lconn_tls_version(c));
	int n = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\n"
	    "Received: from %s (%s [%s])%s%s\n"
	    "\tby %s (mailsh-lab) with %s id %s%s%s%s;\n\t%s\n",
	    s->from, s->helo[0] ? s->helo : "unknown",
	    smtpd_peer_name(c->addr), c->addr, auth, tlsinfo,
	    smtpd_host(c), with, s->msg->uniq, s->nrcpt == 1 ? "\n\tfor <" :
	    "", s->nrcpt == 1 ? s->rcpt_addr : "", s->nrcpt == 1 ? ">" : "",
	    date);
	if (n > 0)
		store_write(s->msg, hdr, (size_t)n < sizeof(hdr) ?
		    (size_t)n : sizeof(hdr) - 1);
}

/*
 * The end of the header section (a blank line, a line that is no
 * header field, or the end of the text): on the submission ports, adds
 * the Date: and Message-ID: the message lacks (RFC 6409 8.2, 8.3), as
 * Postfix and Exim do.  The relay/MX port (smtp) never changes the
 * message: only submission may.
 */
static void
smtpd_header_end(struct lconn *c, struct smtpd *s)
{
	s->in_hdr = false;
	if (!(c->l->flags & LAB_L_SUBMIT))
		return;
	char buf[STORE_NAME_MAX + LAB_HOST_MAX + 80];
	int n;
	if (!s->seen_date) {
		char date[64];
		smtpd_date(date, sizeof(date));
		n = snprintf(buf, sizeof(buf), "Date: %s\n", date);
		if (n > 0 && (size_t)n < sizeof(buf))
			store_write(s->msg, buf, (size_t)n);
		lconn_note(c, "added Date:");
	}
	if (!s->seen_msgid) {
		n = snprintf(buf, sizeof(buf), "Message-ID: <%s@%s>\n",
		    s->msg->uniq, smtpd_host(c));
		if (n > 0 && (size_t)n < sizeof(buf))
			store_write(s->msg, buf, (size_t)n);
		lconn_note(c, "added Message-ID:");
	}
}

/* Is line (n bytes) a header field "name:" (RFC 5322 2.2: printable
 * US-ASCII but ':' before the colon)?  *len gets the name's length. */
static bool
smtpd_field(const char *line, size_t n, size_t *len)
{
	size_t i = 0;
	while (i < n && (unsigned char)line[i] > 32 &&
	    (unsigned char)line[i] < 127 && line[i] != ':')
		i++;
	*len = i;
	return i > 0 && i < n && line[i] == ':';
}

/* A line of the header section: notes Date: / Message-ID:, or ends the
 * section (before the line is written). */
static void
smtpd_header_line(struct lconn *c, struct smtpd *s, const char *line,
    size_t n)
{
	size_t fl;
	if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
		return;			/* folded: the field goes on */
	if (n == 0 || !smtpd_field(line, n, &fl)) {
		smtpd_header_end(c, s);
		return;
	}
	if (fl == 4 && strncasecmp(line, "Date", 4) == 0)
		s->seen_date = true;
	else if (fl == 10 && strncasecmp(line, "Message-ID", 10) == 0)
		s->seen_msgid = true;
}

/* DATA: opens the message in the first recipient's tmp/ and writes
 * the Received: header, then 354 (451 if the store fails). */
static void
smtpd_data(struct lconn *c, struct smtpd *s, const char *arg)
{
	if (*arg) {
		lconn_reply(c, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->st == SS_MAIL) {
		lconn_reply(c, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->st != SS_RCPT) {
		lconn_reply(c, "503 5.5.1 Error: need RCPT command");
		return;
	}
	s->msg = malloc(sizeof(*s->msg));
	if (!s->msg || store_begin(s->msg, c->lab->cfg.state,
	    s->rcpt[0]) != 0) {
		free(s->msg);
		s->msg = NULL;
		lconn_reply(c, "451 4.3.0 Error: cannot store the message");
		return;
	}
	smtpd_received(c, s);
	s->in_hdr = true;
	s->prev_bare_lf = c->bare_lf;
	smtpd_set(s, SS_DATA);
	lconn_reply(c, "354 End data with <CR><LF>.<CR><LF>");
}

/* Would the message put one of the recipients over the quota? */
static bool
smtpd_quota_full(struct lconn *c, struct smtpd *s)
{
	uint64_t qm, qb;
	for (size_t i = 0; i < s->nrcpt; i++)
		if (limits_over_quota(&c->lab->cfg, s->rcpt[i], 1,
		    s->msg->size, &qm, &qb))
			return true;
	return false;
}

/* The message is on disk (r 0) or not: the reply. */
static void
smtpd_committed(struct lconn *c, int r, const char *id)
{
	struct smtpd *s = c->ps;
	if (r != 0) {
		lconn_reply(c, "451 4.3.0 Error: queue file write error");
		lconn_note(c, "delivery failed");
		return;
	}
	s->delivered++;
	loop_wake(c->lab);	/* IMAP IDLE sessions look */
	lconn_reply(c, "250 2.0.0 Ok: queued as %s", id);
	lconn_note(c, "delivered %s to %zu", id, s->committing);
}

/* The lone dot: deliver, durably, then answer (once the commit off the
 * loop is done: commit.h). */
static void
smtpd_data_end(struct lconn *c, struct smtpd *s)
{
	char id[STORE_NAME_MAX];
	const char *users[SMTPD_RCPT_MAX];
	for (size_t i = 0; i < s->nrcpt; i++)
		users[i] = s->rcpt[i];
	if (s->data_bare_lf && c->lab->cfg.strict) {
		lconn_reply(c, "554 5.5.2 Error: bare <LF> in the message "
		    "text (RFC 5321 2.3.8); message not delivered");
		lconn_note(c, "message refused: bare LF");
	} else if (s->data_toolong) {
		lconn_reply(c, "500 5.5.2 Error: line too long; message not "
		    "delivered");
		lconn_note(c, "message refused: line too long");
	} else if (s->data_oversize) {
		lconn_reply(c, "552 5.3.4 Error: message file too big");
		lconn_note(c, "message refused: too big");
	} else if (smtpd_quota_full(c, s)) {
		lconn_reply(c, "452 4.2.2 Error: mailbox full (quota); "
		    "message not delivered");
		lconn_note(c, "message refused: over quota");
	} else {
		s->committing = s->nrcpt;
		if (commit_async(c, s->msg, users, s->nrcpt,
		    smtpd_committed))
			s->msg = NULL;	/* the commit's now */
		else
			smtpd_committed(c, store_commit(s->msg, users,
			    s->nrcpt, id, sizeof(id)), id);
	}
	smtpd_reset(s);
}

/* One line of message text. */
static void
smtpd_data_line(struct lconn *c, struct smtpd *s, char *line, size_t n)
{
	/* The end is CRLF "." CRLF.  In strict, a dot line with a bare LF
	 * on either side is text (what SMTP smuggling relies on is that
	 * some server takes it for the end); lax takes any dot line. */
	bool bare = c->bare_lf || s->prev_bare_lf;
	s->prev_bare_lf = c->bare_lf;
	if (n == 1 && line[0] == '.' && (!bare || !c->lab->cfg.strict)) {
		if (s->in_hdr && !s->data_toolong && !s->data_oversize)
			smtpd_header_end(c, s);	/* headers only */
		smtpd_data_end(c, s);
		return;
	}
	if (c->bare_lf)
		s->data_bare_lf = true;
	if (n > 0 && line[0] == '.') {	/* RFC 5321 4.5.2 */
		line++;
		n--;
	}
	if (s->data_toolong || s->data_oversize)
		return;
	if (s->msg->size + n + 1 > c->lab->cfg.max_size) {
		s->data_oversize = true;
		return;
	}
	if (s->in_hdr)
		smtpd_header_line(c, s, line, n);
	line[n] = '\n';
	store_write(s->msg, line, n + 1);
}

/* VRFY: 502 unless the lax profile; then 250 or 550. */
static void
smtpd_vrfy(struct lconn *c, const char *arg)
{
	if (!c->lab->cfg.vrfy) {
		lconn_reply(c, "502 5.5.1 VRFY command is disabled");
		return;
	}
	char addr[SMTPD_ADDR_MAX + 1];
	const char *rest;
	if (*arg == '<' ? !smtpd_path(arg, addr, sizeof(addr), &rest) :
	    snprintf(addr, sizeof(addr), "%s", arg) >= (int)sizeof(addr) ||
	    !*arg) {
		lconn_reply(c, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	bool local = true;
	const char *u = strchr(addr, '@') ? smtpd_local_user(c, addr,
	    &local) : lab_name_ok(addr, strlen(addr)) ? (users_find(
	    c->lab->users, addr, strlen(addr)) ? addr : NULL) : NULL;
	if (u)
		lconn_reply(c, "250 2.1.5 <%s@%s>", u, c->lab->cfg.hostname);
	else
		lconn_reply(c, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown", addr);
}

/* Ends an AUTH exchange with its result. */
static void
smtpd_auth_done(struct lconn *c, struct smtpd *s, enum auth_res r)
{
	smtpd_set(s, SS_READY);
	if (r == AUTH_OK) {
		s->authed = true;
		lconn_reply(c, "235 2.7.0 Authentication successful");
	} else if (r == AUTH_SYNTAX) {
		lconn_reply(c, "501 5.5.2 Error: invalid base64 or SASL "
		    "response");
	} else if (r == AUTH_TEMP) {
		/* RFC 4954 6: not the password's fault; try later */
		lconn_reply(c, "454 4.7.0 Temporary authentication failure: "
		    "too many login attempts, try again later");
	} else {
		lconn_reply(c, "535 5.7.8 Error: authentication failed: "
		    "authentication failure");
	}
}

/* The result of a password check run off the loop (auth.h); a
 * challenge of --sasl-extra's mechanisms. */
static void
smtpd_auth_async(struct lconn *c, enum auth_res r)
{
	struct smtpd *s = c->ps;
	if (r == AUTH_CONTINUE) {
		smtpd_set(s, SS_AUTH_X);
		lconn_reply(c, "334 %s", s->ax.out);
		return;
	}
	smtpd_auth_done(c, s, r);
}

/* A check's first answer: now, or later through smtpd_auth_async. */
static void
smtpd_auth_result(struct lconn *c, struct smtpd *s, enum auth_res r)
{
	if (r != AUTH_PENDING)
		smtpd_auth_async(c, r);
	(void)s;
}

/* AUTH mechanism [initial-response] */
static void
smtpd_auth(struct lconn *c, struct smtpd *s, const char *arg)
{
	if (s->st == SS_GREET) {
		lconn_reply(c, "503 5.5.1 Error: send EHLO first");
		return;
	}
	if (s->authed) {
		lconn_reply(c, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (s->st != SS_READY) {
		lconn_reply(c, "503 5.5.1 Error: MAIL transaction in "
		    "progress");
		return;
	}
	if (!smtpd_auth_allowed(c)) {
		lconn_reply(c, "538 5.7.11 Encryption required for requested "
		    "authentication mechanism");
		lconn_note(c, "auth refused before TLS");
		return;
	}
	size_t rest;
	size_t len = strlen(arg);
	const char *ir = next_word(arg, len, &rest);
	bool has_ir = rest > 0;
	if (word_is(arg, len, "PLAIN")) {
		if (has_ir) {
			smtpd_auth_result(c, s, auth_plain(c, ir, rest,
			    smtpd_auth_async));
			return;
		}
		smtpd_set(s, SS_AUTH_PLAIN);
		lconn_reply(c, "334 ");
	} else if (word_is(arg, len, "LOGIN")) {
		if (has_ir) {
			if (auth_b64(ir, rest, s->login_user,
			    sizeof(s->login_user)) < 0) {
				smtpd_auth_done(c, s, AUTH_SYNTAX);
				return;
			}
			smtpd_set(s, SS_AUTH_PASS);
			lconn_reply(c, "334 UGFzc3dvcmQ6");	/* Password: */
			return;
		}
		smtpd_set(s, SS_AUTH_USER);
		lconn_reply(c, "334 VXNlcm5hbWU6");		/* Username: */
	} else if (auth_x_mech(c, arg, strcspn(arg, " ")) != AUTH_X_NONE) {
		smtpd_auth_result(c, s, auth_x_start(c, &s->ax,
		    auth_x_mech(c, arg, strcspn(arg, " ")), has_ir ? ir :
		    NULL, rest, smtpd_auth_async));
	} else {
		lconn_reply(c, "504 5.5.4 Unrecognized authentication type");
	}
}

/* A line answering a 334 challenge. */
static void
smtpd_auth_line(struct lconn *c, struct smtpd *s, const char *line,
    size_t n)
{
	if (n == 1 && line[0] == '*') {	/* RFC 4954 4: cancel */
		smtpd_set(s, SS_READY);
		auth_x_end(&s->ax);
		lconn_reply(c, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (s->st == SS_AUTH_X) {
		smtpd_auth_result(c, s, auth_x_line(c, &s->ax, line, n));
	} else if (s->st == SS_AUTH_PLAIN) {
		smtpd_auth_result(c, s, auth_plain(c, line, n,
		    smtpd_auth_async));
	} else if (s->st == SS_AUTH_USER) {
		if (auth_b64(line, n, s->login_user,
		    sizeof(s->login_user)) < 0) {
			smtpd_auth_done(c, s, AUTH_SYNTAX);
			return;
		}
		smtpd_set(s, SS_AUTH_PASS);
		lconn_reply(c, "334 UGFzc3dvcmQ6");
	} else {
		char pass[AUTH_BUF];
		long pl = auth_b64(line, n, pass, sizeof(pass));
		enum auth_res r = pl < 0 ? AUTH_SYNTAX : auth_check(c,
		    s->login_user, strlen(s->login_user), pass, (size_t)pl,
		    smtpd_auth_async);
		memset(pass, 0, sizeof(pass));
		smtpd_auth_result(c, s, r);
	}
}

/* One line from the client: message text, an AUTH response or a
 * command. */
static void
smtpd_line(struct lconn *c, char *line, size_t n)
{
	struct smtpd *s = c->ps;
	if (!s)
		return;
	if (s->st == SS_DATA) {
		smtpd_data_line(c, s, line, n);
		return;
	}
	if (!lconn_command(c))
		return;
	if (s->st == SS_AUTH_PLAIN || s->st == SS_AUTH_USER ||
	    s->st == SS_AUTH_PASS || s->st == SS_AUTH_X) {
		smtpd_auth_line(c, s, line, n);
		return;
	}
	if (strlen(line) != n) {
		lconn_reply(c, "500 5.5.2 Error: NUL byte in command");
		return;
	}
	size_t rest;
	const char *arg = next_word(line, n, &rest);
	if (word_is(line, n, "EHLO"))
		smtpd_ehlo(c, s, arg, true);
	else if (word_is(line, n, "HELO"))
		smtpd_ehlo(c, s, arg, false);
	else if (word_is(line, n, "MAIL"))
		smtpd_mail(c, s, arg);
	else if (word_is(line, n, "RCPT"))
		smtpd_rcpt(c, s, arg);
	else if (word_is(line, n, "DATA"))
		smtpd_data(c, s, arg);
	else if (word_is(line, n, "RSET")) {
		smtpd_reset(s);
		lconn_reply(c, "250 2.0.0 Ok");
	} else if (word_is(line, n, "NOOP"))
		lconn_reply(c, "250 2.0.0 Ok");
	else if (word_is(line, n, "QUIT")) {
		lconn_reply(c, "221 2.0.0 Bye");
		lconn_close(c, "quit");
	} else if (word_is(line, n, "VRFY"))
		smtpd_vrfy(c, arg);
	else if (word_is(line, n, "EXPN"))
		lconn_reply(c, "502 5.5.1 EXPN command is disabled");
	else if (word_is(line, n, "HELP"))
		lconn_reply(c, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA "
		    "RSET NOOP QUIT VRFY STARTTLS AUTH");
	else if (word_is(line, n, "AUTH"))
		smtpd_auth(c, s, arg);
	else if (word_is(line, n, "STARTTLS")) {
		if (lconn_is_tls(c)) {
			lconn_reply(c, "554 5.5.1 Error: TLS already active");
		} else if (*arg) {
			lconn_reply(c, "501 5.5.4 Syntax: STARTTLS");
		} else {
			lconn_reply(c, "220 2.0.0 Ready to start TLS");
			lconn_starttls(c);
		}
	} else if (n == 0)
		lconn_reply(c, "500 5.5.2 Error: bad syntax");
	else
		lconn_reply(c, "502 5.5.2 Error: command not recognized");
}

const struct lab_proto smtpd_proto = {
	.name = "smtp",
	.open = smtpd_open,
	.line = smtpd_line,
	.tls_ready = smtpd_tls_ready,
	.error = smtpd_error,
	.close = smtpd_close,
	.idle_s = 300,		/* RFC 5321 4.5.3.2.7 */
};
