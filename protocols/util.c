/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * util.c: base64 (RFC 4648 section 4), visible bytes, JSON escaping.
 */
#include "util.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
sbuf_init(struct sbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->truncated = false;
	if (cap > 0)
		buf[0] = '\0';
}

void
sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->cap == 0) {
		sb->truncated = true;
		return;
	}
	size_t room = sb->cap - 1 - sb->len;
	if (n > room) {
		n = room;
		sb->truncated = true;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
sbuf_puts(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	if (sb->cap == 0) {
		sb->truncated = true;
		return;
	}
	size_t room = sb->cap - sb->len;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if ((size_t)r >= room) {
		sb->len = sb->cap - 1;
		sb->truncated = true;
	} else {
		sb->len += (size_t)r;
	}
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long
b64_encode(const void *src, size_t n, char *dst, size_t dstcap)
{
	const unsigned char *s = src;
	size_t need = (n + 2) / 3 * 4;
	if (need + 1 > dstcap)
		return -1;
	char *o = dst;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
		    s[i + 2];
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		*o++ = b64chars[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (long)(o - dst);
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
b64_decode(const char *src, size_t n, void *dst, size_t dstcap)
{
	unsigned char *o = dst;
	size_t out = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t pad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)		/* data after padding */
			return -1;
		int v = b64val(c);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (out >= dstcap)
				return -1;
			o[out++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* 6 leftover bits cannot encode a byte; padding must fit. */
	if (bits >= 6 || pad > 2 || (pad > 0 && (n % 4) != 0))
		return -1;
	return (long)out;
}

/* Length of a valid UTF-8 sequence at p (max n bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Printable ASCII: shown as it is.  The backslash too: IMAP flags
 * (\Seen) must stay readable, at the price of "\r" in text looking like
 * an escaped CR. */
static const bool plain_byte[256] = {
	[0x20] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

static void
show_any(struct sbuf *sb, const char *s, size_t n, bool keep_nl)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n && !sb->truncated) {
		size_t run = i;
		/* eight bytes at a time while all are in 0x20..0x7e (the
		 * usual case: a line of text) */
		while (run + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + run, 8);
			uint64_t lo = (w - 0x2020202020202020ULL) & ~w;
			uint64_t hi = (w + 0x0101010101010101ULL) | w;
			if ((lo | hi) & 0x8080808080808080ULL)
				break;
			run += 8;
		}
		while (run < n && plain_byte[p[run]])
			run++;
		if (run > i) {
			sbuf_add(sb, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		uint32_t cp;
		size_t ul;
		if (c == '\n' && keep_nl) {
			sbuf_add(sb, "\n", 1);
			i++;
			continue;
		}
		switch (c) {
		case '\0': sbuf_add(sb, "\\0", 2); i++; continue;
		case '\r': sbuf_add(sb, "\\r", 2); i++; continue;
		case '\n': sbuf_add(sb, "\\n", 2); i++; continue;
		case '\t': sbuf_add(sb, "\\t", 2); i++; continue;
		case 0x1b: sbuf_add(sb, "\\e", 2); i++; continue;
		default: break;
		}
		if (c >= 0x80 && (ul = utf8_len(p + i, n - i, &cp)) > 0) {
			/* C1 controls and bidi/format characters: every
			 * byte escaped, so the escape shows what was sent */
			bool bad = (cp >= 0x80 && cp <= 0x9f) ||
			    show_is_bidi(cp);
			if (!bad)
				sbuf_add(sb, s + i, ul);
			else
				for (size_t k = 0; k < ul; k++)
					sbuf_printf(sb, "\\x%02X", p[i + k]);
			i += ul;
			continue;
		}
		sbuf_printf(sb, "\\x%02X", c);
		i++;
	}
}

void
show_bytes(struct sbuf *sb, const char *s, size_t n)
{
	show_any(sb, s, n, false);
}

void
show_text(struct sbuf *sb, const char *s, size_t n)
{
	show_any(sb, s, n, true);
}

/* See util.h. */
bool
show_is_bidi(uint32_t cp)
{
	return cp == 0x061c ||			/* ARABIC LETTER MARK */
	    cp == 0x200e || cp == 0x200f ||	/* LRM, RLM */
	    cp == 0x2028 || cp == 0x2029 ||	/* line/paragraph sep. */
	    (cp >= 0x202a && cp <= 0x202e) ||	/* LRE RLE PDF LRO RLO */
	    (cp >= 0x2066 && cp <= 0x2069) ||	/* LRI RLI FSI PDI */
	    cp == 0xfeff;			/* BOM, zero-width no-break */
}

/* See util.h. */
size_t
show_fputs(FILE *f, const char *s)
{
	char buf[1024 * 4 + 16];
	size_t total = 0, n = strlen(s);
	/* pieces end at a line end or a whole character, so no escape
	 * and no UTF-8 sequence is cut in two */
	while (n > 0) {
		size_t k = n < 1024 ? n : 1024;
		while (k < n && k > 1020 &&
		    ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		struct sbuf sb;
		sbuf_init(&sb, buf, sizeof(buf));
		show_text(&sb, s, k);
		fwrite(sb.buf, 1, sb.len, f);
		total += sb.len;
		s += k;
		n -= k;
	}
	return total;
}

void
json_escape(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n && !sb->truncated; ) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t ul;
		switch (c) {
		case '"': sbuf_add(sb, "\\\"", 2); i++; continue;
		case '\\': sbuf_add(sb, "\\\\", 2); i++; continue;
		case '\n': sbuf_add(sb, "\\n", 2); i++; continue;
		case '\r': sbuf_add(sb, "\\r", 2); i++; continue;
		case '\t': sbuf_add(sb, "\\t", 2); i++; continue;
		default: break;
		}
		if (c >= 0x20 && c < 0x7f) {
			sbuf_add(sb, s + i, 1);
			i++;
		} else if (c >= 0x80 &&
		    (ul = utf8_len(p + i, n - i, &cp)) > 0) {
			sbuf_add(sb, s + i, ul);
			i += ul;
		} else {
			/* a control byte, or a byte that is not valid UTF-8:
			 * \u00XX of the byte itself (docs/json.md) */
			sbuf_printf(sb, "\\u%04x", c);
			i++;
		}
	}
}

long
util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool
word_is(const char *line, size_t n, const char *w)
{
	size_t wl = strlen(w);
	if (n < wl || strncasecmp(line, w, wl) != 0)
		return false;
	return n == wl || line[wl] == ' ';
}

const char *
next_word(const char *line, size_t n, size_t *rest_len)
{
	size_t i = 0;
	while (i < n && line[i] != ' ')
		i++;
	while (i < n && line[i] == ' ')
		i++;
	*rest_len = n - i;
	return line + i;
}

/* The text of sample between the digits "from" and the digits "to"
 * (both found in order), at most cap-1 bytes; "" if not found. */
static void
sample_part(const char *sample, const char *from, const char *to,
    char *out, size_t cap)
{
	out[0] = '\0';
	const char *a = strstr(sample, from);
	if (!a)
		return;
	a += strlen(from);
	const char *b = strstr(a, to);
	if (!b || (size_t)(b - a) >= cap)
		return;
	memcpy(out, a, (size_t)(b - a));
	out[b - a] = '\0';
}

char *
num_fmt_in(char *buf, size_t cap, unsigned long long v, bool tenths,
    const char *sample)
{
	char thou[8], dec[8], digits[32];
	sample_part(sample, "1", "234", thou, sizeof(thou));
	sample_part(sample, "567", "8", dec, sizeof(dec));
	if (!dec[0])
		snprintf(dec, sizeof(dec), ".");
	unsigned long long whole = tenths ? v / 10 : v;
	int nd = snprintf(digits, sizeof(digits), "%llu", whole);
	struct sbuf sb;
	sbuf_init(&sb, buf, cap);
	for (int i = 0; i < nd; i++) {
		if (i > 0 && nd >= 5 && (nd - i) % 3 == 0)
			sbuf_puts(&sb, thou);
		sbuf_add(&sb, digits + i, 1);
	}
	if (tenths) {
		sbuf_puts(&sb, dec);
		sbuf_printf(&sb, "%u", (unsigned)(v % 10));
	}
	return buf;
}

/* TRANSLATORS: not a message: this number as your language writes
 * numbers (German "1.234.567,8"); mailsh takes its thousands separator
 * and decimal mark from it. */
#define NUM_SAMPLE N_("1234567.8")

char *
num_fmt(char *buf, size_t cap, unsigned long long v)
{
	return num_fmt_in(buf, cap, v, false, _(NUM_SAMPLE));
}

char *
num_fmt1(char *buf, size_t cap, double x)
{
	if (!(x >= 0))
		x = 0;
	if (x > 1e17)
		x = 1e17;
	return num_fmt_in(buf, cap, (unsigned long long)(x * 10 + 0.5), true,
	    _(NUM_SAMPLE));
}

/* See util.h. */
int
util_open_private(const char *path, bool truncate, unsigned *mode)
{
	/* O_NONBLOCK: a FIFO must not block the open (it is refused) */
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK | (truncate ? 0 : O_APPEND), 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (fcntl(fd, F_SETFL, truncate ? 0 : O_APPEND) < 0)
		e = errno;
	else if (truncate && ftruncate(fd, 0) < 0)
		e = errno;
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	*mode = (unsigned)(st.st_mode & 07777);
	return fd;
}
