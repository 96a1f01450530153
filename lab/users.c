/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * users.c: user names, password hashes (PBKDF2-SHA256, RFC 8018 5.2,
 * through OpenSSL's EVP_KDF), the users file (see users.h).
 */
#include "../protocols/i18n.h"
#include "users.h"
#include "../protocols/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define USERS_LINE_MAX	1024

static const struct { const char *name, *pass; } users_default[] = {
	{ "alice", "alice-pass" },
	{ "bob", "bob-pass" },
};

bool
lab_name_ok(const char *name, size_t n)
{
	if (n == 0 || n > LAB_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		    ch == '_' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* PBKDF2-SHA256 of pass into dk.  Returns true on success. */
static bool
users_kdf(const char *pass, size_t plen, const unsigned char *salt,
    unsigned iter, unsigned char *dk)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return false;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		    digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
		    (void *)pass, plen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, USERS_SALT),
		OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(kctx, dk, USERS_DK, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok;
}

static bool users_keep_clear;	/* users_load(..., clear) */

/* Adds a user with a fresh salt.  Returns 0 or -1 (out of memory). */
static int
users_add(struct lab_users *us, const char *name, const char *pass,
    size_t plen)
{
	struct lab_user *nu = realloc(us->u, (us->n + 1) * sizeof(*nu));
	if (!nu)
		return -1;
	us->u = nu;
	struct lab_user *u = &us->u[us->n];
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->iter = USERS_ITER;
	if (RAND_bytes(u->salt, USERS_SALT) != 1 ||
	    !users_kdf(pass, plen, u->salt, u->iter, u->dk))
		return -1;
	if (users_keep_clear && !(u->clear = strndup(pass, plen)))
		return -1;
	us->n++;
	return 0;
}

const char *
users_clear(const struct lab_users *us, const char *name, size_t n)
{
	for (size_t i = 0; i < us->n; i++)
		if (strlen(us->u[i].name) == n &&
		    memcmp(us->u[i].name, name, n) == 0)
			return us->u[i].clear;
	return NULL;
}

struct lab_user *
users_find(struct lab_users *us, const char *name, size_t n)
{
	for (size_t i = 0; i < us->n; i++)
		if (strlen(us->u[i].name) == n &&
		    memcmp(us->u[i].name, name, n) == 0)
			return &us->u[i];
	return NULL;
}

void
users_probe(const struct lab_users *us, const char *name, size_t n,
    struct users_probe *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->iter = USERS_ITER;
	for (size_t i = 0; i < us->n; i++) {
		const struct lab_user *u = &us->u[i];
		if (strlen(u->name) == n && memcmp(u->name, name, n) == 0) {
			pr->known = true;
			pr->iter = u->iter;
			memcpy(pr->salt, u->salt, USERS_SALT);
			memcpy(pr->dk, u->dk, USERS_DK);
			break;
		}
	}
}

bool
users_verify(const struct users_probe *pr, const char *pass, size_t plen)
{
	unsigned char dk[USERS_DK];
	/* an unknown name costs the same as a wrong password */
	if (!users_kdf(pass, plen, pr->salt, pr->iter, dk))
		return false;
	bool same = pr->known && CRYPTO_memcmp(dk, pr->dk, USERS_DK) == 0;
	OPENSSL_cleanse(dk, sizeof(dk));
	return same;
}

struct lab_user *
users_check(struct lab_users *us, const char *name, size_t n,
    const char *pass, size_t plen)
{
	struct users_probe pr;
	users_probe(us, name, n, &pr);
	bool ok = users_verify(&pr, pass, plen);
	OPENSSL_cleanse(&pr, sizeof(pr));
	return ok ? users_find(us, name, n) : NULL;
}

void
users_free(struct lab_users *us)
{
	if (!us)
		return;
	for (size_t i = 0; i < us->n; i++)
		if (us->u[i].clear) {
			OPENSSL_cleanse(us->u[i].clear,
			    strlen(us->u[i].clear));
			free(us->u[i].clear);
		}
	OPENSSL_cleanse(us->u, us->n * sizeof(*us->u));
	free(us->u);
	free(us);
}

/* One line of STATE/users: name:pbkdf2-sha256$ITER$SALT$DK. */
static void
users_line_hash(FILE *f, const struct lab_user *u)
{
	char salt[64], dk[64];
	b64_encode(u->salt, USERS_SALT, salt, sizeof(salt));
	b64_encode(u->dk, USERS_DK, dk, sizeof(dk));
	fprintf(f, "%s:pbkdf2-sha256$%u$%s$%s\n", u->name, u->iter, salt,
	    dk);
}

/* One line of STATE/cram-md5: name:BASE64(password), when it is known. */
static void
users_line_clear(FILE *f, const struct lab_user *u)
{
	char b[USERS_PASS_MAX * 2];
	if (!u->clear)
		return;
	b64_encode(u->clear, strlen(u->clear), b, sizeof(b));
	fprintf(f, "%s:%s\n", u->name, b);
	OPENSSL_cleanse(b, sizeof(b));
}

/* Writes STATE/NAME (0600) via a temporary file, fsync'd and renamed
 * into place: line() writes each user's line.  Returns 0 or -1. */
static int
users_write(const struct lab_users *us, const char *state, const char *name,
    void (*line)(FILE *, const struct lab_user *))
{
	char path[4200], tmp[4220];
	snprintf(path, sizeof(path), "%s/%s", state, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, _("mailsh lab: cannot write %s: %s\n"), tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; i < us->n; i++)
		line(f, &us->u[i]);
	bool ok = fflush(f) == 0 && fsync(fd) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		fprintf(stderr, _("mailsh lab: cannot write %s\n"), path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Reads STATE/cram-md5 when it is there: each line's password to its
 * user.  Lines for unknown users, or not name:BASE64, are skipped. */
static void
users_read_clear(struct lab_users *us, const char *state)
{
	char path[4200], line[USERS_LINE_MAX + 2];
	snprintf(path, sizeof(path), "%s/cram-md5", state);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");
		line[n] = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		struct lab_user *u = users_find(us, line,
		    (size_t)(colon - line));
		char pass[USERS_PASS_MAX + 1];
		long pl = b64_decode(colon + 1, strlen(colon + 1), pass,
		    sizeof(pass) - 1);
		if (u && !u->clear && pl > 0 && memchr(pass, '\0',
		    (size_t)pl) == NULL)
			u->clear = strndup(pass, (size_t)pl);
		OPENSSL_cleanse(pass, sizeof(pass));
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
}

/* Parses one hashed line of STATE/users.  Returns true if valid. */
static bool
users_parse_hashed(char *line, struct lab_user *u)
{
	char *colon = strchr(line, ':');
	if (!colon || !lab_name_ok(line, (size_t)(colon - line)))
		return false;
	memset(u, 0, sizeof(*u));
	memcpy(u->name, line, (size_t)(colon - line));
	char *p = colon + 1;
	if (strncmp(p, "pbkdf2-sha256$", 14) != 0)
		return false;
	char *end;
	unsigned long iter = strtoul(p + 14, &end, 10);
	if (*end != '$' || iter < 1000 || iter > 10000000)
		return false;
	u->iter = (unsigned)iter;
	char *salt = end + 1;
	char *dk = strchr(salt, '$');
	if (!dk)
		return false;
	*dk++ = '\0';
	return b64_decode(salt, strlen(salt), u->salt, USERS_SALT) ==
	    USERS_SALT && b64_decode(dk, strlen(dk), u->dk, USERS_DK) ==
	    USERS_DK;
}

/* Reads a users file; hashed selects the STATE/users format.  Returns
 * 0, or -1 after printing file:line and why. */
static int
users_read(struct lab_users *us, const char *path, bool hashed)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, _("mailsh lab: cannot read %s: %s\n"), path,
		    strerror(errno));
		return -1;
	}
	char line[USERS_LINE_MAX + 2];
	int lineno = 0, r = 0;
	const char *why = NULL;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t n = strlen(line);
		if (n > USERS_LINE_MAX) {
			why = _("line too long");
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (memchr(line, '\0', n) || strlen(line) != n) {
			why = _("NUL byte");
			break;
		}
		char *colon = strchr(line, ':');
		if (!colon) {
			why = _("want name:password");
			break;
		}
		size_t nl = (size_t)(colon - line);
		if (!lab_name_ok(line, nl)) {
			why = _("bad user name (1-64 of A-Z a-z 0-9 . _ -, not "
			    "starting with a dot)");
			break;
		}
		if (users_find(us, line, nl)) {
			why = _("user named twice");
			break;
		}
		if (us->n >= USERS_MAX) {
			why = _("too many users");
			break;
		}
		if (hashed) {
			struct lab_user u;
			if (!users_parse_hashed(line, &u)) {
				why = _("bad hash line");
				break;
			}
			struct lab_user *nu = realloc(us->u,
			    (us->n + 1) * sizeof(*nu));
			if (!nu) {
				r = -1;
				break;
			}
			us->u = nu;
			us->u[us->n++] = u;
			continue;
		}
		size_t plen = n - nl - 1;
		if (plen == 0 || plen > USERS_PASS_MAX) {
			why = _("password empty or over 256 bytes");
			break;
		}
		*colon = '\0';
		r = users_add(us, line, colon + 1, plen);
		OPENSSL_cleanse(line, sizeof(line));
	}
	fclose(f);
	if (why)
		fprintf(stderr, _("mailsh lab: %s:%d: %s\n"), path, lineno, why);
	else if (r != 0)
		fprintf(stderr, _("mailsh lab: %s: out of memory\n"), path);
	else if (us->n == 0)
		fprintf(stderr, _("mailsh lab: %s: no users\n"), path);
	return why || r != 0 || us->n == 0 ? -1 : 0;
}

struct lab_users *
users_load(const char *state, const char *file, bool clear)
{
	users_keep_clear = clear;
	struct lab_users *us = calloc(1, sizeof(*us));
	if (!us)
		return NULL;
	char path[4200];
	snprintf(path, sizeof(path), "%s/users", state);
	bool fresh = file || access(path, F_OK) != 0;
	int r;
	if (file) {
		r = users_read(us, file, false);
		if (r == 0)
			r = users_write(us, state, "users", users_line_hash);
	} else if (access(path, F_OK) == 0) {
		r = users_read(us, path, true);
		if (r == 0 && clear)
			users_read_clear(us, state);
	} else {
		r = 0;
		for (size_t i = 0; r == 0 && i < sizeof(users_default) /
		    sizeof(*users_default); i++)
			r = users_add(us, users_default[i].name,
			    users_default[i].pass,
			    strlen(users_default[i].pass));
		if (r == 0)
			r = users_write(us, state, "users", users_line_hash);
	}
	if (r == 0 && clear && fresh)	/* the passwords are known now */
		r = users_write(us, state, "cram-md5", users_line_clear);
	if (r != 0) {
		users_free(us);
		return NULL;
	}
	return us;
}
