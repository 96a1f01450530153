/*
 * labrun.h: a lab (and optionally a MITM proxy) started for this
 * process, on free loopback ports.
 */
#ifndef MAILSH_LABRUN_H
#define MAILSH_LABRUN_H

#include <limits.h>
#include <sys/types.h>

#define LABRUN_PORTS_MAX 16

struct labrun {
	char state[PATH_MAX - 64];	/* temp state dir, "" if none */
	pid_t lab_pid, mitm_pid;
	int mitm_fd;			/* the MITM's output, -1 if none */
	struct { char name[32]; int port; } ports[LABRUN_PORTS_MAX];
	int nports;
	int mitm_port;
};

/*
 * Starts `mailsh lab --state TMP --port-base 0 LAB_ARGS` and waits for its
 * ports file; with mitm_mode, also `mailsh mitm` in front of the lab port
 * named mitm_to.  who names the caller in errors.  Returns MS_OK or an
 * ms_err after saying why (with the lab's log); call labrun_stop anyway.
 */
int labrun_start(struct labrun *r, const char *lab_args,
    const char *mitm_mode, const char *mitm_to, const char *who);

/* The port of "smtp", "submission", ..., "mitm"; 0 if unknown. */
int labrun_port(const struct labrun *r, const char *name);

/* Stops the children, waits for them, removes the state directory. */
void labrun_stop(struct labrun *r);

/* Splits s at blanks into args[from..max); returns the new count. */
int labrun_split(char *s, char **args, int from, int max);

#endif
