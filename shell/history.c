/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * history.c: the line history, kept in $XDG_STATE_HOME/mailsh/history
 * (default ~/.local/state/mailsh/history), mode 0600.  Callers never
 * pass lines that carry secrets (see pp_sinfo.secret).
 */
#include "shell.h"
#include "lineedit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HISTORY_MAX 1000

static char path[4096];

/* mkdir -p for the directories above path, mode 0700. */
static bool
make_dirs(char *p)
{
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		int r = mkdir(p, 0700);
		*s = '/';
		if (r != 0 && errno != EEXIST)
			return false;
	}
	return true;
}

bool
state_path(const char *file, char *buf, size_t cap)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (state && *state == '/')
		n = snprintf(buf, cap, "%s/mailsh/%s", state, file);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.local/state/mailsh/%s", home,
		    file);
	else
		n = -1;
	if (n < 0 || (size_t)n >= cap || !make_dirs(buf)) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

void
history_setup(void)
{
	if (!state_path("history", path, sizeof(path)))
		return;
	using_history();
	stifle_history(HISTORY_MAX);
	read_history(path);
}

void
history_remember(const char *line)
{
	/* no blank entries: nothing to recall in them */
	if (line[strspn(line, " \t\r")])
		add_history(line);
}

void
history_save(void)
{
	if (!path[0])
		return;
	mode_t old = umask(077);
	write_history(path);
	umask(old);
	chmod(path, 0600);
}
