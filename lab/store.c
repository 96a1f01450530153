/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store.c: Maildir delivery and reading (see store.h).
 *
 * Maildir (D. J. Bernstein, https://cr.yp.to/proto/maildir.html): write
 * to tmp/UNIQUE, then rename into new/.  Outside facts relied on:
 *  - rename() and link() within one file system are atomic;
 *  - a rename is durable only once the directory holding the new name
 *    has been fsync'd (Linux, ext4 / xfs).
 */
#include "../protocols/i18n.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* mkdir that accepts an existing directory.  Returns 0 or -1. */
static int
store_mkdir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, _("mailsh lab: cannot create %s: %s\n"), path,
	    strerror(errno));
	return -1;
}

int
store_init_user(const char *state, const char *name)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	char path[4300];
	snprintf(path, sizeof(path), "%s/mail", state);
	if (store_mkdir(path) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
		snprintf(path, sizeof(path), "%s/mail/%s%s", state, name,
		    sub[i]);
		if (store_mkdir(path) != 0)
			return -1;
	}
	return 0;
}

int
store_syncdir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

void
store_uniq(char *buf, size_t cap)
{
	static unsigned counter;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	snprintf(buf, cap, "%lld.M%06ldP%dQ%u.mailsh-lab",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(),
	    ++counter);
}

int
store_begin(struct store_msg *m, const char *state, const char *user)
{
	m->fd = -1;
	m->size = m->wsize = 0;
	m->wlen = 0;
	m->last_cr = false;
	m->failed = false;
	snprintf(m->dir, sizeof(m->dir), "%s/mail", state);
	snprintf(m->first, sizeof(m->first), "%s", user);
	store_uniq(m->uniq, sizeof(m->uniq));
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s/tmp/%s", m->dir, user, m->uniq);
	m->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m->fd < 0) {
		fprintf(stderr, _("mailsh lab: cannot create %s: %s\n"), path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes out the buffer; marks failure. */
static void
store_wflush(struct store_msg *m)
{
	size_t off = 0;
	while (off < m->wlen && !m->failed) {
		ssize_t r = write(m->fd, m->wbuf + off, m->wlen - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			m->failed = true;
		else
			off += (size_t)r;
	}
	m->wlen = 0;
}

void
store_write(struct store_msg *m, const void *p, size_t n)
{
	const unsigned char *s = p;
	if (m->fd < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && !m->last_cr)
			m->wsize++;	/* LF becomes CRLF on the wire */
		m->last_cr = s[i] == '\r';
	}
	m->size += n;
	m->wsize += n;
	while (n > 0) {
		size_t k = sizeof(m->wbuf) - m->wlen;
		if (k > n)
			k = n;
		memcpy(m->wbuf + m->wlen, s, k);
		m->wlen += k;
		s += k;
		n -= k;
		if (m->wlen == sizeof(m->wbuf))
			store_wflush(m);
	}
}

void
store_abort(struct store_msg *m)
{
	if (m->fd < 0)
		return;
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s/tmp/%s", m->dir, m->first,
	    m->uniq);
	close(m->fd);
	unlink(path);
	m->fd = -1;
}

int
store_commit(struct store_msg *m, const char *const *users, size_t n,
    char *id, size_t idcap)
{
	char tmp[4500], dst[4500], final[STORE_NAME_MAX + 64];
	if (m->fd < 0)
		return -1;
	store_wflush(m);
	if (m->failed || fsync(m->fd) != 0) {
		store_abort(m);
		return -1;
	}
	close(m->fd);
	m->fd = -1;
	snprintf(final, sizeof(final), "%s,S=%llu,W=%llu", m->uniq,
	    (unsigned long long)m->size, (unsigned long long)m->wsize);
	snprintf(tmp, sizeof(tmp), "%s/%s/tmp/%s", m->dir, m->first,
	    m->uniq);
	int r = 0;
	/* the other recipients get hard links, through their tmp/ too */
	for (size_t i = 1; i < n && r == 0; i++) {
		char t2[4500];
		snprintf(t2, sizeof(t2), "%s/%s/tmp/%s", m->dir, users[i],
		    m->uniq);
		snprintf(dst, sizeof(dst), "%s/%s/new/%s", m->dir, users[i],
		    final);
		if (link(tmp, t2) != 0 || rename(t2, dst) != 0)
			r = -1;
	}
	snprintf(dst, sizeof(dst), "%s/%s/new/%s", m->dir, users[0], final);
	if (r == 0 && rename(tmp, dst) != 0)
		r = -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		snprintf(dst, sizeof(dst), "%s/%s/new", m->dir, users[i]);
		if (store_syncdir(dst) != 0)
			r = -1;
	}
	if (r != 0) {
		fprintf(stderr, "mailsh lab: delivering %s failed: %s\n",
		    m->uniq, strerror(errno));
		unlink(tmp);
		return -1;
	}
	snprintf(id, idcap, "%s", m->uniq);
	return 0;
}

/* Size with CRLF line ends: from the name's ",W=", else counted. */
static uint64_t
store_wsize(const char *dir, const char *name)
{
	const char *w = strstr(name, ",W=");
	if (w)
		return strtoull(w + 3, NULL, 10);
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	uint64_t n = 0;
	int c, prev = 0;
	while ((c = getc(f)) != EOF) {
		n += (c == '\n' && prev != '\r') ? 2 : 1;
		prev = c;
	}
	fclose(f);
	return n;
}

/* Adds the messages of path/sub to b.  Returns 0 or -1. */
static int
store_scan_dir(struct store_box *b, const char *sub, bool cur)
{
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/%s", b->path, sub);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= STORE_NAME_MAX)
			continue;
		struct store_entry *ne = realloc(b->e, (b->n + 1) *
		    sizeof(*ne));
		if (!ne) {
			r = -1;
			break;
		}
		b->e = ne;
		struct store_entry *e = &b->e[b->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", de->d_name);
		e->cur = cur;
		e->size = store_wsize(dir, e->name);
	}
	closedir(d);
	return r;
}

/* Oldest first: names start with the delivery time. */
static int
store_cmp(const void *a, const void *b)
{
	const struct store_entry *x = a, *y = b;
	return strverscmp(x->name, y->name);
}

int
store_scan(struct store_box *b, const char *state, const char *user)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s/mail/%s", state, user);
	if (store_scan_dir(b, "cur", true) != 0 ||
	    store_scan_dir(b, "new", false) != 0) {
		store_box_free(b);
		return -1;
	}
	if (b->n > 1)
		qsort(b->e, b->n, sizeof(*b->e), store_cmp);
	return 0;
}

void
store_box_free(struct store_box *b)
{
	free(b->e);
	b->e = NULL;
	b->n = 0;
}

/*
 * Path of message i: where the scan saw it, else wherever a file with
 * the same base name is now (an IMAP session may have moved it to cur/
 * or changed its flags).  Returns false if it is gone.
 */
static bool
store_path(const struct store_box *b, size_t i, char *path, size_t cap)
{
	const char *name = b->e[i].name;
	snprintf(path, cap, "%s/%s/%s", b->path, b->e[i].cur ? "cur" :
	    "new", name);
	if (access(path, F_OK) == 0)
		return true;
	size_t bl = strcspn(name, ":");
	for (int k = 0; k < 2; k++) {
		char dir[4300];
		snprintf(dir, sizeof(dir), "%s/%s", b->path, k ? "new" : "cur");
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, name, bl) == 0 &&
			    strcspn(de->d_name, ":") == bl) {
				int r = snprintf(path, cap, "%s/%s", dir,
				    de->d_name);
				closedir(d);
				return r > 0 && (size_t)r < cap;
			}
		}
		if (d)
			closedir(d);
	}
	return false;
}

int
store_open(const struct store_box *b, size_t i)
{
	char path[4500];
	if (!store_path(b, i, path, sizeof(path)))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int
store_remove(const struct store_box *b, size_t i)
{
	char path[4500];
	if (!store_path(b, i, path, sizeof(path)))
		return 0;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

void
store_uid(const struct store_entry *e, char *buf, size_t cap)
{
	size_t n = strcspn(e->name, ",:");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, e->name, n);
	buf[n] = '\0';
}
