/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapsearch.c: IMAP SEARCH keys (RFC 3501 6.4.4), the common ones:
 * ALL, flags (SEEN UNSEEN ANSWERED UNANSWERED DELETED UNDELETED
 * FLAGGED UNFLAGGED DRAFT UNDRAFT RECENT NEW OLD), a sequence set, UID
 * set, FROM / TO / CC / BCC / SUBJECT string, HEADER field string,
 * LARGER / SMALLER n, BEFORE / ON / SINCE date (INTERNALDATE), NOT, OR
 * and parentheses, BODY / TEXT string (raw bytes, case-insensitive,
 * no decoding of base64 or quoted-printable); "CHARSET UTF-8" first is
 * accepted.  Not here: KEYWORD and the SENT* dates.
 *
 * The program is evaluated straight from its text for each message,
 * which also checks its syntax (message NULL: syntax only).
 */
#include "imap_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct srch {
	struct imapd *i;
	size_t k;		/* message index, or SIZE_MAX: syntax only */
	char *hdr;		/* its header, read when first needed */
	bool err;
};

static bool srch_key(struct srch *s, const char **p, int depth);

/* Skips spaces. */
static void
srch_sp(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

/* Reads a word (up to a space or parenthesis) into w; false if none. */
static bool
srch_word(const char **p, char *w, size_t cap)
{
	size_t n = 0;
	while (**p && **p != ' ' && **p != '(' && **p != ')' && n + 1 < cap)
		w[n++] = *(*p)++;
	w[n] = '\0';
	srch_sp(p);
	return n > 0;
}

/* Reads an astring ("quoted" or a word); false on bad syntax. */
static bool
srch_string(const char **p, char *w, size_t cap)
{
	if (**p != '"')
		return srch_word(p, w, cap);
	size_t n = 0;
	for ((*p)++; **p && **p != '"'; (*p)++) {
		if (**p == '\\' && (*p)[1])
			(*p)++;
		if (n + 1 < cap)
			w[n++] = **p;
	}
	if (**p != '"')
		return false;
	(*p)++;
	w[n] = '\0';
	srch_sp(p);
	return true;
}

/* Parses "1-Feb-1994" into the start of that day (UTC); -1 if bad. */
static time_t
srch_date(const char *d)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr", "may",
	    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	struct tm tm = { 0 };
	char m[4] = "";
	int day, year;
	if (sscanf(d, "%d-%3[A-Za-z]-%d", &day, m, &year) != 3)
		return -1;
	tm.tm_mon = -1;
	for (int k = 0; k < 12; k++)
		if (strcasecmp(m, mon[k]) == 0)
			tm.tm_mon = k;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1900)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	return timegm(&tm);
}

/* Does the header field name hold needle (case-insensitive)?  An
 * empty needle matches any message that has the field. */
static bool
srch_header(struct srch *s, const char *name, const char *needle)
{
	if (s->k == SIZE_MAX)
		return false;
	if (!s->hdr) {
		uint64_t len;
		s->hdr = ibox_header(&s->i->box, s->k, &len);
		if (!s->hdr)
			return false;
	}
	size_t nl = strlen(name);
	for (const char *l = s->hdr; *l; ) {
		const char *eol = strchr(l, '\n');
		size_t n = eol ? (size_t)(eol - l) : strlen(l);
		if (n > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			if (!*needle)
				return true;
			/* the field with its continuation lines */
			const char *end = l + n;
			while (*end == '\n' && (end[1] == ' ' ||
			    end[1] == '\t')) {
				const char *nx = strchr(end + 1, '\n');
				end = nx ? nx : end + 1 + strlen(end + 1);
			}
			size_t ndl = strlen(needle);
			for (const char *q = l + nl + 1; q + ndl <= end; q++)
				if (strncasecmp(q, needle, ndl) == 0)
					return true;
		}
		l = eol ? eol + 1 : l + n;
	}
	return false;
}

/*
 * Does the message hold needle (case-insensitive), in its body only
 * or (text) anywhere?  Streams the file: memory stays bounded.
 */
static bool
srch_file(struct srch *s, const char *needle, bool text)
{
	enum { CHUNK = 8192 };
	size_t nl = strlen(needle);
	if (s->k == SIZE_MAX)
		return false;
	if (nl == 0)
		return true;
	if (nl > 1000)
		return false;
	int fd = ibox_fd(&s->i->box, s->k);
	if (fd < 0)
		return false;
	char buf[CHUNK + 1024];
	size_t keep = 0;
	int nls = 0;		/* line ends just seen (header end) */
	bool body = text;
	bool found = false;
	ssize_t r;
	while (!found && (r = read(fd, buf + keep, CHUNK)) > 0) {
		size_t n = keep + (size_t)r, from = 0;
		if (!body) {
			size_t k;
			for (k = keep; k < n && !body; k++) {
				if (buf[k] == '\n')
					body = ++nls == 2;
				else if (buf[k] != '\r')
					nls = 0;
			}
			if (!body) {
				keep = 0;
				continue;
			}
			from = k;
		}
		for (size_t k = from; k + nl <= n && !found; k++)
			found = strncasecmp(buf + k, needle, nl) == 0;
		/* keep the last nl - 1 bytes: a match across chunks */
		size_t tail = nl - 1 < n - from ? nl - 1 : n - from;
		memmove(buf, buf + n - tail, tail);
		keep = tail;
	}
	close(fd);
	return found;
}

/* One search key at *p.  Returns whether the message matches; sets
 * s->err on bad syntax. */
static bool
srch_key(struct srch *s, const char **p, int depth)
{
	static const struct { const char *w; unsigned f; bool set; } fl[] = {
		{ "SEEN", IBOX_SEEN, true }, { "UNSEEN", IBOX_SEEN, false },
		{ "ANSWERED", IBOX_ANSWERED, true },
		{ "UNANSWERED", IBOX_ANSWERED, false },
		{ "DELETED", IBOX_DELETED, true },
		{ "UNDELETED", IBOX_DELETED, false },
		{ "FLAGGED", IBOX_FLAGGED, true },
		{ "UNFLAGGED", IBOX_FLAGGED, false },
		{ "DRAFT", IBOX_DRAFT, true }, { "UNDRAFT", IBOX_DRAFT, false },
		{ "RECENT", IBOX_RECENT, true }, { "OLD", IBOX_RECENT, false },
	};
	static const char *const hdrs[] = { "FROM", "TO", "CC", "BCC",
	    "SUBJECT" };
	char w[256], a[512];
	const struct ibox_msg *m = s->k == SIZE_MAX ? NULL :
	    &s->i->box.m[s->k];
	if (depth > 20) {
		s->err = true;
		return false;
	}
	if (**p == '(') {
		(*p)++;
		bool all = true;
		srch_sp(p);
		while (**p && **p != ')' && !s->err)
			all = srch_key(s, p, depth + 1) && all;
		if (**p != ')')
			s->err = true;
		else
			(*p)++;
		srch_sp(p);
		return all;
	}
	if (!srch_word(p, w, sizeof(w))) {
		s->err = true;
		return false;
	}
	for (size_t k = 0; k < sizeof(fl) / sizeof(*fl); k++)
		if (strcasecmp(w, fl[k].w) == 0)
			return m && ((m->flags & fl[k].f) != 0) == fl[k].set;
	for (size_t k = 0; k < sizeof(hdrs) / sizeof(*hdrs); k++) {
		if (strcasecmp(w, hdrs[k]) == 0) {
			if (!srch_string(p, a, sizeof(a)))
				s->err = true;
			return srch_header(s, hdrs[k], a);
		}
	}
	if (strcasecmp(w, "BODY") == 0 || strcasecmp(w, "TEXT") == 0) {
		if (!srch_string(p, a, sizeof(a)))
			s->err = true;
		if (memchr(a, '\0', strlen(a) + 1) != a + strlen(a))
			s->err = true;
		return srch_file(s, a, toupper((unsigned char)w[0]) == 'T');
	}
	if (strcasecmp(w, "ALL") == 0)
		return m != NULL;
	if (strcasecmp(w, "NEW") == 0)
		return m && (m->flags & IBOX_RECENT) &&
		    !(m->flags & IBOX_SEEN);
	if (strcasecmp(w, "NOT") == 0)
		return !srch_key(s, p, depth + 1) && m;
	if (strcasecmp(w, "OR") == 0) {
		bool x = srch_key(s, p, depth + 1);
		bool y = srch_key(s, p, depth + 1);
		return x || y;
	}
	if (strcasecmp(w, "HEADER") == 0) {
		char name[128];
		if (!srch_string(p, name, sizeof(name)) ||
		    !srch_string(p, a, sizeof(a)))
			s->err = true;
		return srch_header(s, name, a);
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		char *end;
		if (!srch_word(p, a, sizeof(a)))
			s->err = true;
		unsigned long long n = strtoull(a, &end, 10);
		if (*end || !*a)
			s->err = true;
		return m && (toupper((unsigned char)w[0]) == 'L' ?
		    m->size > n : m->size < n);
	}
	if (strcasecmp(w, "BEFORE") == 0 || strcasecmp(w, "ON") == 0 ||
	    strcasecmp(w, "SINCE") == 0) {
		time_t d = srch_string(p, a, sizeof(a)) ? srch_date(a) : -1;
		if (d < 0) {
			s->err = true;
			return false;
		}
		if (!m)
			return false;
		time_t day = m->mtime - m->mtime % 86400;
		char c0 = (char)toupper((unsigned char)w[0]);
		return c0 == 'B' ? day < d : c0 == 'O' ? day == d : day >= d;
	}
	uint32_t max = s->i->box.n ? s->i->box.m[s->i->box.n - 1].uid : 0;
	if (strcasecmp(w, "UID") == 0) {
		if (!srch_word(p, a, sizeof(a)) || !imap_set_ok(a))
			s->err = true;
		return m && imap_set_has(a, m->uid, max);
	}
	if (imap_set_ok(w))
		return m && imap_set_has(w, (uint32_t)(s->k + 1),
		    (uint32_t)s->i->box.n);
	s->err = true;
	return false;
}

int
imap_search_match(struct imapd *i, size_t k, const char *prog)
{
	struct srch s = { .i = i, .k = k };
	const char *p = prog;
	srch_sp(&p);
	if (strncasecmp(p, "CHARSET ", 8) == 0) {
		char cs[64];
		p += 8;
		srch_sp(&p);
		if (!srch_string(&p, cs, sizeof(cs)) ||
		    (strcasecmp(cs, "UTF-8") && strcasecmp(cs, "US-ASCII"))) {
			free(s.hdr);
			return -1;
		}
	}
	bool all = true;
	if (!*p)
		s.err = true;
	while (*p && !s.err)
		all = srch_key(&s, &p, 0) && all;
	free(s.hdr);
	return s.err ? -1 : all;
}
