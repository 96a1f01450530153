/*
 * lesson_file.c: reads lesson files (format: docs/lessons.md).
 *
 *   key: value            a field; key.en / key.de for the two languages
 *     more text           an indented line continues the value above
 *   step                  starts the next step
 *   # ...                 a comment; blank lines are ignored
 *
 * Every problem is reported as "FILE:LINE: what is wrong"; limits: lines
 * up to 4096 bytes, files up to 256 KiB, LESSON_STEPS_MAX steps.
 */
#include "lesson.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LESSON_FILE_MAX (256 * 1024)
#define LESSON_LINE_MAX 4096

struct parse {
	struct lesson *l;
	const char *path;
	int line;
	char *err;
	size_t cap;
	char **last;		/* the value continuation lines extend */
};

static int
fail(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct parse *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->cap, "%s:%d: %s", p->path, line, msg);
	return -1;
}

static int
set(struct parse *p, char **dst, const char *v)
{
	if (*dst)
		return fail(p, p->line, "this key appears twice");
	*dst = strdup(v);
	if (!*dst)
		return fail(p, p->line, "out of memory");
	p->last = dst;
	return 0;
}

static int
append(struct parse *p, const char *v)
{
	if (!p->last || !*p->last)
		return fail(p, p->line, "an indented line continues "
		    "nothing: indent only the lines that go on a value");
	size_t a = strlen(*p->last), b = strlen(v);
	if (a + b + 2 > LESSON_TEXT_MAX)
		return fail(p, p->line, "text longer than %d bytes",
		    LESSON_TEXT_MAX);
	char *n = realloc(*p->last, a + b + 2);
	if (!n)
		return fail(p, p->line, "out of memory");
	n[a] = '\n';
	memcpy(n + a + 1, v, b + 1);
	*p->last = n;
	return 0;
}

static int
compile(struct parse *p, regex_t *re, bool *has, char **src, const char *v)
{
	if (*has)
		return fail(p, p->line, "this key appears twice");
	int r = regcomp(re, v, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char why[256];
		regerror(r, re, why, sizeof(why));
		return fail(p, p->line, "bad pattern \"%s\": %s", v, why);
	}
	*has = true;
	*src = strdup(v);
	p->last = NULL;
	return 0;
}

/* "title.de" -> 1, "title.en" -> 0, "title" -> -1 (and base "title"). */
static int
split_lang(char *key)
{
	char *dot = strrchr(key, '.');
	if (!dot)
		return -1;
	int lang = strcmp(dot, ".en") == 0 ? 0 : strcmp(dot, ".de") == 0
	    ? 1 : -2;
	if (lang >= 0)
		*dot = '\0';
	return lang;
}

static int
lesson_key(struct parse *p, char *key, const char *v)
{
	struct lesson *l = p->l;
	int lang = split_lang(key);
	if (lang == -2)
		return fail(p, p->line, "unknown language in \"%s\": use .en "
		    "or .de", key);
	if (lang >= 0 && strcmp(key, "title") == 0)
		return set(p, &l->title[lang], v);
	if (lang >= 0 && strcmp(key, "summary") == 0)
		return set(p, &l->summary[lang], v);
	if (lang >= 0 && strcmp(key, "why") == 0)
		return set(p, &l->why[lang], v);
	if (lang < 0 && strcmp(key, "lesson") == 0)
		return set(p, &l->name, v);
	if (lang < 0 && strcmp(key, "lab") == 0)
		return set(p, &l->lab_args, v);
	if (lang < 0 && strcmp(key, "mitm") == 0)
		return set(p, &l->mitm_mode, v);
	if (lang < 0 && strcmp(key, "mitm-to") == 0)
		return set(p, &l->mitm_to, v);
	if (lang < 0 && strcmp(key, "attack") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return fail(p, p->line, "attack: yes or no");
		l->attack = v[0] == 'y';
		p->last = NULL;
		return 0;
	}
	if (lang < 0 && strcmp(key, "minutes") == 0) {
		char *end;
		long m = strtol(v, &end, 10);
		if (*v == '\0' || *end || m < 1 || m > 60)
			return fail(p, p->line, "minutes: a number from 1 to "
			    "60");
		l->minutes = (int)m;
		p->last = NULL;
		return 0;
	}
	return 1;		/* not a lesson key */
}

static int
step_key(struct parse *p, struct lesson_step *s, char *key, const char *v)
{
	int lang = split_lang(key);
	if (lang == -2)
		return fail(p, p->line, "unknown language in \"%s\": use .en "
		    "or .de", key);
	if (lang >= 0 && strcmp(key, "text") == 0)
		return set(p, &s->text[lang], v);
	if (lang >= 0 && strcmp(key, "hint") == 0)
		return set(p, &s->hint[lang], v);
	if (lang >= 0)
		return fail(p, p->line, "unknown key \"%s.%s\" in a step",
		    key, lang ? "de" : "en");
	if (strcmp(key, "type") == 0)
		return compile(p, &s->type, &s->has_type, &s->type_src, v);
	if (strcmp(key, "expect") == 0)
		return compile(p, &s->expect, &s->has_expect, &s->expect_src,
		    v);
	if (strcmp(key, "absent") == 0)
		return compile(p, &s->absent, &s->has_absent, &s->absent_src,
		    v);
	if (strcmp(key, "attacker") == 0)
		return compile(p, &s->attacker, &s->has_attacker,
		    &s->attacker_src, v);
	if (strcmp(key, "connect") == 0)
		return set(p, &s->connect, v);
	if (strcmp(key, "solution") == 0) {
		if (s->nsolution >= LESSON_SOLUTION_MAX)
			return fail(p, p->line, "more than %d solution lines",
			    LESSON_SOLUTION_MAX);
		s->solution[s->nsolution] = strdup(v);
		if (!s->solution[s->nsolution])
			return fail(p, p->line, "out of memory");
		s->nsolution++;
		p->last = NULL;
		return 0;
	}
	return fail(p, p->line, "unknown key \"%s\" in a step", key);
}

/* What every lesson and step must have. */
static int
check(struct parse *p)
{
	struct lesson *l = p->l;
	static const char *const lang[] = { "en", "de" };
	if (!l->name)
		return fail(p, 1, "no \"lesson:\" name");
	for (int i = 0; i < LESSON_LANGS; i++) {
		if (!l->title[i])
			return fail(p, 1, "no title.%s", lang[i]);
		if (!l->summary[i])
			return fail(p, 1, "no summary.%s", lang[i]);
		if (!l->why[i])
			return fail(p, p->line, "no why.%s (what was "
			    "learned, shown at the end)", lang[i]);
	}
	if (l->minutes == 0)
		return fail(p, 1, "no \"minutes:\"");
	if (l->nsteps == 0)
		return fail(p, p->line, "no steps");
	if (l->mitm_mode && !l->mitm_to)
		return fail(p, 1, "mitm needs mitm-to: the lab port it "
		    "stands in front of");
	for (int k = 0; k < l->nsteps; k++) {
		struct lesson_step *s = &l->step[k];
		for (int i = 0; i < LESSON_LANGS; i++)
			if (!s->text[i])
				return fail(p, s->line, "step %d has no "
				    "text.%s", k + 1, lang[i]);
		if (!s->has_type || !s->has_expect)
			return fail(p, s->line, "step %d needs type: and "
			    "expect: patterns", k + 1);
		if (s->nsolution == 0)
			return fail(p, s->line, "step %d has no solution: "
			    "(the model answer --check plays)", k + 1);
	}
	if (!l->step[0].connect)
		return fail(p, l->step[0].line, "the first step must say "
		    "where to connect (connect: smtp, pop3, imap, ...)");
	return 0;
}

int
lesson_load(struct lesson *l, const char *path, char *err, size_t cap)
{
	struct parse p = { .l = l, .path = path, .err = err, .cap = cap };
	memset(l, 0, sizeof(*l));
	l->path = strdup(path);
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(&p, 0, "cannot read the file");
	char buf[LESSON_LINE_MAX + 2];
	size_t total = 0;
	int r = 0;
	struct lesson_step *s = NULL;
	while (r == 0 && fgets(buf, sizeof(buf), f)) {
		p.line++;
		size_t n = strlen(buf);
		total += n;
		if (total > LESSON_FILE_MAX) {
			r = fail(&p, p.line, "file longer than %d bytes",
			    LESSON_FILE_MAX);
			break;
		}
		if (n > 0 && buf[n - 1] != '\n' && !feof(f)) {
			r = fail(&p, p.line, "line longer than %d bytes",
			    LESSON_LINE_MAX);
			break;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			buf[--n] = '\0';
		if (n == 0 || buf[0] == '#')
			continue;
		if (buf[0] == ' ' || buf[0] == '\t') {
			char *v = buf;
			while (*v == ' ' || *v == '\t')
				v++;
			r = append(&p, v);
			continue;
		}
		if (strcmp(buf, "step") == 0) {
			if (l->nsteps >= LESSON_STEPS_MAX) {
				r = fail(&p, p.line, "more than %d steps",
				    LESSON_STEPS_MAX);
				break;
			}
			s = &l->step[l->nsteps++];
			s->line = p.line;
			p.last = NULL;
			continue;
		}
		char *colon = strchr(buf, ':');
		if (!colon) {
			r = fail(&p, p.line, "expected \"key: value\", "
			    "\"step\", an indented continuation or a # "
			    "comment");
			break;
		}
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (char *k = buf; *k; k++)
			if (!islower((unsigned char)*k) && *k != '.' &&
			    *k != '-')
				r = -2;
		if (r == -2) {
			r = fail(&p, p.line, "bad key \"%s\": keys are "
			    "lowercase words", buf);
			break;
		}
		char key[64];
		snprintf(key, sizeof(key), "%s", buf);
		r = lesson_key(&p, key, v);	/* may cut ".en" off key */
		if (r == 1 && s)
			r = step_key(&p, s, buf, v);
		else if (r == 1)
			r = fail(&p, p.line, "unknown key \"%s\" (or a step "
			    "key before the first \"step\")", buf);
	}
	fclose(f);
	if (r == 0)
		r = check(&p);
	return r;
}

void
lesson_free(struct lesson *l)
{
	for (int i = 0; i < LESSON_LANGS; i++) {
		free(l->title[i]);
		free(l->summary[i]);
		free(l->why[i]);
	}
	free(l->path);
	free(l->name);
	free(l->lab_args);
	free(l->mitm_mode);
	free(l->mitm_to);
	for (int k = 0; k < l->nsteps; k++) {
		struct lesson_step *s = &l->step[k];
		for (int i = 0; i < LESSON_LANGS; i++) {
			free(s->text[i]);
			free(s->hint[i]);
		}
		free(s->connect);
		if (s->has_type)
			regfree(&s->type);
		if (s->has_expect)
			regfree(&s->expect);
		if (s->has_absent)
			regfree(&s->absent);
		if (s->has_attacker)
			regfree(&s->attacker);
		free(s->type_src);
		free(s->expect_src);
		free(s->absent_src);
		free(s->attacker_src);
		for (int i = 0; i < s->nsolution; i++)
			free(s->solution[i]);
	}
	memset(l, 0, sizeof(*l));
}
