/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lesson.h: guided lessons.  A lesson is a text file (docs/lessons.md
 * describes the format): steps with an explanation, a pattern for what
 * the learner types, a pattern for the reply, hints, and a model
 * solution that --check plays headless.
 */
#ifndef MAILSH_LESSON_H
#define MAILSH_LESSON_H

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>

#define LESSON_STEPS_MAX 48
#define LESSON_SOLUTION_MAX 24
#define LESSON_TEXT_MAX 4096
#define LESSON_LANGS 2		/* 0 English, 1 German */
#define LESSON_HINTS_MAX 3	/* rungs of the hint ladder */
#define LESSON_KEYED_MAX 8	/* reply: hints and typed: notes per step */
#define LESSON_CHOICES_MAX 6
#define LESSON_CAPTURES_MAX 8

/* A text keyed to a pattern: reply: + hint, or typed: + note. */
struct lesson_keyed {
	regex_t re;
	char *src;
	char *text[LESSON_LANGS];
	int line;
};

struct lesson_capture {
	char name[32];
	regex_t re;
	char *src;
	char *model;		/* what the model solution sets */
	char *model_de;		/* the same from solution.de:, or NULL */
};

struct lesson_step {
	bool question;		/* a question block, not a step */
	char *text[LESSON_LANGS];
	char *hint[LESSON_HINTS_MAX][LESSON_LANGS];	/* the ladder */
	int nhint[LESSON_LANGS];
	struct lesson_keyed reply[LESSON_KEYED_MAX];	/* reply: hints */
	int nreply;
	struct lesson_keyed typed[LESSON_KEYED_MAX];	/* typed: notes */
	int ntyped;
	struct lesson_keyed *open;	/* parsing: the block hint/note go to */
	struct lesson_capture capture[LESSON_CAPTURES_MAX];
	int ncapture;
	bool challenge;
	bool can_fail_no;	/* can-fail: no */
	char *connect;		/* "smtp", "submission tls", ... or NULL */
	bool has_type, has_expect, has_absent;
	regex_t type;		/* the learner's last line before the reply */
	regex_t expect;		/* some line of the reply */
	regex_t absent;		/* no line of the reply */
	char *type_src, *expect_src, *absent_src;
	bool expect_vars, absent_vars;	/* {NAME}: compiled when judged */
	char *attacker_src;	/* the MITM's output must match */
	bool has_attacker;
	regex_t attacker;
	char *solution[LESSON_SOLUTION_MAX];
	int nsolution;
	char *solution_de[LESSON_SOLUTION_MAX];	/* solution.de: lines */
	int nsolution_lang[LESSON_LANGS];	/* [1]: how many */
	/* a question */
	char *choice[LESSON_CHOICES_MAX][LESSON_LANGS];
	int nchoice[LESSON_LANGS];
	int answer;		/* 1-based */
	char *explain[LESSON_LANGS];
	int line;		/* where the step starts in the file */
};

struct lesson {
	char *path;
	char *name;
	char *title[LESSON_LANGS];
	char *summary[LESSON_LANGS];
	char *why[LESSON_LANGS];
	int minutes;
	char *lab_args;		/* extra `mailsh lab` options */
	char *mitm_mode;	/* NULL: no MITM */
	char *mitm_to;		/* which lab port the MITM fronts */
	bool attack;		/* refuses non-lab servers */
	struct lesson_step step[LESSON_STEPS_MAX];
	int nsteps;
};

/*
 * Reads and checks a lesson file.  Returns 0, or -1 after writing
 * "FILE:LINE: what is wrong" to err (cap bytes).
 */
int lesson_load(struct lesson *l, const char *path, char *err, size_t cap);
void lesson_free(struct lesson *l);

/*
 * Replaces {NAME} in pattern src with the value of a capture (regex
 * characters escaped); vals[i] belongs to step captures in order of
 * names[i].  Returns 0, or -1 when dst is too small or a name is unknown.
 */
int lesson_subst(const char *src, char *const *names, char *const *vals,
    int n, char *dst, size_t cap);

/*
 * What a course expects beyond a correct file (docs/lessons.md, Lint):
 * prints "FILE:LINE: ..." for each finding to f; returns the count.
 */
int lesson_lint(const struct lesson *l, FILE *f);

/* 0 English, 1 German: from --lang, LANGUAGE, LC_ALL, LC_MESSAGES, LANG. */
int lesson_lang(void);

/* Handouts (worksheet, answer key): handout.h. */

/* `mailsh lesson ...`: the subcommand.  Returns the exit status. */
int lesson_main(int argc, char **argv);

#endif
