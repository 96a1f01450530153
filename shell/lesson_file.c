/* SPDX-License-Identifier: GPL-3.0-or-later */
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
#include "../protocols/i18n.h"

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

/*
 * Patterns may come from anyone: glibc's regcomp expands counted
 * repetition, so nested bounds multiply (((a{1,100}){1,100})...) into
 * gigabytes; "+" is expanded too (x+ is xx*: 34 of them in a row took
 * more than 24 GB).  Allow short patterns whose nested bounds stay
 * small, and refuse a repetition of a repetition (a++, a{2}{3}, a*?):
 * POSIX leaves its meaning undefined (XBD 9.4.6).
 */
#define PATTERN_MAX 512
#define BOUND_MAX 100
#define EXPANSION_MAX 256

static const char *
pattern_guard(const char *v)
{
	if (strlen(v) > PATTERN_MAX)
		return "longer than 512 bytes";
	long inner[64];		/* per open group: largest factor inside */
	int depth = 0;
	inner[0] = 1;
	long last = 1;		/* factor of the atom just read */
	bool rep = false;	/* the last token was a repetition */
	for (const char *c = v; *c; c++) {
		bool is_rep = *c == '{' || *c == '+' || *c == '*' || *c == '?';
		if (is_rep && rep)
			return "a repetition of a repetition (like a++ or "
			    "a{2}{3}), which POSIX leaves undefined";
		rep = is_rep && c != v;
		if (*c == '\\' && c[1]) {
			c++;
			last = 1;
		} else if (*c == '[') {	/* a bracket expression is one atom */
			c++;
			if (*c == '^')
				c++;
			if (*c == ']')
				c++;
			while (*c && *c != ']')
				c++;
			if (!*c)
				return NULL;	/* regcomp says what is wrong */
			last = 1;
		} else if (*c == '(') {
			if (++depth >= 64)
				return "groups nested too deep";
			inner[depth] = 1;
			last = 1;
		} else if (*c == ')' && depth > 0) {
			last = inner[depth--];
		} else if (*c == '{' || *c == '+') {
			char *end = (char *)c;
			long a = 1, b = 2;	/* x+ is expanded to xx* */
			if (*c == '{') {
				a = b = strtol(c + 1, &end, 10);
				if (*end == ',')
					b = isdigit((unsigned char)end[1])
					    ? strtol(end + 1, &end, 10)
					    : BOUND_MAX + 1;
			}
			if (a > BOUND_MAX || b > BOUND_MAX)
				return "a repetition bound over 100 (or {n,} "
				    "without an upper bound)";
			long f = last * (b > 0 ? b : 1);
			if (f > EXPANSION_MAX)
				return "nested counted repetitions that expand "
				    "too much";
			if (f > inner[depth])
				inner[depth] = f;
			if (*c == '{') {
				while (*c && *c != '}')
					c++;
				if (!*c)
					return NULL;	/* regcomp's message */
			}
			last = 1;
		} else {
			if (last > inner[depth])
				inner[depth] = last;
			last = 1;
		}
		if (last > inner[depth])
			inner[depth] = last;
	}
	return NULL;
}

/* Compiles a pattern checked by pattern_guard; flags as for regcomp. */
static int
compile_re(struct parse *p, regex_t *re, const char *v, int flags)
{
	const char *why = pattern_guard(v);
	if (why)
		return fail(p, p->line, "pattern refused: %s", why);
	int r = regcomp(re, v, REG_EXTENDED | flags);
	if (r != 0) {
		char msg[256];
		regerror(r, re, msg, sizeof(msg));
		return fail(p, p->line, "bad pattern \"%s\": %s", v, msg);
	}
	return 0;
}

/* The pattern with every {NAME} as "x", to check it compiles. */
static bool
has_vars(const char *v, char *out, size_t cap)
{
	bool any = false;
	size_t o = 0;
	for (const char *c = v; *c && o + 2 < cap; c++) {
		const char *e;
		if (*c == '{' && (islower((unsigned char)c[1])) &&
		    (e = strchr(c, '}')) && strspn(c + 1,
		    "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    (size_t)(e - c - 1)) {
			out[o++] = 'x';
			c = e;
			any = true;
		} else {
			out[o++] = *c;
		}
	}
	out[o] = '\0';
	return any;
}

static int
compile(struct parse *p, regex_t *re, bool *has, char **src, const char *v,
    int flags, bool *vars)
{
	if (*has)
		return fail(p, p->line, "this key appears twice");
	char probe[PATTERN_MAX + 8];
	bool v_any = vars && has_vars(v, probe, sizeof(probe));
	if (compile_re(p, re, v_any ? probe : v, flags) != 0)
		return -1;
	if (vars)
		*vars = v_any;
	*has = true;
	*src = strdup(v);
	p->last = NULL;
	return 0;
}

/*
 * lab: may set only the profile and the deliberate weaknesses.  Where the
 * lab listens, its state directory, its users and its own MITM stay the
 * runner's: a shared lesson must not widen what the lab exposes (a
 * PREAUTH lab on --listen 0.0.0.0 works on loopback too, unnoticed) nor
 * point the lab at files.  The value is rebuilt from the checked words,
 * so the lab gets exactly what was checked.
 */
#define LAB_ARGS_MAX 256
#define LAB_WORDS_MAX 12

enum lab_val { LV_NONE, LV_PROFILE, LV_MINUTES, LV_PORTS };

static const struct lab_allowed {
	const char *name;
	enum lab_val val;	/* LV_PORTS: optional, only as NAME=PORTS */
} lab_allowed[] = {
	{ "--profile", LV_PROFILE },
	{ "--allow-plaintext-auth", LV_NONE },
	{ "--any-from", LV_NONE },
	{ "--vulnerable-starttls", LV_PORTS },
	{ "--preauth", LV_NONE },
	{ "--pop-before-smtp", LV_MINUTES },
};

/* smtp,imap: the STARTTLS ports --vulnerable-starttls= names */
static bool
lab_ports_ok(const char *v)
{
	static const char *const ok[] = { "smtp", "submission", "pop3",
	    "imap" };
	if (!*v)
		return false;
	for (const char *c = v; *c; ) {
		size_t n = strcspn(c, ",");
		bool known = false;
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			known |= strlen(ok[i]) == n && strncmp(c, ok[i], n) ==
			    0;
		if (!known)
			return false;
		c += n;
		if (*c == ',' && *++c == '\0')
			return false;
	}
	return true;
}

static int
lab_value(struct parse *p, const struct lab_allowed *a, const char *v)
{
	char *end;
	long m;
	switch (a->val) {
	case LV_PROFILE:
		if (strcmp(v, "strict") == 0 || strcmp(v, "lax") == 0)
			return 0;
		return fail(p, p->line, _("lab: --profile is strict or lax, "
		    "not \"%s\""), v);
	case LV_MINUTES:
		m = strtol(v, &end, 10);
		if (isdigit((unsigned char)*v) && !*end && m >= 1 && m <= 1440)
			return 0;
		return fail(p, p->line, _("lab: --pop-before-smtp takes "
		    "minutes from 1 to 1440, not \"%s\""), v);
	case LV_PORTS:
		if (lab_ports_ok(v))
			return 0;
		return fail(p, p->line, _("lab: --vulnerable-starttls= takes "
		    "STARTTLS ports separated by commas (smtp, submission, "
		    "pop3, imap), not \"%s\""), v);
	case LV_NONE:
		break;
	}
	return fail(p, p->line, _("lab: %s takes no value"), a->name);
}

static int
lab_key(struct parse *p, const char *v)
{
	if (p->l->lab_args)
		return fail(p, p->line, "this key appears twice");
	if (strlen(v) > LAB_ARGS_MAX)
		return fail(p, p->line, _("lab: longer than %d bytes"),
		    LAB_ARGS_MAX);
	char buf[LAB_ARGS_MAX + 1], out[2 * LAB_ARGS_MAX + 2];
	char *w[LAB_WORDS_MAX + 1];
	int n = 0;
	size_t o = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
	    t = strtok_r(NULL, " \t", &save)) {
		if (n == LAB_WORDS_MAX)
			return fail(p, p->line, _("lab: more than %d words"),
			    LAB_WORDS_MAX);
		w[n++] = t;
	}
	for (int i = 0; i < n; i++) {
		char *eq = strchr(w[i], '=');
		size_t len = eq ? (size_t)(eq - w[i]) : strlen(w[i]);
		const struct lab_allowed *a = NULL;
		for (size_t k = 0; k < sizeof(lab_allowed) /
		    sizeof(lab_allowed[0]) && !a; k++)
			if (strlen(lab_allowed[k].name) == len &&
			    strncmp(w[i], lab_allowed[k].name, len) == 0)
				a = &lab_allowed[k];
		if (!a)
			return fail(p, p->line, _("lab: %.*s is not for "
			    "lessons: a lesson may set only --profile, "
			    "--allow-plaintext-auth, --any-from, "
			    "--vulnerable-starttls, --preauth and "
			    "--pop-before-smtp (where the lab listens, its "
			    "state, its users and its MITM are the runner's)"),
			    (int)(len > 64 ? 64 : len), w[i]);
		const char *val = eq ? eq + 1 : NULL;
		if (!val && (a->val == LV_PROFILE || a->val == LV_MINUTES)) {
			if (i + 1 == n)
				return fail(p, p->line, _("lab: %s needs a "
				    "value"), a->name);
			val = w[++i];
		}
		if (val && lab_value(p, a, val) != 0)
			return -1;
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s%s%s",
		    o ? " " : "", a->name, val ? "=" : "", val ? val : "");
	}
	p->last = NULL;		/* no continuation lines: one line, checked */
	if (n == 0)
		return fail(p, p->line, _("lab: names no option"));
	p->l->lab_args = strdup(out);
	return p->l->lab_args ? 0 : fail(p, p->line, "out of memory");
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
		return lab_key(p, v);
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

/* reply: PATTERN / typed: PATTERN: opens a block for hint / note. */
static int
keyed(struct parse *p, struct lesson_step *s, struct lesson_keyed *k,
    int *n, const char *v, int flags)
{
	if (*n >= LESSON_KEYED_MAX)
		return fail(p, p->line, "more than %d reply: or typed: "
		    "blocks in a step", LESSON_KEYED_MAX);
	k += *n;
	if (compile_re(p, &k->re, v, flags) != 0)
		return -1;
	k->src = strdup(v);
	k->line = p->line;
	(*n)++;
	s->open = k;
	p->last = NULL;
	return 0;
}

/* capture: NAME PATTERN */
static int
capture_key(struct parse *p, struct lesson_step *s, const char *v)
{
	if (s->ncapture >= LESSON_CAPTURES_MAX)
		return fail(p, p->line, "more than %d captures in a step",
		    LESSON_CAPTURES_MAX);
	struct lesson_capture *c = &s->capture[s->ncapture];
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0 || n >= sizeof(c->name) || (v[n] != ' ' && v[n] != '\t'))
		return fail(p, p->line, "capture: NAME PATTERN (NAME in "
		    "lowercase letters, digits and -)");
	memcpy(c->name, v, n);
	c->name[n] = '\0';
	const char *pat = v + n;
	while (*pat == ' ' || *pat == '\t')
		pat++;
	if (compile_re(p, &c->re, pat, REG_ICASE) != 0)
		return -1;
	c->src = strdup(pat);
	s->ncapture++;
	p->last = NULL;
	return 0;
}

static int
yes_no(struct parse *p, const char *key, const char *v, bool *out)
{
	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
		return fail(p, p->line, "%s: yes or no", key);
	*out = v[0] == 'y';
	p->last = NULL;
	return 0;
}

/* hint.xx: the open reply: block's, else the next rung of the ladder. */
static int
hint_key(struct parse *p, struct lesson_step *s, int lang, const char *v)
{
	struct lesson_keyed *k = s->open;
	if (k && k >= s->reply && k < s->reply + s->nreply &&
	    !k->text[lang])
		return set(p, &k->text[lang], v);
	s->open = NULL;
	if (s->nhint[lang] >= LESSON_HINTS_MAX)
		return fail(p, p->line, "more than %d hints in one language "
		    "(a ladder); put hints for a reply after reply:",
		    LESSON_HINTS_MAX);
	return set(p, &s->hint[s->nhint[lang]++][lang], v);
}

static int
question_key(struct parse *p, struct lesson_step *s, char *key, int lang,
    const char *v)
{
	if (lang >= 0 && strcmp(key, "text") == 0)
		return set(p, &s->text[lang], v);
	if (lang >= 0 && strcmp(key, "explain") == 0)
		return set(p, &s->explain[lang], v);
	if (lang >= 0 && strcmp(key, "choice") == 0) {
		if (s->nchoice[lang] >= LESSON_CHOICES_MAX)
			return fail(p, p->line, "more than %d choices",
			    LESSON_CHOICES_MAX);
		return set(p, &s->choice[s->nchoice[lang]++][lang], v);
	}
	if (lang < 0 && strcmp(key, "connect") == 0)
		return set(p, &s->connect, v);
	if (lang < 0 && strcmp(key, "answer") == 0) {
		char *end;
		long a = strtol(v, &end, 10);
		if (*v == '\0' || *end || a < 1 || a > LESSON_CHOICES_MAX)
			return fail(p, p->line, "answer: the number of the "
			    "right choice");
		if (s->answer)
			return fail(p, p->line, "this key appears twice");
		s->answer = (int)a;
		p->last = NULL;
		return 0;
	}
	return fail(p, p->line, "unknown key \"%s%s%s\" in a question "
	    "(text, choice, answer, explain, connect)", key, lang < 0 ? "" : ".",
	    lang < 0 ? "" : lang ? "de" : "en");
}

static int
step_key(struct parse *p, struct lesson_step *s, char *key, const char *v)
{
	int lang = split_lang(key);
	if (lang == -2)
		return fail(p, p->line, "unknown language in \"%s\": use .en "
		    "or .de", key);
	if (s->question)
		return question_key(p, s, key, lang, v);
	if (lang >= 0 && strcmp(key, "hint") == 0)
		return hint_key(p, s, lang, v);
	if (lang >= 0 && strcmp(key, "note") == 0) {
		struct lesson_keyed *k = s->open;
		if (!k || k < s->typed || k >= s->typed + s->ntyped)
			return fail(p, p->line, "note: belongs after typed: "
			    "PATTERN");
		return set(p, &k->text[lang], v);
	}
	s->open = NULL;
	if (lang >= 0 && strcmp(key, "text") == 0)
		return set(p, &s->text[lang], v);
	if (lang == 1 && strcmp(key, "solution") == 0) {
		int *n = &s->nsolution_lang[1];
		if (*n >= LESSON_SOLUTION_MAX)
			return fail(p, p->line, "more than %d solution lines",
			    LESSON_SOLUTION_MAX);
		if (!(s->solution_de[*n] = strdup(v)))
			return fail(p, p->line, "out of memory");
		(*n)++;
		p->last = NULL;
		return 0;
	}
	if (lang >= 0)
		return fail(p, p->line, "unknown key \"%s.%s\" in a step",
		    key, lang ? "de" : "en");
	if (strcmp(key, "type") == 0)
		return compile(p, &s->type, &s->has_type, &s->type_src, v,
		    REG_ICASE | REG_NOSUB, NULL);
	if (strcmp(key, "expect") == 0)
		return compile(p, &s->expect, &s->has_expect, &s->expect_src,
		    v, REG_NOSUB, &s->expect_vars);
	if (strcmp(key, "absent") == 0)
		return compile(p, &s->absent, &s->has_absent, &s->absent_src,
		    v, REG_NOSUB, &s->absent_vars);
	if (strcmp(key, "attacker") == 0)
		return compile(p, &s->attacker, &s->has_attacker,
		    &s->attacker_src, v, REG_NOSUB, NULL);
	if (strcmp(key, "reply") == 0)
		return keyed(p, s, s->reply, &s->nreply, v, REG_NOSUB);
	if (strcmp(key, "typed") == 0)
		return keyed(p, s, s->typed, &s->ntyped, v,
		    REG_ICASE | REG_NOSUB);
	if (strcmp(key, "capture") == 0)
		return capture_key(p, s, v);
	if (strcmp(key, "challenge") == 0)
		return yes_no(p, key, v, &s->challenge);
	if (strcmp(key, "can-fail") == 0) {
		bool yes;
		if (yes_no(p, key, v, &yes) != 0)
			return -1;
		s->can_fail_no = !yes;
		return 0;
	}
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

/* Is {NAME} in pattern v defined by a capture of steps 0..upto? */
static const char *
unknown_var(const struct lesson *l, int upto, const char *v)
{
	static char name[32];
	for (const char *c = strchr(v, '{'); c; c = strchr(c + 1, '{')) {
		const char *e = strchr(c, '}');
		size_t n = strspn(c + 1, "abcdefghijklmnopqrstuvwxyz"
		    "0123456789-");
		if (!e || n == 0 || n != (size_t)(e - c - 1) ||
		    n >= sizeof(name))
			continue;	/* a bound such as {2} */
		memcpy(name, c + 1, n);
		name[n] = '\0';
		bool found = false;
		for (int k = 0; k <= upto && !found; k++)
			for (int i = 0; i < l->step[k].ncapture; i++)
				if (strcmp(l->step[k].capture[i].name, name)
				    == 0)
					found = true;
		if (!found)
			return name;
	}
	return NULL;
}

/* What the model solution sets a capture to. */
static char *
capture_model(const struct lesson_capture *c, char *const *sol, int n)
{
	for (int i = 0; i < n; i++) {
		regmatch_t m[2];
		if (regexec(&c->re, sol[i], 2, m, 0) != 0)
			continue;
		int g = m[1].rm_so >= 0 ? 1 : 0;
		return strndup(sol[i] + m[g].rm_so,
		    (size_t)(m[g].rm_eo - m[g].rm_so));
	}
	return NULL;
}

static int
check_question(struct parse *p, struct lesson_step *s, int k)
{
	static const char *const lang[] = { "en", "de" };
	for (int i = 0; i < LESSON_LANGS; i++) {
		if (!s->text[i])
			return fail(p, s->line, "question %d has no text.%s",
			    k + 1, lang[i]);
		if (!s->explain[i])
			return fail(p, s->line, "question %d has no "
			    "explain.%s (shown after the answer)", k + 1,
			    lang[i]);
	}
	if (s->nchoice[0] < 2 || s->nchoice[0] != s->nchoice[1])
		return fail(p, s->line, "question %d needs 2 to %d choice.en "
		    "and as many choice.de lines", k + 1,
		    LESSON_CHOICES_MAX);
	if (s->answer < 1 || s->answer > s->nchoice[0])
		return fail(p, s->line, "question %d: answer: names no choice",
		    k + 1);
	return 0;
}

static int
check_step(struct parse *p, struct lesson *l, int k)
{
	static const char *const lang[] = { "en", "de" };
	struct lesson_step *s = &l->step[k];
	for (int i = 0; i < LESSON_LANGS; i++)
		if (!s->text[i])
			return fail(p, s->line, "step %d has no text.%s",
			    k + 1, lang[i]);
	if (!s->has_type || !s->has_expect)
		return fail(p, s->line, "step %d needs type: and expect: "
		    "patterns", k + 1);
	if (s->nsolution == 0)
		return fail(p, s->line, "step %d has no solution: (the model "
		    "answer --check plays)", k + 1);
	if (s->nhint[0] != s->nhint[1])
		return fail(p, s->line, "step %d has %d hint.en but %d "
		    "hint.de lines", k + 1, s->nhint[0], s->nhint[1]);
	for (int j = 0; j < s->nreply; j++)
		for (int i = 0; i < LESSON_LANGS; i++)
			if (!s->reply[j].text[i])
				return fail(p, s->reply[j].line, "reply: needs "
				    "a hint.en and a hint.de after it");
	for (int j = 0; j < s->ntyped; j++)
		for (int i = 0; i < LESSON_LANGS; i++)
			if (!s->typed[j].text[i])
				return fail(p, s->typed[j].line, "typed: needs "
				    "a note.en and a note.de after it");
	const char *v;
	if ((s->expect_vars && (v = unknown_var(l, k, s->expect_src))) ||
	    (s->absent_vars && (v = unknown_var(l, k, s->absent_src))))
		return fail(p, s->line, "step %d uses {%s}, which no "
		    "capture: of this or an earlier step sets", k + 1, v);
	for (int i = 0; i < s->ncapture; i++) {
		struct lesson_capture *c = &s->capture[i];
		c->model = capture_model(c, s->solution, s->nsolution);
		c->model_de = s->nsolution_lang[1] ? capture_model(c,
		    s->solution_de, s->nsolution_lang[1]) : NULL;
		if (!c->model || (s->nsolution_lang[1] && !c->model_de))
			return fail(p, s->line, "step %d: capture %s matches no "
			    "solution: line", k + 1, c->name);
	}
	return 0;
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
	int first = -1;		/* the first step that opens a connection */
	for (int k = 0; k < l->nsteps; k++) {
		int r = l->step[k].question ? check_question(p, &l->step[k], k)
		    : check_step(p, l, k);
		if (r != 0)
			return r;
		if (first < 0 && (l->step[k].connect || !l->step[k].question))
			first = k;
	}
	if (first < 0)
		return fail(p, p->line, "only questions: a lesson needs steps");
	if (!l->step[first].connect)
		return fail(p, l->step[first].line, "the first step must say "
		    "where to connect (connect: smtp, pop3, imap, ...)");
	return 0;
}

int
lesson_subst(const char *src, char *const *names, char *const *vals, int n,
    char *dst, size_t cap)
{
	size_t o = 0;
	for (const char *c = src; *c; c++) {
		const char *e = *c == '{' ? strchr(c, '}') : NULL;
		int hit = -1;
		for (int i = 0; e && i < n && hit < 0; i++)
			if (strlen(names[i]) == (size_t)(e - c - 1) &&
			    strncmp(c + 1, names[i], (size_t)(e - c - 1)) == 0)
				hit = i;
		if (hit < 0) {
			if (o + 1 >= cap)
				return -1;
			dst[o++] = *c;
			continue;
		}
		for (const char *t = vals[hit] ? vals[hit] : ""; *t; t++) {
			if (o + 3 >= cap)
				return -1;
			if (strchr("\\^$.|?*+()[]{}", *t))
				dst[o++] = '\\';
			dst[o++] = *t;
		}
		c = e;
	}
	dst[o] = '\0';
	return 0;
}

int
lesson_lint(const struct lesson *l, FILE *f)
{
	int found = 0, questions = 0, challenges = 0;
	for (int k = 0; k < l->nsteps; k++) {
		const struct lesson_step *s = &l->step[k];
		if (s->question) {
			questions++;
			continue;
		}
		challenges += s->challenge;
		if (s->nreply == 0 && !s->can_fail_no) {
			fprintf(f, "%s:%d: step %d has no reply: hint for a "
			    "negative answer (or say can-fail: no)\n",
			    l->path, s->line, k + 1);
			found++;
		}
	}
	if (questions == 0) {
		fprintf(f, "%s: no question (a prediction or a check "
		    "question)\n", l->path);
		found++;
	}
	if (challenges == 0) {
		fprintf(f, "%s: no challenge step (challenge: yes)\n",
		    l->path);
		found++;
	}
	return found;
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
		if (strcmp(buf, "step") == 0 || strcmp(buf, "question") == 0) {
			if (l->nsteps >= LESSON_STEPS_MAX) {
				r = fail(&p, p.line, "more than %d steps",
				    LESSON_STEPS_MAX);
				break;
			}
			s = &l->step[l->nsteps++];
			s->line = p.line;
			s->question = buf[0] == 'q';
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
			free(s->explain[i]);
			for (int j = 0; j < LESSON_HINTS_MAX; j++)
				free(s->hint[j][i]);
			for (int j = 0; j < LESSON_CHOICES_MAX; j++)
				free(s->choice[j][i]);
		}
		for (int j = 0; j < s->nreply; j++) {
			regfree(&s->reply[j].re);
			free(s->reply[j].src);
			free(s->reply[j].text[0]);
			free(s->reply[j].text[1]);
		}
		for (int j = 0; j < s->ntyped; j++) {
			regfree(&s->typed[j].re);
			free(s->typed[j].src);
			free(s->typed[j].text[0]);
			free(s->typed[j].text[1]);
		}
		for (int j = 0; j < s->ncapture; j++) {
			regfree(&s->capture[j].re);
			free(s->capture[j].src);
			free(s->capture[j].model);
			free(s->capture[j].model_de);
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
		for (int i = 0; i < s->nsolution_lang[1]; i++)
			free(s->solution_de[i]);
	}
	memset(l, 0, sizeof(*l));
}
