/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * child.h: this binary started again as a child process (the lab, the
 * MITM proxy), and stopped.
 *
 * A child runs in a session of its own: the terminal's Ctrl-C, Ctrl-\,
 * Ctrl-Z and hang-up reach the parent only, which decides when the child
 * stops.  The child also stops (SIGTERM) when the parent dies without
 * stopping it, so a crashed or killed shell leaves no lab behind.
 */
#ifndef MAILSH_CHILD_H
#define MAILSH_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The running binary's own path, resolved (symbolic links followed)
 * from the path it was started by, without /proc; the installed
 * BINDIR/mailsh if that fails, NULL if neither exists.  Worked out on
 * the first call and kept.
 */
const char *child_self_exe(void);

/*
 * Starts this binary (child_self_exe) again with args (args[0] is set here), stdin from
 * /dev/null, in a new session, with default signal dispositions and an
 * empty signal mask; stdout and stderr go to outfd, or stay as they are
 * when outfd is -1.  Returns the pid, or -1 with errno set.
 */
pid_t child_spawn_self(char **args, int outfd);

/*
 * In the child, first thing in main(): if child_spawn_self started this
 * process, asks the kernel for SIGTERM when the parent dies, and exits
 * at once when the parent is already gone.  Does nothing otherwise.
 */
void child_watch_parent(void);

/* Has the child ended?  Reaps it if so (then the pid is no longer
 * valid).  status gets the wait status when not NULL. */
bool child_reap(pid_t pid, int *status);

/* SIGTERM, up to 2 s to go, then SIGKILL; always waits for it. */
void child_stop(pid_t pid);

#endif
