/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl.c: the SASL mechanisms mailsh computes (see sasl.h for the RFCs).
 *
 * Facts relied on:
 * - PLAIN (RFC 4616 2): authzid NUL authcid NUL passwd; authzid empty.
 * - LOGIN (draft-murchison-sasl-login-00 2): the server asks for the
 *   user name, then for the password ("Username:", "Password:" are
 *   customary, not required), each answered in turn.
 * - CRAM-MD5 (RFC 2195 2): the answer is the user name, a space, and
 *   HMAC-MD5(password, challenge) as 32 lowercase hex digits.
 * - SCRAM (RFC 5802 3, 5, 7; RFC 7677 for SHA-256): see scram_final().
 *   User names: "," and "=" are sent as "=2C" and "=3D" (5.1).  The
 *   password is used as its UTF-8 bytes: mailsh does no SASLprep
 *   (RFC 4013), which changes only non-ASCII and some control text.
 * - XOAUTH2: "user=" USER ^A "auth=Bearer " TOKEN ^A ^A; a refusal comes
 *   as a challenge holding JSON, answered with an empty response.
 * - OAUTHBEARER (RFC 7628 3.1): gs2 header "n,a=USER," then ^A, optional
 *   "host=" HOST ^A and "port=" PORT ^A, "auth=Bearer " TOKEN ^A ^A; a
 *   refusal comes as a challenge holding JSON, answered with a single ^A
 *   (3.2.3).
 */
#include "sasl.h"
#include "i18n.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const mech_names[SASL_M_COUNT] = {
	[SASL_M_PLAIN] = "PLAIN",
	[SASL_M_LOGIN] = "LOGIN",
	[SASL_M_CRAM_MD5] = "CRAM-MD5",
	[SASL_M_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[SASL_M_XOAUTH2] = "XOAUTH2",
	[SASL_M_OAUTHBEARER] = "OAUTHBEARER",
};

const char *
sasl_mech_name(enum sasl_mech m)
{
	return m > SASL_M_NONE && m < SASL_M_COUNT ? mech_names[m] : "";
}

enum sasl_mech
sasl_mech_by_name(const char *name)
{
	for (int i = 0; i < SASL_M_COUNT; i++)
		if (strcasecmp(name, mech_names[i]) == 0)
			return (enum sasl_mech)i;
	return SASL_M_NONE;
}

bool
sasl_mech_token(enum sasl_mech m)
{
	return m == SASL_M_XOAUTH2 || m == SASL_M_OAUTHBEARER;
}

bool
sasl_mech_client_first(enum sasl_mech m)
{
	return m != SASL_M_LOGIN && m != SASL_M_CRAM_MD5;
}

static const char *const err_text[] = {
	[SASL_E_OK] = "",
	[SASL_E_INTERNAL] = N_("the SASL computation failed (OpenSSL)"),
	[SASL_E_TOO_LONG] = N_("the SASL message would be too long"),
	[SASL_E_UNEXPECTED] = N_("the server sent a challenge the mechanism "
	    "does not have at this point"),
	[SASL_E_CRAM_EMPTY] = N_("CRAM-MD5 needs a challenge to answer, and "
	    "the server sent an empty one (RFC 2195 2)"),
	[SASL_E_SCRAM_SYNTAX] = N_("the server's first SCRAM message is not "
	    "r=NONCE,s=SALT,i=ITERATIONS (RFC 5802 7)"),
	[SASL_E_SCRAM_MEXT] = N_("the server's first SCRAM message starts "
	    "with m= (a mandatory extension mailsh does not know): the "
	    "client must give up (RFC 5802 5.1)"),
	[SASL_E_SCRAM_NONCE] = N_("the server's SCRAM nonce does not begin "
	    "with the client's nonce (RFC 5802 5.1): not a reply to this "
	    "exchange"),
	[SASL_E_SCRAM_ITER] = N_("the server asks for more PBKDF2 iterations "
	    "than mailsh computes (1000000)"),
	[SASL_E_SCRAM_ERROR] = N_("the server's final SCRAM message is an "
	    "error (e=)"),
	[SASL_E_SCRAM_FINAL] = N_("the server's final SCRAM message is not "
	    "v=SIGNATURE (RFC 5802 7)"),
	[SASL_E_SCRAM_SIG] = N_("the server's SCRAM signature does NOT "
	    "match: this server cannot prove it knows your password (a "
	    "wrong server, or someone in between); do not trust this "
	    "session"),
	[SASL_E_BAD_USER] = N_("the user name or secret holds a byte this "
	    "mechanism cannot carry (a control character)"),
};

const char *
sasl_err_text(enum sasl_err e)
{
	if ((size_t)e < sizeof(err_text) / sizeof(err_text[0]))
		return err_text[e];
	return err_text[SASL_E_INTERNAL];
}

/* Appends n bytes at *len in out (cap); false (nothing written) if they
 * do not fit. */
static bool
put(char *out, size_t cap, size_t *len, const void *p, size_t n)
{
	if (n > cap || *len > cap - n)
		return false;
	memcpy(out + *len, p, n);
	*len += n;
	return true;
}

static bool
puts_(char *out, size_t cap, size_t *len, const char *s)
{
	return put(out, cap, len, s, strlen(s));
}

static bool
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* RFC 5802 5.1 saslname: "," as "=2C", "=" as "=3D". */
static bool
put_saslname(char *out, size_t cap, size_t *len, const char *s)
{
	for (; *s; s++) {
		bool ok = *s == ',' ? puts_(out, cap, len, "=2C")
		    : *s == '=' ? puts_(out, cap, len, "=3D")
		    : put(out, cap, len, s, 1);
		if (!ok)
			return false;
	}
	return true;
}

bool
sasl_hmac_sha256(const unsigned char *key, size_t keylen, const void *msg,
    size_t n, unsigned char out[SASL_SHA256_LEN])
{
	unsigned int ol = 0;
	return HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &ol) &&
	    ol == SASL_SHA256_LEN;
}

bool
sasl_cram_digest(const char *key, size_t keylen, const char *msg, size_t n,
    char hex[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	if (!HMAC(EVP_md5(), key, (int)keylen, (const unsigned char *)msg, n,
	    d, &dl) || dl != 16)
		return false;
	for (unsigned i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	OPENSSL_cleanse(d, sizeof(d));
	return true;
}

bool
sasl_scram_salted(const char *pass, size_t passlen,
    const unsigned char *salt, size_t saltlen, unsigned long iter,
    unsigned char sp[SASL_SHA256_LEN])
{
	if (iter == 0 || iter > SASL_SCRAM_ITER_MAX * 10UL)
		return false;
	return PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen,
	    (int)iter, EVP_sha256(), SASL_SHA256_LEN, sp) == 1;
}

bool
sasl_scram_keys(const unsigned char sp[SASL_SHA256_LEN],
    unsigned char stored[SASL_SHA256_LEN],
    unsigned char server[SASL_SHA256_LEN])
{
	unsigned char ck[SASL_SHA256_LEN];
	unsigned int dl = 0;
	bool ok = sasl_hmac_sha256(sp, SASL_SHA256_LEN, "Client Key", 10,
	    ck) && EVP_Digest(ck, sizeof(ck), stored, &dl, EVP_sha256(),
	    NULL) == 1 && dl == SASL_SHA256_LEN &&
	    sasl_hmac_sha256(sp, SASL_SHA256_LEN, "Server Key", 10, server);
	OPENSSL_cleanse(ck, sizeof(ck));
	return ok;
}

bool
sasl_scram_check_proof(const unsigned char stored[SASL_SHA256_LEN],
    const unsigned char server[SASL_SHA256_LEN], const char *auth,
    size_t authlen, const unsigned char proof[SASL_SHA256_LEN],
    unsigned char server_sig[SASL_SHA256_LEN])
{
	unsigned char csig[SASL_SHA256_LEN], ck[SASL_SHA256_LEN];
	unsigned char h[SASL_SHA256_LEN];
	unsigned int dl = 0;
	if (!sasl_hmac_sha256(stored, SASL_SHA256_LEN, auth, authlen, csig))
		return false;
	for (int i = 0; i < SASL_SHA256_LEN; i++)
		ck[i] = proof[i] ^ csig[i];
	bool ok = EVP_Digest(ck, sizeof(ck), h, &dl, EVP_sha256(), NULL) ==
	    1 && dl == SASL_SHA256_LEN &&
	    CRYPTO_memcmp(h, stored, SASL_SHA256_LEN) == 0;
	OPENSSL_cleanse(ck, sizeof(ck));
	if (ok && !sasl_hmac_sha256(server, SASL_SHA256_LEN, auth, authlen,
	    server_sig))
		ok = false;
	return ok;
}

/* ---- the client ---- */

static enum sasl_err
plain_msg(const struct sasl_client *c, char *out, size_t cap, size_t *len)
{
	/* RFC 4616 2: authzid empty, NUL, authcid, NUL, passwd */
	*len = 0;
	if (!put(out, cap, len, "", 1) || !puts_(out, cap, len, c->user) ||
	    !put(out, cap, len, "", 1) || !puts_(out, cap, len, c->secret))
		return SASL_E_TOO_LONG;
	return SASL_E_OK;
}

static enum sasl_err
xoauth2_msg(const struct sasl_client *c, char *out, size_t cap, size_t *len)
{
	*len = 0;
	if (!puts_(out, cap, len, "user=") || !puts_(out, cap, len, c->user) ||
	    !puts_(out, cap, len, "\001auth=Bearer ") ||
	    !puts_(out, cap, len, c->secret) ||
	    !puts_(out, cap, len, "\001\001"))
		return SASL_E_TOO_LONG;
	return SASL_E_OK;
}

static enum sasl_err
oauthbearer_msg(const struct sasl_client *c, char *out, size_t cap,
    size_t *len)
{
	/* RFC 7628 3.1: gs2-header (RFC 5801 4) with a=saslname, then
	 * kvpairs each ended by ^A, and a final ^A */
	*len = 0;
	if (!puts_(out, cap, len, "n,a=") ||
	    !put_saslname(out, cap, len, c->user) ||
	    !puts_(out, cap, len, ",\001"))
		return SASL_E_TOO_LONG;
	if (c->host[0] && (!puts_(out, cap, len, "host=") ||
	    !puts_(out, cap, len, c->host) || !puts_(out, cap, len, "\001")))
		return SASL_E_TOO_LONG;
	if (c->port[0] && (!puts_(out, cap, len, "port=") ||
	    !puts_(out, cap, len, c->port) || !puts_(out, cap, len, "\001")))
		return SASL_E_TOO_LONG;
	if (!puts_(out, cap, len, "auth=Bearer ") ||
	    !puts_(out, cap, len, c->secret) ||
	    !puts_(out, cap, len, "\001\001"))
		return SASL_E_TOO_LONG;
	return SASL_E_OK;
}

/* RFC 5802 7: client-first-message = gs2-header ("n,,": no channel
 * binding, no authzid) client-first-message-bare ("n=USER,r=NONCE"). */
static enum sasl_err
scram_first(struct sasl_client *c, char *out, size_t cap, size_t *len)
{
	if (!c->cnonce[0]) {
		/* 18 random bytes: 24 base64 characters, none a "," */
		unsigned char rnd[18];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return SASL_E_INTERNAL;
		b64_encode(rnd, sizeof(rnd), c->cnonce, sizeof(c->cnonce));
	}
	c->first_bare_len = 0;
	if (!puts_(c->first_bare, sizeof(c->first_bare), &c->first_bare_len,
	    "n=") || !put_saslname(c->first_bare, sizeof(c->first_bare),
	    &c->first_bare_len, c->user) || !puts_(c->first_bare,
	    sizeof(c->first_bare), &c->first_bare_len, ",r=") ||
	    !puts_(c->first_bare, sizeof(c->first_bare), &c->first_bare_len,
	    c->cnonce))
		return SASL_E_TOO_LONG;
	*len = 0;
	if (!puts_(out, cap, len, "n,,") || !put(out, cap, len,
	    c->first_bare, c->first_bare_len))
		return SASL_E_TOO_LONG;
	return SASL_E_OK;
}

/* The value of attribute a ("r") at the start of s[0..n): "r=VALUE",
 * VALUE up to the next "," (in *vl); NULL if s does not start so. */
static const char *
attr(const char *s, size_t n, char a, size_t *vl)
{
	if (n < 2 || s[0] != a || s[1] != '=')
		return NULL;
	const char *v = s + 2;
	const char *comma = memchr(v, ',', n - 2);
	*vl = comma ? (size_t)(comma - v) : n - 2;
	return v;
}

/*
 * server-first-message = [reserved-mext ","] nonce "," salt ","
 *     iteration-count ["," extensions]
 * then client-final-message-without-proof = "c=biws,r=" nonce
 * (biws = base64("n,,")), AuthMessage = client-first-bare "," server-first
 * "," without-proof, and
 *   SaltedPassword  = Hi(password, salt, i)      (PBKDF2-HMAC-SHA-256)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = H(ClientKey)
 *   ClientSignature = HMAC(StoredKey, AuthMessage)
 *   ClientProof     = ClientKey XOR ClientSignature
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   ServerSignature = HMAC(ServerKey, AuthMessage)   (kept to check v=)
 */
static enum sasl_err
scram_final(struct sasl_client *c, const char *s, size_t n, char *out,
    size_t cap, size_t *len)
{
	size_t vl, off = 0;
	if (n >= 2 && s[0] == 'm' && s[1] == '=')
		return SASL_E_SCRAM_MEXT;
	const char *nonce = attr(s, n, 'r', &vl);
	if (!nonce || vl == 0 || vl >= SASL_NONCE_MAX)
		return SASL_E_SCRAM_SYNTAX;
	size_t nl = vl;
	for (size_t i = 0; i < nl; i++)	/* printable, not "," */
		if (nonce[i] < 0x21 || nonce[i] > 0x7e)
			return SASL_E_SCRAM_SYNTAX;
	size_t cl = strlen(c->cnonce);
	if (nl <= cl || memcmp(nonce, c->cnonce, cl) != 0)
		return SASL_E_SCRAM_NONCE;
	off = (size_t)(nonce - s) + nl + 1;
	if (off >= n)
		return SASL_E_SCRAM_SYNTAX;
	const char *salt = attr(s + off, n - off, 's', &vl);
	unsigned char rawsalt[256];
	long sl;
	if (!salt || vl == 0 || (sl = b64_decode(salt, vl, rawsalt,
	    sizeof(rawsalt))) <= 0)
		return SASL_E_SCRAM_SYNTAX;
	off = (size_t)(salt - s) + vl + 1;
	if (off >= n)
		return SASL_E_SCRAM_SYNTAX;
	const char *it = attr(s + off, n - off, 'i', &vl);
	if (!it || vl == 0 || vl > 10 || it[0] == '0')
		return SASL_E_SCRAM_SYNTAX;
	unsigned long iter = 0;
	for (size_t i = 0; i < vl; i++) {
		if (it[i] < '0' || it[i] > '9')
			return SASL_E_SCRAM_SYNTAX;
		iter = iter * 10 + (unsigned long)(it[i] - '0');
	}
	c->iterations = iter;
	c->salt_len = (size_t)sl;
	c->iter_low = iter < SASL_SCRAM_ITER_MIN;
	if (iter > SASL_SCRAM_ITER_MAX)
		return SASL_E_SCRAM_ITER;

	/* client-final-message-without-proof */
	char wp[SASL_NONCE_MAX + 16];
	size_t wpl = 0;
	if (!puts_(wp, sizeof(wp), &wpl, "c=biws,r=") ||
	    !put(wp, sizeof(wp), &wpl, nonce, nl))
		return SASL_E_TOO_LONG;
	char auth[sizeof(c->first_bare) + SASL_MSG_MAX + sizeof(wp) + 2];
	size_t al = 0;
	if (!put(auth, sizeof(auth), &al, c->first_bare, c->first_bare_len) ||
	    !put(auth, sizeof(auth), &al, ",", 1) ||
	    !put(auth, sizeof(auth), &al, s, n) ||
	    !put(auth, sizeof(auth), &al, ",", 1) ||
	    !put(auth, sizeof(auth), &al, wp, wpl))
		return SASL_E_TOO_LONG;

	unsigned char sp[SASL_SHA256_LEN], ck[SASL_SHA256_LEN];
	unsigned char stored[SASL_SHA256_LEN], csig[SASL_SHA256_LEN];
	unsigned char skey[SASL_SHA256_LEN], proof[SASL_SHA256_LEN];
	unsigned int dl = 0;
	enum sasl_err e = SASL_E_INTERNAL;
	if (!sasl_scram_salted(c->secret, strlen(c->secret), rawsalt,
	    (size_t)sl, iter, sp))
		goto out;
	if (!sasl_hmac_sha256(sp, sizeof(sp), "Client Key", 10, ck) ||
	    EVP_Digest(ck, sizeof(ck), stored, &dl, EVP_sha256(), NULL) != 1 ||
	    !sasl_hmac_sha256(stored, sizeof(stored), auth, al, csig) ||
	    !sasl_hmac_sha256(sp, sizeof(sp), "Server Key", 10, skey) ||
	    !sasl_hmac_sha256(skey, sizeof(skey), auth, al, c->server_sig))
		goto out;
	for (int i = 0; i < SASL_SHA256_LEN; i++)
		proof[i] = ck[i] ^ csig[i];
	char p64[64];
	b64_encode(proof, sizeof(proof), p64, sizeof(p64));
	*len = 0;
	e = put(out, cap, len, wp, wpl) && puts_(out, cap, len, ",p=") &&
	    puts_(out, cap, len, p64) ? SASL_E_OK : SASL_E_TOO_LONG;
out:
	OPENSSL_cleanse(sp, sizeof(sp));
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(skey, sizeof(skey));
	OPENSSL_cleanse(auth, sizeof(auth));
	return e;
}

/* server-final-message = (server-error / verifier) ["," extensions]:
 * "v=" base64(ServerSignature), compared in constant time. */
static enum sasl_err
scram_verify(struct sasl_client *c, const char *s, size_t n)
{
	size_t vl;
	if (attr(s, n, 'e', &vl))
		return SASL_E_SCRAM_ERROR;
	const char *v = attr(s, n, 'v', &vl);
	unsigned char sig[SASL_SHA256_LEN + 8];
	long sl;
	if (!v || (sl = b64_decode(v, vl, sig, sizeof(sig))) < 0)
		return SASL_E_SCRAM_FINAL;
	if (sl != SASL_SHA256_LEN ||
	    CRYPTO_memcmp(sig, c->server_sig, SASL_SHA256_LEN) != 0)
		return SASL_E_SCRAM_SIG;
	c->verified = true;
	return SASL_E_OK;
}

enum sasl_err
sasl_client_start(struct sasl_client *c, char *out, size_t cap,
    size_t *len)
{
	*len = 0;
	c->step = 0;
	c->sent_first = false;
	c->refused = c->verified = c->have_sig = false;
	if (has_ctl(c->user) || has_ctl(c->secret) || has_ctl(c->host) ||
	    has_ctl(c->port))
		return SASL_E_BAD_USER;
	enum sasl_err e = SASL_E_OK;
	switch (c->mech) {
	case SASL_M_PLAIN: e = plain_msg(c, out, cap, len); break;
	case SASL_M_SCRAM_SHA_256: e = scram_first(c, out, cap, len); break;
	case SASL_M_XOAUTH2: e = xoauth2_msg(c, out, cap, len); break;
	case SASL_M_OAUTHBEARER: e = oauthbearer_msg(c, out, cap, len); break;
	case SASL_M_LOGIN:
	case SASL_M_CRAM_MD5:
		return SASL_E_OK;
	default:
		return SASL_E_INTERNAL;
	}
	return e;
}

/* Does the LOGIN prompt ask for the password?  "Password:" is what
 * servers send; anything else (or nothing) goes by the order. */
static bool
asks_password(const char *s, size_t n, unsigned step)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (strncasecmp(s + i, "pass", 4) == 0)
			return true;
	for (size_t i = 0; i + 4 <= n; i++)
		if (strncasecmp(s + i, "user", 4) == 0 ||
		    strncasecmp(s + i, "name", 4) == 0)
			return false;
	return step > 0;
}

enum sasl_err
sasl_client_step(struct sasl_client *c, const char *chal, size_t n,
    char *out, size_t cap, size_t *len)
{
	*len = 0;
	if (n > SASL_MSG_MAX)
		return SASL_E_TOO_LONG;
	unsigned step = c->step++;
	/* a client-first mechanism whose first message was not sent as an
	 * initial response sends it now, to the empty challenge */
	if (sasl_mech_client_first(c->mech) && !c->sent_first) {
		c->sent_first = true;
		if (n != 0)
			return SASL_E_UNEXPECTED;
		return sasl_client_start(c, out, cap, len);
	}
	switch (c->mech) {
	case SASL_M_PLAIN:
		return SASL_E_UNEXPECTED;
	case SASL_M_LOGIN: {
		if (step > 1)
			return SASL_E_UNEXPECTED;
		const char *v = asks_password(chal, n, step) ? c->secret
		    : c->user;
		return puts_(out, cap, len, v) ? SASL_E_OK : SASL_E_TOO_LONG;
	}
	case SASL_M_CRAM_MD5: {
		if (step > 0)
			return SASL_E_UNEXPECTED;
		if (n == 0)
			return SASL_E_CRAM_EMPTY;
		char hex[33];
		if (!sasl_cram_digest(c->secret, strlen(c->secret), chal, n,
		    hex))
			return SASL_E_INTERNAL;
		return puts_(out, cap, len, c->user) && puts_(out, cap, len,
		    " ") && puts_(out, cap, len, hex) ? SASL_E_OK
		    : SASL_E_TOO_LONG;
	}
	case SASL_M_SCRAM_SHA_256:
		if (c->verified)
			return SASL_E_UNEXPECTED;
		if (!c->have_sig) {	/* the server-first message */
			enum sasl_err e = scram_final(c, chal, n, out, cap,
			    len);
			c->have_sig = e == SASL_E_OK;
			return e;
		}
		/* the server-final message: answered with an empty
		 * response once it checks out */
		return scram_verify(c, chal, n);
	case SASL_M_XOAUTH2:
	case SASL_M_OAUTHBEARER:
		if (c->refused)
			return SASL_E_UNEXPECTED;
		c->refused = true;	/* the challenge is the error */
		if (c->mech == SASL_M_OAUTHBEARER)
			return puts_(out, cap, len, "\001") ? SASL_E_OK
			    : SASL_E_TOO_LONG;
		return SASL_E_OK;
	default:
		return SASL_E_INTERNAL;
	}
}

void
sasl_client_wipe(struct sasl_client *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- the server side's parsers (the lab) ---- */

/* Decodes a saslname (RFC 5802 5.1: "=2C" ",", "=3D" "="; any other "="
 * is an error) into out (cap incl. NUL). */
static bool
saslname_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '=') {
			if (n - i < 3)
				return false;
			if (memcmp(s + i, "=2C", 3) == 0)
				ch = ',';
			else if (memcmp(s + i, "=3D", 3) == 0)
				ch = '=';
			else
				return false;
			i += 2;
		}
		if (ch == '\0' || k + 1 >= cap)
			return false;
		out[k++] = ch;
	}
	out[k] = '\0';
	return k > 0;
}

bool
sasl_scram_parse_client_first(const char *m, size_t n, char *user,
    size_t ucap, char *nonce, size_t ncap, size_t *bare_off)
{
	if (n > SASL_MSG_MAX || n < 3)
		return false;
	/* gs2-cbind-flag: "n" or "y" (no -PLUS here), then "," */
	if ((m[0] != 'n' && m[0] != 'y') || m[1] != ',')
		return false;
	/* [ authzid ] "," */
	const char *c2 = memchr(m + 2, ',', n - 2);
	if (!c2)
		return false;
	if (c2 != m + 2 && (c2 - (m + 2) < 2 || m[2] != 'a' || m[3] != '='))
		return false;
	size_t off = (size_t)(c2 - m) + 1;
	*bare_off = off;
	size_t vl;
	if (off < n && m[off] == 'm')	/* reserved-mext: refused */
		return false;
	const char *u = attr(m + off, n - off, 'n', &vl);
	if (!u || vl == 0 || !saslname_decode(u, vl, user, ucap))
		return false;
	off = (size_t)(u - m) + vl + 1;
	if (off >= n)
		return false;
	const char *r = attr(m + off, n - off, 'r', &vl);
	if (!r || vl == 0 || vl >= ncap)
		return false;
	for (size_t i = 0; i < vl; i++)
		if (r[i] < 0x21 || r[i] > 0x7e)
			return false;
	memcpy(nonce, r, vl);
	nonce[vl] = '\0';
	return true;
}

bool
sasl_scram_parse_client_final(const char *m, size_t n, const char **cbind,
    size_t *cbind_len, const char **nonce, size_t *nonce_len,
    size_t *without_len, unsigned char proof[SASL_SHA256_LEN])
{
	if (n > SASL_MSG_MAX)
		return false;
	size_t vl;
	const char *cb = attr(m, n, 'c', &vl);
	if (!cb || vl == 0)
		return false;
	*cbind = cb;
	*cbind_len = vl;
	size_t off = (size_t)(cb - m) + vl + 1;
	if (off >= n)
		return false;
	const char *r = attr(m + off, n - off, 'r', &vl);
	if (!r || vl == 0)
		return false;
	*nonce = r;
	*nonce_len = vl;
	/* the proof is the last attribute */
	const char *p = NULL;
	for (size_t i = n; i-- > (size_t)(r - m);)
		if (m[i] == ',') {
			p = m + i;
			break;
		}
	if (!p || (size_t)(m + n - p) < 4 || p[1] != 'p' || p[2] != '=')
		return false;
	*without_len = (size_t)(p - m);
	unsigned char raw[SASL_SHA256_LEN + 8];
	long pl = b64_decode(p + 3, (size_t)(m + n - p - 3), raw,
	    sizeof(raw));
	if (pl != SASL_SHA256_LEN)
		return false;
	memcpy(proof, raw, SASL_SHA256_LEN);
	return true;
}
