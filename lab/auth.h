/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.h: password checks shared by the lab's protocols: SASL PLAIN
 * (RFC 4616) and plain name + password (SASL LOGIN, POP3 USER/PASS,
 * IMAP LOGIN).  Successes and failures go into the session log line,
 * never the password.
 */
#ifndef MAILSH_LAB_AUTH_H
#define MAILSH_LAB_AUTH_H

#include "loop.h"

#include <stddef.h>

#define AUTH_BUF	1024	/* decoded SASL response */

enum auth_res {
	AUTH_OK,	/* c->user is set */
	AUTH_SYNTAX,	/* not base64, or not authzid\0authcid\0passwd */
	AUTH_FAIL,	/* unknown user or wrong password */
};

/* Decodes base64 (n bytes; "=" is the empty string) into buf as a
 * NUL-terminated string.  Returns its length, or -1. */
long auth_b64(const char *s, size_t n, char *buf, size_t cap);

/* Checks a base64 SASL PLAIN response. */
enum auth_res auth_plain(struct lconn *c, const char *b64, size_t n);

/* Checks a name and password. */
enum auth_res auth_check(struct lconn *c, const char *name, size_t nl,
    const char *pass, size_t pl);

#endif
