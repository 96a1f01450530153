/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapmatch.h: the LIST / LSUB mailbox pattern (RFC 3501 6.3.8) in
 * linear time.  "*" matches any run of characters, "%" any run without
 * the hierarchy delimiter "/".  No recursion, no backtracking: a
 * dynamic programme over pattern x name with one row of memory, so the
 * work is at most IMAPMATCH_PAT_MAX x IMAPMATCH_NAME_MAX steps whatever
 * the pattern (a run of wildcards counts as one).
 */
#ifndef MAILSH_LAB_IMAPMATCH_H
#define MAILSH_LAB_IMAPMATCH_H

#include <stdbool.h>

#define IMAPMATCH_PAT_MAX	255	/* reference + pattern, bytes */
#define IMAPMATCH_NAME_MAX	255	/* longer names never match */
#define IMAPMATCH_DELIM		'/'

/*
 * Does name match pat?  icase: letters compare without case (the name
 * INBOX, RFC 3501 5.1).  A pattern longer than IMAPMATCH_PAT_MAX or a
 * name longer than IMAPMATCH_NAME_MAX never matches (check the pattern
 * first with imapmatch_pat_ok to say why).
 */
bool imapmatch(const char *pat, const char *name, bool icase);

/* Is pat short enough to be matched (at most IMAPMATCH_PAT_MAX)? */
bool imapmatch_pat_ok(const char *pat);

#endif
