/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ibox.h: the IMAP view of a user's Maildir (INBOX, or a folder), read
 * through maildir.h as POP3 and the quota read it: unique ids that
 * survive restarts (uidlist.h), flags kept in the file names (the
 * Maildir ":2," info), \Recent for what SELECT moved from new/ to
 * cur/.
 */
#ifndef MAILSH_LAB_IBOX_H
#define MAILSH_LAB_IBOX_H

#include "maildir.h"
#include "store.h"
#include "uidlist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* IMAP's system flags: the Maildir ones (\\Deleted is T, "trashed"),
 * and \\Recent, which lives only in the session. */
enum {
	IBOX_SEEN = MAILDIR_SEEN, IBOX_ANSWERED = MAILDIR_ANSWERED,
	IBOX_FLAGGED = MAILDIR_FLAGGED, IBOX_DELETED = MAILDIR_TRASHED,
	IBOX_DRAFT = MAILDIR_DRAFT, IBOX_RECENT = 32,
};

#define IBOX_HDR_MAX	(64 * 1024)	/* header bytes kept for parsing */

struct ibox_msg {
	char name[STORE_NAME_MAX];	/* file name in cur/ */
	uint32_t uid;
	unsigned flags;
	uint64_t size;		/* octets with CRLF line ends */
	time_t mtime;		/* INTERNALDATE */
};

struct ibox {
	char path[4200];	/* STATE/mail/NAME */
	bool readonly;		/* EXAMINE */
	uint32_t uidvalidity, uidnext;
	struct ibox_msg *m;
	size_t n;
	/* the uid list as last read or written by this session: while
	 * it is unchanged, a refresh reads only new/ */
	struct uidlist_stamp list;
	/* cur/ and new/ as of the last complete ibox_prune: while they
	 * are unchanged (and were not changed in the last second, which
	 * coarse timestamps might hide), nothing was removed */
	bool pruned;
	struct timespec prune_cur, prune_new;
};

/*
 * Opens the Maildir at path (a user's INBOX, STATE/mail/NAME, or one of
 * its folders, see imapbox.h): moves new/ into cur/ (marking those
 * \Recent) unless readonly, gives new messages their uids and saves
 * the uid list.  Returns 0 or -1.
 */
int ibox_open(struct ibox *b, const char *path, bool readonly);

/* Picks up messages delivered since: returns how many were added,
 * or -1.  Reads only new/ when no other session changed the uid list
 * (else cur/ and the list, O(n log n)). */
int ibox_refresh(struct ibox *b);

/*
 * Takes out of the view the messages whose files another session
 * (IMAP EXPUNGE, POP3 DELE) removed, at most max of them, from the
 * highest sequence number down, calling fn with each one's sequence
 * number (1-based) as it goes, which is valid for an untagged EXPUNGE
 * at once.  Returns how many, or -1 (nothing changed).
 */
int ibox_prune(struct ibox *b, size_t max,
    void (*fn)(void *arg, size_t seq), void *arg);

void ibox_close(struct ibox *b);

/* Sets the flags of message i (renaming its file).  Returns 0 or -1. */
int ibox_set_flags(struct ibox *b, size_t i, unsigned flags);

/* Removes message i from disk and from the list.  Returns 0 or -1. */
int ibox_expunge(struct ibox *b, size_t i);

/* Opens message i for reading.  Returns an fd or -1. */
int ibox_fd(const struct ibox *b, size_t i);

/* The octets message i takes on disk (LF line ends, as the quota
 * counts them): the name's ",S=", else the file's size; 0 if gone. */
uint64_t ibox_stored_size(const struct ibox *b, size_t i);

/*
 * Reads the header of message i (LF line ends, up to IBOX_HDR_MAX
 * bytes, NUL-terminated, without the empty line) into a new buffer;
 * *crlf_len gets the header's size on the wire with CRLF line ends,
 * including the empty line.  Returns the buffer (free it) or NULL.
 */
char *ibox_header(const struct ibox *b, size_t i, uint64_t *crlf_len);

/* Status of a mailbox without selecting it. */
int ibox_status(const char *path, size_t *exists,
    size_t *recent, size_t *unseen, uint32_t *uidnext,
    uint32_t *uidvalidity);

#endif
