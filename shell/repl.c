/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * repl.c: the two ways to drive a session.
 *
 * Interactive: readline's callback interface (GNU readline or libedit)
 * and poll() on the terminal and the socket, so server lines that arrive
 * while the user types are printed above the line being edited.
 *
 * Scripted (stdin not a terminal, or -f): one line is sent, then mailsh
 * waits for the complete reply before the next, so a piped session is
 * deterministic.
 */
#include "shell.h"
#include "labrun.h"
#include "lineedit.h"
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define INPUT_MAX (64 * 1024)	/* longest line read from a script */

void
shell_fail(struct shell *sh, enum ms_err e)
{
	if (sh->status == 0 && e != MS_OK)
		sh->status = e;
}

enum ms_err
shell_open(struct shell *sh, const char *host, const char *port,
    bool tls, bool plain)
{
	const struct pp_proto *proto = sh->force_proto;
	char portbuf[16];
	bool port_tls = false;
	if (!port) {
		const struct pp_proto *p = proto ? proto : &proto_smtp;
		snprintf(portbuf, sizeof(portbuf), "%d", tls
		    ? p->default_tls_port : p->default_port);
		port = portbuf;
		if (!proto)
			out_say(PP_EV_NOTE, _("no port given: using %s (%s)"),
			    port, p->name);
		proto = p;
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (*port == '\0' || *end || pn < 1 || pn > 65535) {
		out_say(PP_EV_ERROR, _("\"%s\" is not a port number (1 to "
		    "65535)"), port);
		shell_fail(sh, MS_EUSAGE);
		return MS_EUSAGE;
	}
	const struct pp_proto *guess = pp_proto_for_port((int)pn, &port_tls);
	sh->pp.guessed = proto == NULL;
	sh->pp.proto = proto ? proto : guess;
	if (!proto && guess)
		sh->pp.guessed = true;
	bool use_tls = !plain && (tls || port_tls);
	out_log_session(host, port);	/* the transcript's header line */
	sh->lqn = 0;
	enum ms_err r = pp_open(&sh->pp, host, port, sh->family,
	    sh->timeout_ms, use_tls);
	if (r != MS_OK) {
		shell_fail(sh, r);
		return r;
	}
	if (!sh->pp.proto)
		out_say(PP_EV_NOTE, _("port %s is not a standard mail port: "
		    "the greeting will tell the protocol"), port);
	return MS_OK;
}

/* After the connection ended: was that a failure? */
static void
note_close(struct shell *sh, enum ms_err r)
{
	if (r == MS_ETLS)
		shell_fail(sh, MS_ETLS);
	else if (r == MS_ETIMEOUT)
		shell_fail(sh, MS_ETIMEOUT);
	else if (!sh->pp.close_expected)
		shell_fail(sh, MS_ECLOSED);
}

enum ms_err
shell_wait_reply(struct shell *sh)
{
	struct pp *pp = &sh->pp;
	long deadline = util_now_ms() + sh->timeout_ms;
	while (!got_sigterm && pp_connected(pp) &&
	    (pp->awaiting || !pp->greeted)) {
		uint64_t before = pp->bytes_in;
		if (!pp_pending(pp)) {
			long left = deadline - util_now_ms();
			if (left <= 0) {
				if (!pp->greeted && !conn_is_tls(&pp->conn) &&
				    pp->bytes_in == 0)
					out_say(PP_EV_ERROR, _("no greeting "
					    "within %d s: does this port expect "
					    "implicit TLS? try --tls"),
					    sh->timeout_ms / 1000);
				else
					out_say(PP_EV_ERROR, _("no complete "
					    "reply within %d s (--timeout): "
					    "closing"), sh->timeout_ms / 1000);
				pp_close_as(pp, "timeout", NULL);
				shell_fail(sh, MS_ETIMEOUT);
				return MS_ETIMEOUT;
			}
			struct pollfd p = { .fd = pp->conn.fd,
			    .events = POLLIN };
			int n = poll(&p, 1, (int)left);
			if (n < 0 && errno == EINTR) {
				if (got_sigterm)
					return MS_OK;	/* leaving */
				if (got_sigint) {
					got_sigint = 0;
					out_say(PP_EV_NOTE, _("interrupted: "
					    "not waiting for the reply"));
					pp->awaiting = false;
					return MS_OK;
				}
				continue;
			}
			if (n == 0)
				continue;
		}
		enum ms_err r = pp_input(pp);
		if (shell_check_abort(sh))
			return MS_EDOWNGRADE;
		if (r != MS_OK) {
			note_close(sh, r);
			return r;
		}
		if (pp->bytes_in != before)
			deadline = util_now_ms() + sh->timeout_ms;
	}
	return MS_OK;
}

enum ms_err
shell_send(struct shell *sh, const char *line, size_t n,
    struct pp_sinfo *si)
{
	if (n >= 2 && line[0] == '/' && line[1] == '/' &&
	    !sh->pp.in_data && sh->pp.ps.client_literal == 0) {
		line++;
		n--;
	}
	if (!pp_connected(&sh->pp)) {
		out_say(PP_EV_ERROR, _("not connected: use /open HOST [PORT] "
		    "first"));
		return MS_EUSAGE;
	}
	struct pp_sinfo ci;
	struct pp_pstate *ps = &sh->pp.ps;
	if (sh->pp.proto && sh->pp.proto->id == PROTO_SMTP &&
	    ps->client_literal > 0 && (uint64_t)n + 2 > ps->client_literal) {
		/* RFC 3030 2: the chunk is exactly the octets announced */
		char left[NUM_FMT_MAX];
		num_fmt(left, sizeof(left), ps->client_literal);
		out_say(PP_EV_ERROR, ngettext("this line and its CRLF are "
		    "longer than the %s octet left of the BDAT chunk: not "
		    "sent (shorten it, or send the exact bytes with /raw)",
		    "this line and its CRLF are longer than the %s octets "
		    "left of the BDAT chunk: not sent (shorten it, or send "
		    "the exact bytes with /raw)",
		    (unsigned long)ps->client_literal), left);
		shell_fail(sh, MS_EUSAGE);
		return MS_EUSAGE;
	}
	if (sh->pp.in_data && !(n == 1 && line[0] == '.')) {
		/* message text: no need to ask the protocol (bulk path) */
		ci = (struct pp_sinfo){ .data = true, .stuff = n > 0 &&
		    line[0] == '.' };
	} else {
		pp_classify_send(&sh->pp, line, n, &ci);
	}
	enum ann_verdict v = ann_before_send(&sh->ann, line, n, &ci);
	if (v != ANN_SEND) {
		if (si) {
			*si = ci;
			si->expect_reply = false;
		}
		if (v == ANN_REFUSE) {
			if (!sh->interactive) {
				pp_close_as(&sh->pp, "require-tls",
				    _("closed: --require-tls"));
				shell_fail(sh, MS_EDOWNGRADE);
			}
			return MS_EDOWNGRADE;
		}
		/* -q and --annotate off show less, but never skip this
		 * question: only --no-confirm does */
		if (sh->interactive && !sh->no_confirm &&
		    !repl_confirm(sh, _("send it anyway? [y/N] "))) {
			out_say(PP_EV_NOTE, _("not sent"));
			return MS_OK;
		}
	}
	/* IMAP tags "a<N>": completion offers the next number */
	if (sh->pp.proto && sh->pp.proto->id == PROTO_IMAP && n > 1 &&
	    (line[0] == 'a' || line[0] == 'A') && ci.expect_reply &&
	    !ci.data) {
		char *end;
		unsigned long t = strtoul(line + 1, &end, 10);
		if (end > line + 1 && *end == ' ' && t > sh->tagno &&
		    t < 1000000)
			sh->tagno = (unsigned)t;
	}
	lesson_sent(sh, line, n);
	enum ms_err r = pp_send(&sh->pp, line, n, si);
	if (r == MS_ECLOSED || r == MS_ETIMEOUT)
		note_close(sh, r);
	return r;
}

/*
 * --pipeline: the output of a command sent while others still await
 * their replies, held until the reply to it is due (the number of
 * replies complete by then is its target).
 */
static struct {
	struct out_batch *b;
	unsigned long target;
	char *line;		/* for the annotator, then wiped */
	size_t n;
} ahead[PP_QUEUE_MAX];
static unsigned nahead;
static unsigned long replies_done;

/* Shows what was held for the commands whose reply is due (all: when
 * the connection ends). */
static void
show_ahead(struct shell *sh, bool all)
{
	while (nahead > 0 && (all || ahead[0].target <= replies_done)) {
		if (!all)
			ann_answering(&sh->ann, ahead[0].line, ahead[0].n);
		out_batch_show(ahead[0].b);
		explicit_bzero(ahead[0].line, ahead[0].n);
		free(ahead[0].line);
		memmove(ahead, ahead + 1, (nahead - 1) * sizeof(ahead[0]));
		nahead--;
	}
}

/* Copies the first word of s (at most cap - 1 bytes). */
static void
first_word(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	while (k < n && s[k] != ' ' && k + 1 < cap) {
		out[k] = s[k];
		k++;
	}
	out[k] = '\0';
}

/* Remembers a complete reply (its last line): for /expect and for the
 * exit status of a script. */
static void
note_reply(struct shell *sh, const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	const char *s = ev->text;
	size_t n = ev->len;
	bool untagged_bad = rl->kind == PP_R_UNTAGGED && n >= 5 &&
	    strncasecmp(s, "* BAD", 5) == 0 && (n == 5 || s[5] == ' ');
	if (!rl->last && !untagged_bad)
		return;
	unsigned long lineno = sh->sent_lineno;
	if (rl->last && !rl->greeting)
		replies_done++;
	if (rl->last && !rl->greeting && sh->lqn > 0) {
		lineno = sh->lq[0];	/* the command this reply answers */
		memmove(sh->lq, sh->lq + 1, (sh->lqn - 1) * sizeof(sh->lq[0]));
		sh->lqn--;
	}
	if (rl->kind != PP_R_STATUS && rl->kind != PP_R_CONT &&
	    !untagged_bad)
		return;
	unsigned long seq = sh->reply.seq + 1;
	memset(&sh->reply, 0, sizeof(sh->reply));
	sh->reply.seq = seq;
	sh->reply.have = true;
	sh->reply.code = rl->code;
	size_t tn = n < sizeof(sh->reply.text) - 1 ? n :
	    sizeof(sh->reply.text) - 1;
	memcpy(sh->reply.text, s, tn);
	sh->reply.text[tn] = '\0';
	if (rl->kind == PP_R_CONT) {	/* a challenge, for /auth */
		size_t cn = n < sizeof(sh->cont) ? n : sizeof(sh->cont);
		memcpy(sh->cont, s, cn);
		sh->cont_len = cn;
		sh->cont_trunc = cn < n || rl->truncated;
		sh->cont_seq = seq;
	}
	const char *w = s;
	size_t wn = n;
	if (rl->code) {			/* SMTP: "250-2.1.0 text" */
		w = n > 4 ? s + 4 : s + n;
		wn = n > 4 ? n - 4 : 0;
		size_t k = 0;
		while (k < wn && (w[k] == '.' || (w[k] >= '0' &&
		    w[k] <= '9')))
			k++;
		if (k >= 5 && k < sizeof(sh->reply.esc) && (k == wn ||
		    w[k] == ' ') && w[1] == '.')
			memcpy(sh->reply.esc, w, k);
		snprintf(sh->reply.word, sizeof(sh->reply.word), "%d",
		    rl->code);
	} else {
		if (rl->tag || untagged_bad) {	/* IMAP: after the tag */
			const char *sp = memchr(s, ' ', n);
			w = sp ? sp + 1 : s + n;
			wn = (size_t)(s + n - w);
		}
		first_word(w, wn, sh->reply.word, sizeof(sh->reply.word));
	}
	sh->reply.negative = rl->status == PP_S_NEG &&
	    (rl->kind == PP_R_STATUS || untagged_bad);
	/* a lesson expects refusals: they are what it teaches */
	sh->reply.unchecked = sh->reply.negative && !rl->greeting &&
	    !sh->lesson;
	sh->reply.lineno = lineno;
	if (sh->reply.unchecked && !sh->neg.pending) {
		sh->neg.pending = true;
		sh->neg.seq = seq;
		sh->neg.lineno = lineno;
		memcpy(sh->neg.text, sh->reply.text, sizeof(sh->neg.text));
	}
}

void
shell_emit(void *ctx, const struct pp_event *ev)
{
	struct shell *sh = ctx;
	if (ev->kind == PP_EV_RECV && nahead > 0)
		show_ahead(sh, false);
	if (ev->kind == PP_EV_CLOSE && nahead > 0)
		show_ahead(sh, true);
	if (ev->kind == PP_EV_RECV && ev->rl)
		note_reply(sh, ev);
	if (ev->kind == PP_EV_SEND)
		sh->recent_len = 0;
	if (ev->kind == PP_EV_RECV && !sh->wait_re && sh->script) {
		size_t k = ev->len < 1024 ? ev->len : 1024;
		if (sh->recent_len + k + 1 > sizeof(sh->recent))
			sh->recent_len = 0;	/* keep the newest */
		for (size_t i = 0; i < k; i++)	/* no NUL inside a line */
			sh->recent[sh->recent_len + i] = ev->text[i] ?
			    ev->text[i] : ' ';
		sh->recent_len += k;
		sh->recent[sh->recent_len++] = '\n';
	}
	if (ev->kind == PP_EV_RECV && sh->wait_re && !sh->wait_hit) {
		char line[4096];
		size_t k = ev->len < sizeof(line) - 1 ? ev->len :
		    sizeof(line) - 1;
		memcpy(line, ev->text, k);
		line[k] = '\0';
		sh->wait_hit = regexec(sh->wait_re, line, 0, NULL, 0) == 0;
	}
	ann_event(&sh->ann, ev);
	if (sh->lesson)
		lesson_event(sh, ev);
}

bool
shell_pipelining(const struct shell *sh)
{
	return sh->ann.have_caps && ann_caps_has(&sh->ann.caps,
	    "PIPELINING");
}

/* Waits for input on the connection for at most ms (or until Ctrl-C);
 * reads it.  False when the connection ended or Ctrl-C was pressed. */
static bool
pump_once(struct shell *sh, long ms)
{
	struct pp *pp = &sh->pp;
	if (!pp_pending(pp)) {
		struct pollfd p = { .fd = pp->conn.fd, .events = POLLIN };
		int k = poll(&p, 1, ms < 0 ? 0 : (int)ms);
		if (k < 0 && errno == EINTR) {
			if (got_sigint || got_sigterm) {
				got_sigint = 0;
				return false;
			}
			return true;
		}
		if (k == 0)
			return true;
	}
	enum ms_err r = pp_input(pp);
	if (shell_check_abort(sh))
		return false;
	if (r != MS_OK) {
		note_close(sh, r);
		return false;
	}
	return true;
}

bool
shell_pump(struct shell *sh, long ms)
{
	long deadline = util_now_ms() + ms;
	while (pp_connected(&sh->pp) && !got_sigterm &&
	    !(sh->wait_re && sh->wait_hit)) {
		long left = deadline - util_now_ms();
		if (left <= 0)
			return true;
		if (!pump_once(sh, left))
			return false;
	}
	return pp_connected(&sh->pp) || (sh->wait_re && sh->wait_hit);
}

bool
shell_wait_ready(struct shell *sh, const struct pp_sinfo *si)
{
	struct pp *pp = &sh->pp;
	long deadline = util_now_ms() + sh->timeout_ms;
	while (pp_connected(pp) && !got_sigterm &&
	    !pp_may_send(pp, si, shell_pipelining(sh))) {
		uint64_t before = pp->bytes_in;
		long left = deadline - util_now_ms();
		if (left <= 0) {
			out_say(PP_EV_ERROR, _("no complete reply within %d s "
			    "(--timeout): closing"), sh->timeout_ms / 1000);
			pp_close_as(pp, "timeout", NULL);
			shell_fail(sh, MS_ETIMEOUT);
			return false;
		}
		if (!pump_once(sh, left))
			return false;
		if (pp->bytes_in != before)
			deadline = util_now_ms() + sh->timeout_ms;
	}
	return pp_connected(pp);
}

bool
shell_check_abort(struct shell *sh)
{
	if (!sh->ann.abort)
		return false;
	shell_fail(sh, (enum ms_err)sh->ann.abort);
	sh->ann.abort = 0;
	if (pp_connected(&sh->pp))
		pp_close_as(&sh->pp, "require-tls",
		    _("closed: --require-tls"));
	return true;
}

/* The script, read in blocks with read(2): bulk message text must not
 * cost a stdio call per line. */
static struct {
	char buf[INPUT_MAX];
	size_t start, len;	/* unread bytes: buf[start..start+len) */
	bool eof;
} in;

/*
 * Returns the next line of the script (line end stripped, NUL-terminated,
 * valid until the next call) and its length in *len, or NULL at the end
 * of input.  A line longer than INPUT_MAX - 2 sets *toolong and is
 * skipped, never cut.
 */
static char *
script_line(struct shell *sh, size_t *len, bool *toolong)
{
	int fd = fileno(sh->script);
	*toolong = false;
	for (;;) {
		char *s = in.buf + in.start;
		char *lf = memchr(s, '\n', in.len);
		if (lf || (in.eof && in.len > 0)) {
			size_t n = lf ? (size_t)(lf - s) : in.len;
			size_t used = lf ? n + 1 : n;
			in.start += used;
			in.len -= used;
			if (*toolong)
				return s;	/* the tail of the long line */
			s[n] = '\0';	/* the LF, or room kept below */
			if (n > 0 && s[n - 1] == '\r')
				s[--n] = '\0';
			*len = n;
			return s;
		}
		if (in.eof)
			return NULL;
		if (in.start + in.len == sizeof(in.buf) - 1 && in.start == 0) {
			*toolong = true;	/* no LF in a full buffer */
			in.len = 0;
		}
		memmove(in.buf, in.buf + in.start, in.len);
		in.start = 0;
		ssize_t r = read(fd, in.buf + in.len, sizeof(in.buf) - 1 -
		    in.len);
		if (r < 0 && errno == EINTR && !got_sigint && !got_sigterm)
			continue;
		if (r <= 0)
			in.eof = true;
		else
			in.len += (size_t)r;
	}
}

/*
 * -q, inside a message body, a script with CRLF line ends: the lines
 * already waiting in the input buffer are sent as they are, in one go,
 * up to the first that needs a look (one starting with ".", or without
 * CR).  Returns the number of lines sent (0: none could go this way),
 * or -1 when sending failed.
 */
static long
bulk_text(struct shell *sh)
{
	const char *s = in.buf + in.start, *end = s + in.len, *p = s;
	long lines = 0;
	while (p < end && *p != '.') {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		if (!lf || lf == p || lf[-1] != '\r')
			break;
		p = lf + 1;
		lines++;
	}
	if (lines == 0)
		return 0;
	size_t n = (size_t)(p - s);
	if (pp_send_wire_text(&sh->pp, s, n) != MS_OK)
		return -1;
	out_text_add((unsigned long)lines, n);
	in.start += n;
	in.len -= n;
	sh->lineno += (unsigned long)lines;
	return lines;
}

/* After QUIT / LOGOUT the server closes: give it a moment, so the
 * transcript ends the same way each time. */
void
shell_wait_close(struct shell *sh, int ms)
{
	long deadline = util_now_ms() + ms;
	while (pp_connected(&sh->pp)) {
		long left = deadline - util_now_ms();
		if (left <= 0)
			return;
		struct pollfd p = { .fd = sh->pp.conn.fd, .events = POLLIN };
		if (!pp_pending(&sh->pp) && poll(&p, 1, (int)left) <= 0)
			return;
		if (pp_input(&sh->pp) != MS_OK)
			note_close(sh, MS_ECLOSED);
	}
}

/* Is this script line an /expect (which may take a negative reply)? */
static bool
is_expect(const char *line)
{
	return strncmp(line, "/expect", 7) == 0 && (line[7] == '\0' ||
	    line[7] == ' ' || line[7] == '\t');
}

/* Ends the session politely: QUIT, or LOGOUT with a tag of mailsh's. */
static void
polite_quit(struct shell *sh)
{
	struct pp *pp = &sh->pp;
	if (!pp_connected(pp) || pp->quit_sent || !pp->proto ||
	    pp->in_data || pp->ps.client_literal > 0)
		return;
	char line[32];
	if (pp->proto->id == PROTO_IMAP)
		snprintf(line, sizeof(line), "a%u LOGOUT", ++sh->tagno);
	else
		snprintf(line, sizeof(line), "QUIT");
	struct pp_sinfo si;
	pp_classify_send(pp, line, strlen(line), &si);
	if (!shell_wait_ready(sh, &si))
		return;
	if (shell_send(sh, line, strlen(line), &si) == MS_OK) {
		out_flush();
		shell_wait_reply(sh);
		shell_wait_close(sh, 2000);
	}
}

/*
 * A negative reply that no /expect took: the script fails with exit
 * status 8.  Returns true when the script goes on (--keep-going).
 */
static bool
reply_failed(struct shell *sh)
{
	sh->reply.unchecked = false;
	sh->neg.pending = false;
	if (sh->status != 0 && !pp_connected(&sh->pp))
		return false;	/* said already: the session is over */
	if (sh->neg.lineno)
		out_say(PP_EV_ERROR, _("line %lu: the server said no: %s"),
		    sh->neg.lineno, sh->neg.text);
	else
		out_say(PP_EV_ERROR, _("the server said no: %s"),
		    sh->neg.text);
	shell_fail(sh, MS_EREPLY);
	if (sh->keep_going)
		return true;
	out_say(PP_EV_NOTE, _("stopping here (exit status 8); --keep-going "
	    "sends the rest of the script"));
	polite_quit(sh);
	return false;
}

int
repl_script(struct shell *sh)
{
	char *line;
	size_t n;
	bool toolong, skip_message = false;

	if (pp_connected(&sh->pp))
		shell_wait_reply(sh);
	while (!sh->quit && !got_sigterm) {
		if (sh->pp.in_data && !sh->ann.in_headers && !sh->lesson &&
		    nahead == 0 && !sh->neg.pending && out_text_counted() &&
		    !skip_message) {
			long k = bulk_text(sh);
			if (k < 0) {
				note_close(sh, MS_ECLOSED);
				break;
			}
			if (k > 0)
				continue;
		}
		if (!(line = script_line(sh, &n, &toolong)))
			break;
		sh->lineno++;
		if (toolong) {
			out_say(PP_EV_ERROR, ngettext("input line %lu is "
			    "longer than %d byte: not sent", "input line %lu "
			    "is longer than %d bytes: not sent",
			    INPUT_MAX - 2), sh->lineno, INPUT_MAX - 2);
			shell_fail(sh, MS_EUSAGE);
			break;
		}
		if (sh->neg.pending && !is_expect(line) &&
		    !reply_failed(sh))
			break;
		if (sh->pp.refused & PP_Q_DATA) {
			/* the lines meant as message text must not run as
			 * commands */
			sh->pp.refused &= (uint8_t)~PP_Q_DATA;
			skip_message = true;
			out_say(PP_EV_NOTE, _("DATA was refused: the message "
			    "text up to its \".\" line is not sent"));
		}
		if (skip_message) {
			if (n == 1 && line[0] == '.')
				skip_message = false;
			continue;
		}
		if (sh->pp.in_data && !sh->ann.in_headers && !sh->lesson &&
		    nahead == 0 && !(n == 1 && line[0] == '.')) {
			/* the body of a message: the bulk path (nothing to
			 * explain, nothing to wait for) */
			bool show = !out_text_counted() || line[0] == '.';
			if (!show)
				out_text_add(1, n + 2);
			if (pp_send_text(&sh->pp, line, n, show) != MS_OK) {
				note_close(sh, MS_ECLOSED);
				break;
			}
			continue;
		}
		if (lesson_answer(sh, line)) {
			lesson_poll(sh);
			continue;
		}
		if (meta_is(sh, line)) {
			/* a meta command sees every reply sent ahead for */
			if (pp_connected(&sh->pp) && sh->pp.awaiting)
				shell_wait_reply(sh);
			if (sh->neg.pending && !is_expect(line) &&
			    !reply_failed(sh))
				break;
			out_flush();
			enum meta_result mr = meta_run(sh, line);
			if (mr == META_FAIL && sh->status != 0) {
				polite_quit(sh);	/* if still connected */
				break;
			}
			if (mr == META_SENT)
				shell_wait_reply(sh);
			if (sh->status != 0 && !pp_connected(&sh->pp))
				break;
			continue;
		}
		if (!pp_connected(&sh->pp)) {
			if (sh->status == 0) {
				out_say(PP_EV_ERROR, _("line %lu: not "
				    "connected, nothing sent (use /open HOST "
				    "[PORT])"), sh->lineno);
				shell_fail(sh, MS_EUSAGE);
			}
			break;
		}
		/* --pipeline: wait only where the protocol says so */
		struct pp_sinfo si;
		pp_classify_send(&sh->pp, line, n, &si);
		if (!shell_wait_ready(sh, &si))
			break;
		if (sh->neg.pending && !reply_failed(sh))
			break;
		if (sh->pp.refused & PP_Q_DATA) {
			sh->pp.refused &= (uint8_t)~PP_Q_DATA;
			out_say(PP_EV_NOTE, _("DATA was refused: the message "
			    "text up to its \".\" line is not sent"));
			skip_message = !(n == 1 && line[0] == '.');
			continue;
		}
		sh->sent_lineno = sh->lineno;
		unsigned qn = sh->pp.qn;
		/* sent ahead: shown when its reply is due */
		struct out_batch *held = NULL;
		if ((qn > 0 || nahead > 0) && nahead < PP_QUEUE_MAX &&
		    si.expect_reply)
			held = out_capture_begin();
		enum ms_err sr = shell_send(sh, line, n, &si);
		if (held) {
			out_capture_end();
			char *copy = malloc(n + 1);
			if (sr == MS_OK && sh->pp.qn > qn && copy) {
				memcpy(copy, line, n);
				copy[n] = '\0';
				ahead[nahead].b = held;
				ahead[nahead].target = replies_done + qn;
				ahead[nahead].line = copy;
				ahead[nahead].n = n;
				nahead++;
			} else {
				free(copy);
				out_batch_show(held);
			}
		}
		if (sr != MS_OK)
			break;
		if (sh->pp.qn > qn && sh->lqn < PP_QUEUE_MAX)
			sh->lq[sh->lqn++] = sh->lineno;
		if (si.expect_reply && !sh->pipeline) {
			out_flush();
			shell_wait_reply(sh);
		} else if (!si.data) {
			pp_input(&sh->pp);
		}
		lesson_poll(sh);
		if (!pp_connected(&sh->pp) && sh->status != 0)
			break;
	}
	if (pp_connected(&sh->pp)) {
		pp_flush(&sh->pp);
		if (sh->pp.awaiting)
			shell_wait_reply(sh);
		show_ahead(sh, true);
		if (sh->neg.pending && !got_sigterm)
			reply_failed(sh);
		if (sh->pp.quit_sent)
			shell_wait_close(sh, 2000);
		else if (pp_connected(&sh->pp) && pp_input(&sh->pp) != MS_OK)
			note_close(sh, MS_ECLOSED);
		if (pp_connected(&sh->pp))
			pp_close_as(&sh->pp, got_sigterm ? "signal" :
			    sh->pp.quit_sent ? "quit" : "end-of-input",
			    got_sigterm ? NULL
			    : _("end of input: connection closed"));
	} else if (sh->neg.pending && !got_sigterm) {
		reply_failed(sh);
	}
	return sh->status;
}

/* ---- interactive ---- */

static struct shell *ish;
static char prompt[128];
static size_t prompt_cols;
static bool editing;

static void
make_prompt(struct shell *sh)
{
	struct pp *pp = &sh->pp;
	if (!pp_connected(pp))
		snprintf(prompt, sizeof(prompt), "mailsh> ");
	else
		snprintf(prompt, sizeof(prompt), "%s %s%s> ",
		    pp->proto ? pp->proto->name : "?",
		    conn_is_tls(&pp->conn) ? "TLS" : "plain",
		    pp->in_data ? _(" DATA") : "");
	prompt_cols = strlen(prompt);
}

static void
update_prompt(void)
{
	char old[sizeof(prompt)];
	memcpy(old, prompt, sizeof(old));
	make_prompt(ish);
	if (strcmp(old, prompt) != 0 && editing) {
		rl_set_prompt(prompt);
		rl_redisplay();
	}
}

/*
 * Clears the prompt and the half-typed line before output, and draws
 * them again afterwards; readline keeps the line itself.  GNU readline
 * clears lines that wrap, too; with libedit a wrapped line leaves its
 * upper rows behind.
 */
static bool
ed_hide(void)
{
	if (!editing)
		return false;
#ifdef MAILSH_LIBEDIT
	fputs("\r\033[K", stdout);
#else
	rl_clear_visible_line();
	fputs("\r", stdout);
#endif
	return true;
}

static void
ed_show(void)
{
	if (!editing)
		return;
	make_prompt(ish);
	rl_set_prompt(prompt);
	rl_forced_update_display();
}

/* Removes the echoed input line, which the "C:" line replaces. */
static void
erase_echo(const char *line)
{
	struct winsize ws;
	size_t cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		cols = ws.ws_col;
	size_t rows = (prompt_cols + strlen(line)) / cols + 1;
	for (size_t i = 0; i < rows; i++)
		fputs("\033[A\r\033[K", stdout);
}

/*
 * Ctrl-C inside SMTP DATA: only the line being typed is gone; the
 * message is still open on the server, which waits for its end.
 */
static void
data_ctrl_c_note(void)
{
	out_say(PP_EV_EXPLAIN, _("Ctrl-C dropped only the line being typed: "
	    "the message is still open"));
	out_say(PP_EV_EXPLAIN, _("a line with a lone \".\" ends it, and the "
	    "server takes it as it is (RSET afterwards takes nothing back)"));
	out_say(PP_EV_EXPLAIN, _("to abandon it, press Ctrl-C on an empty "
	    "line: mailsh then closes the connection before the \".\""));
}

/*
 * Ctrl-C on an empty line inside DATA: the learner wants out of the
 * message.  Only closing the connection before the "." takes it back.
 */
static void
data_abandon(struct shell *sh)
{
	if (!repl_confirm(sh, _("Abandon this message? mailsh closes the "
	    "connection before the \".\", so the server delivers nothing. "
	    "[y/N] "))) {
		out_say(PP_EV_NOTE, _("the message is still open"));
		return;
	}
	sh->pp.quit_sent = true;	/* our own close, not a failure */
	pp_close_as(&sh->pp, "closed", _("closed: the message was "
	    "abandoned (nothing "
	    "delivered)"));
	out_say(PP_EV_EXPLAIN, sh->lesson ? _("/lesson again opens the "
	    "lesson's connection anew") : _("/open connects again"));
	lesson_poll(sh);
	make_prompt(sh);
#ifndef MAILSH_LIBEDIT
	rl_set_prompt(prompt);
#endif
}

/*
 * Lines typed or pasted while a reply is still to decide what they are:
 * after STARTTLS they belong inside TLS, after DATA they may be message
 * text.  They wait here, in order, and go out when the engine says they
 * may (pp_may_send); Ctrl-C drops them.
 */
#define HELD_LINES_MAX 10000
#define HELD_BYTES_MAX (8 * 1024 * 1024)
static struct {
	char **v;
	size_t cap, head, n, bytes;
	bool told;		/* "waiting for the reply" said */
} held;

static void
held_drop(size_t k)
{
	for (size_t i = 0; i < k && held.n > 0; i++) {
		char *l = held.v[held.head];
		held.bytes -= strlen(l);
		explicit_bzero(l, strlen(l));	/* may hold a password */
		free(l);
		held.head = (held.head + 1) % held.cap;
		held.n--;
	}
	if (held.n == 0)
		held.head = 0;
}

static bool
held_push(char *line)
{
	size_t len = strlen(line);
	if (held.n >= HELD_LINES_MAX || held.bytes + len > HELD_BYTES_MAX)
		return false;
	if (held.n == held.cap) {
		size_t cap = held.cap ? held.cap * 2 : 16;
		char **v = malloc(cap * sizeof(*v));
		if (!v)
			return false;
		for (size_t i = 0; i < held.n; i++)
			v[i] = held.v[(held.head + i) % held.cap];
		free(held.v);
		held.v = v;
		held.cap = cap;
		held.head = 0;
	}
	held.v[(held.head + held.n) % held.cap] = line;
	held.n++;
	held.bytes += len;
	return true;
}

/* Must this line wait for replies still pending? */
static bool
line_waits(struct shell *sh, const char *line)
{
	struct pp *pp = &sh->pp;
	if (!pp_connected(pp))
		return false;
	if (meta_is(sh, line)) {
		/* behind a sync point it may turn out to be message text */
		for (unsigned i = 0; i < pp->qn; i++)
			if (pp->q[i] & PP_Q_SYNC)
				return true;
		return false;
	}
	struct pp_sinfo si;
	pp_classify_send(pp, line, strlen(line), &si);
	return !pp_may_send(pp, &si, shell_pipelining(sh));
}

/* Runs one line the user typed: a lesson answer, a meta command, or a
 * line for the server. */
static void
run_line(struct shell *sh, const char *line, bool echoed)
{
	size_t n = strlen(line);
	if (lesson_answer(sh, line)) {
		/* a lesson question took it: nothing goes to the server */
	} else if (meta_is(sh, line)) {
		char masked[256];
		if (*line && !meta_secret(line))
			history_remember(line);
		if (echoed && isatty(STDOUT_FILENO) &&
		    meta_mask(line, masked, sizeof(masked))) {
			/* the password typed on the line leaves the screen */
			erase_echo(line);
			printf("%s%s\n", prompt, masked);
		}
		meta_run(sh, line);
	} else if (!pp_connected(&sh->pp)) {
		out_say(PP_EV_ERROR, _("not connected: use /open HOST [PORT] "
		    "first (/help lists the commands)"));
	} else {
		struct pp_sinfo si;
		if (echoed && isatty(STDOUT_FILENO))
			erase_echo(line);
		shell_send(sh, line, n, &si);
		if (!si.secret && !si.data && n > 0)
			history_remember(line);
	}
}

/* Sends what may go now; drops what a refusal made wrong. */
static void
drain_held(struct shell *sh)
{
	struct pp *pp = &sh->pp;
	if (pp->refused & PP_Q_DATA) {
		pp->refused &= (uint8_t)~PP_Q_DATA;
		size_t k = 0;
		while (k < held.n && strcmp(held.v[(held.head + k) %
		    held.cap], ".") != 0)
			k++;
		if (k < held.n)
			k++;		/* the "." too */
		if (k > 0) {
			held_drop(k);
			out_say(PP_EV_NOTE, ngettext("DATA was refused: %zu "
			    "line typed as message text is not sent",
			    "DATA was refused: %zu lines typed as message "
			    "text are not sent", k), k);
		}
	}
	if (pp->refused & PP_Q_STARTTLS) {
		pp->refused &= (uint8_t)~PP_Q_STARTTLS;
		if (held.n > 0) {
			size_t k = held.n;
			held_drop(k);
			out_say(PP_EV_NOTE, ngettext("%zu line typed for "
			    "inside TLS is not sent in plaintext", "%zu lines "
			    "typed for inside TLS are not sent in plaintext",
			    k), k);
		}
	}
	if (!pp_connected(pp) && held.n > 0) {
		size_t k = held.n;
		held_drop(k);
		out_say(PP_EV_NOTE, ngettext("%zu line typed ahead is not "
		    "sent: the connection is closed", "%zu lines typed ahead "
		    "are not sent: the connection is closed", k), k);
	}
	while (held.n > 0 && !sh->quit && !line_waits(sh,
	    held.v[held.head])) {
		char *line = held.v[held.head];
		held.v[held.head] = NULL;
		held.bytes -= strlen(line);
		held.head = (held.head + 1) % held.cap;
		held.n--;
		run_line(sh, line, false);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	if (held.n == 0)
		held.told = false;
}

static void
on_line(char *line)
{
	struct shell *sh = ish;
	if (!line) {			/* Ctrl-D */
		fputs("\n", stdout);
		sh->quit = true;
		return;
	}
	editing = false;
	if (held.n == 0 && lesson_answer(sh, line)) {
		free(line);
	} else if (held.n > 0 || line_waits(sh, line)) {
		if (isatty(STDOUT_FILENO))
			erase_echo(line);
		if (!held.told) {
			held.told = true;
			out_say(PP_EV_NOTE, _("waiting for the server's reply: "
			    "what you type now goes out after it, in order "
			    "(Ctrl-C drops it)"));
		}
		if (!held_push(line)) {
			out_say(PP_EV_ERROR, _("too much typed ahead: this "
			    "line is not kept"));
			explicit_bzero(line, strlen(line));
			free(line);
		}
	} else {
		run_line(sh, line, true);
		free(line);
	}
	out_flush();
	editing = true;
	make_prompt(sh);
#ifdef MAILSH_LIBEDIT
	/* libedit keeps the accepted line in its buffer until the next
	 * key: a redraw before that would show it again.  Start afresh. */
	rl_callback_handler_remove();
	rl_callback_handler_install(prompt, on_line);
#else
	rl_set_prompt(prompt);
#endif
}

#ifndef MAILSH_LIBEDIT
/*
 * Redraws the line, then the argument syntax of the command being typed
 * in dim text after the cursor (redis-cli style); GNU readline only, and
 * only with colour, where dim text cannot be mistaken for typed text.
 */
static void
redisplay_with_hint(void)
{
	rl_redisplay();
	if (rl_point != rl_end || !out_color())
		return;
	const char *h = meta_hint(ish, rl_line_buffer);
	fputs("\033[K", rl_outstream);	/* the hint drawn before */
	if (h) {
		struct winsize ws;
		size_t cols = 80;
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 0)
			cols = ws.ws_col;
		size_t used = (prompt_cols + (size_t)rl_end) % cols;
		size_t room = cols - used > 1 ? cols - used - 1 : 0;
		size_t hl = strlen(h);
		if (hl > room)
			hl = room;	/* never wrap: it would move the cursor */
		fprintf(rl_outstream, "\0337\033[2m%.*s\033[0m\0338",
		    (int)hl, h);
	}
	fflush(rl_outstream);
}
#endif

#ifndef MAILSH_LIBEDIT
/* Redraws nothing: the line is being reset behind the "^C". */
static void
draw_nothing(void)
{
}
#endif

static char **
complete(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;
	return meta_complete(text, start, end, rl_line_buffer, ish);
}

/*
 * Waits for the terminal or the server until a signal.  The signals
 * main.c catches stay blocked from the flag check until ppoll() lets
 * them in atomically with the wait: one landing between a check and a
 * plain poll() would wait for the next key (a lost wake-up).
 */
static int
wait_input(struct pollfd *p, nfds_t n)
{
	sigset_t hold, open;
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGCHLD);
	sigprocmask(SIG_BLOCK, &hold, &open);
	int r = -1;
	if (!got_sigint && !got_sigterm && !got_sigchld)
		r = ppoll(p, n, NULL, &open);
	else
		errno = EINTR;
	int e = errno;
	sigprocmask(SIG_SETMASK, &open, NULL);
	errno = e;
	return r;
}

/* A lab or MITM child that ended is reaped and said at once. */
static void
poll_children(void)
{
	got_sigchld = 0;	/* before looking: a later end sets it again */
	labrun_poll();
}

int
repl_interactive(struct shell *sh)
{
	ish = sh;
	/*
	 * Before anything that starts the line editor (history_setup):
	 * libedit reads rl_catch_signals once, when it initialises itself
	 * (as EL_SIGNAL), and readline when the callback is installed.
	 * Its handlers would hand SIGHUP, SIGTERM, SIGINT, SIGCONT on to
	 * the whole process group (kill(0, sig)) and redraw and flush
	 * stdout inside the handler: a hang-up landing while stdout's lock
	 * was held deadlocked mailsh, and its lab ran on.  Our own
	 * handlers (main.c) only set flags.
	 */
	rl_catch_signals = 0;
	history_setup();
	rl_attempted_completion_function = complete;
#ifndef MAILSH_LIBEDIT
	rl_redisplay_function = redisplay_with_hint;
#endif
	out_set_editor(ed_hide, ed_show);
	if (!pp_connected(&sh->pp))
		out_say(PP_EV_NOTE, _("not connected: /open HOST [PORT] "
		    "connects, /help lists the commands, Ctrl-D quits"));
	make_prompt(sh);
	out_flush();
	rl_callback_handler_install(prompt, on_line);
	editing = true;

	while (!sh->quit && !got_sigterm) {
		struct pollfd p[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = sh->pp.conn.fd, .events = POLLIN },
		};
		int nfds = pp_connected(&sh->pp) ? 2 : 1;
		int r = pp_pending(&sh->pp) ? 1 : wait_input(p, (nfds_t)nfds);
		if (got_sigint) {		/* Ctrl-C: drop the line */
			got_sigint = 0;
			bool empty = !rl_line_buffer || !rl_line_buffer[0];
			fputs("^C\n", stdout);
			if (held.n > 0) {
				size_t k = held.n;
				held_drop(k);
				held.told = false;
				out_say(PP_EV_NOTE, ngettext("%zu line typed "
				    "ahead dropped (not sent)", "%zu lines typed "
				    "ahead dropped (not sent)", k), k);
			} else if (pp_connected(&sh->pp) && sh->pp.in_data) {
				if (empty)
					data_abandon(sh);
				else
					data_ctrl_c_note();
			}
#ifdef MAILSH_LIBEDIT
			/* libedit keeps its buffer: start a fresh line */
			rl_callback_handler_remove();
			rl_callback_handler_install(prompt, on_line);
#else
			/* an edited history line keeps what it was (the
			 * edits are undone, not stored in the entry), and the
			 * next Up starts again at the newest entry */
			rl_voidfunc_t *draw = rl_redisplay_function;
			rl_redisplay_function = draw_nothing;
			if (where_history() < history_length)
				rl_revert_line(1, 0);
			rl_free_line_state();
			rl_replace_line("", 1);
			using_history();
			rl_redisplay_function = draw;
			rl_point = 0;
			rl_on_new_line();
			rl_redisplay();
#endif
			continue;
		}
		if (r < 0) {		/* a signal: maybe a child ended */
			poll_children();
			continue;
		}
		if (p[0].revents & (POLLIN | POLLHUP))
			rl_callback_read_char();
		if (nfds == 2 && (pp_pending(&sh->pp) ||
		    (p[1].revents & (POLLIN | POLLHUP | POLLERR)))) {
			enum ms_err e = pp_input(&sh->pp);
			if (e == MS_ETLS)
				shell_fail(sh, e);
			shell_check_abort(sh);
			out_redraw();
		}
		drain_held(sh);
		poll_children();	/* a lab that died is said at once */
		lesson_poll(sh);
		out_redraw();
		update_prompt();
	}
	held_drop(held.n);
	/* readline drew a fresh prompt after the last line: what is said
	 * on the way out (the connection closing) replaces it */
	ed_hide();
	fflush(stdout);
	rl_callback_handler_remove();
	editing = false;
	history_save();
	return sh->status;
}

/* Reads one line from the terminal, cooked, with or without echo. */
static char *
read_tty_line(const char *ask, char *buf, size_t cap, bool echo)
{
	int fd = STDIN_FILENO;
	struct termios old, quiet;
	if (!isatty(fd))
		return NULL;
	/* first give the terminal back its cooked settings: called from
	 * the loop (not a line handler), readline still holds it raw */
	if (editing)
		rl_callback_handler_remove();
	if (tcgetattr(fd, &old) != 0) {
		if (editing)
			rl_callback_handler_install(prompt, on_line);
		return NULL;
	}
	quiet = old;
	if (echo)
		quiet.c_lflag |= ECHO;
	else
		quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	fputs(ask, stdout);
	fflush(stdout);
	size_t n = 0;
	bool ok = false;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR && !got_sigint && !got_sigterm)
			continue;
		if (r <= 0)
			break;
		if (ch == '\n') {
			ok = true;
			break;
		}
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	got_sigint = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (!echo || !ok)	/* the terminal echoed no newline */
		fputs("\n", stdout);
	if (editing)
		rl_callback_handler_install(prompt, on_line);
	return ok ? buf : NULL;
}

char *
repl_read_secret(struct shell *sh, const char *ask, char *buf, size_t cap)
{
	(void)sh;
	return read_tty_line(ask, buf, cap, false);
}

bool
repl_confirm_default(struct shell *sh, const char *question, bool dflt)
{
	char ans[16];
	(void)sh;
	if (!read_tty_line(question, ans, sizeof(ans), true))
		return false;
	if (ans[0] == '\0')
		return dflt;
	return ans[0] == 'y' || ans[0] == 'Y' || ans[0] == 'j' ||
	    ans[0] == 'J';
}

bool
repl_confirm(struct shell *sh, const char *question)
{
	return repl_confirm_default(sh, question, false);
}
