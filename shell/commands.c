/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commands.c: the meta commands, as one table that also feeds /help and
 * tab completion.  A meta command is a line starting with "/" (but not
 * "//", which sends a line beginning with "/").
 */
#include "shell.h"
#include "lineedit.h"
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/sasl.h"
#include "../protocols/util.h"

#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ARGS 8

typedef enum meta_result (*meta_fn)(struct shell *, int, char **,
    const char *rest);

struct meta_cmd {
	const char *name;
	const char *args;
	const char *help;
	meta_fn fn;
};

static enum meta_result
need_conn(struct shell *sh)
{
	(void)sh;
	out_say(PP_EV_ERROR, _("not connected: use /open HOST [PORT] "
	    "first"));
	return META_FAIL;
}

static enum meta_result
m_open(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	bool tls = sh->want_tls, plain = sh->no_tls;
	const char *host = NULL, *port = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls") == 0 || strcmp(argv[i], "-t") == 0)
			tls = true, plain = false;
		else if (strcmp(argv[i], "--plain") == 0)
			plain = true, tls = false;
		else if (!host)
			host = argv[i];
		else if (!port)
			port = argv[i];
		else
			host = NULL, i = argc;
	}
	if (!host) {
		out_say(PP_EV_ERROR, _("usage: /open [--tls|--plain] HOST "
		    "[PORT]"));
		return META_FAIL;
	}
	if (pp_connected(&sh->pp))
		pp_close(&sh->pp, NULL);
	enum ms_err r = shell_open(sh, host, port, tls, plain);
	if (r != MS_OK)
		return META_FAIL;
	return META_SENT;	/* the greeting is the reply to wait for */
}

static enum meta_result
m_close(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv, (void)rest;
	if (!pp_connected(&sh->pp))
		return need_conn(sh);
	sh->pp.quit_sent = true;	/* closing by hand is no failure */
	pp_close_as(&sh->pp, "closed", NULL);
	return META_OK;
}

static enum meta_result
m_tls(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv, (void)rest;
	if (!pp_connected(&sh->pp))
		return need_conn(sh);
	out_say(PP_EV_NOTE, _("starting a TLS handshake by hand"));
	enum ms_err r = pp_starttls(&sh->pp);
	if (r == MS_ETLS)
		shell_fail(sh, r);
	return r == MS_OK ? META_OK : META_FAIL;
}

static enum meta_result
m_cert(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	bool pem = argc == 2 && strcmp(argv[1], "pem") == 0;
	if (argc > 2 || (argc == 2 && !pem)) {
		out_say(PP_EV_ERROR, _("usage: /cert [pem]"));
		return META_FAIL;
	}
	if (!pp_connected(&sh->pp))
		return need_conn(sh);
	if (!pem || !conn_is_tls(&sh->pp.conn)) {
		conn_show_chain(&sh->pp.conn);
		return META_OK;
	}
	/* a chain is a few KiB; 64 KiB is far more than any real one */
	static char buf[64 * 1024];
	int n = conn_chain_pem(&sh->pp.conn, buf, sizeof(buf));
	if (n < 0) {
		out_say(PP_EV_ERROR, _("the certificate chain is too large "
		    "to show (more than 64 KiB)"));
		return META_FAIL;
	}
	if (n == 0) {
		out_say(PP_EV_NOTE, _("the server sent no certificate"));
		return META_OK;
	}
	out_block("cert.pem", buf);
	return META_OK;
}

static enum meta_result
m_proto(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	if (argc < 2) {
		out_say(PP_EV_NOTE, _("protocol: %s"), sh->pp.proto
		    ? sh->pp.proto->name : _("not known yet"));
		return META_OK;
	}
	const struct pp_proto *p = pp_proto_by_name(argv[1]);
	if (!p || argc > 2) {
		out_say(PP_EV_ERROR, _("usage: /proto smtp|pop3|imap"));
		return META_FAIL;
	}
	sh->force_proto = p;
	sh->pp.proto = p;
	sh->pp.guessed = false;
	out_say(PP_EV_NOTE, _("protocol is now %s"), p->name);
	return META_OK;
}

/* Undoes \0 \\ \n \r \t \xNN so /b64 can build AUTH PLAIN strings. */
static size_t
unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	while (*s && n < cap) {
		if (*s != '\\' || !s[1]) {
			out[n++] = *s++;
			continue;
		}
		s++;
		char ch = *s++;
		switch (ch) {
		case '0': out[n++] = '\0'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'x': {
			char hex[3] = { 0 };
			if (s[0] && s[1]) {
				hex[0] = s[0];
				hex[1] = s[1];
				char *end;
				long v = strtol(hex, &end, 16);
				if (*end == '\0') {
					out[n++] = (char)v;
					s += 2;
					break;
				}
			}
			out[n++] = 'x';
			break;
		}
		default: out[n++] = ch; break;
		}
	}
	return n;
}

static enum meta_result
m_b64(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)sh, (void)argc, (void)argv;
	char raw[2048], enc[4096];
	if (!*rest) {
		out_say(PP_EV_ERROR, _("usage: /b64 TEXT  (\\0 is a NUL byte, "
		    "as in AUTH PLAIN: /b64 \\0alice\\0secret)"));
		return META_FAIL;
	}
	size_t n = unescape(rest, raw, sizeof(raw));
	b64_encode(raw, n, enc, sizeof(enc));
	out_say(PP_EV_NOTE, _("base64: %s"), enc);
	return META_OK;
}

static enum meta_result
m_unb64(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)sh, (void)rest;
	char raw[3072], shown[4 * 3072 + 1];
	if (argc != 2) {
		out_say(PP_EV_ERROR, _("usage: /unb64 BASE64"));
		return META_FAIL;
	}
	long n = b64_decode(argv[1], strlen(argv[1]), raw, sizeof(raw));
	if (n < 0) {
		out_say(PP_EV_ERROR, ngettext("not valid base64 (or longer "
		    "than %zu byte decoded)", "not valid base64 (or longer "
		    "than %zu bytes decoded)", sizeof(raw)), sizeof(raw));
		return META_FAIL;
	}
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, raw, (size_t)n);
	out_say(PP_EV_NOTE, ngettext("decoded (%ld byte): %s",
	    "decoded (%ld bytes): %s", (unsigned long)n), n, shown);
	return META_OK;
}

static enum meta_result
m_auth_plain(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	char user[256], pass[256], raw[520], enc[800], line[900];
	if (argc > 3) {
		out_say(PP_EV_ERROR, _("usage: /auth-plain [USER [PASSWORD]]"));
		return META_FAIL;
	}
	if (argc >= 2) {
		snprintf(user, sizeof(user), "%s", argv[1]);
	} else if (!sh->interactive) {
		out_say(PP_EV_ERROR, _("in a script, give the user: "
		    "/auth-plain USER PASSWORD"));
		return META_FAIL;
	} else {
		char *u = readline(_("user: "));
		if (!u)
			return META_FAIL;
		snprintf(user, sizeof(user), "%s", u);
		free(u);
	}
	if (argc == 3) {
		snprintf(pass, sizeof(pass), "%s", argv[2]);
	} else if (!sh->interactive || !repl_read_secret(sh,
	    _("password (not shown): "), pass, sizeof(pass))) {
		out_say(PP_EV_ERROR, sh->interactive ? _("no password read")
		    : _("in a script, give the password: /auth-plain USER "
		    "PASSWORD"));
		return META_FAIL;
	}
	/* RFC 4616: authzid NUL authcid NUL passwd; authzid empty */
	size_t ul = strlen(user), pl = strlen(pass);
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pass, pl);
	b64_encode(raw, ul + pl + 2, enc, sizeof(enc));
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(raw, sizeof(raw));
	if (!pp_connected(&sh->pp)) {
		out_say(PP_EV_NOTE, _("AUTH PLAIN argument: %s"), enc);
		explicit_bzero(enc, sizeof(enc));
		return META_OK;
	}
	if (sh->pp.proto && sh->pp.proto->id == PROTO_IMAP)
		snprintf(line, sizeof(line), "a%u AUTHENTICATE PLAIN %s",
		    ++sh->tagno, enc);
	else
		snprintf(line, sizeof(line), "AUTH PLAIN %s", enc);
	explicit_bzero(enc, sizeof(enc));
	enum ms_err r = shell_send(sh, line, strlen(line), NULL);
	explicit_bzero(line, sizeof(line));
	return r == MS_OK ? META_SENT : META_FAIL;
}

/* /raw: waits up to 3 s (at most --timeout) for the reply to a command
 * that went out in plaintext before a STARTTLS upgrade.  A server that
 * follows RFC 3207 4.2 discarded it and never answers, so no reply is
 * no failure here.  Returns true when the reply came. */
static bool
raw_wait_after_tls(struct shell *sh)
{
	struct pp *pp = &sh->pp;
	long wait = sh->timeout_ms < 3000 ? sh->timeout_ms : 3000;
	long deadline = util_now_ms() + wait;
	while (pp_connected(pp) && pp->awaiting) {
		if (!pp_pending(pp)) {
			long left = deadline - util_now_ms();
			if (left <= 0)
				return false;
			struct pollfd p = { .fd = pp->conn.fd,
			    .events = POLLIN };
			int k = poll(&p, 1, (int)left);
			if (k < 0 && errno == EINTR && got_sigint) {
				got_sigint = 0;
				return false;
			}
			if (k <= 0)
				continue;
		}
		if (pp_input(pp) != MS_OK) {
			if (!pp->close_expected)
				shell_fail(sh, MS_ECLOSED);
			return false;
		}
	}
	return pp_connected(pp);
}

/*
 * /raw TEXT: sends TEXT with C escapes decoded (\r \n \t \\ \xNN \0),
 * no CRLF added, in ONE write: several commands in one packet, as a
 * pipelining client or an attacker would send them.  Shown as sent,
 * one C: line per line end, control bytes visible.  Then each complete
 * line is given to the protocol in turn and its reply read, so a
 * STARTTLS among them is upgraded on its go-ahead as usual; the reply
 * to a command that went out in plaintext before that upgrade but
 * comes back inside TLS is flagged (CVE-2011-0411).
 */
static enum meta_result
m_raw(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv;
	struct pp *pp = &sh->pp;
	char raw[4096], typed[4200];
	if (!*rest) {
		out_say(PP_EV_ERROR, _("usage: /raw TEXT  (\\r\\n ends a line, "
		    "nothing is added: /raw STARTTLS\\r\\nRSET\\r\\n)"));
		return META_FAIL;
	}
	if (!pp_connected(pp))
		return need_conn(sh);
	size_t n = unescape(rest, raw, sizeof(raw));
	/* as sent: one C: line per line end, the line end shown */
	for (size_t off = 0; off < n;) {
		const char *lf = memchr(raw + off, '\n', n - off);
		size_t len = lf ? (size_t)(lf - raw) + 1 - off : n - off;
		size_t body = len - (lf != NULL);
		if (lf && body > 0 && raw[off + body - 1] == '\r')
			body--;
		struct pp_sinfo si;
		pp_classify_send(pp, raw + off, body, &si);
		char red[PP_TAG_MAX + 16];
		struct pp_event ev = {
			.kind = PP_EV_SEND, .text = raw + off, .len = len,
			.tls = conn_is_tls(&pp->conn),
		};
		if (si.secret) {	/* a password stays hidden here too */
			size_t keep = si.keep < body ? si.keep : body;
			if (keep > PP_TAG_MAX)
				keep = PP_TAG_MAX;
			memcpy(red, raw + off, keep);
			memcpy(red + keep, "********", 8);
			memcpy(red + keep + 8, raw + off + body, len - body);
			ev.text = red;
			ev.len = keep + 8 + len - body;
			ev.redacted = true;
		}
		if (pp->emit)
			pp->emit(pp->ctx, &ev);
		off += len;
	}
	out_say(PP_EV_WARN, ngettext("%zu byte sent in one write, exactly as "
	    "shown (no CRLF added): outside the protocol's rules, mailsh "
	    "checks nothing here", "%zu bytes sent in one write, exactly as "
	    "shown (no CRLF added): outside the protocol's rules, mailsh "
	    "checks nothing here", n), n);
	snprintf(typed, sizeof(typed), "/raw %s", rest);
	lesson_sent(sh, typed, strlen(typed));
	enum ms_err r = pp_flush(pp);
	if (r == MS_OK)
		r = conn_write(&pp->conn, raw, n);
	if (r != MS_OK) {
		pp_close(pp, NULL);
		shell_fail(sh, r);
		return META_FAIL;
	}
	pp->bytes_out += n;
	/* now each complete line, in turn: its meaning, then its reply */
	unsigned upgrades = pp->upgrades, unanswered = 0;
	bool partial = false;
	for (size_t off = 0; off < n && pp_connected(pp);) {
		const char *lf = memchr(raw + off, '\n', n - off);
		if (!lf) {
			partial = true;
			break;
		}
		const char *line = raw + off;
		size_t len = (size_t)(lf - line);
		off += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		/* the reply that comes next answers this line: a 220 after
		 * STARTTLS is the go-ahead, not a greeting, and only an
		 * EHLO's 250 is a capability list */
		ann_command(&sh->ann, line, len);
		struct pp_sinfo si;
		if (pp->upgrades != upgrades)
			pp->qn = 0;	/* TLS began: earlier ones are void */
		pp_sent(pp, line, len, &si);
		if (!si.expect_reply)
			continue;
		if (pp->upgrades == upgrades) {
			out_flush();
			shell_wait_reply(sh);
			continue;
		}
		/* sent in plaintext, before the handshake that has run */
		if (raw_wait_after_tls(sh)) {
			out_say(PP_EV_WARN, _("this reply came inside TLS, but "
			    "it answers \"%.*s\", which went out in plaintext "
			    "before the handshake: the server kept plaintext "
			    "input across the TLS upgrade (CVE-2011-0411); an "
			    "attacker could have put that command there"), (int)len,
			    line);
		} else {
			pp->qn = 0;
			pp->awaiting = false;
			unanswered++;
		}
	}
	if (unanswered > 0)
		out_say(PP_EV_NOTE, ngettext("no reply to %u command sent in "
		    "plaintext before the TLS handshake: the server discarded "
		    "it, as a server must (RFC 3207 4.2, CVE-2011-0411)",
		    "no reply to %u commands sent in plaintext before the TLS "
		    "handshake: the server discarded them, as a server must "
		    "(RFC 3207 4.2, CVE-2011-0411)", unanswered), unanswered);
	if (partial)
		out_say(PP_EV_NOTE, _("the text does not end with a line end: "
		    "the server waits for the rest of that line"));
	return META_OK;
}

/* Does the pattern p (digits, and "." or "x" for any digit) match the
 * digits of s?  Both as long as each other. */
static bool
digits_match(const char *p, const char *s, bool dot_any)
{
	if (strlen(p) != strlen(s))
		return false;
	for (; *p; p++, s++) {
		if (*p == '.' && (*s == '.' || dot_any))
			continue;
		if ((*p == 'x' || *p == 'X') && *s >= '0' && *s <= '9')
			continue;
		if (*p != *s)
			return false;
	}
	return true;
}

/*
 * What /expect accepts: "code" (535, 2xx, 2..), "esc" (5.7.8, 2.x.x),
 * "word" (OK NO BAD PREAUTH BYE +OK -ERR +), or NULL.
 */
static const char *
expect_kind(const char *w)
{
	static const char *const words[] = { "OK", "NO", "BAD", "PREAUTH",
	    "BYE", "+OK", "-ERR", "+", NULL };
	for (const char *const *k = words; *k; k++)
		if (strcasecmp(w, *k) == 0)
			return "word";
	size_t n = strlen(w);
	if (n == 3 && w[0] >= '1' && w[0] <= '5' && strspn(w + 1,
	    "0123456789.xX") == 2)
		return "code";
	size_t dots = 0;
	for (const char *p = w; *p; p++)
		if (*p == '.')
			dots++;
		else if (!((*p >= '0' && *p <= '9') || *p == 'x' || *p == 'X'))
			return NULL;
	if (dots == 2 && n >= 5 && n <= 11 && (w[0] == '2' || w[0] == '4' ||
	    w[0] == '5') && w[1] == '.' && w[n - 1] != '.' &&
	    !strstr(w, ".."))
		return "esc";
	return NULL;
}

/* /expect WHAT: checks the last complete reply. */
static enum meta_result
m_expect(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	const char *kind = argc == 2 ? expect_kind(argv[1]) : NULL;
	if (!kind) {
		out_say(PP_EV_ERROR, _("usage: /expect CODE|ENHANCED-CODE|"
		    "WORD, e.g. /expect 250, /expect 2.., /expect 5.7.8, "
		    "/expect OK, /expect -ERR"));
		if (!sh->interactive)
			shell_fail(sh, MS_EUSAGE);
		return META_FAIL;
	}
	if (pp_connected(&sh->pp) && sh->pp.awaiting)
		shell_wait_reply(sh);
	const char *what = argv[1];
	bool met = false;
	if (sh->reply.have) {
		if (strcmp(kind, "code") == 0)
			met = sh->reply.code && digits_match(what,
			    sh->reply.word, true);
		else if (strcmp(kind, "esc") == 0)
			met = sh->reply.esc[0] && digits_match(what,
			    sh->reply.esc, false);
		else
			met = strcasecmp(what, sh->reply.word) == 0;
	}
	sh->reply.unchecked = false;	/* this /expect has judged it */
	if (sh->neg.pending && sh->neg.seq == sh->reply.seq)
		sh->neg.pending = false;
	if (met) {
		out_say(PP_EV_NOTE, _("/expect %s: met"), what);
		return META_OK;
	}
	if (!sh->reply.have)
		out_say(sh->interactive ? PP_EV_WARN : PP_EV_ERROR,
		    _("/expect %s: not met: no reply has come yet"), what);
	else if (sh->lineno && !sh->interactive)
		out_say(PP_EV_ERROR, _("line %lu: /expect %s: not met: the "
		    "reply was %s"), sh->lineno, what, sh->reply.text);
	else
		out_say(sh->interactive ? PP_EV_WARN : PP_EV_ERROR,
		    _("/expect %s: not met: the reply was %s"), what,
		    sh->reply.text);
	if (sh->interactive)
		return META_OK;
	shell_fail(sh, MS_EEXPECT);
	return sh->keep_going ? META_OK : META_FAIL;
}

/* SECONDS as a number with up to 3 decimals, 0 to 86400; -1 if not. */
static long
seconds_ms(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*s == '\0' || *end || errno || !(v >= 0 && v <= 86400))
		return -1;
	return (long)(v * 1000 + 0.5);
}

/* /wait SECONDS: shows what the server sends meanwhile. */
static enum meta_result
m_wait(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	long ms = argc == 2 ? seconds_ms(argv[1]) : -1;
	if (ms < 0) {
		out_say(PP_EV_ERROR, _("usage: /wait SECONDS (for example "
		    "/wait 2.5)"));
		if (!sh->interactive)
			shell_fail(sh, MS_EUSAGE);
		return META_FAIL;
	}
	if (!pp_connected(&sh->pp))
		return need_conn(sh);
	out_flush();
	shell_pump(sh, ms);
	return META_OK;
}

/* /wait-for PATTERN [SECONDS]: until a received line matches. */
static enum meta_result
m_wait_for(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argv;
	char pat[512];
	long ms = sh->timeout_ms;
	snprintf(pat, sizeof(pat), "%s", rest);
	size_t n = strlen(pat);
	while (n > 0 && (pat[n - 1] == ' ' || pat[n - 1] == '\t'))
		pat[--n] = '\0';
	char *sp = strrchr(pat, ' ');
	if (argc > 2 && sp && seconds_ms(sp + 1) >= 0) {
		ms = seconds_ms(sp + 1);
		*sp = '\0';
		while (sp > pat && (sp[-1] == ' ' || sp[-1] == '\t'))
			*--sp = '\0';
	}
	if (!pat[0] || strlen(rest) >= sizeof(pat) - 1) {
		out_say(PP_EV_ERROR, _("usage: /wait-for PATTERN [SECONDS] "
		    "(PATTERN: an extended regular expression, at most %d "
		    "characters, matched against each line received)"),
		    (int)sizeof(pat) - 2);
		if (!sh->interactive)
			shell_fail(sh, MS_EUSAGE);
		return META_FAIL;
	}
	if (!pp_connected(&sh->pp))
		return need_conn(sh);
	regex_t re;
	int rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	if (rc != 0) {
		char err[128];
		regerror(rc, &re, err, sizeof(err));
		out_say(PP_EV_ERROR, _("/wait-for: not a regular expression: "
		    "%s"), err);
		if (!sh->interactive)
			shell_fail(sh, MS_EUSAGE);
		return META_FAIL;
	}
	out_flush();
	sh->wait_re = &re;
	/* what came since the last command counts too (an EXISTS in the
	 * same packet as IDLE's "+") */
	sh->wait_hit = false;
	for (size_t off = 0; off < sh->recent_len && !sh->wait_hit;) {
		char *nl = memchr(sh->recent + off, '\n',
		    sh->recent_len - off);
		if (!nl)
			break;
		*nl = '\0';
		sh->wait_hit = regexec(&re, sh->recent + off, 0, NULL, 0) == 0;
		*nl = '\n';
		off = (size_t)(nl - sh->recent) + 1;
	}
	sh->recent_len = 0;
	if (!sh->wait_hit)
		shell_pump(sh, ms);
	sh->recent_len = 0;
	bool hit = sh->wait_hit;
	sh->wait_re = NULL;
	regfree(&re);
	if (hit)
		return META_OK;
	if (!pp_connected(&sh->pp)) {
		out_say(PP_EV_ERROR, _("/wait-for: the connection ended before "
		    "a line matched \"%s\""), pat);
		return META_FAIL;
	}
	out_say(sh->interactive ? PP_EV_WARN : PP_EV_ERROR, ngettext(
	    "/wait-for: no line matched \"%s\" within %ld second",
	    "/wait-for: no line matched \"%s\" within %ld seconds",
	    (unsigned long)((ms + 999) / 1000)), pat, (ms + 999) / 1000);
	if (sh->interactive)
		return META_OK;
	shell_fail(sh, MS_ETIMEOUT);
	return META_FAIL;
}

static enum meta_result
m_status(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv, (void)rest;
	struct pp *pp = &sh->pp;
	if (!pp_connected(pp)) {
		out_say(PP_EV_NOTE, _("not connected"));
		return META_OK;
	}
	out_say(PP_EV_NOTE, _("connected to %s (%s) port %s"),
	    pp->conn.host, pp->conn.addr, pp->conn.port);
	/* where the protocol came from: the greeting is the only proof */
	const char *how = !pp->proto ? _("not known yet") :
	    pp->greeting_proto == pp->proto ? _("confirmed by the greeting") :
	    !pp->guessed ? _("set with --proto or /proto, not confirmed by "
	    "the greeting") : pp->greeted ? _("guessed from the port; the "
	    "greeting did not confirm it") : _("guessed from the port; no "
	    "greeting yet");
	/* TRANSLATORS: protocol name, then where it came from */
	out_say(PP_EV_NOTE, _("protocol %s (%s)"), pp->proto ?
	    pp->proto->name : "?", how);
	if (conn_is_tls(&pp->conn))
		out_say(PP_EV_NOTE, _("TLS: %s, %s, certificate %s"),
		    SSL_get_version(pp->conn.ssl),
		    SSL_get_cipher_name(pp->conn.ssl),
		    pp->conn.verified ? _("verified") : _("NOT verified"));
	else
		out_say(PP_EV_NOTE, _("plaintext: anyone on the path can read "
		    "and change what is sent"));
	if (pp->in_data)
		out_say(PP_EV_NOTE, _("in DATA: lines are message text until "
		    "a line with a single \".\""));
	/* three counts, each with its own plural */
	char replies[64], in[64], out[64];
	unsigned long long bin = pp->bytes_in, bout = pp->bytes_out;
	snprintf(replies, sizeof(replies), ngettext("%lu reply",
	    "%lu replies", pp->replies), pp->replies);
	snprintf(in, sizeof(in), ngettext("%llu byte received",
	    "%llu bytes received", (unsigned long)bin), bin);
	snprintf(out, sizeof(out), ngettext("%llu byte sent",
	    "%llu bytes sent", (unsigned long)bout), bout);
	/* TRANSLATORS: the three counts of /status: replies, bytes
	   received, bytes sent */
	out_say(PP_EV_NOTE, _("%s, %s, %s"), replies, in, out);
	return META_OK;
}

static enum meta_result
m_annotate(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	static const char *const names[] = { "off", "brief", "full" };
	if (argc == 1) {
		out_say(PP_EV_NOTE, _("annotations: %s"),
		    names[sh->ann.mode]);
		return META_OK;
	}
	enum ann_mode m;
	if (argc > 2 || !ann_mode_parse(argv[1], &m)) {
		out_say(PP_EV_ERROR, _("usage: /annotate [off|brief|full]"));
		return META_FAIL;
	}
	sh->ann.mode = m;
	out_say(PP_EV_NOTE, _("annotations: %s"), names[m]);
	return META_OK;
}

static enum meta_result
m_lesson(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	if (argc > 1 && strcmp(argv[1], "again") == 0) {
		lesson_again(sh);
		return META_OK;
	}
	if (argc > 1) {
		out_say(PP_EV_ERROR, _("/lesson takes nothing or \"again\""));
		return META_FAIL;
	}
	lesson_show(sh);
	return META_OK;
}

static enum meta_result
m_skip(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv, (void)rest;
	lesson_skip(sh);
	return META_OK;
}

/* /log FILE | off: the transcript (output.c).  FILE is the whole rest of
 * the line, so a name with spaces works. */
static enum meta_result
m_log(struct shell *sh, int argc, char **argv, const char *rest)
{
	const char *now = out_log_path();
	if (argc == 1) {
		if (now)
			out_say(PP_EV_NOTE, _("transcript: %s"), now);
		else
			out_say(PP_EV_NOTE, _("no transcript: /log FILE "
			    "starts one"));
		return META_OK;
	}
	if (argc == 2 && strcmp(argv[1], "off") == 0) {
		if (!now) {
			out_say(PP_EV_NOTE, _("no transcript to end"));
			return META_OK;
		}
		char was[4096];
		snprintf(was, sizeof(was), "%s", now);
		out_log_close();
		out_say(PP_EV_NOTE, _("transcript %s ended"), was);
		return META_OK;
	}
	if (out_log_open(rest) != 0) {
		int e = errno;
		out_say(PP_EV_ERROR, _("cannot write the transcript %s: %s"),
		    rest, e == ELOOP ? _("it is a symbolic link (refused)")
		    : e == EINVAL ? _("not a regular file") : strerror(e));
		return META_FAIL;
	}
	if (!pp_connected(&sh->pp))
		out_log_forget();
	out_log_session(NULL, NULL);
	out_say(PP_EV_NOTE, _("transcript: appending to %s"), rest);
	return META_OK;
}

static enum meta_result m_help(struct shell *, int, char **, const char *);

static enum meta_result
m_quit(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)argc, (void)argv, (void)rest;
	sh->quit = true;
	return META_OK;
}

static const struct meta_cmd cmds[] = {
	{ "/open", N_("[--tls|--plain] HOST [PORT]"),
	  N_("connect to a server (the port tells the protocol)"), m_open },
	{ "/close", "", N_("close the connection"), m_close },
	{ "/expect", N_("CODE|ENHANCED-CODE|WORD"), N_("check the reply to the last "
	  "command: 250, 2.., 5.7.8, OK, NO, BAD, +OK, -ERR (a script "
	  "exits 9 when it differs)"), m_expect },
	{ "/wait", N_("SECONDS"), N_("wait, showing what the server "
	  "sends"), m_wait },
	{ "/wait-for", N_("PATTERN [SECONDS]"), N_("wait until a line "
	  "received matches PATTERN (a script exits 6 if none does)"),
	  m_wait_for },
	{ "/tls", "", N_("start a TLS handshake now, whatever was said"),
	  m_tls },
	{ "/cert", N_("[pem]"), N_("show the server's certificate chain: "
	  "names, key, validity, SHA-256, OCSP; pem: the chain in PEM"),
	  m_cert },
	{ "/proto", N_("[smtp|pop3|imap]"),
	  N_("show or set the protocol used to read replies"), m_proto },
	{ "/b64", N_("TEXT"), N_("base64-encode TEXT (\\0 is a NUL byte)"),
	  m_b64 },
	{ "/unb64", N_("BASE64"), N_("decode base64 and show the bytes"),
	  m_unb64 },
	{ "/auth", N_("MECHANISM [USER [PASSWORD|TOKEN]]"),
	  N_("log in with SASL: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, "
	  "XOAUTH2 or OAUTHBEARER; mailsh computes every answer, reads the "
	  "password or token without echo and masks it everywhere"),
	  meta_auth },
	{ "/auth-plain", N_("[USER [PASSWORD]]"),
	  N_("send AUTH PLAIN built from a user and a password read "
	  "without echo"), m_auth_plain },
	{ "/raw", N_("TEXT"), N_("send TEXT exactly as given in one write: "
	  "\\r \\n \\t \\\\ \\xNN decoded, no CRLF added (several "
	  "commands at once, e.g. STARTTLS\\r\\nRSET\\r\\n); then read "
	  "each reply"), m_raw },
	{ "/status", "", N_("show the connection and session state"),
	  m_status },
	{ "/annotate", N_("[off|brief|full]"),
	  N_("show or set how much mailsh explains"), m_annotate },
	{ "/lesson", N_("[again]"), N_("show the current lesson step again; "
	  "/lesson again opens its connection anew (after the server hung "
	  "up)"), m_lesson },
	{ "/skip", "", N_("skip this lesson step (its model answer is played, "
	  "so the next steps find what it leaves)"), m_skip },
	{ "/log", N_("[FILE|off]"), N_("append what the screen shows to "
	  "FILE (no colour, secrets masked), end that, or say where it "
	  "goes"), m_log },
	{ "/help", N_("[COMMAND]"), N_("list the commands, or explain one"),
	  m_help },
	{ "/quit", "", N_("close the connection and leave mailsh"), m_quit },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static enum meta_result
m_help(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)sh, (void)rest;
	for (size_t i = 0; i < NCMDS; i++) {
		if (argc > 1 && strcmp(argv[1], cmds[i].name) != 0 &&
		    strcmp(argv[1], cmds[i].name + 1) != 0)
			continue;
		/* never _(""): gettext("") is the catalogue's header */
		if (cmds[i].args[0])
			out_say(PP_EV_NOTE, "%s %s", cmds[i].name,
			    _(cmds[i].args));
		else
			out_say(PP_EV_NOTE, "%s", cmds[i].name);
		out_say(PP_EV_EXPLAIN, "%s", _(cmds[i].help));
		if (argc > 1)
			return META_OK;
	}
	if (argc > 1) {
		out_say(PP_EV_ERROR, _("no command %s: /help lists them"),
		    argv[1]);
		return META_FAIL;
	}
	out_say(PP_EV_EXPLAIN, _("every other line goes to the server as "
	    "typed, ended with CRLF; // sends a line starting with /"));
	return META_OK;
}

bool
meta_is(const struct shell *sh, const char *line)
{
	if (sh->pp.in_data || sh->pp.ps.client_literal > 0)
		return false;
	return line[0] == '/' && line[1] != '/';
}

bool
meta_secret(const char *line)
{
	/* /b64 is how AUTH PLAIN strings are built by hand */
	if (strncmp(line, "/auth", 5) == 0 && (line[5] == ' ' ||
	    line[5] == '\t')) {
		/* "/auth MECH [USER]" is kept; with a secret it is not */
		int words = 0;
		for (const char *p = line; *p; p++)
			if (*p != ' ' && *p != '\t' && (p == line ||
			    p[-1] == ' ' || p[-1] == '\t'))
				words++;
		return words > 3;
	}
	return strncmp(line, "/auth-plain", 11) == 0 ||
	    strncmp(line, "/b64", 4) == 0 || strncmp(line, "/unb64", 6) == 0;
}

bool
meta_mask(const char *line, char *buf, size_t cap)
{
	/* the secret is the 4th word of /auth, the 3rd of /auth-plain */
	int keep;
	if (strncmp(line, "/auth-plain", 11) == 0 && (line[11] == ' ' ||
	    line[11] == '\t'))
		keep = 2;
	else if (strncmp(line, "/auth", 5) == 0 && (line[5] == ' ' ||
	    line[5] == '\t'))
		keep = 3;
	else
		return false;
	const char *p = line;
	for (int w = 0; w < keep && *p; w++) {
		p += strspn(p, " \t");
		p += strcspn(p, " \t");
	}
	if (p[strspn(p, " \t")] == '\0')
		return false;	/* no secret on the line */
	snprintf(buf, cap, "%.*s ********", (int)(p - line), line);
	return true;
}

enum meta_result
meta_run(struct shell *sh, const char *line)
{
	char buf[4096];
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	/* what follows the command word, unsplit (for /b64) */
	const char *rest = line + strcspn(line, " \t");
	rest += strspn(rest, " \t");
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save);
	    t && argc < MAX_ARGS; t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0) {
		out_say(PP_EV_ERROR, _("empty command: /help lists them"));
		return META_FAIL;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(sh, argc, argv, rest);
	out_say(PP_EV_ERROR, _("unknown command %s: /help lists them (to "
	    "send a line starting with /, type //)"), argv[0]);
	return META_FAIL;
}

/* ---- completion ---- */

static const char *const *cands;
static size_t ncands;
static const char *proto_names[] = { "smtp", "pop3", "imap", NULL };
static const char *mode_names[] = { "off", "brief", "full", NULL };
static const char *cert_words[] = { "pem", NULL };

static char *
gen(const char *text, int state)
{
	static size_t i, len;
	if (state == 0) {
		i = 0;
		len = strlen(text);
	}
	while (i < ncands) {
		const char *c = cands[i++];
		if (strncasecmp(c, text, len) == 0)
			return strdup(c);
	}
	return NULL;
}

static const char *meta_list[NCMDS + 1];

const char *const *
meta_names(void)
{
	for (size_t i = 0; i < NCMDS; i++)
		meta_list[i] = cmds[i].name;
	meta_list[NCMDS] = NULL;
	return meta_list;
}

/* Was the capability a command needs offered?  Unknown caps: yes. */
static bool
cap_offered(const struct shell *sh, const char *cap)
{
	const struct ann_caps *c = &sh->ann.caps;
	if (!cap[0] || !sh->ann.have_caps)
		return true;
	size_t l = strlen(cap);
	if (cap[l - 1] != '*')
		return ann_caps_has(c, cap);
	for (int i = 0; i < c->n; i++)
		if (strncasecmp(c->name[i], cap, l - 1) == 0)
			return true;
	return false;
}

#define DYN_MAX 96
static const char *dyn[DYN_MAX + 1];
static char dynbuf[DYN_MAX][ANN_CAP_LEN];

/* Commands for this protocol and state, from commands.def. */
static const char *const *
state_commands(const struct shell *sh)
{
	const struct pp *pp = &sh->pp;
	size_t n = 0;
	for (const struct pp_cmd *c = pp->proto->cmds; c->name &&
	    n < DYN_MAX; c++) {
		if (!cap_offered(sh, c->cap))
			continue;
		if (strcmp(c->name, pp->proto->starttls_verb) == 0 &&
		    conn_is_tls(&pp->conn))
			continue;	/* already encrypted */
		if (pp->proto->id == PROTO_IMAP &&
		    strcmp(c->name, "LOGIN") == 0 && sh->ann.have_caps &&
		    ann_caps_has(&sh->ann.caps, "LOGINDISABLED"))
			continue;
		dyn[n++] = c->name;
	}
	dyn[n] = NULL;
	return dyn;
}

/* SASL mechanisms the server offered (AUTH=X, SASL:X). */
static const char *const *
offered_mechs(const struct shell *sh)
{
	const struct ann_caps *c = &sh->ann.caps;
	size_t n = 0;
	for (int i = 0; i < c->n && n < DYN_MAX; i++) {
		const char *w = c->name[i];
		if (strncasecmp(w, "AUTH=", 5) == 0 ||
		    strncasecmp(w, "SASL:", 5) == 0) {
			snprintf(dynbuf[n], sizeof(dynbuf[n]), "%s", w + 5);
			dyn[n] = dynbuf[n];
			n++;
		}
	}
	dyn[n] = NULL;
	return dyn;
}

/* The mechanisms /auth computes, those the server offered first. */
static const char *const *
auth_mechs(const struct shell *sh)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < SASL_M_COUNT; i++) {
			const char *m = sasl_mech_name((enum sasl_mech)i);
			char a[64], b[64];
			snprintf(a, sizeof(a), "AUTH=%s", m);
			snprintf(b, sizeof(b), "SASL:%s", m);
			bool offered = sh->ann.have_caps &&
			    (ann_caps_has(&sh->ann.caps, a) ||
			    ann_caps_has(&sh->ann.caps, b));
			if (offered == (pass == 0))
				dyn[n++] = m;
		}
	dyn[n] = NULL;
	return dyn;
}

/* IMAP commands whose first argument is a mailbox. */
static bool
mailbox_verb(const char *v, size_t n)
{
	static const char *const verbs[] = { "SELECT", "EXAMINE", "STATUS",
	    "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "APPEND", NULL };
	for (size_t i = 0; verbs[i]; i++)
		if (strlen(verbs[i]) == n && strncasecmp(verbs[i], v, n) == 0)
			return true;
	return false;
}

static const char *const *
mailbox_names(const struct shell *sh)
{
	size_t n = 0;
	for (int i = 0; i < sh->ann.nmailboxes && n < DYN_MAX; i++)
		dyn[n++] = sh->ann.mailboxes[i];
	dyn[n] = NULL;
	return dyn;
}

const char *
meta_hint(const struct shell *sh, const char *line)
{
	size_t n = strlen(line);
	/* right after "VERB " (or "MAIL FROM:") only */
	bool colon = n > 0 && line[n - 1] == ':';
	if (n < 2 || (line[n - 1] != ' ' && !colon) || line[n - 2] == ' ')
		return NULL;
	if (colon)
		n++;	/* as if a blank followed: the name ends at n - 1 */
	if (line[0] == '/') {
		for (size_t i = 0; i < NCMDS; i++) {
			size_t l = strlen(cmds[i].name);
			if (l == n - 1 && strncmp(line, cmds[i].name, l) == 0)
				return cmds[i].args[0] ? _(cmds[i].args)
				    : NULL;
		}
		return NULL;
	}
	if (!sh->pp.proto || sh->pp.in_data)
		return NULL;
	const char *verb = line;
	if (sh->pp.proto->id == PROTO_IMAP) {	/* after the tag */
		size_t rest;
		verb = next_word(line, n, &rest);
		if (verb == line + n)
			return NULL;
	}
	size_t vl = (size_t)(line + n - 1 - verb);
	for (const struct pp_cmd *c = sh->pp.proto->cmds; c->name; c++)
		if (strlen(c->name) == vl && strncasecmp(c->name, verb, vl)
		    == 0)
			return c->args[0] ? _(c->args) : NULL;
	return NULL;
}

/* Shows the argument syntax of the command being typed (the hint). */
static void
show_syntax(const struct shell *sh, const char *verb, size_t vl)
{
	for (const struct pp_cmd *c = sh->pp.proto->cmds; c->name; c++) {
		size_t cl = strlen(c->name);
		if (cl == vl && strncasecmp(c->name, verb, vl) == 0) {
			out_say(PP_EV_NOTE, "%s %s", c->name, c->args[0]
			    ? _(c->args) : _("(no arguments)"));
			out_redraw();
			return;
		}
	}
}

char **
meta_complete(const char *text, int start, int end, const char *line,
    struct shell *sh)
{
	(void)end;
	/* which word is being completed? */
	int word = 0;
	for (int i = 0; i < start; i++)
		if (line[i] != ' ' && (i == 0 || line[i - 1] == ' '))
			word++;
	const char *const *list = NULL;
	char tag[16];
	const char *tagv[2] = { tag, NULL };
	if (line[0] == '/') {
		if (word == 0)
			list = meta_names();
		else if (word == 1 && strncmp(line, "/proto", 6) == 0)
			list = proto_names;
		else if (word == 1 && strncmp(line, "/help", 5) == 0)
			list = meta_names();
		else if (word == 1 && strncmp(line, "/annotate", 9) == 0)
			list = mode_names;
		else if (word == 1 && strncmp(line, "/auth ", 6) == 0)
			list = auth_mechs(sh);
		else if (word == 1 && strncmp(line, "/cert ", 6) == 0)
			list = cert_words;
	} else if (sh->pp.proto && !sh->pp.in_data) {
		bool imap = sh->pp.proto->id == PROTO_IMAP;
		int verb_word = imap ? 1 : 0;
		size_t rest;
		const char *verb = imap ? next_word(line, strlen(line), &rest)
		    : line;
		size_t vl = strcspn(verb, " ");
		if (imap && word == 0) {
			/* IMAP: the next tag, numbered by mailsh */
			snprintf(tag, sizeof(tag), "a%u", sh->tagno + 1);
			list = tagv;
		} else if (word == verb_word) {
			list = state_commands(sh);
		} else if (word == verb_word + 1 && ((!imap && vl == 4 &&
		    strncasecmp(verb, "AUTH", 4) == 0) || (imap && vl == 12 &&
		    strncasecmp(verb, "AUTHENTICATE", 12) == 0))) {
			list = offered_mechs(sh);
		} else if (word == verb_word + 1 && imap &&
		    sh->ann.nmailboxes > 0 && mailbox_verb(verb, vl)) {
			list = mailbox_names(sh);
		} else if (word > verb_word) {
			show_syntax(sh, verb, vl);
		}
	}
	if (!list || !list[0])
		return NULL;
	cands = list;
	for (ncands = 0; list[ncands]; ncands++)
		;
	return rl_completion_matches(text, gen);
}
