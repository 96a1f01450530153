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

#define LESSON_STEPS_MAX 40
#define LESSON_SOLUTION_MAX 24
#define LESSON_TEXT_MAX 4096
#define LESSON_LANGS 2		/* 0 English, 1 German */

struct lesson_step {
	char *text[LESSON_LANGS];
	char *hint[LESSON_LANGS];
	char *connect;		/* "smtp", "submission tls", ... or NULL */
	bool has_type, has_expect, has_absent;
	regex_t type;		/* the learner's last line before the reply */
	regex_t expect;		/* some line of the reply */
	regex_t absent;		/* no line of the reply */
	char *type_src, *expect_src, *absent_src;
	char *attacker_src;	/* the MITM's output must match */
	bool has_attacker;
	regex_t attacker;
	char *solution[LESSON_SOLUTION_MAX];
	int nsolution;
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

/* 0 English, 1 German: from --lang, LANGUAGE, LC_ALL, LC_MESSAGES, LANG. */
int lesson_lang(void);

/* `mailsh lesson ...`: the subcommand.  Returns the exit status. */
int lesson_main(int argc, char **argv);

#endif
