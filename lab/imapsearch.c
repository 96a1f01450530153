/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapsearch.c: IMAP SEARCH and UID SEARCH (RFC 3501 6.4.4), the common
 * keys: ALL, flags (SEEN UNSEEN ANSWERED UNANSWERED DELETED UNDELETED
 * FLAGGED UNFLAGGED DRAFT UNDRAFT RECENT NEW OLD), a sequence set, UID
 * set, FROM / TO / CC / BCC / SUBJECT string, HEADER field string,
 * LARGER / SMALLER n, BEFORE / ON / SINCE date (INTERNALDATE), NOT, OR
 * and parentheses, BODY / TEXT string.  Strings are atoms, "quoted" or
 * {n} literals; "CHARSET US-ASCII" or "CHARSET UTF-8" may come first,
 * any other charset is NO [BADCHARSET] (6.4.4: "a tagged NO response
 * (not a BAD)").  Matching is a substring match, case-insensitive for
 * the ASCII letters, on the message as IMAP shows it (CRLF line ends),
 * raw: no decoding of base64, quoted-printable or RFC 2047 words.  Not
 * here: KEYWORD, UNKEYWORD and the SENT* dates.
 *
 * A hostile classroom sends thousands of keys against a message of
 * megabytes (issue 12), so:
 * - The program is parsed once per command into a tree of at most
 *   IMAP_SEARCH_KEYS_MAX keys; more is NO [LIMIT] before any message is
 *   looked at.
 * - Each message is decided in up to three steps, each taken only when
 *   the ones before left the answer open.  The logic is three-valued (a
 *   key not looked at yet is "maybe"): AND stops at its first false, OR
 *   at its first true, NOT keeps "maybe".
 *     1. flags, sizes, dates, sequence and UID sets (memory only);
 *     2. the header keys, on the header read once (IBOX_HDR_MAX bytes
 *        at most);
 *     3. BODY and TEXT: the file is read once, in SRCH_CHUNK pieces, for
 *        all the needles of the command at once.  A piece is turned
 *        into what IMAP shows (LF -> CRLF) and folded to lower case;
 *        every needle not found yet is looked for with memmem; the last
 *        (longest needle - 1) bytes stay for the next piece, so a needle
 *        across two pieces is found.  The reading stops as soon as the
 *        answer is known.
 * - The work is counted (bytes looked at, times the needles still
 *   wanted).  Past SRCH_SLICE the job asks the event loop for a turn
 *   (lconn.yield) and is resumed where it stopped, as FETCH's output
 *   is refilled, so one SEARCH never holds the other clients up.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SRCH_CHUNK	(16 * 1024)	/* message bytes read at a time, */
#define SRCH_CHUNK_MIN	4096		/* fewer with many needles */
#define SRCH_SLICE	(256ul << 10)	/* work per turn of the loop */
#define SRCH_MSG_WORK	64		/* work for deciding a message */
#define SRCH_OPEN_WORK	16384		/* work for opening its file */
/* numbers written per refill call: " 4294967295" x 64 < LAB_REPLY_ROOM */
#define SRCH_MSGS_CALL	64

enum srch_op {
	SO_AND, SO_OR, SO_NOT, SO_ALL, SO_FLAG, SO_NEW, SO_HDR, SO_NEEDLE,
	SO_LARGER, SO_SMALLER, SO_BEFORE, SO_ON, SO_SINCE, SO_UID, SO_SEQ,
};

/* Three-valued: T_MAYBE is a key that has not been looked at yet. */
enum tri { T_NO, T_YES, T_MAYBE };

/* The keys, as data: word, what it becomes, its flag or header field. */
static const struct srch_kw {
	const char *w;
	enum srch_op op;
	unsigned flag;
	bool set;		/* SO_FLAG: set or clear; SO_NEEDLE: TEXT */
	const char *field;	/* SO_HDR: lower case ("": an argument) */
} srch_kw[] = {
	{ "ALL", SO_ALL, 0, false, NULL },
	{ "SEEN", SO_FLAG, IBOX_SEEN, true, NULL },
	{ "UNSEEN", SO_FLAG, IBOX_SEEN, false, NULL },
	{ "ANSWERED", SO_FLAG, IBOX_ANSWERED, true, NULL },
	{ "UNANSWERED", SO_FLAG, IBOX_ANSWERED, false, NULL },
	{ "DELETED", SO_FLAG, IBOX_DELETED, true, NULL },
	{ "UNDELETED", SO_FLAG, IBOX_DELETED, false, NULL },
	{ "FLAGGED", SO_FLAG, IBOX_FLAGGED, true, NULL },
	{ "UNFLAGGED", SO_FLAG, IBOX_FLAGGED, false, NULL },
	{ "DRAFT", SO_FLAG, IBOX_DRAFT, true, NULL },
	{ "UNDRAFT", SO_FLAG, IBOX_DRAFT, false, NULL },
	{ "RECENT", SO_FLAG, IBOX_RECENT, true, NULL },
	{ "OLD", SO_FLAG, IBOX_RECENT, false, NULL },
	{ "NEW", SO_NEW, 0, false, NULL },
	{ "FROM", SO_HDR, 0, false, "from" },
	{ "TO", SO_HDR, 0, false, "to" },
	{ "CC", SO_HDR, 0, false, "cc" },
	{ "BCC", SO_HDR, 0, false, "bcc" },
	{ "SUBJECT", SO_HDR, 0, false, "subject" },
	{ "HEADER", SO_HDR, 0, false, "" },
	{ "BODY", SO_NEEDLE, 0, false, NULL },
	{ "TEXT", SO_NEEDLE, 0, true, NULL },
	{ "LARGER", SO_LARGER, 0, false, NULL },
	{ "SMALLER", SO_SMALLER, 0, false, NULL },
	{ "BEFORE", SO_BEFORE, 0, false, NULL },
	{ "ON", SO_ON, 0, false, NULL },
	{ "SINCE", SO_SINCE, 0, false, NULL },
	{ "UID", SO_UID, 0, false, NULL },
	{ "NOT", SO_NOT, 0, false, NULL },
	{ "OR", SO_OR, 0, false, NULL },
};

struct srch_node {
	enum srch_op op;
	int kid;		/* AND OR NOT: the first operand, -1: none */
	int next;		/* the parent's next operand, -1: none */
	unsigned flag;
	bool set;
	uint64_t num;		/* LARGER SMALLER: octets; dates: the day */
	const char *name;	/* SO_HDR: field name, lower case */
	const char *str;	/* SO_HDR: needle, lower case; UID SEQ: set */
	size_t len, nlen;
	int needle;		/* SO_NEEDLE: index into needle[] */
	signed char memo;	/* SO_HDR: result for this message, -1 */
};

struct srch_needle {
	const char *s;		/* lower case */
	size_t len;
	bool text;		/* TEXT: header too; BODY: the body only */
	bool found;		/* in the message being read */
};

struct imap_search {
	/* the program: node 0 is the AND of the top-level keys */
	struct srch_node node[IMAP_SEARCH_KEYS_MAX + 1];
	int nnode;
	struct srch_needle needle[IMAP_SEARCH_KEYS_MAX];
	int nneedle;
	size_t maxlen;		/* longest needle */
	bool hdr_keys;		/* has header keys */
	char *arena;		/* the strings */
	size_t alen, acap;
	/* the job */
	bool started;		/* "* SEARCH" written */
	unsigned long work;	/* in this slice */
	/* the message being decided */
	bool open;
	bool hdr_read;
	char *hdr;		/* its header, lower case, no CR */
	size_t hlen;
	int fd;			/* being read, -1: not (yet) */
	bool scanned;		/* read to its end: unfound is false */
	uint64_t pos;		/* wire octets turned into win so far */
	uint64_t body;		/* wire offset of the body, or UINT64_MAX */
	int prev;		/* the last byte read */
	bool nonempty;		/* the line being read has text */
	char *win;		/* kept tail + the piece (wire, lower case) */
	size_t wlen;
};

static unsigned char
srch_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ---- the program ---- */

struct srch_parse {
	struct imap_search *s;
	const char *p, *e;
	int err;		/* ISE_* */
};

static void
ps_sp(struct srch_parse *ps)
{
	while (ps->p < ps->e && *ps->p == ' ')
		ps->p++;
}

/* Copies n bytes into the arena (NUL added), lower case if fold.
 * Returns the copy, or NULL (ISE_NOMEM: cannot happen, the arena is
 * sized for the whole program). */
static const char *
ps_keep(struct srch_parse *ps, const char *src, size_t n, bool fold)
{
	struct imap_search *s = ps->s;
	if (n + 1 > s->acap - s->alen) {
		ps->err = ISE_NOMEM;
		return NULL;
	}
	char *d = s->arena + s->alen;
	for (size_t k = 0; k < n; k++)
		d[k] = fold ? (char)srch_lower((unsigned char)src[k]) : src[k];
	d[n] = '\0';
	s->alen += n + 1;
	return d;
}

/* An atom-like word (up to a space, parenthesis or the end) into the
 * arena; NULL (ISE_SYNTAX) if there is none. */
static const char *
ps_word(struct srch_parse *ps, size_t *len, bool fold)
{
	const char *w = ps->p;
	while (ps->p < ps->e && *ps->p != ' ' && *ps->p != '(' &&
	    *ps->p != ')' && (unsigned char)*ps->p > 0x20 &&
	    (unsigned char)*ps->p != 0x7f)
		ps->p++;
	*len = (size_t)(ps->p - w);
	if (*len == 0) {
		ps->err = ISE_SYNTAX;
		return NULL;
	}
	const char *r = ps_keep(ps, w, *len, fold);
	ps_sp(ps);
	return r;
}

/* An astring: "quoted", a {n} literal (as assembled in the command
 * buffer: {n}CRLF and n octets) or a word.  NULL on bad syntax or a NUL
 * octet in it. */
static const char *
ps_string(struct srch_parse *ps, size_t *len, bool fold)
{
	const char *r;
	if (ps->p < ps->e && *ps->p == '"') {
		const char *q = ++ps->p;
		size_t n = 0;
		/* first pass: the end and the length */
		for (; q < ps->e && *q != '"'; q++, n++) {
			if (*q == '\\' && q + 1 < ps->e)
				q++;
			if (*q == '\0' || *q == '\r' || *q == '\n')
				break;
		}
		if (q >= ps->e || *q != '"') {
			ps->err = ISE_SYNTAX;
			return NULL;
		}
		struct imap_search *s = ps->s;
		if (n + 1 > s->acap - s->alen) {
			ps->err = ISE_NOMEM;
			return NULL;
		}
		char *d = s->arena + s->alen;
		size_t k = 0;
		for (const char *c = ps->p; c < q; c++) {
			if (*c == '\\')
				c++;
			d[k++] = fold ? (char)srch_lower((unsigned char)*c) :
			    *c;
		}
		d[k] = '\0';
		s->alen += k + 1;
		*len = k;
		ps->p = q + 1;
		ps_sp(ps);
		return d;
	}
	if (ps->p < ps->e && *ps->p == '{') {
		const char *q = ps->p + 1;
		size_t n = 0;
		while (q < ps->e && *q >= '0' && *q <= '9' && n < IMAP_CMD_MAX)
			n = n * 10 + (size_t)(*q++ - '0');
		if (q < ps->e && *q == '+')
			q++;
		if (q == ps->p + 1 || ps->e - q < 3 || q[0] != '}' ||
		    q[1] != '\r' || q[2] != '\n' ||
		    (size_t)(ps->e - (q + 3)) < n ||
		    memchr(q + 3, '\0', n)) {
			ps->err = ISE_SYNTAX;
			return NULL;
		}
		ps->p = q + 3 + n;
		*len = n;
		r = ps_keep(ps, q + 3, n, fold);
		ps_sp(ps);
		return r;
	}
	return ps_word(ps, len, fold);
}

/* Parses "1-Feb-1994" into the start of that day (UTC); -1 if bad. */
static long long
srch_date(const char *d)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr", "may",
	    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	struct tm tm = { 0 };
	char m[4] = "";
	int day, year;
	if (sscanf(d, "%2d-%3[A-Za-z]-%4d", &day, m, &year) != 3)
		return -1;
	tm.tm_mon = -1;
	for (int k = 0; k < 12; k++)
		if (strcasecmp(m, mon[k]) == 0)
			tm.tm_mon = k;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1900)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	return (long long)timegm(&tm);
}

/* The needle for BODY (text false) or TEXT: one entry per distinct
 * needle.  Returns its index. */
static int
ps_needle(struct imap_search *s, const char *w, size_t len, bool text)
{
	for (int k = 0; k < s->nneedle; k++)
		if (s->needle[k].text == text && s->needle[k].len == len &&
		    memcmp(s->needle[k].s, w, len) == 0)
			return k;
	s->needle[s->nneedle] = (struct srch_needle){ w, len, text, false };
	if (len > s->maxlen)
		s->maxlen = len;
	return s->nneedle++;
}

static int ps_key(struct srch_parse *ps);

/* Keys up to ")" (paren) or the end, as the operands of node k. */
static void
ps_list(struct srch_parse *ps, int k, bool paren)
{
	int *link = &ps->s->node[k].kid;
	while (!ps->err && ps->p < ps->e && *ps->p != ')') {
		int c = ps_key(ps);
		if (c < 0)
			return;
		*link = c;
		link = &ps->s->node[c].next;
	}
	if (ps->err)
		return;
	if (ps->s->node[k].kid < 0 || (paren ? ps->p >= ps->e :
	    ps->p < ps->e)) {
		ps->err = ISE_SYNTAX;
		return;
	}
	if (paren) {
		ps->p++;
		ps_sp(ps);
	}
}

/* One search key.  Returns its node, or -1 with ps->err set.  The
 * recursion is as deep as the keys are many (IMAP_SEARCH_KEYS_MAX). */
static int
ps_key(struct srch_parse *ps)
{
	struct imap_search *s = ps->s;
	if (s->nnode > IMAP_SEARCH_KEYS_MAX) {
		ps->err = ISE_LIMIT;
		return -1;
	}
	int k = s->nnode++;
	struct srch_node *n = &s->node[k];
	*n = (struct srch_node){ .kid = -1, .next = -1, .needle = -1,
	    .memo = -1 };
	if (ps->p < ps->e && *ps->p == '(') {
		ps->p++;
		ps_sp(ps);
		n->op = SO_AND;
		ps_list(ps, k, true);
		return ps->err ? -1 : k;
	}
	size_t wl;
	const char *w = ps_word(ps, &wl, false);
	if (!w)
		return -1;
	const struct srch_kw *kw = NULL;
	for (size_t x = 0; x < sizeof(srch_kw) / sizeof(*srch_kw); x++)
		if (strcasecmp(w, srch_kw[x].w) == 0)
			kw = &srch_kw[x];
	if (!kw) {
		if (!imap_set_ok(w)) {
			ps->err = ISE_SYNTAX;
			return -1;
		}
		n->op = SO_SEQ;
		n->str = w;
		n->len = wl;
		return k;
	}
	n->op = kw->op;
	n->flag = kw->flag;
	n->set = kw->set;
	const char *a = NULL;
	size_t al = 0;
	switch (kw->op) {
	case SO_NOT:
	case SO_OR: {
		int x = ps_key(ps);
		if (x < 0)
			return -1;
		n = &s->node[k];
		n->kid = x;
		if (kw->op == SO_OR) {
			int y = ps_key(ps);
			if (y < 0)
				return -1;
			s->node[x].next = y;
		}
		return k;
	}
	case SO_HDR:
		if (kw->field[0]) {
			n->name = kw->field;
			n->nlen = strlen(kw->field);
		} else if (!(n->name = ps_string(ps, &n->nlen, true)) ||
		    n->nlen == 0) {
			ps->err = ISE_SYNTAX;
			return -1;
		}
		if (!(n->str = ps_string(ps, &n->len, true)))
			return -1;
		s->hdr_keys = true;
		return k;
	case SO_NEEDLE:
		if (!(a = ps_string(ps, &al, true)))
			return -1;
		n->needle = ps_needle(s, a, al, kw->set);
		return k;
	case SO_LARGER:
	case SO_SMALLER: {
		char *end;
		if (!(a = ps_word(ps, &al, false)))
			return -1;
		n->num = strtoull(a, &end, 10);
		if (*end || a[0] < '0' || a[0] > '9' || al > 19)
			ps->err = ISE_SYNTAX;
		return ps->err ? -1 : k;
	}
	case SO_BEFORE:
	case SO_ON:
	case SO_SINCE: {
		long long d = (a = ps_string(ps, &al, false)) ?
		    srch_date(a) : -1;
		if (d < 0) {
			ps->err = ISE_SYNTAX;
			return -1;
		}
		n->num = (uint64_t)d;
		return k;
	}
	case SO_UID:
		if (!(a = ps_word(ps, &al, false)) || !imap_set_ok(a)) {
			ps->err = ISE_SYNTAX;
			return -1;
		}
		n->str = a;
		n->len = al;
		return k;
	default:
		return k;
	}
}

void
imap_search_free(struct imap_search *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->hdr);
	free(s->win);
	free(s->arena);
	free(s);
}

struct imap_search *
imap_search_new(const char *p, const char *e, int *err)
{
	struct imap_search *s = calloc(1, sizeof(*s));
	size_t n = (size_t)(e - p);
	*err = ISE_NOMEM;
	if (!s)
		return NULL;
	s->fd = -1;
	/* each string's copy (plus NUL) is no longer than its text */
	s->acap = n + 64;
	if (!(s->arena = malloc(s->acap))) {
		free(s);
		return NULL;
	}
	struct srch_parse ps = { .s = s, .p = p, .e = e, .err = ISE_OK };
	ps_sp(&ps);
	if (e - ps.p > 8 && strncasecmp(ps.p, "CHARSET ", 8) == 0) {
		size_t cl;
		ps.p += 8;
		ps_sp(&ps);
		const char *cs = ps_string(&ps, &cl, false);
		if (cs && strcasecmp(cs, "UTF-8") &&
		    strcasecmp(cs, "US-ASCII"))
			ps.err = ISE_CHARSET;
	}
	s->node[0] = (struct srch_node){ .op = SO_AND, .kid = -1,
	    .next = -1, .needle = -1, .memo = -1 };
	s->nnode = 1;
	if (!ps.err)
		ps_list(&ps, 0, false);
	if (!ps.err && s->maxlen > 0 &&
	    !(s->win = malloc(s->maxlen - 1 + 2 * SRCH_CHUNK)))
		ps.err = ISE_NOMEM;
	if (ps.err) {
		*err = ps.err;
		imap_search_free(s);
		return NULL;
	}
	*err = ISE_OK;
	return s;
}

/* ---- one message ---- */

/* Does header field name (lower case) in the header h (lower case, LF
 * lines) hold the needle?  An empty needle: does the field exist? */
static bool
srch_hdr_has(const char *h, size_t hl, const struct srch_node *n)
{
	const char *end = h + hl;
	for (const char *l = h; l < end; ) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		if (!eol)
			eol = end;
		if ((size_t)(eol - l) > n->nlen && l[n->nlen] == ':' &&
		    memcmp(l, n->name, n->nlen) == 0) {
			if (n->len == 0)
				return true;
			/* the field with its continuation lines */
			const char *fe = eol;
			while (fe + 1 < end && (fe[1] == ' ' ||
			    fe[1] == '\t')) {
				const char *nx = fe + 1;
				fe = memchr(nx, '\n', (size_t)(end - nx));
				if (!fe)
					fe = end;
			}
			const char *v = l + n->nlen + 1;
			if (memmem(v, (size_t)(fe - v), n->str, n->len))
				return true;
		}
		l = eol + 1;
	}
	return false;
}

/* The value of node x for message k, as far as it is known. */
static enum tri
srch_eval(struct imap_search *s, const struct imapd *i, size_t k, int x)
{
	struct srch_node *n = &s->node[x];
	const struct ibox_msg *m = &i->box.m[k];
	switch (n->op) {
	case SO_AND:
	case SO_OR: {
		bool or = n->op == SO_OR;
		enum tri r = or ? T_NO : T_YES;
		for (int c = n->kid; c >= 0; c = s->node[c].next) {
			enum tri v = srch_eval(s, i, k, c);
			if (v == (or ? T_YES : T_NO))
				return v;	/* decided */
			if (v == T_MAYBE)
				r = T_MAYBE;
		}
		return r;
	}
	case SO_NOT: {
		enum tri v = srch_eval(s, i, k, n->kid);
		return v == T_MAYBE ? v : v == T_YES ? T_NO : T_YES;
	}
	case SO_ALL:
		return T_YES;
	case SO_FLAG:
		return ((m->flags & n->flag) != 0) == n->set ? T_YES : T_NO;
	case SO_NEW:
		return (m->flags & IBOX_RECENT) && !(m->flags & IBOX_SEEN) ?
		    T_YES : T_NO;
	case SO_HDR:
		/* not read yet, or left for the next slice (a hundred
		 * header keys on a big header are milliseconds) */
		if (!s->hdr_read || (n->memo < 0 && s->work >= SRCH_SLICE))
			return T_MAYBE;
		if (n->memo < 0) {
			n->memo = s->hdr && srch_hdr_has(s->hdr, s->hlen, n);
			s->work += s->hlen;
		}
		return n->memo ? T_YES : T_NO;
	case SO_NEEDLE: {
		const struct srch_needle *nd = &s->needle[n->needle];
		if (nd->len == 0 || nd->found)
			return T_YES;
		return s->scanned ? T_NO : T_MAYBE;
	}
	case SO_LARGER:
		return m->size > n->num ? T_YES : T_NO;
	case SO_SMALLER:
		return m->size < n->num ? T_YES : T_NO;
	case SO_BEFORE:
	case SO_ON:
	case SO_SINCE: {
		long long day = (long long)(m->mtime - m->mtime % 86400);
		long long d = (long long)n->num;
		bool r = n->op == SO_BEFORE ? day < d : n->op == SO_ON ?
		    day == d : day >= d;
		return r ? T_YES : T_NO;
	}
	case SO_UID: {
		uint32_t max = i->box.m[i->box.n - 1].uid;
		s->work += n->len;
		return imap_set_has(n->str, m->uid, max) ? T_YES : T_NO;
	}
	case SO_SEQ:
		s->work += n->len;
		return imap_set_has(n->str, (uint32_t)(k + 1),
		    (uint32_t)i->box.n) ? T_YES : T_NO;
	}
	abort();
}

/* Forgets the message decided last. */
static void
srch_msg_end(struct imap_search *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->hdr);
	s->hdr = NULL;
	s->hlen = 0;
	s->open = s->hdr_read = s->scanned = false;
}

/* Starts on message k: nothing known yet. */
static void
srch_msg_begin(struct imap_search *s)
{
	for (int x = 0; x < s->nnode; x++)
		s->node[x].memo = -1;
	for (int x = 0; x < s->nneedle; x++)
		s->needle[x].found = false;
	s->open = true;
	s->pos = s->wlen = 0;
	s->body = UINT64_MAX;
	s->prev = -1;
	s->nonempty = false;
	s->work += SRCH_MSG_WORK;
}

/* Reads the header of message k (up to the empty line, at most
 * IBOX_HDR_MAX bytes kept) into s->hdr, lower case, without CR.  A
 * message that cannot be read has no header (NULL). */
static void
srch_header(struct imap_search *s, const struct imapd *i, size_t k)
{
	s->hdr_read = true;
	s->work += SRCH_OPEN_WORK;
	int fd = ibox_fd(&i->box, k);
	if (fd < 0)
		return;
	char *h = malloc(IBOX_HDR_MAX);
	char buf[8192];
	size_t n = 0;
	bool text = false, done = false;
	while (h && !done && n < IBOX_HDR_MAX) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		s->work += (unsigned long)r;
		for (ssize_t x = 0; x < r && !done && n < IBOX_HDR_MAX; x++) {
			unsigned char c = (unsigned char)buf[x];
			if (c == '\r')
				continue;
			if (c == '\n' && !text)
				done = true;	/* the empty line */
			else
				h[n++] = (char)srch_lower(c);
			text = c != '\n';
		}
	}
	close(fd);
	/* keep only what the header needs while it is being matched */
	char *fit = h ? realloc(h, n + 1) : NULL;
	s->hdr = fit ? fit : h;
	s->hlen = n;
}

/* Reads the next piece of the open message and looks for every needle
 * not found yet.  Returns false at the end of the message. */
static bool
srch_piece(struct imap_search *s)
{
	char raw[SRCH_CHUNK];
	/* about a slice's work: each byte costs 1 + the needles wanted */
	size_t want = SRCH_SLICE / (1 + (size_t)s->nneedle);
	want = want < SRCH_CHUNK_MIN ? SRCH_CHUNK_MIN : want > SRCH_CHUNK ?
	    SRCH_CHUNK : want;
	ssize_t r = read(s->fd, raw, want);
	if (r <= 0)
		return false;
	/* keep the tail of the last piece: a needle across the two */
	size_t keep = s->maxlen - 1 < s->wlen ? s->maxlen - 1 : s->wlen;
	memmove(s->win, s->win + s->wlen - keep, keep);
	uint64_t base = s->pos - keep;		/* wire offset of win[0] */
	size_t o = keep;
	for (ssize_t x = 0; x < r; x++) {
		unsigned char c = (unsigned char)raw[x];
		if (c == '\n' && s->prev != '\r')
			s->win[o++] = '\r';	/* IMAP shows CRLF */
		s->win[o++] = (char)srch_lower(c);
		s->prev = c;
		if (s->body != UINT64_MAX)
			continue;
		if (c == '\n' && !s->nonempty)
			s->body = base + o;	/* after the empty line */
		else if (c != '\r')
			s->nonempty = c != '\n';
	}
	s->wlen = o;
	s->pos = base + o;
	unsigned long wanted = 1;
	for (int x = 0; x < s->nneedle; x++) {
		struct srch_needle *nd = &s->needle[x];
		if (nd->found || nd->len == 0)
			continue;
		size_t from = 0;
		if (!nd->text) {
			if (s->body == UINT64_MAX)
				continue;	/* still in the header */
			if (s->body > base)
				from = (size_t)(s->body - base);
		}
		wanted++;
		if (from < o &&
		    memmem(s->win + from, o - from, nd->s, nd->len))
			nd->found = true;
	}
	s->work += (unsigned long)(o - keep) * wanted;
	return true;
}

/*
 * Decides message k as far as this slice allows: T_YES or T_NO, or
 * T_MAYBE when the slice's work is spent (call again in the next one).
 */
static enum tri
srch_message(struct imap_search *s, const struct imapd *i, size_t k)
{
	if (!s->open)
		srch_msg_begin(s);
	for (;;) {
		enum tri v = srch_eval(s, i, k, 0);
		if (v != T_MAYBE) {
			srch_msg_end(s);
			return v;
		}
		if (s->work >= SRCH_SLICE)
			return T_MAYBE;
		if (!s->hdr_read && s->hdr_keys) {
			srch_header(s, i, k);
		} else if (s->scanned) {
			abort();	/* everything is known by now */
		} else if (s->fd < 0) {
			/* only here when a needle is wanted: s->win exists */
			s->fd = ibox_fd(&i->box, k);
			s->work += SRCH_OPEN_WORK;
			if (s->fd < 0)
				s->scanned = true;	/* gone: no match */
		} else if (!srch_piece(s)) {
			s->scanned = true;
		}
	}
}

bool
imap_search_step(struct lconn *c, struct imapd *i)
{
	struct imap_search *s = i->search;
	if (!s->started) {
		lconn_write(c, "* SEARCH", 8);
		s->started = true;
	}
	for (int n = 0; n < SRCH_MSGS_CALL && i->next < i->box.n; ) {
		if (s->work >= SRCH_SLICE) {
			/* let the other clients have the loop */
			s->work = 0;
			c->yield = true;
			return true;
		}
		size_t m = i->next;
		enum tri v = srch_message(s, i, m);
		if (v == T_MAYBE)
			continue;
		i->next++;
		n++;
		if (v == T_YES) {
			char num[16];
			int w = snprintf(num, sizeof(num), " %u", i->uid ?
			    i->box.m[m].uid : (unsigned)(m + 1));
			lconn_write(c, num, (size_t)w);
		}
	}
	if (i->next < i->box.n)
		return true;
	lconn_write(c, "\r\n", 2);
	return false;
}

void
imap_search_start(struct lconn *c, struct imapd *i, const char *p,
    const char *e, bool uid)
{
	int err;
	imap_search_free(i->search);
	i->search = imap_search_new(p, e, &err);
	switch (err) {
	case ISE_OK:
		break;
	case ISE_LIMIT:
		lconn_reply(c, "%s NO [LIMIT] Too many SEARCH keys (at most "
		    "%d)", i->tag, IMAP_SEARCH_KEYS_MAX);
		return;
	case ISE_CHARSET:
		lconn_reply(c, "%s NO [BADCHARSET (US-ASCII UTF-8)] SEARCH "
		    "charset not supported", i->tag);
		return;
	case ISE_NOMEM:
		lconn_reply(c, "%s NO out of memory", i->tag);
		return;
	default:
		lconn_reply(c, "%s BAD Syntax or unsupported SEARCH key",
		    i->tag);
		return;
	}
	i->job = IJ_SEARCH;
	i->uid = uid;
	i->next = 0;
	c->refill = imap_job_refill;
}
