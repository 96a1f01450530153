/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * output.h: turns engine events into what the user sees: "C:" / "S:"
 * lines with control bytes made visible, indented notes ("*"),
 * explanations ("="), warnings ("!"), errors on stderr; or one JSON
 * object per event with --json.  Colour only on a terminal and never
 * with NO_COLOR.
 */
#ifndef MAILSH_OUTPUT_H
#define MAILSH_OUTPUT_H

#include <stdbool.h>

#include "../protocols/pp.h"

struct out_opts {
	bool json;
	bool color;
	bool quiet;		/* no notes or explanations */
};

void out_setup(const struct out_opts *o);

/* The engine's emit callback (ctx unused). */
void out_event(void *ctx, const struct pp_event *ev);

/* -q in a script: lines of message text are only counted (and summed
 * up in one note), not shown; out_text_add() counts lines sent. */
bool out_text_counted(void);
void out_text_add(unsigned long lines, size_t octets);

/* --pipeline: events (other than received lines and errors) are held in
 * a batch from out_capture_begin() to out_capture_end(), and shown by
 * out_batch_show(), which frees the batch.  NULL: out of memory (the
 * events are then shown at once). */
struct out_batch;
struct out_batch *out_capture_begin(void);
void out_capture_end(void);
void out_batch_show(struct out_batch *b);

/* Shell messages outside the engine. */
void out_say(enum pp_ev kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The line editor registers how to hide and redraw the line being
 * typed; out_event hides it before the first line it prints, and
 * out_redraw() brings it back once a batch of output is done.
 */
void out_set_editor(bool (*hide)(void), void (*show)(void));
void out_redraw(void);

void out_flush(void);

/* With --json: writes the last event, {"event":"exit","status":N}.
 * Returns status (main returns what this returns). */
int out_exit(int status);

/* Is colour on (a terminal, no NO_COLOR, no --no-color)? */
bool out_color(void);

/* Prints a block of text as it is (lesson texts), editor hidden. */
void out_text(const char *text);

/* A block of data lines (/cert pem): on the screen as out_text (server
 * bytes made visible, line ends kept), in JSON one "tls" event with
 * this id. */
void out_block(const char *id, const char *text);

/*
 * The transcript (--log FILE, /log FILE): every line the screen shows,
 * without colour, appended to FILE (created with mode 0600; a symlink or
 * anything but a regular file is refused).  out_log_open() returns 0, or
 * -1 with errno set (the previous transcript, if any, stays open then).
 * A write error is reported once on stderr and is not fatal.
 */
int out_log_open(const char *path);
void out_log_close(void);
/* The transcript's file name, or NULL when there is none. */
const char *out_log_path(void);
/* Writes the header line of a session (date, time, server) into the
 * transcript, if there is one.  host NULL: the server of the last
 * session (none after out_log_forget()); port goes with host. */
void out_log_session(const char *host, const char *port);
void out_log_forget(void);

#endif
