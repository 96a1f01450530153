/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapd.c: the lab's IMAP4rev1 server: the session (states, greeting,
 * capabilities, errors), command syntax (tags, atoms, quoted strings,
 * the assembly of lines and literals into one command), LOGIN and
 * AUTHENTICATE, and the dispatch of every command.
 *
 * RFC 3501 (IMAP4rev1), RFC 2595 and RFC 3501 6.2.1 (STARTTLS,
 * LOGINDISABLED), RFC 4959 (SASL-IR), RFC 2177 (IDLE), RFC 4616
 * (PLAIN), RFC 7888
 * (LITERAL+), RFC 5530 (response codes: PRIVACYREQUIRED,
 * AUTHENTICATIONFAILED, NONEXISTENT, CANNOT, UNAVAILABLE), RFC 8314.
 *
 * The commands live beside it: the mailbox commands and the selected
 * mailbox's state in imapselect.c, APPEND in imapappend.c, FETCH,
 * STORE and EXPUNGE output in imapfetch.c, SEARCH in imapsearch.c;
 * BODYSTRUCTURE and parts come from imapmime.c.
 */
#include "imapd.h"
#include "imap_int.h"
#include "auth.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const imap_state_name[] = {
	"not-authenticated", "authenticate", "authenticated", "selected",
	"authenticate-x",
};

/* Changes state; the ONLY way to do so. */
void
imap_set(struct imapd *i, enum imap_state st)
{
	if ((unsigned)st >= sizeof(imap_state_name) /
	    sizeof(*imap_state_name))
		abort();
	i->st = st;
}

/* Forgets the command buffer (it exists only while reading one). */
void
imap_cmd_free(struct imapd *i)
{
	free(i->cmd);
	i->cmd = NULL;
	i->cmdlen = 0;
}

/* May a password be sent now (TLS, or plaintext auth allowed)? */
static bool
imap_auth_allowed(const struct lconn *c)
{
	return lconn_is_tls(c) || c->lab->cfg.plaintext_auth;
}

/* The capability list for the current state. */
static void
imap_caps(const struct lconn *c, const struct imapd *i, char *buf,
    size_t cap)
{
	bool pre = i->st == IS_NOTAUTH || i->st == IS_AUTHPLAIN ||
	    i->st == IS_AUTHX;
	snprintf(buf, cap, "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE%s%s%s%s",
	    pre && !lconn_is_tls(c) ? " STARTTLS" : "",
	    pre && !imap_auth_allowed(c) ? " LOGINDISABLED" : "",
	    pre && imap_auth_allowed(c) ? " AUTH=PLAIN" : "",
	    pre && imap_auth_allowed(c) && c->lab->cfg.sasl_extra ?
	    " AUTH=CRAM-MD5 AUTH=SCRAM-SHA-256" : "");
}

/* New session: state, then the OK (or PREAUTH) greeting. */
static void
imap_open(struct lconn *c)
{
	struct imapd *i = calloc(1, sizeof(*i));
	if (!i) {
		lconn_reply(c, "* BYE out of memory");
		lconn_close(c, "out of memory");
		return;
	}
	i->fd = -1;
	c->ps = i;
	char caps[200];
	if (c->lab->cfg.preauth && c->lab->users->n > 0) {
		/* --preauth: the first user, as if the network said so */
		snprintf(c->user, sizeof(c->user), "%s",
		    c->lab->users->u[0].name);
		imap_set(i, IS_AUTH);
		imap_caps(c, i, caps, sizeof(caps));
		lconn_reply(c, "* PREAUTH [CAPABILITY %s] mailsh-lab IMAP "
		    "ready, logged in as %s", caps, c->user);
		lconn_note(c, "preauth %s", c->user);
		return;
	}
	imap_caps(c, i, caps, sizeof(caps));
	lconn_reply(c, "* OK [CAPABILITY %s] mailsh-lab IMAP4rev1 ready",
	    caps);
}

/* Session over: frees the job, the mailbox view and the state. */
static void
imap_close(struct lconn *c)
{
	struct imapd *i = c->ps;
	if (!i)
		return;
	imap_job_end(i);
	imap_list_free(i);
	imap_app_end(i);
	ibox_close(&i->box);
	imap_cmd_free(i);
	imap_search_free(i->search);
	auth_x_end(&i->ax);
	free(i);
	c->ps = NULL;
}

/* After STARTTLS: not authenticated, nothing half-read. */
static void
imap_tls_ready(struct lconn *c)
{
	struct imapd *i = c->ps;
	i->cont = false;
	i->lit_need = 0;
	imap_app_end(i);
	imap_cmd_free(i);
	imap_set(i, IS_NOTAUTH);
}

/* The loop's errors as untagged BAD / BYE. */
static void
imap_error(struct lconn *c, enum lab_err e)
{
	switch (e) {
	case LAB_E_TOOLONG:
		lconn_reply(c, "* BAD [TOOBIG] line too long");
		break;
	case LAB_E_TIMEOUT:
		lconn_reply(c, "* BYE Autologout; idle for too long");
		break;
	case LAB_E_BUSY:
		lconn_reply(c, "* BYE [UNAVAILABLE] too many connections");
		break;
	case LAB_E_TOOMANY:
		lconn_reply(c, "* BYE too many commands");
		break;
	case LAB_E_SHUTDOWN:
		lconn_reply(c, "* BYE [UNAVAILABLE] server shutting down");
		break;
	case LAB_E_AUTHFAIL:
		lconn_reply(c, "* BYE Too many failed logins, closing");
		break;
	default:
		abort();
	}
}

/* ---- argument syntax ---- */

/*
 * Reads one astring (atom, "quoted" or {n} literal as assembled in the
 * command buffer) at *p (end at e) into out.  Returns its length, or -1.
 */
long
imap_astring(const char **p, const char *e, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	if (s < e && *s == '"') {
		for (s++; s < e && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < e)
				s++;
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s;
		}
		if (s >= e)
			return -1;
		s++;
	} else if (s < e && *s == '{') {
		char *end;
		unsigned long len = strtoul(s + 1, &end, 10);
		if (*end == '+')
			end++;
		if (*end != '}' || end + 3 > e || end[1] != '\r' ||
		    end[2] != '\n')
			return -1;
		s = end + 3;
		if (len >= cap || (size_t)(e - s) < len)
			return -1;
		memcpy(out, s, len);
		n = len;
		s += len;
	} else {
		while (s < e && *s != ' ' && *s != '(' && *s != ')' &&
		    *s != '{' && *s != '"' && (unsigned char)*s > 0x20 &&
		    (unsigned char)*s < 0x7f) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s++;
		}
		if (n == 0)
			return -1;
	}
	out[n] = '\0';
	while (s < e && *s == ' ')
		s++;
	*p = s;
	return (long)n;
}

/* ---- commands ---- */

/* The tagged OK of the running command. */
void
imap_ok(struct lconn *c, struct imapd *i, const char *what)
{
	lconn_reply(c, "%s OK %s completed", i->tag, what);
}

/* Answers a LOGIN / AUTHENTICATE with its result. */
static void
imap_login_done(struct lconn *c, struct imapd *i, enum auth_res r)
{
	if (r == AUTH_OK) {
		char caps[200];
		imap_set(i, IS_AUTH);
		imap_caps(c, i, caps, sizeof(caps));
		lconn_reply(c, "%s OK [CAPABILITY %s] Logged in", i->tag,
		    caps);
	} else if (r == AUTH_SYNTAX) {
		imap_set(i, IS_NOTAUTH);
		lconn_reply(c, "%s BAD invalid SASL response", i->tag);
	} else if (r == AUTH_TEMP) {
		/* RFC 5530 3: a temporary failure; the password was not
		 * checked (the address's login rate, or a full queue) */
		imap_set(i, IS_NOTAUTH);
		lconn_reply(c, "%s NO [UNAVAILABLE] Too many login "
		    "attempts, try again later", i->tag);
	} else {
		imap_set(i, IS_NOTAUTH);
		lconn_reply(c, "%s NO [AUTHENTICATIONFAILED] Authentication "
		    "failed", i->tag);
	}
}

/* The result of a password check run off the loop (auth.h); a
 * challenge of --sasl-extra's mechanisms. */
static void
imap_auth_done(struct lconn *c, enum auth_res r)
{
	struct imapd *i = c->ps;
	if (r == AUTH_CONTINUE) {
		imap_set(i, IS_AUTHX);
		lconn_reply(c, "+ %s", i->ax.out);
		return;
	}
	imap_login_done(c, i, r);
}

/* A check's first answer: now, or later through imap_auth_done. */
static void
imap_login_result(struct lconn *c, struct imapd *i, enum auth_res r)
{
	(void)i;
	if (r != AUTH_PENDING)
		imap_auth_done(c, r);
}

/* LOGIN user password (astrings): NO [PRIVACYREQUIRED] before
 * TLS in strict. */
static void
imap_login(struct lconn *c, struct imapd *i, const char *p, const char *e)
{
	char user[LAB_NAME_MAX * 4 + 1], pass[USERS_PASS_MAX + 1];
	if (!imap_auth_allowed(c)) {
		lconn_reply(c, "%s NO [PRIVACYREQUIRED] LOGIN is disabled "
		    "before STARTTLS (see LOGINDISABLED)", i->tag);
		lconn_note(c, "auth refused before TLS");
		return;
	}
	long ul = imap_astring(&p, e, user, sizeof(user));
	long pl = ul < 0 ? -1 : imap_astring(&p, e, pass, sizeof(pass));
	if (pl < 0 || p != e) {
		lconn_reply(c, "%s BAD Syntax: LOGIN user password", i->tag);
		return;
	}
	imap_login_result(c, i, auth_check(c, user, (size_t)ul, pass,
	    (size_t)pl, imap_auth_done));
	memset(pass, 0, sizeof(pass));
}

/* AUTHENTICATE PLAIN, with an initial response (SASL-IR) or "+". */
static void
imap_authenticate(struct lconn *c, struct imapd *i, const char *p,
    const char *e)
{
	char mech[32];
	if (imap_astring(&p, e, mech, sizeof(mech)) < 0) {
		lconn_reply(c, "%s BAD Syntax: AUTHENTICATE mechanism",
		    i->tag);
		return;
	}
	enum auth_xmech xm = auth_x_mech(c, mech, strlen(mech));
	if (strcasecmp(mech, "PLAIN") != 0 && xm == AUTH_X_NONE) {
		lconn_reply(c, "%s NO Unsupported authentication mechanism",
		    i->tag);
		return;
	}
	if (!imap_auth_allowed(c)) {
		lconn_reply(c, "%s NO [PRIVACYREQUIRED] Plaintext "
		    "authentication is disabled before STARTTLS", i->tag);
		lconn_note(c, "auth refused before TLS");
		return;
	}
	if (xm != AUTH_X_NONE) {
		imap_login_result(c, i, auth_x_start(c, &i->ax, xm, p < e ? p
		    : NULL, (size_t)(e - p), imap_auth_done));
		return;
	}
	if (p < e) {			/* SASL-IR */
		imap_login_result(c, i, auth_plain(c, p, (size_t)(e - p),
		    imap_auth_done));
		return;
	}
	imap_set(i, IS_AUTHPLAIN);
	lconn_reply(c, "+ ");
}

/* Parses "(\Seen \Deleted)" or "\Seen" into flag bits; keywords are
 * ignored (PERMANENTFLAGS has no \*).  Returns false on bad syntax. */
bool
imap_parse_flags(const char *p, const char *e, unsigned *flags)
{
	static const struct { const char *s; unsigned f; } names[] = {
		{ "\\Seen", IBOX_SEEN }, { "\\Answered", IBOX_ANSWERED },
		{ "\\Flagged", IBOX_FLAGGED }, { "\\Deleted", IBOX_DELETED },
		{ "\\Draft", IBOX_DRAFT },
	};
	*flags = 0;
	bool paren = p < e && *p == '(';
	if (paren)
		p++;
	while (p < e && *p != ')') {
		size_t n = 0;	/* bounded by e: a NUL does not stop it */
		while (p + n < e && p[n] != ' ' && p[n] != ')')
			n++;
		for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++)
			if (strlen(names[k].s) == n &&
			    strncasecmp(p, names[k].s, n) == 0)
				*flags |= names[k].f;
		p += n;
		while (p < e && *p == ' ')
			p++;
	}
	return paren == (p < e && *p == ')');
}

/* FETCH / STORE / UID FETCH / UID STORE: set up the streamed job. */
static void
imap_msgcmd(struct lconn *c, struct imapd *i, const char *p, const char *e,
    bool uid, bool store)
{
	const char *what = store ? "STORE" : "FETCH";
	size_t sl = strcspn(p, " ");
	if (sl == 0 || sl >= sizeof(i->set) || p + sl >= e)
		goto bad;
	memcpy(i->set, p, sl);
	i->set[sl] = '\0';
	if (!imap_set_ok(i->set))
		goto bad;
	p += sl + 1;
	if (store) {
		size_t n = strcspn(p, " ");
		i->store_op = *p == '+' ? 1 : *p == '-' ? -1 : 0;
		const char *w = p + (i->store_op != 0);
		size_t wl = n - (i->store_op != 0);
		if (wl == 12 && strncasecmp(w, "FLAGS.SILENT", 12) == 0)
			i->store_silent = true;
		else if (wl == 5 && strncasecmp(w, "FLAGS", 5) == 0)
			i->store_silent = false;
		else
			goto bad;
		p += n;
		while (p < e && *p == ' ')
			p++;
		if (i->box.readonly) {
			imap_ro_refuse(c, i);
			return;
		}
		if (!imap_parse_flags(p, e, &i->store_flags))
			goto bad;
		i->job = IJ_STORE;
	} else {
		if (!imap_fetch_parse(i, p))
			goto bad;
		i->job = IJ_FETCH;
	}
	i->uid = uid;
	i->next = 0;
	c->refill = imap_job_refill;
	return;
bad:
	lconn_reply(c, "%s BAD Syntax or unsupported: %s%s set items",
	    i->tag, uid ? "UID " : "", what);
}

/* Commands valid in the selected state.  Returns false if cmd is not
 * one of them. */
static bool
imap_selected_cmd(struct lconn *c, struct imapd *i, const char *cmd,
    const char *p, const char *e)
{
	if (strcasecmp(cmd, "FETCH") == 0 || strcasecmp(cmd, "STORE") == 0) {
		imap_msgcmd(c, i, p, e, false, cmd[0] == 'S' ||
		    cmd[0] == 's');
	} else if (strcasecmp(cmd, "SEARCH") == 0) {
		imap_search_start(c, i, p, e, false);
	} else if (strcasecmp(cmd, "COPY") == 0) {
		imap_copy(c, i, p, e, false);
	} else if (strcasecmp(cmd, "UID") == 0) {
		char sub[16];
		if (imap_astring(&p, e, sub, sizeof(sub)) < 0 ||
		    (strcasecmp(sub, "FETCH") && strcasecmp(sub, "STORE") &&
		    strcasecmp(sub, "SEARCH") && strcasecmp(sub, "COPY"))) {
			lconn_reply(c, "%s BAD UID FETCH, STORE, SEARCH or "
			    "COPY only", i->tag);
			return true;
		}
		if (strcasecmp(sub, "COPY") == 0)
			imap_copy(c, i, p, e, true);
		else if (strcasecmp(sub, "SEARCH") == 0)
			imap_search_start(c, i, p, e, true);
		else
			imap_msgcmd(c, i, p, e, true, sub[1] == 'T' ||
			    sub[1] == 't');
	} else if (strcasecmp(cmd, "EXPUNGE") == 0 ||
	    strcasecmp(cmd, "CLOSE") == 0) {
		if (i->box.readonly) {
			if (cmd[0] == 'C' || cmd[0] == 'c') {
				ibox_close(&i->box);
				imap_set(i, IS_AUTH);
				imap_ok(c, i, "CLOSE");
			} else {
				imap_ro_refuse(c, i);
			}
			return true;
		}
		if (cmd[0] == 'C' || cmd[0] == 'c') {
			/* CLOSE expunges silently */
			for (size_t k = i->box.n; k-- > 0; )
				if (i->box.m[k].flags & IBOX_DELETED &&
				    ibox_expunge(&i->box, k) == 0)
					loop_wake(c->lab);	/* IDLE */
			ibox_close(&i->box);
			imap_set(i, IS_AUTH);
			imap_ok(c, i, "CLOSE");
			return true;
		}
		i->job = IJ_EXPUNGE;
		i->uid = false;
		i->next = 0;
		c->refill = imap_job_refill;
	} else if (strcasecmp(cmd, "CHECK") == 0) {
		imap_news(c, i);
		imap_ok(c, i, "CHECK");
	} else {
		return false;
	}
	return true;
}

/* Runs one complete command (tag, name, arguments with literals). */
static void
imap_exec(struct lconn *c, struct imapd *i, const char *s, size_t n)
{
	const char *e = s + n, *p = s;
	char cmd[32];
	size_t tl = 0;
	while (p + tl < e && p[tl] != ' ' && (unsigned char)p[tl] > 0x20 &&
	    (unsigned char)p[tl] < 0x7f && p[tl] != '+' && p[tl] != '(' &&
	    p[tl] != '{' && p[tl] != '*' && p[tl] != '"')
		tl++;
	if (tl == 0 || tl >= sizeof(i->tag) || p + tl >= e ||
	    p[tl] != ' ') {
		lconn_reply(c, "* BAD Syntax: tag command [arguments]");
		return;
	}
	memcpy(i->tag, p, tl);
	i->tag[tl] = '\0';
	p += tl + 1;
	if (imap_astring(&p, e, cmd, sizeof(cmd)) < 0) {
		lconn_reply(c, "%s BAD Missing command", i->tag);
		return;
	}
	bool pre = i->st == IS_NOTAUTH;
	bool authed = i->st == IS_AUTH || i->st == IS_SELECTED;
	imap_pop3_sync(c, i);
#define CMD(w) (strcasecmp(cmd, w) == 0)
	if (CMD("CAPABILITY")) {
		char caps[200];
		imap_caps(c, i, caps, sizeof(caps));
		lconn_reply(c, "* CAPABILITY %s", caps);
		imap_ok(c, i, "CAPABILITY");
	} else if (CMD("NOOP")) {
		imap_news(c, i);
		imap_ok(c, i, "NOOP");
	} else if (CMD("LOGOUT")) {
		lconn_reply(c, "* BYE mailsh-lab logging out");
		imap_ok(c, i, "LOGOUT");
		lconn_close(c, "logout");
	} else if (CMD("ID")) {
		lconn_reply(c, "* ID (\"name\" \"mailsh-lab\")");
		imap_ok(c, i, "ID");
	} else if (CMD("ENABLE") && authed) {
		lconn_reply(c, "* ENABLED");
		imap_ok(c, i, "ENABLE");
	} else if (CMD("STARTTLS")) {
		if (lconn_is_tls(c) || !pre) {
			lconn_reply(c, "%s BAD STARTTLS not possible now",
			    i->tag);
		} else {
			lconn_reply(c, "%s OK Begin TLS negotiation now",
			    i->tag);
			lconn_starttls(c);
		}
	} else if (CMD("LOGIN") && pre) {
		imap_login(c, i, p, e);
	} else if (CMD("AUTHENTICATE") && pre) {
		imap_authenticate(c, i, p, e);
	} else if ((CMD("LOGIN") || CMD("AUTHENTICATE")) && authed) {
		lconn_reply(c, "%s BAD Already logged in", i->tag);
	} else if (pre) {
		lconn_reply(c, "%s BAD Log in first (LOGIN or AUTHENTICATE)",
		    i->tag);
	} else if (CMD("SELECT") || CMD("EXAMINE")) {
		imap_select(c, i, p, e, CMD("EXAMINE"));
	} else if (CMD("LIST") || CMD("LSUB")) {
		imap_list(c, i, p, e, CMD("LSUB"));
	} else if (CMD("STATUS")) {
		imap_status(c, i, p, e);
	} else if (CMD("IDLE")) {
		i->idling = true;
		lconn_reply(c, "+ idling");
		imap_news(c, i);
	} else if (CMD("SUBSCRIBE") || CMD("UNSUBSCRIBE")) {
		imap_ok(c, i, cmd);
	} else if (CMD("CREATE") || CMD("DELETE") || CMD("RENAME")) {
		imap_boxcmd(c, i, p, e, cmd);
	} else if (CMD("APPEND")) {
		lconn_reply(c, "%s BAD Syntax: APPEND mailbox [(flags)] "
		    "[date-time] {size}", i->tag);
	} else if (i->st == IS_SELECTED && imap_selected_cmd(c, i, cmd, p,
	    e)) {
		/* done */
	} else {
		lconn_reply(c, "%s BAD Unknown command or wrong state (%s)",
		    i->tag, imap_state_name[i->st]);
	}
#undef CMD
}

/* Appends to the command buffer; false when it would not fit. */
static bool
imap_append(struct imapd *i, const char *s, size_t n)
{
	if (i->cmdlen + n > IMAP_CMD_MAX)
		return false;
	if (!i->cmd && !(i->cmd = malloc(IMAP_CMD_MAX + 1)))
		return false;
	memcpy(i->cmd + i->cmdlen, s, n);
	i->cmdlen += n;
	i->cmd[i->cmdlen] = '\0';
	return true;
}

/* After a piece of command text: does it end in a literal {n}?  Then
 * wait for it (answering "+" unless LITERAL+), else run the command. */
static void
imap_tail(struct lconn *c, struct imapd *i)
{
	if (!i->cmd) {
		lconn_reply(c, "* BAD out of memory");
		i->cont = false;
		return;
	}
	const char *s = i->cmd, *e = s + i->cmdlen;
	if (i->cmdlen >= 3 && e[-1] == '}') {
		const char *b = e - 2;
		bool plus = *b == '+';
		if (plus)
			b--;
		while (b > s && *b >= '0' && *b <= '9')
			b--;
		if (*b == '{' && b + 1 < e - 1 - plus) {
			/* {n}: more than 20 digits or beyond 2^64-1 is
			 * too big for anyone; compare without wrapping */
			size_t digits = (size_t)(e - 1 - plus - (b + 1));
			errno = 0;
			unsigned long long n = digits <= 20 ?
			    strtoull(b + 1, NULL, 10) : ULLONG_MAX;
			bool huge = digits > 20 || errno == ERANGE;
			if (!huge && imap_append_begin(c, i, n, plus))
				return;
			if (huge || i->cmdlen + 2 > IMAP_CMD_MAX ||
			    n > IMAP_CMD_MAX - i->cmdlen - 2) {
				/* the command has a tag: answer it */
				size_t tl = strcspn(s, " ");
				if (tl == 0 || tl >= IMAP_TAG_MAX)
					tl = 1, s = "*";
				lconn_reply(c, "%.*s BAD [TOOBIG] literal too "
				    "big for this lab", (int)tl, s);
				i->cont = false;
				imap_cmd_free(i);
				/* {n+}: the octets come anyway, and lines of
				 * them may be too long to count: the lab
				 * cannot stay in step, so it ends the
				 * session */
				if (plus) {
					lconn_reply(c, "* BYE literal too big; "
					    "closing");
					lconn_close(c, "literal+ too big");
				}
				return;
			}
			imap_append(i, "\r\n", 2);
			i->lit_need = n;
			i->cont = true;
			if (!plus)
				lconn_reply(c, "+ Ready for literal data");
			return;
		}
	}
	i->cont = false;
	imap_exec(c, i, i->cmd, i->cmdlen);
	imap_cmd_free(i);
}

/* One line from the client: IDLE's DONE, an AUTHENTICATE response,
 * a command, or the rest of one after a literal. */
static void
imap_line(struct lconn *c, char *line, size_t n)
{
	struct imapd *i = c->ps;
	if (!i)
		return;
	if (i->app_on) {		/* the end of an APPEND */
		imap_append_end(c, i, n);
		return;
	}
	if (i->idling) {
		i->idling = false;
		if (n == 4 && strncasecmp(line, "DONE", 4) == 0)
			lconn_reply(c, "%s OK IDLE terminated", i->tag);
		else
			lconn_reply(c, "%s BAD expected DONE", i->tag);
		return;
	}
	if (i->st == IS_AUTHX) {
		if (!lconn_command(c))
			return;
		if (n == 1 && line[0] == '*') {
			imap_set(i, IS_NOTAUTH);
			auth_x_end(&i->ax);
			lconn_reply(c, "%s BAD AUTHENTICATE cancelled",
			    i->tag);
			return;
		}
		imap_login_result(c, i, auth_x_line(c, &i->ax, line, n));
		return;
	}
	if (i->st == IS_AUTHPLAIN) {
		if (!lconn_command(c))
			return;
		if (n == 1 && line[0] == '*') {
			imap_set(i, IS_NOTAUTH);
			lconn_reply(c, "%s BAD AUTHENTICATE cancelled",
			    i->tag);
			return;
		}
		imap_login_result(c, i, auth_plain(c, line, n,
		    imap_auth_done));
		return;
	}
	if (!i->cont) {
		if (!lconn_command(c))
			return;
		imap_cmd_free(i);
		imap_append(i, line, n);
		imap_tail(c, i);
		return;
	}
	if (i->lit_need > 0) {
		if (n >= i->lit_need) {
			size_t k = (size_t)i->lit_need;
			imap_append(i, line, k);
			i->lit_need = 0;
			if (!imap_append(i, line + k, n - k)) {
				lconn_reply(c, "* BAD [TOOBIG] command too "
				    "long");
				i->cont = false;
				imap_cmd_free(i);
				return;
			}
			imap_tail(c, i);
			return;
		}
		/* the literal goes on past this line end */
		imap_append(i, line, n);
		imap_append(i, "\r\n", 2);
		i->lit_need = i->lit_need > n + 2 ? i->lit_need - n - 2 : 0;
		return;
	}
	/* the literal ended with a line end: this is the rest */
	if (!imap_append(i, line, n)) {
		lconn_reply(c, "* BAD [TOOBIG] command too long");
		i->cont = false;
		imap_cmd_free(i);
		return;
	}
	imap_tail(c, i);
}

/* Mail was delivered: an idling client hears of it at once. */
static void
imap_wake(struct lconn *c)
{
	struct imapd *i = c->ps;
	if (i && i->idling)
		imap_news(c, i);
}

const struct lab_proto imapd_proto = {
	.name = "imap",
	.open = imap_open,
	.line = imap_line,
	.tls_ready = imap_tls_ready,
	.error = imap_error,
	.close = imap_close,
	.wake = imap_wake,
	.raw = imap_append_raw,
	.idle_s = 1800,		/* RFC 3501 5.4: at least 30 minutes */
};
