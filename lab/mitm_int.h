/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mitm_int.h: what the two halves of `mailsh mitm` share: mitm.c (the
 * command line, the poll loop, framing and backpressure) and
 * mitm_proto.c (what SMTP, POP3 and IMAP lines mean to the attacker:
 * the modes' rewrites and credential capture).
 */
#ifndef MAILSH_MITM_INT_H
#define MAILSH_MITM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "../protocols/pp.h"

#define MITM_LINE	8192	/* longest line handled as a line */
#define MITM_SLACK	512	/* room for a refusal or an injection */
#define MITM_OUT	(2 * MITM_LINE + 4 * MITM_SLACK)
#define MITM_MAX_CONNS	64
#define MITM_SHOW	300	/* bytes of a line printed */
#define MITM_CRED	512	/* user or password kept / decoded */

enum {
	M_PASS = 1, M_STRIP = 2, M_STRIPLD = 4, M_REFUSE = 8, M_INJECT = 16,
	M_PREAUTH = 32, M_INTERCEPT = 64,
};

/* TLS on one side of a connection (tls-intercept). */
struct tside {
	SSL *ssl;		/* NULL: plaintext */
	bool hs;		/* the handshake is running */
	bool done;		/* it finished */
	short want;		/* POLLIN / POLLOUT OpenSSL waits for */
};

/* One direction of a connection. */
struct half {
	char in[MITM_LINE];	/* received, not yet cut into lines */
	size_t inlen;
	char out[MITM_OUT];	/* to be written to the other side */
	size_t outlen;
	bool eof;		/* the source closed its sending side */
	bool shut;		/* EOF passed on to the destination */
	bool midline;		/* inside a long line passed in pieces */
	uint64_t lit;		/* IMAP literal octets still to pass */
	uint64_t bytes;		/* bytes received from the source */
};

enum sasl { SASL_NONE, SASL_PLAIN, SASL_LOGIN_USER, SASL_LOGIN_PASS };

struct mconn {
	unsigned id;
	int cfd, sfd;
	bool connecting;	/* non-blocking connect to the server */
	bool blind;		/* TLS runs: bytes only */
	const struct pp_proto *proto;	/* NULL until the greeting */
	const char *dead;	/* why it is to be closed, or NULL */
	struct half up;		/* client to server */
	struct half down;	/* server to client */
	char hold[MITM_LINE];	/* SMTP "250-" line held back (strip) */
	size_t holdlen;
	/* what the proxy knows about the session */
	bool greeted;
	bool starttls;		/* asked for, answer pending */
	char tag[PP_TAG_MAX];	/* IMAP tag of that STARTTLS */
	enum sasl sasl;
	char user[MITM_CRED];	/* USER or AUTH LOGIN user so far */
	bool data_cmd, in_data;	/* SMTP DATA sent / message text */
	bool capa, in_capa;	/* POP3 CAPA sent / its list */
	/* tls-intercept: TLS with the client (the proxy's own
	 * certificate) and with the server */
	struct tside ct, st;
	bool tls_wait;		/* STARTTLS go-ahead: TLS once flushed */
	bool intercept;		/* both sides are (to be) TLS */
	bool client_spoke;	/* decrypted bytes came from the client */
	bool told_silent;	/* "closed right after the handshake" said */
};

struct mitm {
	const char *to;		/* HOST:PORT as given */
	unsigned modes;
	const struct pp_proto *proto;	/* NULL: from each greeting */
	bool tls_target;	/* implicit TLS: blind from the start */
	bool quiet;		/* no C:/S: traffic lines */
	SSL_CTX *sctx;		/* tls-intercept: the proxy's certificate */
	SSL_CTX *cctx;		/* tls-intercept: client to the server */
	struct sockaddr_storage target;
	socklen_t target_len;
	int lfd;
	struct mconn *conns[MITM_MAX_CONNS];
	int nconns;
	unsigned next_id;
};

/* Prints one "mitm: " line, with "#N " for a connection (c may be NULL). */
void mitm_say(const struct mconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints a relayed line or piece (n bytes, shortened to MITM_SHOW) as
 * "#N C: text" / "#N S: text" and a note, unless --quiet. */
void mitm_show(const struct mitm *m, const struct mconn *c, const char *who,
    const char *p, size_t n, const char *note);

/* Appends n bytes to h's output.  Cannot fail by the read gate's sizing
 * (see can_read in mitm.c); if it would, c is marked dead instead of
 * overflowing. */
void mitm_put(struct mconn *c, struct half *h, const char *p, size_t n);

/* Writes the held SMTP continuation line (if any) to the client, with
 * ' ' instead of '-' after the code when last is set. */
void mitm_flush_hold(struct mconn *c, bool last);

/*
 * One complete line: p (len bytes) with its line end, t (n bytes)
 * without.  Passes it on to the other side, changed or answered as
 * the modes say, and prints what it saw and did.
 */
void mitm_client_line(struct mitm *m, struct mconn *c, const char *p,
    size_t len, const char *t, size_t n);
void mitm_server_line(struct mitm *m, struct mconn *c, const char *p,
    size_t len, const char *t, size_t n);

/* The go-ahead to STARTTLS has passed: with tls-intercept, TLS on both
 * sides once the plaintext is flushed; else the bytes go blind. */
void mitm_tls_go_ahead(struct mitm *m, struct mconn *c);

#endif
