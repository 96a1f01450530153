/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mitm_proto.c: what SMTP, POP3 and IMAP lines mean to the man in the
 * middle (see mitm.h): the modes' rewrites (strip, refuse, inject,
 * preauth), the STARTTLS go-ahead after which it goes blind, and the
 * credentials it can read in plaintext.
 *
 * Outside facts relied on:
 *  - RFC 3207: "220" answers STARTTLS with go-ahead; EHLO replies are
 *    "250-" continuation lines and one final "250 " line (RFC 5321
 *    4.2.1), so removing the last line means renumbering the one before;
 *  - RFC 2595 / 2449: POP3 STLS answered "+OK"; CAPA is a multi-line
 *    response ending with a lone "."; SASL continuations start "+ ";
 *  - RFC 3501: capabilities come in "* CAPABILITY ..." and in
 *    "[CAPABILITY ...]" response codes (also in the greeting); STARTTLS
 *    is answered by the command's tag; "{N}" at a line's end announces
 *    N literal octets; PREAUTH greets an already logged-in session;
 *  - RFC 4616 (PLAIN: authzid NUL user NUL password, base64), the LOGIN
 *    mechanism (user, then password, each base64 after a challenge).
 */
#include "mitm_int.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Prints captured credentials (bytes made visible) in the fixed form. */
static void
captured(const struct mconn *c, const char *user, size_t ulen,
    const char *pass, size_t plen, const char *how)
{
	char u[4 * MITM_CRED + 8], pw[4 * MITM_CRED + 8];
	struct sbuf su, sp;
	sbuf_init(&su, u, sizeof u);
	sbuf_init(&sp, pw, sizeof pw);
	show_bytes(&su, user, ulen);
	show_bytes(&sp, pass, plen);
	/* "user=" and "password=" stay as they are in every language */
	printf("mitm: %s user=%s password=%s (#%u, %s)\n",
	    _("captured credentials:"), u, pw, c->id, how);
}

/* See mitm_int.h. */
void
mitm_flush_hold(struct mconn *c, bool last)
{
	if (c->holdlen == 0)
		return;
	if (last)
		c->hold[3] = ' ';
	mitm_put(c, &c->down, c->hold, c->holdlen);
	c->holdlen = 0;
}

/* ---- credentials ---- */

/* Decodes base64 (n bytes) into dst; returns the length or -1. */
static long
unb64(const char *p, size_t n, char *dst, size_t cap)
{
	if (n == 1 && p[0] == '=')
		return 0;
	return b64_decode(p, n, dst, cap);
}

/* Shows an AUTH PLAIN response (base64 authzid NUL user NUL pass). */
static void
capture_plain(struct mconn *c, const char *p, size_t n, const char *how)
{
	char d[3 * MITM_CRED];
	long l = unb64(p, n, d, sizeof d);
	char *u = l > 0 ? memchr(d, '\0', (size_t)l) : NULL;
	char *pw = u ? memchr(u + 1, '\0', (size_t)(d + l - u - 1)) : NULL;
	if (!pw) {
		mitm_say(c, _("%s response is not base64 of authzid NUL user "
		    "NUL password"), how);
		return;
	}
	if (u > d)
		mitm_say(c, _("authorization identity: %.*s"), (int)(u - d), d);
	captured(c, u + 1, (size_t)(pw - u - 1), pw + 1,
	    (size_t)(d + l - pw - 1), how);
}

/* Starts a SASL exchange for mechanism mech (the rest of the line is an
 * optional initial response ir, irn bytes). */
static void
sasl_start(struct mconn *c, const char *mech, size_t mn, const char *ir,
    size_t irn)
{
	if (word_is(mech, mn, "PLAIN")) {
		if (irn)
			capture_plain(c, ir, irn, "AUTH PLAIN");
		else
			c->sasl = SASL_PLAIN;
	} else if (word_is(mech, mn, "LOGIN")) {
		c->sasl = SASL_LOGIN_USER;
		if (irn) {
			long l = unb64(ir, irn, c->user, sizeof c->user - 1);
			c->user[l > 0 ? l : 0] = '\0';
			c->sasl = SASL_LOGIN_PASS;
		}
	} else if (mn) {
		mitm_say(c, _("SASL mechanism %.*s: no reusable password in it"),
		    (int)mn, mech);
	}
}

/* A client line answering a SASL challenge. */
static void
sasl_step(struct mconn *c, const char *t, size_t n)
{
	char d[MITM_CRED];
	long l;
	if (n == 1 && t[0] == '*') {
		c->sasl = SASL_NONE;
		return;
	}
	switch (c->sasl) {
	case SASL_PLAIN:
		capture_plain(c, t, n, "AUTH PLAIN");
		c->sasl = SASL_NONE;
		break;
	case SASL_LOGIN_USER:
		l = unb64(t, n, c->user, sizeof c->user - 1);
		c->user[l > 0 ? l : 0] = '\0';
		c->sasl = SASL_LOGIN_PASS;
		break;
	case SASL_LOGIN_PASS:
		l = unb64(t, n, d, sizeof d);
		captured(c, c->user, strlen(c->user), d, l > 0 ? (size_t)l : 0,
		    "AUTH LOGIN");
		c->sasl = SASL_NONE;
		break;
	case SASL_NONE:
		break;
	}
}

/* Reads one IMAP astring (atom or quoted string) from *p (*n bytes)
 * into dst; advances *p.  Returns its length, or -1 for a literal or a
 * syntax error. */
static long
astring(const char **p, size_t *n, char *dst, size_t cap)
{
	const char *s = *p, *e = *p + *n;
	size_t l = 0;
	while (s < e && *s == ' ')
		s++;
	if (s == e || *s == '{')
		return -1;
	if (*s == '"') {
		for (s++; s < e && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < e)
				s++;
			if (l < cap)
				dst[l++] = *s;
		}
		if (s == e)
			return -1;
		s++;
	} else {
		for (; s < e && *s != ' '; s++)
			if (l < cap)
				dst[l++] = *s;
	}
	*n = (size_t)(e - s);
	*p = s;
	return (long)l;
}

/* IMAP "{N}" or "{N+}" at the end of a line: the literal's size, or 0. */
static uint64_t
literal_at_end(const char *t, size_t n)
{
	if (n < 3 || t[n - 1] != '}')
		return 0;
	size_t i = n - 1;
	if (t[i - 1] == '+')
		i--;
	uint64_t v = 0, mul = 1;
	size_t digits = 0;
	while (i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9' && digits < 18) {
		v += (uint64_t)(t[i - 1] - '0') * mul;
		mul *= 10;
		i--;
		digits++;
	}
	return digits && i > 0 && t[i - 1] == '{' ? v : 0;
}

/* ---- client to server ---- */

/* Answers a STARTTLS itself (refuse-starttls); the server never sees it. */
static void
refuse(struct mitm *m, struct mconn *c)
{
	char r[PP_TAG_MAX + 64];
	int k;
	if (c->proto->id == PROTO_SMTP)
		k = snprintf(r, sizeof r, "454 4.7.0 TLS not available\r\n");
	else if (c->proto->id == PROTO_POP3)
		k = snprintf(r, sizeof r, "-ERR TLS not available\r\n");
	else
		k = snprintf(r, sizeof r, "%s NO TLS not available\r\n",
		    c->tag);
	mitm_put(c, &c->down, r, (size_t)k);
	mitm_show(m, c, "S:", r, (size_t)k - 2, _("(forged by the proxy)"));
	mitm_say(c, _("refused STARTTLS in the server's name: the server "
	    "never saw it, the session stays in plaintext"));
}

/* Handles one complete client line t (n bytes, no line end); the line
 * with its end is p (len bytes).  Forwards it unless refused. */
void
mitm_client_line(struct mitm *m, struct mconn *c, const char *p, size_t len,
    const char *t, size_t n)
{
	enum pp_proto_id id = c->proto ? c->proto->id : PROTO_NONE;
	const char *verb = t, *a;
	size_t vn = n, an;

	mitm_show(m, c, "C:", t, n, "");
	if (id == PROTO_NONE) {	/* before the greeting: just pass it */
		mitm_put(c, &c->up, p, len);
		return;
	}
	if (c->in_data) {
		if (n == 1 && t[0] == '.')
			c->in_data = false;
		mitm_put(c, &c->up, p, len);
		return;
	}
	if (c->sasl != SASL_NONE) {
		sasl_step(c, t, n);
		mitm_put(c, &c->up, p, len);
		return;
	}
	if (id == PROTO_IMAP) {
		verb = next_word(t, n, &vn);
		c->up.lit = literal_at_end(t, n);
	}
	a = next_word(verb, vn, &an);
	if (word_is(verb, vn, c->proto->starttls_verb)) {
		/* the tag the answer will carry (IMAP); "" otherwise */
		size_t tl = (size_t)(verb - t);
		while (tl > 0 && t[tl - 1] == ' ')
			tl--;
		if (tl >= sizeof c->tag)
			tl = sizeof c->tag - 1;
		memcpy(c->tag, t, tl);
		c->tag[tl] = '\0';
		if (m->modes & M_REFUSE) {
			refuse(m, c);
			return;
		}
		c->starttls = true;
	} else if (word_is(verb, vn, id == PROTO_IMAP ? "AUTHENTICATE"
	    : "AUTH")) {
		size_t irn, mn = 0;
		const char *ir = next_word(a, an, &irn);
		while (mn < an && a[mn] != ' ')
			mn++;
		sasl_start(c, a, mn, ir, irn);
	} else if (id == PROTO_SMTP && word_is(verb, vn, "DATA")) {
		c->data_cmd = true;
	} else if (id == PROTO_POP3 && word_is(verb, vn, "CAPA")) {
		c->capa = true;
	} else if (id == PROTO_POP3 && word_is(verb, vn, "USER")) {
		size_t k = an < sizeof c->user - 1 ? an : sizeof c->user - 1;
		memcpy(c->user, a, k);
		c->user[k] = '\0';
	} else if (id == PROTO_POP3 && word_is(verb, vn, "PASS")) {
		captured(c, c->user, strlen(c->user), a, an, "USER/PASS");
	} else if (id == PROTO_IMAP && word_is(verb, vn, "LOGIN")) {
		char u[MITM_CRED], pw[MITM_CRED];
		long ul = astring(&a, &an, u, sizeof u), pl = -1;
		if (ul >= 0)
			pl = astring(&a, &an, pw, sizeof pw);
		if (pl >= 0)
			captured(c, u, (size_t)ul, pw, (size_t)pl, "LOGIN");
		else
			mitm_say(c, _("LOGIN with a literal: not decoded here"));
	}
	mitm_put(c, &c->up, p, len);
}

/* ---- server to client ---- */

/* The server said yes to STARTTLS: inject (mode inject), then TLS:
 * blind, or intercepted (tls-intercept). */
static void
go_ahead(struct mitm *m, struct mconn *c)
{
	static const char *const inj[] = {
		[PROTO_SMTP] = "250-PIPELINING injected\r\n"
		    "250 AUTH PLAIN LOGIN injected\r\n",
		[PROTO_POP3] = "+OK injected\r\n",
		[PROTO_IMAP] = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] "
		    "injected\r\n",
	};
	c->starttls = false;
	if (m->modes & M_INJECT) {
		const char *s = inj[c->proto->id];
		mitm_put(c, &c->down, s, strlen(s));
		mitm_say(c, ngettext("injected %zu plaintext byte after the "
		    "go-ahead, in the same write: a careless client reads it "
		    "as if it came over TLS", "injected %zu plaintext bytes "
		    "after the go-ahead, in the same write: a careless client "
		    "reads them as if they came over TLS", strlen(s)),
		    strlen(s));
	}
	mitm_tls_go_ahead(m, c);
}

/* Case-insensitive search for w in p[0..n); returns its offset or -1. */
static long
find_ci(const char *p, size_t n, const char *w)
{
	size_t wl = strlen(w);
	for (size_t i = 0; i + wl <= n; i++)
		if (strncasecmp(p + i, w, wl) == 0)
			return (long)i;
	return -1;
}

/* Copies an IMAP response line t (n bytes) to dst (n bytes room),
 * dropping the capabilities selected by modes from "* CAPABILITY" and
 * "[CAPABILITY ...]".  Returns the new length; *hit gets the mode bits
 * of what went. */
static size_t
caps_filter(const char *t, size_t n, char *dst, unsigned modes,
    unsigned *hit)
{
	size_t rs, re = n, o, i;
	long k = find_ci(t, n, "[CAPABILITY ");
	if (n >= 13 && strncasecmp(t, "* CAPABILITY ", 13) == 0) {
		rs = 12;
	} else if (k >= 0) {
		const char *rb;
		rs = (size_t)k + 11;
		rb = memchr(t + rs, ']', n - rs);
		re = rb ? (size_t)(rb - t) : n;
	} else {
		memmove(dst, t, n);
		return n;
	}
	/* dst may be t itself (after the PREAUTH rewrite): it never runs
	 * ahead of t, so memmove copies are safe */
	memmove(dst, t, rs);
	o = rs;
	for (i = rs; i < re;) {
		size_t j = i, e;
		while (j < re && t[j] == ' ')
			j++;
		for (e = j; e < re && t[e] != ' '; e++)
			;
		if ((modes & M_STRIP) && e - j == 8 &&
		    strncasecmp(t + j, "STARTTLS", 8) == 0)
			*hit |= M_STRIP;
		else if ((modes & M_STRIPLD) && e - j == 13 &&
		    strncasecmp(t + j, "LOGINDISABLED", 13) == 0)
			*hit |= M_STRIPLD;
		else {
			memmove(dst + o, t + i, e - i);
			o += e - i;
		}
		i = e;
	}
	memmove(dst + o, t + re, n - re);
	return o + n - re;
}

/* SMTP reply line: strips STARTTLS, holding one "250-" line back so the
 * reply's last remaining line can be made final.  Returns true when the
 * line has been dealt with (held or dropped). */
static bool
smtp_line(struct mitm *m, struct mconn *c, const char *p, size_t len,
    const char *t, size_t n, int code, bool final)
{
	if (c->sasl != SASL_NONE && final && code != 334)
		c->sasl = SASL_NONE;
	if (c->data_cmd && final) {
		c->in_data = code == 354;
		c->data_cmd = false;
	}
	if (!(m->modes & M_STRIP))
		return false;
	if (code == 250 && n >= 12 && strncasecmp(t + 4, "STARTTLS", 8) == 0
	    && (n == 12 || t[12] == ' ')) {
		if (!final) {
			mitm_say(c, _("stripped STARTTLS from the EHLO reply"));
			return true;
		}
		if (c->holdlen) {
			mitm_say(c, _("stripped STARTTLS from the EHLO reply "
			    "(its last line: the line before now ends it)"));
			mitm_flush_hold(c, true);
			return true;
		}
	}
	mitm_flush_hold(c, false);
	if (!final && len <= sizeof c->hold) {
		memcpy(c->hold, p, len);
		c->holdlen = len;
		return true;
	}
	return false;
}

/* Tells the protocol from the greeting t (n bytes) when neither --proto
 * nor the port did.  Returns false (and goes blind) if it is none of
 * SMTP, POP3, IMAP. */
static bool
greeting_proto(struct mconn *c, const char *t, size_t n)
{
	static const struct pp_proto *const all[] = {
		&proto_smtp, &proto_pop3, &proto_imap,
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i]->is_greeting(t, n)) {
			c->proto = all[i];
			mitm_say(c, _("the greeting is %s"), c->proto->name);
			return true;
		}
	mitm_say(c, _("not a mail greeting: relaying bytes unchanged"));
	c->blind = true;
	return false;
}

/* Handles one complete server line t (n bytes, no line end); the line
 * with its end is p (len bytes).  Forwards it, changed per mode. */
void
mitm_server_line(struct mitm *m, struct mconn *c, const char *p, size_t len,
    const char *t, size_t n)
{
	char w[MITM_LINE + 16];
	const char *eol = t + n;
	size_t eoln = len - n;
	bool greeting = !c->greeted, pos = false, final = true;
	enum pp_proto_id id;

	mitm_show(m, c, "S:", t, n, "");
	if (!c->proto && !greeting_proto(c, t, n)) {
		mitm_put(c, &c->down, p, len);
		return;
	}
	id = c->proto->id;
	if (id == PROTO_SMTP) {
		int code = 0;
		if (n >= 3 && t[0] >= '1' && t[0] <= '5' && t[1] >= '0' &&
		    t[1] <= '9' && t[2] >= '0' && t[2] <= '9')
			code = (t[0] - '0') * 100 + (t[1] - '0') * 10 +
			    (t[2] - '0');
		final = n == 3 || (n > 3 && t[3] != '-');
		pos = code == 220;
		if (code && smtp_line(m, c, p, len, t, n, code, final))
			return;
	} else {
		bool cont = n > 0 && t[0] == '+' && (n == 1 || t[1] == ' ');
		if (id == PROTO_IMAP) {
			final = !cont && !(n > 0 && t[0] == '*');
			if (c->starttls) {
				size_t tl = strlen(c->tag);
				final = n > tl && strncmp(t, c->tag, tl) == 0
				    && t[tl] == ' ';
				pos = final && word_is(t + tl + 1,
				    n - tl - 1, "OK");
			}
		} else {
			pos = word_is(t, n, "+OK");
			final = !cont && !c->in_capa;
		}
		if (c->sasl != SASL_NONE && final)
			c->sasl = SASL_NONE;
	}
	if (greeting) {
		c->greeted = true;
		final = false;	/* never the answer to STARTTLS */
	}
	if (id == PROTO_POP3) {
		if (c->in_capa) {
			if (n == 1 && t[0] == '.') {
				c->in_capa = false;
			} else if ((m->modes & M_STRIP) &&
			    word_is(t, n, "STLS")) {
				mitm_say(c, _("stripped STLS from the CAPA "
				    "list"));
				return;
			}
		} else if (c->capa && !greeting) {
			c->capa = false;
			c->in_capa = pos;
		}
	}
	if (id == PROTO_IMAP && n <= MITM_LINE) {
		unsigned hit = 0;
		if (greeting && (m->modes & M_PREAUTH) && n >= 4 &&
		    strncasecmp(t, "* OK", 4) == 0 && (n == 4 ||
		    t[4] == ' ')) {
			memcpy(w, "* PREAUTH", 9);
			memcpy(w + 9, t + 4, n - 4);
			n += 5;
			t = w;
			mitm_say(c, _("turned the greeting's * OK into "
			    "* PREAUTH: the client believes it is logged in, "
			    "and STARTTLS is no longer allowed"));
		}
		n = caps_filter(t, n, w, m->modes, &hit);
		t = w;
		if (hit & M_STRIP)
			mitm_say(c, _("stripped STARTTLS from the capabilities"));
		if (hit & M_STRIPLD)
			mitm_say(c, _("stripped LOGINDISABLED from the "
			    "capabilities"));
		c->down.lit = literal_at_end(t, n);
	}
	mitm_put(c, &c->down, t, n);
	mitm_put(c, &c->down, eol, eoln);
	if (c->starttls && final) {
		if (pos)
			go_ahead(m, c);
		else
			c->starttls = false;
	}
}
