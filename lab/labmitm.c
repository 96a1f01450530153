/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labmitm.c: runs `mailsh mitm` as a child of the lab: the same binary
 * (child_self_exe), spawned with posix_spawn, reporting its port through
 * a port file in the state directory.
 */
#include "../protocols/i18n.h"
#include "labmitm.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool
is_loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	    strcmp(a, "localhost") == 0;
}

pid_t
labmitm_start(const char *state, const char *listen, int port, int target,
    const char *proto, const char *modes, int *out_port)
{
	char pfile[4200], lis[300], to[300];
	snprintf(pfile, sizeof(pfile), "%s/mitm.port", state);
	unlink(pfile);
	bool v6 = strchr(listen, ':') != NULL;
	snprintf(lis, sizeof(lis), v6 ? "[%s]:%d" : "%s:%d", listen, port);
	/* the lab listens on listen; an any-address reaches it on 127.0.0.1 */
	const char *host = strcmp(listen, "0.0.0.0") == 0 ||
	    strcmp(listen, "::") == 0 ? "127.0.0.1" : listen;
	snprintf(to, sizeof(to), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	    host, target);
	char *args[14] = { NULL, "mitm", "--listen", lis, "--to", to,
	    "--mode", (char *)modes, "--proto", (char *)proto,
	    "--port-file", pfile, NULL, NULL };
	if (!is_loopback(listen))	/* the lab was told to face a room */
		args[12] = "--allow-nonlocal";
	pid_t pid = child_spawn_self(args, -1);
	if (pid < 0) {
		fprintf(stderr, _("mailsh lab: --mitm: cannot start: %s\n"),
		    strerror(errno));
		return -1;
	}
	for (int i = 0; i < 500; i++) {		/* up to 10 s */
		struct stat st;
		FILE *f;
		if (stat(pfile, &st) == 0 && st.st_size > 0 &&
		    (f = fopen(pfile, "r"))) {
			int p = 0;
			bool ok = fscanf(f, "%d", &p) == 1 && p > 0;
			fclose(f);
			if (ok) {
				*out_port = p;
				return pid;
			}
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, _("mailsh lab: --mitm: the proxy "
			    "stopped at once (see its message above)\n"));
			return -1;
		}
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, _("mailsh lab: --mitm: the proxy did not start\n"));
	labmitm_stop(pid);
	return -1;
}

void
labmitm_stop(pid_t pid)
{
	child_stop(pid);
}
