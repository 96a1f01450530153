/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * datadir.c: the source tree or the installed data directories (see
 * datadir.h).  The binary's own path comes from child_self_exe (the
 * path it was started by, no /proc).
 */
#include "datadir.h"
#include "../lab/child.h"
#include "../build/paths.h"	/* written by make from PREFIX */

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *
datadir_tree(void)
{
	static char dir[PATH_MAX];
	static bool done;
	if (done)
		return dir[0] ? dir : NULL;
	done = true;
	const char *self = child_self_exe();
	char *slash;
	if (!self || strlen(self) >= sizeof(dir))
		return NULL;
	memcpy(dir, self, strlen(self) + 1);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	char mark[PATH_MAX + 32];
	struct stat st;
	int len = snprintf(mark, sizeof(mark), "%s/build/paths.h", dir);
	if (len <= 0 || (size_t)len >= sizeof(mark) ||
	    stat(mark, &st) != 0 || !S_ISREG(st.st_mode))
		dir[0] = '\0';
	return dir[0] ? dir : NULL;
}

/* TREE/sub when running from the tree, else installed */
static const char *
pick(char *buf, size_t cap, const char *sub, const char *installed)
{
	const char *tree = datadir_tree();
	if (tree) {
		int len = snprintf(buf, cap, "%s/%s", tree, sub);
		if (len > 0 && (size_t)len < cap)
			return buf;
	}
	return installed;
}

const char *
datadir_lessons(void)
{
	static char buf[PATH_MAX];
	return pick(buf, sizeof(buf), "lessons", MAILSH_LESSONDIR);
}

const char *
datadir_locale(void)
{
	static char buf[PATH_MAX];
	return pick(buf, sizeof(buf), "build/locale", MAILSH_LOCALEDIR);
}
