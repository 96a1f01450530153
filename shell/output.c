/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * output.c: the only place that writes session output.
 */
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct out_opts opts;
static bool (*ed_hide)(void);
static void (*ed_show)(void);
static bool hidden;

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

static const char *const json_names[] = {
	[PP_EV_SEND] = "send", [PP_EV_RECV] = "recv",
	[PP_EV_INJECT] = "inject", [PP_EV_TLS] = "tls",
	[PP_EV_NOTE] = "note", [PP_EV_EXPLAIN] = "explain",
	[PP_EV_WARN] = "warn", [PP_EV_ERROR] = "error",
	[PP_EV_CLOSE] = "close",
};

static void
print_json(const struct pp_event *ev, const char *text)
{
	struct sbuf sb;
	sbuf_init(&sb, jsonbuf, sizeof(jsonbuf));
	sbuf_printf(&sb, "{\"event\":\"%s\",\"text\":\"",
	    json_names[ev->kind]);
	json_escape(&sb, text);
	sbuf_printf(&sb, "\",\"tls\":%s", ev->tls ? "true" : "false");
	if (ev->redacted)
		sbuf_puts(&sb, ",\"redacted\":true");
	if (ev->rl && ev->rl->truncated)
		sbuf_puts(&sb, ",\"truncated\":true");
	sbuf_puts(&sb, "}\n");
	fwrite(sb.buf, 1, sb.len, stdout);
}

/* -q: message text is counted, not shown, and summed up in one note
 * when it ends (the next event of any other kind).  --json still has
 * every line. */
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

void
out_event(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	if (opts.quiet && !opts.json && ev->kind == PP_EV_SEND && ev->data) {
		text_lines++;
		text_octets += ev->len + 2;	/* with its CRLF */
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
	bool raw = ev->kind == PP_EV_SEND || ev->kind == PP_EV_RECV ||
	    ev->kind == PP_EV_INJECT;
	if (raw)
		show_bytes(&sb, ev->text, ev->len);
	else
		sbuf_add(&sb, ev->text, ev->len);

	hide_editor();
	if (opts.json) {
		print_json(ev, sb.buf);
		return;
	}

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
	if (opts.json) {
		struct pp_event ev = { .kind = PP_EV_NOTE, .text = text,
		    .len = strlen(text) };
		char buf[8192];
		struct sbuf sb;
		sbuf_init(&sb, buf, sizeof(buf));
		sbuf_puts(&sb, "{\"event\":\"lesson\",\"text\":\"");
		json_escape(&sb, text);
		sbuf_puts(&sb, "\"}\n");
		fwrite(sb.buf, 1, sb.len, stdout);
		(void)ev;
		return;
	}
	fputs(text, stdout);
}

void
out_say(enum pp_ev kind, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct pp_event ev = { .kind = kind, .text = msg,
	    .len = strlen(msg) };
	out_event(NULL, &ev);
}
