/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * datadir.h: where mailsh finds its data (lessons, message catalogues).
 *
 * A binary that runs from the source tree it was built in uses the
 * tree's lessons/ and build/locale/; any other binary uses the
 * directories compiled in from PREFIX (build/paths.h).  The tree is
 * recognised by build/paths.h next to the binary, a file only `make`
 * writes, and never by /proc.
 */
#ifndef MAILSH_DATADIR_H
#define MAILSH_DATADIR_H

/* The source tree the binary runs from, or NULL when it is installed. */
const char *datadir_tree(void);

/* The shipped lessons: TREE/lessons or PREFIX/share/mailsh/lessons. */
const char *datadir_lessons(void);

/* The catalogues: TREE/build/locale or PREFIX/share/locale. */
const char *datadir_locale(void);

#endif
