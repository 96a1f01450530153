/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * util.h: small helpers shared by the engine and the shell: base64
 * (RFC 4648), making bytes visible, JSON string escaping, a bounded
 * string builder.
 */
#ifndef MAILSH_UTIL_H
#define MAILSH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A string builder with a fixed capacity chosen by the caller. */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;		/* including the terminating NUL */
	bool truncated;		/* something did not fit */
};

void sbuf_init(struct sbuf *sb, char *buf, size_t cap);
void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_puts(struct sbuf *sb, const char *s);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Base64-encodes n bytes of src into dst (dstcap bytes incl. NUL).
 * Returns the encoded length, or -1 if dst is too small.
 */
long b64_encode(const void *src, size_t n, char *dst, size_t dstcap);

/*
 * Decodes base64 text (padding optional, no whitespace inside) into dst.
 * Returns the decoded length, or -1 on a character outside the alphabet,
 * a bad length or padding, or a dst too small.
 */
long b64_decode(const char *src, size_t n, void *dst, size_t dstcap);

/*
 * Appends bytes to sb made safe to show on a terminal: printable ASCII and
 * valid UTF-8 as they are; \0 \r \n \t \e as such escapes; every other
 * byte as \xNN: the other C0 controls, DEL, bytes that are not UTF-8, and
 * every byte of a C1 control (U+0080-U+009F) or of a bidi or format
 * character (show_is_bidi).  The backslash stays as it is.  Nothing in the
 * result can move the cursor, change the terminal or reorder the line.
 * Escaping the result again changes nothing.
 */
void show_bytes(struct sbuf *sb, const char *p, size_t n);

/* The same, but a line feed stays a line feed: for text mailsh prints
 * over several lines (lesson texts, the MITM's and the lab's log). */
void show_text(struct sbuf *sb, const char *p, size_t n);

/* Writes s (NUL-terminated) to f through show_text; returns the bytes
 * written. */
size_t show_fputs(FILE *f, const char *s);

/*
 * Is cp a character that reorders or hides text on a terminal: U+061C,
 * U+200E/F, U+2028/9, U+202A-E, U+2066-9, U+FEFF?  (Unicode UAX #9;
 * the "Trojan Source" characters, CVE-2021-42574.)
 */
bool show_is_bidi(uint32_t cp);

/* Appends s (NUL-terminated) as a JSON string body: valid UTF-8 as it
 * is, control bytes and bytes that are not valid UTF-8 as \u00XX (the
 * byte's value), so the result is always valid JSON. */
void json_escape(struct sbuf *sb, const char *s);

/*
 * Numbers in messages, written as the message language writes them.
 * sample is "1234567.8" written that way (German "1.234.567,8"): the
 * text between its "1" and "234" is the thousands separator, between
 * "567" and "8" the decimal mark.  Digits are grouped only in numbers of
 * five digits or more (10.485.760, but 4523), as German style guides
 * (DIN 5008, Duden) have it.  num_fmt_in() writes v, or v / 10 with one
 * decimal when tenths is set, into buf and returns buf.
 */
char *num_fmt_in(char *buf, size_t cap, unsigned long long v, bool tenths,
    const char *sample);
/* The same with the sample from the message catalogue (gettext): the
 * language mailsh speaks decides, not LC_NUMERIC. */
char *num_fmt(char *buf, size_t cap, unsigned long long v);
/* x with one decimal (10,0 in German). */
char *num_fmt1(char *buf, size_t cap, double x);
#define NUM_FMT_MAX 48		/* room for any unsigned long long */

/*
 * Opens path for writing as a file only its owner may read (--keylog,
 * --pcap): created with mode 0600, O_NOFOLLOW (a symbolic link is
 * refused with ELOOP), anything but a regular file refused with EINVAL;
 * appended to, or emptied when truncate is set.  *mode gets the
 * permission bits it has (a file that existed may have wider ones).
 * Returns the descriptor (close-on-exec), or -1 with errno set.
 */
int util_open_private(const char *path, bool truncate, unsigned *mode);

/* Milliseconds of the monotonic clock (for timeouts). */
long util_now_ms(void);

/* Case-insensitive: does line (n bytes) start with word w followed by
 * a space or the end?  */
bool word_is(const char *line, size_t n, const char *w);

/* Returns a pointer to the next word after skipping one word and spaces,
 * within line[0..n); *rest_len gets the remaining length. */
const char *next_word(const char *line, size_t n, size_t *rest_len);

#endif
