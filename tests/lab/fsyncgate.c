/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fsyncgate.c: an LD_PRELOAD shim for tests/lab/attack-fsync.sh.  While
 * the file named by MAILSH_TEST_FSYNC_GATE exists, fsync() first creates
 * GATE.entered, then waits until the gate file is removed (at most 20 s,
 * so a lab that waits on the loop still ends), then really syncs.  A
 * test closes the gate, starts a delivery, waits for GATE.entered, and
 * knows the lab is inside fsync: whatever it answers now, it answers
 * while a commit is held.  Nothing here depends on timing but the 20 s
 * safety valve.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void
gate(void)
{
	const char *g = getenv("MAILSH_TEST_FSYNC_GATE");
	if (!g || access(g, F_OK) != 0)
		return;
	char entered[4096];
	snprintf(entered, sizeof(entered), "%s.entered", g);
	int fd = open(entered, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 2000 && access(g, F_OK) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

int
fsync(int fd)
{
	gate();
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real ? real(fd) : -1;
}
