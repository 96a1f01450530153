/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.c: the config file, the colour decision and usage errors (see
 * config.h).
 */
#include "config.h"
#include "shell.h"
#include "../protocols/conn.h"
#include "../protocols/i18n.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_LINE_MAX 4096

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

bool
color_mode_parse(const char *s, enum color_mode *m)
{
	static const struct {
		const char *name;
		enum color_mode mode;
	} names[] = {
		{ "auto", COLOR_AUTO }, { "tty", COLOR_AUTO },
		{ "if-tty", COLOR_AUTO }, { "always", COLOR_ALWAYS },
		{ "yes", COLOR_ALWAYS }, { "force", COLOR_ALWAYS },
		{ "never", COLOR_NEVER }, { "no", COLOR_NEVER },
		{ "none", COLOR_NEVER },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*m = names[i].mode;
			return true;
		}
	return false;
}

bool
color_decide(enum color_mode mode, bool tty)
{
	if (mode == COLOR_ALWAYS)
		return true;
	if (mode == COLOR_NEVER)
		return false;
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	const char *force = getenv("CLICOLOR_FORCE");
	if (force && *force && strcmp(force, "0") != 0)
		return true;
	const char *cli = getenv("CLICOLOR");
	if (cli && strcmp(cli, "0") == 0)
		return false;
	const char *term = getenv("TERM");
	return tty && !(term && strcmp(term, "dumb") == 0);
}

/* The default place: $XDG_CONFIG_HOME/mailsh/config, else
 * ~/.config/mailsh/config (a relative XDG_CONFIG_HOME is ignored, as
 * the XDG spec asks).  False if there is none. */
static bool
config_default_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && *xdg == '/')
		n = snprintf(buf, cap, "%s/mailsh/config", xdg);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.config/mailsh/config", home);
	else
		return false;
	return n > 0 && (size_t)n < cap;
}

static int
config_error(const struct config *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
config_error(const struct config *c, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mailsh: %s:%d: %s\n", c->path, line, msg);
	return 2;
}

static bool
parse_yes_no(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return true;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/* One "key = value" line; returns 0 or 2. */
static int
config_line(struct config *c, int ln, char *key, char *val)
{
	/* file names: ~/ at the start is the home directory */
	char *path = strcmp(key, "cafile") == 0 ? c->cafile
	    : strcmp(key, "capath") == 0 ? c->capath
	    : strcmp(key, "cert") == 0 ? c->cert
	    : strcmp(key, "key") == 0 ? c->key : NULL;
	if (path) {
		const char *home = getenv("HOME");
		int n;
		if (!*val)
			return config_error(c, ln, _("%s wants a file name"),
			    key);
		if (strncmp(val, "~/", 2) == 0 && home && *home)
			n = snprintf(path, PATH_MAX, "%s/%s", home, val + 2);
		else
			n = snprintf(path, PATH_MAX, "%s", val);
		if (n < 0 || n >= PATH_MAX)
			return config_error(c, ln, _("%s: the file name is "
			    "too long"), key);
	} else if (strcmp(key, "lang") == 0) {
		if (strcmp(val, "de") != 0 && strcmp(val, "en") != 0)
			return config_error(c, ln, _("lang wants de or en, "
			    "not \"%s\""), val);
		snprintf(c->lang, sizeof(c->lang), "%s", val);
		i18n_set_lang(val);	/* later errors in this language */
	} else if (strcmp(key, "timeout") == 0) {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (!isdigit((unsigned char)*val) || *end || errno || v < 1 ||
		    v > 3600)
			return config_error(c, ln, _("timeout wants seconds "
			    "from 1 to 3600, not \"%s\""), val);
		c->timeout_s = (int)v;
	} else if (strcmp(key, "annotate") == 0) {
		/* enum ann_mode: ANN_OFF, ANN_BRIEF, ANN_FULL */
		static const char *const modes[] = { "off", "brief", "full" };
		int m = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(val, modes[i]) == 0)
				m = i;
		if (m < 0)
			return config_error(c, ln, _("annotate wants off, "
			    "brief or full, not \"%s\""), val);
		c->annotate = m;
	} else if (strcmp(key, "color") == 0 || strcmp(key, "colour") == 0) {
		if (!color_mode_parse(val, &c->color))
			return config_error(c, ln, _("color wants auto, "
			    "always or never, not \"%s\""), val);
	} else if (strcmp(key, "confirm") == 0) {
		if (!parse_yes_no(val, &c->confirm))
			return config_error(c, ln, _("confirm wants yes or "
			    "no, not \"%s\""), val);
	} else if (strcmp(key, "tls-min") == 0 ||
	    strcmp(key, "tls-max") == 0) {
		int v = conn_tls_version_parse(val);
		if (!v)
			return config_error(c, ln, _("%s wants 1.0, 1.1, 1.2 "
			    "or 1.3, not \"%s\""), key, val);
		*(key[4] == 'i' ? &c->tls_min : &c->tls_max) = v;
	} else if (strcmp(key, "ciphers") == 0 ||
	    strcmp(key, "ciphersuites") == 0 || strcmp(key, "groups") == 0) {
		/* each alone through OpenSSL, so the line is to blame */
		struct tls_opts o = { 0 };
		char *dst = c->groups;
		size_t cap = sizeof(c->groups);
		if (strcmp(key, "ciphers") == 0) {
			o.ciphers = val;
			dst = c->ciphers;
			cap = sizeof(c->ciphers);
		} else if (strcmp(key, "ciphersuites") == 0) {
			o.ciphersuites = val;
			dst = c->ciphersuites;
			cap = sizeof(c->ciphersuites);
			c->ciphersuites_set = true;
		} else {
			o.groups = val;
		}
		if (strlen(val) >= cap || conn_tls_opts_check(&o) !=
		    TLS_OPT_OK)
			return config_error(c, ln, _("%s: OpenSSL does not "
			    "accept \"%s\""), key, val);
		snprintf(dst, cap, "%s", val);
	} else {
		return config_error(c, ln, _("unknown key \"%s\" (known: "
		    "cafile, capath, cert, key, lang, timeout, annotate, color, "
		    "confirm, tls-min, tls-max, ciphers, ciphersuites, "
		    "groups)"), key);
	}
	return 0;
}

bool
config_skip(int argc, char *const *argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--no-config") == 0)
			return true;
	}
	return false;
}

int
config_load(struct config *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->annotate = -1;
	c->color = COLOR_UNSET;
	c->confirm = -1;
	if (path)
		snprintf(c->path, sizeof(c->path), "%s", path);
	else if (!config_default_path(c->path, sizeof(c->path)))
		return 0;
	FILE *f = fopen(c->path, "r");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		fprintf(stderr, _("mailsh: cannot read %s: %s\n"), c->path,
		    strerror(errno));
		return 2;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, _("mailsh: %s is not a file\n"), c->path);
		fclose(f);
		return 2;
	}
	char buf[CONFIG_LINE_MAX];
	int ln = 0, r = 0;
	while (r == 0 && fgets(buf, sizeof(buf), f)) {
		ln++;
		size_t n = strlen(buf);
		if (n == sizeof(buf) - 1 && buf[n - 1] != '\n' && !feof(f)) {
			r = config_error(c, ln, _("line too long"));
			break;
		}
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			r = config_error(c, ln, _("no \"=\": want key = "
			    "value"));
			break;
		}
		*eq = '\0';
		r = config_line(c, ln, trim(s), trim(eq + 1));
	}
	if (r == 0 && ferror(f)) {
		fprintf(stderr, _("mailsh: cannot read %s: %s\n"), c->path,
		    strerror(errno));
		r = 2;
	}
	fclose(f);
	return r;
}

/* ---- usage errors ---- */

void
cli_try(const char *prog)
{
	/* TRANSLATORS: %s is the command, "mailsh" or "mailsh lab" */
	fprintf(stderr, _("Try '%s --help' for more information.\n"), prog);
}

int
cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_try(prog);
	return 2;
}

/* Does name (without its "=...") start two long options that differ? */
static bool
ambiguous(const char *name, const struct option *lo)
{
	size_t n = strlen(name);
	const struct option *first = NULL;
	if (n < 3 || !lo)
		return false;
	for (; lo->name; lo++) {
		if (strncmp(lo->name, name + 2, n - 2) != 0)
			continue;
		if (strlen(lo->name) == n - 2)
			return false;	/* an exact match */
		if (!first)
			first = lo;
		else if (first->val != lo->val || first->has_arg !=
		    lo->has_arg || first->flag != lo->flag)
			return true;
	}
	return false;
}

int
cli_bad_option(const char *prog, const char *optstring,
    const struct option *lo, int c, char *const *argv)
{
	extern int optind, optopt;
	/* the element getopt just finished; a long option is always a
	 * whole element (cut at its "=") */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];
	bool is_long = strncmp(arg, "--", 2) == 0;
	if (is_long)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="),
		    arg);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (c == ':')
		return cli_usage_error(prog, _("option '%s' needs an "
		    "argument"), name);
	/* '?': an unknown long option (optopt 0), an unknown short one
	 * (optopt not in optstring), or a long one given an argument it
	 * does not take (optopt is its value) */
	if (optopt == 0 && ambiguous(name, lo))
		return cli_usage_error(prog, _("option '%s' is ambiguous"),
		    name);
	if (optopt == 0)
		return cli_usage_error(prog, _("unknown option '%s'"), name);
	if (optopt < 256 && optopt != ':' && !strchr(optstring, optopt)) {
		snprintf(name, sizeof(name), "-%c", optopt);
		return cli_usage_error(prog, _("unknown option '%s'"), name);
	}
	return cli_usage_error(prog, _("option '%s' takes no argument"),
	    name);
}
