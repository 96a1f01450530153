/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lesson.c: `mailsh lesson`: lists lessons, runs one in the normal
 * shell (starting the lab and the MITM it needs on free loopback ports),
 * checks each step, plays the model solution headless (--check), and
 * writes handouts (--handout md|html).
 */
#include "config.h"
#include "datadir.h"
#include "handout.h"
#include "labrun.h"
#include "lesson.h"
#include "output.h"
#include "shell.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CAPTURES_MAX (LESSON_STEPS_MAX * 2)

struct lesson_run {
	struct lesson l;
	int lang;
	int cur;		/* current step */
	bool check;		/* headless --check */
	bool quiet;		/* replaying steps to resume: no praise */
	const char *server;	/* NULL: the lab this run started */
	struct labrun lab;	/* the lab (and MITM) this run started */
	/* the current step */
	bool sent;		/* something was typed in this step */
	bool type_ok, expect_ok, absent_hit, attacker_ok;
	bool passed, advance, started;
	bool mitm_seen;		/* a step went through the MITM */
	int tries;		/* wrong tries not yet answered with a hint */
	int rung;		/* the next rung of the hint ladder */
	int reply_hit;		/* first reply: block this reply matched */
	int reply_hint;		/* the reply: hint to show, -1 none */
	const struct lesson_keyed *note;	/* a typed: note to show */
	bool noted[LESSON_KEYED_MAX];	/* typed: notes shown this step */
	bool told_closed;	/* said how to go on after a close */
	bool had_conn;		/* connected at the last drain_late() */
	bool captured[CAPTURES_MAX];	/* set in this step already */
	int failed;		/* --check: steps that failed */
	char last[512];		/* the last line sent */
	char attacker[8192];	/* what the MITM printed in this step */
	size_t attacker_len;
	/* the whole run */
	bool skipped[LESSON_STEPS_MAX];
	int right, asked;	/* questions answered right / asked */
	char *cap_name[CAPTURES_MAX], *cap_val[CAPTURES_MAX];
	int ncap;
	struct handout_rec *rec;	/* --handout --answers: the replies */
};

/* A lesson file's error message: it quotes the file, which may come from
 * anyone, so it is shown like server text (show_fputs). */
static void
lesson_err(FILE *f, const char *pfx, const char *err)
{
	fputs(pfx, f);
	show_fputs(f, err);
	putc('\n', f);
}

static const char *
pick(struct lesson_run *r, char *const txt[LESSON_LANGS])
{
	return txt[r->lang] ? txt[r->lang] : txt[0];
}

/* The model answer in the run's language (solution.de: if given). */
static int
solutions(const struct lesson_run *r, const struct lesson_step *s,
    char *const **lines)
{
	int lang = r->lang && s->nsolution_lang[1] ? 1 : 0;
	*lines = lang ? s->solution_de : s->solution;
	return lang ? s->nsolution_lang[1] : s->nsolution;
}

int
lesson_lang(void)
{
	return strcmp(i18n_lang(), "de") == 0;	/* as the messages */
}

/* ---- progress: $XDG_STATE_HOME/mailsh/progress ---- */

/*
 * One line per lesson: "NAME STATE STEP SKIPPED", STATE started or
 * done, STEP the next step (0-based), SKIPPED how many were skipped.
 */
struct progress { char state[16]; int step, skipped; };

static bool
progress_get(const char *name, struct progress *pg)
{
	char path[PATH_MAX], line[256], n[128];
	if (!state_path("progress", path, sizeof(path)))
		return false;
	FILE *f = fopen(path, "r");
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%127s %15s %d %d", n, pg->state,
		    &pg->step, &pg->skipped) == 4 && strcmp(n, name) == 0;
	fclose(f);
	return found;
}

static void
progress_put(const char *name, const char *state, int step, int skipped)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], line[256], n[128];
	if (!state_path("progress", path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
	if (!out) {
		if (in)
			fclose(in);
		return;
	}
	int kept = 0;
	while (in && kept < 1000 && fgets(line, sizeof(line), in))
		if (sscanf(line, "%127s", n) == 1 && strcmp(n, name) != 0 &&
		    strchr(line, '\n')) {
			fputs(line, out);
			kept++;
		}
	if (in)
		fclose(in);
	fprintf(out, "%s %s %d %d\n", name, state, step, skipped);
	if (fclose(out) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void
say_progress(const struct progress *pg, int nsteps)
{
	printf("%-22s         ", "");
	if (strcmp(pg->state, "done") == 0 && pg->skipped == 0)
		printf(_("[done]\n"));
	else if (strcmp(pg->state, "done") == 0)
		printf(ngettext("[done, %d step skipped]\n",
		    "[done, %d steps skipped]\n", (unsigned long)pg->skipped),
		    pg->skipped);
	else
		printf(_("[started: at step %d of %d]\n"), pg->step + 1,
		    nsteps);
}

static int
count_skipped(const struct lesson_run *r)
{
	int n = 0;
	for (int i = 0; i < r->l.nsteps; i++)
		n += r->skipped[i];
	return n;
}

/* ---- where lessons live ---- */

/*
 * The lesson search path: the directories in MAILSH_LESSONS (separated
 * by colons), then $XDG_DATA_HOME/mailsh/lessons (else
 * ~/.local/share/mailsh/lessons), /etc/mailsh/lessons and the shipped
 * lessons.  A lesson is known by its lesson: name, and the first
 * directory that has the name wins: a course's own lessons add to the
 * shipped ones, and one of the same name replaces the shipped one.
 * Bounded: LESSON_DIRS_MAX directories, LESSON_FILES_MAX files each.
 */
#define LESSON_DIRS_MAX 16
#define LESSON_FILES_MAX 128

struct lesson_dirs {
	int n;
	char dir[LESSON_DIRS_MAX][PATH_MAX];
	bool shipped[LESSON_DIRS_MAX];
};

/* Adds dir (len bytes) unless it is there already (the same directory
 * under another spelling counts as there). */
static void
dirs_add(struct lesson_dirs *d, const char *dir, size_t len, bool shipped)
{
	char path[PATH_MAX], canon[PATH_MAX], other[PATH_MAX];
	if (len == 0 || len >= sizeof(path) || d->n >= LESSON_DIRS_MAX)
		return;
	memcpy(path, dir, len);
	path[len] = '\0';
	const char *me = realpath(path, canon) ? canon : path;
	for (int i = 0; i < d->n; i++) {
		const char *o = realpath(d->dir[i], other) ? other : d->dir[i];
		if (strcmp(o, me) == 0) {
			d->shipped[i] |= shipped;
			return;
		}
	}
	memcpy(d->dir[d->n], path, len + 1);
	d->shipped[d->n++] = shipped;
}

static const struct lesson_dirs *
lesson_dirs(void)
{
	static struct lesson_dirs d;
	static bool done;
	if (done)
		return &d;
	done = true;
	const char *env = getenv("MAILSH_LESSONS");
	for (const char *p = env ? env : ""; *p;) {
		size_t n = strcspn(p, ":");
		if (n > 0 && d.n == LESSON_DIRS_MAX - 3) {
			fprintf(stderr, ngettext("mailsh: MAILSH_LESSONS "
			    "names more than %d directory: the rest are not "
			    "read\n", "mailsh: MAILSH_LESSONS names more than "
			    "%d directories: the rest are not read\n",
			    LESSON_DIRS_MAX - 3), LESSON_DIRS_MAX - 3);
			break;
		}
		dirs_add(&d, p, n, false);
		p += n + (p[n] == ':');
	}
	char buf[PATH_MAX];
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int k = -1;
	if (xdg && *xdg == '/')	/* relative: ignored, as XDG says */
		k = snprintf(buf, sizeof(buf), "%s/mailsh/lessons", xdg);
	else if (home && *home)
		k = snprintf(buf, sizeof(buf),
		    "%s/.local/share/mailsh/lessons", home);
	if (k > 0 && (size_t)k < sizeof(buf))
		dirs_add(&d, buf, (size_t)k, false);
	static const char etc[] = "/etc/mailsh/lessons";
	dirs_add(&d, etc, sizeof(etc) - 1, false);
	const char *shipped = datadir_lessons();
	dirs_add(&d, shipped, strlen(shipped), true);
	return &d;
}

/* The search path as one string, for messages. */
static const char *
dirs_shown(void)
{
	static char buf[4096];
	const struct lesson_dirs *d = lesson_dirs();
	struct sbuf sb;
	sbuf_init(&sb, buf, sizeof(buf));
	for (int i = 0; i < d->n; i++)
		sbuf_printf(&sb, "%s%s", i ? ":" : "", d->dir[i]);
	return buf;
}

/* The lesson files in dir, sorted by name: at most max, the first ones
 * by name (a note says when there are more).  Returns how many. */
static int
lesson_files(const char *dir, char **names, int max)
{
	DIR *d = opendir(dir);
	int n = 0;
	bool more = false;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 7 || strcmp(e->d_name + l - 7, ".lesson") != 0)
			continue;
		if (n == max) {
			more = true;
			if (strcmp(e->d_name, names[n - 1]) >= 0)
				continue;
			free(names[--n]);
		}
		char *s = strdup(e->d_name);
		if (!s)
			break;
		int i = n++;
		for (; i > 0 && strcmp(names[i - 1], s) > 0; i--)
			names[i] = names[i - 1];
		names[i] = s;
	}
	closedir(d);
	if (more)
		fprintf(stderr, ngettext("mailsh: more than %d lesson file "
		    "in %s: only the first %d by name is read\n", "mailsh: "
		    "more than %d lesson files in %s: only the first %d by "
		    "name are read\n", (unsigned long)max), max, dir, max);
	return n;
}

/* Finds lesson NAME (its lesson: field; a file that does not load is
 * reported when its file name has NAME in it): 0 found, -1 not there,
 * -2 broken.  The first directory on the path that has it wins. */
static int
find_lesson(const char *name, struct lesson *l)
{
	const struct lesson_dirs *d = lesson_dirs();
	for (int k = 0; k < d->n; k++) {
		char *files[LESSON_FILES_MAX];
		int n = lesson_files(d->dir[k], files, LESSON_FILES_MAX);
		int found = -1;
		for (int i = 0; i < n; i++) {
			char path[PATH_MAX + 300], err[600];
			snprintf(path, sizeof(path), "%s/%s", d->dir[k],
			    files[i]);
			if (found == 0) {
				free(files[i]);
				continue;
			}
			int lr = lesson_load(l, path, err, sizeof(err));
			if (lr == 0 && strcmp(l->name, name) == 0) {
				found = 0;
			} else {
				lesson_free(l);
				if (lr != 0 && strstr(files[i], name)) {
					lesson_err(stderr, "mailsh: ", err);
					found = -2;
				}
			}
			free(files[i]);
		}
		if (found != -1)
			return found;
	}
	return -1;
}

/* One lesson of the list. */
struct listed {
	char *name, *title, *summary, *path;
	int minutes, nsteps, dir;
	int replaces;		/* the entry it hides, or -1 */
	bool hidden;		/* an earlier directory has its name */
};

static int
list_lessons(int lang)
{
	const struct lesson_dirs *d = lesson_dirs();
	static struct listed e[LESSON_DIRS_MAX * LESSON_FILES_MAX];
	int ne = 0, bad = 0;
	for (int k = 0; k < d->n; k++) {
		char *files[LESSON_FILES_MAX];
		int n = lesson_files(d->dir[k], files, LESSON_FILES_MAX);
		for (int i = 0; i < n; i++) {
			char path[PATH_MAX + 300], err[600];
			struct lesson l;
			snprintf(path, sizeof(path), "%s/%s", d->dir[k],
			    files[i]);
			free(files[i]);
			if (lesson_load(&l, path, err, sizeof(err)) != 0) {
				lesson_err(stderr, "mailsh: ", err);
				bad++;
				lesson_free(&l);
				continue;
			}
			struct listed *x = &e[ne];
			*x = (struct listed){ .name = strdup(l.name),
			    .title = strdup(l.title[lang]),
			    .summary = strdup(l.summary[lang]),
			    .path = strdup(path), .minutes = l.minutes,
			    .nsteps = l.nsteps, .dir = k, .replaces = -1 };
			lesson_free(&l);
			if (!x->name || !x->title || !x->summary ||
			    !x->path) {
				free(x->name);
				free(x->title);
				free(x->summary);
				free(x->path);
				continue;
			}
			for (int j = 0; j < ne; j++)
				if (!e[j].hidden && strcmp(e[j].name,
				    x->name) == 0) {
					x->hidden = true;
					if (e[j].replaces < 0)
						e[j].replaces = ne;
					break;
				}
			ne++;
		}
	}
	if (ne == 0 && bad == 0) {
		fprintf(stderr, _("mailsh: no lessons in %s (MAILSH_LESSONS "
		    "adds directories)\n"), dirs_shown());
		return MS_EUSAGE;
	}
	for (int i = 0; i < ne; i++) {
		struct listed *x = &e[i];
		if (!x->hidden) {
			/* a lesson file may come from anyone: its title
			 * and summary are shown like server text */
			printf("%-22s %2d min  ", x->name, x->minutes);
			show_fputs(stdout, x->title);
			printf("\n%-22s         ", "");
			show_fputs(stdout, x->summary);
			putchar('\n');
			/* where a lesson from outside mailsh comes from */
			if (!d->shipped[x->dir] && x->replaces >= 0) {
				printf("%-22s         ", "");
				printf(_("from %s, in place of %s\n"),
				    x->path, e[x->replaces].path);
			} else if (!d->shipped[x->dir]) {
				printf("%-22s         ", "");
				printf(_("from %s\n"), x->path);
			}
			struct progress pg;
			if (progress_get(x->name, &pg))
				say_progress(&pg, x->nsteps);
		}
	}
	for (int i = 0; i < ne; i++) {
		free(e[i].name);
		free(e[i].title);
		free(e[i].summary);
		free(e[i].path);
	}
	printf(_("\nstart one with: mailsh lesson NAME [--lang de|en]\n"));
	return bad ? MS_EUSAGE : 0;
}

/* ---- steps ---- */

static bool play_step(struct shell *sh, struct lesson_run *r);
static void play_solution(struct shell *sh, struct lesson_run *r,
    const struct lesson_step *s);

static void
say_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say_text(const char *fmt, ...)
{
	char msg[LESSON_TEXT_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_text(msg);
}

static void
show_step(struct lesson_run *r)
{
	struct lesson_step *s = &r->l.step[r->cur];
	say_text(s->question ? _("\n[%s] step %d/%d: a question\n%s\n") :
	    s->challenge ? _("\n[%s] step %d/%d: a challenge\n%s\n")
	    : _("\n[%s] step %d/%d\n%s\n"), r->l.name, r->cur + 1,
	    r->l.nsteps, pick(r, s->text));
}

/* A question's choices: after its text and the connection it opens. */
static void
show_choices(struct lesson_run *r)
{
	struct lesson_step *s = &r->l.step[r->cur];
	for (int i = 0; i < s->nchoice[0]; i++)
		say_text("  %d) %s\n", i + 1, pick(r, s->choice[i]));
	if (!r->check)
		say_text(_("Type the number of your answer (nothing goes to "
		    "the server).\n"));
}

/* Reads what the MITM printed and shows it as the attacker's view. */
static void
drain_mitm(struct lesson_run *r)
{
	if (r->lab.mitm_fd <= 0)
		return;
	char buf[2048];
	ssize_t n;
	while ((n = read(r->lab.mitm_fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		size_t room = sizeof(r->attacker) - 1 - r->attacker_len;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(r->attacker + r->attacker_len, buf, k);
		r->attacker_len += k;
		r->attacker[r->attacker_len] = '\0';
		if (!r->mitm_seen)
			continue;	/* its start-up talk, before the story */
		for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t;
		    t = strtok_r(NULL, "\n", &save)) {
			out_say(PP_EV_WARN, _("attacker sees: %s"), t);
			handout_rec_attacker(r->rec, r->cur, t);
		}
	}
}

/*
 * Lines that belong to the step just finished (the MITM's "closed",
 * the server's goodbye) are shown before the next step's text: wait
 * until the proxy has been quiet for a moment (bounded).
 */
static void
drain_late(struct shell *sh, struct lesson_run *r)
{
	if (pp_connected(&sh->pp) && sh->pp.quit_sent)
		shell_wait_close(sh, 1000);
	/* only a connection that ended since the last look has late
	 * words to wait for; otherwise take what is there */
	bool ended = r->had_conn && !pp_connected(&sh->pp);
	r->had_conn = pp_connected(&sh->pp);
	if (r->lab.mitm_fd <= 0 || !r->mitm_seen)
		return;
	if (!ended) {
		drain_mitm(r);
		return;
	}
	/* until it has been quiet for 250 ms, at most 3 s in all */
	long end = util_now_ms() + 3000;
	for (long left; (left = end - util_now_ms()) > 0;) {
		struct pollfd p = { .fd = r->lab.mitm_fd, .events = POLLIN };
		if (poll(&p, 1, left < 250 ? (int)left : 250) <= 0)
			break;
		drain_mitm(r);
	}
}

/* Opens the connection a step asks for: "NAME [tls] [require-tls]". */
static enum ms_err
step_connect(struct shell *sh, struct lesson_run *r, const char *spec)
{
	char buf[128], *args[8];
	snprintf(buf, sizeof(buf), "%s", spec);
	int n = labrun_split(buf, args, 0, 8);
	if (n == 0)
		return MS_EUSAGE;
	const char *name = args[0];
	bool tls = strcmp(name, "submissions") == 0 ||
	    strcmp(name, "pop3s") == 0 || strcmp(name, "imaps") == 0;
	sh->require_tls = false;
	for (int i = 1; i < n; i++) {
		if (strcmp(args[i], "tls") == 0)
			tls = true;
		else if (strcmp(args[i], "require-tls") == 0)
			sh->require_tls = true;
	}
	sh->ann.require_tls = sh->require_tls;
	/* "mitm" stands for the first lab port in mitm-to, "mitm-imap"
	 * for the proxy in front of imap */
	const char *pname = strncmp(name, "mitm-", 5) == 0 ? name + 5 :
	    strcmp(name, "mitm") == 0 ? r->l.mitm_to : name;
	sh->force_proto = strncmp(pname, "pop3", 4) == 0 ? &proto_pop3 :
	    strncmp(pname, "imap", 4) == 0 ? &proto_imap : &proto_smtp;
	int port = labrun_port(&r->lab, name);
	if (!port && r->server) {	/* an instructor's lab: its map */
		static const struct { const char *n; int off; } map[] = {
			{ "smtp", 25 }, { "submission", 87 },
			{ "submissions", 65 }, { "pop3", 10 }, { "pop3s", 95 },
			{ "imap", 43 }, { "imaps", 93 },
		};
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(map[i].n, name) == 0)
				port = 2500 + map[i].off;
	}
	if (!port) {
		out_say(PP_EV_ERROR, _("lesson %s: no port for \"%s\""),
		    r->l.name, name);
		return MS_EUSAGE;
	}
	ann_port_role(&sh->ann, port, pname);	/* "the submission port" */
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	bool via_mitm = strncmp(name, "mitm", 4) == 0;
	const char *host = via_mitm || !r->server
	    ? "127.0.0.1" : r->server;
	enum ms_err e = shell_open(sh, host, ps, tls, !tls);
	r->had_conn = true;	/* even refused: its end is news */
	/* on these lab ports STARTTLS belongs, whatever their number */
	sh->ann.expect_starttls = !tls;
	if (via_mitm)
		r->mitm_seen = true;
	if (e == MS_OK && !r->check)
		shell_wait_reply(sh);	/* the greeting, before the prompt */
	return e;
}

/* What a step remembers of the learner's tries: forgotten. */
static void
reset_step(struct lesson_run *r)
{
	r->sent = r->type_ok = r->expect_ok = r->absent_hit = false;
	r->attacker_ok = r->passed = r->advance = false;
	r->tries = r->rung = 0;
	r->reply_hit = r->reply_hint = -1;
	r->note = NULL;
	r->told_closed = false;
	memset(r->noted, 0, sizeof(r->noted));
	memset(r->captured, 0, sizeof(r->captured));
}

static void
start_step(struct shell *sh, struct lesson_run *r)
{
	reset_step(r);
	struct lesson_step *s = &r->l.step[r->cur];
	/* the old connection's last words belong to the old step */
	if (s->connect && pp_connected(&sh->pp)) {
		sh->pp.quit_sent = true;	/* our own close */
		pp_close(&sh->pp, NULL);
	}
	drain_late(sh, r);
	r->attacker_len = 0;
	r->started = true;
	if (!r->quiet)
		show_step(r);
	if (s->connect)
		step_connect(sh, r, s->connect);
	if (s->question && !r->quiet) {
		drain_late(sh, r);	/* what the attacker saw of it */
		show_choices(r);
	}
}

/* The capture slot of step k's capture i. */
static int
cap_slot(struct lesson_run *r, const char *name)
{
	for (int i = 0; i < r->ncap; i++)
		if (strcmp(r->cap_name[i], name) == 0)
			return i;
	return -1;
}

void
lesson_sent(struct shell *sh, const char *line, size_t n)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps || r->l.step[r->cur].question)
		return;
	struct lesson_step *s = &r->l.step[r->cur];
	r->sent = true;
	snprintf(r->last, sizeof(r->last), "%.*s", (int)n, line);
	r->type_ok = regexec(&s->type, r->last, 0, NULL, 0) == 0;
	r->expect_ok = r->absent_hit = false;
	for (int i = 0; i < s->ntyped && !r->note; i++)
		if (!r->noted[i] &&
		    regexec(&s->typed[i].re, r->last, 0, NULL, 0) == 0) {
			r->note = &s->typed[i];
			r->noted[i] = true;	/* once a step */
		}
	for (int i = 0; i < s->ncapture; i++) {
		int slot = cap_slot(r, s->capture[i].name);
		regmatch_t m[2];
		if (slot < 0 || r->captured[slot] ||
		    regexec(&s->capture[i].re, r->last, 2, m, 0) != 0)
			continue;
		int g = m[1].rm_so >= 0 ? 1 : 0;
		char *v = strndup(r->last + m[g].rm_so,
		    (size_t)(m[g].rm_eo - m[g].rm_so));
		if (!v)
			continue;
		free(r->cap_val[slot]);
		r->cap_val[slot] = v;
		r->captured[slot] = true;
	}
}

/* Does the reply line match pattern re, or its {NAME} form? */
static bool
match_pattern(struct lesson_run *r, const regex_t *re, const char *src,
    bool vars, const char *line)
{
	if (!vars)
		return regexec(re, line, 0, NULL, 0) == 0;
	char pat[2048];
	regex_t live;
	if (lesson_subst(src, r->cap_name, r->cap_val, r->ncap, pat,
	    sizeof(pat)) != 0 || regcomp(&live, pat, REG_EXTENDED |
	    REG_NOSUB) != 0)
		return false;
	bool hit = regexec(&live, line, 0, NULL, 0) == 0;
	regfree(&live);
	return hit;
}

void
lesson_event(struct shell *sh, const struct pp_event *ev)
{
	struct lesson_run *r = sh->lesson;
	if (r && r->rec && r->cur < r->l.nsteps)
		handout_rec_event(r->rec, r->cur, ev);
	if (!r || r->cur >= r->l.nsteps || ev->kind != PP_EV_RECV ||
	    !ev->rl || !r->sent || r->l.step[r->cur].question)
		return;
	struct lesson_step *s = &r->l.step[r->cur];
	char line[1024];
	struct sbuf sb;
	sbuf_init(&sb, line, sizeof(line));
	show_bytes(&sb, ev->text, ev->len);
	if (match_pattern(r, &s->expect, s->expect_src, s->expect_vars, line))
		r->expect_ok = true;
	if (s->has_absent && match_pattern(r, &s->absent, s->absent_src,
	    s->absent_vars, line))
		r->absent_hit = true;
	for (int i = 0; i < s->nreply; i++)
		if ((r->reply_hit < 0 || i < r->reply_hit) &&
		    regexec(&s->reply[i].re, line, 0, NULL, 0) == 0)
			r->reply_hit = i;
	if (!ev->rl->last)
		return;
	/* a reply is complete: judge the step */
	drain_mitm(r);
	r->attacker_ok = !s->has_attacker || regexec(&s->attacker,
	    r->attacker, 0, NULL, 0) == 0;
	if (r->type_ok && r->expect_ok && !r->absent_hit && r->attacker_ok) {
		r->passed = r->advance = true;
	} else if (r->type_ok || ev->rl->status == PP_S_NEG) {
		r->tries++;
		r->reply_hint = r->reply_hit;
	}
	r->expect_ok = r->absent_hit = false;
	r->reply_hit = -1;
}

/* ---- the end of a lesson ---- */

static void
say_summary(struct lesson_run *r)
{
	int skipped = count_skipped(r);
	if (skipped == 0) {
		say_text(ngettext("\n[%s] done: the only step.\n",
		    "\n[%s] done: all %d steps.\n",
		    (unsigned long)r->l.nsteps), r->l.name, r->l.nsteps);
	} else {
		char list[256] = "";
		for (int i = 0; i < r->l.nsteps; i++)
			if (r->skipped[i])
				snprintf(list + strlen(list), sizeof(list) -
				    strlen(list), "%s%d", list[0] ? ", " : "",
				    i + 1);
		say_text(ngettext("\n[%s] done: %d of %d steps, %d skipped "
		    "(step %s).\n", "\n[%s] done: %d of %d steps, %d skipped "
		    "(steps %s).\n", (unsigned long)skipped), r->l.name,
		    r->l.nsteps - skipped, r->l.nsteps, skipped, list);
	}
	if (r->asked > 0)
		say_text(ngettext("Questions: %d of %d answered right.\n",
		    "Questions: %d of %d answered right.\n",
		    (unsigned long)r->asked), r->right, r->asked);
	say_text("%s\n", pick(r, r->l.why));
	if (r->server || r->check)
		return;
	/* where the mail is, and how to keep practising */
	char ports[256] = "";
	static const char *const roles[] = { "smtp", "submission", "pop3",
	    "imap", "submissions", "pop3s", "imaps" };
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		int p = labrun_port(&r->lab, roles[i]);
		if (p)
			snprintf(ports + strlen(ports), sizeof(ports) -
			    strlen(ports), "%s%s %d", ports[0] ? ", " : "",
			    roles[i], p);
	}
	say_text(_("\nThe lab keeps running until you leave with /quit "
	    "(127.0.0.1: %s): try more with /open 127.0.0.1 PORT. Its mail "
	    "is deleted when you leave. To practise on a lab that keeps its "
	    "mail, run: mailsh lab\n"), ports);
}

/* ---- questions ---- */

/* A line typed while a question waits: the answer.  True if taken. */
bool
lesson_answer(struct shell *sh, const char *line)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps || !r->l.step[r->cur].question ||
	    line[0] == '/')
		return false;
	struct lesson_step *s = &r->l.step[r->cur];
	char *end;
	long a = strtol(line, &end, 10);
	while (*end == ' ' || *end == ')' || *end == '.')
		end++;
	if (*end || a < 1 || a > s->nchoice[0]) {
		say_text(_("  Type a number from 1 to %d (/skip skips the "
		    "question).\n"), s->nchoice[0]);
		return true;
	}
	r->asked++;
	if (a == s->answer) {
		r->right++;
		say_text(_("  Right. %s\n"), pick(r, s->explain));
	} else {
		say_text(_("  Not quite: the answer is %d. %s\n"), s->answer,
		    pick(r, s->explain));
	}
	r->advance = true;
	r->passed = true;
	return true;
}

/* After input was handled: notes, hints, the next step. */
void
lesson_poll(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->check || r->quiet)
		return;
	drain_mitm(r);
	if (r->cur >= r->l.nsteps)
		return;
	struct lesson_step *s = &r->l.step[r->cur];
	if (r->note) {
		say_text(_("  Note: %s\n"), pick(r, r->note->text));
		r->note = NULL;
	}
	if (r->tries > 0 && !r->advance) {
		if (r->reply_hint >= 0) {
			say_text(_("  Not yet. %s\n"),
			    pick(r, s->reply[r->reply_hint].text));
		} else if (r->rung < s->nhint[0]) {
			say_text(_("  Not yet. %s\n"), pick(r,
			    s->hint[r->rung]));
			r->rung++;
		} else {
			say_text(s->nhint[0] ? _("  Not yet. That was the "
			    "last hint: /skip shows the model answer and goes "
			    "on, /lesson shows the step again.\n") : _("  Not "
			    "yet. Read the step again (/lesson shows it; /skip "
			    "shows the model answer).\n"));
		}
		r->tries = 0;
		r->reply_hint = -1;
	}
	if (!r->advance && !s->question && !pp_connected(&sh->pp) &&
	    !r->told_closed) {
		say_text(_("  The connection is closed. /lesson again opens it "
		    "anew and brings it to where this step starts; /skip plays "
		    "the model answer.\n"));
		r->told_closed = true;
	}
	if (!r->advance)
		return;
	if (r->passed && !s->question)
		say_text(_("  Well done.\n"));
	r->cur++;
	progress_put(r->l.name, r->cur < r->l.nsteps ? "started" : "done",
	    r->cur, count_skipped(r));
	if (r->cur < r->l.nsteps) {
		start_step(sh, r);
		return;
	}
	drain_late(sh, r);
	say_summary(r);
	say_text(_("(/quit leaves the lesson)\n"));
	sh->force_proto = NULL;	/* /open now reads the port and greeting */
}

void
lesson_show(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r) {
		out_say(PP_EV_NOTE, _("no lesson is running: mailsh lesson "
		    "lists them"));
		return;
	}
	if (r->cur >= r->l.nsteps) {
		say_text("%s\n", pick(r, r->l.why));
		return;
	}
	show_step(r);
	if (r->l.step[r->cur].question)
		show_choices(r);
}

/*
 * Quietly plays the model answers of steps from..to-1 (stdout muted):
 * the lab is brought to where step `to` starts.  r->cur ends at `to`.
 */
static void
replay_range(struct shell *sh, struct lesson_run *r, int from, int to)
{
	fflush(stdout);
	out_flush();
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	r->quiet = true;
	for (r->cur = from; r->cur < to; r->cur++)
		play_step(sh, r);
	r->quiet = false;
	fflush(stdout);
	out_flush();
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (null >= 0)
		close(null);
	r->cur = to;
	reset_step(r);
}

/* The step whose connect: the current step's connection comes from. */
static int
connect_step(const struct lesson_run *r)
{
	int k = r->cur;
	while (k > 0 && !r->l.step[k].connect)
		k--;
	return k;
}

/*
 * `/lesson again`: a new connection, brought to where this step starts
 * (the steps since it was opened are played quietly), for a learner
 * whose session the server ended or who wants a clean start.
 */
void
lesson_again(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps) {
		out_say(PP_EV_NOTE, _("no lesson step to start again"));
		return;
	}
	int cur = r->cur, from = connect_step(r);
	if (pp_connected(&sh->pp)) {
		sh->pp.quit_sent = true;	/* our own close */
		pp_close(&sh->pp, NULL);
	}
	if (from < cur) {
		if (cur - from == 1)
			say_text(_("  A new connection; step %d is played "
			    "quietly with its model answer.\n"), from + 1);
		else
			say_text(_("  A new connection; steps %d to %d are "
			    "played quietly with their model answers.\n"),
			    from + 1, cur);
		replay_range(sh, r, from, cur);
		drain_mitm(r);
		r->attacker_len = 0;
		show_step(r);
	} else {
		start_step(sh, r);
	}
}

void
lesson_skip(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps) {
		out_say(PP_EV_NOTE, _("no step to skip"));
		return;
	}
	struct lesson_step *s = &r->l.step[r->cur];
	if (s->question) {
		say_text(_("  Skipped. The answer is %d: %s\n"), s->answer,
		    pick(r, s->explain));
	} else {
		/* the model answer is played, so that later steps find
		 * what this one would have left (a mail, a login) */
		say_text(_("  Skipped. The model answer is played:\n"));
		int cur = r->cur;
		if (s->connect) {
			r->quiet = true;	/* its text was shown */
			play_step(sh, r);
			r->quiet = false;
		} else {
			if (pp_connected(&sh->pp) && sh->pp.quit_sent)
				shell_wait_close(sh, 2000);	/* it is ending */
			if (!pp_connected(&sh->pp))	/* the server ended it */
				replay_range(sh, r, connect_step(r), cur);
			play_solution(sh, r, s);
		}
		r->cur = cur;
		sh->status = 0;
		drain_mitm(r);
	}
	r->skipped[r->cur] = true;
	r->advance = true;
	r->passed = false;
	r->tries = 0;
	r->reply_hint = -1;
	r->note = NULL;
	lesson_poll(sh);
}

/* Plays the model solution of step r->cur; true if it passed. */
static bool
play_step(struct shell *sh, struct lesson_run *r)
{
	struct lesson_step *s = &r->l.step[r->cur];
	r->sent = r->passed = false;
	memset(r->captured, 0, sizeof(r->captured));
	r->attacker_len = 0;
	if (s->connect && pp_connected(&sh->pp)) {
		sh->pp.quit_sent = true;
		pp_close(&sh->pp, NULL);
	}
	drain_late(sh, r);
	r->attacker_len = 0;
	if (!r->quiet)
		show_step(r);
	if (s->connect && step_connect(sh, r, s->connect) != MS_OK &&
	    !s->question)
		return false;
	if (s->question) {	/* a connection may fail on purpose here */
		if (s->connect && pp_connected(&sh->pp)) {
			shell_wait_reply(sh);	/* the greeting */
			shell_check_abort(sh);
		}
		sh->status = 0;
		if (r->quiet)
			return true;
		drain_late(sh, r);
		show_choices(r);
		say_text(_("  answer %d (from the lesson file): %s\n"),
		    s->answer, pick(r, s->explain));
		return true;
	}
	if (pp_connected(&sh->pp))
		shell_wait_reply(sh);
	play_solution(sh, r, s);
	drain_mitm(r);
	sh->status = 0;		/* a step may end a session */
	return r->passed;
}

/* Sends a step's model answer as if the learner typed it. */
static void
play_solution(struct shell *sh, struct lesson_run *r,
    const struct lesson_step *s)
{
	char *const *sol;
	int n = solutions(r, s, &sol);
	for (int i = 0; i < n; i++) {
		const char *line = sol[i];
		if (meta_is(sh, line)) {
			if (meta_run(sh, line) == META_SENT)
				shell_wait_reply(sh);
			continue;
		}
		struct pp_sinfo si;
		if (!pp_connected(&sh->pp))
			break;
		if (shell_send(sh, line, strlen(line), &si) != MS_OK)
			break;
		if (si.expect_reply)
			shell_wait_reply(sh);
	}
}

/* Plays the model solution of every step; returns failed steps. */
static int
check_run(struct shell *sh, struct lesson_run *r)
{
	for (r->cur = 0; r->cur < r->l.nsteps; r->cur++) {
		struct lesson_step *s = &r->l.step[r->cur];
		if (play_step(sh, r)) {
			say_text(_("  step %d: ok\n"), r->cur + 1);
		} else {
			say_text(_("  step %d: FAILED (typed /%s/, reply "
			    "/%s/%s%s)\n"), r->cur + 1, s->type_src,
			    s->expect_src, s->has_attacker ? ", attacker /"
			    : "", s->has_attacker ? s->attacker_src : "");
			r->failed++;
		}
	}
	drain_late(sh, r);
	say_text("\n%s\n", pick(r, r->l.why));
	return r->failed;
}

/*
 * Resuming at step `to`: the lab is new, so the steps before it are
 * played quietly from their model answers (mail sent, logins done).
 */
static void
replay_to(struct shell *sh, struct lesson_run *r, int to)
{
	say_text(_("Replaying steps 1 to %d with their model answers ...\n"),
	    to);
	replay_range(sh, r, 0, to);
}

static void
lesson_usage(FILE *f)
{
	fprintf(f, _(
"usage: mailsh lesson                      list the lessons (with your\n"
"                                          progress)\n"
"       mailsh lesson NAME [options]       run one\n"
"       mailsh lesson --lint [NAME...]     check lessons for what a course\n"
"                                          expects (questions, challenges,\n"
"                                          hints for negative replies)\n"
"\n"
"options:\n"
"  --lang de|en        language (else LANG)\n"
"  --check             play the model solution headless; exit 1 if a\n"
"                      step fails\n"
"  --restart           start at step 1 even if you stopped halfway\n"
"  --server HOST       use an instructor's lab instead of starting one\n"
"                      (attack lessons run only on loopback)\n"
"  --handout md|html   write the lesson as a handout to stdout\n"));
	fprintf(f, _(
"  --answers           with --handout: the answer key (model answers,\n"
"                      hints, and the replies of a real --check run)\n"));
	fprintf(f, _(
"  --color[=WHEN]      auto, always or never, as in mailsh --help\n"
"  --no-config         do not read the config file (its lang and color)\n"
"\n"
"Lessons are found in the directories of MAILSH_LESSONS (separated by\n"
"colons), then in $XDG_DATA_HOME/mailsh/lessons (else\n"
"~/.local/share/mailsh/lessons), /etc/mailsh/lessons and the lessons\n"
"that come with mailsh; the first lesson of a name wins.\n"));
}

/* --lint over the lesson files of one directory. */
static void
lint_dir(const char *dir, char **names, int n, int *found, int *seen)
{
	char *files[LESSON_FILES_MAX];
	int nf = lesson_files(dir, files, LESSON_FILES_MAX);
	for (int i = 0; i < nf; i++) {
		char path[PATH_MAX + 300], err[600];
		struct lesson l;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		free(files[i]);
		if (lesson_load(&l, path, err, sizeof(err)) != 0) {
			lesson_err(stdout, "", err);
			(*found)++;
			lesson_free(&l);
			continue;
		}
		bool want = n == 0;
		for (int k = 0; k < n && !want; k++)
			want = strcmp(names[k], l.name) == 0;
		if (want) {
			*found += lesson_lint(&l, stdout);
			(*seen)++;
		}
		lesson_free(&l);
	}
}

/* --lint: every lesson on the path (or the named ones); returns the
 * exit status. */
static int
lint_lessons(char **names, int n)
{
	const struct lesson_dirs *d = lesson_dirs();
	int found = 0, seen = 0;
	for (int k = 0; k < d->n; k++)
		lint_dir(d->dir[k], names, n, &found, &seen);
	if (seen < (n ? n : 1)) {
		fprintf(stderr, _("mailsh: --lint found %d of the lessons "
		    "named in %s\n"), seen, dirs_shown());
		return MS_EUSAGE;
	}
	return found ? 1 : 0;
}

/* Asks whether to resume where the learner stopped; the step to start. */
static int
ask_resume(struct shell *sh, struct lesson_run *r)
{
	struct progress pg;
	if (!progress_get(r->l.name, &pg) || strcmp(pg.state, "started") !=
	    0 || pg.step <= 0 || pg.step >= r->l.nsteps)
		return 0;
	char q[256];
	snprintf(q, sizeof(q), _("You stopped at step %d of %d last time. "
	    "Go on from there (the steps before are replayed)? [Y/n] "),
	    pg.step + 1, r->l.nsteps);
	return repl_confirm_default(sh, q, true) ? pg.step : 0;
}

int
lesson_main(int argc, char **argv)
{
	static struct shell sh;
	static struct lesson_run run;
	bool check = false, lint = false, restart = false, answers = false;
	const char *server = NULL, *handout_fmt = NULL, *lang = NULL;
	enum color_mode color = COLOR_UNSET;
	enum { O_LANG = 256, O_CHECK, O_SERVER, O_HANDOUT, O_LINT,
	    O_RESTART, O_ANSWERS, O_COLOR, O_NOCOLOR, O_NOCONFIG };
	static const struct option lopts[] = {
		{ "lang", required_argument, NULL, O_LANG },
		{ "check", no_argument, NULL, O_CHECK },
		{ "server", required_argument, NULL, O_SERVER },
		{ "handout", required_argument, NULL, O_HANDOUT },
		{ "answers", no_argument, NULL, O_ANSWERS },
		{ "lint", no_argument, NULL, O_LINT },
		{ "restart", no_argument, NULL, O_RESTART },
		{ "color", optional_argument, NULL, O_COLOR },
		{ "colour", optional_argument, NULL, O_COLOR },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "no-config", no_argument, NULL, O_NOCONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* the config file's lang and color, unless the command line
	 * says otherwise */
	static struct config cfg;
	if (!config_skip(argc, argv)) {
		int r = config_load(&cfg, NULL);
		if (r != 0)
			return r;
		if (cfg.lang[0])
			i18n_set_lang(cfg.lang);
		color = cfg.color;
	}
	static const char optstring[] = ":h";
	int c;
	optind = 1;
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, optstring, lopts, NULL)) != -1) {
		switch (c) {
		case O_LANG:
			if (!i18n_set_lang(optarg)) {
				fprintf(stderr, _("mailsh lesson: --lang wants "
				    "de or en, not \"%s\"\n"), optarg);
				cli_try("mailsh lesson");
				return MS_EUSAGE;
			}
			lang = optarg;
			break;
		case O_COLOR:
			if (!optarg) {
				color = COLOR_ALWAYS;
			} else if (!color_mode_parse(optarg, &color)) {
				fprintf(stderr, _("mailsh lesson: --color wants "
				    "auto, always or never, not \"%s\"\n"),
				    optarg);
				cli_try("mailsh lesson");
				return MS_EUSAGE;
			}
			break;
		case O_NOCOLOR: color = COLOR_NEVER; break;
		case O_NOCONFIG: break;	/* config_skip() saw it */
		case O_CHECK: check = true; break;
		case O_LINT: lint = true; break;
		case O_RESTART: restart = true; break;
		case O_ANSWERS: answers = true; break;
		case O_SERVER: server = optarg; break;
		case O_HANDOUT:
			if (strcmp(optarg, "md") && strcmp(optarg, "html")) {
				fprintf(stderr, _("mailsh lesson: --handout wants "
				    "md or html, not \"%s\"\n"), optarg);
				cli_try("mailsh lesson");
				return MS_EUSAGE;
			}
			handout_fmt = optarg;
			break;
		case 'h': lesson_usage(stdout); return 0;
		default:
			return cli_bad_option("mailsh lesson", optstring, lopts,
			    c, argv);
		}
	}
	if (answers && !handout_fmt) {
		fprintf(stderr, _("mailsh lesson: --answers goes with "
		    "--handout md|html\n"));
		cli_try("mailsh lesson");
		return MS_EUSAGE;
	}
	run.lang = lang ? strcmp(lang, "de") == 0 : lesson_lang();
	if (lint)
		return lint_lessons(argv + optind, argc - optind);
	if (optind >= argc)
		return list_lessons(run.lang);
	if (argc - optind > 1) {
		fprintf(stderr, _("mailsh lesson: too many arguments: give "
		    "one lesson NAME\n"));
		cli_try("mailsh lesson");
		return MS_EUSAGE;
	}
	int f = find_lesson(argv[optind], &run.l);
	if (f != 0) {
		if (f == -1)
			fprintf(stderr, _("mailsh: no lesson \"%s\" in %s; "
			    "mailsh lesson lists them\n"), argv[optind],
			    dirs_shown());
		return MS_EUSAGE;
	}
	bool html = handout_fmt && strcmp(handout_fmt, "html") == 0;
	if (handout_fmt && !answers) {
		lesson_handout(&run.l, run.lang, html, false, NULL);
		lesson_free(&run.l);
		return 0;
	}
	/* the answer key: a --check run records the replies, its own
	 * transcript goes nowhere (stdout is the handout) */
	int saved_out = -1;
	if (answers) {
		check = true;
		run.rec = handout_rec_new();
		saved_out = handout_quiet_begin();
	}
	if (server && run.l.attack && strcmp(server, "127.0.0.1") != 0 &&
	    strcmp(server, "localhost") != 0 && strcmp(server, "::1") != 0) {
		fprintf(stderr, _("mailsh: %s is an attack lesson: it runs "
		    "only against a lab on this machine, not on %s\n"),
		    run.l.name, server);
		return MS_EUSAGE;
	}
	run.check = check;
	run.server = server;
	run.lab.mitm_fd = -1;
	/* captures start as the model solution sets them */
	for (int k = 0; k < run.l.nsteps; k++)
		for (int i = 0; i < run.l.step[k].ncapture &&
		    run.ncap < CAPTURES_MAX; i++) {
			struct lesson_capture *cp = &run.l.step[k].capture[i];
			if (cap_slot(&run, cp->name) >= 0)
				continue;
			run.cap_name[run.ncap] = cp->name;
			run.cap_val[run.ncap++] = strdup(run.lang &&
			    cp->model_de ? cp->model_de : cp->model);
		}

	/* the shell, as main() sets it up */
	struct out_opts oo = { .color = color_decide(color, !check &&
	    isatty(STDOUT_FILENO)) };
	sh.family = AF_UNSPEC;
	sh.timeout_ms = 30000;
	sh.interactive = !check && isatty(STDIN_FILENO);
	sh.no_confirm = true;	/* the lesson explains instead */
	sh.lesson = &run;
	if (!check && !sh.interactive)
		sh.script = stdin;
	pp_init(&sh.pp, shell_emit, &sh);
	ann_init(&sh.ann, &sh.pp, ANN_BRIEF, out_event, NULL);
	out_setup(&oo);
	signal(SIGPIPE, SIG_IGN);

	int status = 0;
	if (!server) {
		status = labrun_start(&run.lab, run.l.lab_args,
		    run.l.mitm_mode, run.l.mitm_to, run.l.path);
		if (status != MS_OK) {
			labrun_stop(&run.lab);
			lesson_free(&run.l);
			return status;
		}
	}
	drain_mitm(&run);	/* the proxies' start-up talk: not the story */
	char ca[PATH_MAX];
	snprintf(ca, sizeof(ca), "%s/ca.pem", run.lab.state);
	if (!server) {
		sh.pp.tls.cafile = ca;
		sh.pp.tls.cafile_label = _("the mailsh lab CA");
	}
	say_text(_("%s (%d min)\n%s\n"), run.l.title[run.lang],
	    run.l.minutes, run.l.summary[run.lang]);
	if (check) {
		int failed = check_run(&sh, &run);
		if (failed)
			say_text(ngettext("lesson %s: %d of %d steps FAILED\n",
			    "lesson %s: %d of %d steps FAILED\n",
			    (unsigned long)run.l.nsteps), run.l.name, failed,
			    run.l.nsteps);
		else
			say_text(_("lesson %s: all steps passed\n"),
			    run.l.name);
		status = failed ? 1 : 0;
	} else {
		int from = sh.interactive && !restart && !server
		    ? ask_resume(&sh, &run) : 0;
		if (from > 0)
			replay_to(&sh, &run, from);
		run.cur = from;
		progress_put(run.l.name, "started", run.cur, 0);
		start_step(&sh, &run);
		status = sh.interactive ? repl_interactive(&sh)
		    : repl_script(&sh);
		if (run.cur < run.l.nsteps)
			status = status ? status : 1;
	}
	if (pp_connected(&sh.pp)) {
		sh.pp.quit_sent = true;
		pp_close(&sh.pp, NULL);
	}
	out_flush();
	labrun_stop(&run.lab);
	pp_free(&sh.pp);
	if (answers) {
		handout_quiet_end(saved_out);
		lesson_handout(&run.l, run.lang, html, true, run.rec);
		fflush(stdout);
		if (run.failed)
			fprintf(stderr, ngettext("mailsh: %d step of lesson %s "
			    "failed while the answer key was recorded: mailsh "
			    "lesson %s --check shows why\n", "mailsh: %d steps of "
			    "lesson %s failed while the answer key was recorded: "
			    "mailsh lesson %s --check shows why\n",
			    (unsigned long)run.failed), run.failed, run.l.name,
			    run.l.name);
		handout_rec_free(run.rec);
	}
	for (int i = 0; i < run.ncap; i++)
		free(run.cap_val[i]);
	lesson_free(&run.l);
	return status;
}
