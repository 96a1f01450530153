/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.c: password checks for the lab's protocols (see auth.h).
 */
#include "auth.h"
#include "users.h"
#include "../protocols/util.h"

#include <string.h>

#include <openssl/crypto.h>

long
auth_b64(const char *s, size_t n, char *buf, size_t cap)
{
	if (n == 1 && s[0] == '=') {	/* RFC 4954 4: empty response */
		buf[0] = '\0';
		return 0;
	}
	long r = b64_decode(s, n, buf, cap - 1);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return r;
}

enum auth_res
auth_check(struct lconn *c, const char *name, size_t nl, const char *pass,
    size_t pl)
{
	struct lab_user *u = users_check(c->lab->users, name, nl, pass, pl);
	if (!u) {
		if (lab_name_ok(name, nl))
			lconn_note(c, "auth failed for %.*s", (int)nl, name);
		else
			lconn_note(c, "auth failed (no such name)");
		lconn_auth_failed(c);
		return AUTH_FAIL;
	}
	memcpy(c->user, u->name, strlen(u->name) + 1);
	lconn_note(c, "auth %s", u->name);
	return AUTH_OK;
}

enum auth_res
auth_plain(struct lconn *c, const char *b64, size_t n)
{
	char buf[AUTH_BUF];
	long len = auth_b64(b64, n, buf, sizeof(buf));
	if (len < 0)
		return AUTH_SYNTAX;
	/* authzid NUL authcid NUL passwd */
	const char *authz = buf;
	const char *nul1 = memchr(buf, '\0', (size_t)len);
	if (!nul1)
		return AUTH_SYNTAX;
	const char *authc = nul1 + 1;
	const char *nul2 = memchr(authc, '\0', (size_t)(buf + len - authc));
	if (!nul2)
		return AUTH_SYNTAX;
	const char *pass = nul2 + 1;
	size_t al = (size_t)(nul2 - authc);
	size_t pl = (size_t)(buf + len - pass);
	enum auth_res r;
	if (*authz && (strlen(authz) != al || memcmp(authz, authc, al))) {
		r = AUTH_FAIL;	/* acting as someone else: not here */
		lconn_auth_failed(c);
	} else
		r = auth_check(c, authc, al, pass, pl);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}
