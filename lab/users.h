/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * users.h: the lab's users.  Passwords are kept only as PBKDF2-SHA256
 * hashes (OpenSSL EVP_KDF), in STATE/users, one a line:
 *   name:pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64
 * Defaults (documented in the lab's --help): alice / alice-pass,
 * bob / bob-pass.  --users FILE (name:password a line, '#' comments)
 * replaces them; the file itself is never copied.
 */
#ifndef MAILSH_LAB_USERS_H
#define MAILSH_LAB_USERS_H

#include "lab.h"

#include <stdbool.h>
#include <stddef.h>

#define USERS_MAX	10000
#define USERS_ITER	20000	/* PBKDF2 rounds: a lab, not a bank */
#define USERS_SALT	16
#define USERS_DK	32
#define USERS_PASS_MAX	256

struct lab_user {
	char name[LAB_NAME_MAX + 1];
	unsigned iter;
	unsigned char salt[USERS_SALT];
	unsigned char dk[USERS_DK];
	bool maildrop_open;	/* a POP3 session holds the maildrop */
	char *clear;		/* --sasl-extra: the password itself, for
				 * CRAM-MD5 (STATE/cram-md5), else NULL */
};

struct lab_users {
	struct lab_user *u;
	size_t n;
};

/*
 * Loads the users: from file when given (hashing each password, then
 * writing STATE/users), else from STATE/users, else the defaults (also
 * written).  Returns the set, or NULL after printing why on stderr
 * (naming the file and line).
 *
 * clear (--sasl-extra): CRAM-MD5 needs each password itself (RFC 2195
 * 2: the server computes the same HMAC-MD5).  The passwords known now
 * (defaults, --users FILE) are kept and written to STATE/cram-md5
 * (0600, name:BASE64 a line); without them that file is read.  A user
 * with no line there cannot use CRAM-MD5.  Without clear nothing is
 * kept, read or written.
 */
struct lab_users *users_load(const char *state, const char *file,
    bool clear);

void users_free(struct lab_users *us);

/* The user called name (n bytes), or NULL. */
struct lab_user *users_find(struct lab_users *us, const char *name,
    size_t n);

/*
 * Checks a password (plen bytes).  Returns the user, or NULL for an
 * unknown name or a wrong password (both take the same time).  Costs
 * one PBKDF2 (6 ms of CPU at USERS_ITER): the lab's event loop does
 * not call it, auth.c hands users_verify to a worker thread.
 */
struct lab_user *users_check(struct lab_users *us, const char *name,
    size_t n, const char *pass, size_t plen);

/* What checking one password needs, copied out of the users table so
 * that a worker thread can check it while the table lives on. */
struct users_probe {
	bool known;		/* the name exists (else a dummy hash) */
	unsigned iter;
	unsigned char salt[USERS_SALT];
	unsigned char dk[USERS_DK];
};

/* Fills pr for the user called name (n bytes); an unknown name gets a
 * probe that costs the same and never matches. */
void users_probe(const struct lab_users *us, const char *name, size_t n,
    struct users_probe *pr);

/* Does pass (plen bytes) match pr?  Thread-safe: touches only pr and
 * its arguments.  The expensive part (PBKDF2). */
bool users_verify(const struct users_probe *pr, const char *pass,
    size_t plen);

/* The password of the user called name (n bytes) for CRAM-MD5, or NULL
 * (unknown, or not kept). */
const char *users_clear(const struct lab_users *us, const char *name,
    size_t n);

#endif
