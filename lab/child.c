/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * child.c: posix_spawn of the running binary in a session of its own,
 * the child's watch on its parent, and a bounded stop.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../build/paths.h"	/* MAILSH_BINDIR, written by make from PREFIX */

extern char **environ;

/* Tells the child who started it (and that it should watch that pid). */
#define PARENT_ENV "MAILSH_PARENT_PID"

/* environ without PARENT_ENV, plus PARENT_ENV=<our pid>; NULL if out of
 * memory.  One malloc'd block: free() it. */
static char **
child_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	size_t envlen = strlen(PARENT_ENV);
	char **env = malloc((n + 2) * sizeof(*env) + 64);
	if (!env)
		return NULL;
	char *own = (char *)(env + n + 2);
	snprintf(own, 64, "%s=%ld", PARENT_ENV, (long)getpid());
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!(strncmp(environ[i], PARENT_ENV, envlen) == 0 &&
		    environ[i][envlen] == '='))
			env[k++] = environ[i];
	env[k++] = own;
	env[k] = NULL;
	return env;
}

const char *
child_self_exe(void)
{
	static char self[PATH_MAX];
	static bool done;
	if (done)
		return self[0] ? self : NULL;
	done = true;
	/*
	 * AT_EXECFN is the path execve() was given (a shell passes the
	 * path it found in PATH), kept by the kernel in the auxiliary
	 * vector: no /proc needed.  A relative one is resolved against the
	 * working directory, which mailsh never changes.
	 */
	const char *fn = (const char *)getauxval(AT_EXECFN);
	if (fn && *fn && realpath(fn, self))
		return self;
	int len = snprintf(self, sizeof(self), "%s/mailsh", MAILSH_BINDIR);
	if (len > 0 && (size_t)len < sizeof(self) && access(self, X_OK) == 0)
		return self;
	self[0] = '\0';
	return NULL;
}

pid_t
child_spawn_self(char **args, int outfd)
{
	const char *self = child_self_exe();
	if (!self) {
		errno = ENOENT;
		return -1;
	}
	char exe[PATH_MAX];
	snprintf(exe, sizeof(exe), "%s", self);
	args[0] = exe;
	char **env = child_env();
	if (!env) {
		errno = ENOMEM;
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (outfd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, outfd, 1);
		posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	}
	/*
	 * A new session: no controlling terminal, so Ctrl-C (SIGINT),
	 * Ctrl-\ (SIGQUIT), Ctrl-Z (SIGTSTP) and the terminal's hang-up
	 * reach only the shell in the foreground, never the lab.  Signals
	 * the parent ignores or blocks are not passed on either.
	 */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTSTP, SIGHUP,
	    SIGTERM, SIGTTIN, SIGTTOU, SIGCHLD };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&def, sigs[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int r = posix_spawn(&pid, exe, &fa, &at, args, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (r != 0) {
		errno = r;
		return -1;
	}
	return pid;
}

void
child_watch_parent(void)
{
	const char *v = getenv(PARENT_ENV);
	if (!v)
		return;
	char *end;
	long ppid = strtol(v, &end, 10);
	bool ok = *v && !*end && ppid > 1;
	unsetenv(PARENT_ENV);	/* not for this process's own children */
	if (!ok)
		return;
	/* the kernel sends SIGTERM when the parent ends; the lab and the
	 * MITM stop on it as they do on an ordinary SIGTERM */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != (pid_t)ppid)
		_exit(0);	/* the parent ended before prctl: nobody's lab */
}

bool
child_reap(pid_t pid, int *status)
{
	int st;
	if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
		return false;
	if (status)
		*status = st;
	return true;
}

void
child_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		pid_t w = waitpid(pid, NULL, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD))
			return;
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
