/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store.c: Maildir delivery (see store.h); reading is maildir.c's.
 *
 * Maildir (D. J. Bernstein, https://cr.yp.to/proto/maildir.html): write
 * to tmp/UNIQUE, then rename into new/.  Outside facts relied on:
 *  - rename() and link() within one file system are atomic;
 *  - a rename is durable only once the directory holding the new name
 *    has been fsync'd (Linux, ext4 / xfs).
 */
#include "../protocols/i18n.h"
#include "store.h"

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
