/*
 * imap_fetch.c: reads out the data of an IMAP FETCH response, field by
 * field (RFC 3501 7.4.2): FLAGS, INTERNALDATE, RFC822.SIZE, UID.
 */
#include "annotate.h"
#include "i18n.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *flag;
	const char *text;
} flags[] = {
	{ "\\Seen", N_("read") },
	{ "\\Answered", N_("answered") },
	{ "\\Flagged", N_("flagged as important") },
	{ "\\Deleted", N_("marked for removal by the next EXPUNGE") },
	{ "\\Draft", N_("a draft, not sent yet") },
	{ "\\Recent", N_("new: this session is the first to see it") },
};

void
imap_explain_flags(struct ann *a, const char *s, size_t n)
{
	char out[512];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	while (n > 0) {
		while (n > 0 && (*s == ' ' || *s == '('))
			s++, n--;
		size_t wl = 0;
		while (wl < n && s[wl] != ' ' && s[wl] != ')')
			wl++;
		if (wl == 0)
			break;
		const char *t = NULL;
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strlen(flags[i].flag) == wl &&
			    strncasecmp(flags[i].flag, s, wl) == 0)
				t = _(flags[i].text);
		if (sb.len)
			sbuf_puts(&sb, ", ");
		if (t)
			sbuf_printf(&sb, "%.*s = %s", (int)wl, s, t);
		else if (s[0] == '\\')
			sbuf_printf(&sb, _("%.*s = a system flag not in "
			    "mailsh's table"), (int)wl, s);
		else
			sbuf_printf(&sb, _("%.*s = a keyword set by a "
			    "client"), (int)wl, s);
		s += wl;
		n -= wl;
		if (n > 0 && *s == ')')
			break;
	}
	if (sb.len == 0)
		sbuf_puts(&sb, _("no flags: unread, not answered"));
	ann_say(a, PP_EV_EXPLAIN, _("  FLAGS: %s"), out);
}

/* Finds "NAME " in the FETCH data and returns what follows it. */
static const char *
item(const char *s, size_t n, const char *name, size_t *rest)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl < n; i++) {
		if ((i == 0 || s[i - 1] == '(' || s[i - 1] == ' ') &&
		    strncasecmp(s + i, name, nl) == 0 && s[i + nl] == ' ') {
			*rest = n - i - nl - 1;
			return s + i + nl + 1;
		}
	}
	return NULL;
}

void
imap_explain_fetch(struct ann *a, unsigned long num, const char *s,
    size_t n)
{
	size_t rest;
	const char *v;
	ann_say(a, PP_EV_EXPLAIN, _("FETCH: data of message %lu"), num);
	if ((v = item(s, n, "UID", &rest)))
		ann_say(a, PP_EV_EXPLAIN, _("  UID %lu: its number that stays "
		    "the same while UIDVALIDITY does"), strtoul(v, NULL, 10));
	if ((v = item(s, n, "FLAGS", &rest))) {
		const char *end = memchr(v, ')', rest);
		imap_explain_flags(a, v, end ? (size_t)(end - v) : rest);
	}
	if ((v = item(s, n, "INTERNALDATE", &rest))) {
		const char *q = v[0] == '"' ? memchr(v + 1, '"', rest - 1)
		    : NULL;
		if (q)
			ann_say(a, PP_EV_EXPLAIN, _("  INTERNALDATE %.*s: when "
			    "the server received the message"),
			    (int)(q - v + 1), v);
	}
	if ((v = item(s, n, "RFC822.SIZE", &rest)))
		ann_say(a, PP_EV_EXPLAIN, _("  RFC822.SIZE %lu: the message "
		    "has %lu octets"), strtoul(v, NULL, 10),
		    strtoul(v, NULL, 10));
}
