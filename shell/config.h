/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.h: the conventions a command-line user expects: the config
 * file ($XDG_CONFIG_HOME/mailsh/config), the colour decision (--color,
 * NO_COLOR, CLICOLOR, CLICOLOR_FORCE) and one-line usage errors that
 * point to --help.
 */
#ifndef MAILSH_CONFIG_H
#define MAILSH_CONFIG_H

#include <limits.h>
#include <stdbool.h>

enum color_mode { COLOR_UNSET = -1, COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* What the config file set; fields it did not set stay "unset". */
struct config {
	char path[PATH_MAX];	/* the file read (for messages) */
	char cafile[PATH_MAX];	/* "" unset; ~/ expanded */
	char capath[PATH_MAX];	/* the same for capath, cert, key */
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char lang[3];		/* "de", "en" or "" */
	int timeout_s;		/* 0 unset, else 1..3600 */
	int annotate;		/* -1 unset, else an enum ann_mode */
	enum color_mode color;
	int confirm;		/* -1 unset, 0 no, 1 yes */
	int tls_min, tls_max;	/* 0 unset, else TLS1_VERSION ... */
	char ciphers[512];	/* "" unset */
	char ciphersuites[512];
	bool ciphersuites_set;	/* "" is a value: no TLS 1.3 suite */
	char groups[256];	/* "" unset */
};

/*
 * Reads the config file: path, else $XDG_CONFIG_HOME/mailsh/config
 * (default ~/.config/mailsh/config).  A missing file is no error.
 * `key = value` lines, blank lines and # comment lines; keys: cafile,
 * capath, cert, key, lang, timeout, annotate, color, confirm, tls-min,
 * tls-max, ciphers, ciphersuites, groups (checked with OpenSSL as they
 * are read).  A lang line takes effect
 * at once (i18n_set_lang), so what follows speaks it.  Returns 0, or 2
 * (the usage exit status) after printing "mailsh: FILE:LINE: what is
 * wrong".
 */
int config_load(struct config *c, const char *path);

/* Is --no-config among the arguments (before a "--")?  Only the whole
 * word counts: every shorter prefix is ambiguous (--no-confirm). */
bool config_skip(int argc, char *const *argv);

/* Parses auto|always|never (also yes/no, true/false: always/never). */
bool color_mode_parse(const char *s, enum color_mode *m);

/*
 * Colour or not: mode always/never decides; auto (or unset) asks the
 * environment: NO_COLOR (any non-empty value: never), CLICOLOR_FORCE
 * (set, not empty and not 0: always, even on a pipe), CLICOLOR=0
 * (never), else colour when tty (the output is a terminal) and TERM is
 * not "dumb".
 */
bool color_decide(enum color_mode mode, bool tty);

/*
 * Usage errors, one line each and then "Try 'PROG --help' for more
 * information." (PROG: "mailsh", "mailsh lab" ...), on stderr.  getopt
 * must run with opterr = 0 and an optstring that starts with ':'.
 * cli_bad_option explains what getopt_long returned ('?' or ':') for
 * the options lo and returns 2.
 */
struct option;
int cli_bad_option(const char *prog, const char *optstring,
    const struct option *lo, int c, char *const *argv);
void cli_try(const char *prog);
/* "PROG: MESSAGE" (printf-style), then the Try line; returns 2. */
int cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
