/*
 * lesson.c: `mailsh lesson`: lists lessons, runs one in the normal
 * shell (starting the lab and the MITM it needs on free loopback ports),
 * checks each step, plays the model solution headless (--check), and
 * writes handouts (--handout md|html).
 */
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

struct lesson_run {
	struct lesson l;
	int lang;
	int cur;		/* current step */
	bool check;		/* headless --check */
	const char *server;	/* NULL: the lab this run started */
	struct labrun lab;	/* the lab (and MITM) this run started */
	/* the current step */
	bool sent;		/* something was typed in this step */
	bool type_ok, expect_ok, absent_hit, attacker_ok;
	bool passed, advance, started;
	bool mitm_seen;		/* a step went through the MITM */
	int tries;
	int failed;		/* --check: steps that failed */
	char last[512];		/* the last line sent */
	char attacker[8192];	/* what the MITM printed in this step */
	size_t attacker_len;
};

static const char *
pick(struct lesson_run *r, char *const txt[LESSON_LANGS])
{
	return txt[r->lang] ? txt[r->lang] : txt[0];
}

int
lesson_lang(void)
{
	const char *vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strncmp(v, "de", 2) == 0;
	}
	return 0;
}

/* ---- where lessons live ---- */

static void
lesson_dir(char *buf, size_t cap)
{
	const char *env = getenv("MAILSH_LESSONS");
	if (env && *env) {
		snprintf(buf, cap, "%s", env);
		return;
	}
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		struct stat st;
		snprintf(buf, cap, "%s/lessons", exe);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	snprintf(buf, cap, "%s", MAILSH_LESSONDIR);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lesson files, sorted; returns how many (at most max). */
static int
lesson_files(const char *dir, char **names, int max)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);
		if (l > 7 && strcmp(e->d_name + l - 7, ".lesson") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), cmp_names);
	return n;
}

/* Finds lesson NAME (its lesson: field or file name). */
static int
find_lesson(const char *dir, const char *name, struct lesson *l)
{
	char *files[128];
	int n = lesson_files(dir, files, 128);
	int found = -1;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 300], err[600];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (found < 0 && lesson_load(l, path, err, sizeof(err)) == 0) {
			if (strcmp(l->name, name) == 0)
				found = 0;
			else
				lesson_free(l);
		} else if (found < 0 && strstr(files[i], name)) {
			fprintf(stderr, "mailsh: %s\n", err);
			found = -2;
		}
		free(files[i]);
	}
	return found;
}

static int
list_lessons(const char *dir, int lang)
{
	char *files[128];
	int n = lesson_files(dir, files, 128);
	if (n == 0) {
		fprintf(stderr, _("mailsh: no lessons in %s (MAILSH_LESSONS "
		    "sets the directory)\n"), dir);
		return MS_EUSAGE;
	}
	int bad = 0;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 300], err[600];
		struct lesson l;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (lesson_load(&l, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "mailsh: %s\n", err);
			bad++;
		} else {
			printf("%-22s %2d min  %s\n", l.name, l.minutes,
			    l.title[lang]);
			printf("%-22s         %s\n", "", l.summary[lang]);
		}
		lesson_free(&l);
		free(files[i]);
	}
	printf(_("\nstart one with: mailsh lesson NAME [--lang de|en]\n"));
	return bad ? MS_EUSAGE : 0;
}

/* ---- handouts ---- */

static void
md_block(const char *s)
{
	printf("%s\n\n", s);
}

static void
html_text(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		case '\n': fputs("<br>\n", stdout); break;
		default: putchar(*s);
		}
	}
}

static void
handout(struct lesson *l, int lang, bool html)
{
	const char *step_w = lang ? "Schritt" : "Step";
	const char *type_w = lang ? "Eingabe" : "Type";
	const char *hint_w = lang ? "Tipp" : "Hint";
	const char *why_w = lang ? "Was du gelernt hast" : "What you learned";
	const char *min_w = lang ? "Minuten" : "minutes";
	if (html) {
		printf("<!DOCTYPE html>\n<html lang=\"%s\"><head><meta "
		    "charset=\"utf-8\"><title>", lang ? "de" : "en");
		html_text(l->title[lang]);
		printf("</title></head><body>\n<h1>");
		html_text(l->title[lang]);
		printf("</h1>\n<p><em>");
		html_text(l->summary[lang]);
		printf("</em> (%d %s)</p>\n", l->minutes, min_w);
	} else {
		printf("# %s\n\n*%s* (%d %s)\n\n", l->title[lang],
		    l->summary[lang], l->minutes, min_w);
	}
	for (int i = 0; i < l->nsteps; i++) {
		struct lesson_step *s = &l->step[i];
		const char *text = s->text[lang];
		const char *hint = s->hint[lang] ? s->hint[lang] : s->hint[0];
		if (html) {
			printf("<h2>%s %d</h2>\n<p>", step_w, i + 1);
			html_text(text);
			printf("</p>\n<p>%s:</p>\n<pre>", type_w);
			for (int k = 0; k < s->nsolution; k++) {
				html_text(s->solution[k]);
				putchar('\n');
			}
			printf("</pre>\n");
			if (hint) {
				printf("<p><small>%s: ", hint_w);
				html_text(hint);
				printf("</small></p>\n");
			}
		} else {
			printf("## %s %d\n\n", step_w, i + 1);
			md_block(text);
			printf("%s:\n\n", type_w);
			for (int k = 0; k < s->nsolution; k++)
				printf("    %s\n", s->solution[k]);
			printf("\n");
			if (hint)
				printf("> %s: %s\n\n", hint_w, hint);
		}
	}
	if (html) {
		printf("<h2>%s</h2>\n<p>", why_w);
		html_text(l->why[lang]);
		printf("</p>\n</body></html>\n");
	} else {
		printf("## %s\n\n", why_w);
		md_block(l->why[lang]);
	}
}

/* ---- steps ---- */

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
	say_text(_("\n[%s] step %d/%d\n%s\n"), r->l.name, r->cur + 1,
	    r->l.nsteps, pick(r, s->text));
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
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	if (pp_connected(&sh->pp)) {
		sh->pp.quit_sent = true;	/* our own close */
		pp_close(&sh->pp, NULL);
	}
	bool via_mitm = strncmp(name, "mitm", 4) == 0;
	const char *host = via_mitm || !r->server
	    ? "127.0.0.1" : r->server;
	enum ms_err e = shell_open(sh, host, ps, tls, !tls);
	/* on these lab ports STARTTLS belongs, whatever their number */
	sh->ann.expect_starttls = !tls;
	if (via_mitm)
		r->mitm_seen = true;
	if (e == MS_OK && !r->check)
		shell_wait_reply(sh);	/* the greeting, before the prompt */
	return e;
}

static void
start_step(struct shell *sh, struct lesson_run *r)
{
	r->sent = r->type_ok = r->expect_ok = r->absent_hit = false;
	r->attacker_ok = r->passed = r->advance = false;
	r->tries = 0;
	r->attacker_len = 0;
	r->started = true;
	show_step(r);
	struct lesson_step *s = &r->l.step[r->cur];
	if (s->connect)
		step_connect(sh, r, s->connect);
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
		    t = strtok_r(NULL, "\n", &save))
			out_say(PP_EV_WARN, _("attacker sees: %s"), t);
	}
}

void
lesson_sent(struct shell *sh, const char *line, size_t n)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps)
		return;
	r->sent = true;
	snprintf(r->last, sizeof(r->last), "%.*s", (int)n, line);
	r->type_ok = regexec(&r->l.step[r->cur].type, r->last, 0, NULL, 0)
	    == 0;
	r->expect_ok = r->absent_hit = false;
}

void
lesson_event(struct shell *sh, const struct pp_event *ev)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps || ev->kind != PP_EV_RECV ||
	    !ev->rl || !r->sent)
		return;
	struct lesson_step *s = &r->l.step[r->cur];
	char line[1024];
	struct sbuf sb;
	sbuf_init(&sb, line, sizeof(line));
	show_bytes(&sb, ev->text, ev->len);
	if (regexec(&s->expect, line, 0, NULL, 0) == 0)
		r->expect_ok = true;
	if (s->has_absent && regexec(&s->absent, line, 0, NULL, 0) == 0)
		r->absent_hit = true;
	if (!ev->rl->last)
		return;
	/* a reply is complete: judge the step */
	drain_mitm(r);
	r->attacker_ok = !s->has_attacker || regexec(&s->attacker,
	    r->attacker, 0, NULL, 0) == 0;
	if (r->type_ok && r->expect_ok && !r->absent_hit && r->attacker_ok)
		r->passed = r->advance = true;
	else if (r->type_ok || ev->rl->status == PP_S_NEG)
		r->tries++;
	r->expect_ok = r->absent_hit = false;
}

/* After input was handled: praise, hints, the next step. */
void
lesson_poll(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->check)
		return;
	drain_mitm(r);
	if (r->cur >= r->l.nsteps)
		return;
	struct lesson_step *s = &r->l.step[r->cur];
	if (r->tries > 0 && !r->advance) {
		const char *hint = pick(r, s->hint);
		say_text(_("  not yet. %s\n"), hint ? hint :
		    _("Look at the step again (/lesson shows it)."));
		r->tries = 0;
	}
	if (!r->advance)
		return;
	say_text(_("  well done.\n"));
	r->cur++;
	if (r->cur < r->l.nsteps) {
		start_step(sh, r);
		return;
	}
	say_text(_("\n[%s] done: all %d steps.\n%s\n\n(/quit leaves the "
	    "lesson)\n"), r->l.name, r->l.nsteps, pick(r, r->l.why));
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
}

void
lesson_skip(struct shell *sh)
{
	struct lesson_run *r = sh->lesson;
	if (!r || r->cur >= r->l.nsteps) {
		out_say(PP_EV_NOTE, _("no step to skip"));
		return;
	}
	say_text(_("  skipped. The model answer was:\n"));
	for (int i = 0; i < r->l.step[r->cur].nsolution; i++)
		say_text("    %s\n", r->l.step[r->cur].solution[i]);
	r->advance = true;
	r->tries = 0;
	lesson_poll(sh);
}

/* Plays the model solution of every step; returns failed steps. */
static int
check_run(struct shell *sh, struct lesson_run *r)
{
	for (r->cur = 0; r->cur < r->l.nsteps; r->cur++) {
		struct lesson_step *s = &r->l.step[r->cur];
		r->sent = r->passed = false;
		r->attacker_len = 0;
		show_step(r);
		if (s->connect && step_connect(sh, r, s->connect) != MS_OK) {
			r->failed++;
			continue;
		}
		if (pp_connected(&sh->pp))
			shell_wait_reply(sh);
		for (int i = 0; i < s->nsolution; i++) {
			const char *line = s->solution[i];
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
		drain_mitm(r);
		if (r->passed) {
			say_text(_("  step %d: ok\n"), r->cur + 1);
		} else {
			say_text(_("  step %d: FAILED (typed /%s/, reply "
			    "/%s/%s%s)\n"), r->cur + 1, s->type_src,
			    s->expect_src, s->has_attacker ? ", attacker /"
			    : "", s->has_attacker ? s->attacker_src : "");
			r->failed++;
		}
		sh->status = 0;		/* a step may end a session */
	}
	say_text("\n%s\n", pick(r, r->l.why));
	return r->failed;
}

static void
lesson_usage(FILE *f)
{
	fprintf(f, _(
"usage: mailsh lesson                      list the lessons\n"
"       mailsh lesson NAME [options]       run one\n"
"\n"
"options:\n"
"  --lang de|en        language (else LANG)\n"
"  --check             play the model solution headless; exit 1 if a\n"
"                      step fails\n"
"  --server HOST       use an instructor's lab instead of starting one\n"
"                      (attack lessons run only on loopback)\n"
"  --handout md|html   write the lesson as a handout to stdout\n"));
}

int
lesson_main(int argc, char **argv)
{
	static struct shell sh;
	static struct lesson_run run;
	bool check = false;
	const char *server = NULL, *handout_fmt = NULL, *lang = NULL;
	enum { O_LANG = 256, O_CHECK, O_SERVER, O_HANDOUT };
	static const struct option lopts[] = {
		{ "lang", required_argument, NULL, O_LANG },
		{ "check", no_argument, NULL, O_CHECK },
		{ "server", required_argument, NULL, O_SERVER },
		{ "handout", required_argument, NULL, O_HANDOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case O_LANG:
			if (!i18n_set_lang(optarg)) {
				fprintf(stderr, _("mailsh: --lang wants de or "
				    "en\n"));
				return MS_EUSAGE;
			}
			lang = optarg;
			break;
		case O_CHECK: check = true; break;
		case O_SERVER: server = optarg; break;
		case O_HANDOUT:
			if (strcmp(optarg, "md") && strcmp(optarg, "html")) {
				fprintf(stderr, _("mailsh: --handout wants md or "
				    "html\n"));
				return MS_EUSAGE;
			}
			handout_fmt = optarg;
			break;
		case 'h': lesson_usage(stdout); return 0;
		default: lesson_usage(stderr); return MS_EUSAGE;
		}
	}
	run.lang = lang ? strcmp(lang, "de") == 0 : lesson_lang();
	char dir[PATH_MAX];
	lesson_dir(dir, sizeof(dir));
	if (optind >= argc)
		return list_lessons(dir, run.lang);
	if (argc - optind > 1) {
		lesson_usage(stderr);
		return MS_EUSAGE;
	}
	int f = find_lesson(dir, argv[optind], &run.l);
	if (f != 0) {
		if (f == -1)
			fprintf(stderr, _("mailsh: no lesson \"%s\" in %s; "
			    "mailsh lesson lists them\n"), argv[optind], dir);
		return MS_EUSAGE;
	}
	if (handout_fmt) {
		handout(&run.l, run.lang, strcmp(handout_fmt, "html") == 0);
		lesson_free(&run.l);
		return 0;
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

	/* the shell, as main() sets it up */
	struct out_opts oo = { .color = !check && isatty(STDOUT_FILENO) &&
	    !getenv("NO_COLOR") };
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
		say_text(failed ? _("lesson %s: %d of %d steps FAILED\n")
		    : _("lesson %s: all steps passed\n"), run.l.name,
		    failed ? failed : run.l.nsteps, run.l.nsteps);
		status = failed ? 1 : 0;
	} else {
		run.cur = 0;
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
	lesson_free(&run.l);
	return status;
}
