/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * maildir.c: reading a Maildir (see maildir.h), for POP3, IMAP and the
 * quota alike.
 *
 * Maildir (https://cr.yp.to/proto/maildir.html): messages in new/ and
 * cur/, info ":2,FLAGS" with the letters in ASCII order.  Outside facts
 * relied on: a rename within one file system is atomic, so a message
 * is always in new/ or in cur/ under one name, and readdir may or may
 * not return a name renamed while the directory is read (hence
 * maildir_find).
 */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Flag letters in the order Maildir wants them. */
static const struct { char letter; unsigned flag; } maildir_letters[] = {
	{ 'D', MAILDIR_DRAFT }, { 'F', MAILDIR_FLAGGED },
	{ 'R', MAILDIR_ANSWERED }, { 'S', MAILDIR_SEEN },
	{ 'T', MAILDIR_TRASHED },
};
#define MAILDIR_NLETTERS (sizeof(maildir_letters) / sizeof(*maildir_letters))

size_t
maildir_baselen(const char *name)
{
	return strcspn(name, ":");
}

void
maildir_uniq(const char *name, char *buf, size_t cap)
{
	size_t n = strcspn(name, ",:");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, name, n);
	buf[n] = '\0';
}

unsigned
maildir_flags(const char *name)
{
	const char *info = strstr(name, ":2,");
	unsigned f = 0;
	if (!info)
		return 0;
	for (const char *p = info + 3; *p; p++)
		for (size_t i = 0; i < MAILDIR_NLETTERS; i++)
			if (*p == maildir_letters[i].letter)
				f |= maildir_letters[i].flag;
	return f;
}

void
maildir_flag_letters(unsigned flags, char *buf, size_t cap)
{
	size_t k = 0;
	for (size_t j = 0; j < MAILDIR_NLETTERS && k + 1 < cap; j++)
		if (flags & maildir_letters[j].flag)
			buf[k++] = maildir_letters[j].letter;
	buf[k] = '\0';
}

/* The number after tag ("S=", "W=") in the part of the name before
 * the info, or -1 without one. */
static long long
maildir_name_num(const char *name, const char *tag)
{
	size_t bl = maildir_baselen(name), tl = strlen(tag);
	for (const char *p = strchr(name, ','); p && (size_t)(p - name) < bl;
	    p = strchr(p + 1, ','))
		if (strncmp(p + 1, tag, tl) == 0 && p[1 + tl] >= '0' &&
		    p[1 + tl] <= '9')
			return strtoll(p + 1 + tl, NULL, 10);
	return -1;
}

/* The size of the file name in dir, with CRLF line ends if crlf
 * (counted: a bare LF becomes two octets); 0 if it is gone. */
static uint64_t
maildir_file_size(const char *dir, const char *name, bool crlf)
{
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!crlf) {
		struct stat st;
		return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
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

uint64_t
maildir_size(const char *dir, const char *name)
{
	long long s = maildir_name_num(name, "S=");
	return s >= 0 ? (uint64_t)s : maildir_file_size(dir, name, false);
}

uint64_t
maildir_wsize(const char *dir, const char *name)
{
	long long w = maildir_name_num(name, "W=");
	return w >= 0 ? (uint64_t)w : maildir_file_size(dir, name, true);
}

int
maildir_each(const char *box, unsigned which,
    int (*fn)(void *arg, const char *dir, const char *name, bool cur),
    void *arg)
{
	int r = 0;
	for (int k = 0; k < 2; k++) {
		bool cur = k == 0;
		if (!(which & (cur ? MAILDIR_CUR : MAILDIR_NEW)))
			continue;
		char dir[4300];
		snprintf(dir, sizeof(dir), "%s/%s", box, cur ? "cur" : "new");
		DIR *d = opendir(dir);
		if (!d) {
			r = -1;
			continue;
		}
		struct dirent *de;
		int fr = 0;
		while (fr == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strlen(de->d_name) >= MAILDIR_NAME_MAX)
				continue;
			fr = fn(arg, dir, de->d_name, cur);
		}
		closedir(d);
		if (fr < 0)
			return -1;
		if (fr > 0)
			break;
	}
	return r;
}

/* What maildir_find looks for, and where it found it. */
struct maildir_seek {
	const char *name;
	size_t bl;
	char *path;
	size_t cap;
	bool found;
};

static int
maildir_seek_one(void *arg, const char *dir, const char *name, bool cur)
{
	struct maildir_seek *s = arg;
	(void)cur;
	if (strncmp(name, s->name, s->bl) != 0 ||
	    maildir_baselen(name) != s->bl)
		return 0;
	int r = snprintf(s->path, s->cap, "%s/%s", dir, name);
	s->found = r > 0 && (size_t)r < s->cap;
	return 1;
}

bool
maildir_find(const char *box, const char *name, bool cur, char *path,
    size_t cap)
{
	snprintf(path, cap, "%s/%s/%s", box, cur ? "cur" : "new", name);
	if (access(path, F_OK) == 0)
		return true;
	struct maildir_seek s = { name, maildir_baselen(name), path, cap,
	    false };
	maildir_each(box, MAILDIR_CUR | MAILDIR_NEW, maildir_seek_one, &s);
	return s.found;
}

int
maildir_cmp_names(const char *a, const char *b)
{
	return strverscmp(a, b);
}

static int
maildir_cmp_ent(const void *a, const void *b)
{
	const struct maildir_ent *x = a, *y = b;
	return maildir_cmp_names(x->name, y->name);
}

/* Adds one file to the snapshot. */
static int
maildir_list_add(void *arg, const char *dir, const char *name, bool cur)
{
	struct maildir_list *l = arg;
	struct maildir_ent *ne = realloc(l->e, (l->n + 1) * sizeof(*ne));
	if (!ne)
		return -1;
	l->e = ne;
	struct maildir_ent *e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->cur = cur;
	e->size = maildir_wsize(dir, name);
	return 0;
}

int
maildir_list_scan(struct maildir_list *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (maildir_each(l->path, MAILDIR_CUR | MAILDIR_NEW,
	    maildir_list_add, l) != 0) {
		maildir_list_free(l);
		return -1;
	}
	if (l->n > 1)
		qsort(l->e, l->n, sizeof(*l->e), maildir_cmp_ent);
	return 0;
}

void
maildir_list_free(struct maildir_list *l)
{
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

int
maildir_list_open(const struct maildir_list *l, size_t i)
{
	char path[4500];
	if (!maildir_find(l->path, l->e[i].name, l->e[i].cur, path,
	    sizeof(path)))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int
maildir_list_remove(const struct maildir_list *l, size_t i)
{
	char path[4500];
	if (!maildir_find(l->path, l->e[i].name, l->e[i].cur, path,
	    sizeof(path)))
		return 0;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}
