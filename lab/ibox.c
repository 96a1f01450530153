/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ibox.c: the IMAP view of a Maildir (see ibox.h).
 *
 * RFC 3501 2.3.1.1 (UIDs strictly ascending, never reused within one
 * UIDVALIDITY).  The directories and file names are read through
 * maildir.c, as POP3 and the quota read them.
 */
#include "ibox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Message i's uid and name, for uidlist_save. */
static void
ibox_uid_get(const void *arg, size_t i, uint32_t *uid, const char **name)
{
	const struct ibox *b = arg;
	*uid = b->m[i].uid;
	*name = b->m[i].name;
}

/* Saves the uid list of b atomically.  Returns 0 or -1. */
static int
ibox_uids_save(struct ibox *b)
{
	return uidlist_save(b->path, b->uidvalidity, b->uidnext, b->n,
	    ibox_uid_get, b, &b->list);
}

/* The names ibox_take_new moved. */
struct ibox_moved {
	const char *box;
	char (*names)[STORE_NAME_MAX];
	size_t n;
};

/* Moves one file of new/ into cur/ (adding ":2,"). */
static int
ibox_take_one(void *arg, const char *dir, const char *fname, bool cur)
{
	struct ibox_moved *mv = arg;
	char from[4500], to[4500], name[STORE_NAME_MAX];
	(void)cur;
	if (strlen(fname) + 4 >= STORE_NAME_MAX)
		return 0;
	snprintf(name, sizeof(name), "%s%s", fname,
	    strstr(fname, ":2,") ? "" : ":2,");
	snprintf(from, sizeof(from), "%s/%s", dir, fname);
	snprintf(to, sizeof(to), "%s/cur/%s", mv->box, name);
	if (rename(from, to) != 0)
		return 0;
	void *nr = realloc(mv->names, (mv->n + 1) * sizeof(*mv->names));
	if (!nr)
		return 0;
	mv->names = nr;
	memcpy(mv->names[mv->n++], name, sizeof(name));
	return 0;
}

/* Moves new/ into cur/ (adding ":2,"); recent names are listed. */
static void
ibox_take_new(struct ibox *b, char (**recent)[STORE_NAME_MAX],
    size_t *nrecent)
{
	struct ibox_moved mv = { b->path, *recent, *nrecent };
	maildir_each(b->path, MAILDIR_NEW, ibox_take_one, &mv);
	*recent = mv.names;
	*nrecent = mv.n;
}

/* Delivery order: names start with the time. */
static int
ibox_cmp_name(const void *a, const void *b)
{
	const struct ibox_msg *x = a, *y = b;
	return maildir_cmp_names(x->name, y->name);
}

/* Ascending uid. */
static int
ibox_cmp_uid(const void *a, const void *b)
{
	const struct ibox_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int
ibox_cmp_rname(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Did this session move name from new/ (recent, sorted)? */
static bool
ibox_is_recent(char (*recent)[STORE_NAME_MAX], size_t nrecent,
    const char *name)
{
	return nrecent && bsearch(name, recent, nrecent, sizeof(*recent),
	    ibox_cmp_rname) != NULL;
}

/* Fills in message m (name set) from the file in dir. */
static void
ibox_fill(struct ibox_msg *m, const char *dir, bool recent)
{
	m->flags = maildir_flags(m->name) | (recent ? IBOX_RECENT : 0);
	m->size = maildir_wsize(dir, m->name);
	struct stat st;
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	m->mtime = stat(path, &st) == 0 ? st.st_mtime : 0;
}

/* Gives the messages from first on their uids in delivery order (the
 * ones that have none), sorts them by uid, saves the list if a uid
 * was given. */
static void
ibox_assign(struct ibox *b, size_t first, bool assigned)
{
	if (b->n - first > 1)
		qsort(b->m + first, b->n - first, sizeof(*b->m),
		    ibox_cmp_name);
	for (size_t i = first; i < b->n; i++) {
		if (!b->m[i].uid) {
			b->m[i].uid = b->uidnext++;
			assigned = true;
		}
	}
	if (b->n - first > 1)
		qsort(b->m + first, b->n - first, sizeof(*b->m),
		    ibox_cmp_uid);
	if (assigned)
		ibox_uids_save(b);
}

/* What ibox_scan is adding to. */
struct ibox_adding {
	struct ibox *b;
	struct uidlist *u;
	uint32_t min_uid;
	char (*recent)[STORE_NAME_MAX];
	size_t nrecent;
	int added;
};

/* Adds one file of the scan (unless its uid is below min_uid). */
static int
ibox_scan_one(void *arg, const char *dir, const char *name, bool cur)
{
	struct ibox_adding *a = arg;
	struct ibox *b = a->b;
	uint32_t id = uidlist_find(a->u, name);
	if (id && id < a->min_uid)
		return 0;
	void *nm = realloc(b->m, (b->n + 1) * sizeof(*b->m));
	if (!nm)
		return 1;
	b->m = nm;
	struct ibox_msg *m = &b->m[b->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->uid = id;
	ibox_fill(m, dir, !cur || ibox_is_recent(a->recent, a->nrecent,
	    m->name));
	a->added++;
	return 0;
}

/*
 * Scans cur/ (and new/ when readonly) and appends to b every message
 * whose uid is not below min_uid or that has none yet; recent (sorted)
 * names what this session just moved from new/.  Returns the number
 * added.
 */
static int
ibox_scan(struct ibox *b, uint32_t min_uid,
    char (*recent)[STORE_NAME_MAX], size_t nrecent)
{
	struct uidlist u;
	bool assigned = uidlist_load(b->path, &u, &b->uidvalidity,
	    &b->uidnext, &b->list) == 1;
	size_t first = b->n;
	struct ibox_adding a = { b, &u, min_uid, recent, nrecent, 0 };
	maildir_each(b->path, MAILDIR_CUR | (b->readonly ? MAILDIR_NEW : 0),
	    ibox_scan_one, &a);
	ibox_assign(b, first, assigned);
	uidlist_free(&u);
	return a.added;
}

/* Moves new/ into cur/ (unless readonly) and scans. */
static int
ibox_take_and_scan(struct ibox *b, uint32_t min_uid)
{
	char (*recent)[STORE_NAME_MAX] = NULL;
	size_t nrecent = 0;
	if (!b->readonly)
		ibox_take_new(b, &recent, &nrecent);
	if (nrecent > 1)
		qsort(recent, nrecent, sizeof(*recent), ibox_cmp_rname);
	int r = ibox_scan(b, min_uid, recent, nrecent);
	free(recent);
	return r;
}

int
ibox_open(struct ibox *b, const char *path, bool readonly)
{
	struct stat st;
	memset(b, 0, sizeof(*b));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->readonly = readonly;
	return ibox_take_and_scan(b, 0) < 0 ? -1 : 0;
}

int
ibox_refresh(struct ibox *b)
{
	uint32_t min = b->n ? b->m[b->n - 1].uid + 1 : 0;
	/* other sessions may have removed messages we still list:
	 * keep them (sequence numbers change only with EXPUNGE) */
	if (b->n == 0)
		min = 1;
	if (b->readonly || !uidlist_unchanged(b->path, &b->list))
		return ibox_take_and_scan(b, min);
	/* nobody else gave uids since we last read or wrote the list:
	 * what is new is what we now move from new/, read nothing else */
	char (*recent)[STORE_NAME_MAX] = NULL;
	size_t nrecent = 0;
	ibox_take_new(b, &recent, &nrecent);
	if (nrecent == 0) {
		free(recent);
		return 0;
	}
	void *nm = realloc(b->m, (b->n + nrecent) * sizeof(*b->m));
	if (!nm) {
		free(recent);
		return -1;
	}
	b->m = nm;
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/cur", b->path);
	size_t first = b->n;
	for (size_t k = 0; k < nrecent; k++) {
		struct ibox_msg *m = &b->m[b->n++];
		memset(m, 0, sizeof(*m));
		memcpy(m->name, recent[k], sizeof(m->name));
		ibox_fill(m, dir, true);
	}
	free(recent);
	ibox_assign(b, first, false);
	return (int)nrecent;
}

static int
ibox_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The modification times of cur/ and new/.  Returns false if either
 * is missing. */
static bool
ibox_dir_times(const struct ibox *b, struct timespec *cur,
    struct timespec *nw)
{
	char dir[4300];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/cur", b->path);
	if (stat(dir, &st) != 0)
		return false;
	*cur = st.st_mtim;
	snprintf(dir, sizeof(dir), "%s/new", b->path);
	if (stat(dir, &st) != 0)
		return false;
	*nw = st.st_mtim;
	return true;
}

static bool
ibox_ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The base names ibox_prune collects. */
struct ibox_names {
	char **v;
	size_t n, cap;
};

/* Adds the base name of one file.  Returns 0 or -1. */
static int
ibox_name_add(void *arg, const char *dir, const char *name, bool cur)
{
	struct ibox_names *nm = arg;
	(void)dir;
	(void)cur;
	if (nm->n == nm->cap) {
		size_t nc = nm->cap ? 2 * nm->cap : 64;
		char **nn = realloc(nm->v, nc * sizeof(*nm->v));
		if (!nn)
			return -1;
		nm->v = nn;
		nm->cap = nc;
	}
	nm->v[nm->n] = strndup(name, maildir_baselen(name));
	return nm->v[nm->n++] ? 0 : -1;
}

int
ibox_prune(struct ibox *b, size_t max, void (*fn)(void *arg, size_t seq),
    void *arg)
{
	/* nothing removed since the last complete pass: O(1) */
	struct timespec tcur, tnew;
	bool times = ibox_dir_times(b, &tcur, &tnew);
	if (times && b->pruned && ibox_ts_eq(tcur, b->prune_cur) &&
	    ibox_ts_eq(tnew, b->prune_new))
		return 0;
	/* the base names (up to ":") in cur/ and new/, sorted; any
	 * failure stops here: a partial list must not expunge */
	struct ibox_names nm = { NULL, 0, 0 };
	int gone = -1;
	if (maildir_each(b->path, MAILDIR_CUR | MAILDIR_NEW, ibox_name_add,
	    &nm) != 0)
		goto out;
	char **names = nm.v;
	size_t n = nm.n;
	if (n > 1)
		qsort(names, n, sizeof(*names), ibox_cmp_str);
	gone = 0;
	for (size_t k = b->n; k-- > 0 && (size_t)gone < max; ) {
		char key[STORE_NAME_MAX];
		const char *kp = key;
		snprintf(key, sizeof(key), "%.*s",
		    (int)maildir_baselen(b->m[k].name), b->m[k].name);
		if (bsearch(&kp, names, n, sizeof(*names), ibox_cmp_str))
			continue;
		memmove(&b->m[k], &b->m[k + 1],
		    (b->n - k - 1) * sizeof(*b->m));
		b->n--;
		gone++;
		fn(arg, k + 1);
	}
	/* a complete pass over directories not changed within the last
	 * second (a change in the same clock tick could keep the time) */
	time_t now = time(NULL);
	b->pruned = times && (size_t)gone < max &&
	    tcur.tv_sec < now - 1 && tnew.tv_sec < now - 1;
	b->prune_cur = tcur;
	b->prune_new = tnew;
out:
	for (size_t k = 0; k < nm.n; k++)
		free(nm.v[k]);
	free(nm.v);
	return gone;
}

void
ibox_close(struct ibox *b)
{
	free(b->m);
	b->m = NULL;
	b->n = 0;
}

/* Path of message i, following a rename by another session (same base
 * name, other flags).  Returns false if it is gone. */
static bool
ibox_path(const struct ibox *b, size_t i, char *path, size_t cap)
{
	return maildir_find(b->path, b->m[i].name, true, path, cap);
}

int
ibox_set_flags(struct ibox *b, size_t i, unsigned flags)
{
	struct ibox_msg *m = &b->m[i];
	char from[4500], to[4500], name[STORE_NAME_MAX];
	char letters[8];
	maildir_flag_letters(flags, letters, sizeof(letters));
	int r = snprintf(name, sizeof(name), "%.*s:2,%s",
	    (int)maildir_baselen(m->name), m->name, letters);
	if (r < 0 || (size_t)r >= sizeof(name))
		return -1;
	if (!ibox_path(b, i, from, sizeof(from)))
		return -1;
	snprintf(to, sizeof(to), "%s/cur/%s", b->path, name);
	if (strcmp(from, to) != 0 && rename(from, to) != 0)
		return -1;
	memcpy(m->name, name, sizeof(name));
	m->flags = (flags & ~IBOX_RECENT) | (m->flags & IBOX_RECENT);
	return 0;
}

int
ibox_expunge(struct ibox *b, size_t i)
{
	char path[4500];
	if (ibox_path(b, i, path, sizeof(path)) && unlink(path) != 0 &&
	    errno != ENOENT)
		return -1;
	memmove(&b->m[i], &b->m[i + 1], (b->n - i - 1) * sizeof(*b->m));
	b->n--;
	return 0;
}

int
ibox_fd(const struct ibox *b, size_t i)
{
	char path[4500];
	if (!ibox_path(b, i, path, sizeof(path)))	/* also in new/, */
		return -1;		/* as EXAMINE lists it */
	return open(path, O_RDONLY | O_CLOEXEC);
}

uint64_t
ibox_stored_size(const struct ibox *b, size_t i)
{
	char path[4500];
	if (!ibox_path(b, i, path, sizeof(path)))
		return 0;
	char *slash = strrchr(path, '/');
	*slash = '\0';
	return maildir_size(path, slash + 1);
}

char *
ibox_header(const struct ibox *b, size_t i, uint64_t *crlf_len)
{
	int fd = ibox_fd(b, i);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	char *buf = malloc(IBOX_HDR_MAX + 1);
	if (!f || !buf) {
		if (f)
			fclose(f);
		else
			close(fd);
		free(buf);
		return NULL;
	}
	size_t n = 0;
	uint64_t wire = 0;
	int ch, prev = '\n';
	bool kept = true;
	while ((ch = getc(f)) != EOF) {
		wire += ch == '\n' && prev != '\r' ? 2 : 1;
		if (ch == '\n' && (prev == '\n' ||
		    (prev == '\r' && n >= 2 && buf[n - 2] == '\n')))
			break;		/* the empty line */
		if (kept && n < IBOX_HDR_MAX)
			buf[n++] = (char)ch;
		else
			kept = false;
		prev = ch;
	}
	fclose(f);
	buf[n] = '\0';
	*crlf_len = wire;
	return buf;
}

int
ibox_status(const char *path, size_t *exists,
    size_t *recent, size_t *unseen, uint32_t *uidnext,
    uint32_t *uidvalidity)
{
	struct ibox b;
	if (ibox_open(&b, path, true) != 0)
		return -1;
	*exists = b.n;
	*recent = *unseen = 0;
	for (size_t i = 0; i < b.n; i++) {
		*recent += (b.m[i].flags & IBOX_RECENT) != 0;
		*unseen += (b.m[i].flags & IBOX_SEEN) == 0;
	}
	*uidnext = b.uidnext;
	*uidvalidity = b.uidvalidity;
	ibox_close(&b);
	return 0;
}
