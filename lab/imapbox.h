/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapbox.h: IMAP mailboxes other than INBOX.  INBOX is the user's
 * Maildir, STATE/mail/NAME; every other mailbox is a Maildir++ folder
 * beside it, STATE/mail/NAME/.MAILBOX/{tmp,new,cur}.  The namespace is
 * flat: the hierarchy delimiter "/" is not allowed in a name.
 *
 * A mailbox name is 1 to IMAPBOX_NAME_MAX bytes of printable ASCII
 * (space allowed, modified UTF-7 as it comes) without / \ * % " and
 * without "..", not starting with "." or a space: it can never leave
 * the user's directory.
 */
#ifndef MAILSH_LAB_IMAPBOX_H
#define MAILSH_LAB_IMAPBOX_H

#include "ibox.h"
#include "imapmatch.h"

#include <dirent.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define IMAPBOX_NAME_MAX	100

/* Is name INBOX (any case)? */
bool imapbox_is_inbox(const char *name);

/* Is name a valid mailbox name (INBOX counts as valid)? */
bool imapbox_name_ok(const char *name);

/*
 * The Maildir of mailbox name of user into buf.  Returns 0, or -1 for
 * a bad name (nothing written then).
 */
int imapbox_path(const char *state, const char *user, const char *name,
    char *buf, size_t cap);

/* The store_begin "user" for delivering into mailbox name
 * ("alice" or "alice/.Sent").  Returns 0 or -1 (bad name). */
int imapbox_store_user(const char *user, const char *name, char *buf,
    size_t cap);

/* Does the mailbox exist? */
bool imapbox_exists(const char *state, const char *user, const char *name);

/* CREATE: 0, or -1 with errno (EEXIST, EINVAL for a bad name). */
int imapbox_create(const char *state, const char *user, const char *name);

/* DELETE (not INBOX): 0, or -1 with errno (ENOENT, EINVAL). */
int imapbox_delete(const char *state, const char *user, const char *name);

/* RENAME (not INBOX): 0, or -1 with errno (ENOENT, EEXIST, EINVAL). */
int imapbox_rename(const char *state, const char *user, const char *from,
    const char *to);

/*
 * LIST / LSUB, a step at a time (the caller streams the answer):
 * INBOX (any case) first if it matches, then every other mailbox of
 * user whose name matches pat (RFC 3501 6.3.8, see imapmatch.h), in
 * directory order.  state and user must stay valid until the end.
 */
#define IMAPBOX_LIST_STEP	64	/* directory entries per step */

struct imapbox_list {
	const char *state, *user;
	char pat[IMAPMATCH_PAT_MAX + 1];
	bool inbox_done;
	DIR *d;
};

/* 0, or -1 with errno ENAMETOOLONG for a pattern longer than
 * IMAPMATCH_PAT_MAX (nothing is matched then). */
int imapbox_list_begin(struct imapbox_list *it, const char *state,
    const char *user, const char *pat);

/* The next matching name into out: 1; 0 at the end; -1 when
 * IMAPBOX_LIST_STEP entries did not match (call again). */
int imapbox_list_next(struct imapbox_list *it, char *out, size_t cap);

/* Closes the directory (also safe after the end, or twice). */
void imapbox_list_end(struct imapbox_list *it);

/*
 * Copies message k of src into the Maildir dst (cur/, same size, date
 * and flags, \Recent aside): a hard link under a new unique name.
 * Returns 0 or -1.
 */
int imapbox_copy(const struct ibox *src, size_t k, const char *dst);

/*
 * Gives a message just delivered into dst/new/ (id: its unique name)
 * its flags and INTERNALDATE (t, 0 = now) by moving it into cur/.
 * Returns 0 or -1 (it then stays in new/, which is no loss).
 */
int imapbox_settle(const char *dst, const char *id, unsigned flags,
    time_t t);

#endif
