/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lconn_int.h: the private part of a lab connection (struct lconn's
 * priv), shared by lab/loop.c (sockets, TLS, poll), lab/lconn.c (what
 * a session does to its own connection: output, notes, counts, close,
 * suspend) and tests/fuzz/labsession.c, which stands in for loop.c.
 * Not for protocols: they see loop.h only.
 */
#ifndef MAILSH_LAB_LCONN_INT_H
#define MAILSH_LAB_LCONN_INT_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

enum lc_state { LC_HANDSHAKE, LC_OPEN, LC_CLOSING };

struct lconn_priv {
	int fd;
	SSL *ssl;
	enum lc_state st;
	bool implicit;		/* the handshake is implicit TLS */
	bool upgrade;		/* STARTTLS: handshake after the flush */
	bool opened;		/* proto->open has run */
	bool skipping;		/* dropping the rest of an overlong line */
	bool auth_close;	/* too many failed logins: close */
	bool suspended;		/* lconn_suspend: no lines for now */
	bool kick;		/* lconn_resume: service it this round */
	int auth_fails;
	uint64_t raw_left;	/* input bytes for proto->raw */
	bool eof;		/* the client closed its side */
	bool dead;		/* free at the end of this round */
	bool ssl_fatal;		/* no close_notify after a TLS error */
	int ssl_events;		/* POLLIN / POLLOUT OpenSSL waits for */
	int port;		/* client port */
	long start_ms;
	long deadline_ms;
	unsigned long cmds;
	uint64_t bytes_in, bytes_out;
	char tls[32];		/* "TLS" / "STARTTLS" + version */
	char why[96];		/* how it ended */
	char note[LAB_NOTE_MAX];
	size_t notelen;
	/* buffers exist only while they hold bytes: an idle session
	 * costs little (1000 IMAP IDLE sessions) */
	size_t inlen;
	size_t outoff, outlen;
	char *in;		/* LAB_LINE_MAX bytes, or NULL */
	char *out;		/* LAB_OUT_CAP bytes, or NULL */
};

/* Changes c's state; the ONLY way to do so. */
void lconn_set_state(struct lconn *c, enum lc_state st);

/* "handshake", "open", "closing" */
const char *lconn_state_name(enum lc_state st);

/* After a line or a resume: closes a session that failed to log in
 * too often (the protocol's LAB_E_AUTHFAIL reply first). */
void lconn_auth_check(struct lconn *c);

#endif
