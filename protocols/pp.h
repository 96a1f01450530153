/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pp.h: the one line engine shared by SMTP, POP3 and IMAP.
 *
 * It owns the connection, a bounded input buffer, line framing (LF, with
 * CR before it stripped and a bare LF noticed), IMAP literals, reply
 * completion, the STARTTLS upgrade at the exact byte boundary, and
 * sending (CRLF added, SMTP dot-stuffing).  A protocol is a table
 * (struct pp_proto) with two hooks: recv() classifies each received
 * line, send() says what a line about to be sent means.
 *
 * Everything the engine sees or does leaves it as a struct pp_event,
 * handed to the emit callback: the shell prints it, tests collect it.
 */
#ifndef MAILSH_PP_H
#define MAILSH_PP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define PP_IN_CAP	(64 * 1024)	/* input buffer = longest line shown */
#define PP_OUT_CAP	(32 * 1024)	/* send buffer, flushed when full */
#define PP_TAG_MAX	64
#define PP_SMTP_LINES_MAX 1000		/* lines in one SMTP reply */
#define PP_REPLY_MAX_DEFAULT ((uint64_t)1 << 30) /* bytes in one reply */
#define PP_QUEUE_MAX	64		/* commands awaiting their replies */

/* What a command awaiting its reply is (struct pp, q[]). */
#define PP_Q_STARTTLS	0x01	/* its reply decides the TLS upgrade */
#define PP_Q_DATA	0x02	/* SMTP DATA: a 354 opens the message */
#define PP_Q_MULTI	0x04	/* POP3: a +OK starts a multi-line body */
#define PP_Q_QUIT	0x08	/* QUIT / LOGOUT */
#define PP_Q_SYNC	0x10	/* nothing more is sent before its reply */
#define PP_Q_NOTAG	0x20	/* IMAP: only an untagged BAD can answer */

enum pp_ev {
	PP_EV_SEND,	/* a line sent (text = line without CRLF) */
	PP_EV_RECV,	/* a line received (text = raw bytes, no line end) */
	PP_EV_INJECT,	/* plaintext after a STARTTLS go-ahead, dropped */
	PP_EV_TLS,	/* TLS report */
	PP_EV_NOTE,	/* what mailsh did */
	PP_EV_EXPLAIN,	/* what something means */
	PP_EV_WARN,
	PP_EV_ERROR,
	PP_EV_CLOSE,	/* the connection is closed now */
};

/* How a received line fits into its reply. */
enum pp_rkind {
	PP_R_STATUS,	/* SMTP code line, POP3 +OK/-ERR, IMAP tagged */
	PP_R_UNTAGGED,	/* IMAP "* ..." */
	PP_R_CONT,	/* continuation request: SMTP 334, POP3/IMAP "+" */
	PP_R_DATA,	/* POP3 multi-line body, IMAP literal octets */
	PP_R_BAD,	/* does not follow the protocol's syntax */
};

enum pp_status { PP_S_NONE, PP_S_POS, PP_S_NEG };

struct pp_rline {
	enum pp_rkind kind;
	enum pp_status status;
	int code;		/* SMTP reply code, else 0 */
	bool last;		/* this line completes the reply */
	bool greeting;		/* part of the greeting */
	bool bare_lf;		/* ended with LF without CR */
	bool unstuffed;		/* POP3 ".." line: content starts at +1 */
	bool truncated;		/* longer than PP_IN_CAP; rest dropped */
	int upgrade;		/* +1 STARTTLS go-ahead, -1 refused */
	uint64_t literal;	/* IMAP: octets of literal that follow */
	const char *tag;	/* IMAP tag (NUL-terminated) or NULL */
	char esc[12];		/* SMTP enhanced status code ("5.7.8") or "" */
	bool bad;		/* IMAP BAD (status is PP_S_NEG) */
	bool bye;		/* IMAP BYE (status is PP_S_NEG) */
};

struct pp_event {
	enum pp_ev kind;
	const char *text;	/* SEND/RECV/INJECT: bytes; else a message */
	size_t len;
	bool tls;		/* the line travelled inside TLS */
	bool redacted;		/* SEND: a secret was replaced by ******** */
	bool data;		/* SEND: a line of message text (DATA lines,
				 * IMAP literal octets), not a command */
	const struct pp_rline *rl;	/* RECV: what the line is */
	/* for machines (--json), never translated: */
	const char *id;		/* NOTE/EXPLAIN/WARN/ERROR/TLS: what was
				 * said, "smtp.reply.250"; NULL none */
	unsigned long line;	/* RECV: running number of received lines
				 * on this connection; an annotation: the
				 * line it explains (0: none) */
	const char *reason;	/* CLOSE: "quit", "server-closed", ... */
	const struct tls_facts *tlsf;	/* TLS: the handshake's facts */
};

struct pp;

/* What kind of credential a secret line carries (for the warnings). */
enum pp_cred {
	PP_CRED_NONE,
	PP_CRED_CLEAR,	/* a password as typed: POP3 PASS, IMAP LOGIN */
	PP_CRED_SASL,	/* a SASL response (base64): AUTH, AUTHENTICATE */
	PP_CRED_DIGEST,	/* a digest of the password: POP3 APOP */
};

/* What a line about to be sent means, filled by pp_proto.send(). */
struct pp_sinfo {
	bool expect_reply;	/* the server will answer this line */
	bool starttls;		/* asks for the TLS upgrade */
	bool secret;		/* keep out of history and transcripts */
	size_t keep;		/* with secret: bytes shown before ******** */
	enum pp_cred cred;	/* with secret: what it is */
	bool stuff;		/* SMTP DATA line starting with '.': send '..' */
	bool data;		/* message text inside DATA / a literal */
	bool quit;		/* QUIT / LOGOUT: a close may follow */
	bool opens_data;	/* SMTP DATA: a 354 opens the message text */
	bool multi;		/* POP3: a +OK to it starts a body */
	bool sync;		/* lines after it wait for its reply */
	bool alone;		/* sent only when no reply is pending */
	bool notag;		/* IMAP: one word, no tag to answer with */
};

enum pp_proto_id { PROTO_NONE, PROTO_SMTP, PROTO_POP3, PROTO_IMAP };

/* A command the user types (commands.def): for completion and hints. */
struct pp_cmd {
	const char *name;
	const char *args;	/* argument syntax, a message id */
	const char *cap;	/* capability needed ("" none; "X*" prefix) */
};

struct pp_proto {
	enum pp_proto_id id;
	const char *name;		/* "smtp" */
	const int *ports;		/* 0-terminated: guessed from these */
	const int *tls_ports;		/* implicit TLS by default */
	int default_port;
	int default_tls_port;
	const char *const *verbs;	/* command names (commands.def) */
	const struct pp_cmd *cmds;	/* the same with syntax and needs */
	const char *starttls_verb;	/* "STARTTLS" / "STLS" */
	const char *after_tls;		/* what to send again after TLS */
	const char *starttls_again;	/* the upgrade refused inside TLS */
	uint32_t max_reply_lines;	/* 0 = no line limit */
	/* Classifies one received line (without its line end). */
	void (*recv)(struct pp *, const char *line, size_t n,
	    struct pp_rline *rl);
	/* Says what a line the user is about to send means. */
	void (*send)(struct pp *, const char *line, size_t n,
	    struct pp_sinfo *si);
	/* Does this first line of a connection look like our greeting? */
	bool (*is_greeting)(const char *line, size_t n);
};

extern const struct pp_proto proto_smtp, proto_pop3, proto_imap;

/* Per-protocol parse state, owned by the protocol file. */
struct pp_pstate {
	/* SMTP */
	bool data_sent;		/* DATA sent, waiting for 354 */
	/* SMTP BDAT chunk and IMAP literal: client_literal below */
	/* POP3 */
	bool expect_multi;	/* +OK to the last command starts a body */
	bool in_multi;		/* inside a dot-terminated body */
	/* IMAP */
	bool in_resp;		/* a response continues after a literal */
	enum pp_rkind resp_kind;
	enum pp_status resp_status;
	bool resp_bad, resp_bye;	/* that status is BAD / BYE */
	bool resp_upgrade;
	char resp_tag[PP_TAG_MAX];
	uint64_t client_literal;	/* octets of a literal still to send */
	bool secret_literal;	/* that literal is a password */
	bool literal_sync;	/* "{n}": wait for "+" before sending it */
};

struct pp {
	const struct pp_proto *proto;	/* NULL: not known yet */
	struct conn conn;
	struct tls_opts tls;
	/* receiving */
	char in[PP_IN_CAP];
	size_t inlen;
	bool skipping;		/* dropping the rest of an overlong line */
	uint64_t skipped;
	size_t noeol;		/* in[0..noeol) holds no LF (searched) */
	struct pp_rline skip_rl;
	uint64_t literal;	/* IMAP literal octets still to come */
	uint64_t reply_bytes;
	uint32_t reply_lines;
	uint64_t max_reply;
	/* session state */
	bool greeted;
	bool awaiting;		/* a reply is expected (qn > 0) */
	/* Commands sent and not yet answered, oldest first: replies are
	 * matched to them in order (RFC 2920 3; IMAP by the same count:
	 * every line that expects a reply gets one, tagged or "+").  The
	 * flags of q[0] are also in starttls, ps.data_sent and
	 * ps.expect_multi, which the protocol files read. */
	uint8_t q[PP_QUEUE_MAX];
	unsigned qn;
	uint8_t refused;	/* PP_Q_DATA / PP_Q_STARTTLS: the reply to such
				 * a command said no (the shell drops the
				 * lines it held for after it); it clears */
	unsigned long replies;	/* completed replies so far */
	bool starttls;		/* upgrade asked for, answer pending */
	char tag[PP_TAG_MAX];	/* IMAP tag of that STARTTLS */
	bool in_data;		/* SMTP: between 354 and the lone dot */
	bool sasl;		/* an AUTH exchange is running */
	bool challenged;	/* the last reply asked for more (334, +) */
	bool quit_sent;
	bool bye_seen;		/* IMAP BYE: the server will close */
	bool close_expected;	/* the last close followed QUIT/LOGOUT */
	bool bare_lf_told;	/* in this reply */
	bool guessed;		/* proto came from the port, not the user */
	const struct pp_proto *greeting_proto;	/* the greeting's, or NULL */
	unsigned upgrades;	/* STARTTLS upgrades on this connection */
	struct pp_pstate ps;
	uint64_t bytes_in, bytes_out;
	unsigned long lines_in;	/* received lines on this connection */
	unsigned long say_line;	/* the line engine messages explain, or 0 */
	const char *close_reason;	/* set before pp_close: why (a word) */
	/* sending */
	char out[PP_OUT_CAP];
	size_t outlen;
	/* where events go */
	void (*emit)(void *ctx, const struct pp_event *ev);
	void *ctx;
};

/* Engine results beyond enum ms_err. */
#define PP_UPGRADE 100	/* pp_parse stopped at a STARTTLS go-ahead */

void pp_init(struct pp *pp, void (*emit)(void *, const struct pp_event *),
    void *ctx);
void pp_free(struct pp *pp);

/* The protocol for a port, or NULL.  *tls is set for implicit-TLS ports. */
const struct pp_proto *pp_proto_for_port(int port, bool *tls);
const struct pp_proto *pp_proto_by_name(const char *name);

/*
 * Connects (and runs the implicit TLS handshake when tls is set), resets
 * the session state.  Returns MS_OK, MS_ECONN or MS_ETLS; on failure the
 * connection is closed.
 */
enum ms_err pp_open(struct pp *pp, const char *host, const char *port,
    int family, int timeout_ms, bool tls);

/* Closes the connection (saying so) and forgets the session state. */
void pp_close(struct pp *pp, const char *why);

/* The same, with the reason for machines (--json: close "reason"):
 * "quit", "server-closed", "lost", "timeout", "tls-failed", "limit",
 * "end-of-input", "require-tls", "signal", "closed" (by the user). */
void pp_close_as(struct pp *pp, const char *reason, const char *why);

bool pp_connected(const struct pp *pp);

/*
 * Reads what the server has sent (without blocking), frames it, emits
 * events and runs a STARTTLS upgrade when its go-ahead arrives.
 * Returns MS_OK (also when nothing was there), MS_ECLOSED when the
 * connection ended (pp_close has run), MS_ETLS when the upgrade failed.
 */
enum ms_err pp_input(struct pp *pp);

/* True when TLS holds decrypted bytes that poll() cannot see. */
bool pp_pending(struct pp *pp);

/*
 * Feeds bytes as if they came from the server (tests, and the shell
 * after reading).  Returns MS_OK, MS_ECLOSED (a limit was broken) or
 * PP_UPGRADE; after PP_UPGRADE the unparsed rest stays in pp->in.
 */
int pp_feed(struct pp *pp, const char *data, size_t n);

/*
 * Sends one line the user typed (without line end; a trailing CR is
 * dropped) with CRLF, dot-stuffed inside SMTP DATA.  *si (may be NULL)
 * says what the line meant.  Returns MS_OK or MS_ECLOSED / MS_ETIMEOUT
 * (connection closed); MS_EUSAGE when not connected.
 */
enum ms_err pp_send(struct pp *pp, const char *line, size_t n,
    struct pp_sinfo *si);

/*
 * A line of SMTP message text (inside DATA, not the end): what pp_send
 * does for it, without asking the protocol (bulk text costs no more per
 * line than it must); show: emit its SEND event (else the caller
 * counts it).  Lines that need more (the lone ".", one to dot-stuff) go
 * through pp_send.  Same results as pp_send.
 */
enum ms_err pp_send_text(struct pp *pp, const char *line, size_t n,
    bool show);

/* Message text already as it goes on the wire: whole lines, each ended
 * by CRLF, none starting with "." (the caller checked); no events. */
enum ms_err pp_send_wire_text(struct pp *pp, const char *bytes, size_t n);

/* Writes out what pp_send buffered.  Same results as pp_send. */
enum ms_err pp_flush(struct pp *pp);

/* Runs a TLS handshake now (/tls, or after a STARTTLS go-ahead). */
enum ms_err pp_starttls(struct pp *pp);

/*
 * Records a line that goes out now (pp_send does this; /raw for the
 * lines of its one write): asks the protocol what it means (*si), then
 * queues it for its reply.  Returns false (and records nothing) when
 * PP_QUEUE_MAX replies are pending already.
 */
bool pp_sent(struct pp *pp, const char *line, size_t n, struct pp_sinfo *si);

/*
 * May a line the protocol classified as *si go out now, or must it wait
 * for replies still pending?  pipelining: the server offered PIPELINING
 * (SMTP, POP3; IMAP always pipelines).  Message text and literal octets
 * always may; nothing may before the greeting, after a sync point
 * (STARTTLS, DATA, BDAT, AUTH, QUIT, EHLO, ...) or, without pipelining,
 * after any command whose reply is pending.
 */
bool pp_may_send(const struct pp *pp, const struct pp_sinfo *si,
    bool pipelining);

/* Classifies a line the user would send, without sending (history). */
void pp_classify_send(struct pp *pp, const char *line, size_t n,
    struct pp_sinfo *si);

/* Emits a formatted message event; id is its stable name for machines
 * ("engine.bare-lf"), never NULL and never translated. */
void pp_say(struct pp *pp, enum pp_ev kind, const char *id,
    const char *fmt, ...) __attribute__((format(printf, 4, 5),
    nonnull(3)));

/* Engine helpers the protocol files use. */
/* An answer to a SASL challenge: secret (masked whole), but for "*"
 * (cancel: RFC 4954 4, RFC 5034 4, RFC 3501 6.2.2) and the empty answer,
 * which carry nothing. */
void pp_sasl_answer(const char *line, size_t n, struct pp_sinfo *si);
bool pp_line_has_literal(const char *line, size_t n, uint64_t *octets,
    bool *sync);
void pp_unstuff(const char **line, size_t *n);

/* Is the word at s (up to a space) an IMAP command name (commands.def,
 * case-insensitive as RFC 3501 9 says)? */
bool imap_is_verb(const char *s, size_t n);

#endif
