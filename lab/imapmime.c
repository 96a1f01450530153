/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapmime.c: a bounded MIME parser for IMAP BODYSTRUCTURE, BODY and
 * body parts by number (BODY[1.2], BODY[1.MIME], BODY[2.HEADER]).
 *
 * RFC 2045 (Content-Type, Content-Transfer-Encoding, defaults), RFC
 * 2046 5.1 (multipart: boundary delimiter lines, preamble, epilogue,
 * the CRLF before a delimiter belongs to it; multipart/digest), RFC
 * 2183 (Content-Disposition), RFC 3501 6.4.5 (part numbers) and 7.4.2
 * (BODYSTRUCTURE).
 *
 * One pass over the message file, line by line; offsets and sizes are
 * counted as on the wire (LF as CRLF, like the ",W=" size).  Bounds:
 * MIME_PARTS_MAX parts, MIME_DEPTH_MAX levels (deeper multiparts are
 * plain parts), MIME_HDR_MAX header bytes per part, lines cut at
 * MIME_LINE_KEEP bytes for parsing (the octet counts stay exact).
 */
#include "imap_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MIME_LINE_KEEP	1000
#define MIME_READ	8192

struct mparse {
	struct mime *m;
	int stack[2 * MIME_DEPTH_MAX + 4];
	int sp;
};

/* A new part under parent, its header starting at off; pushed.
 * Returns its index or -1 (no room). */
static int
mp_new(struct mparse *mp, int parent, uint64_t off)
{
	struct mime *m = mp->m;
	if (m->n >= MIME_PARTS_MAX ||
	    mp->sp >= (int)(sizeof(mp->stack) / sizeof(*mp->stack)))
		return -1;
	int k = m->n++;
	struct mime_part *p = &m->p[k];
	memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->child = p->next = p->last = -1;
	p->depth = parent < 0 ? 0 : m->p[parent].depth + 1;
	p->in_hdr = true;
	p->hdr_start = off;
	if (parent >= 0) {
		struct mime_part *q = &m->p[parent];
		if (q->last >= 0)
			m->p[q->last].next = k;
		else
			q->child = k;
		q->last = k;
	}
	mp->stack[mp->sp++] = k;
	return k;
}

/* Splits "type/subtype; a=b" into upper-case type and subtype. */
static void
mime_ctype(const char *v, char *type, size_t tc, char *sub, size_t sc)
{
	size_t n = 0;
	while (*v == ' ')
		v++;
	while (*v && *v != '/' && *v != ';' && *v != ' ' && n + 1 < tc)
		type[n++] = (char)toupper((unsigned char)*v++);
	type[n] = '\0';
	n = 0;
	if (*v == '/')
		for (v++; *v && *v != ';' && *v != ' ' && n + 1 < sc; )
			sub[n++] = (char)toupper((unsigned char)*v++);
	sub[n] = '\0';
}

/*
 * Walks the "; name=value" parameters of a header value: calls fn for
 * each (value unquoted).  Bounded by the value's length.
 */
static void
mime_params(const char *v, void (*fn)(void *, const char *, const char *),
    void *arg)
{
	const char *p = strchr(v, ';');
	int count = 0;
	while (p && *p == ';' && count++ < 32) {
		char name[64], val[512];
		size_t n = 0, k = 0;
		p++;
		while (*p == ' ')
			p++;
		while (*p && *p != '=' && *p != ';' && *p != ' ' &&
		    n + 1 < sizeof(name))
			name[n++] = (char)toupper((unsigned char)*p++);
		name[n] = '\0';
		while (*p == ' ')
			p++;
		if (*p == '=') {
			p++;
			while (*p == ' ')
				p++;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (k + 1 < sizeof(val))
						val[k++] = *p;
				}
				if (*p == '"')
					p++;
			} else {
				while (*p && *p != ';' && *p != ' ' &&
				    k + 1 < sizeof(val))
					val[k++] = *p++;
			}
		}
		val[k] = '\0';
		if (n > 0)
			fn(arg, name, val);
		p = strchr(p, ';');
	}
}

/* mime_params callback: keeps BOUNDARY. */
static void
mp_boundary(void *arg, const char *name, const char *val)
{
	struct mime_part *p = arg;
	if (strcmp(name, "BOUNDARY") == 0 && *val &&
	    strlen(val) < sizeof(p->boundary))
		snprintf(p->boundary, sizeof(p->boundary), "%s", val);
}

/* The header of part k ended (its body starts at off). */
static void
mp_header_done(struct mparse *mp, int k, uint64_t off)
{
	struct mime *m = mp->m;
	struct mime_part *p = &m->p[k];
	char v[1024], type[32], sub[64];
	p->in_hdr = false;
	p->body_start = off;
	const char *ct = p->hdr ? hdr_get(p->hdr, "Content-Type", v,
	    sizeof(v)) : NULL;
	if (ct) {
		mime_ctype(ct, type, sizeof(type), sub, sizeof(sub));
	} else {
		bool dig = p->parent >= 0 && m->p[p->parent].digest &&
		    !m->p[p->parent].message;
		snprintf(type, sizeof(type), "%s", dig ? "MESSAGE" : "TEXT");
		snprintf(sub, sizeof(sub), "%s", dig ? "RFC822" : "PLAIN");
	}
	if (p->depth >= MIME_DEPTH_MAX)
		return;
	if (strcmp(type, "MULTIPART") == 0 && ct) {
		mime_params(ct, mp_boundary, p);
		p->multipart = p->boundary[0] != '\0';
		p->digest = strcmp(sub, "DIGEST") == 0;
	} else if (strcmp(type, "MESSAGE") == 0 &&
	    strcmp(sub, "RFC822") == 0) {
		p->message = true;
		mp_new(mp, k, off);
	}
}

/* Ends part k at off (a delimiter line or the end of the message). */
static void
mp_close(struct mime *m, int k, uint64_t off, bool delim)
{
	struct mime_part *p = &m->p[k];
	if (p->in_hdr) {
		p->in_hdr = false;
		p->body_start = off > p->hdr_start ? off : p->hdr_start;
	}
	p->body_end = off > p->body_start ? off : p->body_start;
	if (delim && p->last_empty && p->lines > 0)
		p->lines--;	/* its CRLF went to the delimiter */
}

/* Is line (n bytes) a delimiter of boundary b?  1: "--b", 2: "--b--",
 * 0: neither.  Trailing white space is allowed (RFC 2046 5.1.1). */
static int
mp_delim(const char *line, size_t n, const char *b)
{
	size_t bl = strlen(b);
	if (n < bl + 2 || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, b, bl) != 0)
		return 0;
	size_t k = bl + 2;
	int kind = 1;
	if (k + 2 <= n && line[k] == '-' && line[k + 1] == '-') {
		kind = 2;
		k += 2;
	}
	for (; k < n; k++)
		if (line[k] != ' ' && line[k] != '\t')
			return 0;
	return kind;
}

/* One line: kept bytes (up to MIME_LINE_KEEP), its start offset and
 * its length on the wire. */
static void
mp_line(struct mparse *mp, const char *line, size_t n, uint64_t off,
    uint64_t wl)
{
	struct mime *m = mp->m;
	if (n >= 2 && line[0] == '-' && line[1] == '-') {
		for (int j = mp->sp - 1; j >= 0; j--) {
			struct mime_part *q = &m->p[mp->stack[j]];
			int d;
			if (!q->multipart || q->closed || q->in_hdr ||
			    !(d = mp_delim(line, n, q->boundary)))
				continue;
			uint64_t end = off >= 2 ? off - 2 : 0;
			while (mp->sp - 1 > j)
				mp_close(m, mp->stack[--mp->sp], end, true);
			if (d == 2)
				q->closed = true;
			else
				mp_new(mp, mp->stack[j], off + wl);
			return;
		}
	}
	int top = mp->stack[mp->sp - 1];
	struct mime_part *t = &m->p[top];
	bool was_hdr = t->in_hdr;
	if (was_hdr) {
		if (n == 0) {
			mp_header_done(mp, top, off + wl);
		} else if (t->hlen + n + 2 < MIME_HDR_MAX) {
			if (!t->hdr && !(t->hdr = malloc(MIME_HDR_MAX)))
				return;
			memcpy(t->hdr + t->hlen, line, n);
			t->hlen += n;
			t->hdr[t->hlen++] = '\n';
			t->hdr[t->hlen] = '\0';
		}
	}
	/* every open leaf (and message part) in its body counts it */
	for (int j = 0; j < mp->sp; j++) {
		struct mime_part *q = &m->p[mp->stack[j]];
		if (q->in_hdr || q->multipart ||
		    (mp->stack[j] == top && was_hdr))
			continue;
		q->lines++;
		q->last_empty = n == 0;
	}
}

int
mime_parse(int fd, struct mime *m)
{
	struct mparse mp = { .m = m };
	char buf[MIME_READ], line[MIME_LINE_KEEP];
	size_t ln = 0;		/* kept bytes */
	uint64_t full = 0;	/* bytes of the line so far */
	uint64_t off = 0;	/* wire offset of the line's start */
	bool cr = false;	/* the last byte was CR */
	memset(m, 0, sizeof(*m));
	mp_new(&mp, -1, 0);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		for (ssize_t k = 0; k < r; k++) {
			char ch = buf[k];
			if (ch != '\n') {
				if (ln < sizeof(line))
					line[ln++] = ch;
				full++;
				cr = ch == '\r';
				continue;
			}
			/* content without a CR before the LF */
			uint64_t content = full - (cr ? 1 : 0);
			size_t kept = ln;
			if (cr && kept == full)
				kept--;
			mp_line(&mp, line, kept, off, content + 2);
			off += content + 2;
			ln = 0;
			full = 0;
			cr = false;
		}
	}
	if (full > 0) {		/* a last line without a line end */
		mp_line(&mp, line, ln, off, full);
		off += full;
	}
	while (mp.sp > 0)
		mp_close(m, mp.stack[--mp.sp], off, false);
	return 0;
}

void
mime_free(struct mime *m)
{
	for (int k = 0; k < m->n; k++) {
		free(m->p[k].hdr);
		m->p[k].hdr = NULL;
	}
	m->n = 0;
}

/* ---- BODYSTRUCTURE ---- */

struct plist {
	struct gbuf *g;
	int n;
	bool skip_boundary;
};

/* mime_params callback: writes "NAME" "value" pairs. */
static void
pl_add(void *arg, const char *name, const char *val)
{
	struct plist *pl = arg;
	gb_add(pl->g, pl->n++ ? " " : "(", 1);
	gb_nstring(pl->g, name, strlen(name));
	gb_add(pl->g, " ", 1);
	gb_nstring(pl->g, val, strlen(val));
}

/* The parameter list of a header value, or NIL. */
static void
gb_params(struct gbuf *g, const char *v)
{
	struct plist pl = { .g = g };
	if (v)
		mime_params(v, pl_add, &pl);
	gb_add(g, pl.n ? ")" : "NIL", pl.n ? 1 : 3);
}

/* A header value as an nstring (its first word only if word). */
static void
gb_field(struct gbuf *g, const char *hdr, const char *name, bool word,
    bool upper)
{
	char v[1024];
	char *s = hdr ? hdr_get(hdr, name, v, sizeof(v)) : NULL;
	if (!s) {
		gb_add(g, "NIL", 3);
		return;
	}
	size_t n = word ? strcspn(s, " ;") : strlen(s);
	while (!word && n > 0 && s[n - 1] == ' ')
		n--;
	if (upper)
		for (size_t k = 0; k < n; k++)
			s[k] = (char)toupper((unsigned char)s[k]);
	gb_nstring(g, s, n);
}

/* Content-Disposition: ("attachment" ("FILENAME" "a.pdf")) or NIL. */
static void
gb_disposition(struct gbuf *g, const char *hdr)
{
	char v[1024];
	char *s = hdr ? hdr_get(hdr, "Content-Disposition", v, sizeof(v)) :
	    NULL;
	if (!s) {
		gb_add(g, "NIL", 3);
		return;
	}
	size_t n = strcspn(s, " ;");
	gb_add(g, "(", 1);
	for (size_t k = 0; k < n; k++)
		s[k] = (char)toupper((unsigned char)s[k]);
	gb_nstring(g, s, n);
	gb_add(g, " ", 1);
	gb_params(g, s);
	gb_add(g, ")", 1);
}

/* The structure of part k: a body (RFC 3501 7.4.2). */
static void
mime_body(struct gbuf *g, const struct mime *m, int k, bool ext, int depth)
{
	const struct mime_part *p = &m->p[k];
	char v[1024], type[32], sub[64];
	if (depth > 2 * MIME_DEPTH_MAX + 2)
		return;
	if (p->multipart) {
		gb_add(g, "(", 1);
		if (p->child < 0)	/* no part at all: an empty one */
			gb_add(g, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
			    "\"US-ASCII\") NIL NIL \"7BIT\" 0 0)", 48);
		for (int c = p->child; c >= 0; c = m->p[c].next)
			mime_body(g, m, c, ext, depth + 1);
		const char *ct = hdr_get(p->hdr, "Content-Type", v,
		    sizeof(v));
		mime_ctype(ct, type, sizeof(type), sub, sizeof(sub));
		gb_add(g, " ", 1);
		gb_nstring(g, sub, strlen(sub));
		if (ext) {
			gb_add(g, " ", 1);
			gb_params(g, ct);
			gb_add(g, " ", 1);
			gb_disposition(g, p->hdr);
			gb_add(g, " ", 1);
			gb_field(g, p->hdr, "Content-Language", true, false);
			gb_add(g, " ", 1);
			gb_field(g, p->hdr, "Content-Location", false, false);
		}
		gb_add(g, ")", 1);
		return;
	}
	const char *ct = p->hdr ? hdr_get(p->hdr, "Content-Type", v,
	    sizeof(v)) : NULL;
	bool dig = p->parent >= 0 && m->p[p->parent].digest;
	if (ct)
		mime_ctype(ct, type, sizeof(type), sub, sizeof(sub));
	if (!ct || !type[0] || !sub[0]) {
		snprintf(type, sizeof(type), "%s", dig ? "MESSAGE" : "TEXT");
		snprintf(sub, sizeof(sub), "%s", dig ? "RFC822" : "PLAIN");
		ct = dig ? NULL : "text/plain; charset=us-ascii";
	}
	bool text = strcmp(type, "TEXT") == 0;
	gb_add(g, "(", 1);
	gb_nstring(g, type, strlen(type));
	gb_add(g, " ", 1);
	gb_nstring(g, sub, strlen(sub));
	gb_add(g, " ", 1);
	if (text && !strcasestr(ct, "charset"))
		gb_add(g, "(\"CHARSET\" \"US-ASCII\")", 22);
	else
		gb_params(g, ct);
	gb_add(g, " ", 1);
	gb_field(g, p->hdr, "Content-ID", false, false);
	gb_add(g, " ", 1);
	gb_field(g, p->hdr, "Content-Description", false, false);
	gb_add(g, " ", 1);
	if (p->hdr && hdr_get(p->hdr, "Content-Transfer-Encoding", v,
	    sizeof(v)))
		gb_field(g, p->hdr, "Content-Transfer-Encoding", true, true);
	else
		gb_add(g, "\"7BIT\"", 6);
	gb_printf(g, " %llu", (unsigned long long)(p->body_end -
	    p->body_start));
	if (p->message && p->child >= 0) {
		const struct mime_part *c = &m->p[p->child];
		gb_add(g, " ", 1);
		gb_envelope(g, c->hdr ? c->hdr : "");
		gb_add(g, " ", 1);
		mime_body(g, m, p->child, ext, depth + 1);
		gb_printf(g, " %llu", (unsigned long long)p->lines);
	} else if (text) {
		gb_printf(g, " %llu", (unsigned long long)p->lines);
	}
	if (ext) {
		gb_add(g, " ", 1);
		gb_field(g, p->hdr, "Content-MD5", false, false);
		gb_add(g, " ", 1);
		gb_disposition(g, p->hdr);
		gb_add(g, " ", 1);
		gb_field(g, p->hdr, "Content-Language", true, false);
		gb_add(g, " ", 1);
		gb_field(g, p->hdr, "Content-Location", false, false);
	}
	gb_add(g, ")", 1);
}

void
mime_structure(struct gbuf *g, const struct mime *m, bool ext)
{
	if (m->n > 0)
		mime_body(g, m, 0, ext, 0);
}

int
mime_resolve(const struct mime *m, const struct imap_sect *s, int *msg)
{
	int cur = 0;
	*msg = -1;
	if (m->n == 0)
		return -1;
	for (int j = 0; j < s->nparts; j++) {
		int x = s->part[j];
		const struct mime_part *p = &m->p[cur];
		if (cur != 0 && p->message && p->child >= 0) {
			cur = p->child;	/* into the encapsulated message */
			p = &m->p[cur];
		}
		if (p->multipart) {
			int c = p->child;
			for (int n = 1; c >= 0 && n < x; n++)
				c = m->p[c].next;
			if (c < 0 || x < 1)
				return -1;
			cur = c;
		} else if (x != 1 || (cur != 0 && !(p->parent >= 0 &&
		    m->p[p->parent].message))) {
			return -1;	/* a leaf has no sub-parts */
		}
	}
	const struct mime_part *p = &m->p[cur];
	if (p->message && p->child >= 0)
		*msg = p->child;
	return cur;
}
