/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapappend.c: IMAP APPEND (RFC 3501 6.3.11, RFC 7888 LITERAL+): the
 * command is recognised when its message literal is announced, the
 * date-time is parsed, the literal streams into a temporary file of
 * the store as it arrives (raw input, lconn_raw; CRLF stored as LF),
 * a refused APPEND is answered at once or after a LITERAL+ literal is
 * skipped, and the message is committed durably (commit.h) before the
 * tagged OK.  RFC 5530 (TRYCREATE, TOOBIG, OVERQUOTA: the --quota of
 * limits.c holds for APPEND as for SMTP).
 */
#include "imap_int.h"
#include "commit.h"
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void imap_appended(struct lconn *c, int r, const char *id);

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
void
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
bool
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
void
imap_append_raw(struct lconn *c, const char *s, size_t n)
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
void
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
