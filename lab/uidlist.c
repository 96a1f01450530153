/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * uidlist.c: the UID index of a Maildir (see uidlist.h).
 *
 * RFC 3501 2.3.1.1: UIDs strictly ascending, never reused within one
 * UIDVALIDITY; a list that cannot be read starts a new UIDVALIDITY.
 */
#include "uidlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The list's path: box/mailsh-uidlist. */
static void
uidlist_path(const char *box, char *path, size_t cap)
{
	snprintf(path, cap, "%s/mailsh-uidlist", box);
}

/* Notes the file's identity after reading or writing it. */
static void
uidlist_stamp(const char *box, struct uidlist_stamp *st)
{
	char path[4300];
	struct stat sb;
	uidlist_path(box, path, sizeof(path));
	st->ok = stat(path, &sb) == 0;
	if (!st->ok)
		return;
	st->mtime = sb.st_mtim;
	st->size = (long long)sb.st_size;
	st->ino = (unsigned long long)sb.st_ino;
}

bool
uidlist_unchanged(const char *box, const struct uidlist_stamp *st)
{
	char path[4300];
	struct stat sb;
	uidlist_path(box, path, sizeof(path));
	return st->ok && stat(path, &sb) == 0 &&
	    sb.st_mtim.tv_sec == st->mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == st->mtime.tv_nsec &&
	    (long long)sb.st_size == st->size &&
	    (unsigned long long)sb.st_ino == st->ino;
}

static int
uidlist_cmp(const void *a, const void *b)
{
	const struct uidlist_ent *x = a, *y = b;
	return strcmp(x->base, y->base);
}

int
uidlist_load(const char *box, struct uidlist *u, uint32_t *validity,
    uint32_t *next, struct uidlist_stamp *st)
{
	char path[4300], line[MAILDIR_NAME_MAX + 32];
	size_t cap = 0;
	memset(u, 0, sizeof(*u));
	uidlist_path(box, path, sizeof(path));
	FILE *f = fopen(path, "r");
	unsigned v, nx;
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "V %u %u", &v, &nx) != 2 || v == 0 || nx == 0) {
		if (f)
			fclose(f);
		*validity = (uint32_t)time(NULL);
		*next = 1;
		return 1;
	}
	*validity = v;
	*next = nx;
	while (fgets(line, sizeof(line), f)) {
		unsigned id;
		char name[MAILDIR_NAME_MAX];
		if (sscanf(line, "%u %127s", &id, name) != 2 || id == 0 ||
		    id >= *next)
			continue;
		if (u->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			void *ne = realloc(u->e, nc * sizeof(*u->e));
			if (!ne)
				break;
			u->e = ne;
			cap = nc;
		}
		memcpy(u->e[u->n].base, name, sizeof(name));
		u->e[u->n++].uid = id;
	}
	fclose(f);
	if (u->n > 1)
		qsort(u->e, u->n, sizeof(*u->e), uidlist_cmp);
	uidlist_stamp(box, st);
	return 0;
}

void
uidlist_free(struct uidlist *u)
{
	free(u->e);
	memset(u, 0, sizeof(*u));
}

uint32_t
uidlist_find(const struct uidlist *u, const char *name)
{
	struct uidlist_ent key;
	size_t bl = maildir_baselen(name);
	if (bl >= sizeof(key.base))
		return 0;
	memcpy(key.base, name, bl);
	key.base[bl] = '\0';
	const struct uidlist_ent *e = u->n ? bsearch(&key, u->e, u->n,
	    sizeof(*u->e), uidlist_cmp) : NULL;
	return e ? e->uid : 0;
}

int
uidlist_save(const char *box, uint32_t validity, uint32_t next,
    size_t n, void (*get)(const void *arg, size_t i, uint32_t *uid,
    const char **name), const void *arg, struct uidlist_stamp *st)
{
	char path[4300], tmp[4320];
	uidlist_path(box, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "V %u %u\n", validity, next);
	for (size_t i = 0; i < n; i++) {
		uint32_t uid;
		const char *name;
		get(arg, i, &uid, &name);
		fprintf(f, "%u %.*s\n", uid, (int)maildir_baselen(name), name);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		st->ok = false;
		return -1;
	}
	uidlist_stamp(box, st);
	return 0;
}
