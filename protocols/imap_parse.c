/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap_parse.c: the bounded IMAP data parser (see imap_parse.h).
 * RFC 3501 4 (data formats) and 9 (formal syntax), RFC 9051 4,
 * RFC 7888 ("{n+}"), RFC 3516 ("~{n}").
 *
 * One pass, no recursion: open lists are kept on a stack of at most
 * IMAP_PARSE_DEPTH entries, values in the caller's table of
 * IMAP_PARSE_MAX.  Every index is checked against n before it is read.
 */
#include "imap_parse.h"
#include "i18n.h"
#include "util.h"

#include <string.h>
#include <strings.h>

/* Bytes that end an atom (RFC 3501 atom-specials, less the ones real
 * servers put in atoms: ']' '%' '*' '\\' and 8-bit bytes). */
static bool
atom_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '(' && c != ')' && c != '{' &&
	    c != '"';
}

static bool
fail(struct imap_parse *p, const char *why, size_t pos)
{
	p->err = why;
	p->errpos = pos;
	return false;
}

/* An atom from s[i]: a '[' takes everything up to its ']' along
 * (spaces and parentheses included).  Returns the end, or 0 with
 * p->err set. */
static size_t
scan_atom(struct imap_parse *p, const char *s, size_t n, size_t i)
{
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '[') {
			const char *close = memchr(s + i, ']', n - i);
			if (!close) {
				fail(p, N_("a \"[\" without its \"]\""), i);
				return 0;
			}
			i = (size_t)(close - s) + 1;
			continue;
		}
		if (!atom_char(c))
			break;
		i++;
	}
	return i;
}

/* A quoted string from the '"' at s[i].  Returns the index after the
 * closing quote, or 0 with p->err set. */
static size_t
scan_quoted(struct imap_parse *p, const char *s, size_t n, size_t i)
{
	size_t start = i++;
	while (i < n) {
		if (s[i] == '\\') {
			if (i + 1 >= n)
				break;
			i += 2;
			continue;
		}
		if (s[i] == '"')
			return i + 1;
		i++;
	}
	fail(p, N_("a quoted string without its closing quote"), start);
	return 0;
}

/* A literal "{n}", "{n+}" or "~{n}" from s[i].  Returns the index after
 * the '}' with *octets set, or 0 with p->err set. */
static size_t
scan_literal(struct imap_parse *p, const char *s, size_t n, size_t i,
    uint64_t *octets)
{
	size_t start = i;
	if (s[i] == '~')
		i++;
	i++;			/* '{' */
	uint64_t v = 0;
	size_t digits = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (++digits > 19) {
			fail(p, N_("a literal size with too many digits"),
			    start);
			return 0;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i < n && s[i] == '+')
		i++;
	if (digits == 0 || i >= n || s[i] != '}') {
		fail(p, N_("a \"{\" that does not start a literal {n}"),
		    start);
		return 0;
	}
	*octets = v;
	return i + 1;
}

/* Digits only, and no more than fit in 64 bits? */
static bool
to_number(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool
imap_parse(struct imap_parse *p, const char *s, size_t n)
{
	int open[IMAP_PARSE_DEPTH];	/* lists not closed yet */
	int last[IMAP_PARSE_DEPTH + 1];	/* last value on each level */
	int depth = 0;
	size_t i = 0;

	p->n = 0;
	p->top = -1;
	p->ntop = 0;
	p->err = NULL;
	p->errpos = 0;
	last[0] = -1;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ') {
			i++;
			continue;
		}
		if (c == ')') {
			if (depth == 0)
				return fail(p, N_("a \")\" without its \"(\""),
				    i);
			struct imap_value *l = &p->v[open[--depth]];
			l->len = (size_t)(s + i + 1 - l->s);
			i++;
			continue;
		}
		if (p->n >= IMAP_PARSE_MAX)
			return fail(p, N_("more values than mailsh reads in "
			    "one response"), i);
		int k = p->n++;
		struct imap_value *v = &p->v[k];
		memset(v, 0, sizeof(*v));
		v->first = v->next = -1;
		v->s = s + i;
		if (last[depth] >= 0)
			p->v[last[depth]].next = k;
		else if (depth == 0)
			p->top = k;
		else
			p->v[open[depth - 1]].first = k;
		last[depth] = k;
		if (depth > 0)
			p->v[open[depth - 1]].count++;
		else
			p->ntop++;

		size_t end;
		if (c == '(') {
			if (depth >= IMAP_PARSE_DEPTH)
				return fail(p, N_("lists nested deeper than "
				    "mailsh follows"), i);
			v->type = IMAP_LIST;
			open[depth++] = k;
			last[depth] = -1;
			i++;
			continue;
		} else if (c == '"') {
			if (!(end = scan_quoted(p, s, n, i)))
				return false;
			v->type = IMAP_STRING;
			v->s = s + i + 1;
			v->len = end - i - 2;
		} else if (c == '{' || (c == '~' && i + 1 < n &&
		    s[i + 1] == '{')) {
			if (!(end = scan_literal(p, s, n, i, &v->num)))
				return false;
			v->type = IMAP_LITERAL;
			v->len = end - i;
		} else if (atom_char(c)) {
			if (!(end = scan_atom(p, s, n, i)))
				return false;
			v->len = end - i;
			if (v->len == 3 && strncasecmp(v->s, "NIL", 3) == 0)
				v->type = IMAP_NIL;
			else if (to_number(v->s, v->len, &v->num))
				v->type = IMAP_NUMBER;
			else
				v->type = IMAP_ATOM;
		} else {
			return fail(p, N_("a byte that cannot start an IMAP "
			    "value"), i);
		}
		i = end;
	}
	if (depth > 0)
		return fail(p, N_("a \"(\" without its \")\""),
		    (size_t)(p->v[open[depth - 1]].s - s));
	return true;
}

const struct imap_value *
imap_elem(const struct imap_parse *p, const struct imap_value *list,
    int i)
{
	if (!list || list->type != IMAP_LIST || i < 0 || i >= list->count)
		return NULL;
	int k = list->first;
	while (i-- > 0 && k >= 0)
		k = p->v[k].next;
	return k >= 0 ? &p->v[k] : NULL;
}

const struct imap_value *
imap_next(const struct imap_parse *p, const struct imap_value *v)
{
	return v && v->next >= 0 ? &p->v[v->next] : NULL;
}

bool
imap_is(const struct imap_value *v, const char *w)
{
	if (!v || (v->type != IMAP_ATOM && v->type != IMAP_STRING))
		return false;
	return strlen(w) == v->len && strncasecmp(v->s, w, v->len) == 0;
}

size_t
imap_text(const struct imap_value *v, char *out, size_t cap, bool *cut)
{
	size_t o = 0;
	if (cut)
		*cut = false;
	if (cap == 0)
		return 0;
	if (v && (v->type == IMAP_ATOM || v->type == IMAP_NUMBER ||
	    v->type == IMAP_STRING || v->type == IMAP_NIL)) {
		bool quoted = v->type == IMAP_STRING;
		for (size_t i = 0; i < v->len; i++) {
			char c = v->s[i];
			if (quoted && c == '\\' && i + 1 < v->len)
				c = v->s[++i];
			if (o + 1 >= cap) {
				if (cut)
					*cut = true;
				break;
			}
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return o;
}

size_t
imap_astring_len(const char *s, size_t n, bool *open)
{
	*open = false;
	if (n > 0 && s[0] == '"') {
		for (size_t i = 1; i < n; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			else if (s[i] == '"')
				return i + 1;
		}
		*open = true;
		return n;
	}
	size_t i = 0;
	while (i < n && s[i] != ' ')
		i++;
	return i;
}

/* ---- RFC 2047 encoded words ---- */

#define MIME_WORD_MAX 1024	/* longest encoded word looked at */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends byte c of charset latin1 (or as is) to out[*o], bounded. */
static bool
put_byte(char *out, size_t cap, size_t *o, unsigned char c, bool latin1)
{
	if (latin1 && c >= 0x80) {
		if (*o + 2 >= cap)
			return false;
		out[(*o)++] = (char)(0xc0 | (c >> 6));
		out[(*o)++] = (char)(0x80 | (c & 0x3f));
		return true;
	}
	if (*o + 1 >= cap)
		return false;
	out[(*o)++] = (char)c;
	return true;
}

/*
 * One encoded word at s (which starts with "=?"): its length in *len and
 * its text appended at out[*o]; false (out untouched) when it is not a
 * well-formed word in a charset mailsh decodes.
 */
static bool
mime_word(const char *s, size_t n, size_t *len, char *out, size_t cap,
    size_t *o)
{
	if (n > MIME_WORD_MAX)
		n = MIME_WORD_MAX;
	size_t i = 2, cs = 2;
	while (i < n && s[i] != '?' && s[i] != ' ')
		i++;
	if (i + 3 >= n || s[i] != '?' || s[i + 2] != '?')
		return false;
	size_t csl = i - cs;
	const char *star = memchr(s + cs, '*', csl);	/* RFC 2231 5 */
	if (star)
		csl = (size_t)(star - (s + cs));
	char enc = (char)(s[i + 1] | 0x20);
	size_t t = i + 3, te = t;
	while (te + 1 < n && !(s[te] == '?' && s[te + 1] == '=') &&
	    s[te] != ' ')
		te++;
	if (te + 1 >= n || s[te] != '?' || s[te + 1] != '=' ||
	    (enc != 'b' && enc != 'q'))
		return false;
	bool latin1;
	if ((csl == 5 && strncasecmp(s + cs, "UTF-8", 5) == 0) ||
	    (csl == 8 && strncasecmp(s + cs, "US-ASCII", 8) == 0))
		latin1 = false;
	else if (csl == 10 && strncasecmp(s + cs, "ISO-8859-1", 10) == 0)
		latin1 = true;
	else
		return false;
	char raw[MIME_WORD_MAX];
	size_t rl = 0;
	if (enc == 'b') {
		long dl = b64_decode(s + t, te - t, raw, sizeof(raw));
		if (dl < 0)
			return false;
		rl = (size_t)dl;
	} else {
		for (size_t k = t; k < te; k++) {
			int h, l;
			if (s[k] == '_') {
				raw[rl++] = ' ';
			} else if (s[k] == '=') {
				if (k + 2 >= te || (h = hexval(s[k + 1])) < 0
				    || (l = hexval(s[k + 2])) < 0)
					return false;
				raw[rl++] = (char)(h * 16 + l);
				k += 2;
			} else {
				raw[rl++] = s[k];
			}
		}
	}
	size_t o0 = *o;
	for (size_t k = 0; k < rl; k++)
		if (!put_byte(out, cap, o, (unsigned char)raw[k], latin1)) {
			*o = o0;
			return false;
		}
	*len = te + 2;
	return true;
}

size_t
mime_words_decode(const char *s, size_t n, char *out, size_t cap,
    bool *decoded)
{
	size_t o = 0, after = (size_t)-1;	/* out length after a word */
	*decoded = false;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t wl, before = o;
		if (i + 1 < n && s[i] == '=' && s[i + 1] == '?') {
			/* white space between two words goes (RFC 2047 6.2) */
			bool gap = after != (size_t)-1;
			for (size_t k = after; gap && k < o; k++)
				if (out[k] != ' ' && out[k] != '\t' &&
				    out[k] != '\r' && out[k] != '\n')
					gap = false;
			if (gap)
				o = after;
			if (mime_word(s + i, n - i, &wl, out, cap, &o)) {
				*decoded = true;
				i += wl;
				after = o;
				continue;
			}
			o = before;
		}
		if (o + 1 >= cap)
			break;
		out[o++] = s[i++];
		if (out[o - 1] != ' ' && out[o - 1] != '\t')
			after = (size_t)-1;
	}
	out[o] = '\0';
	return o;
}
