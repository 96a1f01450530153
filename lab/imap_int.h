/*
 * imap_int.h: what imapd.c (commands and states) and imapfetch.c
 * (FETCH, STORE and EXPUNGE output, streamed) share.
 */
#ifndef MAILSH_LAB_IMAP_INT_H
#define MAILSH_LAB_IMAP_INT_H

#include "ibox.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_CMD_MAX	(16 * 1024)	/* one command incl. literals */
#define IMAP_TAG_MAX	64
#define IMAP_SET_MAX	1024
#define IMAP_SECT_MAX	4		/* body sections in one FETCH */
#define IMAP_PIECES	(2 * IMAP_SECT_MAX + 2)

enum imap_state {
	IS_NOTAUTH,
	IS_AUTHPLAIN,	/* "+ " sent for AUTHENTICATE PLAIN */
	IS_AUTH,
	IS_SELECTED,
};

enum imap_sect_kind { SK_ALL, SK_HEADER, SK_TEXT, SK_FIELDS, SK_NOT };

struct imap_sect {
	enum imap_sect_kind kind;
	bool peek;
	bool partial;
	uint64_t origin, count;
	char fields[512];	/* HEADER.FIELDS list, upper case, spaced */
	char name[600];		/* as named in the response */
};

enum {
	FI_UID = 1, FI_FLAGS = 2, FI_SIZE = 4, FI_DATE = 8, FI_ENV = 16,
	FI_STRUCT = 32,
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
	char tag[IMAP_TAG_MAX];		/* of the running command */
	/* assembling a command with literals */
	char *cmd;	/* IMAP_CMD_MAX + 1 while a command is read, else NULL */
	size_t cmdlen;
	uint64_t lit_need;		/* literal octets still to come */
	uint64_t lit_skip;		/* octets of a refused literal */
	bool cont;
	bool idling;			/* IDLE: until DONE */
	/* the selected mailbox */
	struct ibox box;
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
	char *search;			/* SEARCH program (malloc'd) */
	bool search_started;
	struct imap_piece piece[IMAP_PIECES];
	int npiece, cur;
	int fd;				/* message being streamed */
	uint64_t fpos;			/* wire offset read so far */
	int fprev;
};

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

/*
 * Does message k match the SEARCH program prog?  Returns 1 or 0, or -1
 * for bad syntax or an unsupported key; k = SIZE_MAX checks only the
 * syntax.  (imapsearch.c)
 */
int imap_search_match(struct imapd *i, size_t k, const char *prog);

/* Refill hook running the job set up in the struct imapd. */
bool imap_job_refill(struct lconn *c);

/* Frees what a job holds (pieces, open file). */
void imap_job_end(struct imapd *i);

#endif
