/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labrun.h: a lab (and optionally a MITM proxy) started for this
 * process, on free loopback ports.
 */
#ifndef MAILSH_LABRUN_H
#define MAILSH_LABRUN_H

#include <limits.h>
#include <sys/types.h>

#define LABRUN_PORTS_MAX 16
#define LABRUN_MITM_MAX 4

struct labrun {
	char state[PATH_MAX - 64];	/* temp state dir, "" if none */
	pid_t lab_pid;
	pid_t mitm_pid[LABRUN_MITM_MAX];
	int mitm_port[LABRUN_MITM_MAX];
	char mitm_svc[LABRUN_MITM_MAX][16];	/* the lab port it fronts */
	int nmitm;
	int mitm_fd;			/* the MITMs' output, -1 if none */
	struct { char name[32]; int port; } ports[LABRUN_PORTS_MAX];
	int nports;
};

/*
 * Starts `mailsh lab --state TMP --port-base 0 LAB_ARGS` and waits for its
 * ports file; with mitm_mode, also `mailsh mitm` in front of each lab port
 * named in mitm_to (blank-separated, e.g. "submission imap").  who names the caller in errors.  Returns MS_OK or an
 * ms_err after saying why (with the lab's log); call labrun_stop anyway.
 */
int labrun_start(struct labrun *r, const char *lab_args,
    const char *mitm_mode, const char *mitm_to, const char *who);

/* The port of "smtp", "submission", ..., "mitm" (the first proxy),
 * "mitm-imap" (the proxy in front of imap); 0 if unknown. */
int labrun_port(const struct labrun *r, const char *name);

/*
 * Reaps a lab or MITM child of any running labrun that has ended (it
 * should not: Ctrl-C does not reach it), and says so with the lab's
 * log.  Cheap; the interactive loop calls it after each wake-up.
 */
void labrun_poll(void);

/* Stops the children, waits for them, removes the state directory.
 * Stopping twice is harmless. */
void labrun_stop(struct labrun *r);

/* Splits s at blanks into args[from..max); returns the new count. */
int labrun_split(char *s, char **args, int from, int max);

#endif
