/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store.h: one Maildir per user, STATE/mail/NAME/{tmp,new,cur}, shared
 * by every protocol.  Messages are stored with LF line ends; a file's
 * name carries its size (",S=") and its size with CRLF line ends (",W=",
 * what POP3 and IMAP report), as Dovecot does.
 *
 * Delivery is durable before it is acknowledged: the message is written
 * to tmp/, fsync'd, renamed into new/, and new/ itself is fsync'd.
 */
#ifndef MAILSH_LAB_STORE_H
#define MAILSH_LAB_STORE_H

#include "maildir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX	MAILDIR_NAME_MAX
#define STORE_WBUF	(32 * 1024)

/* A message being delivered. */
struct store_msg {
	int fd;			/* -1: none */
	char dir[4200];		/* STATE/mail */
	char first[256];	/* user (or user/.folder) whose tmp/ holds
				 * the file */
	char uniq[STORE_NAME_MAX];
	uint64_t size;		/* bytes written */
	uint64_t wsize;		/* with CRLF line ends */
	bool last_cr;
	bool failed;		/* a write failed: commit will fail */
	size_t wlen;
	char wbuf[STORE_WBUF];
};

/* Makes STATE/mail/NAME/{tmp,new,cur} (mode 0700).  Returns 0, or -1
 * after printing why on stderr. */
int store_init_user(const char *state, const char *name);

/* fsyncs a directory (after a rename into it).  Returns 0 or -1. */
int store_syncdir(const char *path);

/* Starts a message in user's tmp/.  Returns 0 or -1 (m->fd stays -1). */
int store_begin(struct store_msg *m, const char *state, const char *user);

/* Appends n bytes (buffered).  A failure shows at store_commit. */
void store_write(struct store_msg *m, const void *p, size_t n);

/*
 * Delivers the message to each of the n users (the first one is the
 * user given to store_begin), durably.  id gets the message's unique
 * name.  Returns 0, or -1 (nothing must be acknowledged; what was
 * written is removed as far as possible).
 */
int store_commit(struct store_msg *m, const char *const *users, size_t n,
    char *id, size_t idcap);

/* A new unique Maildir base name (time, pid, counter) into buf. */
void store_uniq(char *buf, size_t cap);

/* Throws the message away (no-op without one). */
void store_abort(struct store_msg *m);

#endif
