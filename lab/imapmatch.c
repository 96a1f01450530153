/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapmatch.c: LIST / LSUB patterns (see imapmatch.h).
 *
 * ok[j] says whether the pattern read so far matches the first j bytes
 * of the name.  Each pattern byte updates the row in one pass:
 *   "*"     ok[j] |= ok[j-1]                       (ascending)
 *   "%"     ok[j] |= ok[j-1] && name[j-1] != '/'   (ascending)
 *   literal ok[j]  = ok[j-1] && name[j-1] == c     (descending)
 * A run of wildcards collapses to one ("*" if it holds a "*"), and a
 * pattern with more literals than the name has bytes fails at once.
 * The answer is ok[len].  Time O(|pat| x |name|), memory O(|name|).
 */
#include "imapmatch.h"

#include <ctype.h>
#include <string.h>

bool
imapmatch_pat_ok(const char *pat)
{
	return strnlen(pat, IMAPMATCH_PAT_MAX + 1) <= IMAPMATCH_PAT_MAX;
}

static bool
imapmatch_eq(char a, char b, bool icase)
{
	if (icase)
		return toupper((unsigned char)a) == toupper((unsigned char)b);
	return a == b;
}

bool
imapmatch(const char *pat, const char *name, bool icase)
{
	size_t pl = strnlen(pat, IMAPMATCH_PAT_MAX + 1);
	size_t nl = strnlen(name, IMAPMATCH_NAME_MAX + 1);
	if (pl > IMAPMATCH_PAT_MAX || nl > IMAPMATCH_NAME_MAX)
		return false;
	size_t lits = 0;
	for (size_t k = 0; k < pl; k++)
		lits += pat[k] != '*' && pat[k] != '%';
	if (lits > nl)
		return false;
	bool ok[IMAPMATCH_NAME_MAX + 1];
	memset(ok, 0, sizeof(ok));
	ok[0] = true;
	for (size_t k = 0; k < pl; ) {
		if (pat[k] == '*' || pat[k] == '%') {
			bool star = false;
			while (k < pl && (pat[k] == '*' || pat[k] == '%'))
				star |= pat[k++] == '*';
			for (size_t j = 1; j <= nl; j++)
				ok[j] = ok[j] || (ok[j - 1] && (star ||
				    name[j - 1] != IMAPMATCH_DELIM));
			continue;
		}
		bool any = false;
		for (size_t j = nl; j > 0; j--) {
			ok[j] = ok[j - 1] && imapmatch_eq(pat[k], name[j - 1],
			    icase);
			any |= ok[j];
		}
		ok[0] = false;
		if (!any)
			return false;
		k++;
	}
	return ok[nl];
}
