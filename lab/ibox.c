/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ibox.c: the IMAP view of a Maildir (see ibox.h).
 *
 * RFC 3501 2.3.1.1 (UIDs strictly ascending, never reused within one
 * UIDVALIDITY), Maildir info ":2,FLAGS" with the letters in ASCII order
 * (https://cr.yp.to/proto/maildir.html).
 */
#include "ibox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Flag letters in the order Maildir wants them. */
static const struct { char letter; unsigned flag; } ibox_letters[] = {
	{ 'D', IBOX_DRAFT }, { 'F', IBOX_FLAGGED }, { 'R', IBOX_ANSWERED },
	{ 'S', IBOX_SEEN }, { 'T', IBOX_DELETED },
};
#define IBOX_NLETTERS (sizeof(ibox_letters) / sizeof(*ibox_letters))

/* Length of the base name (before the ":2," info). */
static size_t
ibox_baselen(const char *name)
{
	return strcspn(name, ":");
}

/* Flag bits from a file name's ":2," info. */
static unsigned
ibox_parse_flags(const char *name)
{
	const char *info = strstr(name, ":2,");
	unsigned f = 0;
	if (!info)
		return 0;
	for (const char *p = info + 3; *p; p++)
		for (size_t i = 0; i < IBOX_NLETTERS; i++)
			if (*p == ibox_letters[i].letter)
				f |= ibox_letters[i].flag;
	return f;
}

/* Loaded uid list: base names and their uids, sorted by base name
 * (the index: a lookup is a binary search). */
struct ibox_uident {
	char base[STORE_NAME_MAX];
	uint32_t uid;
};

struct ibox_uids {
	struct ibox_uident *e;
	size_t n;
};

/* Frees a loaded uid list. */
static void
ibox_uids_free(struct ibox_uids *u)
{
	free(u->e);
	memset(u, 0, sizeof(*u));
}

/* Notes the uid list file's identity after reading or writing it. */
static void
ibox_stamp(struct ibox *b)
{
	char path[4300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/mailsh-uidlist", b->path);
	b->stamped = stat(path, &st) == 0;
	if (!b->stamped)
		return;
	b->list_mtime = st.st_mtim;
	b->list_size = (long long)st.st_size;
	b->list_ino = (unsigned long long)st.st_ino;
}

/* Is the uid list file still the one this session last saw? */
static bool
ibox_stamp_same(const struct ibox *b)
{
	char path[4300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/mailsh-uidlist", b->path);
	return b->stamped && stat(path, &st) == 0 &&
	    st.st_mtim.tv_sec == b->list_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == b->list_mtime.tv_nsec &&
	    (long long)st.st_size == b->list_size &&
	    (unsigned long long)st.st_ino == b->list_ino;
}

static int
ibox_cmp_base(const void *a, const void *b)
{
	const struct ibox_uident *x = a, *y = b;
	return strcmp(x->base, y->base);
}

/* Reads the uid list; a missing one starts a new UIDVALIDITY (returns
 * 1 then, so that it is saved at once; else 0). */
static int
ibox_uids_load(struct ibox *b, struct ibox_uids *u)
{
	char path[4300], line[STORE_NAME_MAX + 32];
	size_t cap = 0;
	memset(u, 0, sizeof(*u));
	snprintf(path, sizeof(path), "%s/mailsh-uidlist", b->path);
	FILE *f = fopen(path, "r");
	unsigned v, nx;
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "V %u %u", &v, &nx) != 2 || v == 0 || nx == 0) {
		if (f)
			fclose(f);
		b->uidvalidity = (uint32_t)time(NULL);
		b->uidnext = 1;
		return 1;
	}
	b->uidvalidity = v;
	b->uidnext = nx;
	while (fgets(line, sizeof(line), f)) {
		unsigned id;
		char name[STORE_NAME_MAX];
		if (sscanf(line, "%u %127s", &id, name) != 2 || id == 0 ||
		    id >= b->uidnext)
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
		qsort(u->e, u->n, sizeof(*u->e), ibox_cmp_base);
	ibox_stamp(b);
	return 0;
}

/* Saves the uid list of b atomically.  Returns 0 or -1. */
static int
ibox_uids_save(struct ibox *b)
{
	char path[4300], tmp[4320];
	snprintf(path, sizeof(path), "%s/mailsh-uidlist", b->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "V %u %u\n", b->uidvalidity, b->uidnext);
	for (size_t i = 0; i < b->n; i++)
		fprintf(f, "%u %.*s\n", b->m[i].uid,
		    (int)ibox_baselen(b->m[i].name), b->m[i].name);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		b->stamped = false;
		return -1;
	}
	ibox_stamp(b);
	return 0;
}

/* The uid of the file name (by base name), or 0: a binary search. */
static uint32_t
ibox_uid_of(const struct ibox_uids *u, const char *name)
{
	struct ibox_uident key;
	size_t bl = ibox_baselen(name);
	if (bl >= sizeof(key.base))
		return 0;
	memcpy(key.base, name, bl);
	key.base[bl] = '\0';
	const struct ibox_uident *e = u->n ? bsearch(&key, u->e, u->n,
	    sizeof(*u->e), ibox_cmp_base) : NULL;
	return e ? e->uid : 0;
}

/* Size with CRLF line ends: ",W=" in the name, else the file size. */
static uint64_t
ibox_wsize(const char *dir, const char *name)
{
	const char *w = strstr(name, ",W=");
	if (w)
		return strtoull(w + 3, NULL, 10);
	char path[4500];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Moves new/ into cur/ (adding ":2,"); recent names are listed. */
static void
ibox_take_new(struct ibox *b, char (**recent)[STORE_NAME_MAX],
    size_t *nrecent)
{
	char dir[4300], from[4500], to[4500];
	snprintf(dir, sizeof(dir), "%s/new", b->path);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) + 4 >= STORE_NAME_MAX)
			continue;
		char name[STORE_NAME_MAX];
		snprintf(name, sizeof(name), "%s%s", de->d_name,
		    strstr(de->d_name, ":2,") ? "" : ":2,");
		snprintf(from, sizeof(from), "%s/%s", dir, de->d_name);
		snprintf(to, sizeof(to), "%s/cur/%s", b->path, name);
		if (rename(from, to) != 0)
			continue;
		void *nr = realloc(*recent, (*nrecent + 1) *
		    sizeof(**recent));
		if (!nr)
			continue;
		*recent = nr;
		memcpy((*recent)[(*nrecent)++], name, sizeof(name));
	}
	closedir(d);
}

/* Delivery order: names start with the time. */
static int
ibox_cmp_name(const void *a, const void *b)
{
	const struct ibox_msg *x = a, *y = b;
	return strverscmp(x->name, y->name);
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
	m->flags = ibox_parse_flags(m->name) | (recent ? IBOX_RECENT : 0);
	m->size = ibox_wsize(dir, m->name);
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
	struct ibox_uids u;
	bool assigned = ibox_uids_load(b, &u) == 1;
	size_t first = b->n;
	int added = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !b->readonly)
			break;
		char dir[4300];
		snprintf(dir, sizeof(dir), "%s/%s", b->path,
		    pass ? "new" : "cur");
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strlen(de->d_name) >= STORE_NAME_MAX)
				continue;
			uint32_t id = ibox_uid_of(&u, de->d_name);
			if (id && id < min_uid)
				continue;
			void *nm = realloc(b->m, (b->n + 1) * sizeof(*b->m));
			if (!nm)
				break;
			b->m = nm;
			struct ibox_msg *m = &b->m[b->n++];
			memset(m, 0, sizeof(*m));
			snprintf(m->name, sizeof(m->name), "%s", de->d_name);
			m->uid = id;
			ibox_fill(m, dir, pass == 1 || ibox_is_recent(recent,
			    nrecent, m->name));
			added++;
		}
		closedir(d);
	}
	ibox_assign(b, first, assigned);
	ibox_uids_free(&u);
	return added;
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
	if (b->readonly || !ibox_stamp_same(b))
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
	char **names = NULL;
	size_t n = 0, cap = 0;
	int gone = -1;
	for (int pass = 0; pass < 2; pass++) {
		char dir[4300];
		snprintf(dir, sizeof(dir), "%s/%s", b->path,
		    pass ? "new" : "cur");
		DIR *d = opendir(dir);
		if (!d)
			goto out;
		struct dirent *de;
		bool ok = true;
		while (ok && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 64;
				char **nn = realloc(names, nc * sizeof(*names));
				if (!nn) {
					ok = false;
					break;
				}
				names = nn;
				cap = nc;
			}
			names[n] = strndup(de->d_name,
			    ibox_baselen(de->d_name));
			ok = names[n++] != NULL;
		}
		closedir(d);
		if (!ok)
			goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), ibox_cmp_str);
	gone = 0;
	for (size_t k = b->n; k-- > 0 && (size_t)gone < max; ) {
		char key[STORE_NAME_MAX];
		const char *kp = key;
		snprintf(key, sizeof(key), "%.*s",
		    (int)ibox_baselen(b->m[k].name), b->m[k].name);
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
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return gone;
}

void
ibox_close(struct ibox *b)
{
	free(b->m);
	b->m = NULL;
	b->n = 0;
}

/* Path of message i in cur/, following a rename by another session
 * (same base name, other flags).  Returns false if it is gone. */
static bool
ibox_path(const struct ibox *b, size_t i, char *path, size_t cap)
{
	const char *name = b->m[i].name;
	snprintf(path, cap, "%s/cur/%s", b->path, name);
	if (access(path, F_OK) == 0)
		return true;
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/cur", b->path);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	size_t bl = ibox_baselen(name);
	struct dirent *de;
	bool found = false;
	while (!found && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, bl) == 0 &&
		    ibox_baselen(de->d_name) == bl) {
			int r = snprintf(path, cap, "%s/%s", dir,
			    de->d_name);
			found = r > 0 && (size_t)r < cap;
		}
	}
	closedir(d);
	return found;
}

void
ibox_flag_letters(unsigned flags, char *buf, size_t cap)
{
	size_t k = 0;
	for (size_t j = 0; j < IBOX_NLETTERS && k + 1 < cap; j++)
		if (flags & ibox_letters[j].flag)
			buf[k++] = ibox_letters[j].letter;
	buf[k] = '\0';
}

int
ibox_set_flags(struct ibox *b, size_t i, unsigned flags)
{
	struct ibox_msg *m = &b->m[i];
	char from[4500], to[4500], name[STORE_NAME_MAX];
	char letters[8];
	ibox_flag_letters(flags, letters, sizeof(letters));
	int r = snprintf(name, sizeof(name), "%.*s:2,%s",
	    (int)ibox_baselen(m->name), m->name, letters);
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
	if (!ibox_path(b, i, path, sizeof(path))) {
		/* EXAMINE lists new/ as it is */
		snprintf(path, sizeof(path), "%s/new/%s", b->path,
		    b->m[i].name);
	}
	return open(path, O_RDONLY | O_CLOEXEC);
}

uint64_t
ibox_stored_size(const struct ibox *b, size_t i)
{
	const char *s = strstr(b->m[i].name, ",S=");
	if (s)
		return strtoull(s + 3, NULL, 10);
	int fd = ibox_fd(b, i);
	struct stat st;
	uint64_t n = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size :
	    0;
	if (fd >= 0)
		close(fd);
	return n;
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
