/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap_int.h: what the files of the lab's IMAP server share: imapd.c
 * (session, command syntax, dispatch), imapselect.c (mailbox commands,
 * the selected mailbox), imapappend.c (APPEND), imapfetch.c (FETCH,
 * STORE and EXPUNGE output, streamed), imapsearch.c and imapmime.c.
 */
#ifndef MAILSH_LAB_IMAP_INT_H
#define MAILSH_LAB_IMAP_INT_H

#include "auth.h"
#include "ibox.h"
#include "imapbox.h"
#include "loop.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_CMD_MAX	(16 * 1024)	/* one command incl. literals */
#define IMAP_TAG_MAX	64
#define IMAP_SET_MAX	1024
#define IMAP_SECT_MAX	8		/* body sections in one FETCH */
#define IMAP_PIECES	(2 * IMAP_SECT_MAX + 2)
#define IMAP_SEARCH_KEYS_MAX	100	/* keys in one SEARCH: NO [LIMIT] */

enum imap_state {
	IS_NOTAUTH,
	IS_AUTHPLAIN,	/* "+ " sent for AUTHENTICATE PLAIN */
	IS_AUTH,
	IS_SELECTED,
	IS_AUTHX,	/* CRAM-MD5 / SCRAM-SHA-256 under way (auth.h) */
};

enum imap_sect_kind { SK_ALL, SK_HEADER, SK_TEXT, SK_FIELDS, SK_NOT,
	SK_MIME };

#define IMAP_PART_DEPTH	8		/* numbers in a part spec 1.2.3 */

struct imap_sect {
	enum imap_sect_kind kind;
	int part[IMAP_PART_DEPTH];	/* BODY[1.2...]: part numbers */
	int nparts;
	bool peek;
	bool partial;
	uint64_t origin, count;
	char fields[512];	/* HEADER.FIELDS list, upper case, spaced */
	char name[600];		/* as named in the response */
};

enum {
	FI_UID = 1, FI_FLAGS = 2, FI_SIZE = 4, FI_DATE = 8, FI_ENV = 16,
	FI_STRUCT = 32, FI_BODY = 64,
};

/* One piece of a FETCH response: bytes in memory or a file range. */
struct imap_piece {
	char *mem;
	size_t len, off;
	bool file;
	uint64_t from, left;	/* wire offsets within the message */
};

enum imap_job { IJ_NONE, IJ_FETCH, IJ_STORE, IJ_EXPUNGE, IJ_SEARCH };

struct imapd {
	enum imap_state st;
	struct auth_x ax;		/* --sasl-extra exchange */
	char tag[IMAP_TAG_MAX];		/* of the running command */
	/* assembling a command with literals */
	char *cmd;	/* IMAP_CMD_MAX + 1 while a command is read, else NULL */
	size_t cmdlen;
	uint64_t lit_need;		/* literal octets still to come */
	bool cont;
	bool idling;			/* IDLE: until DONE */
	/* the selected mailbox */
	struct ibox box;
	char boxname[IMAPBOX_NAME_MAX + 1];
	bool box_ro;			/* opened read-only (EXAMINE, or
					 * SELECT while POP3 holds INBOX) */
	/* a streamed job */
	enum imap_job job;
	bool uid;			/* UID FETCH / STORE */
	char set[IMAP_SET_MAX];
	size_t next;			/* next message index */
	unsigned items;
	struct imap_sect sect[IMAP_SECT_MAX];
	int nsect;
	int store_op;			/* -1 remove, 0 set, 1 add */
	unsigned store_flags;
	bool store_silent;
	struct imap_search *search;	/* SEARCH job (imapsearch.c) */
	struct imap_piece piece[IMAP_PIECES];
	int npiece, cur;
	/* APPEND: the literal goes straight into the store */
	struct store_msg *app;		/* NULL: not storing */
	bool app_on;			/* literal being read, or its end */
	bool app_cr;			/* a CR is pending (CRLF -> LF) */
	unsigned app_flags;
	time_t app_date;		/* 0: now */
	char app_box[IMAPBOX_NAME_MAX + 1];
	char app_err[160];		/* reply once a refused LITERAL+
					 * literal is skipped ("": none) */
	/* LIST / LSUB being streamed (imapselect.c) */
	struct imapbox_list *lister;	/* NULL: none */
	bool list_lsub;
	int fd;				/* message being streamed */
	uint64_t fpos;			/* wire offset read so far */
	int fprev;
};

/* ---- session and command syntax (imapd.c) ---- */

/* Changes state; the ONLY way to do so. */
void imap_set(struct imapd *i, enum imap_state st);

/* Forgets the command buffer (it exists only while reading one). */
void imap_cmd_free(struct imapd *i);

/*
 * Reads one astring (atom, "quoted" or {n} literal as assembled in the
 * command buffer) at *p (end at e) into out.  Returns its length, or -1.
 */
long imap_astring(const char **p, const char *e, char *out, size_t cap);

/* The tagged OK of the running command. */
void imap_ok(struct lconn *c, struct imapd *i, const char *what);

/* Parses "(\Seen \Deleted)" or "\Seen" into flag bits; keywords are
 * ignored.  Returns false on bad syntax. */
bool imap_parse_flags(const char *p, const char *e, unsigned *flags);

/* ---- mailbox commands, the selected mailbox (imapselect.c) ---- */

/* SELECT / EXAMINE mailbox (readonly: EXAMINE). */
void imap_select(struct lconn *c, struct imapd *i, const char *p,
    const char *e, bool readonly);

/* LIST / LSUB reference pattern: set up the streamed answer. */
void imap_list(struct lconn *c, struct imapd *i, const char *p,
    const char *e, bool lsub);

/* Ends a LIST / LSUB in progress (if any). */
void imap_list_free(struct imapd *i);

/* STATUS mailbox (items). */
void imap_status(struct lconn *c, struct imapd *i, const char *p,
    const char *e);

/* CREATE / DELETE mailbox, RENAME from to (cmd names which). */
void imap_boxcmd(struct lconn *c, struct imapd *i, const char *p,
    const char *e, const char *cmd);

/* COPY / UID COPY set mailbox. */
void imap_copy(struct lconn *c, struct imapd *i, const char *p,
    const char *e, bool uid);

/* Untagged EXPUNGE (other sessions), EXISTS and RECENT since the last
 * look (NOOP, CHECK, IDLE, after COPY / APPEND into the mailbox). */
void imap_news(struct lconn *c, struct imapd *i);

/* Before each command: the selected mailbox is read-only if it was
 * opened so or while POP3 holds the maildrop. */
void imap_pop3_sync(const struct lconn *c, struct imapd *i);

/* NO for a change to a read-only mailbox, saying why. */
void imap_ro_refuse(struct lconn *c, struct imapd *i);

/* ---- APPEND (imapappend.c) ---- */

/*
 * The command so far (i->cmd) ends in the literal {n} (plus:
 * LITERAL+).  If it is the message of an APPEND, the literal is stored
 * as it arrives: returns true.  Otherwise returns false and nothing is
 * done.
 */
bool imap_append_begin(struct lconn *c, struct imapd *i, uint64_t n,
    bool plus);

/* Raw input (the loop's raw hook): bytes of an APPEND literal. */
void imap_append_raw(struct lconn *c, const char *s, size_t n);

/* The line after an APPEND literal (n bytes): commits or refuses. */
void imap_append_end(struct lconn *c, struct imapd *i, size_t n);

/* Frees what an APPEND holds (the half-written message goes). */
void imap_app_end(struct imapd *i);

/* ---- growable text for responses (imapfetch.c) ---- */

struct gbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void gb_add(struct gbuf *g, const void *s, size_t n);
void gb_printf(struct gbuf *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An IMAP nstring: NIL (s NULL), "quoted", or a literal for 8-bit. */
void gb_nstring(struct gbuf *g, const char *s, size_t n);
/* The parenthesised ENVELOPE list (RFC 3501 7.4.2) of a header. */
void gb_envelope(struct gbuf *g, const char *hdr);
/* The unfolded value of header field name in hdr (LF lines), or NULL. */
char *hdr_get(const char *hdr, const char *name, char *out, size_t cap);

/* ---- MIME structure (imapmime.c) ---- */

#define MIME_PARTS_MAX	64	/* parts of one message */
#define MIME_DEPTH_MAX	8	/* nesting of multiparts / messages */
#define MIME_HDR_MAX	(8 * 1024)	/* header bytes kept per part */

struct mime_part {
	int parent, child, next, last;	/* tree links, -1: none */
	int depth;
	bool in_hdr;		/* still reading its header (parse) */
	bool multipart;
	bool message;		/* message/rfc822: child is the message */
	bool closed;		/* multipart: close delimiter seen */
	bool last_empty;	/* its last body line was empty (parse) */
	bool digest;		/* multipart/digest: children default to
				 * message/rfc822 */
	uint64_t hdr_start, body_start, body_end;	/* wire offsets */
	uint64_t lines;
	char *hdr;		/* header, LF lines, NUL-terminated */
	size_t hlen;
	char boundary[72];
};

struct mime {
	struct mime_part p[MIME_PARTS_MAX];
	int n;
};

/* Parses the message open at fd (read from its start).  Returns 0 or
 * -1 (out of memory, read error); free with mime_free either way. */
int mime_parse(int fd, struct mime *m);

void mime_free(struct mime *m);

/*
 * Writes BODYSTRUCTURE (ext true) or BODY (false) of the message:
 * "(...)".
 */
void mime_structure(struct gbuf *g, const struct mime *m, bool ext);

/*
 * The part named by the numbers of s (1.2.3): its index, or -1 if the
 * message has no such part.  *msg gets the index of the message whose
 * HEADER / TEXT a suffix means (a message/rfc822 part's message), or
 * -1 if the part is not a message.
 */
int mime_resolve(const struct mime *m, const struct imap_sect *s,
    int *msg);

/* Does the sequence set (or uid set) contain v?  max is '*'. */
bool imap_set_has(const char *set, uint32_t v, uint32_t max);

/* Is set a valid sequence set? */
bool imap_set_ok(const char *set);

/* "(\Seen \Deleted)" for flags, into buf. */
void imap_flags_str(unsigned flags, char *buf, size_t cap);

/*
 * Parses the FETCH items at p (a macro, one item or a list) into i.
 * Returns true, or false for something this lab does not know.
 */
bool imap_fetch_parse(struct imapd *i, const char *p);

/* ---- SEARCH (imapsearch.c) ---- */

struct imap_search;

enum imap_search_err { ISE_OK, ISE_SYNTAX, ISE_LIMIT, ISE_CHARSET,
	ISE_NOMEM };

/*
 * Parses the SEARCH program p..e (after "SEARCH ", literals as
 * assembled in the command buffer).  Returns it, or NULL with *err set
 * (ISE_LIMIT: more than IMAP_SEARCH_KEYS_MAX keys).  Needs no session:
 * a syntax check (and a fuzz target) can call it alone.
 */
struct imap_search *imap_search_new(const char *p, const char *e,
    int *err);

void imap_search_free(struct imap_search *s);

/*
 * SEARCH / UID SEARCH p..e: answers a bad program at once, else sets
 * up the job (i->search, refill) that writes "* SEARCH ..." and then
 * the tagged OK.
 */
void imap_search_start(struct lconn *c, struct imapd *i, const char *p,
    const char *e, bool uid);

/*
 * One round of the SEARCH job: decides messages from i->next on and
 * writes their numbers.  Returns true while messages are left; sets
 * c->yield when this turn's share of work is spent.
 */
bool imap_search_step(struct lconn *c, struct imapd *i);

/* Refill hook running the job set up in the struct imapd. */
bool imap_job_refill(struct lconn *c);

/* Frees what a job holds (pieces, open file). */
void imap_job_end(struct imapd *i);

#endif
