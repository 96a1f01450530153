/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_b64.c: libFuzzer target for protocols/util.c: base64 and the
 * helpers that make received bytes safe to show.
 *
 * Checked besides the sanitizers:
 *  - b64_decode of arbitrary input: into a buffer of exactly the size
 *    it needs (heap, so an overrun is caught), one byte smaller (must
 *    fail), and it succeeds exactly when the input is alphabet
 *    characters followed by 0-2 '=' that make whole 4-character groups
 *    (data length mod 4 never 1), giving 3/4 of the data characters;
 *  - encode then decode gives the input back, padded and unpadded;
 *    decoding again what was decoded and re-encoded gives the same;
 *  - show_bytes puts no raw control byte (C0, DEL) out and stays
 *    inside its buffer; json_escape likewise with no raw C0 byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/util.h"

static int
b64ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The decoded length if s should decode, else -1. */
static long
expected(const uint8_t *s, size_t n)
{
	size_t k = 0;
	while (k < n && b64ok(s[k]))
		k++;
	size_t p = 0;
	while (k + p < n && s[k + p] == '=')
		p++;
	if (k + p != n || k % 4 == 1 || p > 2 || (p > 0 && n % 4 != 0))
		return -1;
	return (long)(k * 6 / 8);
}

static void
check_decode(const uint8_t *data, size_t size)
{
	long want = expected(data, size);
	/* invalid input gets plenty of room: it must fail for itself */
	size_t cap = want >= 0 ? (size_t)want : size;
	unsigned char *out = malloc(cap ? cap : 1);
	if (!out)
		return;
	long got = b64_decode((const char *)data, size, out, cap);
	if (got != want)
		abort();
	if (want > 0) {
		/* one byte less is too small */
		if (b64_decode((const char *)data, size, out, cap - 1) != -1)
			abort();
		/* re-encode, decode again: same bytes */
		size_t ecap = (cap + 2) / 3 * 4 + 1;
		char *enc = malloc(ecap);
		unsigned char *back = malloc(cap);
		if (enc && back) {
			long e = b64_encode(out, cap, enc, ecap);
			if (e < 0 || (size_t)e + 1 != ecap)
				abort();
			if (b64_decode(enc, (size_t)e, back, cap) != want ||
			    memcmp(out, back, cap) != 0)
				abort();
		}
		free(enc);
		free(back);
	}
	free(out);
}

static void
check_round_trip(const uint8_t *data, size_t size)
{
	size_t ecap = (size + 2) / 3 * 4 + 1;
	char *enc = malloc(ecap);
	unsigned char *back = malloc(size ? size : 1);
	if (!enc || !back)
		goto out;
	if (b64_encode(data, size, enc, ecap - 1) != -1)
		abort();	/* no room for the NUL */
	long e = b64_encode(data, size, enc, ecap);
	if (e < 0 || (size_t)e != ecap - 1 || enc[e] != '\0')
		abort();
	if (b64_decode(enc, (size_t)e, back, size) != (long)size ||
	    memcmp(data, back, size) != 0)
		abort();
	size_t u = (size_t)e;
	while (u > 0 && enc[u - 1] == '=')
		u--;
	if (b64_decode(enc, u, back, size) != (long)size ||
	    memcmp(data, back, size) != 0)
		abort();
out:
	free(enc);
	free(back);
}

static void
check_show(const uint8_t *data, size_t size)
{
	/* a small buffer (cut short) and one big enough for anything */
	size_t caps[2] = { 1 + (size ? data[0] % 32 : 0), size * 4 + 1 };
	for (int i = 0; i < 2; i++) {
		char *buf = malloc(caps[i]);
		if (!buf)
			return;
		struct sbuf sb;
		sbuf_init(&sb, buf, caps[i]);
		show_bytes(&sb, (const char *)data, size);
		if (sb.len >= caps[i] || buf[sb.len] != '\0' ||
		    strlen(buf) != sb.len)
			abort();
		if (i == 1 && sb.truncated)
			abort();
		for (size_t k = 0; k < sb.len; k++) {
			unsigned char c = (unsigned char)buf[k];
			if (c < 0x20 || c == 0x7f)
				abort();
		}
		free(buf);
	}
	/* json_escape takes a C string: up to the first NUL */
	char *s = malloc(size + 1);
	size_t jcap = size * 6 + 1;
	char *j = malloc(jcap);
	if (s && j) {
		memcpy(s, data, size);
		s[size] = '\0';
		struct sbuf sb;
		sbuf_init(&sb, j, jcap);
		json_escape(&sb, s);
		if (sb.truncated || strlen(j) != sb.len)
			abort();
		for (size_t k = 0; k < sb.len; k++)
			if ((unsigned char)j[k] < 0x20)
				abort();
	}
	free(s);
	free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	check_round_trip(data, size);
	check_show(data, size);
	return 0;
}
