/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * output.c: the only place that writes session output, and the one place
 * where every text meets the terminal: the text of every event (server
 * lines and annotations alike, since annotations quote the server) and
 * every lesson text goes through show_bytes / show_text (protocols/
 * util.c), so no server byte, no C1 control and no bidi character
 * reaches the terminal raw.  The colour codes added here are the only
 * escape sequences written.  With --log / /log, the same lines also go,
 * without colour, to a transcript file.
 */
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct out_opts opts;
static bool (*ed_hide)(void);
static void (*ed_show)(void);
static bool hidden;
static long json_t0;		/* monotonic ms at out_setup: JSON "t" */

/* Room for a whole input line shown with escapes (4x) plus prefix. */
#define SHOW_CAP (PP_IN_CAP * 4 + 64)
static char showbuf[SHOW_CAP];
static char jsonbuf[SHOW_CAP * 2 + 128];

#define C_RESET "\033[0m"
#define C_SEND "\033[1;36m"
#define C_RECV "\033[32m"
#define C_NOTE "\033[34m"
#define C_EXPL "\033[2m"
#define C_WARN "\033[1;33m"
#define C_ERR "\033[1;31m"

void
out_setup(const struct out_opts *o)
{
	opts = *o;
	json_t0 = util_now_ms();
	/* large buffer: bulk transfers print many lines */
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
}

void
out_set_editor(bool (*hide)(void), void (*show)(void))
{
	ed_hide = hide;
	ed_show = show;
	hidden = false;
}

void
out_redraw(void)
{
	fflush(stdout);
	if (hidden && ed_show)
		ed_show();
	hidden = false;
}

bool
out_color(void)
{
	return opts.color;
}

void
out_flush(void)
{
	fflush(stdout);
}

static void
hide_editor(void)
{
	if (!hidden && ed_hide)
		hidden = ed_hide();
}

/* ---- the transcript (--log, /log) ---- */

static FILE *tlog;
static char logpath[4096];
static bool log_failed;		/* a write error was reported */

/* Reports a write error on the transcript once (not fatal). */
static void
log_check(void)
{
	if (fflush(tlog) == 0 && !ferror(tlog))
		return;
	if (log_failed)
		return;
	log_failed = true;
	int e = errno;
	fflush(stdout);
	fprintf(stderr, _("mailsh: cannot write the transcript %s: %s "
	    "(the session goes on)\n"), logpath, strerror(e));
}

/* One screen line into the transcript, as printed, without colour. */
static void
log_line(const char *pfx, const char *text, size_t len, const char *end)
{
	fputs(pfx, tlog);
	fwrite(text, 1, len, tlog);
	fputs(end, tlog);
	putc('\n', tlog);
	log_check();
}

/* See output.h. */
int
out_log_open(const char *path)
{
	/* util_open_private: O_NOFOLLOW (a symlink planted in a shared
	 * directory must not redirect the transcript), a regular file
	 * only, appended to (never overwritten), 0600 (it holds what the
	 * server said) */
	unsigned mode;
	int fd = util_open_private(path, false, &mode);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "a");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	out_log_close();
	tlog = f;
	log_failed = false;
	snprintf(logpath, sizeof(logpath), "%s", path);
	return 0;
}

/* See output.h. */
void
out_log_close(void)
{
	if (!tlog)
		return;
	if (fclose(tlog) != 0 && !log_failed) {
		int e = errno;
		fprintf(stderr, _("mailsh: cannot write the transcript %s: "
		    "%s\n"), logpath, strerror(e));
	}
	tlog = NULL;
}

/* See output.h. */
const char *
out_log_path(void)
{
	return tlog ? logpath : NULL;
}

/* The last server a session was opened with (for /log during one). */
static char last_host[256], last_port[32];

/* See output.h. */
void
out_log_session(const char *host, const char *port)
{
	if (host) {
		snprintf(last_host, sizeof(last_host), "%s", host);
		snprintf(last_port, sizeof(last_port), "%s", port);
	}
	if (!tlog)
		return;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	if (!localtime_r(&now, &tm) ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	char line[1024];
	if (host || last_host[0])
		/* TRANSLATORS: the header line of a session in the --log
		   transcript: date and time, host, port */
		snprintf(line, sizeof(line), _("--- %s: session with %s "
		    "port %s ---"), when, last_host, last_port);
	else
		snprintf(line, sizeof(line), _("--- %s: mailsh, not "
		    "connected ---"), when);
	char shown[sizeof(line) * 4];
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, line, strlen(line));
	log_line("", sb.buf, sb.len, "");
}

/* See output.h. */
void
out_log_forget(void)
{
	last_host[0] = last_port[0] = '\0';
}

static const char *const json_names[] = {
	[PP_EV_SEND] = "send", [PP_EV_RECV] = "recv",
	[PP_EV_INJECT] = "inject", [PP_EV_TLS] = "tls",
	[PP_EV_NOTE] = "note", [PP_EV_EXPLAIN] = "explain",
	[PP_EV_WARN] = "warn", [PP_EV_ERROR] = "error",
	[PP_EV_CLOSE] = "close",
};

/* ---- JSON, version 1 (docs/json.md, docs/mailsh-json.schema.json) ---- */

#define JSON_VERSION 1
static bool json_started;	/* the "start" event is out */

/* "t": seconds since the start, monotonic, with milliseconds; printed
 * by hand so that no locale turns the dot into a comma. */
static void
json_head(struct sbuf *sb, const char *event, const char *text, bool tls)
{
	long ms = util_now_ms() - json_t0;
	if (ms < 0)
		ms = 0;
	sbuf_printf(sb, "{\"t\":%ld.%03ld,\"event\":\"%s\",\"text\":\"",
	    ms / 1000, ms % 1000, event);
	json_escape(sb, text);
	sbuf_printf(sb, "\",\"tls\":%s", tls ? "true" : "false");
}

static void
json_str(struct sbuf *sb, const char *key, const char *val)
{
	sbuf_printf(sb, ",\"%s\":\"", key);
	json_escape(sb, val);
	sbuf_puts(sb, "\"");
}

static void
json_end(struct sbuf *sb)
{
	if (sb->truncated) {
		/* never half an object: say so in a valid line instead */
		sb->len = 0;
		sb->truncated = false;
		json_head(sb, "error", "(event too large for JSON output)",
		    false);
		json_str(sb, "id", "output.too-large");
	}
	sbuf_puts(sb, "}\n");
	fwrite(sb->buf, 1, sb->len, stdout);
}

/* The first line of every --json stream: the format's version. */
static void
json_start(void)
{
	if (json_started)
		return;
	json_started = true;
	char buf[256];
	struct sbuf sb;
	sbuf_init(&sb, buf, sizeof(buf));
	json_head(&sb, "start", "mailsh " MAILSH_VERSION, false);
	sbuf_printf(&sb, ",\"v\":%d", JSON_VERSION);
	json_str(&sb, "version", MAILSH_VERSION);
	json_end(&sb);
}

/* What a received line is: ok / no / bad / bye / cont / data. */
static const char *
json_status(const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	switch (rl->kind) {
	case PP_R_CONT: return "cont";
	case PP_R_DATA: return "data";
	case PP_R_BAD: return NULL;
	default: break;
	}
	switch (rl->status) {
	case PP_S_POS: return "ok";
	case PP_S_NEG: return rl->bad ? "bad" : rl->bye ? "bye" : "no";
	default: return NULL;
	}
}

static void
json_recv(struct sbuf *sb, const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	sbuf_printf(sb, ",\"line\":%lu", ev->line);
	if (!rl)
		return;
	if (rl->code)
		sbuf_printf(sb, ",\"code\":%d", rl->code);
	if (rl->esc[0])
		json_str(sb, "esc", rl->esc);
	if (rl->tag)
		json_str(sb, "tag", rl->tag);
	const char *st = json_status(ev);
	if (st)
		sbuf_printf(sb, ",\"status\":\"%s\"", st);
	sbuf_printf(sb, ",\"last\":%s", rl->last ? "true" : "false");
	if (rl->kind == PP_R_BAD)
		sbuf_puts(sb, ",\"invalid\":true");
	if (rl->greeting)
		sbuf_puts(sb, ",\"greeting\":true");
	if (rl->bare_lf)
		sbuf_puts(sb, ",\"bare_lf\":true");
	if (rl->literal)
		sbuf_printf(sb, ",\"literal\":%llu",
		    (unsigned long long)rl->literal);
	if (rl->truncated)
		sbuf_puts(sb, ",\"truncated\":true");
}

static void
json_tls(struct sbuf *sb, const struct tls_facts *f)
{
	json_str(sb, "version", f->version);
	json_str(sb, "cipher", f->cipher);
	if (f->group[0])
		json_str(sb, "group", f->group);
	if (f->servername[0])
		json_str(sb, "servername", f->servername);
	if (f->sni[0])
		json_str(sb, "sni", f->sni);
	sbuf_printf(sb, ",\"cert\":%s,\"verified\":%s",
	    f->cert ? "true" : "false", f->verified ? "true" : "false");
	if (!f->verified && f->verify_error[0])
		json_str(sb, "verify_error", f->verify_error);
	if (!f->cert)
		return;
	json_str(sb, "subject", f->subject);
	json_str(sb, "issuer", f->issuer);
	sbuf_puts(sb, ",\"san\":[");
	for (int i = 0; i < f->nsan; i++) {
		sbuf_puts(sb, i ? ",\"" : "\"");
		json_escape(sb, f->san[i]);
		sbuf_puts(sb, "\"");
	}
	sbuf_puts(sb, "]");
	if (f->not_before[0])
		json_str(sb, "not_before", f->not_before);
	if (f->not_after[0])
		json_str(sb, "not_after", f->not_after);
	if (f->sha256[0])
		json_str(sb, "sha256", f->sha256);
	/* issue 11: key, signature, days left, OCSP, client certificate */
	json_str(sb, "key_type", f->key_type);
	sbuf_printf(sb, ",\"key_bits\":%d", f->key_bits);
	if (f->key_curve[0])
		json_str(sb, "key_curve", f->key_curve);
	json_str(sb, "sig_alg", f->sig_alg);
	sbuf_printf(sb, ",\"days_left\":%ld", f->days_left);
	json_str(sb, "ocsp", f->ocsp);
	if (strcmp(f->ocsp, "none") != 0)
		sbuf_printf(sb, ",\"ocsp_verified\":%s",
		    f->ocsp_verified ? "true" : "false");
	sbuf_printf(sb, ",\"must_staple\":%s,\"client_cert_asked\":%s,"
	    "\"client_cert_sent\":%s", f->must_staple ? "true" : "false",
	    f->client_cert_asked ? "true" : "false",
	    f->client_cert_sent ? "true" : "false");
}

static void
print_json(const struct pp_event *ev, const char *text)
{
	struct sbuf sb;
	json_start();
	sbuf_init(&sb, jsonbuf, sizeof(jsonbuf));
	json_head(&sb, json_names[ev->kind], text, ev->tls);
	if (ev->kind == PP_EV_RECV)
		json_recv(&sb, ev);
	else if (ev->line)
		sbuf_printf(&sb, ",\"line\":%lu", ev->line);
	if (ev->id)
		json_str(&sb, "id", ev->id);
	if (ev->kind == PP_EV_CLOSE)
		json_str(&sb, "reason", ev->reason ? ev->reason : "closed");
	if (ev->tlsf)
		json_tls(&sb, ev->tlsf);
	if (ev->redacted)
		sbuf_puts(&sb, ",\"redacted\":true");
	json_end(&sb);
}

int
out_exit(int status)
{
	if (!opts.json)
		return status;
	json_start();
	char buf[128];
	struct sbuf sb;
	sbuf_init(&sb, buf, sizeof(buf));
	json_head(&sb, "exit", "", false);
	sbuf_printf(&sb, ",\"status\":%d", status);
	json_end(&sb);
	fflush(stdout);
	return status;
}

/* -q: message text is counted, not shown, and summed up in one note
 * when it ends (the next event of any other kind).  --json still has
 * every line, and so has the line editor: the line typed is erased
 * from the screen and shown again as "C:", or it would vanish. */
static unsigned long long text_lines, text_octets;
static bool text_summary;	/* that note: shown despite -q */

static void
say_text_summary(void)
{
	char l[32], o[32], ls[64], os[64];
	num_fmt(l, sizeof(l), text_lines);
	num_fmt(o, sizeof(o), text_octets);
	snprintf(ls, sizeof(ls), ngettext("%s line", "%s lines",
	    text_lines > 1000000 ? 1000000 + text_lines % 1000000 :
	    text_lines), l);
	snprintf(os, sizeof(os), ngettext("%s octet", "%s octets",
	    text_octets > 1000000 ? 1000000 + text_octets % 1000000 :
	    text_octets), o);
	text_lines = text_octets = 0;
	text_summary = true;
	/* TRANSLATORS: -q shows this instead of the lines of a message
	 * (or IMAP literal) sent: "message text: 3 lines, 120 octets" */
	out_say(PP_EV_NOTE, _("message text: %s, %s"), ls, os);
	text_summary = false;
}

/*
 * --pipeline: what a command sent ahead makes the screen show (its C:
 * line, notes on it) is held back and shown right before its reply, so
 * the transcript reads as one command at a time.  Held events are
 * copies (text, id); received lines are never held.
 */
struct out_held {
	struct pp_event ev;
	char *text, *id;
	struct out_held *next;
};
struct out_batch {
	struct out_held *head, **tail;
};
static struct out_batch *capture;	/* events go here, not out */

struct out_batch *
out_capture_begin(void)
{
	struct out_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->tail = &b->head;
	capture = b;
	return b;
}

void
out_capture_end(void)
{
	capture = NULL;
}

static bool
hold_event(const struct pp_event *ev)
{
	struct out_held *h = calloc(1, sizeof(*h));
	char *text = malloc(ev->len + 1);
	char *id = ev->id ? strdup(ev->id) : NULL;
	if (!h || !text || (ev->id && !id)) {
		free(h);
		free(text);
		free(id);
		return false;	/* shown now rather than lost */
	}
	memcpy(text, ev->text, ev->len);
	text[ev->len] = '\0';
	h->ev = *ev;
	h->ev.text = h->text = text;
	h->ev.id = h->id = id;
	h->ev.rl = NULL;
	h->ev.tlsf = NULL;
	h->ev.reason = NULL;
	*capture->tail = h;
	capture->tail = &h->next;
	return true;
}

void
out_batch_show(struct out_batch *b)
{
	if (!b)
		return;
	if (capture == b)
		capture = NULL;
	struct out_held *h = b->head;
	while (h) {
		struct out_held *next = h->next;
		out_event(NULL, &h->ev);
		explicit_bzero(h->text, h->ev.len);	/* may be a secret's
							 * masked line: cheap */
		free(h->text);
		free(h->id);
		free(h);
		h = next;
	}
	free(b);
}

bool
out_text_counted(void)
{
	return opts.quiet && !opts.json && !ed_hide && !capture;
}

void
out_text_add(unsigned long lines, size_t octets)
{
	text_lines += lines;
	text_octets += octets;
}

void
out_event(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	if (capture && ev->kind != PP_EV_RECV && ev->kind != PP_EV_ERROR &&
	    hold_event(ev))
		return;
	if (opts.quiet && !opts.json && !ed_hide && ev->kind == PP_EV_SEND &&
	    ev->data) {
		out_text_add(1, ev->len + 2);	/* with its CRLF */
		return;
	}
	if (opts.quiet && !text_summary && (ev->kind == PP_EV_NOTE ||
	    ev->kind == PP_EV_EXPLAIN))
		return;
	if (text_lines > 0)	/* before showbuf is filled: it uses it too */
		say_text_summary();
	struct sbuf sb;
	/* the prefix goes in front later: leave room for it */
	enum { PFX_ROOM = 48 };
	sbuf_init(&sb, showbuf + PFX_ROOM, sizeof(showbuf) - PFX_ROOM - 16);
	/* every kind: annotations quote server text (an EHLO keyword, an
	 * ALERT, a certificate's subject) */
	show_bytes(&sb, ev->text, ev->len);

	hide_editor();

	const char *pfx, *col;
	FILE *f = stdout;
	switch (ev->kind) {
	case PP_EV_SEND: pfx = "C: "; col = C_SEND; break;
	case PP_EV_RECV: pfx = "S: "; col = C_RECV; break;
	case PP_EV_INJECT: pfx = _("   ! injected, dropped: "); col = C_WARN;
		break;
	case PP_EV_TLS:
	case PP_EV_NOTE:
	case PP_EV_CLOSE: pfx = "   * "; col = C_NOTE; break;
	case PP_EV_EXPLAIN: pfx = "   = "; col = C_EXPL; break;
	case PP_EV_WARN: pfx = "   ! "; col = C_WARN; break;
	case PP_EV_ERROR:
	default:
		fflush(stdout);
		f = stderr;
		pfx = "mailsh: ";
		col = C_ERR;
		break;
	}
	const char *end = ev->rl && ev->rl->truncated ? " [...]" : "";
	/* the transcript is plain text, with --json too */
	if (tlog)
		log_line(pfx, sb.buf, sb.len, end);
	if (opts.json) {
		print_json(ev, sb.buf);
		return;
	}
	if (opts.color || *end || strlen(pfx) > PFX_ROOM) {
		if (opts.color)
			fputs(col, f);
		fputs(pfx, f);
		fwrite(sb.buf, 1, sb.len, f);
		fputs(end, f);
		if (opts.color)
			fputs(C_RESET, f);
		putc('\n', f);
	} else {
		/* one write per line: this runs for every line of a bulk
		 * transfer */
		size_t pl = strlen(pfx);
		char *line = sb.buf - pl;
		memcpy(line, pfx, pl);
		sb.buf[sb.len] = '\n';
		fwrite(line, 1, pl + sb.len + 1, f);
	}
	if (f == stderr)
		fflush(stderr);
}

void
out_text(const char *text)
{
	hide_editor();
	if (tlog) {
		show_fputs(tlog, text);
		log_check();
	}
	if (opts.json) {
		char buf[8192];
		struct sbuf sb;
		json_start();
		sbuf_init(&sb, buf, sizeof(buf));
		json_head(&sb, "lesson", text, false);
		json_end(&sb);
		return;
	}
	/* lesson files may come from anyone: line ends stay, nothing else
	 * that could steer the terminal */
	show_fputs(stdout, text);
}

void
out_block(const char *id, const char *text)
{
	if (!opts.json) {
		out_text(text);
		return;
	}
	/* as the screen shows it (show_text), then JSON-escaped */
	struct sbuf sb;
	sbuf_init(&sb, showbuf, sizeof(showbuf));
	show_text(&sb, text, strlen(text));
	json_start();
	struct sbuf js;
	sbuf_init(&js, jsonbuf, sizeof(jsonbuf));
	json_head(&js, "tls", showbuf, true);
	json_str(&js, "id", id);
	json_end(&js);
}

void
out_say(enum pp_ev kind, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the shell's own messages share one id per kind in version 1 */
	static const char *const ids[] = {
		[PP_EV_TLS] = "shell.tls", [PP_EV_NOTE] = "shell.note",
		[PP_EV_EXPLAIN] = "shell.explain", [PP_EV_WARN] = "shell.warn",
		[PP_EV_ERROR] = "shell.error",
	};
	struct pp_event ev = { .kind = kind, .text = msg,
	    .len = strlen(msg),
	    .id = (size_t)kind < sizeof(ids) / sizeof(ids[0]) ? ids[kind]
	    : NULL };
	out_event(NULL, &ev);
}
