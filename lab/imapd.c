/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapd.c: the lab's IMAP4rev1 server: states, command syntax (tags,
 * atoms, quoted strings, literals) and the commands.
 *
 * RFC 3501 (IMAP4rev1), RFC 2595 and RFC 3501 6.2.1 (STARTTLS,
 * LOGINDISABLED), RFC 4959 (SASL-IR), RFC 2177 (IDLE), RFC 4616
 * (PLAIN), RFC 7888
 * (LITERAL+), RFC 5530 (response codes: PRIVACYREQUIRED,
 * AUTHENTICATIONFAILED, NONEXISTENT, CANNOT, UNAVAILABLE), RFC 8314.
 *
 * Mailboxes: INBOX plus Maildir++ folders (imapbox.c); APPEND streams
 * its literal into the store (raw input, lconn_raw); BODYSTRUCTURE and
 * parts come from imapmime.c; SEARCH has the common keys
 * (imapsearch.c).  RFC 3501 6.3.3-6.3.5 (CREATE, DELETE, RENAME),
 * 6.3.11 (APPEND), 6.4.7 (COPY), RFC 5530 (TRYCREATE, ALREADYEXISTS,
 * INUSE, OVERQUOTA: the --quota of limits.c holds for APPEND and COPY
 * as for SMTP).
 */
#include "imapd.h"
#include "imap_int.h"
#include "auth.h"
#include "commit.h"
#include "limits.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const imap_state_name[] = {
	"not-authenticated", "authenticate", "authenticated", "selected",
};

static void imap_app_end(struct imapd *i);
static void imap_appended(struct lconn *c, int r, const char *id);

/* Changes state; the ONLY way to do so. */
static void
imap_set(struct imapd *i, enum imap_state st)
{
	if ((unsigned)st >= sizeof(imap_state_name) /
	    sizeof(*imap_state_name))
		abort();
	i->st = st;
}

/* Forgets the command buffer (it exists only while reading one). */
static void
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
	bool pre = i->st == IS_NOTAUTH || i->st == IS_AUTHPLAIN;
	snprintf(buf, cap, "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE%s%s%s",
	    pre && !lconn_is_tls(c) ? " STARTTLS" : "",
	    pre && !imap_auth_allowed(c) ? " LOGINDISABLED" : "",
	    pre && imap_auth_allowed(c) ? " AUTH=PLAIN" : "");
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

/* Ends a LIST / LSUB in progress (if any). */
static void
imap_list_free(struct imapd *i)
{
	if (!i->lister)
		return;
	imapbox_list_end(i->lister);
	free(i->lister);
	i->lister = NULL;
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
static long
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
static void
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

/* The result of a password check run off the loop (auth.h). */
static void
imap_auth_done(struct lconn *c, enum auth_res r)
{
	imap_login_done(c, c->ps, r);
}

/* A check's first answer: now, or later through imap_auth_done. */
static void
imap_login_result(struct lconn *c, struct imapd *i, enum auth_res r)
{
	if (r != AUTH_PENDING)
		imap_login_done(c, i, r);
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
	if (strcasecmp(mech, "PLAIN") != 0) {
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
	if (p < e) {			/* SASL-IR */
		imap_login_result(c, i, auth_plain(c, p, (size_t)(e - p),
		    imap_auth_done));
		return;
	}
	imap_set(i, IS_AUTHPLAIN);
	lconn_reply(c, "+ ");
}

/* While a POP3 session holds the user's maildrop (INBOX, RFC 1939 8:
 * an exclusive lock), IMAP may read INBOX but not change it: no
 * EXPUNGE, no flags, no move from new/ to cur/ (POP3 lists the files
 * by name).  Is the mailbox box of c's user held so? */
static bool
imap_pop3_holds(const struct lconn *c, const char *box)
{
	if (!imapbox_is_inbox(box))
		return false;
	const struct lab_user *u = users_find(c->lab->users, c->user,
	    strlen(c->user));
	return u && u->maildrop_open;
}

/* Before each command in the selected state: the mailbox is read-only
 * if it was opened so or while POP3 holds the maildrop. */
static void
imap_pop3_sync(const struct lconn *c, struct imapd *i)
{
	if (i->st == IS_SELECTED)
		i->box.readonly = i->box_ro ||
		    imap_pop3_holds(c, i->boxname);
}

/* NO for a change to a read-only mailbox, saying why. */
static void
imap_ro_refuse(struct lconn *c, struct imapd *i)
{
	if (!i->box_ro && imap_pop3_holds(c, i->boxname))
		lconn_reply(c, "%s NO [INUSE] INBOX is read-only while a "
		    "POP3 session holds the maildrop", i->tag);
	else
		lconn_reply(c, "%s NO [READ-ONLY] Mailbox is read-only",
		    i->tag);
}

/* SELECT / EXAMINE INBOX: the untagged data, then OK [READ-WRITE]
 * or [READ-ONLY]. */
static void
imap_select(struct lconn *c, struct imapd *i, const char *p, const char *e,
    bool readonly)
{
	char name[256];
	const char *what = readonly ? "EXAMINE" : "SELECT";
	if (i->st == IS_SELECTED) {
		ibox_close(&i->box);
		imap_set(i, IS_AUTH);
		lconn_reply(c, "* OK [CLOSED] Previous mailbox closed");
	}
	if (imap_astring(&p, e, name, sizeof(name)) < 0 || p != e) {
		lconn_reply(c, "%s BAD Syntax: %s mailbox", i->tag, what);
		return;
	}
	char path[4400];
	if (imapbox_path(c->lab->cfg.state, c->user, name, path,
	    sizeof(path)) != 0) {
		lconn_reply(c, "%s NO [CANNOT] Invalid mailbox name",
		    i->tag);
		return;
	}
	if (!imapbox_exists(c->lab->cfg.state, c->user, name)) {
		lconn_reply(c, "%s NO [NONEXISTENT] No such mailbox",
		    i->tag);
		return;
	}
	bool held = !readonly && imap_pop3_holds(c, name);
	if (ibox_open(&i->box, path, readonly || held) != 0) {
		lconn_reply(c, "%s NO [UNAVAILABLE] Cannot open mailbox",
		    i->tag);
		return;
	}
	snprintf(i->boxname, sizeof(i->boxname), "%s",
	    imapbox_is_inbox(name) ? "INBOX" : name);
	i->box_ro = readonly || held;
	imap_set(i, IS_SELECTED);
	if (held)
		lconn_reply(c, "* NO [INUSE] A POP3 session holds the "
		    "maildrop: INBOX is read-only");
	size_t recent = 0, unseen = 0;
	for (size_t k = 0; k < i->box.n; k++) {
		recent += (i->box.m[k].flags & IBOX_RECENT) != 0;
		if (!unseen && !(i->box.m[k].flags & IBOX_SEEN))
			unseen = k + 1;
	}
	lconn_reply(c, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft)");
	lconn_reply(c, "* OK [PERMANENTFLAGS (%s)] Flags permitted",
	    i->box_ro ? "" : "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	lconn_reply(c, "* %zu EXISTS", i->box.n);
	lconn_reply(c, "* %zu RECENT", recent);
	if (unseen)
		lconn_reply(c, "* OK [UNSEEN %zu] First unseen", unseen);
	lconn_reply(c, "* OK [UIDVALIDITY %u] UIDs valid",
	    i->box.uidvalidity);
	lconn_reply(c, "* OK [UIDNEXT %u] Predicted next UID",
	    i->box.uidnext);
	lconn_reply(c, "%s OK [%s] %s completed", i->tag,
	    i->box_ro ? "READ-ONLY" : "READ-WRITE", what);
}

/* Writes a mailbox name: INBOX as an atom, others quoted. */
static void
imap_boxname(char *out, size_t cap, const char *name)
{
	if (imapbox_is_inbox(name))
		snprintf(out, cap, "INBOX");
	else
		snprintf(out, cap, "\"%s\"", name);	/* no " or \ in it */
}

/* Refill hook of LIST / LSUB: one line per matching mailbox while
 * there is room, then the tagged OK (never a truncated answer). */
static bool
imap_list_refill(struct lconn *c)
{
	struct imapd *i = c->ps;
	const char *cmd = i->list_lsub ? "LSUB" : "LIST";
	char name[IMAPBOX_NAME_MAX + 8], q[IMAPBOX_NAME_MAX + 8];
	while (lconn_room(c) >= LAB_REPLY_ROOM) {
		int r = imapbox_list_next(i->lister, name, sizeof(name));
		if (r < 0)
			return true;		/* more next time */
		if (r == 0)
			break;
		imap_boxname(q, sizeof(q), name);
		lconn_reply(c, "* %s (\\HasNoChildren) \"/\" %s", cmd, q);
	}
	if (lconn_room(c) < LAB_REPLY_ROOM)
		return true;
	imap_list_free(i);
	imap_ok(c, i, cmd);
	return false;
}

/* LIST / LSUB reference pattern: the mailboxes that match (every
 * mailbox counts as subscribed), or the delimiter for an empty
 * pattern.  Streamed by imap_list_refill; reference and pattern
 * together are capped before anything is matched. */
static void
imap_list(struct lconn *c, struct imapd *i, const char *p, const char *e,
    bool lsub)
{
	char ref[IMAP_CMD_MAX + 1], pat[IMAP_CMD_MAX + 1];
	const char *cmd = lsub ? "LSUB" : "LIST";
	if (imap_astring(&p, e, ref, sizeof(ref)) < 0 ||
	    imap_astring(&p, e, pat, sizeof(pat)) < 0 || p != e)
		goto bad;
	if (!lsub && pat[0] == '\0') {		/* the hierarchy delimiter */
		lconn_reply(c, "* LIST (\\Noselect) \"/\" \"\"");
		imap_ok(c, i, cmd);
		return;
	}
	size_t rl = strlen(ref), pl = strlen(pat);
	if (rl + pl > IMAPMATCH_PAT_MAX) {
		lconn_reply(c, "%s NO [LIMIT] %s reference and pattern longer "
		    "than %d bytes", i->tag, cmd, IMAPMATCH_PAT_MAX);
		return;
	}
	memcpy(ref + rl, pat, pl + 1);
	imap_list_free(i);
	if (!(i->lister = malloc(sizeof(*i->lister))) ||
	    imapbox_list_begin(i->lister, c->lab->cfg.state, c->user,
	    ref) != 0) {
		free(i->lister);
		i->lister = NULL;
		lconn_reply(c, "%s NO [SERVERBUG] %s failed", i->tag, cmd);
		return;
	}
	i->list_lsub = lsub;
	c->refill = imap_list_refill;
	return;
bad:
	lconn_reply(c, "%s BAD Syntax: %s reference pattern", i->tag, cmd);
}

/* STATUS mailbox (items): the items asked for. */
static void
imap_status(struct lconn *c, struct imapd *i, const char *p, const char *e)
{
	char name[256];
	if (imap_astring(&p, e, name, sizeof(name)) < 0 || *p != '(') {
		lconn_reply(c, "%s BAD Syntax: STATUS mailbox (items)",
		    i->tag);
		return;
	}
	char path[4400];
	if (imapbox_path(c->lab->cfg.state, c->user, name, path,
	    sizeof(path)) != 0 || !imapbox_exists(c->lab->cfg.state,
	    c->user, name)) {
		lconn_reply(c, "%s NO [NONEXISTENT] No such mailbox",
		    i->tag);
		return;
	}
	size_t ex, rc, un;
	uint32_t next, valid;
	if (ibox_status(path, &ex, &rc, &un, &next, &valid) != 0) {
		lconn_reply(c, "%s NO [UNAVAILABLE] Cannot open mailbox",
		    i->tag);
		return;
	}
	char out[300] = "";
	size_t o = 0;
	static const char *const names[] = { "MESSAGES", "RECENT",
	    "UIDNEXT", "UIDVALIDITY", "UNSEEN" };
	unsigned long vals[] = { ex, rc, next, valid, un };
	for (size_t k = 0; k < 5; k++) {
		const char *w = strcasestr(p, names[k]);
		if (w && w < e && o < sizeof(out) - 40)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "%s%s %lu", o ? " " : "", names[k], vals[k]);
	}
	char q[IMAPBOX_NAME_MAX + 8];
	imap_boxname(q, sizeof(q), name);
	lconn_reply(c, "* STATUS %s (%s)", q, out);
	imap_ok(c, i, "STATUS");
}

/* Parses "(\Seen \Deleted)" or "\Seen" into flag bits; keywords are
 * ignored (PERMANENTFLAGS has no \*).  Returns false on bad syntax. */
static bool
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

/* ibox_prune callback: one untagged EXPUNGE. */
static void
imap_expunged(void *arg, size_t seq)
{
	lconn_reply(arg, "* %zu EXPUNGE", seq);
}

/* Reports what other sessions expunged and what arrived since the
 * last look (NOOP, CHECK, IDLE). */
static void
imap_news(struct lconn *c, struct imapd *i)
{
	if (i->st != IS_SELECTED)
		return;
	imap_pop3_sync(c, i);
	/* what other sessions expunged first (RFC 3501 7.4.1: not during
	 * FETCH, STORE or SEARCH, which do not come here), as many as the
	 * output has room for; the rest next time */
	size_t room = lconn_room(c);
	ibox_prune(&i->box, room > 1024 ? (room - 1024) / 24 : 0,
	    imap_expunged, c);
	int added = ibox_refresh(&i->box);
	if (added <= 0)
		return;
	size_t recent = 0;
	for (size_t k = 0; k < i->box.n; k++)
		recent += (i->box.m[k].flags & IBOX_RECENT) != 0;
	lconn_reply(c, "* %zu EXISTS", i->box.n);
	lconn_reply(c, "* %zu RECENT", recent);
}

/* CREATE / DELETE mailbox, RENAME from to: a clear NO for a bad
 * name, INBOX, or a name taken / missing. */
static void
imap_boxcmd(struct lconn *c, struct imapd *i, const char *p, const char *e,
    const char *cmd)
{
	char a[256], b[256];
	const char *st = c->lab->cfg.state;
	bool ren = strcasecmp(cmd, "RENAME") == 0;
	if (imap_astring(&p, e, a, sizeof(a)) < 0 || (ren &&
	    imap_astring(&p, e, b, sizeof(b)) < 0) || p != e) {
		lconn_reply(c, "%s BAD Syntax: %s mailbox%s", i->tag, cmd,
		    ren ? " newname" : "");
		return;
	}
	size_t al = strlen(a);
	if (strcasecmp(cmd, "CREATE") == 0 && al > 1 && a[al - 1] == '/')
		a[al - 1] = '\0';	/* "foo/": a hierarchy hint */
	const char *bad = !imapbox_name_ok(a) ? a : ren &&
	    !imapbox_name_ok(b) ? b : NULL;
	if (bad) {
		lconn_reply(c, "%s NO [CANNOT] Invalid mailbox name: 1 to %d "
		    "printable characters, no / \\ * %% \" or \"..\", not "
		    "starting with a dot", i->tag, IMAPBOX_NAME_MAX);
		lconn_note(c, "%s refused: bad name", cmd);
		return;
	}
	if (i->st == IS_SELECTED && !ren && strcasecmp(cmd, "DELETE") == 0 &&
	    strcmp(i->boxname, a) == 0 && !imapbox_is_inbox(a)) {
		lconn_reply(c, "%s NO [INUSE] Mailbox is selected", i->tag);
		return;
	}
	if (ren && i->st == IS_SELECTED && strcmp(i->boxname, a) == 0 &&
	    !imapbox_is_inbox(a)) {
		lconn_reply(c, "%s NO [INUSE] Mailbox is selected", i->tag);
		return;
	}
	int r;
	if (strcasecmp(cmd, "CREATE") == 0)
		r = imapbox_create(st, c->user, a);
	else if (!ren)
		r = imapbox_is_inbox(a) ? (errno = EPERM, -1) :
		    imapbox_delete(st, c->user, a);
	else
		r = imapbox_is_inbox(a) || imapbox_is_inbox(b) ?
		    (errno = EPERM, -1) : imapbox_rename(st, c->user, a, b);
	if (r == 0) {
		lconn_note(c, "%s %s", cmd, a);
		imap_ok(c, i, cmd);
	} else if (errno == EEXIST) {
		lconn_reply(c, "%s NO [ALREADYEXISTS] Mailbox exists",
		    i->tag);
	} else if (errno == ENOENT) {
		lconn_reply(c, "%s NO [NONEXISTENT] No such mailbox",
		    i->tag);
	} else if (errno == EPERM) {
		lconn_reply(c, "%s NO [CANNOT] INBOX cannot be deleted or "
		    "renamed in this lab", i->tag);
	} else {
		lconn_reply(c, "%s NO [SERVERBUG] %s failed: %s", i->tag, cmd,
		    strerror(errno));
	}
}

/* COPY / UID COPY set mailbox: hard links, flags kept. */
static void
imap_copy(struct lconn *c, struct imapd *i, const char *p, const char *e,
    bool uid)
{
	char set[IMAP_SET_MAX], name[256], path[4400];
	size_t sl = strcspn(p, " ");
	if (sl == 0 || sl >= sizeof(set) || p + sl >= e)
		goto bad;
	memcpy(set, p, sl);
	set[sl] = '\0';
	p += sl + 1;
	if (!imap_set_ok(set) || imap_astring(&p, e, name, sizeof(name)) < 0 ||
	    p != e)
		goto bad;
	if (imapbox_path(c->lab->cfg.state, c->user, name, path,
	    sizeof(path)) != 0) {
		lconn_reply(c, "%s NO [CANNOT] Invalid mailbox name", i->tag);
		return;
	}
	if (!imapbox_exists(c->lab->cfg.state, c->user, name)) {
		lconn_reply(c, "%s NO [TRYCREATE] No such mailbox", i->tag);
		return;
	}
	struct ibox *b = &i->box;
	uint32_t max = b->n ? (uid ? b->m[b->n - 1].uid : (uint32_t)b->n) :
	    0;
	/* the quota first (RFC 5530 OVERQUOTA): all or nothing */
	unsigned nmsgs = 0;
	uint64_t bytes = 0, qm, qb;
	for (size_t k = 0; k < b->n; k++)
		if (imap_set_has(set, uid ? b->m[k].uid : (uint32_t)(k + 1),
		    max)) {
			nmsgs++;
			bytes += ibox_stored_size(b, k);
		}
	if (nmsgs && limits_over_quota(&c->lab->cfg, c->user, nmsgs, bytes,
	    &qm, &qb)) {
		lconn_reply(c, "%s NO [OVERQUOTA] Quota exceeded: the copies "
		    "would not fit; nothing was copied", i->tag);
		lconn_note(c, "copy refused: over quota");
		return;
	}
	size_t n = 0;
	for (size_t k = 0; k < b->n; k++) {
		uint32_t v = uid ? b->m[k].uid : (uint32_t)(k + 1);
		if (!imap_set_has(set, v, max))
			continue;
		if (imapbox_copy(b, k, path) != 0) {
			lconn_reply(c, "%s NO COPY failed after %zu messages: "
			    "%s", i->tag, n, strerror(errno));
			return;
		}
		n++;
	}
	lconn_note(c, "copied %zu to %s", n, name);
	if (strcmp(name, i->boxname) == 0 || (imapbox_is_inbox(name) &&
	    imapbox_is_inbox(i->boxname)))
		imap_news(c, i);
	lconn_reply(c, "%s OK %sCOPY completed", i->tag, uid ? "UID " : "");
	return;
bad:
	lconn_reply(c, "%s BAD Syntax: %sCOPY set mailbox", i->tag,
	    uid ? "UID " : "");
}

/* Parses an IMAP date-time "dd-Mon-yyyy hh:mm:ss +zzzz".  Returns the
 * time, or -1. */
static time_t
imap_datetime(const char *s)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = { 0 };
	char m[4] = "", sign;
	int day, year, hh, mm, ss, zone;
	if (sscanf(s, " %d-%3s-%d %d:%d:%d %c%4d", &day, m, &year, &hh, &mm,
	    &ss, &sign, &zone) != 8 || (sign != '+' && sign != '-'))
		return -1;
	tm.tm_mon = -1;
	for (int k = 0; k < 12; k++)
		if (strcasecmp(m, mon[k]) == 0)
			tm.tm_mon = k;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 ||
	    hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	long off = (zone / 100) * 3600L + (zone % 100) * 60L;
	return timegm(&tm) - (sign == '+' ? off : -off);
}

/* Frees what an APPEND holds (the half-written message goes). */
static void
imap_app_end(struct imapd *i)
{
	if (i->app) {
		store_abort(i->app);
		free(i->app);
		i->app = NULL;
	}
	i->app_on = false;
	i->app_cr = false;
	i->app_err[0] = '\0';
}

/* Refuses an APPEND: at once for a synchronizing literal (the client
 * will not send it), after the literal is skipped for LITERAL+. */
static void
imap_app_refuse(struct lconn *c, struct imapd *i, uint64_t n, bool plus,
    const char *fmt, const char *what)
{
	if (!plus) {
		lconn_reply(c, fmt, i->tag, what);
		imap_cmd_free(i);
		i->cont = false;
		return;
	}
	i->app_on = true;
	snprintf(i->app_err, sizeof(i->app_err), fmt, i->tag, what);
	imap_cmd_free(i);
	i->cont = false;
	lconn_raw(c, n);
}

/*
 * The command so far ends in the literal {n} (plus: LITERAL+).  If it
 * is the message of an APPEND (tag APPEND mailbox [flags] [date] {n}),
 * the literal is stored as it arrives (raw input): returns true.
 * Otherwise (not an APPEND, or the literal is the mailbox name)
 * returns false and nothing is done.
 */
static bool
imap_append_begin(struct lconn *c, struct imapd *i, uint64_t n, bool plus)
{
	const char *p = i->cmd, *e = i->cmd + i->cmdlen;
	char tag[IMAP_TAG_MAX], cmd[16], box[256];
	size_t tl = strcspn(p, " ");
	if (tl == 0 || tl >= sizeof(tag) || p + tl >= e)
		return false;
	memcpy(tag, p, tl);
	tag[tl] = '\0';
	p += tl + 1;
	if (imap_astring(&p, e, cmd, sizeof(cmd)) < 0 ||
	    strcasecmp(cmd, "APPEND") != 0 || *p == '{' ||
	    imap_astring(&p, e, box, sizeof(box)) < 0)
		return false;
	unsigned flags = 0;
	time_t date = 0;
	if (*p == '(') {
		const char *rp = memchr(p, ')', (size_t)(e - p));
		if (!rp || !imap_parse_flags(p, rp + 1, &flags))
			return false;
		p = rp + 1;
		while (p < e && *p == ' ')
			p++;
	}
	if (*p == '"') {
		char d[64];
		if (imap_astring(&p, e, d, sizeof(d)) < 0 ||
		    (date = imap_datetime(d)) < 0) {
			snprintf(i->tag, sizeof(i->tag), "%s", tag);
			imap_app_refuse(c, i, n, plus, "%s BAD Syntax: APPEND "
			    "date-time%s", "");
			return true;
		}
	}
	if (*p != '{')
		return false;
	snprintf(i->tag, sizeof(i->tag), "%s", tag);
	if (i->st != IS_AUTH && i->st != IS_SELECTED) {
		imap_app_refuse(c, i, n, plus, "%s BAD Log in first%s", "");
		return true;
	}
	char user[300];
	if (imapbox_store_user(c->user, box, user, sizeof(user)) != 0) {
		imap_app_refuse(c, i, n, plus, "%s NO [CANNOT] Invalid "
		    "mailbox name%s", "");
		return true;
	}
	if (!imapbox_exists(c->lab->cfg.state, c->user, box)) {
		imap_app_refuse(c, i, n, plus, "%s NO [TRYCREATE] No such "
		    "mailbox%s", "");
		return true;
	}
	if (n > c->lab->cfg.max_size) {
		imap_app_refuse(c, i, n, plus, "%s NO [TOOBIG] Message "
		    "larger than %s", "--max-size");
		return true;
	}
	uint64_t qm, qb;
	if (limits_over_quota(&c->lab->cfg, c->user, 1, 0, &qm, &qb)) {
		imap_app_refuse(c, i, n, plus, "%s NO [OVERQUOTA] Quota "
		    "exceeded%s; nothing was stored", "");
		lconn_note(c, "append refused: over quota");
		return true;
	}
	if (!(i->app = malloc(sizeof(*i->app))) ||
	    store_begin(i->app, c->lab->cfg.state, user) != 0) {
		free(i->app);
		i->app = NULL;
		imap_app_refuse(c, i, n, plus, "%s NO [SERVERBUG] Cannot "
		    "store the message%s", "");
		return true;
	}
	snprintf(i->app_box, sizeof(i->app_box), "%s",
	    imapbox_is_inbox(box) ? "INBOX" : box);
	i->app_flags = flags;
	i->app_date = date;
	i->app_on = true;
	i->app_cr = false;
	i->app_err[0] = '\0';
	imap_cmd_free(i);
	i->cont = false;
	if (!plus)
		lconn_reply(c, "+ Ready for the message");
	if (n == 0)
		return true;	/* the line end follows at once */
	lconn_raw(c, n);
	return true;
}

/* Raw input: bytes of an APPEND literal, CRLF stored as LF. */
static void
imap_raw(struct lconn *c, const char *s, size_t n)
{
	struct imapd *i = c->ps;
	if (!i || !i->app)
		return;			/* a refused literal: skipped */
	size_t start = 0;
	for (size_t k = 0; k < n; k++) {
		if (i->app_cr) {
			i->app_cr = false;
			if (s[k] != '\n')
				store_write(i->app, "\r", 1);
		}
		if (s[k] == '\r') {
			store_write(i->app, s + start, k - start);
			start = k + 1;
			i->app_cr = true;
		}
	}
	store_write(i->app, s + start, n - start);
}

/* The line after an APPEND literal: it must be empty (no
 * MULTIAPPEND); then the message is committed, durably. */
static void
imap_append_end(struct lconn *c, struct imapd *i, size_t n)
{
	char id[STORE_NAME_MAX], user[300];
	if (i->app_err[0]) {
		lconn_reply(c, "%s", i->app_err);
		imap_app_end(i);
		return;
	}
	if (n != 0) {
		lconn_reply(c, "%s BAD One message per APPEND in this lab",
		    i->tag);
		imap_app_end(i);
		return;
	}
	if (i->app_cr)
		store_write(i->app, "\r", 1);
	i->app_cr = false;
	uint64_t qm, qb;
	if (limits_over_quota(&c->lab->cfg, c->user, 1, i->app->size, &qm,
	    &qb)) {
		lconn_reply(c, "%s NO [OVERQUOTA] Quota exceeded: the message "
		    "would not fit; nothing was stored", i->tag);
		lconn_note(c, "append refused: over quota");
		imap_app_end(i);
		return;
	}
	const char *users[1] = { user };
	imapbox_store_user(c->user, i->app_box, user, sizeof(user));
	if (commit_async(c, i->app, users, 1, imap_appended)) {
		i->app = NULL;	/* the commit's now (commit.h) */
		return;
	}
	int r = store_commit(i->app, users, 1, id, sizeof(id));
	free(i->app);
	i->app = NULL;
	imap_appended(c, r, id);
}

/* The APPENDed message is on disk (r 0) or not: the reply. */
static void
imap_appended(struct lconn *c, int r, const char *id)
{
	struct imapd *i = c->ps;
	char path[4400];
	if (r != 0) {
		lconn_reply(c, "%s NO [SERVERBUG] Cannot store the message",
		    i->tag);
		imap_app_end(i);
		return;
	}
	imapbox_path(c->lab->cfg.state, c->user, i->app_box, path,
	    sizeof(path));
	if (i->app_flags || i->app_date)
		imapbox_settle(path, id, i->app_flags, i->app_date);
	lconn_note(c, "appended %s to %s", id, i->app_box);
	if (imapbox_is_inbox(i->app_box))
		loop_wake(c->lab);
	if (i->st == IS_SELECTED && strcmp(i->boxname, i->app_box) == 0)
		imap_news(c, i);
	imap_ok(c, i, "APPEND");
	imap_app_end(i);
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
	.raw = imap_raw,
	.idle_s = 1800,		/* RFC 3501 5.4: at least 30 minutes */
};
