/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_imapmatch.c: unit tests for the LIST / LSUB pattern matcher
 * (lab/imapmatch.c, cmocka).
 *
 * Test plan:
 *   match-1  RFC 3501 6.3.8: "*" crosses the delimiter "/", "%" does
 *            not; literals exact; INBOX without case only when asked
 *   match-2  the patterns that backtracked exponentially in the old
 *            recursive matcher (100 "a" vs %%%%%%%b, 106 "%" + "Z",
 *            "*a" x 50 + "b", mixed runs) give the right answer; each
 *            is a bounded number of row passes, so the whole test ends
 *            at once (the old matcher took minutes on the first)
 *   match-3  the length caps: a pattern of IMAPMATCH_PAT_MAX bytes is
 *            matched, one byte more never matches and pat_ok says no;
 *            names over IMAPMATCH_NAME_MAX never match
 *   match-4  differential: every pattern of up to 5 bytes over
 *            {a b / * %} against every name of up to 5 bytes over
 *            {a b /} agrees with a plain recursive reference matcher
 *
 * The binary exits non-zero when a test fails (cmocka's summary).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../lab/imapmatch.h"

static void
test_semantics(void **state)
{
	(void)state;
	assert_true(imapmatch("*", "", false));
	assert_true(imapmatch("%", "", false));
	assert_true(imapmatch("", "", false));
	assert_false(imapmatch("", "a", false));
	assert_true(imapmatch("*", "a/b/c", false));
	assert_false(imapmatch("%", "a/b", false));
	assert_true(imapmatch("%/%", "a/b", false));
	assert_true(imapmatch("a/*", "a/b/c", false));
	assert_false(imapmatch("a/%", "a/b/c", false));
	assert_true(imapmatch("a/%/c", "a/b/c", false));
	assert_true(imapmatch("%*", "a/b", false));
	assert_true(imapmatch("*%", "a/b", false));
	assert_false(imapmatch("%%%", "a/b", false));
	assert_true(imapmatch("Sent", "Sent", false));
	assert_false(imapmatch("sent", "Sent", false));
	assert_false(imapmatch("Sen", "Sent", false));
	assert_false(imapmatch("Sentt", "Sent", false));
	assert_true(imapmatch("S%t", "Sent", false));
	assert_true(imapmatch("inbox", "INBOX", true));
	assert_true(imapmatch("InB*", "INBOX", true));
	assert_true(imapmatch("i%x", "INBOX", true));
	assert_false(imapmatch("inbox", "INBOX", false));
	assert_false(imapmatch("INBOX/%", "INBOX", true));
}

static void
test_exponential(void **state)
{
	(void)state;
	char name[IMAPMATCH_NAME_MAX + 1], pat[IMAPMATCH_PAT_MAX + 1];
	memset(name, 'a', 100);
	name[100] = '\0';
	assert_false(imapmatch("%%%%%%%b", name, false));
	assert_true(imapmatch("%%%%%%%a", name, false));
	assert_false(imapmatch("*%*%*%*%*%*%*%b", name, false));
	memset(pat, '%', 106);
	strcpy(pat + 106, "Z");
	assert_false(imapmatch(pat, name, false));
	assert_false(imapmatch(pat, "INBOX", true));
	pat[106] = '\0';
	assert_true(imapmatch(pat, name, false));
	/* "*a" x 50 then "b": many literals, no b at the end */
	for (int k = 0; k < 50; k++)
		memcpy(pat + 2 * k, "*a", 2);
	strcpy(pat + 100, "b");
	assert_false(imapmatch(pat, name, false));
	pat[100] = '\0';
	assert_true(imapmatch(pat, name, false));
	/* 255 a: longer than any name of 100 */
	memset(pat, 'a', IMAPMATCH_PAT_MAX);
	pat[IMAPMATCH_PAT_MAX] = '\0';
	assert_false(imapmatch(pat, name, false));
	/* a name of 255 a against "%a" x 127 + "%" */
	memset(name, 'a', IMAPMATCH_NAME_MAX);
	name[IMAPMATCH_NAME_MAX] = '\0';
	for (int k = 0; k < 127; k++)
		memcpy(pat + 2 * k, "%a", 2);
	strcpy(pat + 254, "%");
	assert_true(imapmatch(pat, name, false));
	pat[254] = 'b';
	assert_false(imapmatch(pat, name, false));
}

static void
test_caps(void **state)
{
	(void)state;
	char pat[IMAPMATCH_PAT_MAX + 2], name[IMAPMATCH_NAME_MAX + 2];
	memset(pat, '*', sizeof(pat) - 1);
	pat[IMAPMATCH_PAT_MAX] = '\0';
	assert_true(imapmatch_pat_ok(pat));
	assert_true(imapmatch(pat, "x", false));
	pat[IMAPMATCH_PAT_MAX] = '*';
	pat[IMAPMATCH_PAT_MAX + 1] = '\0';
	assert_false(imapmatch_pat_ok(pat));
	assert_false(imapmatch(pat, "x", false));
	memset(name, 'n', sizeof(name) - 1);
	name[IMAPMATCH_NAME_MAX] = '\0';
	assert_true(imapmatch("*", name, false));
	name[IMAPMATCH_NAME_MAX] = 'n';
	name[IMAPMATCH_NAME_MAX + 1] = '\0';
	assert_false(imapmatch("*", name, false));
}

/* The obvious recursive matcher: exponential, fine for 5 bytes. */
static bool
ref_match(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*' || *p == '%') {
		for (const char *t = s; ; t++) {
			if (ref_match(p + 1, t))
				return true;
			if (*t == '\0' || (*p == '%' && *t == '/'))
				return false;
		}
	}
	return *s == *p && ref_match(p + 1, s + 1);
}

/* Every string of length up to max over alphabet al, in turn. */
static size_t
strings(const char *al, int max, char (*out)[8], size_t cap)
{
	size_t n = 0, na = strlen(al);
	out[n++][0] = '\0';
	for (size_t from = 0; from < n; from++) {
		size_t l = strlen(out[from]);
		if ((int)l == max)
			continue;
		for (size_t k = 0; k < na && n < cap; k++) {
			memcpy(out[n], out[from], l);
			out[n][l] = al[k];
			out[n][l + 1] = '\0';
			n++;
		}
	}
	return n;
}

static void
test_differential(void **state)
{
	(void)state;
	static char pats[4000][8], names[400][8];
	size_t np = strings("ab/*%", 5, pats, 4000);
	size_t nn = strings("ab/", 5, names, 400);
	assert_int_equal(np, 3906);
	assert_int_equal(nn, 364);
	size_t bad = 0;
	for (size_t a = 0; a < np; a++)
		for (size_t b = 0; b < nn; b++)
			if (imapmatch(pats[a], names[b], false) !=
			    ref_match(pats[a], names[b]) && bad++ < 5)
				print_error("differs: %s vs %s\n", pats[a],
				    names[b]);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_differential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
