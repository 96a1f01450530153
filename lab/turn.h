/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * turn.h: timing of the lab's event-loop turns, for finding stalls
 * (issue 12).  Off unless the environment sets MAILSH_LAB_SLOW_MS=N:
 * then every turn of loop.c that takes N ms or more of wall time is
 * logged on stderr with its CPU time, the time the lab waited for a
 * CPU (the kernel's run-queue delay: starvation, not the lab's fault),
 * its context switches, and the slowest step it did (accept, TLS
 * handshake, a command line, refill, wake, worker results), and a summary of all turns
 * is printed when the loop ends.  One turn = from ppoll()'s return to
 * the next ppoll().
 */
#ifndef MAILSH_LAB_TURN_H
#define MAILSH_LAB_TURN_H

#include <stdbool.h>
#include <stddef.h>

enum turn_kind {
	TURN_ACCEPT,	/* accept4 and the first handshake step */
	TURN_SERVICE,	/* a connection's read/handshake/lines/refill/flush */
	TURN_WAKE,	/* delivery: the wake hook of every session */
	TURN_FREE,	/* ending sessions: close, log, TLS shutdown */
	TURN_RESULTS,	/* results from worker threads (logins, commits) */
	TURN_KINDS
};

extern bool turn_on;	/* MAILSH_LAB_SLOW_MS is set */

/* Reads MAILSH_LAB_SLOW_MS. */
void turn_init(void);
/* A turn starts (ppoll returned). */
void turn_begin(void);
/* A step starts; returns its start time for turn_step_end. */
long turn_step_begin(void);
/* A step ended: kind, listener name, client address, what it was
 * (state or the command word). */
void turn_step_end(long t0, enum turn_kind kind, const char *lname,
    const char *addr, const char *what);
/* A line handed to a protocol: the command it names (from a fixed
 * list: never the line's own bytes) is reported by the next
 * turn_step_end. */
void turn_line(const char *line, size_t n);
/* The turn ends (about to call ppoll); nconns connections open. */
void turn_end(int nconns);
/* The loop ends: the summary line. */
void turn_summary(void);

#endif
