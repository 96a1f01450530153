/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapselect.c: the IMAP commands on mailboxes and the state of the
 * selected one: SELECT / EXAMINE, STATUS, LIST / LSUB (streamed),
 * CREATE / DELETE / RENAME, COPY, the news of NOOP / CHECK / IDLE
 * (untagged EXPUNGE from other sessions, EXISTS, RECENT) and the
 * maildrop lock a POP3 session holds on INBOX.  The mailboxes on disk
 * are imapbox.c's, the view of one ibox.c's.
 *
 * RFC 3501 6.3.1-6.3.10 (SELECT ... STATUS), 6.4.7 (COPY), 7.4.1
 * (EXPUNGE), 5.1 (names); RFC 1939 8 (the POP3 lock); RFC 5530
 * (CLOSED, INUSE, TRYCREATE, ALREADYEXISTS, NONEXISTENT, OVERQUOTA,
 * LIMIT: the --quota of limits.c holds for COPY as for SMTP).
 */
#include "imap_int.h"
#include "imapmatch.h"
#include "limits.h"
#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ends a LIST / LSUB in progress (if any). */
void
imap_list_free(struct imapd *i)
{
	if (!i->lister)
		return;
	imapbox_list_end(i->lister);
	free(i->lister);
	i->lister = NULL;
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
void
imap_pop3_sync(const struct lconn *c, struct imapd *i)
{
	if (i->st == IS_SELECTED)
		i->box.readonly = i->box_ro ||
		    imap_pop3_holds(c, i->boxname);
}

/* NO for a change to a read-only mailbox, saying why. */
void
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
void
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
void
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
void
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

/* ibox_prune callback: one untagged EXPUNGE. */
static void
imap_expunged(void *arg, size_t seq)
{
	lconn_reply(arg, "* %zu EXPUNGE", seq);
}

/* Reports what other sessions expunged and what arrived since the
 * last look (NOOP, CHECK, IDLE). */
void
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
void
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
void
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
