/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * handout.h: a lesson on paper (`mailsh lesson NAME --handout md|html
 * [--answers]`).  The worksheet holds the tasks and room to write; the
 * answer key adds the model answers, the questions' answers, every hint
 * and the lines a real --check run exchanged with the server, which the
 * recorder below collects while the lesson runner plays the solution.
 */
#ifndef MAILSH_HANDOUT_H
#define MAILSH_HANDOUT_H

#include "lesson.h"
#include "../protocols/pp.h"

#include <stdbool.h>
#include <stddef.h>

#define HANDOUT_REC_LINES 40	/* C:/S: lines kept per step */
#define HANDOUT_REC_ATTACKER 12	/* proxy lines kept per step */
#define HANDOUT_REC_COLS 160	/* characters of a line; longer are cut */

struct handout_step_rec {
	char *line[HANDOUT_REC_LINES];	/* "C: ...", "S: ...", "!: ..." */
	int n, more;			/* kept, left out */
	char *att[HANDOUT_REC_ATTACKER];	/* what the MITM printed */
	int natt, att_more;
};

/* What a --check run exchanged, step by step. */
struct handout_rec {
	struct handout_step_rec step[LESSON_STEPS_MAX];
	int failed;		/* steps that failed in the recorded run */
};

struct handout_rec *handout_rec_new(void);
void handout_rec_free(struct handout_rec *rec);

/* Feeds one protocol event of step `step` (sent, received, injected
 * lines are kept; everything else is ignored). */
void handout_rec_event(struct handout_rec *rec, int step,
    const struct pp_event *ev);

/* Feeds one line the man in the middle printed during step `step`. */
void handout_rec_attacker(struct handout_rec *rec, int step,
    const char *line);

/* Sends stdout to /dev/null (the handout is stdout, not the transcript
 * of the run that records it); returns what handout_quiet_end needs. */
int handout_quiet_begin(void);
void handout_quiet_end(int saved);

/*
 * Writes lesson l to stdout as a worksheet (rec NULL) or as an answer
 * key with the replies in rec; Markdown or HTML.
 */
void lesson_handout(const struct lesson *l, int lang, bool html,
    bool answers, const struct handout_rec *rec);

#endif
