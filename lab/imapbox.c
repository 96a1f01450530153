/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapbox.c: IMAP mailboxes beside INBOX (see imapbox.h): names,
 * CREATE, DELETE, RENAME, LIST, COPY and APPEND's last step.
 *
 * RFC 3501 5.1 (mailbox naming), 6.3.3-6.3.5, 6.3.8, 6.4.7; the
 * Maildir++ folder layout (".NAME" beside cur/ new/ tmp/, as Courier
 * and Dovecot use it).  Outside facts relied on: link() and rename()
 * are atomic within one file system; rename() of a directory moves
 * its contents.
 */
#include "imapbox.h"
#include "imapmatch.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bool
imapbox_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

bool
imapbox_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (imapbox_is_inbox(name))
		return true;
	if (n == 0 || n > IMAPBOX_NAME_MAX || name[0] == '.' ||
	    name[0] == ' ' || strstr(name, ".."))
		return false;
	for (size_t k = 0; k < n; k++) {
		unsigned char ch = (unsigned char)name[k];
		if (ch < 0x20 || ch > 0x7e || strchr("/\\*%\"", ch))
			return false;
	}
	return true;
}

int
imapbox_path(const char *state, const char *user, const char *name,
    char *buf, size_t cap)
{
	int r;
	if (!imapbox_name_ok(name))
		return -1;
	if (imapbox_is_inbox(name))
		r = snprintf(buf, cap, "%s/mail/%s", state, user);
	else
		r = snprintf(buf, cap, "%s/mail/%s/.%s", state, user, name);
	return r > 0 && (size_t)r < cap ? 0 : -1;
}

int
imapbox_store_user(const char *user, const char *name, char *buf,
    size_t cap)
{
	int r;
	if (!imapbox_name_ok(name))
		return -1;
	if (imapbox_is_inbox(name))
		r = snprintf(buf, cap, "%s", user);
	else
		r = snprintf(buf, cap, "%s/.%s", user, name);
	return r > 0 && (size_t)r < cap ? 0 : -1;
}

bool
imapbox_exists(const char *state, const char *user, const char *name)
{
	char path[4400];
	struct stat st;
	return imapbox_path(state, user, name, path, sizeof(path)) == 0 &&
	    stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
imapbox_create(const char *state, const char *user, const char *name)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char path[4400], p2[4500];
	if (imapbox_path(state, user, name, path, sizeof(path)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (imapbox_is_inbox(name) || mkdir(path, 0700) != 0) {
		if (imapbox_is_inbox(name))
			errno = EEXIST;
		return -1;
	}
	for (size_t k = 0; k < 3; k++) {
		snprintf(p2, sizeof(p2), "%s/%s", path, sub[k]);
		if (mkdir(p2, 0700) != 0) {
			int e = errno;
			imapbox_delete(state, user, name);
			errno = e;
			return -1;
		}
	}
	return 0;
}

/* Removes every plain file in dir, then dir.  Returns 0 or -1. */
static int
imapbox_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	char p[4700];
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

int
imapbox_delete(const char *state, const char *user, const char *name)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char path[4400], p2[4500];
	if (imapbox_is_inbox(name) ||
	    imapbox_path(state, user, name, path, sizeof(path)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (access(path, F_OK) != 0)
		return -1;
	for (size_t k = 0; k < 3; k++) {
		snprintf(p2, sizeof(p2), "%s/%s", path, sub[k]);
		if (imapbox_rmdir(p2) != 0)
			return -1;
	}
	return imapbox_rmdir(path);
}

int
imapbox_rename(const char *state, const char *user, const char *from,
    const char *to)
{
	char a[4400], b[4400];
	struct stat st;
	if (imapbox_is_inbox(from) || imapbox_is_inbox(to) ||
	    imapbox_path(state, user, from, a, sizeof(a)) != 0 ||
	    imapbox_path(state, user, to, b, sizeof(b)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (stat(a, &st) != 0)
		return -1;
	if (lstat(b, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(a, b);
}

int
imapbox_list_begin(struct imapbox_list *it, const char *state,
    const char *user, const char *pat)
{
	memset(it, 0, sizeof(*it));
	if (!imapmatch_pat_ok(pat)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(it->pat, sizeof(it->pat), "%s", pat);
	it->state = state;
	it->user = user;
	return 0;
}

int
imapbox_list_next(struct imapbox_list *it, char *out, size_t cap)
{
	if (!it->inbox_done) {
		it->inbox_done = true;
		char dir[4400];
		snprintf(dir, sizeof(dir), "%s/mail/%s", it->state, it->user);
		it->d = opendir(dir);	/* NULL: no mailbox but INBOX */
		if (imapmatch(it->pat, "INBOX", true)) {
			snprintf(out, cap, "INBOX");
			return 1;
		}
	}
	for (int step = 0; it->d && step < IMAPBOX_LIST_STEP; step++) {
		struct dirent *de = readdir(it->d);
		if (!de) {
			imapbox_list_end(it);
			break;
		}
		const char *name = de->d_name + 1;
		if (de->d_name[0] != '.' || !imapbox_name_ok(name) ||
		    imapbox_is_inbox(name) || !imapmatch(it->pat, name,
		    false) || !imapbox_exists(it->state, it->user, name))
			continue;
		snprintf(out, cap, "%s", name);
		return 1;
	}
	return it->d ? -1 : 0;
}

void
imapbox_list_end(struct imapbox_list *it)
{
	if (it->d)
		closedir(it->d);
	it->d = NULL;
}

/* fsyncs a directory.  Returns 0 or -1. */
int
imapbox_copy(const struct ibox *src, size_t k, const char *dst)
{
	const struct ibox_msg *m = &src->m[k];
	char uniq[STORE_NAME_MAX], letters[8], name[STORE_NAME_MAX + 16];
	char from[4500], to[4700];
	/* keep ",S=..,W=.." (the sizes) from the old name */
	const char *sizes = strchr(m->name, ',');
	size_t sl = sizes ? strcspn(sizes, ":") : 0;
	store_uniq(uniq, sizeof(uniq));
	maildir_flag_letters(m->flags, letters, sizeof(letters));
	int r = snprintf(name, sizeof(name), "%s%.*s:2,%s", uniq, (int)sl,
	    sizes ? sizes : "", letters);
	if (r < 0 || (size_t)r >= STORE_NAME_MAX)
		return -1;
	/* in cur/, or in new/ as EXAMINE sees it */
	if (!maildir_find(src->path, m->name, true, from, sizeof(from)))
		return -1;
	snprintf(to, sizeof(to), "%s/cur/%s", dst, name);
	if (link(from, to) != 0)
		return -1;
	snprintf(to, sizeof(to), "%s/cur", dst);
	return store_syncdir(to);
}

/* What imapbox_settle looks for in new/, and where it is to go. */
struct imapbox_settling {
	const char *id, *dst;
	unsigned flags;
	char from[4700], to[4700];
};

/* Is this the file just delivered (its unique name is id)? */
static int
imapbox_settle_one(void *arg, const char *dir, const char *name, bool cur)
{
	struct imapbox_settling *st = arg;
	char uniq[STORE_NAME_MAX], letters[8];
	(void)cur;
	maildir_uniq(name, uniq, sizeof(uniq));
	if (strcmp(uniq, st->id) != 0)
		return 0;
	snprintf(st->from, sizeof(st->from), "%s/%s", dir, name);
	maildir_flag_letters(st->flags & ~IBOX_RECENT, letters,
	    sizeof(letters));
	snprintf(st->to, sizeof(st->to), "%s/cur/%s:2,%s", st->dst, name,
	    letters);
	return 1;
}

int
imapbox_settle(const char *dst, const char *id, unsigned flags, time_t t)
{
	struct imapbox_settling st = { id, dst, flags, "", "" };
	char *from = st.from, *to = st.to;
	maildir_each(dst, MAILDIR_NEW, imapbox_settle_one, &st);
	if (!from[0])
		return -1;
	if (t > 0) {
		struct timespec ts[2] = { { t, 0 }, { t, 0 } };
		utimensat(AT_FDCWD, from, ts, 0);
	}
	return rename(from, to);
}
