/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loop.h: the lab's event loop.  One process, non-blocking sockets,
 * poll(), OpenSSL on the non-blocking descriptors (implicit TLS and the
 * STARTTLS upgrade).  It owns the listeners and the connections, frames
 * input into lines (bounded: LAB_LINE_MAX), buffers output (bounded:
 * LAB_OUT_CAP, streamed through a refill hook), enforces the idle
 * timeout, the connection limits and the command limit, and writes one
 * log line per session on stderr.
 *
 * A protocol is a struct lab_proto: hooks called with one connection.
 */
#ifndef MAILSH_LAB_LOOP_H
#define MAILSH_LAB_LOOP_H

#include "lab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_LINE_MAX	8192		/* incl. CRLF; longer: "too long" */
#define LAB_OUT_CAP	(16 * 1024)	/* output buffer of a connection */
#define LAB_REPLY_ROOM	4096		/* room kept for one reply */
#define LAB_NOTE_MAX	320		/* what the session log line says */
#define LAB_LISTEN_MAX	8

struct lconn;

/* Why the loop asks a protocol to say goodbye (lab_proto.error). */
enum lab_err {
	LAB_E_TOOLONG,	/* a line longer than LAB_LINE_MAX (session goes on) */
	LAB_E_TIMEOUT,	/* idle too long: closing */
	LAB_E_BUSY,	/* connection limit reached: closing */
	LAB_E_TOOMANY,	/* LAB_MAX_CMDS commands: closing */
	LAB_E_SHUTDOWN,	/* the lab is stopping: closing */
	LAB_E_AUTHFAIL,	/* LAB_AUTH_FAILS failed logins: closing */
};

#define LAB_AUTH_FAILS	3	/* failed logins in one session */

struct lab_proto {
	const char *name;
	/* A connection is ready (after the handshake on implicit TLS):
	 * allocate state, send the greeting. */
	void (*open)(struct lconn *c);
	/* One line of input, its line end (LF or CRLF) removed and a NUL
	 * put after it; it may contain NUL bytes. */
	void (*line)(struct lconn *c, char *line, size_t n);
	/* The STARTTLS handshake has finished: forget the session. */
	void (*tls_ready)(struct lconn *c);
	/* Writes the protocol's reply for e. */
	void (*error)(struct lconn *c, enum lab_err e);
	/* The connection is gone: free state.  Called once, also when
	 * open was never called (c->ps is NULL then). */
	void (*close)(struct lconn *c);
	/* Optional: mail was delivered (loop_wake); tell the client if it
	 * waits for that (IMAP IDLE).  Called with room for a reply. */
	void (*wake)(struct lconn *c);
	/* Optional: raw input bytes asked for with lconn_raw (an IMAP
	 * literal); may be called many times. */
	void (*raw)(struct lconn *c, const char *p, size_t n);
	int idle_s;	/* idle timeout unless --idle-timeout is given */
};

enum lab_lflag {
	LAB_L_TLS = 1,		/* implicit TLS */
	LAB_L_SUBMIT = 2,	/* submission: AUTH required */
};

struct lab_listener {
	const char *name;	/* "smtp", "pop3s" ... (ports file) */
	const struct lab_proto *proto;
	int flags;
	int offset;		/* port = base + offset (lab.c's map) */
	int fd;
	int port;
};

/* Opaque to protocols except for these fields. */
struct lconn {
	struct lab *lab;
	const struct lab_listener *l;
	void *ps;		/* protocol state */
	char addr[64];		/* client address, numeric */
	char user[LAB_NAME_MAX + 1];	/* logged in as ("" = nobody) */
	bool bare_lf;		/* the line being handled ended in LF only */
	/* refill: called when output has room; writes more with
	 * lconn_write and returns true while more is to come. */
	bool (*refill)(struct lconn *c);
	/* set by refill: its share of this turn of the loop is done; it
	 * is called again after the other connections had theirs (a long
	 * SEARCH). */
	bool yield;
	uint64_t id;		/* unique in this run of the lab, never 0 */
	struct lconn_priv *priv;
};

/*
 * Binds every listener (port base + offset, or a free port when base is
 * 0) on addr.  Returns 0, or -1 after printing why on stderr.
 */
int loop_listen(struct lab_listener *ls, int n, const char *addr,
    int base);

/*
 * Runs until SIGINT or SIGTERM (caught by the loop itself, delivered
 * only while it waits in ppoll, so none is lost).  Every connection is
 * told LAB_E_SHUTDOWN and closed before it returns.  Returns the signal
 * number that stopped it, or -1 on an unexpected poll failure.
 */
int loop_run(struct lab *lab, struct lab_listener *ls, int n);

/* Asks every session's wake hook to look at the store (after this
 * round of the loop). */
void loop_wake(struct lab *lab);

/* Appends n bytes to the output.  Returns false (and closes the
 * connection after what is buffered) if they do not fit. */
bool lconn_write(struct lconn *c, const void *p, size_t n);

/* printf to the output, then CRLF.  Same result as lconn_write. */
bool lconn_reply(struct lconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Free bytes in the output buffer. */
size_t lconn_room(const struct lconn *c);

/* Counts one command.  Returns false past LAB_MAX_CMDS: the error was
 * sent and the connection is closing; ignore the command. */
bool lconn_command(struct lconn *c);

/* Starts TLS once the buffered output (the go-ahead) is sent.  Input
 * already buffered is discarded (CVE-2011-0411) unless the lab runs
 * with --vulnerable-starttls.  No more lines are delivered until the
 * handshake is done. */
void lconn_starttls(struct lconn *c);

bool lconn_is_tls(const struct lconn *c);

/* The next n input bytes go to the protocol's raw hook as they come,
 * not framed into lines (the line limit does not apply to them). */
void lconn_raw(struct lconn *c, uint64_t n);

/* Counts a failed login.  The LAB_AUTH_FAILS-th one makes the loop,
 * once the current line is handled, send the protocol's
 * LAB_E_AUTHFAIL reply and close the session (no delay). */
void lconn_auth_failed(struct lconn *c);

/* Hands the protocol no more lines (they stay buffered, in order)
 * until lconn_resume: a password is being checked off the loop.  A
 * client that closes its side meanwhile is closed after the resume. */
void lconn_suspend(struct lconn *c);

/* Ends lconn_suspend: the reply written meanwhile is sent, buffered
 * lines are handed on, a LAB_AUTH_FAILS-th failed login closes. */
void lconn_resume(struct lconn *c);

/* The open connection with this id, or NULL if it is gone or
 * closing (so a late result is dropped, never written to freed
 * memory). */
struct lconn *loop_find(uint64_t id);

/* Also polls fd (readable) while loop_run runs, calling ready(arg)
 * on the loop when it is; fd -1 stops that.  One watch per ready
 * function and arg (a second call with the same pair replaces it); at
 * most four in all. */
void loop_watch(int fd, void (*ready)(void *arg), void *arg);

/* "TLSv1.3" or "" */
const char *lconn_tls_version(const struct lconn *c);

/* Closes the connection once the buffered output is sent; no more
 * lines are delivered.  why goes into the session log line. */
void lconn_close(struct lconn *c, const char *why);

/* Adds an event to the session log line ("auth alice", "250 ..."). */
void lconn_note(struct lconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
