/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * uidlist.h: the index of a Maildir's IMAP UIDs, BOX/mailsh-uidlist:
 * "V uidvalidity uidnext", then one "uid base-name" line a message
 * (the base name survives flag changes, see maildir.h).  Loaded, it is
 * sorted by base name: a lookup is a binary search.  Its identity
 * (mtime, size, inode) tells a session whether another one changed it
 * meanwhile, so that a refresh can skip reading it.
 */
#ifndef MAILSH_LAB_UIDLIST_H
#define MAILSH_LAB_UIDLIST_H

#include "maildir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct uidlist_ent {
	char base[MAILDIR_NAME_MAX];
	uint32_t uid;
};

struct uidlist {
	struct uidlist_ent *e;	/* sorted by base */
	size_t n;
};

/* The identity of the file as last read or written. */
struct uidlist_stamp {
	bool ok;		/* false: unknown (forces a full read) */
	struct timespec mtime;
	long long size;
	unsigned long long ino;
};

/*
 * Reads the list of the Maildir box into u, *validity and *next, and
 * notes the file's identity in st.  A missing or broken list starts a
 * new UIDVALIDITY (the time) with *next 1 and returns 1 (save it at
 * once); else returns 0.
 */
int uidlist_load(const char *box, struct uidlist *u, uint32_t *validity,
    uint32_t *next, struct uidlist_stamp *st);

void uidlist_free(struct uidlist *u);

/* The uid of the file name (by its base name), or 0. */
uint32_t uidlist_find(const struct uidlist *u, const char *name);

/*
 * Writes the list atomically (a temporary file renamed over it): n
 * messages, get giving message i's uid and file name; notes the new
 * file's identity in st (st->ok is false after a failure).  Returns 0
 * or -1.
 */
int uidlist_save(const char *box, uint32_t validity, uint32_t next,
    size_t n, void (*get)(const void *arg, size_t i, uint32_t *uid,
    const char **name), const void *arg, struct uidlist_stamp *st);

/* Is the file still the one st noted? */
bool uidlist_unchanged(const char *box, const struct uidlist_stamp *st);

#endif
