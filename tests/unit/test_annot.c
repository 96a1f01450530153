/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_annot.c: unit tests for the annotation layer (protocols/
 * annotate.c, smtp_annot.c, pop3_annot.c, imap_annot.c, imap_fetch.c)
 * and the IMAP data parser (imap_parse.c), without a network.
 *
 * The engine runs as in the shell: pp_init with ann_event as its emit
 * callback, pp->proto set by hand, pp_feed for what the server sends.
 * What the user types goes through pp_classify_send, ann_before_send
 * and proto->send, as pp_send would.  Every event that reaches the
 * output is collected as one line of a transcript:
 *   "S: text"  received     "C: text"  sent
 *   "= text"   explanation  "! text"   warning / error  "* text" note
 * and the tests look for exact lines in it.  TLS is faked with an SSL
 * object that never touches a socket (conn_is_tls() only asks whether
 * there is one), with pp->upgrades counted up as pp_starttls does.
 *
 * Test plan:
 *   annot-1  tables: every key of every .def table appears once (SMTP
 *            reply codes, enhanced status class / subject / subject.
 *            detail, EHLO keywords, SASL mechanisms, POP3 CAPA tags and
 *            codes, IMAP responses, codes, capabilities, FETCH items,
 *            sections, flags, mailbox attributes, STATUS items), with a
 *            text
 *   annot-2  SMTP: greeting, EHLO keywords, SIZE read out, AUTH before
 *            TLS, 334 decoded, spoofing (MAIL FROM vs AUTH user, From:
 *            vs MAIL FROM), capability diff after STARTTLS, --require-tls
 *            refusing a credential
 *   annot-3  POP3: STAT read out, USER before TLS
 *   annot-4  IMAP: LOGINDISABLED, PREAUTH on plaintext (and
 *            --require-tls, also with annotations off), [ALERT] before
 *            and after TLS, capability diff, tagged NO / BAD
 *   annot-5  IMAP FETCH: ENVELOPE positions, BODYSTRUCTURE tree (nested
 *            multipart, attached message), BODY[...] sections, UID,
 *            MODSEQ, responses spanning literals (explained once, after
 *            the last line, the same in every chunking; too long ones
 *            said so)
 *   annot-6  IMAP LIST / LSUB (attributes, names remembered, bounded),
 *            STATUS, SEARCH, FLAGS
 *   annot-7  imap_parse: every value type, escapes, sections, limits
 *            (depth, count), and clear errors on garbage
 *   annot-8  what a lecturer read against the RFCs: the plaintext
 *            password warning by kind (as typed / base64 / SASL / APOP
 *            digest), the note after a hidden credential went out in
 *            plaintext ("a1 LOGIN alice" hides nothing), POP3 [AUTH]
 *            (RFC 3206 5) and a plaintext refusal, IMAP "+" after IDLE /
 *            AUTHENTICATE / a literal, STARTTLS inside TLS, ports named
 *            by role (kept across a close), IMAP lines without a tag and
 *            the BAD that answers them, SMTP relaying refused
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "../../protocols/annotate.h"
#include "../../protocols/i18n.h"
#include "../../protocols/imap_parse.h"
#include "../../protocols/util.h"

/* ---- the harness ---- */

#define LOG_CAP (1 << 20)

struct h {
	struct pp pp;
	struct ann a;
	char log[LOG_CAP];	/* the transcript, one line per event */
	size_t len;
	int nlines;
	unsigned long recv_line;	/* the last received line's number */
	SSL_CTX *ctx;
};

/* Every message carries an id for --json (docs/json.md): dot-separated
 * parts of A-Z a-z 0-9 _ = + -, the first lowercase; a received line
 * its running number, and what explains it that number. */
static void
check_machine_fields(struct h *h, const struct pp_event *ev)
{
	if (ev->kind == PP_EV_RECV) {
		/* a test's close event without pp_open goes on counting */
		if (h->recv_line || ev->line == 1)
			assert_int_equal(ev->line, h->recv_line + 1);
		assert_true(ev->line > 0);
		h->recv_line = ev->line;
		return;
	}
	if (ev->kind == PP_EV_SEND || ev->kind == PP_EV_INJECT ||
	    ev->kind == PP_EV_CLOSE) {
		if (ev->kind == PP_EV_CLOSE)
			h->recv_line = 0;
		return;
	}
	assert_non_null(ev->id);
	const char *id = ev->id;
	assert_true(*id >= 'a' && *id <= 'z');
	bool dot = false;
	for (const char *c = id; *c; c++) {
		assert_true(isalnum((unsigned char)*c) || strchr("._=+-", *c));
		dot |= *c == '.';
		if (*c == '.')
			assert_true(c[1] && c[1] != '.');
	}
	assert_true(dot);
	assert_true(ev->line <= h->recv_line);
}

static void
collect(void *ctx, const struct pp_event *ev)
{
	struct h *h = ctx;
	const char *p;
	check_machine_fields(h, ev);
	switch (ev->kind) {
	case PP_EV_RECV: p = "S: "; break;
	case PP_EV_SEND: p = "C: "; break;
	case PP_EV_EXPLAIN: p = "= "; break;
	case PP_EV_WARN: case PP_EV_ERROR: p = "! "; break;
	default: p = "* "; break;
	}
	char line[4096];
	struct sbuf sb;
	sbuf_init(&sb, line, sizeof(line));
	sbuf_puts(&sb, p);
	show_bytes(&sb, ev->text, ev->len);
	size_t n = strlen(line);
	assert_true(h->len + n + 2 < LOG_CAP);
	memcpy(h->log + h->len, line, n);
	h->len += n;
	h->log[h->len++] = '\n';
	h->log[h->len] = '\0';
	h->nlines++;
}

static struct h *
start(const struct pp_proto *proto, enum ann_mode mode)
{
	struct h *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	pp_init(&h->pp, ann_event, &h->a);
	ann_init(&h->a, &h->pp, mode, collect, h);
	h->pp.proto = proto;
	return h;
}

static void
stop(struct h *h)
{
	if (h->pp.conn.ssl)
		SSL_free(h->pp.conn.ssl);
	h->pp.conn.ssl = NULL;
	if (h->ctx)
		SSL_CTX_free(h->ctx);
	pp_free(&h->pp);
	free(h);
}

/* From now on the connection counts as TLS, upgraded by STARTTLS. */
static void
fake_tls(struct h *h)
{
	h->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(h->ctx);
	h->pp.conn.ssl = SSL_new(h->ctx);
	assert_non_null(h->pp.conn.ssl);
	h->pp.upgrades++;
}

static void
server(struct h *h, const char *text)
{
	int r = pp_feed(&h->pp, text, strlen(text));
	assert_true(r == MS_OK || r == PP_UPGRADE);
}

/* The user types a line: what the shell does around pp_send. */
static enum ann_verdict
user(struct h *h, const char *line)
{
	size_t n = strlen(line);
	struct pp_sinfo si;
	pp_classify_send(&h->pp, line, n, &si);
	enum ann_verdict v = ann_before_send(&h->a, line, n, &si);
	if (v == ANN_REFUSE)
		return v;
	struct pp_sinfo s2;
	pp_sent(&h->pp, line, n, &s2);
	/* shown as pp_send shows it: a secret hidden behind ******** */
	char red[PP_TAG_MAX + 64];
	struct pp_event ev = { .kind = PP_EV_SEND, .text = line, .len = n,
	    .tls = conn_is_tls(&h->pp.conn) };
	if (s2.secret) {
		size_t keep = s2.keep < n ? s2.keep : n;
		if (keep > PP_TAG_MAX)
			keep = PP_TAG_MAX;
		memcpy(red, line, keep);
		memcpy(red + keep, "********", 8);
		ev.text = red;
		ev.len = keep + 8;
		ev.redacted = true;
	}
	ann_event(&h->a, &ev);
	return v;
}

/* Is this exact line in the transcript? */
static bool
has(const struct h *h, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = h->log; (p = strstr(p, line)); p++)
		if ((p == h->log || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Index of the first line starting with prefix, or -1. */
static int
line_of(const struct h *h, const char *prefix)
{
	int i = 0;
	size_t n = strlen(prefix);
	for (const char *p = h->log; *p; i++) {
		if (strncmp(p, prefix, n) == 0)
			return i;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

#define HAS(h, line) do { \
	if (!has(h, line)) { \
		print_error("missing line: %s\ntranscript:\n%s\n", line, \
		    (h)->log); \
		fail(); \
	} \
} while (0)

#define HASNT(h, line) do { \
	if (has(h, line)) { \
		print_error("unexpected line: %s\ntranscript:\n%s\n", \
		    line, (h)->log); \
		fail(); \
	} \
} while (0)

/* ---- annot-1: tables ---- */

struct key {
	char name[64];
	const char *text;
};

static void
unique(const struct key *k, size_t n, const char *table)
{
	for (size_t i = 0; i < n; i++) {
		if (!k[i].text || !k[i].text[0]) {
			print_error("%s: %s has no text\n", table, k[i].name);
			fail();
		}
		for (size_t j = i + 1; j < n; j++)
			if (strcasecmp(k[i].name, k[j].name) == 0) {
				print_error("%s: %s appears twice\n", table,
				    k[i].name);
				fail();
			}
	}
}

#define KEYS(arr) unique(arr, sizeof(arr) / sizeof(arr[0]), #arr)

static void
tables_unique(void **state)
{
	(void)state;
	static const struct key smtp_codes[] = {
#define X(c, t, r) { #c, t },
#include "../../protocols/smtp_replies.def"
#undef X
	};
	static const struct key esc_class[] = {
#define ESC_CLASS(c, t) { #c, t },
#include "../../protocols/smtp_esc.def"
#undef ESC_CLASS
	};
	static const struct key esc_subject[] = {
#define ESC_SUBJECT(c, t) { #c, t },
#include "../../protocols/smtp_esc.def"
#undef ESC_SUBJECT
	};
	static const struct key esc_detail[] = {
#define ESC_DETAIL(s, d, t, r) { #s "." #d, t },
#include "../../protocols/smtp_esc.def"
#undef ESC_DETAIL
	};
	static const struct key ehlo[] = {
#define X(k, t, r) { k, t },
#include "../../protocols/smtp_ehlo.def"
#undef X
	};
	static const struct key sasl[] = {
#define X(k, t, p, r) { k, t },
#include "../../protocols/sasl.def"
#undef X
	};
	static const struct key pop3_capa[] = {
#define CAPA(k, t, r) { k, t },
#include "../../protocols/pop3_capa.def"
#undef CAPA
	};
	static const struct key pop3_code[] = {
#define CODE(k, t, r) { k, t },
#include "../../protocols/pop3_capa.def"
#undef CODE
	};
	static const struct key imap_resp[] = {
#define RESP(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef RESP
	};
	static const struct key imap_rcode[] = {
#define RCODE(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef RCODE
	};
	static const struct key imap_cap[] = {
#define CAP(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef CAP
	};
	static const struct key imap_fetch[] = {
#define FETCH_ITEM(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef FETCH_ITEM
	};
	static const struct key imap_section[] = {
#define SECTION(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef SECTION
	};
	static const struct key imap_flag[] = {
#define FLAG(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef FLAG
	};
	static const struct key imap_mbox_attr[] = {
#define MBOX_ATTR(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef MBOX_ATTR
	};
	static const struct key imap_status[] = {
#define STATUS_ITEM(k, t, r) { k, t },
#include "../../protocols/imap_tables.def"
#undef STATUS_ITEM
	};
	KEYS(smtp_codes);
	KEYS(esc_class);
	KEYS(esc_subject);
	KEYS(esc_detail);
	KEYS(ehlo);
	KEYS(sasl);
	KEYS(pop3_capa);
	KEYS(pop3_code);
	KEYS(imap_resp);
	KEYS(imap_rcode);
	KEYS(imap_cap);
	KEYS(imap_fetch);
	KEYS(imap_section);
	KEYS(imap_flag);
	KEYS(imap_mbox_attr);
	KEYS(imap_status);
	static const struct key smtp_cmd_reply[] = {
#define CMD_REPLY(c, code, t, r) { c " " #code, t },
#include "../../protocols/smtp_replies.def"
#undef CMD_REPLY
	};
	static const struct key imap_rcode_args[] = {
#define RCODE_ARGS(k, args, id, t, r) { k " " args, t },
#include "../../protocols/imap_tables.def"
#undef RCODE_ARGS
	};
	KEYS(smtp_cmd_reply);
	KEYS(imap_rcode_args);
	/* The check itself: a duplicate is found. */
	static const struct key dup[] = { { "X.7.7", "a" }, { "x.7.7", "b" } };
	assert_true(strcasecmp(dup[0].name, dup[1].name) == 0);
}

/* ---- annot-2: SMTP ---- */

/* The spoofing warning only after a 235: a 535 or a 503 leaves nobody
 * logged in, and the user a failed AUTH named is forgotten (issue 10). */
static void
smtp_spoof_failed_auth(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	user(h, "AUTH LOGIN");
	server(h, "334 VXNlcm5hbWU6\r\n");
	user(h, "Y2Fyb2w=");			/* carol */
	server(h, "334 UGFzc3dvcmQ6\r\n");
	user(h, "d3Jvbmc=");
	server(h, "535 5.7.8 Authentication credentials invalid\r\n");
	HASNT(h, "* logged in as carol");
	user(h, "MAIL FROM:<boss@example.org>");
	assert_null(strstr(h->log, "spoofing"));
	server(h, "250 2.1.0 Ok\r\n");
	user(h, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	server(h, "503 5.5.1 Error: MAIL transaction in progress\r\n");
	user(h, "RSET");
	server(h, "250 2.0.0 Ok\r\n");
	user(h, "MAIL FROM:<boss@example.org>");
	assert_null(strstr(h->log, "spoofing"));
	server(h, "250 2.1.0 Ok\r\n");
	user(h, "RSET");
	server(h, "250 2.0.0 Ok\r\n");
	/* PLAIN answered to a 334 names the user too */
	user(h, "AUTH PLAIN");
	server(h, "334 \r\n");
	user(h, "AGRhdmUAcHc=");		/* \0dave\0pw */
	server(h, "235 2.7.0 Authentication successful\r\n");
	HAS(h, "* logged in as dave");
	user(h, "MAIL FROM:<boss@example.org>");
	HAS(h, "! MAIL FROM (boss@example.org) is not the address of the "
	    "logged-in user (dave): this is sending as someone else "
	    "(spoofing), unless the server refuses it");
	stop(h);
}

/* RFC 2047 encoded words (ENVELOPE subjects and names). */
static void
mime_words(void **state)
{
	(void)state;
	static const struct { const char *in, *out; bool dec; } t[] = {
		{ "plain text", "plain text", false },
		{ "=?UTF-8?B?R3LDvMOfZQ==?=", "Gr\xc3\xbc\xc3\x9f" "e", true },
		{ "=?iso-8859-1?q?K=F6ln_am_Rhein?=", "K\xc3\xb6ln am Rhein",
		  true },
		/* white space between two words goes, before text stays */
		{ "a =?utf-8?q?b?=  \t=?utf-8?q?c?= d", "a bc d", true },
		{ "=?utf-8*de?q?x?=", "x", true },	/* RFC 2231 language */
		{ "=?KOI8-R?B?8NLJ18XU?=", "=?KOI8-R?B?8NLJ18XU?=", false },
		{ "=?utf-8?q?bad=Z?=", "=?utf-8?q?bad=Z?=", false },
		{ "=?utf-8?x?y?=", "=?utf-8?x?y?=", false },
		{ "=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=", false },
		{ "=?utf-8?q?open", "=?utf-8?q?open", false },
		{ "=?", "=?", false },
		{ "=?utf-8?q?=1B?=", "\x1b", true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[64];
		bool dec;
		size_t n = mime_words_decode(t[i].in, strlen(t[i].in), out,
		    sizeof(out), &dec);
		assert_string_equal(out, t[i].out);
		assert_int_equal(n, strlen(t[i].out));
		assert_int_equal(dec, t[i].dec);
	}
	/* bounded: a small buffer is never overrun and stays a string */
	char small[4];
	bool dec;
	size_t n = mime_words_decode("=?utf-8?q?abcdef?= xyz", 22, small,
	    sizeof(small), &dec);
	assert_true(n < sizeof(small));
	assert_int_equal(small[n], '\0');
}

static void
smtp_ehlo_auth_size(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP Postfix\r\n");
	HAS(h, "= 220: service ready: introduce yourself with EHLO (or "
	    "HELO)");
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
	    "250 AUTH PLAIN LOGIN\r\n");
	HAS(h, "= SIZE 10240000: messages up to 10240000 bytes (9.8 MiB)");
	HAS(h, "= STARTTLS: the server can switch this connection to TLS");
	HAS(h, "=   PLAIN: user and password, only base64-encoded");
	HAS(h, "! a login is offered before TLS: a password sent now "
	    "crosses the network readable");
	/* the password is pointed out before it leaves */
	assert_int_equal(user(h, "AUTH LOGIN"), ANN_SEND);
	server(h, "334 VXNlcm5hbWU6\r\n");
	HAS(h, "= the server asks (base64-decoded): \"Username:\"; answer "
	    "in base64 (/b64 TEXT encodes), or * to cancel");
	assert_int_equal(user(h, "YWxpY2U="), ANN_CONFIRM);
	HAS(h, "! this line carries login data and the connection is NOT "
	    "encrypted: SASL LOGIN only base64-encodes it, so anyone on the "
	    "path can decode it (base64 is an encoding, not encryption)");
	server(h, "334 UGFzc3dvcmQ6\r\n");
	HAS(h, "= the server asks (base64-decoded): \"Password:\"; answer "
	    "in base64 (/b64 TEXT encodes), or * to cancel");
	stop(h);
}

static void
smtp_spoofing(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	/* "\0alice\0secret" */
	user(h, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	server(h, "235 2.7.0 Authentication successful\r\n");
	HAS(h, "* logged in as alice");
	user(h, "MAIL FROM:<boss@example.org>");
	HAS(h, "! MAIL FROM (boss@example.org) is not the address of the "
	    "logged-in user (alice): this is sending as someone else "
	    "(spoofing), unless the server refuses it");
	HAS(h, "= SMTP itself checks neither address. SPF lets the receiver "
	    "check that the MAIL FROM domain allows the sending server's "
	    "IP, DKIM signs the headers for a domain, and DMARC requires "
	    "the From: domain to match one of them");
	server(h, "250 2.1.0 Ok\r\n");
	user(h, "RCPT TO:<bob@example.org>");
	server(h, "250 2.1.5 Ok\r\n");
	user(h, "DATA");
	server(h, "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_true(h->pp.in_data);
	user(h, "From: ceo@bank.example");
	HAS(h, "! the From: header (ceo@bank.example) differs from MAIL "
	    "FROM (boss@example.org): the reader sees From:, the envelope "
	    "decides where bounces go");
	/* a From: line in the body is no header */
	user(h, "");
	int before = h->nlines;
	user(h, "From: someone@else.example");
	assert_int_equal(h->nlines, before + 1);	/* only the C: line */

	/* the logged-in user's own address is fine */
	struct h *g = start(&proto_smtp, ANN_BRIEF);
	server(g, "220 mx.example ESMTP\r\n");
	user(g, "EHLO pc.example");
	server(g, "250 mx.example\r\n");
	user(g, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	server(g, "235 2.7.0 ok\r\n");
	user(g, "MAIL FROM:<alice@example.org>");
	HASNT(g, "! MAIL FROM (alice@example.org) is not the address of "
	    "the logged-in user (alice): this is sending as someone else "
	    "(spoofing), unless the server refuses it");
	stop(g);
	stop(h);
}

static void
smtp_capability_diff(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
	user(h, "STARTTLS");
	const char *go = "220 2.0.0 Ready to start TLS\r\n";
	int r = pp_feed(&h->pp, go, strlen(go));
	assert_int_equal(r, PP_UPGRADE);
	fake_tls(h);
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250-PIPELINING\r\n"
	    "250 AUTH PLAIN LOGIN\r\n");
	/* as SMTP writes it (RFC 4954 3), not IMAP's AUTH=PLAIN */
	HAS(h, "= new after TLS: AUTH PLAIN LOGIN");
	HAS(h, "= gone after TLS: STARTTLS");
	HAS(h, "= login is offered only now, inside TLS: that is how it "
	    "should be");
	HASNT(h, "! a login is offered before TLS: a password sent now "
	    "crosses the network readable");
	/* inside TLS a credential goes without a question */
	assert_int_equal(user(h, "AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
	    ANN_SEND);
	stop(h);
}

/* Lines sent in one write (the shell's /raw) are told to the annotator
 * one by one with ann_command(), each just before its reply: a 220 that
 * answers STARTTLS is the go-ahead, a 250 that answers RSET is no
 * capability list (it used to be taken for the EHLO's, "gone after TLS:
 * PIPELINING SIZE STARTTLS"). */
static void
smtp_raw_lines(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
	    "250 STARTTLS\r\n");
	ann_command(&h->a, "STARTTLS", 8);
	struct pp_sinfo si = { .expect_reply = true };
	h->pp.proto->send(&h->pp, "STARTTLS", 8, &si);
	h->pp.starttls = si.starttls;
	h->pp.awaiting = true;
	const char *go = "220 2.0.0 Ready to start TLS\r\n";
	assert_int_equal(pp_feed(&h->pp, go, strlen(go)), PP_UPGRADE);
	HAS(h, "= 220: go ahead: the TLS handshake starts right after this "
	    "line (RFC 3207 4)");
	fake_tls(h);
	ann_command(&h->a, "RSET", 4);
	h->pp.awaiting = true;
	server(h, "250 2.0.0 Ok\r\n");
	assert_int_equal(line_of(h, "= gone after TLS"), -1);
	assert_int_equal(line_of(h, "= the capabilities are the same"), -1);
	/* the EHLO inside TLS is the one compared */
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
	    "250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
	HAS(h, "= new after TLS: AUTH PLAIN LOGIN, 8BITMIME");
	HAS(h, "= gone after TLS: STARTTLS");
	stop(h);
}

/* POP3 writes its mechanisms as CAPA does: "SASL PLAIN" (RFC 2449). */
static void
pop3_capability_diff(void **state)
{
	(void)state;
	struct h *h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK POP3 ready\r\n");
	user(h, "CAPA");
	server(h, "+OK\r\nTOP\r\nSTLS\r\n.\r\n");
	user(h, "STLS");
	const char *go = "+OK Begin TLS\r\n";
	assert_int_equal(pp_feed(&h->pp, go, strlen(go)), PP_UPGRADE);
	fake_tls(h);
	user(h, "CAPA");
	server(h, "+OK\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n");
	HAS(h, "= new after TLS: USER, SASL PLAIN LOGIN");
	HAS(h, "= gone after TLS: STLS");
	stop(h);
}

static void
smtp_require_tls(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	h->a.require_tls = true;
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250 AUTH PLAIN\r\n");
	assert_int_equal(user(h, "AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
	    ANN_REFUSE);
	HAS(h, "! --require-tls: this line carries a credential and the "
	    "connection is not encrypted: not sent");
	HASNT(h, "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	/* a refused STARTTLS is a downgrade */
	user(h, "STARTTLS");
	server(h, "454 4.7.0 TLS not available\r\n");
	HAS(h, "! --require-tls: the server refused STARTTLS, so this "
	    "session cannot be protected: closing");
	assert_int_equal(h->a.abort, MS_EDOWNGRADE);
	stop(h);
}

/* ---- annot-3: POP3 ---- */

static void
pop3_stat_capa(void **state)
{
	(void)state;
	struct h *h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK POP3 ready\r\n");
	user(h, "CAPA");
	server(h, "+OK\r\nUSER\r\nSTLS\r\n.\r\n");
	HAS(h, "= USER: login with USER and PASS (the password crosses the "
	    "wire as typed)");
	HAS(h, "! a login is offered before TLS: a password sent now "
	    "crosses the network readable");
	user(h, "STAT");
	server(h, "+OK 2 4523\r\n");
	HAS(h, "= 2 messages, 4523 octets in all");
	assert_int_equal(user(h, "USER alice"), ANN_SEND);
	server(h, "+OK\r\n");
	assert_int_equal(user(h, "PASS secret"), ANN_CONFIRM);
	stop(h);
}

/* ---- annot-4: IMAP security notes ---- */

static void
imap_logindisabled(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] "
	    "ready\r\n");
	HAS(h, "= LOGINDISABLED: LOGIN is disabled: the server answers it "
	    "with NO (here because the connection is not encrypted): use "
	    "STARTTLS first");
	HAS(h, "=   a client that heeds it never sends the password in "
	    "plaintext; typed anyway, LOGIN still carries it across the "
	    "network before the NO: type \"a1 STARTTLS\" first, then ask "
	    "for CAPABILITY again (RFC 2595 3.2)");
	/* capability diff after the upgrade */
	user(h, "a1 STARTTLS");
	int r = pp_feed(&h->pp, "a1 OK go\r\n", 10);
	assert_int_equal(r, PP_UPGRADE);
	fake_tls(h);
	user(h, "a2 CAPABILITY");
	server(h, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n");
	HAS(h, "= new after TLS: AUTH=PLAIN");
	HAS(h, "= gone after TLS: STARTTLS LOGINDISABLED");
	HAS(h, "= login is offered only now, inside TLS: that is how it "
	    "should be");
	stop(h);
}

static void
imap_preauth(void **state)
{
	(void)state;
	static const char *const warn = "! PREAUTH on a plaintext "
	    "connection: STARTTLS is only allowed before login, so this "
	    "session can never be encrypted; a man in the middle can turn "
	    "* OK into * PREAUTH to keep you in plaintext";
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* PREAUTH IMAP4rev1 server logged in as alice\r\n");
	HAS(h, "= greeting PREAUTH: you are logged in already, without a "
	    "password");
	HAS(h, warn);
	assert_int_equal(h->a.abort, 0);
	stop(h);

	h = start(&proto_imap, ANN_BRIEF);
	h->a.require_tls = true;
	server(h, "* PREAUTH ready\r\n");
	HAS(h, warn);
	assert_int_equal(h->a.abort, MS_EDOWNGRADE);
	stop(h);

	/* --require-tls holds with annotations off too */
	h = start(&proto_imap, ANN_OFF);
	h->a.require_tls = true;
	server(h, "* PREAUTH ready\r\n");
	assert_int_equal(h->a.abort, MS_EDOWNGRADE);
	stop(h);

	/* inside TLS PREAUTH is no downgrade */
	h = start(&proto_imap, ANN_BRIEF);
	h->a.require_tls = true;
	fake_tls(h);
	server(h, "* PREAUTH ready\r\n");
	HASNT(h, warn);
	assert_int_equal(h->a.abort, 0);
	stop(h);
}

static void
imap_alert(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* OK [ALERT] System shutdown in 10 minutes\r\n");
	HAS(h, "! ALERT from the server: \"System shutdown in 10 minutes\" "
	    "(arrived before TLS: anyone on the path could have written "
	    "it)");
	fake_tls(h);
	server(h, "* OK [ALERT] Password expires soon\r\n");
	HAS(h, "! ALERT from the server: \"Password expires soon\"");
	stop(h);
}

static void
imap_tagged(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	user(h, "a1 LOGIN alice secret");
	server(h, "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
	HAS(h, "= tagged NO: command a1 failed (the server understood it "
	    "but refused or could not do it)");
	HAS(h, "= AUTHENTICATIONFAILED: authentication failed, and the "
	    "server does not say why (typically an unknown user or a wrong "
	    "password)");
	user(h, "a2 FOO");
	server(h, "a2 BAD unknown command\r\n");
	HAS(h, "= tagged BAD: command a2 was not understood (syntax, or "
	    "not allowed in this state)");
	stop(h);
}

/* ---- annot-5: FETCH ---- */

static const char envelope_fetch[] =
    "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 "
    "-0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 "
    "-0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
    "\"<B27397-0100000@cac.washington.edu>\") "
    "UID 4827313)\r\n";

static void
fetch_envelope(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, envelope_fetch);
	HAS(h, "= FETCH: data of message 12");
	HAS(h, "=   FLAGS: \\Seen = read");
	HAS(h, "=   INTERNALDATE 17-Jul-1996 02:44:25 -0700: when the "
	    "server received the message");
	HAS(h, "=   RFC822.SIZE 4286: the size of the message in octets");
	HAS(h, "=   ENVELOPE: the main header fields, parsed by the server");
	HAS(h, "=     date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
	HAS(h, "=     subject: IMAP4rev1 WG mtg summary and minutes");
	HAS(h, "=     from: Terry Gray <gray@cac.washington.edu>");
	HAS(h, "=     sender: Terry Gray <gray@cac.washington.edu>");
	HAS(h, "=     reply-to: Terry Gray <gray@cac.washington.edu>");
	HAS(h, "=     to: imap@cac.washington.edu");
	HAS(h, "=     cc: minutes@CNRI.Reston.VA.US, John Klensin "
	    "<KLENSIN@MIT.EDU>");
	HAS(h, "=     bcc: none (NIL)");
	HAS(h, "=     in-reply-to: none (NIL)");
	HAS(h, "=     message-id: <B27397-0100000@cac.washington.edu>");
	HAS(h, "=   UID 4827313: its unique identifier: stays the same "
	    "while UIDVALIDITY does");
	/* in the order the server sent them */
	assert_true(line_of(h, "=   FLAGS") < line_of(h, "=   ENVELOPE"));
	assert_true(line_of(h, "=   ENVELOPE") < line_of(h, "=   UID"));
	stop(h);

	/* full mode names the RFC; groups and escapes */
	h = start(&proto_imap, ANN_FULL);
	server(h, "* OK ready\r\n");
	server(h, "* 1 FETCH (ENVELOPE (NIL \"say \\\"hi\\\"\" NIL NIL NIL "
	    "((NIL NIL \"team\" NIL)(NIL NIL \"a\" \"x.example\")"
	    "(NIL NIL NIL NIL)) NIL NIL NIL NIL))\r\n");
	HAS(h, "= FETCH: data of message 1 (RFC 3501 7.4.2)");
	HAS(h, "=   ENVELOPE: the main header fields, parsed by the server "
	    "(RFC 3501 7.4.2)");
	HAS(h, "=     subject: say \"hi\"");
	HAS(h, "=     to: team: a@x.example;");
	stop(h);

	/* not ten fields */
	h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* 1 FETCH (ENVELOPE (NIL NIL))\r\n");
	HAS(h, "!     not an envelope: it must be a list of 10 fields");
	stop(h);
}

static void
fetch_bodystructure(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* 3 FETCH (BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" "
	    "(\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 1234 40 "
	    "NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\") NIL NIL "
	    "\"BASE64\" 5678 74 NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" "
	    "\"b2\") NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" "
	    "900 (NIL \"Fwd: plans\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "300 10 NIL NIL NIL) 25 NIL NIL NIL)(\"APPLICATION\" \"PDF\" "
	    "(\"NAME\" \"r.pdf\") NIL NIL \"BASE64\" 40960 NIL "
	    "(\"ATTACHMENT\" (\"FILENAME\" \"report.pdf\")) NIL) \"MIXED\" "
	    "(\"BOUNDARY\" \"b1\") NIL NIL))\r\n");
	HAS(h, "=   BODYSTRUCTURE: the MIME structure of the message");
	HAS(h, "=     multipart/mixed");
	HAS(h, "=     \xe2\x94\x9c 1 multipart/alternative");
	HAS(h, "=     \xe2\x94\x82 \xe2\x94\x9c 1.1 text/plain utf-8, "
	    "quoted-printable, 1234 octets, 40 lines");
	HAS(h, "=     \xe2\x94\x82 \xe2\x94\x94 1.2 text/html utf-8, base64, "
	    "5678 octets, 74 lines");
	HAS(h, "=     \xe2\x94\x9c 2 message/rfc822, 7bit, 900 octets, 25 "
	    "lines: a message, subject Fwd: plans");
	HAS(h, "=     \xe2\x94\x82 \xe2\x94\x94 2.1 text/plain us-ascii, "
	    "7bit, 300 octets, 10 lines");
	HAS(h, "=     \xe2\x94\x94 3 application/pdf \"report.pdf\", base64, "
	    "40960 octets (attachment)");
	stop(h);

	/* a single part is part 1; BODY has no extension data */
	h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* 4 FETCH (BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" "
	    "42 2))\r\n");
	HAS(h, "=   BODY: the MIME structure of the message (without "
	    "extension data)");
	HAS(h, "=     1 text/plain, 7bit, 42 octets, 2 lines");
	/* garbage in a structure is said, not followed */
	server(h, "* 5 FETCH (BODYSTRUCTURE (NIL))\r\n");
	HAS(h, "=     1 (not a valid body part)");
	server(h, "* 6 FETCH (BODYSTRUCTURE \"x\")\r\n");
	HAS(h, "=     (not a valid body part)");
	stop(h);
}

static void
fetch_sections(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* 1 FETCH (BODY[HEADER] \"Subject: x\" "
	    "BODY[1.2.MIME] NIL BODY[TEXT]<0> \"abc\" "
	    "BODY[HEADER.FIELDS.NOT (RECEIVED)] \"\" BINARY.SIZE[1] 120 "
	    "MODSEQ (624140003) X-UNKNOWN 5)\r\n");
	HAS(h, "=   BODY[HEADER]: the header (the lines up to the first "
	    "empty line); \"Subject: x\"");
	HAS(h, "=   BODY[1.2.MIME]: part 1.2, the MIME header of the part; "
	    "NIL: there is no such section");
	HAS(h, "=   BODY[TEXT]<0>: the body, without the header, from octet "
	    "0 on; \"abc\"");
	HAS(h, "=   BODY[HEADER.FIELDS.NOT (RECEIVED)]: the header without "
	    "these fields: RECEIVED; an empty string");
	HAS(h, "=   BINARY.SIZE[1]: the size of a part once decoded, part 1; "
	    "120 octets");
	HAS(h, "=   MODSEQ 624140003: the modification sequence of its last "
	    "change (CONDSTORE)");
	HAS(h, "=   X-UNKNOWN 5: an item not in mailsh's table");
	/* broken FETCH data: said, not a crash */
	server(h, "* 2 FETCH (FLAGS (\\Seen)\r\n");
	HAS(h, "!   the FETCH data does not follow IMAP's syntax: a \"(\" "
	    "without its \")\" (at byte 1)");
	server(h, "* 3 FETCH (UID)\r\n");
	HAS(h, "!   UID has no value");
	stop(h);
}

/* A FETCH whose data spans two literals, fed in several chunkings. */
static const char literal_fetch[] =
    "* 7 FETCH (UID 42 ENVELOPE (NIL {5}\r\n"
    "Hello NIL NIL NIL NIL NIL NIL NIL NIL) "
    "BODY[] {31}\r\n"
    "Subject: Hello\r\n"
    "\r\n"
    "* 2 EXPUNGE\r\n"
    " FLAGS (\\Seen))\r\n"
    "a5 OK done\r\n";

static void
fetch_literals(void **state)
{
	(void)state;
	static const size_t chunks[] = { 0, 1, 2, 3, 7, 64 };
	char first[LOG_CAP];
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct h *h = start(&proto_imap, ANN_BRIEF);
		server(h, "* OK ready\r\n");
		user(h, "a5 FETCH 7 (UID ENVELOPE BODY[] FLAGS)");
		size_t n = strlen(literal_fetch), k = chunks[c] ? chunks[c] :
		    n;
		for (size_t i = 0; i < n; i += k) {
			int r = pp_feed(&h->pp, literal_fetch + i,
			    i + k < n ? k : n - i);
			assert_int_equal(r, MS_OK);
		}
		HAS(h, "= FETCH: data of message 7");
		HAS(h, "=   UID 42: its unique identifier: stays the same "
		    "while UIDVALIDITY does");
		HAS(h, "=     subject: Hello");
		HAS(h, "=   BODY[]: the whole message, header and body; 31 "
		    "octets, shown above");
		HAS(h, "=   FLAGS: \\Seen = read");
		/* the fake EXPUNGE inside the literal is not explained */
		HASNT(h, "= EXPUNGE: message 2 was removed; every later "
		    "message number goes down by one");
		/* explained once, after the last line of the response */
		assert_true(line_of(h, "= FETCH") > line_of(h,
		    "S:  FLAGS (\\Seen))"));
		assert_true(line_of(h, "= FETCH") < line_of(h, "S: a5 OK"));
		assert_false(h->a.resp.active);
		if (c == 0)
			memcpy(first, h->log, h->len + 1);
		else
			assert_string_equal(first, h->log);
		stop(h);
	}
}

static void
fetch_too_long(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	/* 20 lines of 4000 octets, each followed by a literal */
	static char line[4100];
	server(h, "* 1 FETCH (X-A {1}\r\n");
	for (int i = 0; i < 20; i++) {
		/* the literal's one octet, then the response goes on */
		snprintf(line, sizeof(line), "y X-%d \"%04000d\" {1}\r\n", i,
		    0);
		server(h, line);
	}
	server(h, "y)\r\n");
	HAS(h, "= this response is longer than mailsh reads out (64 KiB "
	    "besides its literals): not explained");
	assert_false(h->a.resp.active);
	/* and the next response is read out again */
	server(h, "* 2 FETCH (UID 9)\r\n");
	HAS(h, "=   UID 9: its unique identifier: stays the same while "
	    "UIDVALIDITY does");
	stop(h);
}

/* ---- annot-6: LIST, STATUS, SEARCH, FLAGS ---- */

static void
imap_list_status_search(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	server(h, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
	    "* LIST (\\Noselect \\HasChildren) \"/\" Archive\r\n"
	    "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
	    "* LSUB () \".\" {5}\r\nTrash\r\n"
	    "* LIST (\\Drafts \\Junk \\Archive \\All \\Flagged \\Trash "
	    "\\Marked \\Unmarked \\X-Odd) NIL Flat\r\n");
	HAS(h, "=   mailbox \"INBOX\"; \"/\" separates the levels of the "
	    "hierarchy");
	HAS(h, "=   \\HasNoChildren = has no child mailboxes");
	HAS(h, "=   \\Noselect = not a mailbox you can open, only a folder "
	    "in the hierarchy, \\HasChildren = has child mailboxes");
	HAS(h, "=   mailbox \"Sent Items\"; \"/\" separates the levels of "
	    "the hierarchy");
	HAS(h, "=   \\HasNoChildren = has no child mailboxes, \\Sent = "
	    "special use: sent mail");
	HAS(h, "=   mailbox \"Trash\"; \".\" separates the levels of the "
	    "hierarchy");
	HAS(h, "=   mailbox \"Flat\"; no hierarchy (delimiter NIL)");
	HAS(h, "=   \\Drafts = special use: drafts, \\Junk = special use: "
	    "spam, \\Archive = special use: the archive, \\All = special "
	    "use: all messages, \\Flagged = special use: flagged messages, "
	    "\\Trash = special use: deleted messages, \\Marked = probably "
	    "has new messages, \\Unmarked = no new messages since the last "
	    "look, \\X-Odd = an attribute not in mailsh's table");
	/* the names are remembered for completion, a short literal too */
	assert_int_equal(h->a.nmailboxes, 5);
	assert_string_equal(h->a.mailboxes[0], "INBOX");
	assert_string_equal(h->a.mailboxes[1], "Archive");
	assert_string_equal(h->a.mailboxes[2], "Sent Items");
	assert_string_equal(h->a.mailboxes[3], "Trash");
	assert_string_equal(h->a.mailboxes[4], "Flat");
	/* again: no duplicates; then bounded */
	server(h, "* LIST () \"/\" INBOX\r\n");
	assert_int_equal(h->a.nmailboxes, 5);
	for (int i = 0; i < 100; i++) {
		char l[64];
		snprintf(l, sizeof(l), "* LIST () \"/\" box%d\r\n", i);
		server(h, l);
	}
	assert_int_equal(h->a.nmailboxes, ANN_MAILBOX_MAX);

	server(h, "* STATUS blurdybloop (MESSAGES 231 RECENT 2 UIDNEXT 44292 "
	    "UIDVALIDITY 3857529045 UNSEEN 5)\r\n");
	HAS(h, "= STATUS: counters of a mailbox that is not selected");
	HAS(h, "=   of mailbox \"blurdybloop\":");
	HAS(h, "=     MESSAGES 231: messages in the mailbox");
	HAS(h, "=     RECENT 2: messages with \\Recent");
	HAS(h, "=     UIDNEXT 44292: the UID the next new message will get");
	HAS(h, "=     UIDVALIDITY 3857529045: if this changes, all UIDs you "
	    "remembered are void");
	HAS(h, "=     UNSEEN 5: messages without \\Seen (unread)");

	server(h, "* SEARCH 2 84 882\r\n");
	HAS(h, "=   3 messages match: 2 84 882");
	server(h, "* SEARCH 7\r\n");
	HAS(h, "=   1 message matches: 7");
	server(h, "* SEARCH\r\n");
	HAS(h, "=   no message matches");
	server(h, "* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 "
	    "20 21 22 (MODSEQ 917162500)\r\n");
	HAS(h, "=   22 messages match: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
	    "16 17 18 19 20 ...");

	server(h, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
	    "$Forwarded Work)\r\n");
	HAS(h, "= FLAGS: the flags messages in this mailbox can carry");
	HAS(h, "=   \\Answered = answered, \\Flagged = flagged as important, "
	    "\\Deleted = marked for removal by the next EXPUNGE, \\Seen = "
	    "read, \\Draft = a draft, not sent yet, $Forwarded = forwarded, "
	    "Work = a keyword set by a client");
	stop(h);
}

/* ---- annot-7: the parser ---- */

static struct imap_parse P;

static void
parse_values(void **state)
{
	(void)state;
	const char *s = "A1 \\Seen 42 NIL nil \"q \\\"x\\\" \\\\\" "
	    "(a (b) ()) {12} ~{3} {7+} BODY[HEADER.FIELDS (A B)]<0> "
	    "18446744073709551615 18446744073709551616";
	assert_true(imap_parse(&P, s, strlen(s)));
	assert_null(P.err);
	assert_int_equal(P.ntop, 13);
	const struct imap_value *v = &P.v[P.top];
	static const enum imap_type want[] = {
		IMAP_ATOM, IMAP_ATOM, IMAP_NUMBER, IMAP_NIL, IMAP_NIL,
		IMAP_STRING, IMAP_LIST, IMAP_LITERAL, IMAP_LITERAL,
		IMAP_LITERAL, IMAP_ATOM, IMAP_NUMBER, IMAP_ATOM,
	};
	char buf[64];
	for (int i = 0; v; v = imap_next(&P, v), i++) {
		assert_int_equal(v->type, want[i]);
		switch (i) {
		case 2: assert_int_equal(v->num, 42); break;
		case 5:
			imap_text(v, buf, sizeof(buf), NULL);
			assert_string_equal(buf, "q \"x\" \\");
			break;
		case 6:
			assert_int_equal(v->count, 3);
			assert_int_equal(imap_elem(&P, v, 1)->count, 1);
			assert_int_equal(imap_elem(&P, v, 2)->count, 0);
			assert_null(imap_elem(&P, v, 3));
			assert_int_equal(v->len, 10);
			break;
		case 7: assert_int_equal(v->num, 12); break;
		case 8: assert_int_equal(v->num, 3); break;
		case 9: assert_int_equal(v->num, 7); break;
		case 10:
			assert_int_equal(v->len, strlen("BODY[HEADER.FIELDS "
			    "(A B)]<0>"));
			break;
		case 11: assert_true(v->num == UINT64_MAX); break;
		default: break;
		}
	}
	assert_true(imap_is(&P.v[P.top], "a1"));
	/* multipart bodies: lists without spaces between them */
	s = "((a)(b) \"MIXED\")";
	assert_true(imap_parse(&P, s, strlen(s)));
	assert_int_equal(P.v[P.top].count, 3);
	/* a cut copy */
	s = "\"abcdef\"";
	assert_true(imap_parse(&P, s, strlen(s)));
	bool cut;
	assert_int_equal(imap_text(&P.v[P.top], buf, 4, &cut), 3);
	assert_true(cut);
	assert_string_equal(buf, "abc");
	assert_true(imap_parse(&P, "", 0));
	assert_int_equal(P.top, -1);
}

static void
parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *err;
		size_t pos;
	} bad[] = {
		{ "(a b", "a \"(\" without its \")\"", 0 },
		{ "a)", "a \")\" without its \"(\"", 1 },
		{ "\"abc", "a quoted string without its closing quote", 0 },
		{ "\"abc\\", "a quoted string without its closing quote", 0 },
		{ "{12", "a \"{\" that does not start a literal {n}", 0 },
		{ "{}", "a \"{\" that does not start a literal {n}", 0 },
		{ "x {1x}", "a \"{\" that does not start a literal {n}", 2 },
		{ "{12345678901234567890}", "a literal size with too many "
		    "digits", 0 },
		{ "BODY[HEADER", "a \"[\" without its \"]\"", 4 },
		{ "a \x01", "a byte that cannot start an IMAP value", 2 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(imap_parse(&P, bad[i].in, strlen(bad[i].in)));
		assert_string_equal(P.err, bad[i].err);
		assert_int_equal(P.errpos, bad[i].pos);
	}
	/* depth: IMAP_PARSE_DEPTH lists nest, one more does not */
	char deep[2 * IMAP_PARSE_DEPTH + 4];
	memset(deep, '(', IMAP_PARSE_DEPTH);
	memset(deep + IMAP_PARSE_DEPTH, ')', IMAP_PARSE_DEPTH);
	assert_true(imap_parse(&P, deep, 2 * IMAP_PARSE_DEPTH));
	memset(deep, '(', IMAP_PARSE_DEPTH + 1);
	memset(deep + IMAP_PARSE_DEPTH + 1, ')', IMAP_PARSE_DEPTH + 1);
	assert_false(imap_parse(&P, deep, 2 * IMAP_PARSE_DEPTH + 2));
	assert_string_equal(P.err, "lists nested deeper than mailsh "
	    "follows");
	/* count */
	static char many[4 * IMAP_PARSE_MAX];
	for (int i = 0; i < IMAP_PARSE_MAX; i++)
		memcpy(many + 2 * i, "a ", 2);
	assert_true(imap_parse(&P, many, 2 * IMAP_PARSE_MAX));
	assert_int_equal(P.n, IMAP_PARSE_MAX);
	memcpy(many + 2 * IMAP_PARSE_MAX, "a", 1);
	assert_false(imap_parse(&P, many, 2 * IMAP_PARSE_MAX + 1));
	assert_string_equal(P.err, "more values than mailsh reads in one "
	    "response");
	/* garbage never reads outside its bytes */
	unsigned seed = 1;
	static char junk[512];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 500) + 1;
		static const char alpha[] = "()[]{}\"\\ ~+0123aN\r\n\x80";
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		bool ok = imap_parse(&P, junk, n);
		assert_true(ok ? P.err == NULL : P.errpos <= n);
	}
}

/* ---- annot-8: what the lecturer found (credentials, codes, "+") ---- */

/* Does any line of the transcript contain word (case-insensitive)? */
static bool
mentions(const struct h *h, const char *word)
{
	return strcasestr(h->log, word) != NULL;
}

/* How many lines start with prefix? */
static int
count_lines(const struct h *h, const char *prefix)
{
	int k = 0;
	size_t n = strlen(prefix);
	for (const char *p = h->log; *p; ) {
		if (strncmp(p, prefix, n) == 0)
			k++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return k;
}

static const char clear_warn[] = "! this line carries a password and the "
    "connection is NOT encrypted: the password crosses the network in "
    "plain text, exactly as typed; anyone on the path can read it";
static const char clear_note[] = "! the screen hides the password "
    "(********), but it crossed the network in clear text, exactly as "
    "typed";

/* USER/PASS and IMAP LOGIN send the password as typed: no base64 in
 * the warning; AUTH PLAIN / LOGIN base64-encode it: "decode". */
static void
cred_warnings(void **state)
{
	(void)state;
	struct h *h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK POP3 ready\r\n");
	user(h, "USER alice");
	server(h, "+OK\r\n");
	assert_int_equal(user(h, "PASS secret"), ANN_CONFIRM);
	HAS(h, clear_warn);
	assert_false(mentions(h, "base64"));
	stop(h);

	h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	assert_int_equal(user(h, "a1 LOGIN alice secret"), ANN_CONFIRM);
	HAS(h, clear_warn);
	assert_false(mentions(h, "base64"));
	/* a password as a literal is the same */
	user(h, "a2 LOGIN alice {6}");
	server(h, "+ go ahead\r\n");
	user(h, "secret");
	assert_false(mentions(h, "base64"));
	stop(h);

	h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	assert_int_equal(user(h, "AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
	    ANN_CONFIRM);
	HAS(h, "! this line carries login data and the connection is NOT "
	    "encrypted: SASL PLAIN only base64-encodes it, so anyone on the "
	    "path can decode it (base64 is an encoding, not encryption)");
	assert_false(mentions(h, "decrypt"));
	/* SASL that does not show the password */
	server(h, "535 5.7.8 no\r\n");
	user(h, "AUTH CRAM-MD5");
	server(h, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
	    "\r\n");
	assert_int_equal(user(h, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMz"
	    "NGQzODkw"), ANN_CONFIRM);
	HAS(h, "! this line carries a SASL CRAM-MD5 answer and the "
	    "connection is NOT encrypted: it does not show the password "
	    "itself, but anyone on the path can record it");
	stop(h);

	h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n");
	assert_int_equal(user(h, "APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
	    ANN_CONFIRM);
	HAS(h, "! this line carries an APOP digest and the connection is NOT "
	    "encrypted: it is not the password itself, but anyone on the "
	    "path can record it and try passwords against it offline");
	stop(h);
}

/* The first masked credential on a plaintext connection: the screen
 * hides it, the wire did not.  "a2 LOGIN alice" hides nothing. */
static void
mask_note(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	user(h, "a1 LOGIN alice");
	HAS(h, "C: a1 LOGIN alice");
	HASNT(h, clear_warn);
	server(h, "a1 BAD Syntax: LOGIN user password\r\n");
	user(h, "a2 LOGIN alice secret");
	HAS(h, "C: a2 LOGIN alice ********");
	HAS(h, clear_note);
	assert_true(line_of(h, clear_note) == line_of(h, "C: a2 LOGIN") + 1);
	server(h, "a2 NO [AUTHENTICATIONFAILED] no\r\n");
	user(h, "a3 LOGIN alice secret2");
	assert_int_equal(count_lines(h, clear_note), 1);	/* once */
	stop(h);

	/* inside TLS nothing crossed in clear */
	h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	fake_tls(h);
	user(h, "a1 LOGIN alice secret");
	HAS(h, "C: a1 LOGIN alice ********");
	HASNT(h, clear_note);
	stop(h);

	/* POP3 PASS; SMTP AUTH LOGIN answers (base64) */
	h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK ready\r\n");
	user(h, "USER alice");
	server(h, "+OK\r\n");
	user(h, "PASS secret");
	HAS(h, "C: PASS ********");
	HAS(h, clear_note);
	stop(h);

	h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	user(h, "AUTH LOGIN");
	server(h, "334 VXNlcm5hbWU6\r\n");
	user(h, "YWxpY2U=");
	HAS(h, "C: ********");
	HAS(h, "! the screen hides the login data (********), but they "
	    "crossed the network in clear text, only base64-encoded");
	stop(h);

	/* annotations off: no note */
	h = start(&proto_pop3, ANN_OFF);
	server(h, "+OK ready\r\n");
	user(h, "PASS secret");
	HASNT(h, clear_note);
	stop(h);
}

/* RFC 3206 5: [AUTH] is a problem with the credentials, incl. policy;
 * when the text says plaintext is refused, the password is not wrong. */
static void
pop3_auth_code(void **state)
{
	(void)state;
	struct h *h = start(&proto_pop3, ANN_BRIEF);
	server(h, "+OK ready\r\n");
	user(h, "USER alice");
	server(h, "-ERR [AUTH] Plaintext authentication disallowed on "
	    "non-secure (SSL/TLS) connections.\r\n");
	HAS(h, "= [AUTH]: refused by the server's policy, not because the "
	    "password is wrong: it takes no password over a connection that "
	    "is not encrypted; send STLS first, then CAPA, then log in "
	    "(RFC 2595 4, RFC 3206 5)");
	HASNT(h, "= [AUTH]: the login itself was wrong (user or password)");
	user(h, "PASS wrong");
	server(h, "-ERR [AUTH] Authentication failed\r\n");
	HAS(h, "= [AUTH]: a problem with the credentials: a wrong password, "
	    "an unknown user, an expired account, or a login against the "
	    "server's policy (from this place, at this time, ...); the text "
	    "may say which");
	server(h, "-ERR [IN-USE] maildrop locked\r\n");
	HAS(h, "= [IN-USE]: the login was right, but the maildrop is in use "
	    "by another session; close that one (or wait) and try again");
	stop(h);
}

/* A "+" means what the command before it asked for. */
static void
imap_continuation(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	fake_tls(h);
	user(h, "a1 LOGIN alice secret");
	server(h, "a1 OK logged in\r\n");
	user(h, "a2 SELECT INBOX");
	server(h, "a2 OK [READ-WRITE] done\r\n");
	user(h, "a3 IDLE");
	server(h, "+ idling\r\n");
	HAS(h, "= + after IDLE: IDLE is accepted: the server now sends "
	    "untagged updates (EXISTS, EXPUNGE, FETCH) as they happen, and "
	    "you send no commands; type DONE to end it (RFC 2177)");
	HASNT(h, "= +: the server waits for more from you (the literal's "
	    "octets, or the next line)");
	server(h, "* 4 EXISTS\r\n");
	HAS(h, "= EXISTS: 4 messages in the mailbox");
	int before = count_lines(h, "! ");
	user(h, "DONE");			/* no tag: no hint */
	assert_int_equal(count_lines(h, "! "), before);
	server(h, "a3 OK IDLE terminated\r\n");
	HAS(h, "= tagged OK: command a3 is done");

	/* AUTHENTICATE: a challenge, base64 or not */
	user(h, "a4 AUTHENTICATE PLAIN");
	server(h, "+ \r\n");
	HAS(h, "= an empty challenge: send your answer (base64), or * to "
	    "cancel");
	user(h, "*");
	server(h, "a4 BAD cancelled\r\n");
	user(h, "a5 AUTHENTICATE X-ODD");
	server(h, "+ not base64!\r\n");
	HAS(h, "= + after AUTHENTICATE: a SASL challenge, but not base64 as "
	    "RFC 3501 6.2.2 wants; answer * to cancel");
	user(h, "*");
	server(h, "a5 BAD cancelled\r\n");

	/* a literal: the go-ahead */
	user(h, "a6 APPEND INBOX {310}");
	server(h, "+ Ready for literal data\r\n");
	HAS(h, "= +: go-ahead for the literal {310}: send exactly that many "
	    "octets now (RFC 3501 4.3)");
	stop(h);
}

/* STARTTLS inside TLS: refused because TLS is there already. */
static void
starttls_in_tls(void **state)
{
	(void)state;
	static const char *const plain = "! the server refused the upgrade: "
	    "this connection stays in plaintext";
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	h->a.require_tls = true;
	fake_tls(h);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	user(h, "STARTTLS");
	server(h, "554 5.5.1 Error: TLS already active\r\n");
	HAS(h, "= this connection is already encrypted (TLS): the server "
	    "refuses a second STARTTLS; once TLS is up it no longer offers "
	    "STARTTLS (RFC 3207 4.2)");
	HASNT(h, plain);
	assert_int_equal(h->a.abort, 0);	/* --require-tls: still fine */
	stop(h);

	h = start(&proto_pop3, ANN_BRIEF);
	fake_tls(h);
	server(h, "+OK ready\r\n");
	user(h, "STLS");
	server(h, "-ERR TLS already active\r\n");
	HAS(h, "= this connection is already encrypted (TLS): the server "
	    "refuses a second STLS (RFC 2595 4: -ERR when a security layer "
	    "is already active)");
	HASNT(h, plain);
	stop(h);

	h = start(&proto_imap, ANN_BRIEF);
	fake_tls(h);
	server(h, "* OK ready\r\n");
	user(h, "a1 STARTTLS");
	server(h, "a1 BAD STARTTLS not possible now\r\n");
	HAS(h, "= this connection is already encrypted (TLS): the server "
	    "refuses a second STARTTLS (RFC 9051 6.2.1: BAD after a "
	    "successful TLS negotiation)");
	HASNT(h, plain);
	stop(h);

	/* in plaintext a refusal still means plaintext */
	h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	user(h, "a1 STARTTLS");
	server(h, "a1 NO no TLS here\r\n");
	HAS(h, plain);
	stop(h);
}

/* Warnings name a port's role, not its (random) number. */
static void
port_roles(void **state)
{
	(void)state;
	static const char *const sub = "! STARTTLS is not offered on the "
	    "submission port, where it is expected: either this server cannot "
	    "do TLS, or someone in the path removed it (STARTTLS stripping); "
	    "a careful client stops here";
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	assert_true(ann_port_role(&h->a, 34127, "submission"));
	assert_true(ann_port_role(&h->a, 34130, "mitm-imap"));
	assert_true(ann_port_role(&h->a, 34131, "pop3 imap"));
	assert_false(ann_port_role(&h->a, 34132, "nonsense"));
	snprintf(h->pp.conn.port, sizeof(h->pp.conn.port), "34127");
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250-mx.example\r\n250 AUTH PLAIN\r\n");
	HAS(h, sub);
	assert_false(mentions(h, "34127"));
	/* kept across a close: the next connection to it knows it too */
	struct pp_event close = { .kind = PP_EV_CLOSE, .text = "",
	    .len = 0 };
	ann_event(&h->a, &close);
	h->pp.greeted = false;
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	assert_int_equal(count_lines(h, sub), 2);
	stop(h);

	h = start(&proto_imap, ANN_BRIEF);
	ann_port_role(&h->a, 34130, "mitm-imap");
	snprintf(h->pp.conn.port, sizeof(h->pp.conn.port), "34130");
	server(h, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
	HAS(h, "! STARTTLS is not offered on the IMAP port, where it is "
	    "expected: either this server cannot do TLS, or someone in the "
	    "path removed it (STARTTLS stripping); a careful client stops "
	    "here");
	stop(h);

	/* a well-known port names its role; an unknown one its number */
	h = start(&proto_pop3, ANN_BRIEF);
	snprintf(h->pp.conn.port, sizeof(h->pp.conn.port), "110");
	server(h, "+OK ready\r\n");
	user(h, "CAPA");
	server(h, "+OK\r\nUSER\r\n.\r\n");
	HAS(h, "! STLS is not offered on the POP3 port, where it is "
	    "expected: either this server cannot do TLS, or someone in the "
	    "path removed it (STARTTLS stripping); a careful client stops "
	    "here");
	stop(h);

	h = start(&proto_smtp, ANN_BRIEF);
	h->a.expect_starttls = true;
	snprintf(h->pp.conn.port, sizeof(h->pp.conn.port), "34999");
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	HAS(h, "! STARTTLS is not offered on port 34999, where it is "
	    "expected: either this server cannot do TLS, or someone in the "
	    "path removed it (STARTTLS stripping); a careful client stops "
	    "here");
	stop(h);
}

/* An IMAP command typed without a tag (RFC 3501 2.2.1, 9). */
static void
imap_notag(void **state)
{
	(void)state;
	struct h *h = start(&proto_imap, ANN_BRIEF);
	server(h, "* OK ready\r\n");
	user(h, "login alice alice-pass");
	HAS(h, "! IMAP commands begin with a tag (any word, e.g. a1): a1 "
	    "LOGIN ...");
	assert_true(line_of(h, "! IMAP commands begin") <
	    line_of(h, "C: login"));
	/* the password leaves all the same: hidden, and warned of */
	HAS(h, "C: login alice ********");
	HAS(h, clear_warn);
	server(h, "login BAD Unknown command or wrong state (alice)\r\n");
	HAS(h, "= tagged BAD: tag missing or unknown command: the line sent "
	    "had no tag, so the server took \"login\" for the tag and "
	    "\"alice\" for the command");
	HASNT(h, "= tagged BAD: command login was not understood (syntax, "
	    "or not allowed in this state)");

	user(h, "select INBOX");
	HAS(h, "! IMAP commands begin with a tag (any word, e.g. a1): a1 "
	    "SELECT ...");
	server(h, "* BAD Error in IMAP command received by server.\r\n");
	HAS(h, "= BAD: tag missing or unknown command: the line sent had no "
	    "tag (IMAP commands begin with one, e.g. a1)");

	user(h, "CAPABILITY");
	HAS(h, "! IMAP commands begin with a tag (any word, e.g. a1): a1 "
	    "CAPABILITY");
	server(h, "CAPABILITY BAD Missing command\r\n");
	HAS(h, "= tagged BAD: tag missing: the line sent had no tag, so the "
	    "server took \"CAPABILITY\" for the tag and found no command");

	user(h, "uid fetch 1 FLAGS");
	HAS(h, "! IMAP commands begin with a tag (any word, e.g. a1): a1 "
	    "UID ...");

	/* with a tag, in any case: no hint, and a BAD is the usual one */
	int before = count_lines(h, "! IMAP commands begin");
	user(h, "a1 select INBOX");
	user(h, "A2 Capability");
	user(h, "list LIST \"\" \"*\"");	/* "list" is the tag here */
	assert_int_equal(count_lines(h, "! IMAP commands begin"), before);
	server(h, "a1 BAD no\r\n");
	HAS(h, "= tagged BAD: command a1 was not understood (syntax, or "
	    "not allowed in this state)");
	stop(h);

	/* annotations off: no hint */
	h = start(&proto_imap, ANN_OFF);
	server(h, "* OK ready\r\n");
	user(h, "select INBOX");
	HASNT(h, "! IMAP commands begin with a tag (any word, e.g. a1): a1 "
	    "SELECT ...");
	stop(h);
}

/* The server's text adds to an SMTP code: relaying refused. */
static void
smtp_relay_denied(void **state)
{
	(void)state;
	struct h *h = start(&proto_smtp, ANN_BRIEF);
	server(h, "220 mx.example ESMTP\r\n");
	user(h, "EHLO pc.example");
	server(h, "250 mx.example\r\n");
	user(h, "MAIL FROM:<a@example.org>");
	server(h, "250 2.1.0 Ok\r\n");
	user(h, "RCPT TO:<b@example.com>");
	server(h, "554 5.7.1 <b@example.com>: Relay access denied\r\n");
	HAS(h, "= 5.7.1: delivery not authorized, message refused");
	HAS(h, "= relaying refused: this server takes mail only for its own "
	    "domains, unless the sender logs in (AUTH, on the submission "
	    "port, RFC 6409); a server that passed on mail for anyone would "
	    "be an open relay for spam");
	/* "relay" alone is no refusal of relaying */
	int before = count_lines(h, "= relaying refused");
	user(h, "RCPT TO:<c@example.com>");
	server(h, "451 4.4.0 relay host temporarily unavailable\r\n");
	assert_int_equal(count_lines(h, "= relaying refused"), before);
	user(h, "RCPT TO:<alice@mx.example>");
	server(h, "535 5.7.8 Error: authentication failed\r\n");
	HAS(h, "= 535: authentication credentials invalid: the login was "
	    "refused (typically a wrong user name or password)");
	stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_unique),
		cmocka_unit_test(smtp_ehlo_auth_size),
		cmocka_unit_test(smtp_spoofing),
		cmocka_unit_test(smtp_spoof_failed_auth),
		cmocka_unit_test(mime_words),
		cmocka_unit_test(smtp_capability_diff),
		cmocka_unit_test(smtp_raw_lines),
		cmocka_unit_test(pop3_capability_diff),
		cmocka_unit_test(smtp_require_tls),
		cmocka_unit_test(pop3_stat_capa),
		cmocka_unit_test(imap_logindisabled),
		cmocka_unit_test(imap_preauth),
		cmocka_unit_test(imap_alert),
		cmocka_unit_test(imap_tagged),
		cmocka_unit_test(fetch_envelope),
		cmocka_unit_test(fetch_bodystructure),
		cmocka_unit_test(fetch_sections),
		cmocka_unit_test(fetch_literals),
		cmocka_unit_test(fetch_too_long),
		cmocka_unit_test(imap_list_status_search),
		cmocka_unit_test(parse_values),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(cred_warnings),
		cmocka_unit_test(mask_note),
		cmocka_unit_test(pop3_auth_code),
		cmocka_unit_test(imap_continuation),
		cmocka_unit_test(starttls_in_tls),
		cmocka_unit_test(port_roles),
		cmocka_unit_test(imap_notag),
		cmocka_unit_test(smtp_relay_denied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
