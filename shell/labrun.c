/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labrun.c: starts `mailsh lab` (and `mailsh mitm` in front of one of
 * its ports) as child processes on free loopback ports in a fresh state
 * directory, for lessons and for `mailsh` run without a server; stops
 * them and removes the directory again.
 */
#include "labrun.h"
#include "../lab/child.h"
#include "shell.h"
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The runs started and not yet stopped, for labrun_poll(). */
#define LABRUN_ACTIVE_MAX 4
static struct labrun *active[LABRUN_ACTIVE_MAX];

static void
set_active(struct labrun *r, bool on)
{
	for (int i = 0; i < LABRUN_ACTIVE_MAX; i++) {
		if (on && !active[i]) {
			active[i] = r;
			return;
		}
		if (!on && active[i] == r)
			active[i] = NULL;
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

/* Waits up to 20 s for a file the child writes when it is ready; a
 * child that ended meanwhile is reaped and *child set to 0. */
static bool
wait_file(const char *path, pid_t *child)
{
	long deadline = util_now_ms() + 20000;
	struct stat st;
	while (util_now_ms() < deadline) {
		if (stat(path, &st) == 0 && st.st_size > 0)
			return true;
		if (child_reap(*child, NULL)) {
			*child = 0;
			return false;
		}
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void
show_log_tail(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		fputs("  | ", stderr);
		show_fputs(stderr, line);
	}
	fclose(f);
}

int
labrun_port(const struct labrun *r, const char *name)
{
	/* "mitm": the first proxy; "mitm-imap": the one in front of imap */
	if (strcmp(name, "mitm") == 0)
		return r->nmitm > 0 ? r->mitm_port[0] : 0;
	for (int i = 0; i < r->nmitm; i++)
		if (strncmp(name, "mitm-", 5) == 0 &&
		    strcmp(name + 5, r->mitm_svc[i]) == 0)
			return r->mitm_port[i];
	for (int i = 0; i < r->nports; i++)
		if (strcmp(r->ports[i].name, name) == 0)
			return r->ports[i].port;
	return 0;
}

static bool
read_ports(struct labrun *r, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char name[32];
	int port;
	while (r->nports < LABRUN_PORTS_MAX &&
	    fscanf(f, "%31s %d", name, &port) == 2) {
		snprintf(r->ports[r->nports].name,
		    sizeof(r->ports[r->nports].name), "%s", name);
		r->ports[r->nports++].port = port;
	}
	fclose(f);
	return r->nports > 0;
}

/* Splits s at spaces into args[from..]; returns the new count. */
int
labrun_split(char *s, char **args, int from, int max)
{
	int n = from;
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t &&
	    n < max; t = strtok_r(NULL, " \t", &save))
		args[n++] = t;
	return n;
}

/* Starts proxy number i in front of lab port svc, output to fd. */
static int
start_mitm(struct labrun *r, int i, const char *svc, const char *mode,
    int fd, const char *who)
{
	int target = labrun_port(r, svc);
	if (!target || strncmp(svc, "mitm", 4) == 0) {
		fprintf(stderr, _("mailsh: %s: mitm-to names no lab port "
		    "(\"%s\")\n"), who, svc);
		return MS_EUSAGE;
	}
	char to[64], pfile[PATH_MAX];
	snprintf(to, sizeof(to), "127.0.0.1:%d", target);
	snprintf(pfile, sizeof(pfile), "%s/mitm%d.port", r->state, i);
	/* free ports: the MITM cannot guess the protocol from the port */
	const char *proto = strncmp(svc, "pop3", 4) == 0 ? "pop3"
	    : strncmp(svc, "imap", 4) == 0 ? "imap" : "smtp";
	char *margs[] = { NULL, "mitm", "--listen", "127.0.0.1:0",
	    "--port-file", pfile, "--to", to, "--mode", (char *)mode,
	    "--proto", (char *)proto, NULL };
	r->mitm_pid[i] = child_spawn_self(margs, fd);
	FILE *f;
	if (r->mitm_pid[i] < 0 || !wait_file(pfile, &r->mitm_pid[i]) ||
	    !(f = fopen(pfile, "r"))) {
		fprintf(stderr, _("mailsh: the MITM proxy did not start\n"));
		return MS_EINTERNAL;
	}
	if (fscanf(f, "%d", &r->mitm_port[i]) != 1)
		r->mitm_port[i] = 0;
	fclose(f);
	snprintf(r->mitm_svc[i], sizeof(r->mitm_svc[i]), "%s", svc);
	r->nmitm = i + 1;
	return r->mitm_port[i] ? MS_OK : MS_EINTERNAL;
}

int
labrun_start(struct labrun *r, const char *lab_args, const char *mitm_mode,
    const char *mitm_to, const char *who)
{
	set_active(r, true);
	const char *tmp = getenv("TMPDIR");
	snprintf(r->state, sizeof(r->state), "%s/mailsh-lesson.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->state)) {
		fprintf(stderr, _("mailsh: cannot make a state directory: "
		    "%s\n"), strerror(errno));
		return MS_EINTERNAL;
	}
	char log[PATH_MAX], ports[PATH_MAX], extra[512];
	snprintf(log, sizeof(log), "%s/lab.log", r->state);
	snprintf(ports, sizeof(ports), "%s/ports", r->state);
	snprintf(extra, sizeof(extra), "%s", lab_args ? lab_args
	    : "");
	char *args[40] = { NULL, "lab", "--state", r->state, "--port-base",
	    "0" };
	int n = labrun_split(extra, args, 6, 38);
	args[n] = NULL;
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return MS_EINTERNAL;
	r->lab_pid = child_spawn_self(args, fd);
	close(fd);
	if (r->lab_pid < 0 || !wait_file(ports, &r->lab_pid) ||
	    !read_ports(r, ports)) {
		fprintf(stderr, _("mailsh: the lab did not start; its log:\n"));
		show_log_tail(log);
		return MS_EINTERNAL;
	}
	if (!mitm_mode)
		return MS_OK;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return MS_EINTERNAL;
	r->mitm_fd = p[0];
	fcntl(r->mitm_fd, F_SETFL, O_NONBLOCK);
	/* one proxy per lab port named in mitm_to; all talk into one pipe */
	char names[256];
	snprintf(names, sizeof(names), "%s", mitm_to);
	char *svc[LABRUN_MITM_MAX];
	int nsvc = labrun_split(names, svc, 0, LABRUN_MITM_MAX);
	int e = MS_OK;
	for (int i = 0; i < nsvc && e == MS_OK; i++)
		e = start_mitm(r, i, svc[i], mitm_mode, p[1], who);
	close(p[1]);
	return e;
}

/* "exit status 3" or "SIGKILL" (strsignal's words are the C
 * library's, in the locale's charset, which may not be UTF-8) */
static void
describe_status(int st, char *buf, size_t cap)
{
	const char *abbrev = WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st))
	    : NULL;
	if (abbrev)
		snprintf(buf, cap, "SIG%s", abbrev);
	else if (WIFSIGNALED(st))
		snprintf(buf, cap, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, cap, _("exit status %d"), WEXITSTATUS(st));
}

/* Reaps one child if it ended, and says so (lab: with its log). */
static void
poll_child(pid_t *pid, bool lab, const char *log)
{
	int st;
	if (!child_reap(*pid, &st))
		return;
	*pid = 0;
	char how[128];
	describe_status(st, how, sizeof(how));
	if (lab)
		out_say(PP_EV_ERROR, _("the lab stopped unexpectedly (%s): "
		    "its ports no longer answer; /quit and start again"), how);
	else
		out_say(PP_EV_ERROR, _("the MITM proxy stopped unexpectedly "
		    "(%s): its port no longer answers"), how);
	FILE *f = log ? fopen(log, "r") : NULL;
	if (!f)
		return;
	enum { KEEP = 12 };	/* the last lines of the log */
	static char ring[KEEP][256];
	size_t n = 0;
	while (fgets(ring[n % KEEP], sizeof(ring[0]), f)) {
		char *l = ring[n % KEEP];
		size_t len = strlen(l);
		if (len > 0 && l[len - 1] != '\n') {	/* too long: cut */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		l[strcspn(l, "\n")] = '\0';
		n++;
	}
	fclose(f);
	if (n > 0)
		out_say(PP_EV_ERROR, _("the end of its log:"));
	for (size_t i = n > KEEP ? n - KEEP : 0; i < n; i++)
		out_say(PP_EV_ERROR, "  | %s", ring[i % KEEP]);
}

void
labrun_poll(void)
{
	for (int i = 0; i < LABRUN_ACTIVE_MAX; i++) {
		struct labrun *r = active[i];
		if (!r)
			continue;
		char log[PATH_MAX];
		snprintf(log, sizeof(log), "%s/lab.log", r->state);
		poll_child(&r->lab_pid, true, log);
		for (int m = 0; m < r->nmitm; m++)
			poll_child(&r->mitm_pid[m], false, NULL);
	}
}

void
labrun_stop(struct labrun *r)
{
	set_active(r, false);
	for (int i = 0; i < r->nmitm; i++)
		child_stop(r->mitm_pid[i]);
	child_stop(r->lab_pid);
	r->lab_pid = 0;
	for (int i = 0; i < r->nmitm; i++)
		r->mitm_pid[i] = 0;
	if (r->mitm_fd > 0)
		close(r->mitm_fd);
	r->mitm_fd = -1;
	if (r->state[0])
		nftw(r->state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	r->state[0] = '\0';
}

