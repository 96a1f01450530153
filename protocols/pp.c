/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pp.c: the line engine ("ping-pong", after curl's pingpong.c): framing,
 * reply completion, the STARTTLS upgrade, sending.  Protocol rules live
 * in smtp.c, pop3.c and imap.c; this file has none.
 *
 * Outside facts relied on:
 *  - RFC 5321 2.3.8, RFC 1939 3, RFC 3501 2.2: lines end with CRLF; a
 *    bare LF is accepted here but pointed out;
 *  - RFC 3501 4.3: a literal is {n} followed by CRLF and n octets, which
 *    may contain anything, including CRLF and text that looks like a tag;
 *  - RFC 3207 4.2 / RFC 2595 3.1 / RFC 3501 6.2.1: after a STARTTLS
 *    go-ahead the next bytes are TLS; anything sent in plaintext before
 *    the handshake is an attack (CVE-2011-0411 and its 2021 relatives).
 */
#include "pp.h"
#include "i18n.h"
#include "pcap.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
say_msg(struct pp *pp, enum pp_ev kind, const char *id,
    const struct tls_facts *tf, const char *msg)
{
	struct pp_event ev = {
		.kind = kind, .text = msg, .len = strlen(msg),
		.tls = conn_is_tls(&pp->conn),
		.id = id, .line = pp->say_line, .tlsf = tf,
	};
	if (pp->emit)
		pp->emit(pp->ctx, &ev);
}

void
pp_say(struct pp *pp, enum pp_ev kind, const char *id, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say_msg(pp, kind, id, NULL, msg);
}

/* conn reports through here, so its messages become events too. */
static void
conn_say(void *ctx, enum ms_say kind, const char *id,
    const struct tls_facts *tf, const char *msg)
{
	static const enum pp_ev map[] = {
		[SAY_NOTE] = PP_EV_NOTE, [SAY_TLS] = PP_EV_TLS,
		[SAY_WARN] = PP_EV_WARN, [SAY_ERROR] = PP_EV_ERROR,
	};
	say_msg(ctx, map[kind], id, tf, msg);
}

static void
reset_session(struct pp *pp)
{
	pp->inlen = 0;
	pp->skipping = false;
	pp->skipped = 0;
	pp->noeol = 0;
	pp->literal = 0;
	pp->reply_bytes = 0;
	pp->reply_lines = 0;
	pp->greeted = false;
	pp->awaiting = false;
	pp->qn = 0;
	pp->refused = 0;
	pp->starttls = false;
	pp->tag[0] = '\0';
	pp->in_data = false;
	pp->sasl = false;
	pp->challenged = false;
	pp->quit_sent = false;
	pp->bye_seen = false;
	pp->bare_lf_told = false;
	pp->greeting_proto = NULL;
	pp->outlen = 0;
	memset(&pp->ps, 0, sizeof(pp->ps));
}

void
pp_init(struct pp *pp, void (*emit)(void *, const struct pp_event *),
    void *ctx)
{
	memset(pp, 0, sizeof(*pp));
	conn_init(&pp->conn, conn_say, pp);
	pp->emit = emit;
	pp->ctx = ctx;
	pp->max_reply = PP_REPLY_MAX_DEFAULT;
	reset_session(pp);
}

void
pp_free(struct pp *pp)
{
	conn_free(&pp->conn);
}

bool
pp_connected(const struct pp *pp)
{
	return conn_is_open(&pp->conn);
}

static const struct pp_proto *const protos[] = {
	&proto_smtp, &proto_pop3, &proto_imap,
};
#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

const struct pp_proto *
pp_proto_for_port(int port, bool *tls)
{
	for (size_t i = 0; i < NPROTOS; i++) {
		for (const int *p = protos[i]->tls_ports; *p; p++)
			if (*p == port) {
				*tls = true;
				return protos[i];
			}
		for (const int *p = protos[i]->ports; *p; p++)
			if (*p == port) {
				*tls = false;
				return protos[i];
			}
	}
	*tls = false;
	return NULL;
}

const struct pp_proto *
pp_proto_by_name(const char *name)
{
	for (size_t i = 0; i < NPROTOS; i++)
		if (strcasecmp(protos[i]->name, name) == 0)
			return protos[i];
	return NULL;
}

enum ms_err
pp_open(struct pp *pp, const char *host, const char *port, int family,
    int timeout_ms, bool tls)
{
	if (pp_connected(pp))
		pp_close(pp, NULL);
	reset_session(pp);
	pp->bytes_in = pp->bytes_out = 0;
	pp->lines_in = 0;
	pp->upgrades = 0;
	enum ms_err r = conn_open(&pp->conn, host, port, family, timeout_ms);
	if (r != MS_OK)
		return r;
	if (tls) {
		r = conn_tls(&pp->conn, &pp->tls);
		if (r != MS_OK) {
			pp_close_as(pp, "tls-failed", NULL);
			return r;
		}
	}
	return MS_OK;
}

/*
 * Wireshark picks a dissector by the port: these are the ports where it
 * shows each protocol in plaintext without being told (its smtp, pop and
 * imap dissectors; 465, 993 and 995 it takes for TLS).
 */
static const struct {
	enum pp_proto_id id;
	const char *name;	/* as Wireshark names it */
	const char *dissector;	/* for tshark -d */
	int ports[3];		/* 0-terminated */
} ws_dissectors[] = {
	{ PROTO_SMTP, "SMTP", "smtp", { 25, 587, 0 } },
	{ PROTO_POP3, "POP", "pop", { 110, 0 } },
	{ PROTO_IMAP, "IMAP", "imap", { 143, 0 } },
};

/* --pcap: after a connection on another port, how to have Wireshark
 * dissect its file. */
static void
pcap_hint(struct pp *pp)
{
	if (!pp->conn.pcap || pp->conn.pcap->failed || !pp->proto)
		return;
	int port = atoi(pp->conn.port);
	for (size_t i = 0; i < sizeof(ws_dissectors) /
	    sizeof(ws_dissectors[0]); i++) {
		if (ws_dissectors[i].id != pp->proto->id)
			continue;
		for (const int *p = ws_dissectors[i].ports; *p; p++)
			if (*p == port)
				return;
		pp_say(pp, PP_EV_NOTE, "pcap.decode-as",
		    _("for Wireshark to show port %d of %s as %s, choose "
		    "Decode As; with tshark: tshark -r %s -d "
		    "tcp.port==%d,%s"), port, pp->conn.pcap->path,
		    ws_dissectors[i].name, pp->conn.pcap->path, port,
		    ws_dissectors[i].dissector);
	}
}

void
pp_close(struct pp *pp, const char *why)
{
	pp_close_as(pp, NULL, why);
}

void
pp_close_as(struct pp *pp, const char *reason, const char *why)
{
	if (!reason)
		reason = pp->close_reason;
	pp->close_reason = NULL;
	if (!pp_connected(pp))
		return;
	if (!reason)
		reason = pp->quit_sent || pp->bye_seen ? "quit" : "closed";
	if (pp->outlen > 0)	/* last words; errors do not matter now */
		conn_write(&pp->conn, pp->out, pp->outlen);
	pp->outlen = 0;
	bool tls = conn_is_tls(&pp->conn);
	conn_close(&pp->conn);
	char msg[512];
	snprintf(msg, sizeof(msg), "%s", why ? why :
	    _("connection closed"));
	struct pp_event ev = {
		.kind = PP_EV_CLOSE, .text = msg, .len = strlen(msg),
		.tls = tls, .reason = reason,
	};
	if (pp->emit)
		pp->emit(pp->ctx, &ev);
	pcap_hint(pp);
	bool quit = pp->quit_sent || pp->bye_seen;
	reset_session(pp);
	pp->close_expected = quit;
}

static void
emit_line(struct pp *pp, enum pp_ev kind, const char *s, size_t n,
    const struct pp_rline *rl)
{
	struct pp_event ev = {
		.kind = kind, .text = s, .len = n,
		.tls = kind != PP_EV_INJECT && conn_is_tls(&pp->conn),
		.rl = rl,
		.line = kind == PP_EV_RECV ? ++pp->lines_in : 0,
	};
	if (pp->emit)
		pp->emit(pp->ctx, &ev);
}

static void
emit_sent(struct pp *pp, const char *s, size_t n, bool data)
{
	struct pp_event ev = {
		.kind = PP_EV_SEND, .text = s, .len = n,
		.tls = conn_is_tls(&pp->conn), .data = data,
	};
	if (pp->emit)
		pp->emit(pp->ctx, &ev);
}

/* The flags of the oldest command awaiting its reply, where the
 * protocol files read them. */
static void
load_head(struct pp *pp)
{
	uint8_t f = pp->qn > 0 ? pp->q[0] : 0;
	pp->starttls = f & PP_Q_STARTTLS;
	pp->ps.data_sent = f & PP_Q_DATA;
	pp->ps.expect_multi = f & PP_Q_MULTI;
	pp->awaiting = pp->qn > 0;
}

/* A reply is complete: it answers the oldest command awaiting one (an
 * untagged IMAP BAD answers the line that had no tag). */
static void
reply_done(struct pp *pp, const struct pp_rline *rl)
{
	if (pp->qn == 0) {	/* unasked for, or state set by hand */
		pp->awaiting = false;
		if (rl->upgrade != 0)
			pp->starttls = false;
		return;
	}
	unsigned i = 0;
	if (rl->kind == PP_R_UNTAGGED)
		while (i + 1 < pp->qn && !(pp->q[i] & PP_Q_NOTAG))
			i++;
	uint8_t f = pp->q[i];
	if ((f & PP_Q_DATA) && !pp->in_data)
		pp->refused |= PP_Q_DATA;
	if ((f & PP_Q_STARTTLS) && rl->upgrade < 0)
		pp->refused |= PP_Q_STARTTLS;
	memmove(pp->q + i, pp->q + i + 1, pp->qn - i - 1);
	pp->qn--;
	load_head(pp);
}

/* What the protocol says a line means (it may change session state). */
static void
ask_proto(struct pp *pp, const char *line, size_t n, struct pp_sinfo *si)
{
	memset(si, 0, sizeof(*si));
	si->expect_reply = true;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (pp->proto)
		pp->proto->send(pp, line, n, si);
}

bool
pp_sent(struct pp *pp, const char *line, size_t n, struct pp_sinfo *si)
{
	ask_proto(pp, line, n, si);
	if (si->quit)
		pp->quit_sent = true;
	if (!si->expect_reply)
		return true;
	if (pp->qn >= PP_QUEUE_MAX)
		return false;
	uint8_t f = 0;
	if (si->starttls)
		f |= PP_Q_STARTTLS;
	if (si->opens_data)
		f |= PP_Q_DATA;
	if (si->multi)
		f |= PP_Q_MULTI;
	if (si->quit)
		f |= PP_Q_QUIT;
	if (si->sync || si->alone || si->starttls || si->quit ||
	    si->opens_data)
		f |= PP_Q_SYNC;
	if (si->notag)
		f |= PP_Q_NOTAG;
	pp->q[pp->qn++] = f;
	if (pp->qn == 1)
		load_head(pp);
	return true;
}

bool
pp_may_send(const struct pp *pp, const struct pp_sinfo *si, bool pipelining)
{
	if (!pp->greeted)
		return false;
	if (pp->qn == 0)
		return true;
	for (unsigned i = 0; i < pp->qn; i++)
		if (pp->q[i] & PP_Q_SYNC)
			return false;
	if (!si->expect_reply)
		return true;	/* message text, literal octets */
	if (si->alone || si->starttls || pp->qn >= PP_QUEUE_MAX)
		return false;
	if (pp->proto && pp->proto->id == PROTO_IMAP)
		return true;	/* RFC 3501 5.5 */
	return pipelining;
}

/* One line is complete: limits, reply completion, STARTTLS answer. */
static int
line_done(struct pp *pp, struct pp_rline *rl)
{
	if (rl->literal) {
		if (rl->literal > pp->max_reply) {
			char lim[NUM_FMT_MAX], got[NUM_FMT_MAX];
			pp_say(pp, PP_EV_ERROR, "engine.literal-too-big",
			    ngettext("the server announced "
			    "a literal of %s octet, more than the limit of %s; "
			    "closing", "the server announced a literal of %s "
			    "octets, more than the limit of %s; closing",
			    (unsigned long)rl->literal),
			    num_fmt(got, sizeof(got), rl->literal),
			    num_fmt(lim, sizeof(lim), pp->max_reply));
			pp_close_as(pp, "limit", NULL);
			return MS_ECLOSED;
		}
		pp->literal = rl->literal;
	}
	if (rl->bare_lf && !pp->bare_lf_told) {
		pp->bare_lf_told = true;
		pp_say(pp, PP_EV_WARN, "warn.bare-lf",
		    _("this line ended with a bare LF, "
		    "not CRLF as the protocol requires"));
	}
	if (rl->last)
		pp->bare_lf_told = false;	/* told once per reply */
	if (pp->proto && pp->proto->max_reply_lines &&
	    pp->reply_lines > pp->proto->max_reply_lines) {
		char num[NUM_FMT_MAX];
		pp_say(pp, PP_EV_ERROR, "engine.reply-too-many-lines",
		    ngettext("the reply has more than %s "
		    "line: the server does not end it; closing", "the reply "
		    "has more than %s lines: the server does not end it; "
		    "closing", pp->proto->max_reply_lines),
		    num_fmt(num, sizeof(num), pp->proto->max_reply_lines));
		pp_close_as(pp, "limit", NULL);
		return MS_ECLOSED;
	}
	if (pp->reply_bytes > pp->max_reply) {
		char num[NUM_FMT_MAX];
		pp_say(pp, PP_EV_ERROR, "engine.reply-too-long",
		    ngettext("the reply is longer than %s "
		    "byte; closing", "the reply is longer than %s bytes; "
		    "closing", (unsigned long)pp->max_reply),
		    num_fmt(num, sizeof(num), pp->max_reply));
		pp_close_as(pp, "limit", NULL);
		return MS_ECLOSED;
	}
	if (!rl->last)
		return MS_OK;
	pp->reply_lines = 0;
	pp->reply_bytes = 0;
	pp->replies++;
	if (pp->greeted)
		reply_done(pp, rl);
	pp->greeted = true;
	pp->challenged = rl->kind == PP_R_CONT;
	if (rl->upgrade > 0)
		return PP_UPGRADE;
	if (rl->upgrade < 0) {
		if (conn_is_tls(&pp->conn) && pp->proto &&
		    pp->proto->starttls_again)
			pp_say(pp, PP_EV_EXPLAIN, "engine.starttls-again", "%s",
			    _(pp->proto->starttls_again));
		else
			pp_say(pp, PP_EV_WARN, "warn.starttls-refused",
			    _("the server refused the "
			    "upgrade: this connection stays in plaintext"));
	}
	return MS_OK;
}

/* The first line may tell which protocol this really is. */
static void
check_greeting(struct pp *pp, const char *s, size_t n)
{
	if (pp->greeted)
		return;
	pp->greeting_proto = NULL;
	for (size_t i = 0; i < NPROTOS && !pp->greeting_proto; i++)
		if (protos[i]->is_greeting(s, n))
			pp->greeting_proto = protos[i];
	if (pp->proto && !pp->guessed)
		return;
	const struct pp_proto *g = pp->greeting_proto;
	if (g) {
		if (pp->proto != g) {
			if (pp->proto)
				pp_say(pp, PP_EV_NOTE, "engine.greeting-switch",
				    _("the greeting is "
				    "%s, not %s: switching (use /proto to "
				    "change)"), g->name, pp->proto->name);
			else
				pp_say(pp, PP_EV_NOTE, "engine.greeting-proto",
				    _("the greeting is %s"), g->name);
			pp->proto = g;
		}
		return;
	}
	if (!pp->proto)
		pp_say(pp, PP_EV_WARN, "warn.greeting-unknown",
		    _("greeting not recognised as SMTP, "
		    "POP3 or IMAP: lines are shown as they come (/proto sets "
		    "the protocol)"));
}

static int
handle_line(struct pp *pp, const char *s, size_t n, bool bare, bool trunc)
{
	struct pp_rline rl = { .bare_lf = bare, .truncated = trunc };
	pp->say_line = pp->lines_in + 1;
	check_greeting(pp, s, n);
	if (pp->proto) {
		pp->proto->recv(pp, s, n, &rl);
	} else {
		rl.kind = PP_R_BAD;
		rl.last = true;		/* no framing known: line by line */
	}
	if (!pp->greeted)
		rl.greeting = true;
	pp->reply_lines++;
	pp->reply_bytes += n;
	emit_line(pp, PP_EV_RECV, s, n, &rl);
	if (trunc) {
		pp->skip_rl = rl;
		pp->say_line = 0;
		return MS_OK;
	}
	int r = line_done(pp, &rl);
	pp->say_line = 0;
	return r;
}

/* Shows literal octets line by line; they are never parsed. */
static size_t
literal_chunk(struct pp *pp, const char *s, size_t avail, bool full)
{
	size_t take = avail < pp->literal ? avail : (size_t)pp->literal;
	const char *lf = memchr(s, '\n', take);
	size_t used, show;
	if (lf) {
		used = (size_t)(lf - s) + 1;
		show = used - 1;
		if (show > 0 && s[show - 1] == '\r')
			show--;
	} else if (take == pp->literal || full) {
		used = show = take;	/* literal ends mid-line, or huge */
	} else {
		return 0;		/* wait for more */
	}
	struct pp_rline rl = { .kind = PP_R_DATA };
	emit_line(pp, PP_EV_RECV, s, show, &rl);
	pp->literal -= used;
	pp->reply_bytes += used;
	return used;
}

/* Frames pp->in.  Returns MS_OK, MS_ECLOSED or PP_UPGRADE. */
static int
pp_parse(struct pp *pp)
{
	size_t pos = 0;
	int r = MS_OK;
	/* the first noeol bytes were searched for LF last time: a server
	 * that trickles a long line byte by byte costs O(n), not O(n^2) */
	size_t known = pp->noeol;
	pp->noeol = 0;
	while (pos < pp->inlen && r == MS_OK) {
		const char *s = pp->in + pos;
		size_t avail = pp->inlen - pos;
		bool full = pos == 0 && pp->inlen == PP_IN_CAP;
		if (pp->literal > 0) {
			size_t used = literal_chunk(pp, s, avail, full);
			if (used == 0)
				break;
			pos += used;
			continue;
		}
		size_t from = pos == 0 && known < avail ? known : 0;
		const char *lf = memchr(s + from, '\n', avail - from);
		known = 0;
		if (pp->skipping) {
			/* Fix: the CR before the LF is not part of the
			 * line (it was counted in the length told), and
			 * an overlong line ending in a bare LF is noticed
			 * like any other.  skip_rl.bare_lf tracks "the
			 * last byte skipped so far was not a CR", as the
			 * CR and the LF may arrive in different reads. */
			if (!lf) {
				pp->skipped += avail;
				pp->skip_rl.bare_lf = s[avail - 1] != '\r';
				pos = pp->inlen;
				break;
			}
			bool cr = lf > s ? lf[-1] == '\r' :
			    !pp->skip_rl.bare_lf;
			pp->skip_rl.bare_lf = !cr;
			pp->skipped += (size_t)(lf - s);
			pos += (size_t)(lf - s) + 1;
			pp->skipping = false;
			char got[NUM_FMT_MAX], cap[NUM_FMT_MAX];
			pp_say(pp, PP_EV_WARN, "warn.line-truncated",
			    ngettext("that line was %s "
			    "byte long; only the first %s are shown", "that "
			    "line was %s bytes long; only the first %s are "
			    "shown", (unsigned long)(pp->skipped - cr)),
			    num_fmt(got, sizeof(got), pp->skipped - cr),
			    num_fmt(cap, sizeof(cap), PP_IN_CAP));
			pp->reply_bytes += pp->skipped - PP_IN_CAP;
			r = line_done(pp, &pp->skip_rl);
			continue;
		}
		if (!lf) {
			if (full) {	/* overlong line: show, then skip */
				pp->skipping = true;
				pp->skipped = avail;
				r = handle_line(pp, s, avail, false, true);
				pp->skip_rl.bare_lf = s[avail - 1] != '\r';
				pos = pp->inlen;
			} else {
				pp->noeol = avail;	/* moved to in[0] below */
			}
			break;
		}
		size_t n = (size_t)(lf - s);
		bool bare = !(n > 0 && s[n - 1] == '\r');
		pos += n + 1;
		r = handle_line(pp, s, bare ? n : n - 1, bare, false);
	}
	if (!pp_connected(pp) && r == MS_ECLOSED) {
		pp->inlen = 0;
		return r;
	}
	memmove(pp->in, pp->in + pos, pp->inlen - pos);
	pp->inlen -= pos;
	return r;
}

int
pp_feed(struct pp *pp, const char *data, size_t n)
{
	while (n > 0) {
		size_t room = PP_IN_CAP - pp->inlen;
		size_t k = n < room ? n : room;
		memcpy(pp->in + pp->inlen, data, k);
		pp->inlen += k;
		data += k;
		n -= k;
		int r = pp_parse(pp);
		if (r == PP_UPGRADE) {
			/* keep what follows the go-ahead: it is shown and
			 * dropped by the upgrade, never parsed */
			room = PP_IN_CAP - pp->inlen;
			k = n < room ? n : room;
			memcpy(pp->in + pp->inlen, data, k);
			pp->inlen += k;
			return r;
		}
		if (r != MS_OK)
			return r;
	}
	return MS_OK;
}

/* Shows bytes that came in plaintext after a STARTTLS go-ahead. */
static size_t
show_injected(struct pp *pp, const char *s, size_t n)
{
	size_t total = n;
	while (n > 0) {
		const char *lf = memchr(s, '\n', n);
		size_t len = lf ? (size_t)(lf - s) : n;
		size_t show = len;
		if (lf && show > 0 && s[show - 1] == '\r')
			show--;
		emit_line(pp, PP_EV_INJECT, s, show, NULL);
		if (lf)
			len++;
		s += len;
		n -= len;
	}
	return total;
}

enum ms_err
pp_starttls(struct pp *pp)
{
	if (!pp_connected(pp)) {
		pp_say(pp, PP_EV_ERROR, "engine.not-connected",
		    _("not connected"));
		return MS_EUSAGE;
	}
	if (conn_is_tls(&pp->conn)) {
		pp_say(pp, PP_EV_ERROR, "tls.already",
		    _("this connection already uses "
		    "TLS"));
		return MS_EUSAGE;
	}
	/* Whatever is buffered or already waiting in the socket came in
	 * plaintext: it must never pass for a reply protected by TLS. */
	size_t injected = 0;
	if (pp->inlen > 0)
		injected += show_injected(pp, pp->in, pp->inlen);
	pp->inlen = 0;
	for (int rounds = 0; rounds < 16; rounds++) {
		char buf[4096];
		ssize_t got = conn_read(&pp->conn, buf, sizeof(buf));
		if (got <= 0)
			break;
		injected += show_injected(pp, buf, (size_t)got);
	}
	if (injected > 0)
		pp_say(pp, PP_EV_WARN, "warn.injection",
		    ngettext("%zu byte arrived in "
		    "plaintext after the go-ahead and before TLS: an "
		    "injection attempt, shown above, not taken as a reply "
		    "and dropped", "%zu bytes arrived in plaintext after the "
		    "go-ahead and before TLS: an injection attempt, shown "
		    "above, not taken as a reply and dropped", injected),
		    injected);
	pp_flush(pp);
	enum ms_err r = conn_tls(&pp->conn, &pp->tls);
	if (r != MS_OK) {
		pp_close_as(pp, "tls-failed", NULL);
		return r;
	}
	/* Nothing learned before TLS counts any more (RFC 3207 4.2). */
	bool greeted = pp->greeted;
	unsigned long replies = pp->replies;
	unsigned upgrades = pp->upgrades + 1;
	uint64_t bin = pp->bytes_in, bout = pp->bytes_out;
	reset_session(pp);
	pp->greeted = greeted;
	pp->replies = replies;
	pp->bytes_in = bin;
	pp->bytes_out = bout;
	pp->upgrades = upgrades;
	if (pp->proto && pp->proto->after_tls)
		pp_say(pp, PP_EV_EXPLAIN, "engine.after-tls",
		    "%s", _(pp->proto->after_tls));
	return MS_OK;
}

enum ms_err
pp_input(struct pp *pp)
{
	/* Bounded per call so the shell stays responsive in long replies. */
	for (int rounds = 0; rounds < 64 && pp_connected(pp); rounds++) {
		ssize_t got = conn_read(&pp->conn, pp->in + pp->inlen,
		    PP_IN_CAP - pp->inlen);
		if (got == CONN_AGAIN)
			return MS_OK;
		if (got < 0) {
			bool mid = pp->inlen > 0 || pp->literal > 0 ||
			    pp->reply_lines > 0 || pp->skipping;
			if (pp->inlen > 0) {
				struct pp_rline rl = { .kind = PP_R_BAD };
				emit_line(pp, PP_EV_RECV, pp->in, pp->inlen,
				    &rl);
				pp->inlen = 0;
			}
			if (mid)
				pp_say(pp, PP_EV_ERROR,
				    "engine.closed-mid-reply", _("the server "
				    "closed the connection in the middle of a "
				    "reply"));
			else if (pp->awaiting && !pp->quit_sent)
				pp_say(pp, PP_EV_ERROR,
				    "engine.closed-unanswered", _("the server "
				    "closed the connection without answering"));
			bool quit = pp->quit_sent || pp->bye_seen;
			bool expected = !mid && pp->greeted && (quit ||
			    !pp->awaiting);
			/* without close_notify and without QUIT / BYE, the
			 * end cannot be told from a cut by an attacker */
			bool cut = pp->conn.no_close_notify && !quit;
			if (cut) {
				expected = false;
				pp_say(pp, PP_EV_WARN, "tls.truncated", _("TLS "
				    "ended without close_notify and before QUIT: "
				    "what came last may have been cut short (RFC "
				    "8446 6.1)"));
			}
			pp_close_as(pp, got != CONN_EOF || cut ? "lost" :
			    quit ? "quit" : "server-closed",
			    got == CONN_EOF && !cut
			    ? _("the server closed the connection")
			    : _("connection lost"));
			pp->close_expected = expected &&
			    (pp->close_expected || got == CONN_EOF);
			return MS_ECLOSED;
		}
		pp->bytes_in += (uint64_t)got;
		pp->inlen += (size_t)got;
		int r = pp_parse(pp);
		if (r == PP_UPGRADE) {
			/* stop here: what comes over TLS is read only after
			 * the caller has said which of its commands await a
			 * reply (/raw: a command pipelined behind STARTTLS,
			 * whose reply may come with the handshake's last
			 * records) */
			return pp_starttls(pp);
		}
		if (r != MS_OK)
			return (enum ms_err)r;
	}
	return MS_OK;
}

bool
pp_pending(struct pp *pp)
{
	return conn_pending(&pp->conn);
}

enum ms_err
pp_flush(struct pp *pp)
{
	if (pp->outlen == 0)
		return MS_OK;
	size_t n = pp->outlen;
	pp->outlen = 0;
	if (!pp_connected(pp))
		return MS_ECLOSED;
	enum ms_err r = conn_write(&pp->conn, pp->out, n);
	if (r != MS_OK) {
		pp_say(pp, PP_EV_ERROR, "engine.send-failed", r == MS_ETIMEOUT
		    ? _("the server takes nothing more (send timed out)")
		    : _("the server closed the connection while mailsh was "
		    "sending"));
		pp_close_as(pp, r == MS_ETIMEOUT ? "timeout" : "lost", NULL);
		return r == MS_ETIMEOUT ? MS_ETIMEOUT : MS_ECLOSED;
	}
	pp->bytes_out += n;
	return MS_OK;
}

static enum ms_err
out_add(struct pp *pp, const char *s, size_t n)
{
	if (pp->outlen + n > PP_OUT_CAP) {
		enum ms_err r = pp_flush(pp);
		if (r != MS_OK)
			return r;
	}
	if (n > PP_OUT_CAP) {	/* a huge line: straight out */
		enum ms_err r = conn_write(&pp->conn, s, n);
		if (r != MS_OK) {
			pp_close_as(pp, "lost", NULL);
			return r;
		}
		pp->bytes_out += n;
		return MS_OK;
	}
	memcpy(pp->out + pp->outlen, s, n);
	pp->outlen += n;
	return MS_OK;
}

enum ms_err
pp_send(struct pp *pp, const char *line, size_t n, struct pp_sinfo *sip)
{
	struct pp_sinfo si;
	/* message text: inside DATA or a literal before this line */
	bool text = pp->in_data || pp->ps.client_literal > 0;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (!pp_connected(pp)) {
		pp_say(pp, PP_EV_ERROR, "engine.not-connected",
		    _("not connected: use /open HOST "
		    "[PORT] first"));
		return MS_EUSAGE;
	}
	if (!pp_sent(pp, line, n, &si))
		pp_say(pp, PP_EV_WARN, "engine.queue-full", ngettext("more than %d command awaits "
		    "its reply: replies are no longer matched to "
		    "commands", "more than %d commands await their replies: "
		    "replies are no longer matched to commands",
		    PP_QUEUE_MAX), PP_QUEUE_MAX);
	if (sip)
		*sip = si;
	if (si.secret) {
		char red[PP_TAG_MAX + 64];
		size_t keep = si.keep < n ? si.keep : n;
		if (keep > PP_TAG_MAX)
			keep = PP_TAG_MAX;
		memcpy(red, line, keep);
		memcpy(red + keep, "********", 8);
		struct pp_event ev = {
			.kind = PP_EV_SEND, .text = red, .len = keep + 8,
			.tls = conn_is_tls(&pp->conn), .redacted = true,
		};
		if (pp->emit)
			pp->emit(pp->ctx, &ev);
	} else if (si.stuff) {	/* show what is sent: the extra dot too */
		char *st = malloc(n + 1);
		if (st) {
			st[0] = '.';
			memcpy(st + 1, line, n);
			emit_sent(pp, st, n + 1, text && si.data);
			free(st);
		}
	} else {
		emit_sent(pp, line, n, text && si.data);
	}
	if (si.stuff) {
		pp_say(pp, PP_EV_NOTE, "engine.dot-stuffed",
		    _("the line starts with \".\": sent as "
		    "\"..\" so it is not taken as the end (dot-stuffing, "
		    "RFC 5321 4.5.2)"));
	}
	enum ms_err r = MS_OK;
	if (si.stuff)
		r = out_add(pp, ".", 1);
	if (r == MS_OK)
		r = out_add(pp, line, n);
	if (r == MS_OK)
		r = out_add(pp, "\r\n", 2);
	if (r == MS_OK && (!si.data || si.expect_reply))
		r = pp_flush(pp);	/* text waits for its end (or a reply) */
	return r;
}

enum ms_err
pp_send_text(struct pp *pp, const char *line, size_t n, bool show)
{
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (!pp->in_data || (n == 1 && line[0] == '.') || (n > 0 &&
	    line[0] == '.'))
		return pp_send(pp, line, n, NULL);	/* the end, stuffing */
	if (show)
		emit_sent(pp, line, n, true);
	enum ms_err r = out_add(pp, line, n);
	if (r == MS_OK)
		r = out_add(pp, "\r\n", 2);
	return r;
}

enum ms_err
pp_send_wire_text(struct pp *pp, const char *bytes, size_t n)
{
	if (!pp->in_data)
		return MS_EUSAGE;
	if (n < 4096)
		return out_add(pp, bytes, n);
	/* a block: straight from the caller's buffer, no copy */
	enum ms_err r = pp_flush(pp);
	if (r != MS_OK)
		return r;
	r = conn_write(&pp->conn, bytes, n);
	if (r != MS_OK) {
		pp_close_as(pp, r == MS_ETIMEOUT ? "timeout" : "lost", NULL);
		return r;
	}
	pp->bytes_out += n;
	return MS_OK;
}

void
pp_classify_send(struct pp *pp, const char *line, size_t n,
    struct pp_sinfo *si)
{
	/* proto->send() updates the session state; undo that here */
	struct pp_pstate ps = pp->ps;
	bool in_data = pp->in_data, sasl = pp->sasl;
	bool starttls = pp->starttls, quit = pp->quit_sent;
	bool awaiting = pp->awaiting;
	char tag[PP_TAG_MAX];
	memcpy(tag, pp->tag, sizeof(tag));
	ask_proto(pp, line, n, si);
	pp->ps = ps;
	pp->in_data = in_data;
	pp->sasl = sasl;
	pp->starttls = starttls;
	pp->quit_sent = quit;
	pp->awaiting = awaiting;
	memcpy(pp->tag, tag, sizeof(tag));
}

void
pp_sasl_answer(const char *line, size_t n, struct pp_sinfo *si)
{
	si->alone = si->sync = true;
	if (n == 0 || (n == 1 && line[0] == '*'))
		return;
	si->secret = true;
	si->keep = 0;
	si->cred = PP_CRED_SASL;
}

bool
pp_line_has_literal(const char *line, size_t n, uint64_t *octets,
    bool *sync)
{
	if (n < 3 || line[n - 1] != '}')
		return false;
	size_t i = n - 1;
	bool plus = false;
	/* Fix: only "{n+}" is non-synchronizing (RFC 7888: LITERAL- uses
	 * the same syntax); "{n-}" is no literal and must not swallow the
	 * octets that follow it. */
	if (line[i - 1] == '+') {
		plus = true;
		i--;
	}
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || line[i - 1] != '{' || end - i > 19)
		return false;
	uint64_t v = 0;
	for (size_t k = i; k < end; k++)
		v = v * 10 + (uint64_t)(line[k] - '0');
	*octets = v;
	*sync = !plus;
	return true;
}

void
pp_unstuff(const char **line, size_t *n)
{
	/* RFC 1939 3: a line of a multi-line response that starts with
	 * "." had one added; the lone "." is the end, not content */
	if (*n >= 2 && (*line)[0] == '.') {
		(*line)++;
		(*n)--;
	}
}
