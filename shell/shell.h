/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * shell.h: the state of one mailsh session and the parts of the shell
 * that share it (main.c, repl.c, commands.c, history.c).
 */
#ifndef MAILSH_SHELL_H
#define MAILSH_SHELL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "../protocols/annotate.h"
#include "../protocols/pp.h"

struct shell {
	struct pp pp;
	struct ann ann;		/* explains what pp emits */
	bool require_tls;
	bool no_confirm;
	const struct pp_proto *force_proto;	/* --proto, /proto */
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	int timeout_ms;
	bool want_tls;		/* --tls */
	bool no_tls;		/* --plain */
	bool interactive;	/* a terminal and no -f */
	FILE *script;		/* -f FILE or stdin when not a terminal */
	int status;		/* exit status: first failure, else 0 */
	bool quit;
	unsigned tagno;		/* for tags mailsh makes itself */
	struct lesson_run *lesson;	/* a running lesson, or NULL */
	bool pipeline;		/* --pipeline: scripts send ahead */
	bool keep_going;	/* --keep-going: on after a negative reply */
	unsigned long lineno;	/* the script line being run */
	unsigned long sent_lineno;	/* the script line sent last */
	/* the last complete reply, for /expect and exit status 8 */
	struct {
		bool have;
		bool negative;	/* 4xx/5xx, -ERR, NO, BAD, untagged BAD */
		bool unchecked;	/* negative and no /expect has taken it */
		int code;	/* SMTP */
		char esc[16];	/* SMTP enhanced status code */
		char word[16];	/* +OK -ERR + OK NO BAD PREAUTH BYE */
		char text[512];
		unsigned long lineno;	/* script line that got it */
		unsigned long seq;	/* counts complete replies */
	} reply;
	/* the first negative reply no /expect has judged yet (a pipelined
	 * script may have later replies on top of it) */
	struct {
		bool pending;
		unsigned long seq, lineno;
		char text[512];
	} neg;
	/* the last continuation request (SMTP 334, "+ ..."), whole, for
	 * /auth; cont_seq is reply.seq when it came */
	char cont[12288];
	size_t cont_len;
	bool cont_trunc;	/* longer than cont: cut */
	unsigned long cont_seq;
	/* script lines of the commands awaiting replies, oldest first */
	unsigned long lq[PP_QUEUE_MAX];
	unsigned lqn;
	/* /wait-for: the pattern a received line must match, and the
	 * lines received since the last command (newest kept) */
	void *wait_re;
	bool wait_hit;
	char recent[16384];
	size_t recent_len;
};


/* The engine's emit callback: the lesson watches, the annotator
 * explains, the output prints (ctx is the struct shell). */
void shell_emit(void *ctx, const struct pp_event *ev);

/* Lessons (lesson.c): hooks the shell calls. */
struct lesson_run;
void lesson_sent(struct shell *sh, const char *line, size_t n);
void lesson_event(struct shell *sh, const struct pp_event *ev);
void lesson_poll(struct shell *sh);
void lesson_show(struct shell *sh);
void lesson_skip(struct shell *sh);
void lesson_again(struct shell *sh);
/* A line typed while a lesson question waits is its answer: true if
 * the lesson took it (it must not go to the server). */
bool lesson_answer(struct shell *sh, const char *line);

extern volatile sig_atomic_t got_sigint;
/* SIGHUP or SIGTERM (the signal's number): leave, stopping the lab */
extern volatile sig_atomic_t got_sigterm;
/* SIGCHLD: a lab or MITM child may have ended (labrun_poll looks) */
extern volatile sig_atomic_t got_sigchld;

/* Connects as /open and the command line do; sets sh->status. */
enum ms_err shell_open(struct shell *sh, const char *host, const char *port,
    bool tls, bool plain);

/* Closes the connection when the annotator asks to (--require-tls);
 * true if it did. */
bool shell_check_abort(struct shell *sh);

/* Records a failure as the exit status (the first one wins). */
void shell_fail(struct shell *sh, enum ms_err e);

/* Waits until the pending reply (or the greeting) is complete, the
 * connection ends or the timeout passes. */
enum ms_err shell_wait_reply(struct shell *sh);

/* After QUIT / LOGOUT: waits up to ms for the server to close. */
void shell_wait_close(struct shell *sh, int ms);

/* Pumps the connection until a line may go out after the replies still
 * pending (pp_may_send), or for at most ms when ms >= 0; false if the
 * connection ended or the wait was interrupted. */
bool shell_wait_ready(struct shell *sh, const struct pp_sinfo *si);
/* Pumps the connection for ms milliseconds, or until a received line
 * matched sh->wait_re; false if the connection ended or Ctrl-C. */
bool shell_pump(struct shell *sh, long ms);
/* Does the server allow commands to be sent ahead (PIPELINING)? */
bool shell_pipelining(const struct shell *sh);

/* Sends a line (after "//" handling), recording failures. */
enum ms_err shell_send(struct shell *sh, const char *line, size_t n,
    struct pp_sinfo *si);

/* Meta commands (commands.c). */
enum meta_result { META_OK, META_SENT, META_FAIL };
/* Is this line a meta command?  Never inside SMTP DATA or an IMAP
 * literal: there every line is message text. */
bool meta_is(const struct shell *sh, const char *line);
enum meta_result meta_run(struct shell *sh, const char *line);
char **meta_complete(const char *text, int start, int end,
    const char *line, struct shell *sh);
const char *const *meta_names(void);
/* The argument syntax to show after what is typed so far, or NULL. */
const char *meta_hint(const struct shell *sh, const char *line);
/* /auth MECH [USER [SECRET]] (auth.c). */
enum meta_result meta_auth(struct shell *sh, int argc, char **argv,
    const char *rest);
/* Does this meta line carry a secret (kept out of history)? */
bool meta_secret(const char *line);
/* The line as the screen may show it ("/auth PLAIN alice ********") in
 * buf, when it carries a password or token; false if it carries none. */
bool meta_mask(const char *line, char *buf, size_t cap);

/* The REPL (repl.c). */
int repl_interactive(struct shell *sh);
int repl_script(struct shell *sh);
/* Asks a yes/no question on the terminal; true for yes. */
bool repl_confirm(struct shell *sh, const char *question);
/* The same, where an empty answer means dflt. */
bool repl_confirm_default(struct shell *sh, const char *question,
    bool dflt);
/* Reads a password from the terminal without echo; NULL if abandoned. */
char *repl_read_secret(struct shell *sh, const char *prompt, char *buf,
    size_t cap);

/* Language (i18n.c). */
void i18n_init(void);
bool i18n_set_lang(const char *lang);
/* "de" or "en": what the environment asks for (LC_ALL, LC_MESSAGES,
 * LANG; LANGUAGE unless the locale is C), and what mailsh speaks. */
const char *i18n_env_lang(void);
const char *i18n_lang(void);

/* History (history.c). */
/* $XDG_STATE_HOME/mailsh/FILE (else ~/.local/state/mailsh/FILE) in buf,
 * its directories made (0700); false if there is no such place. */
bool state_path(const char *file, char *buf, size_t cap);
void history_setup(void);
void history_remember(const char *line);
void history_save(void);

#endif
