/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_pp.c: unit tests for the line engine (protocols/pp.c) and the
 * protocol tables (smtp.c, pop3.c, imap.c), through the public API:
 * pp_init with a collecting emit callback, pp->proto set by hand,
 * pp_feed for what the server sends, pp_classify_send and proto->send
 * for what the user sends.  A few tests give the engine one end of a
 * socketpair so that pp_send and pp_input run for real.
 *
 * Received lines are checked as a transcript, one event per line:
 *   R<kind><status><flags>[{literal}][[tag]] <text shown by show_bytes>
 *     kind   S status, U untagged, C continuation, D data, B bad
 *     status + positive, - negative
 *     flags  $ last, g greeting, ~ bare LF, u unstuffed, T truncated,
 *            ^ STARTTLS go-ahead, ! STARTTLS refused
 *   C <text>   a line sent      I <text>  injected plaintext
 *   !warn !error !note !explain !tls !close   messages (text left out)
 *
 * Most inputs are fed several ways (all at once, one byte at a time, in
 * chunks of 2, 3, 7, 64 and 4096 bytes and in random chunks) and every
 * way must give the same events and result.
 *
 * Test plan:
 *   pp-1  SMTP framing: multi-line replies, code-only lines, bad lines,
 *         bare LF (told once), CR inside a line, NUL and binary bytes,
 *         overlong lines (shown cut once, rest skipped, reply completes),
 *         the 1000-line limit (with and without a connection)
 *   pp-2  POP3: single vs multi-line after CAPA/LIST/RETR/TOP/UIDL/AUTH,
 *         ".." unstuffed, "." ends, -ERR ends, "+" continuation
 *   pp-3  IMAP: untagged / tagged / "+", literals {n} {0} {n+} ~{n} with
 *         fake tagged lines and CRLF inside, literal split across chunks,
 *         literal ending mid-line, oversized literal closes
 *   pp-4  STARTTLS: IMAP tag matching (OK / NO / other tag), SMTP 220 /
 *         454, POP3 +OK / -ERR; injected bytes stay in pp->in; with a
 *         socket they are shown as injected and dropped
 *   pp-5  greeting detection (no protocol, guessed, set by the user)
 *   pp-6  send side: SMTP DATA and dot-stuffing, trailing CR, redaction
 *         (PASS, APOP, AUTH PLAIN <ir>, SASL answers, IMAP LOGIN also
 *         with a literal password), QUIT/LOGOUT, IMAP client literals,
 *         pp_classify_send leaves the session state alone
 *   pp-7  pp_line_has_literal, pp_unstuff, ports and names
 *   pp-8  TLS options (conn.c): --tls-min/--tls-max values, what
 *         conn_tls_opts_check blames for each bad value, the legacy
 *         range that lowers the security level
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../protocols/pp.h"
#include "../../protocols/util.h"

/* ---- the collecting emit callback ---- */

struct rec {
	enum pp_ev kind;
	char *text;
	size_t len;
	bool tls, redacted, has_rl;
	struct pp_rline rl;
	char tag[PP_TAG_MAX];
};

struct h {
	struct pp *pp;
	struct rec *ev;
	size_t nev, cap;
};

static void
collect(void *ctx, const struct pp_event *e)
{
	struct h *h = ctx;
	if (h->nev == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->ev = realloc(h->ev, h->cap * sizeof(*h->ev));
		assert_non_null(h->ev);
	}
	struct rec *r = &h->ev[h->nev++];
	memset(r, 0, sizeof(*r));
	r->kind = e->kind;
	r->len = e->len;
	r->text = malloc(e->len + 1);
	assert_non_null(r->text);
	memcpy(r->text, e->text, e->len);
	r->text[e->len] = '\0';
	r->tls = e->tls;
	r->redacted = e->redacted;
	if (e->rl) {
		r->has_rl = true;
		r->rl = *e->rl;
		r->rl.tag = NULL;
		if (e->rl->tag)
			snprintf(r->tag, sizeof(r->tag), "%s", e->rl->tag);
	}
}

static void
clear_events(struct h *h)
{
	for (size_t i = 0; i < h->nev; i++)
		free(h->ev[i].text);
	h->nev = 0;
}

static struct h *
h_new(const struct pp_proto *proto)
{
	struct h *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->pp = calloc(1, sizeof(*h->pp));
	assert_non_null(h->pp);
	pp_init(h->pp, collect, h);
	h->pp->proto = proto;
	return h;
}

static void
h_free(struct h *h)
{
	pp_free(h->pp);
	clear_events(h);
	free(h->ev);
	free(h->pp);
	free(h);
}

static int
setup(void **state)
{
	*state = h_new(NULL);
	return 0;
}

static int
teardown(void **state)
{
	h_free(*state);
	return 0;
}

/* ---- transcripts ---- */

static const char *
msg_name(enum pp_ev k)
{
	switch (k) {
	case PP_EV_TLS: return "!tls";
	case PP_EV_NOTE: return "!note";
	case PP_EV_EXPLAIN: return "!explain";
	case PP_EV_WARN: return "!warn";
	case PP_EV_ERROR: return "!error";
	case PP_EV_CLOSE: return "!close";
	default: return "!?";
	}
}

/* One event as a line; with msgtext, messages keep their text. */
static void
event_line(struct sbuf *sb, const struct rec *r, bool msgtext)
{
	switch (r->kind) {
	case PP_EV_RECV: {
		static const char kinds[] = "SUCDB";
		const struct pp_rline *rl = &r->rl;
		sbuf_printf(sb, "R%c", kinds[rl->kind]);
		if (rl->status == PP_S_POS)
			sbuf_puts(sb, "+");
		else if (rl->status == PP_S_NEG)
			sbuf_puts(sb, "-");
		if (rl->last)
			sbuf_puts(sb, "$");
		if (rl->greeting)
			sbuf_puts(sb, "g");
		if (rl->bare_lf)
			sbuf_puts(sb, "~");
		if (rl->unstuffed)
			sbuf_puts(sb, "u");
		if (rl->truncated)
			sbuf_puts(sb, "T");
		if (rl->upgrade > 0)
			sbuf_puts(sb, "^");
		if (rl->upgrade < 0)
			sbuf_puts(sb, "!");
		if (rl->literal)
			sbuf_printf(sb, "{%llu}",
			    (unsigned long long)rl->literal);
		if (r->tag[0])
			sbuf_printf(sb, "[%s]", r->tag);
		sbuf_puts(sb, " ");
		show_bytes(sb, r->text, r->len);
		break;
	}
	case PP_EV_SEND:
		sbuf_puts(sb, "C ");
		show_bytes(sb, r->text, r->len);
		break;
	case PP_EV_INJECT:
		sbuf_puts(sb, "I ");
		show_bytes(sb, r->text, r->len);
		break;
	default:
		sbuf_puts(sb, msg_name(r->kind));
		if (msgtext) {
			sbuf_puts(sb, " ");
			show_bytes(sb, r->text, r->len);
		}
		break;
	}
}

/* All events, '\n' between them.  Caller frees. */
static char *
transcript(const struct h *h, bool msgtext)
{
	size_t cap = 4096;
	for (size_t i = 0; i < h->nev; i++)
		cap += h->ev[i].len * 4 + 64;
	char *buf = malloc(cap);
	assert_non_null(buf);
	struct sbuf sb;
	sbuf_init(&sb, buf, cap);
	for (size_t i = 0; i < h->nev; i++) {
		if (i > 0)
			sbuf_puts(&sb, "\n");
		event_line(&sb, &h->ev[i], msgtext);
	}
	assert_false(sb.truncated);
	return buf;
}

static void
check_tr(const struct h *h, const char *want)
{
	char *got = transcript(h, false);
	if (strcmp(got, want) != 0) {
		print_error("transcript:\n%s\n---- expected:\n%s\n", got,
		    want);
		free(got);
		fail();
	}
	free(got);
}

/* The first message event of kind k containing sub, or NULL. */
static const struct rec *
find_msg(const struct h *h, enum pp_ev k, const char *sub)
{
	for (size_t i = 0; i < h->nev; i++)
		if (h->ev[i].kind == k && strstr(h->ev[i].text, sub))
			return &h->ev[i];
	return NULL;
}

static size_t
count_kind(const struct h *h, enum pp_ev k)
{
	size_t c = 0;
	for (size_t i = 0; i < h->nev; i++)
		c += h->ev[i].kind == k;
	return c;
}

/* ---- feeding ---- */

static int
feed(struct h *h, const char *s)
{
	return pp_feed(h->pp, s, strlen(s));
}

/*
 * Feeds n bytes in pieces of chunk bytes (0: all at once; SIZE_MAX:
 * random sizes), stopping at the first result that is not MS_OK.
 * *used gets how many input bytes were handed to pp_feed.
 */
static int
feed_chunked(struct h *h, const char *s, size_t n, size_t chunk,
    uint32_t seed, size_t *used)
{
	size_t pos = 0;
	int r = MS_OK;
	while (pos < n && r == MS_OK) {
		size_t k = n - pos;
		if (chunk == SIZE_MAX) {
			seed = seed * 1103515245u + 12345u;
			size_t want = 1 + (seed >> 16) % 300;
			if (want < k)
				k = want;
		} else if (chunk > 0 && chunk < k) {
			k = chunk;
		}
		r = pp_feed(h->pp, s + pos, k);
		pos += k;
	}
	*used = pos;
	return r;
}

typedef void (*prep_fn)(struct pp *);

/* What one way of feeding produced. */
struct run {
	int r;
	char *tr;		/* transcript with message texts */
	char *rest;		/* pp->in then the bytes not fed */
	size_t restlen;
	unsigned long replies;
};

static void
run_once(const struct pp_proto *proto, prep_fn prep, const char *s,
    size_t n, size_t chunk, uint32_t seed, struct run *out)
{
	struct h *h = h_new(proto);
	if (prep)
		prep(h->pp);
	size_t used;
	out->r = feed_chunked(h, s, n, chunk, seed, &used);
	out->tr = transcript(h, true);
	out->restlen = h->pp->inlen + (n - used);
	out->rest = malloc(out->restlen + 1);
	assert_non_null(out->rest);
	memcpy(out->rest, h->pp->in, h->pp->inlen);
	memcpy(out->rest + h->pp->inlen, s + used, n - used);
	out->replies = h->pp->replies;
	h_free(h);
}

/*
 * Feeds s every way, checks all ways agree (result, events with their
 * texts, replies, and pp->in plus what was not fed after a stop), then
 * feeds it once more all at once into h (prepared with prep) for the
 * caller to inspect.  Returns that result.
 */
static int
feed_all_ways(struct h *h, prep_fn prep, const char *s, size_t n)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 4096, SIZE_MAX,
	    SIZE_MAX, SIZE_MAX };
	struct run base;
	run_once(h->pp->proto, prep, s, n, 0, 0, &base);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct run o;
		run_once(h->pp->proto, prep, s, n, chunks[i],
		    (uint32_t)i * 7919u, &o);
		if (o.r != base.r || strcmp(o.tr, base.tr) != 0 ||
		    o.replies != base.replies || o.restlen != base.restlen ||
		    memcmp(o.rest, base.rest, o.restlen) != 0) {
			print_error("chunk %zu differs (r %d vs %d):\n%s\n"
			    "---- all at once:\n%s\n", chunks[i], o.r,
			    base.r, o.tr, base.tr);
			fail();
		}
		free(o.tr);
		free(o.rest);
	}
	free(base.tr);
	free(base.rest);
	if (prep)
		prep(h->pp);
	return pp_feed(h->pp, s, n);
}

static int
feed_all_ways_str(struct h *h, prep_fn prep, const char *s)
{
	return feed_all_ways(h, prep, s, strlen(s));
}

/*
 * Does what pp_send does to the session state, without a connection:
 * pp_sent (drops a trailing CR, asks proto->send, queues the command
 * for its reply).  Returns what the line meant.
 */
static struct pp_sinfo
fake_send(struct pp *pp, const char *line)
{
	struct pp_sinfo si;
	pp_sent(pp, line, strlen(line), &si);
	return si;
}

static struct pp_sinfo
classify(struct pp *pp, const char *line)
{
	struct pp_sinfo si;
	pp_classify_send(pp, line, strlen(line), &si);
	return si;
}

/* ---- preparations for feed_all_ways ---- */

static void
prep_greeted(struct pp *pp)
{
	pp->greeted = true;
}

static void
prep_smtp_starttls(struct pp *pp)
{
	pp->greeted = true;
	fake_send(pp, "STARTTLS");
}

static void
prep_pop3_capa(struct pp *pp)
{
	pp->greeted = true;
	fake_send(pp, "CAPA");
}

static void
prep_pop3_stls(struct pp *pp)
{
	pp->greeted = true;
	fake_send(pp, "STLS");
}

static void
prep_imap_starttls(struct pp *pp)
{
	pp->greeted = true;
	pp->starttls = true;
	strcpy(pp->tag, "a1");
}

/* ==== pp-1: SMTP framing ==== */

static void
test_smtp_multiline(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, NULL,
	    "220 mx.example ESMTP\r\n"
	    "250-mx.example hello\r\n"
	    "250-SIZE 10240000\r\n"
	    "250-8BITMIME\r\n"
	    "250 STARTTLS\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS+$g 220 mx.example ESMTP\n"
	    "RS+ 250-mx.example hello\n"
	    "RS+ 250-SIZE 10240000\n"
	    "RS+ 250-8BITMIME\n"
	    "RS+$ 250 STARTTLS");
	assert_int_equal(h->ev[0].rl.code, 220);
	assert_int_equal(h->ev[4].rl.code, 250);
	assert_int_equal(h->pp->replies, 2);
	assert_true(h->pp->greeted);
	assert_int_equal(h->pp->inlen, 0);
	assert_int_equal(h->pp->reply_lines, 0);
}

static void
test_smtp_multiline_greeting(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, NULL,
	    "220-first\r\n220-second\r\n220 third\r\n250 ok\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS+g 220-first\n"
	    "RS+g 220-second\n"
	    "RS+$g 220 third\n"
	    "RS+$ 250 ok");
}

static void
test_smtp_line_forms(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, prep_greeted,
	    "250\r\n"		/* code only: the text is optional */
	    "550 5.1.1 no such user\r\n"
	    "421-bye\r\n"
	    "hello\r\n"		/* not a reply line */
	    "25\r\n"
	    "250x\r\n"
	    "650 x\r\n"
	    "\r\n"
	    "421 closing\r\n"
	    "334 VXNlcm5hbWU6\r\n"
	    "354 go ahead\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS+$ 250\n"
	    "RS-$ 550 5.1.1 no such user\n"
	    "RS- 421-bye\n"
	    "RB hello\n"
	    "RB 25\n"
	    "RB 250x\n"
	    "RB 650 x\n"
	    "RB \n"
	    "RS-$ 421 closing\n"
	    "RC+$ 334 VXNlcm5hbWU6\n"
	    "RS+$ 354 go ahead");
	assert_int_equal(h->ev[1].rl.code, 550);
	assert_int_equal(h->ev[9].rl.code, 334);
	assert_int_equal(h->pp->replies, 5);
	assert_false(h->pp->challenged);	/* the last reply was 354 */
}

static void
test_smtp_bare_lf(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, NULL,
	    "220 hi\n"
	    "250-one\r\n"
	    "250-two\n"
	    "250-cr\rinside\r\n"
	    "250-two crs\r\r\n"
	    "250 end\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS+$g~ 220 hi\n"
	    "!warn\n"			/* told once per reply */
	    "RS+ 250-one\n"
	    "RS+~ 250-two\n"
	    "!warn\n"			/* the second reply's first */
	    "RS+ 250-cr\\rinside\n"
	    "RS+ 250-two crs\\r\n"
	    "RS+$~ 250 end");
	assert_non_null(find_msg(h, PP_EV_WARN, "bare LF"));
	assert_int_equal(h->pp->replies, 2);
}

static void
test_smtp_binary_bytes(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	static const char in[] =
	    "220 fake\0ESMTP \x01\x1b[31mred\x7f \xff\xfe tab\there\r\n"
	    "250 \0\0\0\r\n";
	int r = feed_all_ways(h, NULL, in, sizeof(in) - 1);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->nev, 2);
	/* the event carries the raw bytes, NULs included */
	static const char l1[] =
	    "220 fake\0ESMTP \x01\x1b[31mred\x7f \xff\xfe tab\there";
	assert_int_equal(h->ev[0].len, sizeof(l1) - 1);
	assert_memory_equal(h->ev[0].text, l1, sizeof(l1) - 1);
	assert_int_equal(h->ev[1].len, 7);
	assert_memory_equal(h->ev[1].text, "250 \0\0\0", 7);
	assert_true(h->ev[1].rl.last);
	assert_int_equal(h->pp->replies, 2);
}

/* A reply whose first line is longer than the input buffer. */
static void
test_smtp_overlong_line(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	size_t big = 70000;
	size_t n = 4 + big + 2 + 8;
	char *in = malloc(n + 1);
	assert_non_null(in);
	memcpy(in, "250-", 4);
	memset(in + 4, 'x', big);
	memcpy(in + 4 + big, "\r\n250 OK\r\n", 10);
	int r = feed_all_ways(h, prep_greeted, in, n);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->nev, 3);
	assert_int_equal(h->ev[0].kind, PP_EV_RECV);
	assert_true(h->ev[0].rl.truncated);
	assert_false(h->ev[0].rl.last);
	assert_int_equal(h->ev[0].len, PP_IN_CAP);
	assert_memory_equal(h->ev[0].text, in, PP_IN_CAP);
	assert_int_equal(h->ev[1].kind, PP_EV_WARN);
	/* the line is 4 + 70000 bytes without its CRLF */
	assert_non_null(strstr(h->ev[1].text, "70004 bytes long"));
	assert_int_equal(h->ev[2].kind, PP_EV_RECV);
	assert_string_equal(h->ev[2].text, "250 OK");
	assert_true(h->ev[2].rl.last);
	assert_false(h->ev[2].rl.truncated);
	assert_int_equal(h->pp->replies, 1);
	assert_false(h->pp->skipping);
	assert_int_equal(h->pp->inlen, 0);
	assert_int_equal(h->pp->reply_bytes, 0);
	/* the session goes on */
	clear_events(h);
	assert_int_equal(feed(h, "250 next\r\n"), MS_OK);
	check_tr(h, "RS+$ 250 next");
	free(in);
}

/* The last line of a reply is overlong: the reply completes at its LF;
 * a bare LF at the end of it is noticed too. */
static void
test_smtp_overlong_last_line(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	size_t big = 3 * PP_IN_CAP;
	size_t n = 4 + big + 1;
	char *in = malloc(n);
	assert_non_null(in);
	memcpy(in, "250 ", 4);
	memset(in + 4, 'y', big);
	in[n - 1] = '\n';
	int r = feed_all_ways(h, prep_greeted, in, n);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->pp->replies, 1);
	assert_int_equal(count_kind(h, PP_EV_RECV), 1);
	assert_true(h->ev[0].rl.truncated);
	assert_true(h->ev[0].rl.last);
	char want[64];
	snprintf(want, sizeof(want), "%zu bytes long", 4 + big);
	assert_non_null(find_msg(h, PP_EV_WARN, want));
	assert_non_null(find_msg(h, PP_EV_WARN, "bare LF"));
	free(in);
}

/* Lines right at the size of the buffer. */
static void
test_smtp_line_at_cap(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	/* PP_IN_CAP bytes with CRLF fit: not cut */
	size_t n = PP_IN_CAP;
	char *in = malloc(n + 1);
	assert_non_null(in);
	memcpy(in, "250 ", 4);
	memset(in + 4, 'z', n - 6);
	memcpy(in + n - 2, "\r\n", 2);
	int r = feed_all_ways(h, prep_greeted, in, n);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->nev, 1);
	assert_false(h->ev[0].rl.truncated);
	assert_int_equal(h->ev[0].len, n - 2);
	/* one byte more: the CR is the last byte of a full buffer */
	clear_events(h);
	char *in2 = malloc(n + 2);
	assert_non_null(in2);
	memcpy(in2, "250 ", 4);
	memset(in2 + 4, 'z', n - 5);
	memcpy(in2 + n - 1, "\r\n", 2);
	r = feed_all_ways(h, prep_greeted, in2, n + 1);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->pp->replies, 2);
	assert_true(h->ev[0].rl.truncated);
	assert_true(h->ev[0].rl.last);
	assert_null(find_msg(h, PP_EV_WARN, "bare LF"));
	free(in);
	free(in2);
}

static char *
smtp_lines(size_t nlines, size_t *len)
{
	char *in = malloc(nlines * 8 + 1);
	assert_non_null(in);
	size_t n = 0;
	for (size_t i = 0; i + 1 < nlines; i++) {
		memcpy(in + n, "250-xx\r\n", 8);
		n += 8;
	}
	memcpy(in + n, "250 xx\r\n", 8);
	*len = n + 8;
	return in;
}

static void
test_smtp_line_limit(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	size_t n;
	/* 1000 lines is the most one reply may have */
	char *in = smtp_lines(PP_SMTP_LINES_MAX, &n);
	int r = feed_all_ways(h, prep_greeted, in, n);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->pp->replies, 1);
	free(in);
	/* 1001 lines: closed, even without a connection, no crash */
	struct h *h2 = h_new(&proto_smtp);
	in = smtp_lines(PP_SMTP_LINES_MAX + 1, &n);
	r = feed_all_ways(h2, prep_greeted, in, n);
	assert_int_equal(r, MS_ECLOSED);
	assert_non_null(find_msg(h2, PP_EV_ERROR, "more than 1000 lines"));
	assert_int_equal(count_kind(h2, PP_EV_RECV), PP_SMTP_LINES_MAX + 1);
	assert_int_equal(h2->pp->inlen, 0);
	assert_int_equal(h2->pp->replies, 0);
	h_free(h2);
	free(in);
}

/* ==== pp-2: POP3 ==== */

static void
test_pop3_single_and_multi(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_pop3;
	assert_int_equal(feed(h, "+OK POP3 ready\r\n"), MS_OK);
	fake_send(pp, "USER alice");
	assert_int_equal(feed(h, "+OK\r\n"), MS_OK);
	fake_send(pp, "LIST 1");		/* one message: one line */
	assert_int_equal(feed(h, "+OK 1 120\r\n"), MS_OK);
	fake_send(pp, "LIST");
	assert_int_equal(feed(h, "+OK 2 messages\r\n1 120\r\n2 200\r\n"
	    ".\r\n"), MS_OK);
	fake_send(pp, "UIDL 2");
	assert_int_equal(feed(h, "+OK 2 uid-2\r\n"), MS_OK);
	fake_send(pp, "uidl");
	assert_int_equal(feed(h, "+OK\r\n1 a\r\n.\r\n"), MS_OK);
	fake_send(pp, "STAT");
	assert_int_equal(feed(h, "+OK 2 320\r\n"), MS_OK);
	fake_send(pp, "AUTH");			/* mechanism list */
	assert_int_equal(feed(h, "+OK\r\nPLAIN\r\n.\r\n"), MS_OK);
	check_tr(h,
	    "RS+$g +OK POP3 ready\n"
	    "RS+$ +OK\n"
	    "RS+$ +OK 1 120\n"
	    "RS+ +OK 2 messages\n"
	    "RD 1 120\n"
	    "RD 2 200\n"
	    "RD$ .\n"
	    "RS+$ +OK 2 uid-2\n"
	    "RS+ +OK\n"
	    "RD 1 a\n"
	    "RD$ .\n"
	    "RS+$ +OK 2 320\n"
	    "RS+ +OK\n"
	    "RD PLAIN\n"
	    "RD$ .");
	assert_int_equal(pp->replies, 8);
}

static void
test_pop3_retr_dot_stuffing(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_pop3;
	int r = feed_all_ways_str(h, prep_pop3_capa,
	    "+OK capabilities\r\nTOP\r\nSTLS\r\n.\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h, "RS+ +OK capabilities\nRD TOP\nRD STLS\nRD$ .");

	static const char *const verbs[] = { "RETR 1", "TOP 1 10", "CAPA" };
	for (size_t i = 0; i < 3; i++) {
		struct h *g = h_new(&proto_pop3);
		g->pp->greeted = true;
		fake_send(g->pp, verbs[i]);
		assert_int_equal(feed(g,
		    "+OK message follows\r\n"
		    "Subject: x\r\n"
		    "\r\n"
		    "..leading dot\r\n"
		    "...\r\n"
		    ". not the end\r\n"
		    "-ERR in the body is data\r\n"
		    "+OK too\r\n"
		    ".\r\n"
		    "+OK next\r\n"), MS_OK);
		check_tr(g,
		    "RS+ +OK message follows\n"
		    "RD Subject: x\n"
		    "RD \n"
		    "RDu ..leading dot\n"
		    "RDu ...\n"
		    "RDu . not the end\n"
		    "RD -ERR in the body is data\n"
		    "RD +OK too\n"
		    "RD$ .\n"
		    "RS+$ +OK next");
		assert_int_equal(g->pp->replies, 2);
		h_free(g);
	}
}

static void
test_pop3_err_ends(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_pop3;
	pp->greeted = true;
	fake_send(pp, "RETR 9");
	assert_int_equal(feed(h, "-ERR no such message\r\n"), MS_OK);
	fake_send(pp, "NOOP");
	assert_int_equal(feed(h, "+OK\r\n"), MS_OK);
	check_tr(h, "RS-$ -ERR no such message\nRS+$ +OK");
	assert_int_equal(pp->replies, 2);
	assert_false(pp->ps.in_multi);
	assert_false(pp->ps.expect_multi);
	assert_false(pp->awaiting);
}

static void
test_pop3_line_forms(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_pop3;
	int r = feed_all_ways_str(h, prep_greeted,
	    "+OK\r\n"
	    "+ok lower case\r\n"
	    "-ERR\r\n"
	    "+OKAY\r\n"
	    "+ \r\n"
	    "+\r\n"
	    "+x\r\n"
	    "hello\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS+$ +OK\n"
	    "RS+$ +ok lower case\n"
	    "RS-$ -ERR\n"
	    "RB +OKAY\n"
	    "RC$ + \n"
	    "RC$ +\n"
	    "RB +x\n"
	    "RB hello");
}

/* ==== pp-3: IMAP ==== */

static void
test_imap_kinds(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	int r = feed_all_ways_str(h, NULL,
	    "* OK [CAPABILITY IMAP4rev1] ready\r\n"
	    "* 3 EXISTS\r\n"
	    "* OK [UIDNEXT 4]\r\n"
	    "* NO disk full\r\n"
	    "a1 OK SELECT completed\r\n"
	    "+ go ahead\r\n"
	    "+\r\n"
	    "a2 NO [AUTHENTICATIONFAILED] no\r\n"
	    "a3 BAD what\r\n"
	    "a4 garbage\r\n"
	    "a5\r\n"
	    "* BYE bye\r\n"
	    "A6 ok lower case\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RU+$g * OK [CAPABILITY IMAP4rev1] ready\n"
	    "RU * 3 EXISTS\n"
	    "RU+ * OK [UIDNEXT 4]\n"
	    "RU- * NO disk full\n"
	    "RS+$[a1] a1 OK SELECT completed\n"
	    "RC$ + go ahead\n"
	    "RC$ +\n"
	    "RS-$[a2] a2 NO [AUTHENTICATIONFAILED] no\n"
	    "RS-$[a3] a3 BAD what\n"
	    "RB a4 garbage\n"
	    "RB a5\n"
	    "RU- * BYE bye\n"
	    "RS+$[A6] A6 ok lower case");
	assert_true(h->pp->bye_seen);
	assert_int_equal(h->pp->replies, 7);
}

static void
test_imap_preauth_greeting(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	assert_int_equal(feed(h, "* PREAUTH welcome\r\n"), MS_OK);
	check_tr(h, "RU+$g * PREAUTH welcome");
	assert_true(h->pp->greeted);
}

static void
test_imap_literal(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	/* 40 octets: "From: a\r\n" (9) "a2 OK fake\r\n" (12)
	 * "* 2 EXPUNGE\r\n" (13) "\r\nlast" (6) */
	int r = feed_all_ways_str(h, prep_greeted,
	    "* 1 FETCH (BODY[] {40}\r\n"
	    "From: a\r\n"
	    "a2 OK fake\r\n"
	    "* 2 EXPUNGE\r\n"
	    "\r\n"
	    "last UID 7)\r\n"
	    "a2 OK FETCH done\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RU{40} * 1 FETCH (BODY[] {40}\n"
	    "RD From: a\n"
	    "RD a2 OK fake\n"
	    "RD * 2 EXPUNGE\n"
	    "RD \n"
	    "RD last\n"
	    "RU  UID 7)\n"
	    "RS+$[a2] a2 OK FETCH done");
	assert_int_equal(h->pp->replies, 1);
	assert_int_equal(h->pp->literal, 0);
	assert_false(h->pp->ps.in_resp);
}

static void
test_imap_literal_forms(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	static const char in[] =
	    "* 1 FETCH (BODY[] {0}\r\n"
	    ")\r\n"
	    "* 2 FETCH (BODY[] {3+}\r\n"
	    "abc)\r\n"
	    "* 3 FETCH (BINARY[] ~{4}\r\n"
	    "\0\r\n\xff)\r\n"
	    "* 4 FETCH (A {2}\r\n"
	    "xy B {1}\r\n"
	    "z)\r\n"
	    "a1 OK done\r\n";
	int r = feed_all_ways(h, prep_greeted, in, sizeof(in) - 1);
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RU * 1 FETCH (BODY[] {0}\n"
	    "RU )\n"
	    "RU{3} * 2 FETCH (BODY[] {3+}\n"
	    "RD abc\n"
	    "RU )\n"
	    "RU{4} * 3 FETCH (BINARY[] ~{4}\n"
	    "RD \\0\n"
	    "RD \\xFF\n"
	    "RU )\n"
	    "RU{2} * 4 FETCH (A {2}\n"
	    "RD xy\n"
	    "RU{1}  B {1}\n"
	    "RD z\n"
	    "RU )\n"
	    "RS+$[a1] a1 OK done");
	assert_int_equal(h->pp->replies, 1);
}

/* A literal ending a tagged line; and the greeting with a literal. */
static void
test_imap_literal_in_status(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	int r = feed_all_ways_str(h, NULL,
	    "* OK {5}\r\n"
	    "hello\r\n"
	    "a1 OK [ALERT {4}\r\n"
	    "a1 N] done\r\n"
	    "a2 OK\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RU+g{5} * OK {5}\n"
	    "RD hello\n"
	    "RU+$g \n"
	    "RS+{4}[a1] a1 OK [ALERT {4}\n"
	    "RD a1 N\n"
	    "RS+$[a1] ] done\n"
	    "RS+$[a2] a2 OK");
	assert_int_equal(h->pp->replies, 3);
}

/* A huge literal without line ends is shown in bounded pieces. */
static void
test_imap_big_literal(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	size_t lit = 200000;
	char head[64];
	int hl = snprintf(head, sizeof(head), "* 1 FETCH (BODY[] {%zu}\r\n",
	    lit);
	size_t n = (size_t)hl + lit + 3 + 9;
	char *in = malloc(n);
	assert_non_null(in);
	memcpy(in, head, (size_t)hl);
	memset(in + hl, 'q', lit);
	memcpy(in + hl + lit, ")\r\na1 OK x\r\n", 12);
	int r = feed_all_ways(h, prep_greeted, in, n);
	assert_int_equal(r, MS_OK);
	size_t total = 0, pieces = 0;
	for (size_t i = 0; i < h->nev; i++) {
		if (h->ev[i].kind != PP_EV_RECV ||
		    h->ev[i].rl.kind != PP_R_DATA)
			continue;
		assert_true(h->ev[i].len <= PP_IN_CAP);
		total += h->ev[i].len;
		pieces++;
	}
	assert_int_equal(total, lit);
	assert_true(pieces >= 4);
	assert_int_equal(h->pp->replies, 1);
	const struct rec *last = &h->ev[h->nev - 1];
	assert_string_equal(last->text, "a1 OK x");
	free(in);
}

static void
test_imap_literal_too_big(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	h->pp->greeted = true;
	h->pp->max_reply = 1000;
	int r = feed(h, "* 1 FETCH (BODY[] {1001}\r\nabc\r\n");
	assert_int_equal(r, MS_ECLOSED);
	assert_non_null(find_msg(h, PP_EV_ERROR, "1001 octets"));
	assert_int_equal(h->pp->inlen, 0);
	assert_int_equal(h->pp->literal, 0);
}

/*
 * An overlong line whose first PP_IN_CAP bytes happen to end like a
 * literal ("{5}") announces nothing: its real end is further on.
 */
static void
test_imap_truncated_line_no_literal(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_imap;
	size_t n = PP_IN_CAP + 100;
	char *in = malloc(n + 32);
	assert_non_null(in);
	memcpy(in, "* 1 FETCH (", 11);
	memset(in + 11, 'x', PP_IN_CAP - 11);
	memcpy(in + PP_IN_CAP - 3, "{5}", 3);
	memset(in + PP_IN_CAP, 'y', 98);
	memcpy(in + PP_IN_CAP + 98, "\r\n", 2);
	memcpy(in + n, "a1 OK done\r\n", 12);
	int r = feed_all_ways(h, prep_greeted, in, n + 12);
	assert_int_equal(r, MS_OK);
	assert_int_equal(h->pp->literal, 0);
	assert_int_equal(h->pp->replies, 1);
	const struct rec *last = &h->ev[h->nev - 1];
	assert_string_equal(last->text, "a1 OK done");
	assert_true(last->rl.last);
	free(in);
}

/* ==== pp-4: STARTTLS ==== */

static void
test_imap_starttls_ok(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	int r = feed_all_ways_str(h, prep_imap_starttls,
	    "* OK still plaintext\r\n"
	    "a0 OK other tag\r\n"
	    "a1 OK begin TLS now\r\n"
	    "* OK injected\r\n"
	    "a2 OK injected too");
	assert_int_equal(r, PP_UPGRADE);
	check_tr(h,
	    "RU+ * OK still plaintext\n"
	    "RS+$[a0] a0 OK other tag\n"
	    "RS+$^[a1] a1 OK begin TLS now");
	assert_false(pp->starttls);
	static const char rest[] = "* OK injected\r\na2 OK injected too";
	assert_int_equal(pp->inlen, sizeof(rest) - 1);
	assert_memory_equal(pp->in, rest, sizeof(rest) - 1);
}

static void
test_imap_starttls_via_send(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	pp->greeted = true;
	struct pp_sinfo si = classify(pp, "A7 STARTTLS");
	assert_true(si.starttls);
	assert_false(pp->starttls);		/* classify changes nothing */
	assert_string_equal(pp->tag, "");
	si = fake_send(pp, "A7 STARTTLS");
	assert_true(si.starttls);
	assert_true(pp->starttls);
	assert_string_equal(pp->tag, "A7");
	/* the tag is matched without regard to case */
	assert_int_equal(feed(h, "a7 OK go\r\nX"), PP_UPGRADE);
	assert_int_equal(pp->inlen, 1);
	/* no tag: not a STARTTLS command */
	si = classify(pp, "STARTTLS");
	assert_false(si.starttls);
}

static void
test_imap_starttls_no(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	int r = feed_all_ways_str(h, prep_imap_starttls,
	    "a1 NO not now\r\n* OK later\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS-$![a1] a1 NO not now\n"
	    "!warn\n"
	    "RU+ * OK later");
	assert_non_null(find_msg(h, PP_EV_WARN, "refused the upgrade"));
	assert_false(pp->starttls);
	assert_int_equal(pp->inlen, 0);
	/* BAD refuses too */
	struct h *g = h_new(&proto_imap);
	prep_imap_starttls(g->pp);
	assert_int_equal(feed(g, "a1 BAD no\r\n"), MS_OK);
	check_tr(g, "RS-$![a1] a1 BAD no\n!warn");
	h_free(g);
}

static void
test_smtp_starttls(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, prep_smtp_starttls,
	    "220 2.0.0 Ready to start TLS\r\n"
	    "250-injected\r\n250 AUTH PLAIN\r\n");
	assert_int_equal(r, PP_UPGRADE);
	check_tr(h, "RS+$^ 220 2.0.0 Ready to start TLS");
	static const char rest[] = "250-injected\r\n250 AUTH PLAIN\r\n";
	assert_int_equal(pp->inlen, sizeof(rest) - 1);
	assert_memory_equal(pp->in, rest, sizeof(rest) - 1);
	assert_false(pp->starttls);

	/* the go-ahead split across feeds: the rest of the second feed
	 * stays in pp->in */
	struct h *g = h_new(&proto_smtp);
	prep_smtp_starttls(g->pp);
	assert_int_equal(feed(g, "220 go"), MS_OK);
	assert_int_equal(feed(g, " ahead\r\nINJ"), PP_UPGRADE);
	assert_int_equal(g->pp->inlen, 3);
	assert_memory_equal(g->pp->in, "INJ", 3);
	h_free(g);

	/* a multi-line 220 is a go-ahead once complete */
	g = h_new(&proto_smtp);
	prep_smtp_starttls(g->pp);
	assert_int_equal(feed(g, "220-wait\r\n220 go\r\n"), PP_UPGRADE);
	check_tr(g, "RS+ 220-wait\nRS+$^ 220 go");
	h_free(g);
}

static void
test_smtp_starttls_refused(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	int r = feed_all_ways_str(h, prep_smtp_starttls,
	    "454 4.7.0 TLS not available\r\n250 ok\r\n");
	assert_int_equal(r, MS_OK);
	check_tr(h,
	    "RS-$! 454 4.7.0 TLS not available\n"
	    "!warn\n"
	    "RS+$ 250 ok");
	assert_false(pp->starttls);
	assert_int_equal(pp->inlen, 0);
}

static void
test_pop3_stls(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_pop3;
	int r = feed_all_ways_str(h, prep_pop3_stls,
	    "+OK begin TLS\r\n+OK injected\r\n");
	assert_int_equal(r, PP_UPGRADE);
	check_tr(h, "RS+$^ +OK begin TLS");
	assert_int_equal(pp->inlen, 14);
	assert_memory_equal(pp->in, "+OK injected\r\n", 14);

	struct h *g = h_new(&proto_pop3);
	prep_pop3_stls(g->pp);
	assert_int_equal(feed(g, "-ERR no TLS\r\n"), MS_OK);
	check_tr(g, "RS-$! -ERR no TLS\n!warn");
	assert_false(g->pp->starttls);
	h_free(g);
}

/* ==== pp-5: greeting detection ==== */

static void
test_greeting_detect(void **state)
{
	struct h *h = *state;
	struct {
		const char *greeting;
		const struct pp_proto *want;
	} cases[] = {
		{ "+OK POP3 server ready\r\n", &proto_pop3 },
		{ "* OK IMAP4rev1 ready\r\n", &proto_imap },
		{ "* PREAUTH hi\r\n", &proto_imap },
		{ "220 mx ESMTP\r\n", &proto_smtp },
		{ "220-mx ESMTP\r\n", &proto_smtp },
		{ "554 go away\r\n", &proto_smtp },
	};
	(void)h;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* not known yet */
		struct h *g = h_new(NULL);
		assert_int_equal(feed(g, cases[i].greeting), MS_OK);
		assert_ptr_equal(g->pp->proto, cases[i].want);
		assert_non_null(find_msg(g, PP_EV_NOTE, "the greeting is"));
		assert_true(g->ev[1].rl.greeting);
		h_free(g);
		/* guessed from the port, the wrong one */
		const struct pp_proto *wrong = cases[i].want == &proto_smtp
		    ? &proto_imap : &proto_smtp;
		g = h_new(wrong);
		g->pp->guessed = true;
		assert_int_equal(feed(g, cases[i].greeting), MS_OK);
		assert_ptr_equal(g->pp->proto, cases[i].want);
		assert_non_null(find_msg(g, PP_EV_NOTE, "switching"));
		h_free(g);
		/* guessed right: nothing said */
		g = h_new(cases[i].want);
		g->pp->guessed = true;
		assert_int_equal(feed(g, cases[i].greeting), MS_OK);
		assert_ptr_equal(g->pp->proto, cases[i].want);
		assert_int_equal(count_kind(g, PP_EV_NOTE), 0);
		h_free(g);
		/* set by the user: kept */
		g = h_new(wrong);
		assert_int_equal(feed(g, cases[i].greeting), MS_OK);
		assert_ptr_equal(g->pp->proto, wrong);
		assert_int_equal(count_kind(g, PP_EV_NOTE), 0);
		h_free(g);
	}
}

static void
test_greeting_unknown(void **state)
{
	struct h *h = *state;
	assert_int_equal(feed(h, "SSH-2.0-OpenSSH_9.2\r\nline two\r\n"),
	    MS_OK);
	assert_null(h->pp->proto);
	check_tr(h, "!warn\nRB$g SSH-2.0-OpenSSH_9.2\nRB$ line two");
	assert_non_null(find_msg(h, PP_EV_WARN, "not recognised"));
	/* later lines do not pick a protocol any more */
	assert_int_equal(feed(h, "220 late\r\n"), MS_OK);
	assert_null(h->pp->proto);
}

/* After the greeting, a line that looks like another greeting does
 * not switch a guessed protocol. */
static void
test_greeting_only_first(void **state)
{
	struct h *h = *state;
	h->pp->proto = &proto_smtp;
	h->pp->guessed = true;
	assert_int_equal(feed(h, "220 mx\r\n+OK x\r\n* OK y\r\n"), MS_OK);
	assert_ptr_equal(h->pp->proto, &proto_smtp);
}

/* ==== pp-6: the send side ==== */

static void
test_smtp_data(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	pp->greeted = true;
	struct pp_sinfo si = fake_send(pp, "MAIL FROM:<a@example.org>");
	assert_true(si.expect_reply);
	assert_false(si.data);
	/* DATA sent before MAIL's reply (pipelined): that reply is not
	 * the DATA's */
	fake_send(pp, "DATA");
	assert_false(pp->ps.data_sent);
	assert_int_equal(feed(h, "250 sender ok\r\n"), MS_OK);
	assert_false(pp->in_data);
	assert_true(pp->ps.data_sent);
	assert_false(pp->in_data);
	assert_int_equal(feed(h, "354 End data with <CR><LF>.<CR><LF>\r\n"),
	    MS_OK);
	assert_true(pp->in_data);
	assert_false(pp->ps.data_sent);

	si = classify(pp, "Subject: hi");
	assert_true(si.data);
	assert_false(si.expect_reply);
	assert_false(si.stuff);
	si = classify(pp, ".x");
	assert_true(si.stuff);
	assert_true(si.data);
	si = classify(pp, "..");
	assert_true(si.stuff);
	si = classify(pp, "");
	assert_true(si.data);
	assert_false(si.stuff);
	/* words that mean something outside DATA are text here */
	si = classify(pp, "QUIT");
	assert_false(si.quit);
	assert_true(si.data);
	si = classify(pp, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	assert_false(si.secret);
	si = classify(pp, "STARTTLS");
	assert_false(si.starttls);
	/* the lone dot ends the text and is answered */
	si = classify(pp, ".");
	assert_false(si.data);
	assert_false(si.stuff);
	assert_true(si.expect_reply);
	assert_true(pp->in_data);		/* classify changed nothing */
	si = classify(pp, ".\r");		/* trailing CR dropped */
	assert_false(si.data);
	assert_false(si.stuff);
	si = fake_send(pp, ".");
	assert_false(pp->in_data);
	assert_int_equal(feed(h, "250 queued\r\n"), MS_OK);
	si = classify(pp, ".x");		/* no longer in DATA */
	assert_false(si.stuff);
	assert_false(si.data);
}

static void
test_smtp_data_refused(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	pp->greeted = true;
	fake_send(pp, "data");
	assert_int_equal(feed(h, "554 no valid recipients\r\n"), MS_OK);
	assert_false(pp->in_data);
	assert_false(pp->ps.data_sent);
	struct pp_sinfo si = classify(pp, ".x");
	assert_false(si.stuff);
	/* a multi-line 354 counts once complete */
	fake_send(pp, "DATA");
	assert_int_equal(feed(h, "354-go\r\n"), MS_OK);
	assert_false(pp->in_data);
	assert_int_equal(feed(h, "354 on\r\n"), MS_OK);
	assert_true(pp->in_data);
}

static void
test_send_trailing_cr(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_pop3;
	struct pp_sinfo si = classify(pp, "PASS secret\r");
	assert_true(si.secret);
	assert_int_equal(si.keep, 5);
	si = classify(pp, "QUIT\r");
	assert_true(si.quit);
	si = classify(pp, "LIST\r");		/* "LIST" alone: multi-line */
	assert_false(si.secret);
	pp->proto = &proto_imap;
	si = classify(pp, "a1 STARTTLS\r");
	assert_true(si.starttls);
	/* only one CR is dropped; "\r" alone becomes an empty line */
	si = classify(pp, "\r");
	assert_true(si.expect_reply);
}

static void
test_redact_pop3(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_pop3;
	pp->greeted = true;
	struct pp_sinfo si = classify(pp, "USER alice");
	assert_false(si.secret);
	si = classify(pp, "PASS s3cret pass");
	assert_true(si.secret);
	assert_int_equal(si.keep, 5);			/* "PASS " */
	si = classify(pp, "pass x");
	assert_true(si.secret);
	si = classify(pp, "APOP mrose c4c9334bac560ecc979e58001b3e22fb");
	assert_true(si.secret);
	assert_int_equal(si.keep, 11);			/* "APOP mrose " */
	assert_int_equal(si.cred, PP_CRED_DIGEST);
	si = classify(pp, "PASS s3cret");
	assert_int_equal(si.cred, PP_CRED_CLEAR);
	si = classify(pp, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 11);			/* "AUTH PLAIN " */
	assert_false(pp->sasl);

	/* SASL without an initial response: the answers are secret */
	si = fake_send(pp, "AUTH PLAIN");
	assert_false(si.secret);
	assert_true(pp->sasl);
	assert_int_equal(feed(h, "+ \r\n"), MS_OK);
	assert_true(pp->challenged);
	si = classify(pp, "AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 0);
	fake_send(pp, "AGFsaWNlAHNlY3JldA==");
	assert_int_equal(feed(h, "+OK logged in\r\n"), MS_OK);
	assert_false(pp->sasl);
	assert_false(pp->challenged);
	si = classify(pp, "STAT");
	assert_false(si.secret);
}

static void
test_redact_smtp(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	pp->greeted = true;
	struct pp_sinfo si = classify(pp,
	    "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 11);
	si = classify(pp, "auth  plain  AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 13);
	si = classify(pp, "EHLO me");
	assert_false(si.secret);

	/* AUTH LOGIN: two 334 challenges, both answers secret */
	si = fake_send(pp, "AUTH LOGIN");
	assert_false(si.secret);
	assert_true(pp->sasl);
	assert_int_equal(feed(h, "334 VXNlcm5hbWU6\r\n"), MS_OK);
	assert_true(pp->challenged);
	si = fake_send(pp, "YWxpY2U=");
	assert_true(si.secret);
	assert_int_equal(si.keep, 0);
	assert_int_equal(feed(h, "334 UGFzc3dvcmQ6\r\n"), MS_OK);
	si = fake_send(pp, "c2VjcmV0");
	assert_true(si.secret);
	assert_int_equal(feed(h, "235 2.7.0 ok\r\n"), MS_OK);
	assert_false(pp->sasl);
	assert_false(pp->challenged);
	si = classify(pp, "MAIL FROM:<a@b>");
	assert_false(si.secret);

	/* "*" cancels and the empty answer carries nothing: both shown */
	fake_send(pp, "AUTH CRAM-MD5");
	assert_int_equal(feed(h, "334 PDQ3MTFAZXhhbXBsZS5vcmc+\r\n"), MS_OK);
	si = classify(pp, "*");
	assert_false(si.secret);
	assert_true(si.sync);
	si = classify(pp, "");
	assert_false(si.secret);
	si = classify(pp, "**");
	assert_true(si.secret);
	fake_send(pp, "*");
	assert_int_equal(feed(h, "501 5.7.0 cancelled\r\n"), MS_OK);
	assert_false(pp->sasl);

	/* a 334 outside AUTH does not make the next line a secret */
	assert_int_equal(feed(h, "334 odd\r\n"), MS_OK);
	si = classify(pp, "NOOP");
	assert_false(si.secret);
	/* AUTH refused: no longer in SASL */
	fake_send(pp, "AUTH CRAM-MD5");
	assert_int_equal(feed(h, "504 5.5.4 unrecognized\r\n"), MS_OK);
	assert_false(pp->sasl);
}

static void
test_redact_imap(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	pp->greeted = true;
	struct pp_sinfo si = classify(pp, "a1 LOGIN alice secret");
	assert_true(si.secret);
	assert_int_equal(si.keep, 15);		/* "a1 LOGIN alice " */
	si = classify(pp, "a1 login alice \"se cret\"");
	assert_true(si.secret);
	assert_int_equal(si.keep, 15);
	/* no password: nothing secret, the user name stays visible */
	si = classify(pp, "a1 LOGIN alice");
	assert_false(si.secret);
	si = classify(pp, "a1 LOGIN");
	assert_false(si.secret);
	assert_int_equal(si.cred, PP_CRED_NONE);
	si = classify(pp, "a1 LOGIN alice secret");
	assert_int_equal(si.cred, PP_CRED_CLEAR);
	/* typed without a tag, the password still leaves: hidden */
	si = classify(pp, "login alice secret");
	assert_true(si.secret);
	assert_int_equal(si.keep, 12);		/* "login alice " */
	assert_int_equal(si.cred, PP_CRED_CLEAR);
	si = classify(pp, "login alice");
	assert_false(si.secret);
	si = classify(pp, "a1 SELECT INBOX");
	assert_false(si.secret);
	si = classify(pp, "a2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 22);
	assert_int_equal(si.cred, PP_CRED_SASL);

	/* SASL with "+" challenges */
	si = fake_send(pp, "a2 AUTHENTICATE PLAIN");
	assert_false(si.secret);
	assert_true(pp->sasl);
	assert_int_equal(feed(h, "+ \r\n"), MS_OK);
	si = fake_send(pp, "AGFsaWNlAHNlY3JldA==");
	assert_true(si.secret);
	assert_int_equal(si.keep, 0);
	assert_int_equal(feed(h, "a2 OK done\r\n"), MS_OK);
	assert_false(pp->sasl);
	si = classify(pp, "a3 NOOP");
	assert_false(si.secret);
}

static void
test_redact_imap_literal_password(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	pp->greeted = true;
	struct pp_sinfo si = fake_send(pp, "a1 LOGIN alice {6}");
	assert_true(si.secret);
	assert_int_equal(si.keep, 15);
	assert_true(si.expect_reply);		/* waits for "+" */
	assert_false(si.data);
	assert_int_equal(pp->ps.client_literal, 6);
	assert_int_equal(feed(h, "+ Ready for literal data\r\n"), MS_OK);
	si = classify(pp, "secret");
	assert_true(si.secret);
	assert_int_equal(si.keep, 0);
	assert_true(si.expect_reply);		/* the command ends here */
	si = fake_send(pp, "secret");
	assert_int_equal(pp->ps.client_literal, 0);
	assert_int_equal(feed(h, "a1 OK logged in\r\n"), MS_OK);
	si = classify(pp, "a2 SELECT INBOX");
	assert_false(si.secret);

	/* user name and password both literals: all of it hidden */
	si = fake_send(pp, "a3 LOGIN {5}");
	assert_true(si.secret);
	assert_int_equal(si.keep, 9);
	si = fake_send(pp, "alice {6+}");
	assert_true(si.secret);
	assert_false(si.expect_reply);		/* LITERAL+: no wait */
	si = fake_send(pp, "secret");
	assert_true(si.secret);
	assert_true(si.expect_reply);
	assert_int_equal(pp->ps.client_literal, 0);
}

static void
test_quit(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	assert_true(classify(pp, "QUIT").quit);
	assert_true(classify(pp, "quit").quit);
	assert_false(classify(pp, "QUITE").quit);
	assert_false(pp->quit_sent);
	fake_send(pp, "QUIT");
	assert_true(pp->quit_sent);
	pp->quit_sent = false;
	pp->proto = &proto_pop3;
	assert_true(classify(pp, "QUIT").quit);
	assert_false(classify(pp, "NOOP").quit);
	pp->proto = &proto_imap;
	assert_true(classify(pp, "a9 LOGOUT").quit);
	assert_true(classify(pp, "a9 logout").quit);
	assert_false(classify(pp, "LOGOUT").quit);	/* no tag */
	assert_false(classify(pp, "a9 QUIT").quit);
	pp->proto = NULL;			/* unknown: nothing known */
	struct pp_sinfo si = classify(pp, "QUIT");
	assert_false(si.quit);
	assert_true(si.expect_reply);
}

static void
test_imap_client_literals(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	pp->greeted = true;
	/* {12} = "hello\r\n" (7) + "abc" (3) + CRLF (2): the CRLF after
	 * "abc" is inside the literal, so an empty line ends the command */
	struct pp_sinfo si = fake_send(pp, "a1 APPEND INBOX {12}");
	assert_true(si.expect_reply);		/* waits for "+" */
	assert_false(si.data);
	assert_true(pp->ps.literal_sync);
	assert_int_equal(pp->ps.client_literal, 12);
	assert_int_equal(feed(h, "+ go ahead\r\n"), MS_OK);
	si = fake_send(pp, "hello");
	assert_true(si.data);
	assert_false(si.expect_reply);
	assert_false(si.secret);
	assert_int_equal(pp->ps.client_literal, 5);
	si = fake_send(pp, "abc");
	assert_true(si.data);
	assert_false(si.expect_reply);
	assert_int_equal(pp->ps.client_literal, 0);
	si = fake_send(pp, "");
	assert_true(si.expect_reply);
	assert_false(si.data);

	/* {10}: the literal ends inside the last line typed */
	si = fake_send(pp, "a2 APPEND INBOX {10}");
	si = fake_send(pp, "hello");
	assert_int_equal(pp->ps.client_literal, 3);
	si = fake_send(pp, "abc");
	assert_int_equal(pp->ps.client_literal, 0);
	assert_true(si.expect_reply);
	assert_false(si.data);

	/* {n+}: no wait */
	si = fake_send(pp, "a3 APPEND INBOX {5+}");
	assert_false(si.expect_reply);
	assert_true(si.data);
	assert_false(pp->ps.literal_sync);
	si = fake_send(pp, "hello");
	assert_true(si.expect_reply);
	assert_false(si.data);
	assert_int_equal(pp->ps.client_literal, 0);

	/* {0+}: nothing to wait for, nothing to send */
	si = classify(pp, "a4 APPEND INBOX {0+}");
	assert_false(si.expect_reply);

	/* a literal, then more of the command with another literal */
	si = fake_send(pp, "a5 LIST {1}");
	assert_true(si.expect_reply);
	si = fake_send(pp, "x {2}");
	assert_true(si.expect_reply);
	assert_int_equal(pp->ps.client_literal, 2);
	assert_true(pp->ps.literal_sync);
	si = fake_send(pp, "*%");
	assert_int_equal(pp->ps.client_literal, 0);
	assert_true(si.expect_reply);

	/* the server refuses the literal: counting stops */
	si = fake_send(pp, "a6 APPEND INBOX {99}");
	assert_int_equal(pp->ps.client_literal, 99);
	assert_int_equal(feed(h, "a6 NO too big\r\n"), MS_OK);
	assert_int_equal(pp->ps.client_literal, 0);
	si = classify(pp, "a7 LOGOUT");
	assert_true(si.quit);
	assert_false(si.data);
}

/* pp_classify_send never changes the session, whatever the line. */
static void
test_classify_keeps_state(void **state)
{
	struct h *h = *state;
	static const char *const lines[] = {
		"DATA", "AUTH PLAIN", "AUTH LOGIN x", "STARTTLS", "QUIT",
		"a1 STARTTLS", "a1 LOGIN u {5}", "a1 APPEND x {9+}",
		"a1 AUTHENTICATE PLAIN", "a1 LOGOUT", "CAPA", "STLS",
		"LIST", "PASS x", ".", ".x", "",
	};
	const struct pp_proto *protos[] = {
		&proto_smtp, &proto_pop3, &proto_imap,
	};
	(void)h;
	for (size_t p = 0; p < 3; p++) {
		struct h *g = h_new(protos[p]);
		struct pp *pp = g->pp;
		pp->in_data = p == 0;
		pp->ps.client_literal = p == 2 ? 3 : 0;
		strcpy(pp->tag, "zz");
		struct pp before = *pp;
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]);
		    i++) {
			struct pp_sinfo si;
			pp_classify_send(pp, lines[i], strlen(lines[i]), &si);
			assert_true(pp->in_data == before.in_data);
			assert_true(pp->sasl == before.sasl);
			assert_true(pp->starttls == before.starttls);
			assert_true(pp->quit_sent == before.quit_sent);
			assert_true(pp->awaiting == before.awaiting);
			assert_string_equal(pp->tag, before.tag);
			assert_true(pp->ps.data_sent == before.ps.data_sent);
			assert_true(pp->ps.expect_multi ==
			    before.ps.expect_multi);
			assert_true(pp->ps.client_literal ==
			    before.ps.client_literal);
			assert_true(pp->ps.secret_literal ==
			    before.ps.secret_literal);
			assert_true(pp->ps.literal_sync ==
			    before.ps.literal_sync);
		}
		h_free(g);
	}
}

/* ==== pp-6b: pp_send and pp_input over a socketpair ==== */

/* Gives the engine one end of a socketpair; returns the other. */
static int
connect_pair(struct pp *pp)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pp->conn.fd = sv[0];
	pp->conn.timeout_ms = 2000;
	snprintf(pp->conn.host, sizeof(pp->conn.host), "localhost");
	snprintf(pp->conn.port, sizeof(pp->conn.port), "25");
	return sv[1];
}

/* Reads what the engine wrote (it has all arrived: same process). */
static size_t
peer_read(int fd, char *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static void
test_send_wire(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	int peer = connect_pair(pp);
	char buf[256];

	/* not connected: usage error, nothing sent */
	struct h *g = h_new(&proto_smtp);
	assert_int_equal(pp_send(g->pp, "NOOP", 4, NULL), MS_EUSAGE);
	assert_int_equal(count_kind(g, PP_EV_ERROR), 1);
	h_free(g);

	struct pp_sinfo si;
	pp->greeted = true;	/* replies now answer commands, in order */
	assert_int_equal(pp_send(pp, "EHLO me\r", 8, &si), MS_OK);
	assert_int_equal(peer_read(peer, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "EHLO me\r\n");
	assert_true(pp->awaiting);
	assert_int_equal(feed(h, "250 ok\r\n"), MS_OK);

	assert_int_equal(pp_send(pp, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", 31,
	    &si), MS_OK);
	assert_true(si.secret);
	peer_read(peer, buf, sizeof(buf));
	assert_string_equal(buf, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
	const struct rec *sent = &h->ev[h->nev - 1];
	assert_int_equal(sent->kind, PP_EV_SEND);
	assert_true(sent->redacted);
	assert_string_equal(sent->text, "AUTH PLAIN ********");
	assert_int_equal(feed(h, "235 ok\r\n"), MS_OK);

	/* DATA: text lines are buffered until the lone dot */
	pp_send(pp, "DATA", 4, NULL);
	peer_read(peer, buf, sizeof(buf));
	assert_int_equal(feed(h, "354 go\r\n"), MS_OK);
	assert_int_equal(pp_send(pp, "Subject: x", 10, &si), MS_OK);
	assert_int_equal(pp_send(pp, ".leading dot", 12, &si), MS_OK);
	assert_true(si.stuff);
	assert_non_null(find_msg(h, PP_EV_NOTE, "dot-stuffing"));
	assert_int_equal(pp_send(pp, ".", 1, &si), MS_OK);
	peer_read(peer, buf, sizeof(buf));
	assert_string_equal(buf, "Subject: x\r\n..leading dot\r\n.\r\n");
	assert_false(pp->in_data);

	assert_int_equal(pp_send(pp, "QUIT", 4, &si), MS_OK);
	assert_true(pp->quit_sent);
	close(peer);
}

static void
test_send_wire_imap_login(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_imap;
	pp->greeted = true;
	int peer = connect_pair(pp);
	char buf[256];
	assert_int_equal(pp_send(pp, "a1 LOGIN alice secret", 21, NULL),
	    MS_OK);
	const struct rec *sent = &h->ev[h->nev - 1];
	assert_string_equal(sent->text, "a1 LOGIN alice ********");
	assert_true(sent->redacted);
	peer_read(peer, buf, sizeof(buf));
	assert_string_equal(buf, "a1 LOGIN alice secret\r\n");
	/* the shown part is capped at PP_TAG_MAX bytes */
	char line[200];
	memset(line, 'u', sizeof(line));
	memcpy(line, "a2 LOGIN ", 9);
	memcpy(line + 150, " pw", 3);
	assert_int_equal(pp_send(pp, line, 153, NULL), MS_OK);
	sent = &h->ev[h->nev - 1];
	assert_int_equal(sent->len, PP_TAG_MAX + 8);
	assert_memory_equal(sent->text + PP_TAG_MAX, "********", 8);
	close(peer);
}

/* The connection ends in the middle of a reply. */
static void
test_input_eof_mid_reply(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	int peer = connect_pair(pp);
	const char *s = "220 hi\r\n250-part\r\n250 cut";
	assert_int_equal(send(peer, s, strlen(s), 0), (ssize_t)strlen(s));
	close(peer);
	assert_int_equal(pp_input(pp), MS_ECLOSED);
	assert_false(pp_connected(pp));
	check_tr(h,
	    "RS+$g 220 hi\n"
	    "RS+ 250-part\n"
	    "RB 250 cut\n"
	    "!error\n"
	    "!close");
	assert_non_null(find_msg(h, PP_EV_ERROR, "middle of a reply"));
	assert_false(pp->close_expected);
}

static void
test_input_line_limit_closes(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	pp->greeted = true;
	int peer = connect_pair(pp);
	size_t n;
	char *in = smtp_lines(PP_SMTP_LINES_MAX + 5, &n);
	assert_int_equal(pp_feed(pp, in, n), MS_ECLOSED);
	assert_false(pp_connected(pp));
	assert_int_equal(count_kind(h, PP_EV_CLOSE), 1);
	assert_int_equal(pp->reply_lines, 0);	/* session forgotten */
	assert_int_equal(pp->inlen, 0);
	free(in);
	close(peer);
}

/* A STARTTLS go-ahead followed by plaintext: the plaintext is shown
 * as injected and dropped, never parsed; the handshake then fails
 * because the peer says nothing more. */
static void
test_input_starttls_injection(void **state)
{
	struct h *h = *state;
	struct pp *pp = h->pp;
	pp->proto = &proto_smtp;
	pp->greeted = true;
	int peer = connect_pair(pp);
	fake_send(pp, "STARTTLS");
	const char *s = "220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n";
	assert_int_equal(send(peer, s, strlen(s), 0), (ssize_t)strlen(s));
	shutdown(peer, SHUT_WR);
	enum ms_err r = pp_input(pp);
	assert_int_equal(r, MS_ETLS);
	assert_false(pp_connected(pp));
	assert_int_equal(count_kind(h, PP_EV_RECV), 1);
	assert_int_equal(count_kind(h, PP_EV_INJECT), 2);
	assert_non_null(find_msg(h, PP_EV_WARN, "26 bytes arrived in "
	    "plaintext"));
	size_t k = 0;
	for (size_t i = 0; i < h->nev; i++) {
		if (h->ev[i].kind != PP_EV_INJECT)
			continue;
		assert_string_equal(h->ev[i].text,
		    k++ == 0 ? "250-evil" : "250 AUTH PLAIN");
		assert_false(h->ev[i].tls);
	}
	close(peer);
}

/* ==== pp-7: helpers, ports and names ==== */

static void
lit_is(const char *s, bool ok, uint64_t oct, bool sync)
{
	uint64_t o = 12345;
	bool sy = !sync;
	bool r = pp_line_has_literal(s, strlen(s), &o, &sy);
	if (r != ok)
		fail_msg("pp_line_has_literal(\"%s\") = %d", s, r);
	if (ok) {
		assert_int_equal(o, oct);
		assert_true(sy == sync);
	}
}

static void
test_line_has_literal(void **state)
{
	(void)state;
	lit_is("{5}", true, 5, true);
	lit_is("* 1 FETCH (BODY[] {120}", true, 120, true);
	lit_is("a1 APPEND x {5+}", true, 5, false);
	lit_is("~{7}", true, 7, true);
	lit_is("{0}", true, 0, true);
	lit_is("{007}", true, 7, true);
	lit_is("{9999999999999999999}", true, 9999999999999999999ull,
	    true);				/* 19 digits: the most */
	lit_is("{18446744073709551615}", false, 0, false); /* 20 digits */
	lit_is("{99999999999999999999999}", false, 0, false);
	lit_is("{}", false, 0, false);
	lit_is("x{}", false, 0, false);
	lit_is("{+}", false, 0, false);
	lit_is("x{+}", false, 0, false);
	lit_is("{5", false, 0, false);
	lit_is("5}", false, 0, false);
	lit_is("55}", false, 0, false);
	lit_is("}", false, 0, false);
	lit_is("", false, 0, false);
	lit_is("{a5}", false, 0, false);
	lit_is("{5a}", false, 0, false);
	lit_is("{ 5}", false, 0, false);
	lit_is("{5}\r", false, 0, false);	/* the caller strips CR */
	lit_is("{5} ", false, 0, false);
	lit_is("{5++}", false, 0, false);
	lit_is("{+5}", false, 0, false);
	/* RFC 7888: LITERAL- uses "{n+}" too; "{n-}" is no literal */
	lit_is("{5-}", false, 0, false);
	lit_is("* OK [ALERT] quota {5-}", false, 0, false);
	/* only n bytes count */
	assert_false(pp_line_has_literal("{5}", 2, &(uint64_t){0},
	    &(bool){false}));
}

static void
test_unstuff(void **state)
{
	(void)state;
	const char *s = "..x";
	size_t n = 3;
	pp_unstuff(&s, &n);
	assert_int_equal(n, 2);
	assert_memory_equal(s, ".x", 2);
	s = "..";
	n = 2;
	pp_unstuff(&s, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(s, ".", 1);
	s = ".";
	n = 1;
	pp_unstuff(&s, &n);
	assert_int_equal(n, 1);
	s = ".x";		/* RFC 1939 3: any leading dot was added */
	n = 2;
	pp_unstuff(&s, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(s, "x", 1);
	s = "";
	n = 0;
	pp_unstuff(&s, &n);
	assert_int_equal(n, 0);
}

static void
test_ports_and_names(void **state)
{
	(void)state;
	bool tls = true;
	assert_ptr_equal(pp_proto_for_port(25, &tls), &proto_smtp);
	assert_false(tls);
	assert_ptr_equal(pp_proto_for_port(587, &tls), &proto_smtp);
	assert_ptr_equal(pp_proto_for_port(465, &tls), &proto_smtp);
	assert_true(tls);
	assert_ptr_equal(pp_proto_for_port(110, &tls), &proto_pop3);
	assert_false(tls);
	assert_ptr_equal(pp_proto_for_port(995, &tls), &proto_pop3);
	assert_true(tls);
	assert_ptr_equal(pp_proto_for_port(143, &tls), &proto_imap);
	assert_false(tls);
	assert_ptr_equal(pp_proto_for_port(993, &tls), &proto_imap);
	assert_true(tls);
	assert_null(pp_proto_for_port(80, &tls));
	assert_false(tls);
	assert_null(pp_proto_for_port(0, &tls));
	assert_ptr_equal(pp_proto_by_name("SMTP"), &proto_smtp);
	assert_ptr_equal(pp_proto_by_name("pop3"), &proto_pop3);
	assert_ptr_equal(pp_proto_by_name("Imap"), &proto_imap);
	assert_null(pp_proto_by_name("pop"));
	assert_null(pp_proto_by_name(""));
	/* each table is complete and its ports are its own */
	const struct pp_proto *all[] = {
		&proto_smtp, &proto_pop3, &proto_imap,
	};
	for (size_t i = 0; i < 3; i++) {
		const struct pp_proto *p = all[i];
		assert_non_null(p->recv);
		assert_non_null(p->send);
		assert_non_null(p->is_greeting);
		assert_non_null(p->verbs);
		assert_non_null(p->starttls_verb);
		assert_ptr_equal(pp_proto_for_port(p->default_port, &tls),
		    p);
		assert_false(tls);
		assert_ptr_equal(pp_proto_for_port(p->default_tls_port,
		    &tls), p);
		assert_true(tls);
		/* the STARTTLS verb is among the verbs */
		bool found = false;
		for (const char *const *v = p->verbs; *v; v++)
			found |= strcmp(*v, p->starttls_verb) == 0;
		assert_true(found);
	}
}

/* pp-8: the TLS options main.c and config.c check before connecting */
static void
test_tls_opts(void **state)
{
	(void)state;
	assert_int_equal(conn_tls_version_parse("1.0"), TLS1_VERSION);
	assert_int_equal(conn_tls_version_parse("1.1"), TLS1_1_VERSION);
	assert_int_equal(conn_tls_version_parse("1.2"), TLS1_2_VERSION);
	assert_int_equal(conn_tls_version_parse("1.3"), TLS1_3_VERSION);
	static const char *const bad[] = { "", "1", "1.4", "TLSv1.2",
	    "1.2 ", "SSLv3", "3.0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conn_tls_version_parse(bad[i]), 0);

	struct tls_opts o = { 0 };
	assert_int_equal(conn_tls_opts_check(&o), TLS_OPT_OK);
	assert_false(conn_tls_opts_legacy(&o));
	o.min_version = TLS1_3_VERSION;
	o.max_version = TLS1_2_VERSION;
	assert_int_equal(conn_tls_opts_check(&o), TLS_OPT_RANGE);
	o.min_version = TLS1_2_VERSION;
	assert_int_equal(conn_tls_opts_check(&o), TLS_OPT_OK);
	assert_false(conn_tls_opts_legacy(&o));
	o.max_version = TLS1_1_VERSION;
	assert_int_equal(conn_tls_opts_check(&o), TLS_OPT_RANGE);
	o.min_version = 0;
	assert_int_equal(conn_tls_opts_check(&o), TLS_OPT_OK);
	assert_true(conn_tls_opts_legacy(&o));	/* max below 1.2 */
	o.max_version = 0;
	o.min_version = TLS1_VERSION;
	assert_true(conn_tls_opts_legacy(&o));	/* min below 1.2 */

	struct tls_opts c = { .ciphers = "NOPE" };
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_CIPHERS);
	c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:NOPE";	/* one known */
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_OK);
	c.ciphersuites = "TLS_NOPE";
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_CIPHERSUITES);
	c.ciphersuites = "";		/* no TLS 1.3 suite, as s_client */
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_OK);
	c.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
	c.groups = "P-999";
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_GROUPS);
	c.groups = "X25519:P-256";
	assert_int_equal(conn_tls_opts_check(&c), TLS_OPT_OK);
}

int
main(void)
{
	/* a test peer that goes away must not kill the test binary */
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_smtp_multiline),
		T(test_smtp_multiline_greeting),
		T(test_smtp_line_forms),
		T(test_smtp_bare_lf),
		T(test_smtp_binary_bytes),
		T(test_smtp_overlong_line),
		T(test_smtp_overlong_last_line),
		T(test_smtp_line_at_cap),
		T(test_smtp_line_limit),
		T(test_pop3_single_and_multi),
		T(test_pop3_retr_dot_stuffing),
		T(test_pop3_err_ends),
		T(test_pop3_line_forms),
		T(test_imap_kinds),
		T(test_imap_preauth_greeting),
		T(test_imap_literal),
		T(test_imap_literal_forms),
		T(test_imap_literal_in_status),
		T(test_imap_big_literal),
		T(test_imap_literal_too_big),
		T(test_imap_truncated_line_no_literal),
		T(test_imap_starttls_ok),
		T(test_imap_starttls_via_send),
		T(test_imap_starttls_no),
		T(test_smtp_starttls),
		T(test_smtp_starttls_refused),
		T(test_pop3_stls),
		T(test_greeting_detect),
		T(test_greeting_unknown),
		T(test_greeting_only_first),
		T(test_smtp_data),
		T(test_smtp_data_refused),
		T(test_send_trailing_cr),
		T(test_redact_pop3),
		T(test_redact_smtp),
		T(test_redact_imap),
		T(test_redact_imap_literal_password),
		T(test_quit),
		T(test_imap_client_literals),
		T(test_classify_keeps_state),
		T(test_send_wire),
		T(test_send_wire_imap_login),
		T(test_input_eof_mid_reply),
		T(test_input_line_limit_closes),
		T(test_input_starttls_injection),
		T(test_line_has_literal),
		T(test_unstuff),
		T(test_ports_and_names),
		T(test_tls_opts),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
