/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl.h: the SASL mechanisms mailsh computes itself, the client side
 * for /auth and the parts of the server side the lab shares with it.
 *
 *   PLAIN          RFC 4616
 *   LOGIN          draft-murchison-sasl-login-00
 *   CRAM-MD5       RFC 2195
 *   SCRAM-SHA-256  RFC 5802, RFC 7677 (no channel binding: gs2 "n,,")
 *   XOAUTH2        Google's format, developers.google.com/gmail/imap/
 *                  xoauth2-protocol
 *   OAUTHBEARER    RFC 7628
 *
 * Messages here are the decoded SASL messages (no base64, no protocol
 * framing): the caller encodes them for the line.  No I/O, no output;
 * every parser is bounded by the length it is given and by SASL_MSG_MAX.
 * Crypto is OpenSSL's (HMAC, EVP_Digest, PKCS5_PBKDF2_HMAC, RAND_bytes).
 */
#ifndef MAILSH_SASL_H
#define MAILSH_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SASL_MSG_MAX	8192	/* a decoded message, either way */
#define SASL_USER_MAX	256
#define SASL_SECRET_MAX	6144	/* a password or an OAuth token */
#define SASL_NONCE_MAX	128	/* a SCRAM nonce (client's + server's) */
#define SASL_SCRAM_ITER_MAX 1000000	/* more would stall the shell */
#define SASL_SCRAM_ITER_MIN 4096	/* RFC 7677 3: SHOULD be at least */
#define SASL_SHA256_LEN	32

enum sasl_mech {
	SASL_M_NONE = -1,
	SASL_M_PLAIN,
	SASL_M_LOGIN,
	SASL_M_CRAM_MD5,
	SASL_M_SCRAM_SHA_256,
	SASL_M_XOAUTH2,
	SASL_M_OAUTHBEARER,
	SASL_M_COUNT
};

/* The registered name ("SCRAM-SHA-256"). */
const char *sasl_mech_name(enum sasl_mech m);
/* By name, case-insensitive; SASL_M_NONE if mailsh cannot compute it. */
enum sasl_mech sasl_mech_by_name(const char *name);
/* Is the secret an OAuth token (else a password)? */
bool sasl_mech_token(enum sasl_mech m);
/* Does the mechanism start with a client message (an initial response)? */
bool sasl_mech_client_first(enum sasl_mech m);

/* Why a step failed: each has a message (sasl_err_text). */
enum sasl_err {
	SASL_E_OK,
	SASL_E_INTERNAL,	/* RAND_bytes, an OpenSSL call failed */
	SASL_E_TOO_LONG,	/* a message would exceed its buffer */
	SASL_E_UNEXPECTED,	/* a challenge where the mechanism has none */
	SASL_E_CRAM_EMPTY,	/* CRAM-MD5 without a challenge */
	SASL_E_SCRAM_SYNTAX,	/* server-first not r=,s=,i= */
	SASL_E_SCRAM_MEXT,	/* m= (a mandatory extension) */
	SASL_E_SCRAM_NONCE,	/* the server nonce does not extend ours */
	SASL_E_SCRAM_ITER,	/* too many iterations for mailsh */
	SASL_E_SCRAM_ERROR,	/* server-final "e=..." */
	SASL_E_SCRAM_FINAL,	/* server-final not v=... */
	SASL_E_SCRAM_SIG,	/* the server signature does not match */
	SASL_E_BAD_USER,	/* a user name with bytes the format forbids */
};

/* The message for an error: an English msgid (caller translates). */
const char *sasl_err_text(enum sasl_err e);

/*
 * One client exchange.  Fill mech, user, secret (and host/port for
 * OAUTHBEARER, optional), then call sasl_client_start, then
 * sasl_client_step for each challenge.  sasl_client_wipe clears the
 * secrets.
 */
struct sasl_client {
	enum sasl_mech mech;
	char user[SASL_USER_MAX];
	char secret[SASL_SECRET_MAX];
	char host[256];			/* OAUTHBEARER host= ("" none) */
	char port[16];			/* OAUTHBEARER port= ("" none) */
	unsigned step;			/* challenges answered so far */
	bool sent_first;		/* the client's first message is out */
	bool refused;			/* XOAUTH2/OAUTHBEARER: the server
					 * sent its error as a challenge */
	bool verified;			/* SCRAM: server signature matched */
	bool have_sig;			/* SCRAM: server-first answered */
	/* SCRAM state */
	char cnonce[SASL_NONCE_MAX];	/* preset for tests, else random */
	char first_bare[SASL_USER_MAX * 3 + SASL_NONCE_MAX + 16];
	size_t first_bare_len;
	unsigned char server_sig[SASL_SHA256_LEN];
	/* SCRAM facts shown to the user */
	unsigned long iterations;
	size_t salt_len;
	bool iter_low;			/* below SASL_SCRAM_ITER_MIN */
};

/*
 * The initial response (a client-first mechanism): the message in out
 * (cap bytes), its length in *len.  Returns SASL_E_OK.  For LOGIN and
 * CRAM-MD5, *len = 0 and nothing is to be sent.  The caller sets
 * sent_first when it sends this message as the initial response; else
 * sasl_client_step gives it again as the answer to the first (empty)
 * challenge.
 */
enum sasl_err sasl_client_start(struct sasl_client *c, char *out,
    size_t cap, size_t *len);

/*
 * The answer to one decoded challenge (chal, n bytes): in out (cap),
 * *len bytes, possibly empty.  Returns SASL_E_OK when there is an
 * answer to send, else the reason to cancel the exchange ("*").
 * SASL_E_SCRAM_SIG: the server could not prove it knows the password.
 */
enum sasl_err sasl_client_step(struct sasl_client *c, const char *chal,
    size_t n, char *out, size_t cap, size_t *len);

void sasl_client_wipe(struct sasl_client *c);

/* ---- shared with the lab (server side) ---- */

/* HMAC-MD5(key, msg) as 32 lowercase hex digits and a NUL in hex[33]. */
bool sasl_cram_digest(const char *key, size_t keylen, const char *msg,
    size_t n, char hex[33]);

/* RFC 5802 3: SaltedPassword, then StoredKey = H(HMAC(SP, "Client Key"))
 * and ServerKey = HMAC(SP, "Server Key"); SHA-256.  False on failure. */
bool sasl_scram_salted(const char *pass, size_t passlen,
    const unsigned char *salt, size_t saltlen, unsigned long iter,
    unsigned char sp[SASL_SHA256_LEN]);
bool sasl_scram_keys(const unsigned char sp[SASL_SHA256_LEN],
    unsigned char stored[SASL_SHA256_LEN],
    unsigned char server[SASL_SHA256_LEN]);

/*
 * Server side, client-first-message (RFC 5802 7): "n,," or "y,," or
 * "n,a=AUTHZID," then "n=USER,r=NONCE[,ext]".  Channel binding "p=" is
 * refused (no -PLUS here).  The user (saslname decoded) goes to user
 * (ucap), the nonce to nonce (ncap); *bare_off is where the bare part
 * begins.  False on any syntax error or overlong field.
 */
bool sasl_scram_parse_client_first(const char *m, size_t n, char *user,
    size_t ucap, char *nonce, size_t ncap, size_t *bare_off);

/*
 * Server side, client-final-message: "c=B64,r=NONCE[,ext],p=B64".
 * *without_len: the bytes before ",p=" (for the AuthMessage); the proof
 * decoded into proof (SASL_SHA256_LEN bytes exactly); the channel
 * binding text and the nonce as pointers into m.  False on a syntax
 * error.
 */
bool sasl_scram_parse_client_final(const char *m, size_t n,
    const char **cbind, size_t *cbind_len, const char **nonce,
    size_t *nonce_len, size_t *without_len,
    unsigned char proof[SASL_SHA256_LEN]);

/*
 * Server side: checks a proof against StoredKey for this AuthMessage
 * (ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) ==
 * StoredKey), and gives ServerSignature = HMAC(ServerKey, AuthMessage).
 */
bool sasl_scram_check_proof(const unsigned char stored[SASL_SHA256_LEN],
    const unsigned char server[SASL_SHA256_LEN], const char *auth,
    size_t authlen, const unsigned char proof[SASL_SHA256_LEN],
    unsigned char server_sig[SASL_SHA256_LEN]);

/* HMAC-SHA-256 of msg under key into out; false on failure. */
bool sasl_hmac_sha256(const unsigned char *key, size_t keylen,
    const void *msg, size_t n, unsigned char out[SASL_SHA256_LEN]);

#endif
