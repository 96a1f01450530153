/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labmitm.h: `mailsh lab --mitm MODES`: the lab starts the man in the
 * middle (`mailsh mitm`) in front of one of its own ports.
 */
#ifndef MAILSH_LABMITM_H
#define MAILSH_LABMITM_H

#include <sys/types.h>

/*
 * Starts `mailsh mitm --mode MODES` listening on listen:port (port 0: a
 * free one) and relaying to the lab port target, protocol proto; waits
 * until it listens.  Its output goes to the lab's stdout.  Returns the
 * child's pid and sets *port, or -1 after saying why on stderr.
 */
pid_t labmitm_start(const char *state, const char *listen, int port,
    int target, const char *proto, const char *modes, int *out_port);

/* Stops it (SIGTERM, then SIGKILL after 2 s) and waits for it. */
void labmitm_stop(pid_t pid);

#endif
