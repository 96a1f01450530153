/*
 * child.h: this binary started again as a child process (the lab, the
 * MITM proxy), and stopped.
 */
#ifndef MAILSH_CHILD_H
#define MAILSH_CHILD_H

#include <sys/types.h>

/*
 * Starts /proc/self/exe with args (args[0] is set here) and stdin from
 * /dev/null; stdout and stderr go to outfd, or stay as they are when
 * outfd is -1.  Returns the pid, or -1 with errno set.
 */
pid_t child_spawn_self(char **args, int outfd);

/* SIGTERM, up to 2 s to go, then SIGKILL; always waits for it. */
void child_stop(pid_t pid);

#endif
