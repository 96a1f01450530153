/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap_fetch.c: reads out IMAP data field by field, parsed with
 * imap_parse.c:
 *   FETCH (RFC 3501 7.4.2, RFC 9051 7.5.2): FLAGS, INTERNALDATE,
 *     RFC822.SIZE, UID, ENVELOPE (each position labelled), BODY and
 *     BODYSTRUCTURE (as a tree of parts, numbered as BODY[n] wants
 *     them; RFC 3501 6.4.5), BODY[section]<origin> and BINARY[...]
 *     (RFC 3516) named, MODSEQ (RFC 7162), the ids of RFC 8474;
 *   flag lists (FLAGS, RFC 3501 2.3.2), LIST / LSUB (7.2.2, RFC 6154
 *     special use, RFC 3348 children), STATUS (7.2.4), SEARCH (7.2.5).
 * The names and their meanings are in imap_tables.def.  A literal's
 * octets are not read out (they were shown as they came); a short one
 * that arrived as one line is shown where it stands (ann_resp).
 */
#include "annotate.h"
#include "i18n.h"
#include "imap_parse.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct item {
	const char *name;
	const char *text;
	const char *ref;
};

static const struct item fetch_items[] = {
#define FETCH_ITEM(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef FETCH_ITEM
};
static const struct item sections[] = {
#define SECTION(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef SECTION
};
static const struct item flags[] = {
#define FLAG(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef FLAG
};
static const struct item mbox_attrs[] = {
#define MBOX_ATTR(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef MBOX_ATTR
};
static const struct item status_items[] = {
#define STATUS_ITEM(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef STATUS_ITEM
};
#define NELEM(x) (sizeof(x) / sizeof((x)[0]))

#define SHOW_MAX 200		/* characters of one value shown */
#define TREE_LINES_MAX 64	/* lines of one body structure */
#define SEARCH_SHOWN 20		/* message numbers of SEARCH shown */

/* What is being read out: the parse and where its literals are. */
struct rd {
	struct ann *a;
	struct imap_parse *p;
	int lines;		/* tree lines said so far */
};

static const struct item *
lookup(const struct item *t, size_t nt, const char *s, size_t n)
{
	for (size_t i = 0; i < nt; i++)
		if (strlen(t[i].name) == n && strncasecmp(t[i].name, s, n)
		    == 0)
			return &t[i];
	return NULL;
}

/* Parses text into a fresh table; NULL (said why) when it does not
 * parse.  Free the result with free(). */
static struct imap_parse *
parse(struct ann *a, const char *s, size_t n, const char *what)
{
	struct imap_parse *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	if (!imap_parse(p, s, n)) {
		ann_say(a, PP_EV_WARN, ann_id(a, "imap.syntax.%s", what),
		    _("  the %s data does not follow "
		    "IMAP's syntax: %s (at byte %zu)"), what, _(p->err),
		    p->errpos);
		free(p);
		return NULL;
	}
	return p;
}

/* The kept literal whose "{n}" is v, or NULL. */
static const struct ann_lit *
literal_of(const struct rd *r, const struct imap_value *v)
{
	const struct ann_resp *resp = &r->a->resp;
	if (!resp->active || v->type != IMAP_LITERAL)
		return NULL;
	uintptr_t b = (uintptr_t)resp->text, e = (uintptr_t)(v->s + v->len);
	if (e < b || e > b + resp->len)
		return NULL;
	size_t at = (size_t)(e - b);
	for (int i = 0; i < resp->nlits; i++)
		if (resp->lit[i].at == at)
			return &resp->lit[i];
	return NULL;
}

/* Appends a value as a student should read it: strings unescaped and
 * without quotes, NIL as such, a literal as its octets when kept. */
static void
put_value(const struct rd *r, struct sbuf *sb, const struct imap_value *v)
{
	char buf[SHOW_MAX + 1];
	bool cut = false;
	size_t n;
	if (!v) {
		sbuf_puts(sb, "?");
		return;
	}
	switch (v->type) {
	case IMAP_NIL:
		sbuf_puts(sb, "NIL");
		return;
	case IMAP_LITERAL: {
		const struct ann_lit *l = literal_of(r, v);
		if (l && l->kept) {
			show_bytes(sb, r->a->resp.kept + l->off, l->len);
			return;
		}
		char num[NUM_FMT_MAX];
		sbuf_printf(sb, ngettext("{%s octet, shown above}",
		    "{%s octets, shown above}", (unsigned long)v->num),
		    num_fmt(num, sizeof(num), v->num));
		return;
	}
	case IMAP_LIST:
		n = v->len < SHOW_MAX ? v->len : SHOW_MAX;
		cut = v->len > SHOW_MAX;
		show_bytes(sb, v->s, n);
		break;
	case IMAP_STRING:
		if (v->len == 0) {
			sbuf_puts(sb, "\"\"");
			return;
		}
		/* FALLTHROUGH */
	default:
		n = imap_text(v, buf, sizeof(buf), &cut);
		show_bytes(sb, buf, n);
		break;
	}
	if (cut)
		sbuf_puts(sb, "...");
}

/*
 * Appends header text (a subject, an address name) with its RFC 2047
 * encoded words decoded, still shown safely: decoded bytes are server
 * bytes.  *decoded is set when a word was decoded.
 */
static void
put_words(const struct rd *r, struct sbuf *sb, const struct imap_value *v,
    bool *decoded)
{
	char raw[SHOW_MAX + 1], dec[2 * SHOW_MAX + 1];
	bool cut = false;
	size_t n;
	const struct ann_lit *l = v ? literal_of(r, v) : NULL;
	if (!v || (v->type != IMAP_STRING && v->type != IMAP_ATOM &&
	    !(l && l->kept)) || (v->type == IMAP_STRING && v->len == 0)) {
		put_value(r, sb, v);
		return;
	}
	if (l) {
		n = l->len < SHOW_MAX ? l->len : SHOW_MAX;
		cut = l->len > SHOW_MAX;
		memcpy(raw, r->a->resp.kept + l->off, n);
	} else {
		n = imap_text(v, raw, sizeof(raw), &cut);
	}
	bool d = false;
	size_t dl = mime_words_decode(raw, n, dec, sizeof(dec), &d);
	show_bytes(sb, dec, dl);
	if (cut)
		sbuf_puts(sb, "...");
	if (d)
		*decoded = true;
}

/* Appends a value in lower case (MIME types), shown safely. */
static void
put_lower(const struct rd *r, struct sbuf *sb, const struct imap_value *v)
{
	char tmp[SHOW_MAX + 8];
	struct sbuf t;
	sbuf_init(&t, tmp, sizeof(tmp));
	put_value(r, &t, v);
	for (size_t i = 0; i < t.len; i++)
		tmp[i] = (char)tolower((unsigned char)tmp[i]);
	sbuf_puts(sb, tmp);
}

/* "  NAME value: meaning (ref)", the ref in full mode. */
static void
say_field(const struct rd *r, const struct item *it, const char *shown)
{
	if (r->a->mode == ANN_FULL && it->ref[0])
		ann_say(r->a, PP_EV_EXPLAIN,
		    ann_id(r->a, "imap.fetch.%s", it->name),
		    "  %s: %s (%s)", shown,
		    _(it->text), it->ref);
	else
		ann_say(r->a, PP_EV_EXPLAIN,
		    ann_id(r->a, "imap.fetch.%s", it->name),
		    "  %s: %s", shown, _(it->text));
}

/* ---- flags ---- */

static void
flags_line(const struct rd *r, const char *label,
    const struct imap_value *list)
{
	char out[900];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	int i = 0;
	for (const struct imap_value *f = imap_elem(r->p, list, 0); f;
	    f = imap_next(r->p, f), i++) {
		if (sb.len)
			sbuf_puts(&sb, ", ");
		put_value(r, &sb, f);
		const struct item *it = f->type == IMAP_ATOM ?
		    lookup(flags, NELEM(flags), f->s, f->len) : NULL;
		if (it)
			sbuf_printf(&sb, " = %s",
			    pgettext_expr("IMAP flag", it->text));
		else if (f->len > 0 && f->s[0] == '\\')
			sbuf_puts(&sb, _(" = a system flag not in mailsh's "
			    "table"));
		else
			sbuf_puts(&sb, _(" = a keyword set by a client"));
	}
	if (i == 0)
		sbuf_puts(&sb, _("no flags: unread, not answered"));
	if (label[0])
		ann_say(r->a, PP_EV_EXPLAIN, "imap.flags",
		    "  %s: %s", label, out);
	else
		ann_say(r->a, PP_EV_EXPLAIN, "imap.flags", "  %s", out);
}

void
imap_explain_flags(struct ann *a, const char *s, size_t n)
{
	struct imap_parse *p = parse(a, s, n, "FLAGS");
	if (!p)
		return;
	struct rd r = { .a = a, .p = p };
	const struct imap_value *l = p->top >= 0 ? &p->v[p->top] : NULL;
	if (l && l->type == IMAP_LIST)
		flags_line(&r, "", l);
	free(p);
}

/* ---- ENVELOPE (RFC 3501 7.4.2) ---- */

/* One address list: Name <mailbox@host>, groups as "name: ...;". */
static void
put_addresses(const struct rd *r, struct sbuf *sb,
    const struct imap_value *l, bool *decoded)
{
	if (!l || l->type == IMAP_NIL) {
		sbuf_puts(sb, _("none (NIL)"));
		return;
	}
	if (l->type != IMAP_LIST) {
		put_value(r, sb, l);
		return;
	}
	bool sep = false;
	for (const struct imap_value *ad = imap_elem(r->p, l, 0); ad;
	    ad = imap_next(r->p, ad)) {
		const struct imap_value *name = imap_elem(r->p, ad, 0);
		const struct imap_value *mbox = imap_elem(r->p, ad, 2);
		const struct imap_value *host = imap_elem(r->p, ad, 3);
		if (!host) {		/* not a 4-element address */
			if (sep)
				sbuf_puts(sb, ", ");
			put_value(r, sb, ad);
			sep = true;
			continue;
		}
		if (host->type == IMAP_NIL) {	/* group start or end */
			if (mbox && mbox->type != IMAP_NIL) {
				if (sep)
					sbuf_puts(sb, ", ");
				put_value(r, sb, mbox);
				sbuf_puts(sb, ":");
				sep = false;
			} else {
				sbuf_puts(sb, ";");
				sep = true;
			}
			continue;
		}
		sbuf_puts(sb, sep ? ", " : (sb->len && sb->buf[sb->len - 1]
		    == ':' ? " " : ""));
		bool named = name && name->type != IMAP_NIL;
		if (named) {
			put_words(r, sb, name, decoded);
			sbuf_puts(sb, " <");
		}
		put_value(r, sb, mbox);
		sbuf_puts(sb, "@");
		put_value(r, sb, host);
		if (named)
			sbuf_puts(sb, ">");
		sep = true;
	}
	if (l->count == 0)
		sbuf_puts(sb, _("none (empty list)"));
}

static void
envelope(const struct rd *r, const struct imap_value *env,
    const char *indent)
{
	/* The order is fixed by RFC 3501 7.4.2. */
	static const char *const pos[] = {
		/* TRANSLATORS: the fields of an IMAP ENVELOPE (RFC
		   3501 7.4.2), shown as "from: Alice <alice@lab.example>":
		   header names, not words in a sentence */
		NC_("IMAP envelope field", "date"),
		NC_("IMAP envelope field", "subject"),
		NC_("IMAP envelope field", "from"),
		NC_("IMAP envelope field", "sender"),
		NC_("IMAP envelope field", "reply-to"),
		NC_("IMAP envelope field", "to"),
		NC_("IMAP envelope field", "cc"),
		NC_("IMAP envelope field", "bcc"),
		NC_("IMAP envelope field", "in-reply-to"),
		NC_("IMAP envelope field", "message-id"),
	};
	if (!env || env->type != IMAP_LIST || env->count != 10) {
		ann_say(r->a, PP_EV_WARN, "imap.envelope.invalid",
		    _("%snot an envelope: it must be a "
		    "list of 10 fields"), indent);
		return;
	}
	for (int i = 0; i < 10; i++) {
		const struct imap_value *v = imap_elem(r->p, env, i);
		char out[900];
		struct sbuf sb;
		bool decoded = false;
		sbuf_init(&sb, out, sizeof(out));
		if (i >= 2 && i <= 7)
			put_addresses(r, &sb, v, &decoded);
		else if (v->type == IMAP_NIL)
			sbuf_puts(&sb, _("none (NIL)"));
		else if (i == 1)
			put_words(r, &sb, v, &decoded);
		else
			put_value(r, &sb, v);
		if (decoded)
			sbuf_puts(&sb, _(" (RFC 2047 encoded words, decoded)"));
		ann_say(r->a, PP_EV_EXPLAIN, ann_id(r->a, "imap.envelope.%s",
		    pos[i]), "%s%s: %s", indent,
		    pgettext_expr("IMAP envelope field", pos[i]),
		    out);
	}
}

/* ---- BODY / BODYSTRUCTURE as a tree (RFC 3501 7.4.2) ---- */

/* The value of parameter name in a body-fld-param list, or NULL. */
static const struct imap_value *
param(const struct rd *r, const struct imap_value *l, const char *name)
{
	if (!l || l->type != IMAP_LIST)
		return NULL;
	for (const struct imap_value *k = imap_elem(r->p, l, 0); k;
	    k = imap_next(r->p, imap_next(r->p, k)))
		if (imap_is(k, name))
			return imap_next(r->p, k);
	return NULL;
}

static bool
is_number(const struct imap_value *v)
{
	return v && v->type == IMAP_NUMBER;
}

/* One part: "text/plain utf-8, quoted-printable, 1234 octets, 40
 * lines".  Returns the body inside a message/rfc822, or NULL. */
static const struct imap_value *
describe_part(const struct rd *r, struct sbuf *sb,
    const struct imap_value *b)
{
	const struct imap_value *type = imap_elem(r->p, b, 0);
	const struct imap_value *sub = imap_elem(r->p, b, 1);
	const struct imap_value *prm = imap_elem(r->p, b, 2);
	const struct imap_value *enc = imap_elem(r->p, b, 5);
	const struct imap_value *size = imap_elem(r->p, b, 6);
	if (!type || !sub || !enc || !is_number(size) ||
	    type->type == IMAP_LIST || sub->type == IMAP_LIST) {
		sbuf_puts(sb, _("(not a valid body part)"));
		return NULL;
	}
	put_lower(r, sb, type);
	sbuf_puts(sb, "/");
	put_lower(r, sb, sub);
	const struct imap_value *cs = param(r, prm, "CHARSET");
	if (cs) {
		sbuf_puts(sb, " ");
		put_lower(r, sb, cs);
	}
	bool text = imap_is(type, "TEXT");
	bool msg = imap_is(type, "MESSAGE") && (imap_is(sub, "RFC822") ||
	    imap_is(sub, "GLOBAL"));
	int ext = text ? 8 : msg ? 10 : 7;
	/* a file name: Content-Disposition's filename, else name= */
	const struct imap_value *dsp = imap_elem(r->p, b, ext + 1);
	const struct imap_value *fname = NULL;
	if (dsp && dsp->type == IMAP_LIST)
		fname = param(r, imap_elem(r->p, dsp, 1), "FILENAME");
	if (!fname)
		fname = param(r, prm, "NAME");
	if (fname) {
		sbuf_puts(sb, " \"");
		put_value(r, sb, fname);
		sbuf_puts(sb, "\"");
	}
	sbuf_puts(sb, ", ");
	put_lower(r, sb, enc);
	char num[NUM_FMT_MAX];
	sbuf_printf(sb, ngettext(", %s octet", ", %s octets",
	    (unsigned long)size->num), num_fmt(num, sizeof(num), size->num));
	const struct imap_value *lines = imap_elem(r->p, b, text ? 7 : 9);
	if ((text || msg) && is_number(lines))
		sbuf_printf(sb, ngettext(", %s line", ", %s lines",
		    (unsigned long)lines->num),
		    num_fmt(num, sizeof(num), lines->num));
	if (dsp && dsp->type == IMAP_LIST) {
		const struct imap_value *d = imap_elem(r->p, dsp, 0);
		if (d && d->type != IMAP_LIST) {
			sbuf_puts(sb, " (");
			put_lower(r, sb, d);
			sbuf_puts(sb, ")");
		}
	}
	if (msg) {
		const struct imap_value *env = imap_elem(r->p, b, 7);
		const struct imap_value *subj = imap_elem(r->p, env, 1);
		if (subj && subj->type != IMAP_NIL) {
			bool decoded = false;
			sbuf_puts(sb, _(": a message, subject "));
			put_words(r, sb, subj, &decoded);
		}
		const struct imap_value *inner = imap_elem(r->p, b, 8);
		if (inner && inner->type == IMAP_LIST)
			return inner;
	}
	return NULL;
}

/*
 * One node of the tree and, below it, its children.  num is its part
 * number ("" for the whole message), prefix what goes before the
 * branch of its line.
 */
static void
body_node(struct rd *r, const struct imap_value *b, const char *num,
    bool label, const char *prefix, const char *branch, int depth)
{
	char out[900], childpre[256], childnum[64];
	struct sbuf sb;
	if (r->lines >= TREE_LINES_MAX) {
		if (r->lines++ == TREE_LINES_MAX)
			ann_say(r->a, PP_EV_EXPLAIN, "imap.body.more",
			    _("    %s... more parts "
			    "than mailsh shows"), prefix);
		return;
	}
	r->lines++;
	sbuf_init(&sb, out, sizeof(out));
	if (!b || b->type != IMAP_LIST || b->count == 0) {
		sbuf_puts(&sb, _("(not a valid body part)"));
		ann_say(r->a, PP_EV_EXPLAIN, "imap.body.part",
		    "    %s%s%s", prefix, branch,
		    out);
		return;
	}
	snprintf(childpre, sizeof(childpre), "%s%s", prefix,
	    !branch[0] ? "" : strncmp(branch, "\xe2\x94\x94", 3) == 0 ?
	    "  " : "\xe2\x94\x82 ");
	if (num[0] && label)
		sbuf_printf(&sb, "%s ", num);
	const struct imap_value *first = imap_elem(r->p, b, 0);
	if (first->type == IMAP_LIST) {
		/* multipart: 1*body, then the subtype */
		int nparts = 0;
		const struct imap_value *v = first;
		while (v && v->type == IMAP_LIST) {
			nparts++;
			v = imap_next(r->p, v);
		}
		sbuf_puts(&sb, "multipart/");
		if (v)
			put_lower(r, &sb, v);
		else
			sbuf_puts(&sb, "?");
		ann_say(r->a, PP_EV_EXPLAIN, "imap.body.part",
		    "    %s%s%s", prefix, branch,
		    out);
		int i = 0;
		for (v = first; v && v->type == IMAP_LIST;
		    v = imap_next(r->p, v)) {
			i++;
			snprintf(childnum, sizeof(childnum), "%s%s%d", num,
			    num[0] ? "." : "", i);
			if (depth >= IMAP_PARSE_DEPTH)
				break;
			body_node(r, v, childnum, true, childpre, i == nparts ?
			    "\xe2\x94\x94 " : "\xe2\x94\x9c ", depth + 1);
		}
		return;
	}
	/* a single part is part 1 when it is the whole message */
	if (!num[0])
		sbuf_puts(&sb, "1 ");
	const struct imap_value *inner = describe_part(r, &sb, b);
	ann_say(r->a, PP_EV_EXPLAIN, "imap.body.part",
	    "    %s%s%s", prefix, branch, out);
	if (inner && depth < IMAP_PARSE_DEPTH) {
		/* RFC 3501 6.4.5: the parts of an attached message are
		 * numbered below its own number; a single-part one is .1 */
		const struct imap_value *in0 = imap_elem(r->p, inner, 0);
		if (in0 && in0->type == IMAP_LIST) {
			body_node(r, inner, num[0] ? num : "1", false,
			    childpre, "\xe2\x94\x94 ", depth + 1);
		} else {
			snprintf(childnum, sizeof(childnum), "%s.1",
			    num[0] ? num : "1");
			body_node(r, inner, childnum, true, childpre,
			    "\xe2\x94\x94 ", depth + 1);
		}
	}
}

/* ---- BODY[section]<origin> ---- */

/* "BODY[1.2.HEADER.FIELDS (FROM)]<0>": what part of the message. */
static void
section(const struct rd *r, const struct imap_value *name,
    const struct imap_value *val, const struct item *it)
{
	const char *lb = memchr(name->s, '[', name->len);
	const char *rb = lb ? memchr(lb, ']', name->len -
	    (size_t)(lb - name->s)) : NULL;
	if (!rb)
		return;
	const char *sec = lb + 1;
	size_t sl = (size_t)(rb - sec);
	char out[900];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	/* the part number: digits and dots up to a letter */
	size_t pl = 0;
	while (pl < sl && (isdigit((unsigned char)sec[pl]) ||
	    sec[pl] == '.'))
		pl++;
	size_t partlen = pl;
	if (partlen > 0 && pl < sl && sec[pl - 1] == '.')
		partlen--;	/* "1.HEADER": the dot belongs to neither */
	else if (pl < sl)
		partlen = pl = 0;	/* not a part number after all */
	const char *kw = sec + pl;
	size_t kl = sl - pl;
	size_t kwl = 0;		/* the keyword, before " (FIELDS)" */
	while (kwl < kl && kw[kwl] != ' ' && kw[kwl] != '(')
		kwl++;
	if (strcmp(it->name, "BODY[") != 0)
		sbuf_puts(&sb, _(it->text));
	if (partlen > 0)
		sbuf_printf(&sb, _("%spart %.*s"), sb.len ? ", " : "",
		    (int)partlen, sec);
	const struct item *s = lookup(sections, NELEM(sections), kw, kwl);
	if (partlen > 0 && kwl == 0)
		;		/* the part's content itself */
	else if (s)
		sbuf_printf(&sb, "%s%s", sb.len ? ", " : "", _(s->text));
	else
		sbuf_printf(&sb, _("%sa section name not in mailsh's table"),
		    sb.len ? ", " : "");
	/* the field names of HEADER.FIELDS (...) */
	const char *fl = kw + kwl;
	size_t fll = kl - kwl;
	while (fll > 0 && (*fl == ' ' || *fl == '('))
		fl++, fll--;
	while (fll > 0 && (fl[fll - 1] == ' ' || fl[fll - 1] == ')'))
		fll--;
	if (fll > 0) {
		sbuf_puts(&sb, ": ");
		show_bytes(&sb, fl, fll);
	}
	/* <origin> (in a response) or <origin.length> (in a request) */
	const char *lt = memchr(rb, '<', name->len - (size_t)(rb -
	    name->s));
	if (lt) {
		unsigned long long o = strtoull(lt + 1, NULL, 10);
		char num[NUM_FMT_MAX];
		sbuf_printf(&sb, _(", from octet %s on"),
		    num_fmt(num, sizeof(num), o));
	}
	sbuf_puts(&sb, "; ");
	char num[NUM_FMT_MAX];
	if (val && val->type == IMAP_NIL)
		sbuf_puts(&sb, _("NIL: there is no such section"));
	else if (val && val->type == IMAP_LITERAL && !literal_of(r, val))
		sbuf_printf(&sb, ngettext("%s octet, shown above",
		    "%s octets, shown above", (unsigned long)val->num),
		    num_fmt(num, sizeof(num), val->num));
	else if (val && val->type == IMAP_STRING && val->len == 0)
		sbuf_puts(&sb, _("an empty string"));
	else if (val && val->type == IMAP_NUMBER)
		sbuf_printf(&sb, ngettext("%s octet", "%s octets",
		    (unsigned long)val->num),
		    num_fmt(num, sizeof(num), val->num));
	else if (val && val->type == IMAP_LITERAL) {
		const struct ann_lit *l = literal_of(r, val);
		if (l->kept) {
			sbuf_puts(&sb, "\"");
			put_value(r, &sb, val);
			sbuf_puts(&sb, "\"");
		} else {
			sbuf_printf(&sb, ngettext("%s octet, shown above",
			    "%s octets, shown above",
			    (unsigned long)val->num),
			    num_fmt(num, sizeof(num), val->num));
		}
	} else {
		sbuf_puts(&sb, "\"");
		put_value(r, &sb, val);
		sbuf_puts(&sb, "\"");
	}
	char shown[300];
	struct sbuf nb;
	sbuf_init(&nb, shown, sizeof(shown));
	show_bytes(&nb, name->s, name->len);
	if (r->a->mode == ANN_FULL && it->ref[0])
		ann_say(r->a, PP_EV_EXPLAIN,
		    ann_id(r->a, "imap.fetch.%s", it->name),
		    "  %s: %s (%s)", shown, out,
		    it->ref);
	else
		ann_say(r->a, PP_EV_EXPLAIN,
		    ann_id(r->a, "imap.fetch.%s", it->name),
		    "  %s: %s", shown, out);
}

/* ---- FETCH ---- */

/* The table entry of a FETCH item name ("BODY[...]" as "BODY["). */
static const struct item *
fetch_item(const struct imap_value *name)
{
	const char *lb = memchr(name->s, '[', name->len);
	size_t n = lb ? (size_t)(lb - name->s) + 1 : name->len;
	return lookup(fetch_items, NELEM(fetch_items), name->s, n);
}

static void
fetch_pair(struct rd *r, const struct imap_value *name,
    const struct imap_value *val)
{
	char shown[900];
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	const struct item *it = name->type == IMAP_ATOM ? fetch_item(name) :
	    NULL;
	if (!it) {
		put_value(r, &sb, name);
		sbuf_puts(&sb, " ");
		put_value(r, &sb, val);
		ann_say(r->a, PP_EV_EXPLAIN, "imap.fetch.unknown",
		    _("  %s: an item not in mailsh's "
		    "table"), shown);
		return;
	}
	if (strchr(it->name, '[')) {
		section(r, name, val, it);
		return;
	}
	char label[64];
	snprintf(label, sizeof(label), "%.*s", (int)(name->len < 63 ?
	    name->len : 63), name->s);
	for (char *c = label; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (strcmp(it->name, "FLAGS") == 0 && val->type == IMAP_LIST) {
		flags_line(r, "FLAGS", val);
	} else if (strcmp(it->name, "ENVELOPE") == 0) {
		say_field(r, it, "ENVELOPE");
		envelope(r, val, "    ");
	} else if (strcmp(it->name, "BODY") == 0 ||
	    strcmp(it->name, "BODYSTRUCTURE") == 0) {
		say_field(r, it, label);
		r->lines = 0;
		body_node(r, val, "", true, "", "", 0);
	} else if (strcmp(it->name, "RFC822") == 0 ||
	    strcmp(it->name, "RFC822.HEADER") == 0 ||
	    strcmp(it->name, "RFC822.TEXT") == 0) {
		sbuf_puts(&sb, label);
		if (val->type == IMAP_LITERAL && !(literal_of(r, val) &&
		    literal_of(r, val)->kept)) {
			char num[NUM_FMT_MAX];
			sbuf_printf(&sb, ngettext(" (%s octet, shown above)",
			    " (%s octets, shown above)",
			    (unsigned long)val->num),
			    num_fmt(num, sizeof(num), val->num));
		}
		say_field(r, it, shown);
	} else {
		/* a value in parentheses: MODSEQ (12345) */
		const struct imap_value *v = val;
		if (v->type == IMAP_LIST && v->count == 1)
			v = imap_elem(r->p, v, 0);
		sbuf_printf(&sb, "%s ", label);
		put_value(r, &sb, v);
		say_field(r, it, shown);
	}
}

void
imap_explain_fetch(struct ann *a, unsigned long num, const char *s,
    size_t n)
{
	if (a->mode == ANN_FULL)
		ann_say(a, PP_EV_EXPLAIN, "imap.fetch",
		    _("FETCH: data of message %lu "
		    "(RFC 3501 7.4.2)"), num);
	else
		ann_say(a, PP_EV_EXPLAIN, "imap.fetch",
		    _("FETCH: data of message %lu"),
		    num);
	struct imap_parse *p = parse(a, s, n, "FETCH");
	if (!p)
		return;
	struct rd r = { .a = a, .p = p };
	const struct imap_value *l = p->top >= 0 ? &p->v[p->top] : NULL;
	if (!l || l->type != IMAP_LIST || p->ntop != 1) {
		ann_say(a, PP_EV_WARN, "imap.fetch.invalid",
		    "%s", _("  FETCH data must be one list "
		    "in parentheses: (NAME value NAME value ...)"));
		free(p);
		return;
	}
	const struct imap_value *k = imap_elem(p, l, 0);
	while (k) {
		const struct imap_value *v = imap_next(p, k);
		if (!v) {
			ann_say(a, PP_EV_WARN, "imap.fetch.no-value",
			    _("  %.*s has no value"),
			    (int)(k->len < 64 ? k->len : 64), k->s);
			break;
		}
		fetch_pair(&r, k, v);
		k = imap_next(p, v);
	}
	free(p);
}

/* ---- LIST / LSUB, STATUS, SEARCH ---- */

void
imap_explain_list(struct ann *a, const char *s, size_t n)
{
	struct imap_parse *p = parse(a, s, n, "LIST");
	if (!p)
		return;
	struct rd r = { .a = a, .p = p };
	const struct imap_value *attrs = p->top >= 0 ? &p->v[p->top] : NULL;
	const struct imap_value *delim = imap_next(p, attrs);
	const struct imap_value *name = imap_next(p, delim);
	if (!attrs || attrs->type != IMAP_LIST || !name ||
	    name->type == IMAP_LIST) {
		ann_say(a, PP_EV_WARN, "imap.list.invalid",
		    "%s", _("  a LIST line is (attributes) "
		    "\"delimiter\" name"));
		free(p);
		return;
	}
	char nm[ANN_MAILBOX_LEN], out[900];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	put_value(&r, &sb, name);
	/* remembered for completion: as the server wrote it, escapes
	 * undone; a literal name only when its octets were kept */
	bool cut = false;
	size_t nl = 0;
	const struct ann_lit *lit = literal_of(&r, name);
	if (name->type != IMAP_LITERAL)
		nl = imap_text(name, nm, sizeof(nm), &cut);
	else if (lit && lit->kept && lit->len < sizeof(nm))
		memcpy(nm, a->resp.kept + lit->off, nl = lit->len);
	if (nl > 0 && !cut && !memchr(nm, '\0', nl))
		ann_mailbox_add(a, nm, nl);
	if (delim->type == IMAP_NIL)
		ann_say(a, PP_EV_EXPLAIN, "imap.list",
		    _("  mailbox \"%s\"; no hierarchy "
		    "(delimiter NIL)"), out);
	else {
		char d[16];
		imap_text(delim, d, sizeof(d), NULL);
		ann_say(a, PP_EV_EXPLAIN, "imap.list",
		    _("  mailbox \"%s\"; \"%s\" "
		    "separates the levels of the hierarchy"), out, d);
	}
	sbuf_init(&sb, out, sizeof(out));
	for (const struct imap_value *f = imap_elem(p, attrs, 0); f;
	    f = imap_next(p, f)) {
		if (sb.len)
			sbuf_puts(&sb, ", ");
		put_value(&r, &sb, f);
		const struct item *it = lookup(mbox_attrs, NELEM(mbox_attrs),
		    f->s, f->len);
		sbuf_printf(&sb, " = %s", it ? _(it->text) :
		    _("an attribute not in mailsh's table"));
	}
	if (attrs->count > 0)
		ann_say(a, PP_EV_EXPLAIN, "imap.list.attr", "  %s", out);
	free(p);
}

void
imap_explain_status(struct ann *a, const char *s, size_t n)
{
	struct imap_parse *p = parse(a, s, n, "STATUS");
	if (!p)
		return;
	struct rd r = { .a = a, .p = p };
	const struct imap_value *name = p->top >= 0 ? &p->v[p->top] : NULL;
	const struct imap_value *l = imap_next(p, name);
	if (!l || l->type != IMAP_LIST) {
		ann_say(a, PP_EV_WARN, "imap.status.invalid",
		    "%s", _("  a STATUS line is mailbox "
		    "(NAME number ...)"));
		free(p);
		return;
	}
	char out[900];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	put_value(&r, &sb, name);
	ann_say(a, PP_EV_EXPLAIN, "imap.status",
	    _("  of mailbox \"%s\":"), out);
	for (const struct imap_value *k = imap_elem(p, l, 0); k;
	    k = imap_next(p, imap_next(p, k))) {
		const struct imap_value *v = imap_next(p, k);
		sbuf_init(&sb, out, sizeof(out));
		put_value(&r, &sb, k);
		sbuf_puts(&sb, " ");
		put_value(&r, &sb, v);
		const struct item *it = lookup(status_items,
		    NELEM(status_items), k->s, k->len);
		if (it && a->mode == ANN_FULL && it->ref[0])
			ann_say(a, PP_EV_EXPLAIN,
			    ann_id(a, "imap.status.%s", it->name),
			    "    %s: %s (%s)", out,
			    _(it->text), it->ref);
		else
			ann_say(a, PP_EV_EXPLAIN, it ? ann_id(a,
			    "imap.status.%s", it->name) : "imap.status.unknown",
			    "    %s: %s", out, it ?
			    _(it->text) : _("an item not in mailsh's table"));
	}
	free(p);
}

void
imap_explain_search(struct ann *a, const char *s, size_t n)
{
	struct imap_parse *p = parse(a, s, n, "SEARCH");
	if (!p)
		return;
	char out[900];
	struct sbuf sb;
	sbuf_init(&sb, out, sizeof(out));
	unsigned long count = 0;
	for (const struct imap_value *v = p->top >= 0 ? &p->v[p->top] :
	    NULL; v; v = imap_next(p, v)) {
		if (v->type != IMAP_NUMBER)
			continue;	/* "(MODSEQ n)" of CONDSTORE */
		if (count < SEARCH_SHOWN)
			sbuf_printf(&sb, " %llu", (unsigned long long)v->num);
		else if (count == SEARCH_SHOWN)
			sbuf_puts(&sb, " ...");
		count++;
	}
	if (count == 0)
		ann_say(a, PP_EV_EXPLAIN, "imap.search.none",
		    "%s", _("  no message matches"));
	else
		ann_say(a, PP_EV_EXPLAIN, "imap.search",
		    ngettext("  %lu message matches:%s",
		    "  %lu messages match:%s", count), count, out);
	free(p);
}
