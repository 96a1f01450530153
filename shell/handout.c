/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * handout.c: a lesson on paper for a course (`mailsh lesson NAME
 * --handout md|html [--answers]`).
 *
 * The worksheet is what a student gets: title, summary, duration, every
 * step's task with room to write the commands and the server's answer,
 * the questions with boxes to tick, challenge steps marked.  It holds no
 * model answer, no answer to a question and no hint (the first rung of a
 * hint ladder often is the answer already; the runner gives the hints
 * when they are needed), and no "what you learned" (it sums up the
 * answers): it asks for the student's own summary instead.
 *
 * The answer key adds the model answers, the right choice and the
 * explanation of each question, every hint (the ladder, the hints keyed
 * to a server reply and the notes keyed to what was typed, each with its
 * pattern in plain words where it is a plain string), the lines a real
 * --check run exchanged with the lab (recorded by the runner through
 * handout_rec_event), and "what you learned".
 *
 * Lesson texts are plain text whose line breaks are only wrapping: lines
 * are joined into paragraphs, and a line that starts with "- " starts a
 * list item.  Mail addresses in angle brackets, with the command word in
 * front of them (MAIL FROM:<alice@lab.example>), become code; every other
 * character that Markdown or HTML would take as markup is escaped.
 */
#include "handout.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAILSH_VERSION
#define MAILSH_VERSION "0.0"
#endif

/* ---- the recorder ---- */

struct handout_rec *
handout_rec_new(void)
{
	return calloc(1, sizeof(struct handout_rec));
}

void
handout_rec_free(struct handout_rec *rec)
{
	if (!rec)
		return;
	for (int k = 0; k < LESSON_STEPS_MAX; k++) {
		struct handout_step_rec *s = &rec->step[k];
		for (int i = 0; i < s->n; i++)
			free(s->line[i]);
		for (int i = 0; i < s->natt; i++)
			free(s->att[i]);
	}
	free(rec);
}

/* A copy of text made safe to show (control bytes visible), cut after
 * HANDOUT_REC_COLS characters with a mark; kind is its first byte. */
static char *
rec_copy(char kind, const char *text, size_t len)
{
	char buf[HANDOUT_REC_COLS * 4 + 64];
	struct sbuf sb;
	sbuf_init(&sb, buf, sizeof(buf));
	sbuf_add(&sb, &kind, 1);
	show_bytes(&sb, text, len);
	/* count characters (UTF-8 lead bytes) and cut at a boundary */
	size_t i = 1, chars = 0;
	while (i < sb.len && chars < HANDOUT_REC_COLS) {
		i++;
		while (i < sb.len && ((unsigned char)buf[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	bool cut = i < sb.len || sb.truncated;
	buf[i] = '\0';
	char out[sizeof(buf) + 64];
	snprintf(out, sizeof(out), "%s%s%s", buf, cut ? " \u2026 " : "",
	    cut ? _("[cut]") : "");
	return strdup(out);
}

void
handout_rec_event(struct handout_rec *rec, int step, const struct pp_event *ev)
{
	if (!rec || step < 0 || step >= LESSON_STEPS_MAX)
		return;
	char kind = ev->kind == PP_EV_SEND ? 'C' : ev->kind == PP_EV_RECV
	    ? 'S' : ev->kind == PP_EV_INJECT ? 'I' : 0;
	if (!kind)
		return;
	struct handout_step_rec *s = &rec->step[step];
	if (s->n >= HANDOUT_REC_LINES) {
		s->more++;
		return;
	}
	char *c = rec_copy(kind, ev->text, ev->len);
	if (c)
		s->line[s->n++] = c;
}

void
handout_rec_attacker(struct handout_rec *rec, int step, const char *line)
{
	if (!rec || step < 0 || step >= LESSON_STEPS_MAX)
		return;
	/* "mitm: #1 S: ..." and "#1 C: ..." only repeat the exchange */
	const char *h = strchr(line, '#');
	if (h) {
		h++;
		while (*h >= '0' && *h <= '9')
			h++;
		if (strncmp(h, " S: ", 4) == 0 || strncmp(h, " C: ", 4) == 0)
			return;
	}
	struct handout_step_rec *s = &rec->step[step];
	if (s->natt >= HANDOUT_REC_ATTACKER) {
		s->att_more++;
		return;
	}
	char *c = rec_copy('A', line, strlen(line));
	if (c)
		s->att[s->natt++] = c;
}

int
handout_quiet_begin(void)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

void
handout_quiet_end(int saved)
{
	fflush(stdout);
	if (saved < 0)
		return;
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

/* ---- writing: Markdown or HTML ---- */

static bool html;

static void
put(const char *s)
{
	fputs(s, stdout);
}

static void
html_esc(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': put("&lt;"); break;
		case '>': put("&gt;"); break;
		case '&': put("&amp;"); break;
		case '"': put("&quot;"); break;
		default: putchar(s[i]);
		}
	}
}

/* Prose in Markdown: every character CommonMark (or GFM) could take as
 * markup gets a backslash; at the start of a line also the ones that
 * start a block (list, heading, quote, rule). */
static void
md_esc(const char *s, size_t n, bool line_start)
{
	size_t i = 0;
	if (line_start) {
		size_t d = 0;
		while (d < n && d < 9 && s[d] >= '0' && s[d] <= '9')
			d++;
		if (d > 0 && d < n && (s[d] == '.' || s[d] == ')')) {
			fwrite(s, 1, d, stdout);
			putchar('\\');
			i = d;
		} else if (n > 0 && strchr("-+=#", s[0])) {
			putchar('\\');
		}
	}
	for (; i < n; i++) {
		if (s[i] != '\0' && strchr("\\`*_[]<>&~", s[i]))
			putchar('\\');
		putchar(s[i]);
	}
}

static void
prose(const char *s, size_t n, bool line_start)
{
	if (html)
		html_esc(s, n);
	else
		md_esc(s, n, line_start);
}

/* A Markdown code span: the delimiter is one backtick more than the
 * longest run inside; a space pads text that starts or ends with one. */
static void
md_code(const char *s, size_t n)
{
	size_t run = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	bool pad = n > 0 && (s[0] == '`' || s[n - 1] == '`' ||
	    (s[0] == ' ' && s[n - 1] == ' '));
	for (size_t i = 0; i <= longest; i++)
		putchar('`');
	if (pad)
		putchar(' ');
	fwrite(s, 1, n, stdout);
	if (pad)
		putchar(' ');
	for (size_t i = 0; i <= longest; i++)
		putchar('`');
}

static void
code(const char *s, size_t n)
{
	if (html) {
		put("<code>");
		html_esc(s, n);
		put("</code>");
	} else {
		md_code(s, n);
	}
}

static void
codes(const char *s)
{
	code(s, strlen(s));
}

static bool
is_upper_word(const char *s, size_t n)
{
	if (n < 3)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/*
 * Finds the next address in angle brackets in s[from..n): returns true
 * and the span of the code to make of it, which takes in what is glued
 * to the front of it ("FROM:") and a command word before that ("MAIL").
 */
static bool
next_address(const char *s, size_t n, size_t from, size_t *a, size_t *b)
{
	for (size_t i = from; i < n; i++) {
		if (s[i] != '<')
			continue;
		size_t j = i + 1;
		bool at = false;
		while (j < n && s[j] != '>' && s[j] != '<' && s[j] != ' ' &&
		    s[j] != '\t') {
			at = at || s[j] == '@';
			j++;
		}
		if (j >= n || s[j] != '>' || !at)
			continue;
		size_t st = i;
		while (st > from && (strchr(":.-_", s[st - 1]) ||
		    (s[st - 1] >= 'A' && s[st - 1] <= 'Z') ||
		    (s[st - 1] >= 'a' && s[st - 1] <= 'z') ||
		    (s[st - 1] >= '0' && s[st - 1] <= '9')))
			st--;
		if (st < i && st >= from + 2 && s[st - 1] == ' ') {
			size_t w = st - 1;
			while (w > from && s[w - 1] != ' ')
				w--;
			if (is_upper_word(s + w, st - 1 - w))
				st = w;
		}
		*a = st;
		*b = j + 1;
		return true;
	}
	return false;
}

/* ---- commands in lesson text ---- */

static const char *const cmd_words[] = {
	/* SMTP */ "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
	"QUIT", "VRFY", "EXPN", "STARTTLS", "AUTH", "BDAT",
	/* POP3 */ "USER", "PASS", "STAT", "LIST", "RETR", "DELE", "TOP",
	"UIDL", "CAPA", "STLS", "APOP",
	/* IMAP, after a tag */ "CAPABILITY", "LOGIN", "LOGOUT", "SELECT",
	"EXAMINE", "FETCH", "STORE", "SEARCH", "LSUB", "STATUS", "APPEND",
	"EXPUNGE", "CLOSE", "IDLE", "AUTHENTICATE", "CREATE", "DELETE",
	"RENAME", "COPY", "UID", "ENABLE", "ID",
};

/* Words that say a piece of text is a sentence, not a command. */
static const char *const prose_words[] = {
	"and", "then", "or", "the", "a", "an", "with", "is", "for", "to",
	"und", "dann", "oder", "der", "die", "das", "mit", "ist", "ein",
	"eine", "für",
};

static bool
word_in(const char *w, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && strncmp(list[i], w, n) == 0)
			return true;
	return false;
}

/* Does an argument look like one (a number, a name with a dot, an
 * address, upper case), not like a word of a sentence? */
static bool
arg_like(const char *w, size_t n)
{
	bool lower = false, mark = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];
		lower = lower || (c >= 'a' && c <= 'z') || c >= 0x80;
		mark = mark || (c >= '0' && c <= '9') ||
		    strchr(".@:<>-=\"\\/{}[]*%+_", c);
	}
	return !lower || mark;
}

/*
 * How much of s[0..n) is a command a learner would type ("EHLO
 * pc17.example", "a1 LOGIN bob bob-pass", "MAIL FROM:<x@y>", "/skip"):
 * all of it but a final full stop, or 0 if it is not one.  A plain
 * lower-case word is an argument only where a user name goes.
 */
static size_t
cmd_len(const char *s, size_t n)
{
	static const char *const names_after[] = { "USER", "VRFY", "EXPN",
	    "LOGIN", "APOP", "/auth-plain", "/auth-login" };
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 80 || memchr(s, ',', n))
		return 0;
	size_t i = 0, words = 0, cmd = 0, cw = 0, ci = 0;
	bool meta = s[0] == '/', found = meta, names = false;
	while (i < n) {
		size_t st = i;
		while (i < n && s[i] != ' ')
			i++;
		size_t wl = i - st;
		if (words == 0 && meta) {
			cmd = st;
			cw = wl;
			names = word_in(s + st, wl, names_after, 7);
		} else if (words <= 1 && !found && word_in(s + st, wl,
		    cmd_words, sizeof(cmd_words) / sizeof(cmd_words[0]))) {
			if (words == 1) {	/* after an IMAP tag: a1 */
				bool digit = false;
				for (size_t k = 0; k < cw; k++)
					digit = digit || (s[cmd + k] >= '0' &&
					    s[cmd + k] <= '9');
				if (!digit || !arg_like(s + cmd, cw))
					return 0;
			}
			found = true;
			cmd = st;
			cw = wl;
			ci = words;
			names = word_in(s + st, wl, names_after, 7);
		} else if (words == 0) {
			cmd = st;	/* perhaps a tag */
			cw = wl;
		} else if (!found) {
			return 0;
		} else if (word_in(s + st, wl, prose_words,
		    sizeof(prose_words) / sizeof(prose_words[0])) ||
		    (!arg_like(s + st, wl) && !(names && words - ci <=
		    (s[cmd] == 'L' ? 2u : 1u)))) {
			return 0;
		}
		words++;
		while (i < n && s[i] == ' ')
			i++;
	}
	return found && words <= 6 ? n : 0;
}

/* Prose with addresses as code. */
static void
prose_addr(const char *s, size_t n, bool line_start)
{
	size_t pos = 0, a, b;
	while (next_address(s, n, pos, &a, &b)) {
		prose(s + pos, a - pos, line_start && pos == 0);
		code(s + a, b - a);
		pos = b;
	}
	if (pos < n)
		prose(s + pos, n - pos, line_start && pos == 0);
}

static void rich(const char *s, size_t n, bool whole, const char *lines);

/*
 * Commands joined by words, "RSET, then MAIL FROM:<x@y>": each command
 * as code.  With emit false only tells whether s is such a run.
 */
static bool
cmd_run(const char *s, size_t n, bool emit)
{
	static const char *const joins[] = { ", then ", ", dann ",
	    " then ", " dann ", ", " };
	static const char *const tails[] = { ", then", ", dann" };
	size_t c = cmd_len(s, n);
	if (c) {
		if (emit) {
			code(s, c);
			prose(s + c, n - c, false);
		}
		return true;
	}
	for (size_t j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
		size_t tl = strlen(tails[j]);
		if (n > tl && memcmp(s + n - tl, tails[j], tl) == 0 &&
		    cmd_len(s, n - tl) == n - tl) {
			if (emit) {
				code(s, n - tl);
				prose(s + n - tl, tl, false);
			}
			return true;
		}
	}
	for (size_t j = 0; j < sizeof(joins) / sizeof(joins[0]); j++) {
		const char *m = memmem(s, n, joins[j], strlen(joins[j]));
		if (!m)
			continue;
		size_t k = (size_t)(m - s), jl = strlen(joins[j]);
		if (cmd_len(s, k) != k)
			continue;
		if (emit) {
			code(s, k);
			prose(s + k, jl, false);
			if (!cmd_run(s + k + jl, n - k - jl, true))
				rich(s + k + jl, n - k - jl, false, NULL);
		}
		return true;
	}
	return false;
}

/* Where a command may follow in a sentence. */
static const char *const cmd_triggers[] = {
	": ", "Type ", "type ", "Tippe ", "tippe ", "Say ", "say ",
	"Sag ", "sag ", " with ", " mit ",
};

/*
 * A paragraph of lesson text (lines joined).  A command that follows
 * ": " or "type" (and the like) up to the end of its sentence is code,
 * as is a whole text that is only a command (`whole`); addresses are
 * code anywhere; the rest is prose.  lines is the text as the lesson
 * wrapped it (s with its line breaks): a command may also end where a
 * line ends and the next begins with a capital, a new sentence.
 */
static void
rich(const char *s, size_t n, bool whole, const char *lines)
{
	size_t pos = 0;
	bool fresh = true;	/* at the start of an output line */
	for (size_t st = 0; st <= n; st++) {
		if (st > 0 || !whole) {
			size_t tl = 0;
			for (size_t j = 0; j < sizeof(cmd_triggers) /
			    sizeof(cmd_triggers[0]) && !tl; j++) {
				size_t l = strlen(cmd_triggers[j]);
				if (st >= l && st >= pos + l &&
				    memcmp(s + st - l, cmd_triggers[j], l) == 0)
					tl = l;
			}
			if (!tl)
				continue;
		}
		/* the sentence goes on to ". ", "; " or the end */
		size_t e = st;
		while (e < n && !((s[e] == '.' || s[e] == ';' ||
		    s[e] == '?') && (e + 1 == n || s[e + 1] == ' ')))
			e++;
		if (e == n && e > st && s[e - 1] == '.')
			e--;
		/* a line break before that where a sentence starts ("Watch")
		 * ends the command too */
		bool ok = false, br = false;
		for (size_t b = st + 1; lines && b + 2 < e && !ok; b++) {
			if (lines[b] == '\n' && lines[b + 1] >= 'A' &&
			    lines[b + 1] <= 'Z' && lines[b + 2] >= 'a' &&
			    lines[b + 2] <= 'z' && cmd_run(s + st, b - st, false)) {
				e = b;
				ok = br = true;
			}
		}
		ok = ok || (e > st && cmd_run(s + st, e - st, false));
		if (!ok)
			continue;
		prose_addr(s + pos, st - pos, fresh);
		cmd_run(s + st, e - st, true);
		fresh = br;
		if (br) {	/* the line break ends the sentence: keep it */
			put(html ? "<br>\n" : "\\\n");
			e++;
		}
		pos = st = e;
	}
	if (pos < n)
		prose_addr(s + pos, n - pos, fresh);
}

/* Joins the lines of t with blanks; NULL when out of memory. */
static char *
joined(const char *t, size_t n)
{
	char *j = malloc(n + 1);
	if (!j)
		return NULL;
	for (size_t i = 0; i < n; i++)
		j[i] = t[i] == '\n' ? ' ' : t[i];
	j[n] = '\0';
	return j;
}

/*
 * Text on one line of output (a hint, a choice): lines joined.  With
 * cmds, commands become code as in lesson texts (not in a title).
 */
static void
inline_text2(const char *t, bool cmds)
{
	size_t n = strlen(t);
	char *j = joined(t, n);
	if (!j) {
		prose(t, n, true);
		return;
	}
	if (cmds)
		rich(j, n, true, t);
	else
		prose_addr(j, n, true);
	free(j);
}

static void
inline_text(const char *t)
{
	inline_text2(t, true);
}

/* ---- lines the lesson file indents deeper: examples, kept as lines */

static char **verb;
static size_t nverb;

static void
verbatim_free(void)
{
	for (size_t i = 0; i < nverb; i++)
		free(verb[i]);
	free(verb);
	verb = NULL;
	nverb = 0;
}

/*
 * The lesson file keeps no indentation in its texts, but a lesson writes
 * an example (a mail to type, a block of commands) indented deeper than
 * the text around it: those lines are read from the file again.
 */
static void
verbatim_load(const char *path)
{
	verbatim_free();
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[4200];
	char *block[256];
	int ind[256], nb = 0;
	size_t cap = 0;
	for (bool more = true; more;) {
		more = fgets(line, sizeof(line), f) != NULL;
		size_t n = more ? strlen(line) : 0;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		    line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		int in = 0;
		while (more && (line[in] == ' ' || line[in] == '\t'))
			in++;
		if (more && in > 0 && line[in] && nb < 256) {
			block[nb] = strdup(line + in);
			ind[nb++] = in;
			continue;
		}
		if (more && in > 0)
			continue;
		/* a key line or the end: the block before is complete */
		int base = 1 << 20;
		for (int i = 0; i < nb; i++)
			if (ind[i] < base)
				base = ind[i];
		for (int i = 0; i < nb; i++) {
			if (ind[i] > base && block[i] && nverb < 4096) {
				if (nverb == cap) {
					size_t nc = cap ? cap * 2 : 64;
					char **nv = realloc(verb, nc *
					    sizeof(*nv));
					if (!nv) {
						free(block[i]);
						continue;
					}
					verb = nv;
					cap = nc;
				}
				verb[nverb++] = block[i];
			} else {
				free(block[i]);
			}
		}
		nb = 0;
	}
	fclose(f);
}

static bool
is_verbatim(const char *s, size_t n)
{
	for (size_t i = 0; i < nverb; i++)
		if (strlen(verb[i]) == n && memcmp(verb[i], s, n) == 0)
			return true;
	return false;
}

static size_t
fence_len(const char *t)
{
	/* the longest run of backticks in the verbatim lines from t on */
	size_t longest = 0;
	while (*t) {
		const char *e = strchr(t, '\n');
		size_t n = e ? (size_t)(e - t) : strlen(t);
		if (!is_verbatim(t, n))
			break;
		size_t run = 0;
		for (size_t i = 0; i < n; i++) {
			run = t[i] == '`' ? run + 1 : 0;
			if (run > longest)
				longest = run;
		}
		t += n + (e ? 1 : 0);
	}
	return longest < 3 ? 3 : longest + 1;
}

/*
 * A lesson text as paragraphs: its line breaks are wrapping; a line
 * that starts with "- " starts a list item; lines the file indents
 * deeper are an example, kept line by line in monospace.
 */
static void
text_block(const char *t)
{
	bool in_list = false;
	while (*t) {
		const char *e = strchr(t, '\n');
		size_t n = e ? (size_t)(e - t) : strlen(t);
		if (is_verbatim(t, n)) {
			size_t fence = fence_len(t);
			if (in_list)
				put(html ? "</ul>\n" : "\n");
			in_list = false;
			if (html) {
				put("<pre class=\"example\">");
			} else {
				for (size_t i = 0; i < fence; i++)
					putchar('`');
				putchar('\n');
			}
			while (*t) {
				e = strchr(t, '\n');
				n = e ? (size_t)(e - t) : strlen(t);
				if (!is_verbatim(t, n))
					break;
				if (html)
					html_esc(t, n);
				else
					fwrite(t, 1, n, stdout);
				putchar('\n');
				t += n + (e ? 1 : 0);
			}
			if (html) {
				put("</pre>\n");
			} else {
				for (size_t i = 0; i < fence; i++)
					putchar('`');
				put("\n\n");
			}
			continue;
		}
		/* a paragraph or a list item: up to the next item or example */
		bool item = n >= 2 && t[0] == '-' && t[1] == ' ';
		const char *p = item ? t + 2 : t, *q = t + n;
		while (*q == '\n') {
			const char *ne = strchr(q + 1, '\n');
			size_t nn = ne ? (size_t)(ne - q - 1) : strlen(q + 1);
			if (nn == 0 || is_verbatim(q + 1, nn) || (nn >= 2 &&
			    q[1] == '-' && q[2] == ' '))
				break;
			q += 1 + nn;
		}
		char *j = joined(p, (size_t)(q - p));
		if (in_list && !item)
			put(html ? "</ul>\n" : "\n");
		if (html)
			put(item ? (in_list ? "<li>" : "<ul>\n<li>") : "<p>");
		else if (item)
			put("- ");
		in_list = item;
		if (j)
			rich(j, (size_t)(q - p), false, p);
		free(j);
		if (html)
			put(item ? "</li>\n" : "</p>\n");
		else
			put(item ? "\n" : "\n\n");
		t = *q ? q + 1 : q;
	}
	if (in_list)
		put(html ? "</ul>\n" : "\n");
}

/* A format with one %s: the words as prose, the %s as code. */
static void
fmt_code(const char *fmt, const char *arg)
{
	const char *p = strstr(fmt, "%s");
	if (!p) {
		prose(fmt, strlen(fmt), false);
		return;
	}
	prose(fmt, (size_t)(p - fmt), false);
	codes(arg);
	prose(p + 2, strlen(p + 2), false);
}

/* A line of fixed words (already translated) as a bold label. */
static void
label(const char *words)
{
	if (html) {
		put("<p class=\"label\">");
		html_esc(words, strlen(words));
		put("</p>\n");
	} else {
		put("**");
		md_esc(words, strlen(words), false);
		put("**\n\n");
	}
}

/* A Markdown code fence longer than any run of backticks inside. */
static void
fence(const char *const *lines, int n)
{
	size_t longest = 0;
	for (int i = 0; i < n; i++) {
		size_t run = 0;
		for (const char *p = lines[i]; *p; p++) {
			run = *p == '`' ? run + 1 : 0;
			if (run > longest)
				longest = run;
		}
	}
	for (size_t i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		putchar('`');
}

/* A block of lines in monospace. */
static void
pre_begin(const char *cls, const char *const *lines, int n)
{
	if (html) {
		printf("<pre class=\"%s\">", cls);
		return;
	}
	fence(lines, n);
	putchar('\n');
}

static void
pre_end(const char *const *lines, int n)
{
	if (html) {
		put("</pre>\n");
		return;
	}
	fence(lines, n);
	put("\n\n");
}

static void
pre_line(const char *s)
{
	if (html)
		html_esc(s, strlen(s));
	else
		put(s);
	putchar('\n');
}

static const char *
pick(char *const txt[LESSON_LANGS], int lang)
{
	return txt[lang] ? txt[lang] : txt[0] ? txt[0] : "";
}

/* Room to write: n ruled lines. */
static void
write_box(const char *words, int n)
{
	if (html) {
		put("<div class=\"write\">");
		put("<p class=\"label\">");
		html_esc(words, strlen(words));
		put("</p>\n<div class=\"lines\">");
		for (int i = 0; i < n; i++)
			put("<div></div>");
		put("</div></div>\n");
		return;
	}
	label(words);
	put("```\n");
	for (int i = 0; i < n; i++)
		put("\n");
	put("```\n\n");
}

/*
 * Is pattern src a plain string (special characters escaped), perhaps
 * anchored?  Writes the string to lit.
 */
static bool
plain_pattern(const char *src, char *lit, size_t cap, bool *start, bool *end)
{
	size_t n = strlen(src), o = 0;
	*start = n > 0 && src[0] == '^';
	*end = n > 1 && src[n - 1] == '$' && src[n - 2] != '\\';
	size_t i = *start ? 1 : 0, stop = *end ? n - 1 : n;
	if (i >= stop)
		return false;
	for (; i < stop; i++) {
		char c = src[i];
		if (c == '\\') {
			if (i + 1 >= stop || !strchr(".[]()*+?{}|^$\\/-", src[i + 1]))
				return false;
			c = src[++i];
		} else if (strchr(".[]()*+?{}|^$", c)) {
			return false;
		}
		if (o + 1 >= cap)
			return false;
		lit[o++] = c;
	}
	lit[o] = '\0';
	return true;
}

/* "If a line of the reply begins with `503`:" and the like. */
static void
when(const char *src, bool typed)
{
	char lit[512];
	bool st, en;
	const char *fmt;
	if (!plain_pattern(src, lit, sizeof(lit), &st, &en)) {
		snprintf(lit, sizeof(lit), "%s", src);
		fmt = typed ? _("If the line typed matches the pattern %s:")
		    : _("If a line of the reply matches the pattern %s:");
	} else if (st && en) {
		fmt = typed ? _("If the line typed is %s:")
		    : _("If a line of the reply is %s:");
	} else if (st) {
		fmt = typed ? _("If the line typed begins with %s:")
		    : _("If a line of the reply begins with %s:");
	} else if (en) {
		fmt = typed ? _("If the line typed ends with %s:")
		    : _("If a line of the reply ends with %s:");
	} else {
		fmt = typed ? _("If the line typed contains %s:")
		    : _("If a line of the reply contains %s:");
	}
	if (html)
		put("<span class=\"when\">");
	else
		put("*");
	fmt_code(fmt, lit);
	put(html ? "</span> " : "* ");
}

static void
list_begin(bool ordered)
{
	if (html)
		put(ordered ? "<ol>\n" : "<ul>\n");
}

static void
item_begin(bool ordered, int k)
{
	if (html)
		put("<li>");
	else if (ordered)
		printf("%d. ", k);
	else
		put("- ");
}

static void
item_end(void)
{
	put(html ? "</li>\n" : "\n");
}

static void
list_end(bool ordered)
{
	if (html)
		put(ordered ? "</ol>\n" : "</ul>\n");
	else
		putchar('\n');
}

/* The answer key's part of a step: hints and notes. */
static void
key_hints(const struct lesson_step *s, int lang)
{
	int nh = s->nhint[lang] ? s->nhint[lang] : s->nhint[0];
	if (nh > 0) {
		if (html)
			put("<div class=\"hints\">\n");
		label(ngettext("Hint after a wrong try:",
		    "Hints, one per wrong try:", (unsigned long)nh));
		list_begin(true);
		for (int i = 0; i < nh; i++) {
			item_begin(true, i + 1);
			inline_text(pick(s->hint[i], lang));
			item_end();
		}
		list_end(true);
		if (html)
			put("</div>\n");
	}
	if (s->nreply > 0) {
		if (html)
			put("<div class=\"hints\">\n");
		label(_("Hints for what the server answered (the first that "
		    "fits is shown):"));
		list_begin(false);
		for (int i = 0; i < s->nreply; i++) {
			item_begin(false, i + 1);
			when(s->reply[i].src, false);
			inline_text(pick(s->reply[i].text, lang));
			item_end();
		}
		list_end(false);
		if (html)
			put("</div>\n");
	}
	if (s->ntyped > 0) {
		if (html)
			put("<div class=\"hints\">\n");
		label(_("Notes on what was typed (any case):"));
		list_begin(false);
		for (int i = 0; i < s->ntyped; i++) {
			item_begin(false, i + 1);
			when(s->typed[i].src, true);
			inline_text(pick(s->typed[i].text, lang));
			item_end();
		}
		list_end(false);
		if (html)
			put("</div>\n");
	}
}

/* The recorded exchange of one step. */
static void
key_record(const struct handout_step_rec *r)
{
	label(_("What the server answered (recorded from a real run of the "
	    "model answer):"));
	const char *lines[HANDOUT_REC_LINES + 2] = { 0 };
	char buf[HANDOUT_REC_LINES][HANDOUT_REC_COLS * 4 + 160];
	char more[128];
	int n = 0;
	for (int i = 0; r && i < r->n; i++) {
		const char *t = r->line[i] + 1;
		switch (r->line[i][0]) {
		case 'C':
			snprintf(buf[n], sizeof(buf[n]), "C: %s", t);
			break;
		case 'I':
			snprintf(buf[n], sizeof(buf[n]), "S: %s   <- %s", t,
			    _("injected in plaintext; mailsh dropped it"));
			break;
		default:
			snprintf(buf[n], sizeof(buf[n]), "S: %s", t);
		}
		lines[n] = buf[n];
		n++;
	}
	int total = n;
	if (r && r->more > 0) {
		snprintf(more, sizeof(more), ngettext("... %d more line",
		    "... %d more lines", (unsigned long)r->more), r->more);
		lines[total++] = more;
	}
	if (total == 0) {
		snprintf(more, sizeof(more), "%s", _("(nothing was exchanged)"));
		lines[total++] = more;
	}
	pre_begin("log", lines, total);
	for (int i = 0; i < total; i++) {
		if (html && i < n && r->line[i][0] == 'C') {
			put("<span class=\"c\">");
			html_esc(lines[i], strlen(lines[i]));
			put("</span>\n");
		} else if (html && i < n && r->line[i][0] == 'I') {
			put("<span class=\"inj\">");
			html_esc(lines[i], strlen(lines[i]));
			put("</span>\n");
		} else {
			pre_line(lines[i]);
		}
	}
	pre_end(lines, total);
	if (!r || r->natt == 0)
		return;
	label(_("What the man in the middle printed meanwhile:"));
	const char *att[HANDOUT_REC_ATTACKER + 1] = { 0 };
	int na = 0;
	for (int i = 0; i < r->natt; i++)
		att[na++] = r->att[i] + 1;
	if (r->att_more > 0) {
		snprintf(more, sizeof(more), ngettext("... %d more line",
		    "... %d more lines", (unsigned long)r->att_more),
		    r->att_more);
		att[na++] = more;
	}
	pre_begin("mitm", att, na);
	for (int i = 0; i < na; i++)
		pre_line(att[i]);
	pre_end(att, na);
}

/* The choices of a question, with boxes; the key ticks the right one. */
static void
choices(const struct lesson_step *s, int lang, bool answers)
{
	if (html)
		put("<ul class=\"choices\">\n");
	for (int i = 0; i < s->nchoice[0]; i++) {
		bool right = answers && i + 1 == s->answer;
		if (html) {
			put(right ? "<li class=\"right\"><span class=\"box\">"
			    "\u2714</span><span>" : "<li><span class=\"box\">"
			    "</span><span>");
			inline_text(pick(s->choice[i], lang));
			if (right) {
				put(" <em>(");
				put(_("right answer"));
				put(")</em>");
			}
			put("</span></li>\n");
		} else {
			put(right ? "- \u2611 **" : "- \u2610 ");
			inline_text(pick(s->choice[i], lang));
			if (right) {
				put("** *(");
				md_esc(_("right answer"),
				    strlen(_("right answer")), false);
				put(")*");
			}
			putchar('\n');
		}
	}
	put(html ? "</ul>\n" : "\n");
}

static const char css[] =
":root{--ink:#1b1d21;--muted:#5b6270;--rule:#aeb4bd;--accent:#1f5f99;"
"--warm:#a4510b;--code:#f2f4f7;--edge:#d5dae1}\n"
"*{box-sizing:border-box}\n"
"html{background:#e8eaee}\n"
"body{font:16px/1.5 \"DejaVu Sans\",\"Segoe UI\",Helvetica,Arial,"
"sans-serif;color:var(--ink);background:#fff;max-width:50rem;"
"margin:1.5rem auto;padding:2rem 2.6rem 1.2rem;"
"box-shadow:0 1px 5px rgba(0,0,0,.18)}\n"
"header{border-bottom:2px solid var(--ink);padding-bottom:.6rem;"
"margin-bottom:1rem}\n"
".kind{margin:0;font-size:.8rem;font-weight:bold;letter-spacing:.07em;"
"text-transform:uppercase;color:var(--accent)}\n"
"h1{font-size:1.7rem;line-height:1.25;margin:.15rem 0 .5rem}\n"
".summary{font-size:1.05rem;margin:.3rem 0}\n"
".start{color:var(--muted);margin:.3rem 0}\n"
".name{display:flex;gap:2.5rem;margin:1rem 0 .2rem}\n"
".name span.blank{display:inline-block;width:15rem;"
"border-bottom:1px solid var(--ink);margin-left:.4rem}\n"
"section.step{border:1px solid var(--edge);border-radius:6px;"
"padding:.7rem 1.1rem .9rem;margin:1rem 0;break-inside:avoid;"
"page-break-inside:avoid}\n"
"section.question{border-left:5px solid var(--accent)}\n"
"section.challenge{border-left:5px solid var(--warm)}\n"
"h2{font-size:1.12rem;margin:0 0 .35rem}\n"
"h2 .tag{font-size:.72rem;font-weight:bold;letter-spacing:.06em;"
"text-transform:uppercase;border:1px solid currentColor;"
"border-radius:3px;padding:.05rem .4rem;margin-left:.6rem;"
"vertical-align:.15rem}\n"
".question .tag{color:var(--accent)}.challenge .tag{color:var(--warm)}\n"
"p{margin:.45rem 0}\n"
".connect{font-size:.88rem;color:var(--muted);margin:.1rem 0 .4rem}\n"
"code,pre{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
"font-size:.86em}\n"
"code{background:var(--code);border-radius:3px;padding:.05em .3em;"
"white-space:nowrap}\n"
"pre{background:var(--code);border:1px solid var(--edge);"
"border-radius:4px;padding:.45rem .7rem;margin:.25rem 0 .6rem;"
"line-height:1.35;white-space:pre-wrap;overflow-wrap:anywhere}\n"
"pre.log .c{font-weight:bold;color:#17426e}\n"
"pre.log .inj{color:#a11;font-style:italic}\n"
"pre.mitm{border-style:dashed}\n"
".label{font-weight:bold;font-size:.92rem;margin:.7rem 0 .15rem}\n"
".lines div{height:2.1rem;border-bottom:1px solid var(--rule)}\n"
".lines{margin-bottom:.3rem}\n"
"ul.choices{list-style:none;padding-left:.2rem;margin:.4rem 0}\n"
"ul.choices li{display:flex;gap:.65rem;align-items:baseline;"
"margin:.35rem 0}\n"
".box{flex:none;display:inline-block;width:1.05em;height:1.05em;"
"border:1.5px solid var(--ink);border-radius:2px;text-align:center;"
"line-height:1em;font-size:.95em;position:relative;top:.18em}\n"
"li.right{font-weight:bold}li.right em{font-weight:normal}\n"
".explain{margin:.3rem 0 .2rem}\n"
".hints ol,.hints ul{margin:.15rem 0 .5rem;padding-left:1.5rem}\n"
".hints li{margin:.2rem 0}\n"
".when{font-style:italic}\n"
"section.why{border:none;padding:0;margin-top:1.4rem}\n"
"section.why h2{font-size:1.2rem}\n"
"footer{margin-top:1.8rem;padding-top:.4rem;border-top:1px solid "
"var(--edge);color:var(--muted);font-size:.78rem}\n"
"@page{size:A4;margin:15mm 15mm 17mm}\n"
"@media print{html,body{background:#fff}"
"body{color:#000;max-width:none;margin:0;padding:0;box-shadow:none;"
"font-size:10.5pt}"
"header{border-color:#000}.kind,.start,.connect,footer{color:#000}"
"section.step{border-color:#666}"
"section.question,section.challenge{border-left-color:#000}"
".question .tag,.challenge .tag{color:#000}"
"code,pre{background:none}pre{border-color:#666}"
"pre.log .c,pre.log .inj{color:#000}"
".lines div{border-color:#777}"
"h2,.label{break-after:avoid;page-break-after:avoid}"
".key section.step{break-inside:auto;page-break-inside:auto}"
"pre,li,p{break-inside:avoid;page-break-inside:avoid}}\n";

static void
html_head(const struct lesson *l, int lang, const char *kind, bool answers)
{
	printf("<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>",
	    lang ? "de" : "en");
	html_esc(pick(l->title, lang), strlen(pick(l->title, lang)));
	put(" \u2013 ");
	html_esc(kind, strlen(kind));
	printf("</title>\n<style>\n%s</style>\n</head>\n<body class=\"%s\">\n",
	    css, answers ? "key" : "worksheet");
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

void
lesson_handout(const struct lesson *l, int lang, bool as_html, bool answers,
    const struct handout_rec *rec)
{
	html = as_html;
	verbatim_load(l->path);
	const char *kind = answers ? _("Answer key") : _("Worksheet");
	char cmd[256], meta[256], minutes[64], steps[64];
	snprintf(cmd, sizeof(cmd), "mailsh lesson %s%s", l->name,
	    lang ? " --lang de" : "");
	snprintf(minutes, sizeof(minutes), ngettext("about %d minute",
	    "about %d minutes", (unsigned long)l->minutes), l->minutes);
	snprintf(steps, sizeof(steps), ngettext("%d step", "%d steps",
	    (unsigned long)l->nsteps), l->nsteps);
	snprintf(meta, sizeof(meta), "%s \u00b7 %s \u00b7 %s", kind, minutes,
	    steps);

	/* the head */
	if (html) {
		html_head(l, lang, kind, answers);
		put("<header>\n<p class=\"kind\">");
		html_esc(meta, strlen(meta));
		put("</p>\n<h1>");
		inline_text2(pick(l->title, lang), false);
		put("</h1>\n<p class=\"summary\">");
		inline_text2(pick(l->summary, lang), false);
		put("</p>\n<p class=\"start\">");
	} else {
		put("# ");
		inline_text2(pick(l->title, lang), false);
		put("\n\n*");
		md_esc(meta, strlen(meta), false);
		put("*\n\n");
		inline_text2(pick(l->summary, lang), false);
		put("\n\n");
	}
	fmt_code(answers ? _("For the lecturer: the model answers, the "
	    "answers to the questions, every hint, and what the lab really "
	    "answered when the model answer of %s was played.")
	    : _("Work at the computer: start the lesson with %s and write "
	    "down what you type and what the server answers."), cmd);
	if (html) {
		put("</p>\n");
		if (!answers) {
			put("<p class=\"name\"><span>");
			/* TRANSLATORS: a field on the worksheet that the
			   student fills in by hand */
			put(pgettext("worksheet field", "Name:"));
			put("<span class=\"blank\"></span></span><span>");
			/* TRANSLATORS: the day the worksheet is done (not
			   the Date: header of a mail) */
			put(pgettext("worksheet field", "Date:"));
			put("<span class=\"blank\"></span></span></p>\n");
		}
		put("</header>\n<main>\n");
	} else {
		put("\n\n");
	}

	/* the steps */
	for (int i = 0; i < l->nsteps; i++) {
		const struct lesson_step *s = &l->step[i];
		char head[128];
		snprintf(head, sizeof(head), _("Step %d"), i + 1);
		const char *tag = s->question ? _("Question") : s->challenge
		    ? _("Challenge") : NULL;
		/* a German run plays solution.de: where the lesson has it */
		bool de_sol = lang == 1 && s->nsolution_lang[1] > 0;
		char *const *sol = de_sol ? s->solution_de : s->solution;
		int nsol = de_sol ? s->nsolution_lang[1] : s->nsolution;
		if (html) {
			printf("<section class=\"step%s\" id=\"step-%d\">\n"
			    "<h2>", s->question ? " question" : s->challenge
			    ? " challenge" : "", i + 1);
			html_esc(head, strlen(head));
			if (tag) {
				put("<span class=\"tag\">");
				html_esc(tag, strlen(tag));
				put("</span>");
			}
			put("</h2>\n");
		} else {
			printf("## %s%s%s\n\n", head, tag ? ": " : "",
			    tag ? tag : "");
		}
		if (s->connect && !s->question) {
			if (html)
				put("<p class=\"connect\">");
			else
				put("*");
			fmt_code(_("New connection: %s"), s->connect);
			put(html ? "</p>\n" : "*\n\n");
		}
		text_block(pick(s->text, lang));
		if (s->question) {
			if (!answers)
				label(_("Tick one answer:"));
			choices(s, lang, answers);
			if (answers) {
				if (html)
					put("<p class=\"explain\"><strong>");
				else
					put("**");
				prose(_("Why:"), strlen(_("Why:")), false);
				put(html ? "</strong> " : "** ");
				inline_text(pick(s->explain, lang));
				put(html ? "</p>\n" : "\n\n");
			}
		} else if (!answers) {
			int room = nsol <= 1 ? 1 : nsol <= 3
			    ? 3 : 7;
			if (s->challenge && room < 3)
				room = 3;
			write_box(ngettext("Your command:", "Your commands:",
			    (unsigned long)room), room);
			write_box(_("What the server answered:"), 2);
		} else {
			label(s->challenge ? _("One possible solution:")
			    : _("Model answer:"));
			pre_begin("solution", (const char *const *)sol, nsol);
			for (int k = 0; k < nsol; k++)
				pre_line(sol[k]);
			pre_end((const char *const *)sol, nsol);
			key_record(rec ? &rec->step[i] : NULL);
			key_hints(s, lang);
		}
		if (html)
			put("</section>\n");
	}

	/* the end */
	if (answers) {
		const char *w = _("What you learned");
		if (html) {
			put("<section class=\"step why\">\n<h2>");
			html_esc(w, strlen(w));
			put("</h2>\n");
		} else {
			printf("## %s\n\n", w);
		}
		text_block(pick(l->why, lang));
		if (html)
			put("</section>\n");
	} else {
		const char *w = _("In your own words: what did you learn?");
		if (html) {
			put("<section class=\"step why\">\n<h2>");
			html_esc(w, strlen(w));
			put("</h2>\n<div class=\"lines\">");
			for (int k = 0; k < 5; k++)
				put("<div></div>");
			put("</div>\n</section>\n");
		} else {
			printf("## %s\n\n```\n\n\n\n\n\n```\n\n", w);
		}
	}
	char foot[512];
	snprintf(foot, sizeof(foot), _("Made by mailsh %s from %s."),
	    MAILSH_VERSION, base_name(l->path));
	if (html) {
		put("</main>\n<footer>");
		html_esc(foot, strlen(foot));
		put("</footer>\n</body>\n</html>\n");
	} else {
		put("---\n\n");
		md_esc(foot, strlen(foot), false);
		put("\n");
	}
	verbatim_free();
}
