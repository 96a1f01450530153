/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * annotate.h: explains what the engine saw.  It sits between the engine
 * and the output: every engine event passes through ann_event(), which
 * forwards it and adds explanations ("="), warnings ("!") and notes
 * ("*") taken from the protocol tables (*.def files).  Data flows one
 * way: engine -> protocol tables -> annotation -> output.
 */
#ifndef MAILSH_ANNOTATE_H
#define MAILSH_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pp.h"

enum ann_mode { ANN_OFF, ANN_BRIEF, ANN_FULL };

#define ANN_MAILBOX_MAX 64
#define ANN_MAILBOX_LEN 128
#define ANN_RESP_MAX (64 * 1024)	/* IMAP response text across literals */
#define ANN_LITS_MAX 64			/* literals noted in one response */
#define ANN_LIT_KEEP 4096		/* octets of short literals kept */
#define ANN_CAPS_MAX 64
#define ANN_CAP_LEN 64
#define ANN_ROLES_MAX 16		/* ports whose role the shell told */

/* The capabilities of one EHLO / CAPA / CAPABILITY answer. */
struct ann_caps {
	int n;
	bool tls;		/* learned inside TLS */
	char name[ANN_CAPS_MAX][ANN_CAP_LEN];
};

/*
 * An IMAP response that goes on after literals (RFC 3501 4.3), kept
 * until it ends so that it can be read out as a whole: the text without
 * the literals' octets (each "{n}" is followed directly by the text after
 * the literal), and where each literal was.  A literal that arrived as
 * one line and fits in ANN_LIT_KEEP is kept too (a subject, a name).
 */
struct ann_resp {
	bool active;		/* a response is being kept */
	bool over;		/* longer than ANN_RESP_MAX: not read out */
	size_t len;
	int nlits;
	struct ann_lit {
		size_t at;	/* offset in text just after its "{n}" */
		uint64_t size;
		size_t off, len;	/* in kept[], when kept */
		bool kept;
		bool seen;	/* its first octets have arrived */
	} lit[ANN_LITS_MAX];
	size_t keptlen;
	char kept[ANN_LIT_KEEP];
	char text[ANN_RESP_MAX];
};

/* Ports whose role the shell knows (the lab's, a lesson's): kept across
 * connections, so that /open to a lab port names its role too. */
struct ann_roles {
	int n;
	struct { int port; int role; } p[ANN_ROLES_MAX];
};

struct ann {
	enum ann_mode mode;
	struct pp *pp;
	void (*out)(void *octx, const struct pp_event *ev);
	void *octx;
	bool require_tls;
	bool expect_starttls;	/* this port normally offers STARTTLS */
	struct ann_roles roles;	/* set by ann_port_role(), kept on close */
	/* per reply */
	bool mid_reply;		/* a reply has started, not ended */
	int reply_code;		/* SMTP: code of the reply's first line */
	bool mixed_told;	/* SMTP: "codes differ" said for this reply */
	char last_esc[16];	/* enhanced code already explained */
	char last_cmd[16];	/* verb of the last command sent */
	/* capabilities */
	struct ann_caps collect;	/* the answer being read */
	bool collecting;
	struct ann_caps plain_caps;	/* last complete set before TLS */
	bool have_plain_caps;
	struct ann_caps caps;		/* last complete set */
	bool have_caps;
	bool upgraded;		/* TLS came by STARTTLS in this session */
	unsigned upgrades_seen;
	int abort;		/* an ms_err the shell must close with */
	/* IMAP mailbox names seen in LIST / LSUB, for completion */
	int nmailboxes;
	char mailboxes[ANN_MAILBOX_MAX][ANN_MAILBOX_LEN];
	/* for the spoofing notes */
	char auth_user[128];	/* logged in as (after 235) */
	char auth_try[128];	/* the user an AUTH under way names */
	char mail_from[256];
	bool in_headers;	/* SMTP DATA: still in the header section */
	int login_step;		/* AUTH LOGIN: which answer comes next */
	bool deleted;		/* POP3: DELE was sent in this session */
	bool stuffed_told;	/* POP3: byte-stuffing noted in this answer */
	bool in_resp_cont;	/* IMAP: a response goes on after a literal */
	/* credentials: what the line about to be sent carries */
	enum pp_cred cred;
	char sasl_mech[32];	/* mechanism of the last AUTH / AUTHENTICATE */
	bool mask_told;		/* "hidden on screen, clear on the wire" said */
	bool sasl_auto;		/* /auth answers the challenges itself */
	/* IMAP: IDLE, and a line sent without a tag */
	bool idling;		/* IDLE accepted ("+"), DONE not yet sent */
	char notag[PP_TAG_MAX];	/* its first word, taken for a tag */
	char notag_cmd[32];	/* its second word, taken for the command */
	struct ann_resp resp;	/* IMAP: that response, kept (imap_annot.c) */
	/* for machines (--json) */
	char id[96];		/* ann_id()'s result */
	unsigned long line;	/* the received line being explained, or 0 */
};

/* Lab service names ann_port_role() knows: "smtp", "submission",
 * "submissions", "pop3", "pop3s", "imap", "imaps"; NULL-terminated. */
extern const char *const ann_services[];

/*
 * Tells the annotator the role of a port (a lab service name as above;
 * "mitm-imap" counts as "imap", and only the first word is read), so
 * that warnings name "the submission port" instead of a port number and
 * know where STARTTLS belongs.  Kept until ann_init().  Returns false
 * for an unknown service or when the table is full.
 */
bool ann_port_role(struct ann *a, int port, const char *service);

/* What the server's text adds to a reply (hints.def): the translated
 * meaning, or NULL.  key: a POP3 response code, or "" (SMTP). */
const char *ann_text_hint(enum pp_proto_id proto, const char *key,
    const char *text, size_t tl);
/* The same, and its id for machines into id (when not NULL):
 * "hint." + the hint's first needle ("hint.relay-access-denied"). */
const char *ann_hint(enum pp_proto_id proto, const char *key,
    const char *text, size_t tl, char *id, size_t idcap);

/* Remembers the SASL mechanism named at p (one word) for the warnings. */
void ann_sasl_mech(struct ann *a, const char *p, size_t n);

/* "off" / "brief" / "full" -> mode; false for anything else. */
bool ann_mode_parse(const char *s, enum ann_mode *mode);

void ann_init(struct ann *a, struct pp *pp, enum ann_mode mode,
    void (*out)(void *, const struct pp_event *), void *octx);

/* The engine's emit callback (ctx is the struct ann). */
void ann_event(void *ctx, const struct pp_event *ev);

/*
 * Emits an annotation line through the output.  id names what is said
 * for machines (--json "id", docs/json.md): stable, never translated,
 * never NULL.  Table-driven explanations build it from the table key
 * with ann_id() ("smtp.reply.250", "imap.cap.LOGINDISABLED"); hand-
 * written warnings and notes name it by hand ("warn.plaintext-
 * credential").  Characters other than A-Z a-z 0-9 . _ = + - become _,
 * trailing ones are dropped ("BODY[" -> "BODY").
 */
void ann_say(struct ann *a, enum pp_ev kind, const char *id,
    const char *fmt, ...) __attribute__((format(printf, 4, 5),
    nonnull(3)));

/* Formats an id into a->id for the next ann_say (one at a time). */
const char *ann_id(struct ann *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What a line about to be sent is. */
enum ann_verdict {
	ANN_SEND,	/* fine */
	ANN_CONFIRM,	/* a credential in plaintext: ask first */
	ANN_REFUSE,	/* --require-tls: never outside TLS */
};

/*
 * Looks at a line before it is sent (si from pp_classify_send): warns of
 * credentials in plaintext and remembers what is needed later.  Returns
 * what the shell should do.
 */
enum ann_verdict ann_before_send(struct ann *a, const char *line, size_t n,
    const struct pp_sinfo *si);

/*
 * The command a line sends, for lines that go out without
 * ann_before_send (the shell's /raw, several lines in one write): called
 * for each line in order, just before the reply to that line is read, so
 * that the reply is explained as the answer to that command (a 220 after
 * STARTTLS is the go-ahead, only an EHLO's 250 lists capabilities).  No
 * questions, no verdict.
 */
void ann_command(struct ann *a, const char *line, size_t n);

/*
 * The reply that comes next answers this line, sent earlier (a script's
 * --pipeline shows it only now): remembers its command word for the
 * explanation, nothing else (ann_command ran when it was sent).
 */
void ann_answering(struct ann *a, const char *line, size_t n);

/* Does the capability set hold name (case-insensitive)? */
bool ann_caps_has(const struct ann_caps *c, const char *name);

/* Per protocol (smtp_annot.c, pop3_annot.c, imap_annot.c). */
void smtp_annotate(struct ann *a, const struct pp_event *ev);
void pop3_annotate(struct ann *a, const struct pp_event *ev);
void imap_annotate(struct ann *a, const struct pp_event *ev);
void smtp_before_send(struct ann *a, const char *line, size_t n);
void pop3_before_send(struct ann *a, const char *line, size_t n);
void imap_before_send(struct ann *a, const char *line, size_t n);

/* Remembers an IMAP mailbox name (bounded; duplicates ignored). */
void ann_mailbox_add(struct ann *a, const char *name, size_t n);

/* Shared helpers for the protocol annotators. */
void ann_explain_mech(struct ann *a, const char *name, size_t n);
void ann_explain_mechs(struct ann *a, const char *prefix, const char *p,
    size_t pl);
bool ann_explain_challenge(struct ann *a, const char *s, size_t n);
const char *ann_software(const char *s, size_t n);
const char *smtp_esc_detail(int subject, int detail, const char **ref);
void imap_explain_fetch(struct ann *a, unsigned long num, const char *s,
    size_t n);
void imap_explain_flags(struct ann *a, const char *s, size_t n);
void imap_explain_list(struct ann *a, const char *s, size_t n);
void imap_explain_status(struct ann *a, const char *s, size_t n);
void imap_explain_search(struct ann *a, const char *s, size_t n);
void ann_caps_begin(struct ann *a);
void ann_caps_add(struct ann *a, const char *word, size_t n);
void ann_caps_end(struct ann *a);

#endif
