/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapfetch.c: IMAP output that spans many messages, streamed through
 * the loop's refill hook so that neither a big message nor a big
 * mailbox needs a big buffer: FETCH (RFC 3501 6.4.5, 7.4.2), STORE
 * (6.4.6) and EXPUNGE (6.4.3, 7.4.1).
 *
 * A FETCH response for one message is a list of pieces: text in memory
 * and literal bodies read from the Maildir file (LF turned into CRLF on
 * the way, so sizes are the ",W=" sizes).
 */
#include "imap_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define IMAP_CHUNK	1500	/* file bytes per read */

/* ---- sequence sets and flags ---- */

/* Parses a number or '*' at *p.  Returns false on bad syntax. */
static bool
imap_seqnum(const char **p, uint32_t max, uint32_t *v)
{
	if (**p == '*') {
		(*p)++;
		*v = max;
		return true;
	}
	if (**p < '1' || **p > '9')
		return false;
	unsigned long n = 0;
	while (**p >= '0' && **p <= '9' && n < 0xffffffffUL)
		n = n * 10 + (unsigned long)(*(*p)++ - '0');
	*v = n > 0xffffffffUL ? 0xffffffffU : (uint32_t)n;
	return true;
}

bool
imap_set_has(const char *set, uint32_t v, uint32_t max)
{
	const char *p = set;
	for (;;) {
		uint32_t a, b;
		if (!imap_seqnum(&p, max, &a))
			return false;
		b = a;
		if (*p == ':') {
			p++;
			if (!imap_seqnum(&p, max, &b))
				return false;
		}
		if ((v >= a && v <= b) || (v >= b && v <= a))
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

bool
imap_set_ok(const char *set)
{
	const char *p = set;
	for (;;) {
		uint32_t a;
		if (!imap_seqnum(&p, 1, &a))
			return false;
		if (*p == ':') {
			p++;
			if (!imap_seqnum(&p, 1, &a))
				return false;
		}
		if (*p == '\0')
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

void
imap_flags_str(unsigned flags, char *buf, size_t cap)
{
	static const struct { unsigned f; const char *s; } names[] = {
		{ IBOX_ANSWERED, "\\Answered" }, { IBOX_FLAGGED, "\\Flagged" },
		{ IBOX_DELETED, "\\Deleted" }, { IBOX_SEEN, "\\Seen" },
		{ IBOX_DRAFT, "\\Draft" }, { IBOX_RECENT, "\\Recent" },
	};
	size_t n = 0;
	buf[n++] = '(';
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!(flags & names[i].f))
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n > 1 ? " " : "",
		    names[i].s);
		if (r > 0 && (size_t)r < cap - n)
			n += (size_t)r;
	}
	if (n + 2 <= cap) {
		buf[n++] = ')';
		buf[n] = '\0';
	}
}

/* ---- parsing FETCH items ---- */

/* Parses "[section]<o.c>" at p (after BODY / BODY.PEEK) into s.
 * Returns the position after it, or NULL. */
static const char *
imap_sect_parse(const char *p, struct imap_sect *s)
{
	const char *close = strchr(p, ']');
	if (*p != '[' || !close)
		return NULL;
	size_t n = (size_t)(close - p - 1);
	const char *in = p + 1, *q = in;
	s->nparts = 0;
	while (q < close && *q >= '0' && *q <= '9') {	/* 1.2.3 */
		char *end;
		unsigned long v = strtoul(q, &end, 10);
		if (v == 0 || v > 100000 || s->nparts >= IMAP_PART_DEPTH)
			return NULL;
		s->part[s->nparts++] = (int)v;
		q = end;
		if (q < close && *q == '.')
			q++;
		else if (q < close)
			return NULL;
	}
	if (s->nparts > 0 && q[-1] == '.' && q == close)
		return NULL;		/* "1." */
	size_t rn = (size_t)(close - q);
	if (rn == 0) {
		s->kind = SK_ALL;
	} else if (rn == 6 && strncasecmp(q, "HEADER", 6) == 0) {
		s->kind = SK_HEADER;
	} else if (rn == 4 && strncasecmp(q, "TEXT", 4) == 0) {
		s->kind = SK_TEXT;
	} else if (rn == 4 && strncasecmp(q, "MIME", 4) == 0 &&
	    s->nparts > 0) {
		s->kind = SK_MIME;
	} else if (strncasecmp(q, "HEADER.FIELDS", 13) == 0) {
		q += 13;
		s->kind = SK_FIELDS;
		if (strncasecmp(q, ".NOT", 4) == 0) {
			s->kind = SK_NOT;
			q += 4;
		}
		while (*q == ' ')
			q++;
		const char *lp = q, *rp = memchr(q, ')', (size_t)(close - q));
		if (*lp != '(' || !rp || (size_t)(rp - lp) >=
		    sizeof(s->fields) - 2)
			return NULL;
		size_t k = 0;
		s->fields[k++] = ' ';
		for (const char *f = lp + 1; f < rp; f++)
			s->fields[k++] = (char)toupper((unsigned char)*f);
		s->fields[k++] = ' ';
		s->fields[k] = '\0';
	} else {
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "BODY[%.*s]", (int)n, in);
	for (char *u = s->name; *u; u++)
		*u = (char)toupper((unsigned char)*u);
	p = close + 1;
	if (*p == '<') {
		char *end;
		s->origin = strtoull(p + 1, &end, 10);
		if (*end != '.')
			return NULL;
		s->count = strtoull(end + 1, &end, 10);
		if (*end != '>' || s->count == 0)
			return NULL;
		s->partial = true;
		size_t l = strlen(s->name);
		snprintf(s->name + l, sizeof(s->name) - l, "<%llu>",
		    (unsigned long long)s->origin);
		p = end + 1;
	}
	return p;
}

/* Adds a body section; false when there are too many. */
static struct imap_sect *
imap_sect_add(struct imapd *i)
{
	if (i->nsect >= IMAP_SECT_MAX)
		return NULL;
	struct imap_sect *s = &i->sect[i->nsect++];
	memset(s, 0, sizeof(*s));
	return s;
}

bool
imap_fetch_parse(struct imapd *i, const char *p)
{
	i->items = 0;
	i->nsect = 0;
	bool list = *p == '(';
	if (list)
		p++;
	while (*p && *p != ')') {
		size_t n = strcspn(p, " )[");
		struct imap_sect *s;
#define IS(w) (n == strlen(w) && strncasecmp(p, w, n) == 0)
		if (IS("UID"))
			i->items |= FI_UID;
		else if (IS("FLAGS"))
			i->items |= FI_FLAGS;
		else if (IS("RFC822.SIZE"))
			i->items |= FI_SIZE;
		else if (IS("INTERNALDATE"))
			i->items |= FI_DATE;
		else if (IS("ENVELOPE"))
			i->items |= FI_ENV;
		else if (IS("BODYSTRUCTURE"))
			i->items |= FI_STRUCT;
		else if (IS("BODY") && p[n] != '[')
			i->items |= FI_BODY;
		else if (IS("FAST") && !list)
			i->items |= FI_FLAGS | FI_DATE | FI_SIZE;
		else if (IS("ALL") && !list)
			i->items |= FI_FLAGS | FI_DATE | FI_SIZE | FI_ENV;
		else if (IS("FULL") && !list)
			i->items |= FI_FLAGS | FI_DATE | FI_SIZE | FI_ENV |
			    FI_BODY;
		else if (IS("RFC822") || IS("RFC822.HEADER") ||
		    IS("RFC822.TEXT")) {
			if (!(s = imap_sect_add(i)))
				return false;
			s->kind = n == 6 ? SK_ALL : p[7] == 'H' ||
			    p[7] == 'h' ? SK_HEADER : SK_TEXT;
			s->peek = s->kind == SK_HEADER;
			snprintf(s->name, sizeof(s->name), "%.*s", (int)n, p);
			for (char *u = s->name; *u; u++)
				*u = (char)toupper((unsigned char)*u);
		} else if ((IS("BODY") || IS("BODY.PEEK")) && p[n] == '[') {
			if (!(s = imap_sect_add(i)))
				return false;
			s->peek = n == 9;
			const char *e = imap_sect_parse(p + n, s);
			if (!e)
				return false;
			p = e;
			n = 0;
		} else {
			return false;
		}
#undef IS
		p += n;
		while (*p == ' ')
			p++;
	}
	if (list != (*p == ')'))
		return false;
	return i->items || i->nsect;
}

/* ---- building responses ---- */

/* Appends bytes, growing the buffer; marks oom on failure. */
void
gb_add(struct gbuf *g, const void *s, size_t n)
{
	if (g->oom)
		return;
	if (g->len + n + 1 > g->cap) {
		size_t cap = (g->len + n + 1) * 2;
		char *np = realloc(g->p, cap);
		if (!np) {
			g->oom = true;
			return;
		}
		g->p = np;
		g->cap = cap;
	}
	memcpy(g->p + g->len, s, n);
	g->len += n;
	g->p[g->len] = '\0';
}

void
gb_printf(struct gbuf *g, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r > 0)
		gb_add(g, buf, (size_t)r < sizeof(buf) ? (size_t)r :
		    sizeof(buf) - 1);
}

void
gb_nstring(struct gbuf *g, const char *s, size_t n)
{
	if (!s) {
		gb_add(g, "NIL", 3);
		return;
	}
	bool plain = true;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] > 0x7e)
			plain = false;
	if (!plain) {
		gb_printf(g, "{%zu}\r\n", n);
		gb_add(g, s, n);
		return;
	}
	gb_add(g, "\"", 1);
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '"' || s[k] == '\\')
			gb_add(g, "\\", 1);
		gb_add(g, s + k, 1);
	}
	gb_add(g, "\"", 1);
}

/*
 * Finds header field name (case-insensitive) in hdr (LF lines) and
 * unfolds its value into out.  Returns out, or NULL when absent.
 */
char *
hdr_get(const char *hdr, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *l = hdr; *l; ) {
		const char *eol = strchr(l, '\n');
		if (!eol)
			eol = l + strlen(l);
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			size_t o = 0;
			const char *v = l + nl + 1;
			for (;;) {
				for (; v < eol && o + 1 < cap; v++)
					if (*v != '\r')
						out[o++] = *v == '\t' ? ' ' :
						    *v;
				if (*eol != '\n' || (eol[1] != ' ' &&
				    eol[1] != '\t'))
					break;
				v = eol + 1;	/* a continuation line */
				eol = strchr(v, '\n');
				if (!eol)
					eol = v + strlen(v);
			}
			out[o] = '\0';
			char *s = out;
			while (*s == ' ')
				s++;
			return s;
		}
		l = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* Trims spaces at both ends (in place). */
static char *
trim(char *s, size_t *n)
{
	while (*n > 0 && *s == ' ') {
		s++;
		(*n)--;
	}
	while (*n > 0 && s[*n - 1] == ' ')
		(*n)--;
	return s;
}

/* An address list (RFC 3501 7.4.2 ENVELOPE) from a header value. */
static void
gb_addrs(struct gbuf *g, char *v)
{
	if (!v || !*v) {
		gb_add(g, "NIL", 3);
		return;
	}
	gb_add(g, "(", 1);
	int count = 0;
	char *p = v;
	while (*p && count < 50) {
		/* one address: up to a ',' outside quotes and <> */
		char *start = p;
		bool q = false, ang = false;
		for (; *p && (q || ang || *p != ','); p++) {
			if (*p == '"')
				q = !q;
			else if (*p == '<' && !q)
				ang = true;
			else if (*p == '>' && !q)
				ang = false;
		}
		size_t n = (size_t)(p - start);
		if (*p == ',')
			p++;
		char *a = trim(start, &n);
		if (n == 0)
			continue;
		char *lt = memchr(a, '<', n), *gt = lt ? memchr(lt, '>',
		    n - (size_t)(lt - a)) : NULL;
		char *name = NULL, *addr = a;
		size_t nn = 0, an = n;
		if (lt && gt) {
			nn = (size_t)(lt - a);
			name = trim(a, &nn);
			if (nn >= 2 && name[0] == '"' && name[nn - 1] == '"') {
				name++;
				nn -= 2;
			}
			addr = lt + 1;
			an = (size_t)(gt - lt - 1);
		}
		char *at = memchr(addr, '@', an);
		gb_add(g, "(", 1);
		gb_nstring(g, nn ? name : NULL, nn);
		gb_add(g, " NIL ", 5);
		gb_nstring(g, addr, at ? (size_t)(at - addr) : an);
		gb_add(g, " ", 1);
		gb_nstring(g, at ? at + 1 : NULL, at ? an - (size_t)(at -
		    addr) - 1 : 0);
		gb_add(g, ")", 1);
		count++;
	}
	gb_add(g, ")", 1);
}

void
gb_envelope(struct gbuf *g, const char *hdr)
{
	static const char *const str1[] = { "Date", "Subject" };
	static const char *const addr[] = {
		"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	};
	static const char *const str2[] = { "In-Reply-To", "Message-ID" };
	char v[2048], from[2048];
	gb_add(g, "(", 1);
	for (size_t k = 0; k < 2; k++) {
		char *s = hdr_get(hdr, str1[k], v, sizeof(v));
		gb_nstring(g, s, s ? strlen(s) : 0);
		gb_add(g, " ", 1);
	}
	char *f = hdr_get(hdr, "From", from, sizeof(from));
	for (size_t k = 0; k < 6; k++) {
		char *s = hdr_get(hdr, addr[k], v, sizeof(v));
		if (!s && (k == 1 || k == 2) && f) {	/* default: From */
			snprintf(v, sizeof(v), "%s", f);
			s = v;
		}
		gb_addrs(g, s);
		gb_add(g, " ", 1);
	}
	for (size_t k = 0; k < 2; k++) {
		char *s = hdr_get(hdr, str2[k], v, sizeof(v));
		gb_nstring(g, s, s ? strlen(s) : 0);
		if (k == 0)
			gb_add(g, " ", 1);
	}
	gb_add(g, ")", 1);
}

/* The header with CRLF line ends, filtered for HEADER.FIELDS(.NOT),
 * then the empty line. */
static void
gb_header(struct gbuf *g, const char *hdr, const struct imap_sect *s)
{
	bool keep = true;
	for (const char *l = hdr; *l; ) {
		const char *eol = strchr(l, '\n');
		size_t all = eol ? (size_t)(eol - l) + 1 : strlen(l);
		size_t n = eol ? (size_t)(eol - l) : all;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (*l != ' ' && *l != '\t' && s->kind != SK_HEADER) {
			char name[80];
			size_t k = strcspn(l, ":");
			if (k < n && k + 3 < sizeof(name)) {
				name[0] = ' ';
				for (size_t j = 0; j < k; j++)
					name[j + 1] = (char)toupper(
					    (unsigned char)l[j]);
				name[k + 1] = ' ';
				name[k + 2] = '\0';
				bool listed = strstr(s->fields, name) != NULL;
				keep = s->kind == SK_FIELDS ? listed : !listed;
			}
		}
		if (keep || s->kind == SK_HEADER) {
			gb_add(g, l, n);
			gb_add(g, "\r\n", 2);
		}
		l += all;	/* a last line may end in a bare CR */
	}
	gb_add(g, "\r\n", 2);
}

/* INTERNALDATE as a quoted date-time (UTC). */
static void
imap_date(time_t t, char *buf, size_t cap)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, cap, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* Ends the memory piece being built (if any bytes) into the list. */
static void
imap_piece_mem(struct imapd *i, struct gbuf *g)
{
	if (g->len == 0 || g->oom || i->npiece >= IMAP_PIECES) {
		free(g->p);
	} else {
		i->piece[i->npiece++] = (struct imap_piece){
			.mem = g->p, .len = g->len };
	}
	memset(g, 0, sizeof(*g));
}

/* Builds the FETCH response of message k into pieces.  Returns false
 * when it cannot (out of memory, message gone). */
static bool
imap_fetch_build(struct lconn *c, struct imapd *i, size_t k)
{
	struct ibox_msg *m = &i->box.m[k];
	unsigned items = i->items | (i->uid ? FI_UID : 0);
	bool seen = false;
	for (int s = 0; s < i->nsect; s++)
		seen = seen || !i->sect[s].peek;
	if (seen && !i->box.readonly && !(m->flags & IBOX_SEEN)) {
		if (ibox_set_flags(&i->box, k, m->flags | IBOX_SEEN) == 0)
			items |= FI_FLAGS;
	}
	uint64_t hdr_len = 0;
	char *hdr = NULL;
	bool need_hdr = items & FI_ENV;
	for (int s = 0; s < i->nsect; s++)
		need_hdr = need_hdr || i->sect[s].kind != SK_ALL;
	if (need_hdr && !(hdr = ibox_header(&i->box, k, &hdr_len)))
		return false;
	/* MIME structure: BODY, BODYSTRUCTURE, parts by number */
	struct mime *mime = NULL;
	bool need_mime = (items & (FI_STRUCT | FI_BODY)) != 0;
	for (int s = 0; s < i->nsect; s++)
		need_mime = need_mime || i->sect[s].nparts > 0;
	if (need_mime) {
		int fd = ibox_fd(&i->box, k);
		if (fd < 0 || !(mime = malloc(sizeof(*mime))) ||
		    mime_parse(fd, mime) != 0) {
			if (mime)
				mime_free(mime);
			free(mime);
			free(hdr);
			if (fd >= 0)
				close(fd);
			return false;
		}
		close(fd);
	}
	struct gbuf g = { 0 };
	const char *sep = "";
	gb_printf(&g, "* %zu FETCH (", k + 1);
	if (items & FI_UID) {
		gb_printf(&g, "UID %u", m->uid);
		sep = " ";
	}
	if (items & FI_FLAGS) {
		char f[128];
		imap_flags_str(m->flags, f, sizeof(f));
		gb_printf(&g, "%sFLAGS %s", sep, f);
		sep = " ";
	}
	if (items & FI_DATE) {
		char d[64];
		imap_date(m->mtime, d, sizeof(d));
		gb_printf(&g, "%sINTERNALDATE %s", sep, d);
		sep = " ";
	}
	if (items & FI_SIZE) {
		gb_printf(&g, "%sRFC822.SIZE %llu", sep,
		    (unsigned long long)m->size);
		sep = " ";
	}
	if (items & FI_ENV) {
		gb_printf(&g, "%sENVELOPE ", sep);
		gb_envelope(&g, hdr);
		sep = " ";
	}
	if (items & FI_BODY) {
		gb_printf(&g, "%sBODY ", sep);
		mime_structure(&g, mime, false);
		sep = " ";
	}
	if (items & FI_STRUCT) {
		gb_printf(&g, "%sBODYSTRUCTURE ", sep);
		mime_structure(&g, mime, true);
		sep = " ";
	}
	for (int s = 0; s < i->nsect; s++) {
		const struct imap_sect *sc = &i->sect[s];
		struct gbuf body = { 0 };
		uint64_t from = 0, total = m->size;
		bool file = sc->kind == SK_ALL || sc->kind == SK_TEXT;
		if (sc->nparts > 0) {
			int mk, pk = mime_resolve(mime, sc, &mk);
			const struct mime_part *pp = pk >= 0 ?
			    &mime->p[pk] : NULL;
			const struct mime_part *mp = mk >= 0 ?
			    &mime->p[mk] : NULL;
			bool msgsect = sc->kind == SK_HEADER ||
			    sc->kind == SK_TEXT || sc->kind == SK_FIELDS ||
			    sc->kind == SK_NOT;
			if (!pp || (msgsect && !mp)) {
				gb_printf(&g, "%s%s NIL", sep, sc->name);
				sep = " ";
				continue;
			}
			file = true;
			if (sc->kind == SK_ALL) {
				from = pp->body_start;
				total = pp->body_end - pp->body_start;
			} else if (sc->kind == SK_MIME) {
				from = pp->hdr_start;
				total = pp->body_start - pp->hdr_start;
			} else if (sc->kind == SK_HEADER) {
				from = mp->hdr_start;
				total = mp->body_start - mp->hdr_start;
			} else if (sc->kind == SK_TEXT) {
				from = mp->body_start;
				total = mp->body_end - mp->body_start;
			} else {
				file = false;
				gb_header(&body, mp->hdr ? mp->hdr : "", sc);
				total = body.len;
			}
		} else if (sc->kind == SK_TEXT) {
			from = hdr_len < m->size ? hdr_len : m->size;
			total = m->size - from;
		} else if (!file) {
			gb_header(&body, hdr, sc);
			total = body.len;
		}
		uint64_t a = 0, n = total;
		if (sc->partial) {
			a = sc->origin < total ? sc->origin : total;
			n = total - a < sc->count ? total - a : sc->count;
		}
		gb_printf(&g, "%s%s {%llu}\r\n", sep, sc->name,
		    (unsigned long long)n);
		sep = " ";
		if (file) {
			imap_piece_mem(i, &g);
			if (i->npiece < IMAP_PIECES)
				i->piece[i->npiece++] = (struct imap_piece){
					.file = true, .from = from + a,
					.left = n };
		} else {
			gb_add(&g, body.p ? body.p + a : "", (size_t)n);
		}
		free(body.p);
	}
	gb_add(&g, ")\r\n", 3);
	imap_piece_mem(i, &g);
	free(hdr);
	if (mime) {
		mime_free(mime);
		free(mime);
	}
	(void)c;
	return true;
}

/* Writes some of a file piece: the message read from the start, LF
 * made CRLF, the bytes in [from, from + left) passed on. */
static void
imap_piece_file(struct lconn *c, struct imapd *i, struct imap_piece *pc)
{
	char in[IMAP_CHUNK], out[IMAP_CHUNK * 2];
	if (i->fd < 0) {
		i->fd = ibox_fd(&i->box, i->next - 1);
		i->fpos = 0;
		i->fprev = 0;
	} else if (pc->from < i->fpos) {
		/* a later piece starts before what was read (BODY[1] then
		 * BODY[1.MIME]): read the file again from its start */
		if (lseek(i->fd, 0, SEEK_SET) == 0) {
			i->fpos = 0;
			i->fprev = 0;
		}
	}
	for (int spin = 0; spin < 64 && pc->left > 0; spin++) {
		ssize_t r = i->fd >= 0 ? read(i->fd, in, sizeof(in)) : -1;
		if (r <= 0) {
			/* the file shrank or vanished: keep the framing */
			size_t n = pc->left < sizeof(out) ? pc->left :
			    sizeof(out);
			memset(out, ' ', n);
			lconn_write(c, out, n);
			pc->left -= n;
			return;
		}
		size_t o = 0;
		for (ssize_t k = 0; k < r; k++) {
			if (in[k] == '\n' && i->fprev != '\r')
				out[o++] = '\r';
			out[o++] = in[k];
			i->fprev = (unsigned char)in[k];
		}
		uint64_t start = i->fpos, end = i->fpos + o;
		i->fpos = end;
		if (end <= pc->from)
			continue;	/* before the range */
		size_t skip = pc->from > start ? (size_t)(pc->from - start) :
		    0;
		size_t n = o - skip;
		if (n > pc->left)
			n = (size_t)pc->left;
		lconn_write(c, out + skip, n);
		pc->left -= n;
		pc->from += n;
		return;
	}
}

void
imap_job_end(struct imapd *i)
{
	for (int k = 0; k < i->npiece; k++)
		free(i->piece[k].mem);
	i->npiece = i->cur = 0;
	if (i->fd >= 0)
		close(i->fd);
	i->fd = -1;
}

/* Next message index from i->next in the job's set, or box.n. */
static size_t
imap_job_next(struct imapd *i)
{
	struct ibox *b = &i->box;
	uint32_t max = b->n ? (i->uid ? b->m[b->n - 1].uid :
	    (uint32_t)b->n) : 0;
	for (size_t k = i->next; k < b->n; k++) {
		uint32_t v = i->uid ? b->m[k].uid : (uint32_t)(k + 1);
		if (b->n && imap_set_has(i->set, v, max))
			return k;
	}
	return b->n;
}

/* One STORE on message k. */
static void
imap_store_one(struct lconn *c, struct imapd *i, size_t k)
{
	struct ibox_msg *m = &i->box.m[k];
	unsigned f = m->flags & ~IBOX_RECENT;
	if (i->store_op > 0)
		f |= i->store_flags;
	else if (i->store_op < 0)
		f &= ~i->store_flags;
	else
		f = i->store_flags;
	if (f != (m->flags & ~IBOX_RECENT))
		ibox_set_flags(&i->box, k, f);
	if (i->store_silent)
		return;
	char fl[128];
	imap_flags_str(m->flags, fl, sizeof(fl));
	if (i->uid)
		lconn_reply(c, "* %zu FETCH (UID %u FLAGS %s)", k + 1, m->uid,
		    fl);
	else
		lconn_reply(c, "* %zu FETCH (FLAGS %s)", k + 1, fl);
}

bool
imap_job_refill(struct lconn *c)
{
	struct imapd *i = c->ps;
	const char *what = i->job == IJ_FETCH ? "FETCH" : i->job ==
	    IJ_STORE ? "STORE" : i->job == IJ_SEARCH ? "SEARCH" : "EXPUNGE";
	while (lconn_room(c) >= LAB_REPLY_ROOM) {
		if (i->job == IJ_SEARCH) {
			if (imap_search_step(c, i)) {
				if (c->yield)
					return true;	/* a turn for others */
				continue;
			}
			imap_search_free(i->search);
			i->search = NULL;
			lconn_reply(c, "%s OK %s%s completed", i->tag,
			    i->uid ? "UID " : "", what);
			i->job = IJ_NONE;
			return false;
		}
		if (i->cur < i->npiece) {
			struct imap_piece *pc = &i->piece[i->cur];
			if (pc->file) {
				imap_piece_file(c, i, pc);
				if (pc->left == 0)
					i->cur++;
				continue;
			}
			size_t n = pc->len - pc->off;
			size_t room = lconn_room(c) - 256;
			if (n > room)
				n = room;
			lconn_write(c, pc->mem + pc->off, n);
			pc->off += n;
			if (pc->off == pc->len)
				i->cur++;
			continue;
		}
		imap_job_end(i);
		if (i->job == IJ_EXPUNGE) {
			size_t k = i->next;
			while (k < i->box.n &&
			    !(i->box.m[k].flags & IBOX_DELETED))
				k++;
			if (k < i->box.n) {
				if (ibox_expunge(&i->box, k) == 0) {
					lconn_reply(c, "* %zu EXPUNGE", k + 1);
					loop_wake(c->lab);	/* IDLE */
				} else
					k++;
				i->next = k;
				continue;
			}
		} else {
			size_t k = imap_job_next(i);
			if (k < i->box.n) {
				i->next = k + 1;
				if (i->job == IJ_STORE)
					imap_store_one(c, i, k);
				else if (!imap_fetch_build(c, i, k))
					lconn_reply(c, "* %zu FETCH (FLAGS "
					    "())", k + 1);	/* gone */
				continue;
			}
		}
		lconn_reply(c, "%s OK %s%s completed", i->tag,
		    i->uid ? "UID " : "", what);
		i->job = IJ_NONE;
		return false;
	}
	return true;
}
