/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * turn.c: timing of the lab's event-loop turns (see turn.h).
 *
 * Outside facts relied on (Linux):
 *  - /proc/thread-self/schedstat holds three numbers: nanoseconds run
 *    on a CPU, nanoseconds waited on a run queue, time slices
 *    (Documentation/scheduler/sched-stats.rst);
 *  - getrusage(RUSAGE_THREAD) counts voluntary switches (the thread
 *    blocked: a read from disk, fsync) and involuntary ones (it was
 *    preempted);
 *  - CLOCK_THREAD_CPUTIME_ID is this thread's CPU time.
 */
#include "turn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

bool turn_on;

static const char *const turn_kind_name[TURN_KINDS] = {
	"accept", "service", "wake", "free", "results",
};

static long turn_slow_us;	/* threshold */
static int turn_sched_fd = -1;

/* the current turn */
static long t_wall0, t_cpu0, t_wait0;
static long t_vol0, t_invol0;
static long t_kind_us[TURN_KINDS];
static int t_steps;
static long t_max_us;
static char t_max_what[160];
static char t_verb[32];

/* over the run */
static unsigned long s_turns, s_slow;
static long s_busy_us, s_max_us, s_slow_us, s_wait_us;
static char s_max_what[200];

static long
us_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

/* Microseconds this thread waited on a run queue so far (-1: unknown). */
static long
turn_waited_us(void)
{
	char buf[96];
	if (turn_sched_fd < 0)
		return -1;
	ssize_t r = pread(turn_sched_fd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	unsigned long long run, wait;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	return (long)(wait / 1000ULL);
}

void
turn_init(void)
{
	const char *v = getenv("MAILSH_LAB_SLOW_MS");
	turn_on = v && *v;
	if (!turn_on)
		return;
	turn_slow_us = strtol(v, NULL, 10) * 1000L;
	turn_sched_fd = open("/proc/thread-self/schedstat",
	    O_RDONLY | O_CLOEXEC);
	fprintf(stderr, "mailsh lab: MAILSH_LAB_SLOW_MS: logging turns of "
	    "%ld ms or more\n", turn_slow_us / 1000L);
}

void
turn_begin(void)
{
	struct rusage ru;
	t_wall0 = us_of(CLOCK_MONOTONIC);
	t_cpu0 = us_of(CLOCK_THREAD_CPUTIME_ID);
	t_wait0 = turn_waited_us();
	getrusage(RUSAGE_THREAD, &ru);
	t_vol0 = ru.ru_nvcsw;
	t_invol0 = ru.ru_nivcsw;
	memset(t_kind_us, 0, sizeof(t_kind_us));
	t_steps = 0;
	t_max_us = -1;
	t_max_what[0] = '\0';
	t_verb[0] = '\0';
}

long
turn_step_begin(void)
{
	t_verb[0] = '\0';
	return us_of(CLOCK_MONOTONIC);
}

void
turn_step_end(long t0, enum turn_kind kind, const char *lname,
    const char *addr, const char *what)
{
	long d = us_of(CLOCK_MONOTONIC) - t0;
	t_kind_us[kind] += d;
	t_steps++;
	if (d > t_max_us) {
		t_max_us = d;
		snprintf(t_max_what, sizeof(t_max_what), "%s %s %s %s%s%s",
		    turn_kind_name[kind], lname ? lname : "-",
		    addr ? addr : "-", what ? what : "",
		    t_verb[0] ? " " : "", t_verb);
	}
}

/* The commands of SMTP, POP3 and IMAP the lab knows: a line is
 * reported by the one it names, never by its own bytes (a password, a
 * message line). */
static const char *const turn_verbs[] = {
	"APPEND", "APOP", "AUTH", "AUTHENTICATE", "CAPA", "CAPABILITY",
	"CHECK", "CLOSE", "COPY", "CREATE", "DATA", "DELE", "DELETE", "DONE",
	"EHLO", "ENABLE", "EXAMINE", "EXPUNGE", "FETCH", "HELO", "HELP",
	"ID", "IDLE", "LIST", "LOGIN", "LOGOUT", "LSUB", "MAIL", "MOVE",
	"NAMESPACE", "NOOP", "PASS", "QUIT", "RCPT", "RENAME", "RETR",
	"RSET", "SEARCH", "SELECT", "STARTTLS", "STAT", "STATUS", "STLS",
	"STORE", "SUBSCRIBE", "TOP", "UID", "UIDL", "UNSELECT",
	"UNSUBSCRIBE", "USER", "VRFY", "XCLIENT",
};

/* The command word w (k bytes) names, or NULL. */
static const char *
turn_verb(const char *w, size_t k)
{
	for (size_t i = 0; i < sizeof(turn_verbs) / sizeof(*turn_verbs);
	    i++)
		if (strlen(turn_verbs[i]) == k &&
		    strncasecmp(turn_verbs[i], w, k) == 0)
			return turn_verbs[i];
	return NULL;
}

void
turn_line(const char *line, size_t n)
{
	/* the first word, or the second after an IMAP tag */
	size_t i = 0;
	for (int word = 0; word < 2 && i < n; word++) {
		size_t k = 0;
		while (i + k < n && line[i + k] != ' ')
			k++;
		const char *v = turn_verb(line + i, k);
		if (v) {
			size_t have = strlen(t_verb);
			if (have + strlen(v) + 2 < sizeof(t_verb))
				snprintf(t_verb + have, sizeof(t_verb) - have,
				    "%s%s", have ? "," : "", v);
			return;
		}
		i += k + 1;
	}
}

void
turn_end(int nconns)
{
	long wall = us_of(CLOCK_MONOTONIC) - t_wall0;
	s_turns++;
	s_busy_us += wall;
	if (wall > s_max_us) {
		s_max_us = wall;
		snprintf(s_max_what, sizeof(s_max_what), "%s", t_max_what);
	}
	if (wall < turn_slow_us)
		return;
	long cpu = us_of(CLOCK_THREAD_CPUTIME_ID) - t_cpu0;
	long w = turn_waited_us();
	long waited = w >= 0 && t_wait0 >= 0 ? w - t_wait0 : -1;
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	s_slow++;
	s_slow_us += wall;
	if (waited > 0)
		s_wait_us += waited;
	fprintf(stderr, "mailsh lab: slow turn %.1f ms: cpu %.1f ms, "
	    "waited for a cpu %.1f ms, switches %ld voluntary %ld "
	    "involuntary; %d steps, %d connections; accept %.1f, service "
	    "%.1f, wake %.1f, free %.1f, results %.1f ms; slowest %.1f ms: "
	    "%s\n",
	    wall / 1000.0, cpu / 1000.0, waited / 1000.0,
	    ru.ru_nvcsw - t_vol0, ru.ru_nivcsw - t_invol0, t_steps, nconns,
	    t_kind_us[TURN_ACCEPT] / 1000.0, t_kind_us[TURN_SERVICE] / 1000.0,
	    t_kind_us[TURN_WAKE] / 1000.0, t_kind_us[TURN_FREE] / 1000.0,
	    t_kind_us[TURN_RESULTS] / 1000.0, t_max_us / 1000.0, t_max_what);
}

void
turn_summary(void)
{
	if (!turn_on)
		return;
	fprintf(stderr, "mailsh lab: turns %lu, busy %.1f ms, longest %.1f "
	    "ms (%s); %lu turns of %ld ms or more took %.1f ms, of which "
	    "%.1f ms waiting for a cpu\n", s_turns, s_busy_us / 1000.0,
	    s_max_us / 1000.0, s_max_what, s_slow, turn_slow_us / 1000L,
	    s_slow_us / 1000.0, s_wait_us / 1000.0);
}
