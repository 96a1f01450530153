/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap_parse.h: a small, bounded parser for IMAP data (RFC 3501 4 and 9,
 * RFC 9051 4 and 9): atoms, numbers, quoted strings with escapes, NIL,
 * parenthesised lists, and literals referenced by their size ("{n}",
 * "{n+}", "~{n}").  The octets of a literal are not in the text: the
 * caller keeps them apart (the engine delivers them as separate
 * events), and the text goes on right after the "}".
 *
 * Values go into a fixed table inside struct imap_parse; nothing is
 * allocated.  Nesting is capped at IMAP_PARSE_DEPTH and the number of
 * values at IMAP_PARSE_MAX.  Anything that breaks the syntax stops the
 * parse with a message (p->err, an English msgid) and the byte offset;
 * no input, however hostile, makes it read outside the text.
 *
 * It is lenient where real servers are sloppy: values may be separated
 * by one space, several or none ("((...)(...) "MIXED")" is how RFC 3501
 * writes multipart bodies), atoms may hold ']' and 8-bit bytes, and a
 * bracketed section ("BODY[HEADER.FIELDS (FROM TO)]<0>") is one atom.
 */
#ifndef MAILSH_IMAP_PARSE_H
#define MAILSH_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_PARSE_DEPTH 24	/* lists inside lists */
#define IMAP_PARSE_MAX 2048	/* values in one parse */

enum imap_type {
	IMAP_ATOM,	/* FLAGS, \Seen, BODY[TEXT]<0> */
	IMAP_NUMBER,	/* digits only, fits in 64 bits */
	IMAP_STRING,	/* "quoted" */
	IMAP_LITERAL,	/* {n}: n octets kept elsewhere */
	IMAP_NIL,	/* NIL */
	IMAP_LIST,	/* ( ... ) */
};

struct imap_value {
	enum imap_type type;
	/* ATOM, NUMBER, NIL: the text; STRING: between the quotes, with
	 * its escapes; LITERAL: "{n}" as written; LIST: "(" to ")" */
	const char *s;
	size_t len;
	uint64_t num;	/* NUMBER: the value; LITERAL: its octets */
	int first;	/* LIST: index of the first element, or -1 */
	int next;	/* index of the next value on the same level, or -1 */
	int count;	/* LIST: number of elements */
};

struct imap_parse {
	struct imap_value v[IMAP_PARSE_MAX];
	int n;		/* values used */
	int top;	/* first value on the top level, or -1 */
	int ntop;	/* values on the top level */
	const char *err;	/* why the parse stopped (msgid), or NULL */
	size_t errpos;	/* where, as a byte offset into the text */
};

/*
 * Parses n bytes of text as a sequence of values.  Returns true if all
 * of it parsed; false with p->err and p->errpos set (the values in
 * p->v are then not to be used).
 */
bool imap_parse(struct imap_parse *p, const char *s, size_t n);

/* Element i (from 0) of a list, or NULL (no list, or too short). */
const struct imap_value *imap_elem(const struct imap_parse *p,
    const struct imap_value *list, int i);

/* The value after v on the same level, or NULL. */
const struct imap_value *imap_next(const struct imap_parse *p,
    const struct imap_value *v);

/* Is v an atom or string equal to w (ASCII case-insensitive)? */
bool imap_is(const struct imap_value *v, const char *w);

/*
 * Copies the text of an atom, number or string into out (cap bytes incl.
 * NUL), string escapes undone.  Returns the length copied; a value that
 * does not fit is cut (*cut set when cut is not NULL).  Other types give
 * "".
 */
size_t imap_text(const struct imap_value *v, char *out, size_t cap,
    bool *cut);

/*
 * The length of the astring at s (RFC 3501 9): an atom up to the next
 * space, or a quoted string with its escapes up to its closing quote
 * (*open set when that quote is missing: then all of s), or a literal's
 * "{n}".  For command lines the user types (LOGIN user password).
 */
size_t imap_astring_len(const char *s, size_t n, bool *open);

/*
 * Decodes the RFC 2047 encoded words ("=?charset?B?...?=", "=?...?Q?...?=")
 * in n bytes of header text (an ENVELOPE subject, an address name) into
 * out (cap bytes, always NUL-terminated): words in UTF-8, US-ASCII and
 * ISO-8859-1 become UTF-8, white space between two encoded words goes
 * (RFC 2047 6.2); words in other charsets and malformed ones stay as
 * they are.  The result is server text still: show it escaped.  Returns
 * its length; *decoded says whether any word was decoded.
 */
size_t mime_words_decode(const char *s, size_t n, char *out, size_t cap,
    bool *decoded);

#endif
