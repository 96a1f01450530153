/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * maildir.h: reading a Maildir (STATE/mail/NAME, or a folder of it),
 * the one reader behind every view of the store: POP3 (a snapshot of
 * new/ and cur/), IMAP (ibox.c, with its UIDs) and the quota
 * (limits.c).  Writing a message in is store.c's job.
 *
 * A file name is UNIQUE[,S=SIZE,W=WIRESIZE][:2,FLAGS]: the unique
 * name; the size on disk (LF line ends) and on the wire (CRLF), as
 * Dovecot writes them; the Maildir info with the flag letters in ASCII
 * order (D draft, F flagged, R replied, S seen, T trashed).  The base
 * name is what comes before the ':' (it survives flag changes).
 * https://cr.yp.to/proto/maildir.html
 */
#ifndef MAILSH_LAB_MAILDIR_H
#define MAILSH_LAB_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILDIR_NAME_MAX	128	/* longer file names are not seen */

/* The flags of the ":2," info (IMAP's system flags, \Recent aside). */
enum {
	MAILDIR_SEEN = 1, MAILDIR_ANSWERED = 2, MAILDIR_FLAGGED = 4,
	MAILDIR_TRASHED = 8, MAILDIR_DRAFT = 16,
};

/* Length of the base name (before the ":2," info). */
size_t maildir_baselen(const char *name);

/* The unique name (before ',' or ':') into buf. */
void maildir_uniq(const char *name, char *buf, size_t cap);

/* Flag bits from the name's ":2," info. */
unsigned maildir_flags(const char *name);

/* The info letters of flags ("FS"), in ASCII order, into buf. */
void maildir_flag_letters(unsigned flags, char *buf, size_t cap);

/* Octets on disk (LF line ends, what the quota counts): the name's
 * ",S=", else the file's size in dir; 0 if it is gone. */
uint64_t maildir_size(const char *dir, const char *name);

/* Octets with CRLF line ends (what POP3 and IMAP report): the name's
 * ",W=", else counted from the file in dir; 0 if it is gone. */
uint64_t maildir_wsize(const char *dir, const char *name);

/* Which subdirectories maildir_each reads. */
enum { MAILDIR_CUR = 1, MAILDIR_NEW = 2 };

/*
 * Calls fn for each message of the Maildir box in the subdirectories
 * `which` (cur/ first), with the directory's path, the file name and
 * whether it is in cur/; names starting with '.' and names of
 * MAILDIR_NAME_MAX or more bytes are skipped.  fn returns 0 to go on,
 * 1 to stop, -1 for a failure (which stops too).  Returns 0, or -1 if
 * fn failed or a directory could not be read (the others are still
 * read).
 */
int maildir_each(const char *box, unsigned which,
    int (*fn)(void *arg, const char *dir, const char *name, bool cur),
    void *arg);

/*
 * Path of the message name: where it was seen (cur/ or new/ as cur
 * says), else wherever a file with the same base name is now, in cur/
 * then new/ (another session may have moved it to cur/ or changed its
 * flags).  Returns false if it is gone.
 */
bool maildir_find(const char *box, const char *name, bool cur, char *path,
    size_t cap);

/* One message of a snapshot. */
struct maildir_ent {
	char name[MAILDIR_NAME_MAX];	/* file name */
	bool cur;			/* in cur/ (else new/) */
	uint64_t size;			/* octets with CRLF line ends */
	bool deleted;			/* marked by the view (POP3 DELE) */
};

/* A snapshot of new/ and cur/, in delivery order (POP3's maildrop). */
struct maildir_list {
	char path[4200];	/* the Maildir */
	struct maildir_ent *e;
	size_t n;
};

/* Lists new/ and cur/ of the Maildir path, oldest first.  Returns 0
 * or -1. */
int maildir_list_scan(struct maildir_list *l, const char *path);

void maildir_list_free(struct maildir_list *l);

/* Opens message i for reading (following a move or a flag change).
 * Returns an fd or -1. */
int maildir_list_open(const struct maildir_list *l, size_t i);

/* Removes message i (gone already counts as removed).  Returns 0 or
 * -1. */
int maildir_list_remove(const struct maildir_list *l, size_t i);

/* Delivery order: names start with the time (strverscmp). */
int maildir_cmp_names(const char *a, const char *b);

#endif
