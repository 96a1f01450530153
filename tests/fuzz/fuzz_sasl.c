/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_sasl.c: libFuzzer target for protocols/sasl.c: every parser of
 * a peer's SASL message, both ways.
 *
 * The first byte picks what the rest is:
 *   0  a server's challenges to the client (mailsh's /auth), split at
 *      NUL bytes into successive challenges, for each mechanism: the
 *      SCRAM server-first (with a nonce that extends the client's, so
 *      that the later steps are reached) and server-final, LOGIN
 *      prompts, the CRAM-MD5 challenge, the OAuth error;
 *   1  a client-first-message to the lab (sasl_scram_parse_client_first)
 *   2  a client-final-message to the lab (sasl_scram_parse_client_final)
 * Checked besides the sanitizers: answers stay inside their buffer
 * (heap, exactly sized), parsed fields inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/sasl.h"

/* Does a server-first message ask for more than 20000 iterations? */
static int
too_many(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == 'i' && s[i + 1] == '=') {
			unsigned long v = 0;
			for (size_t k = i + 2; k < n && s[k] >= '0' &&
			    s[k] <= '9' && v <= 20000; k++)
				v = v * 10 + (unsigned long)(s[k] - '0');
			if (v > 20000)
				return 1;
		}
	return 0;
}

static void
client(const uint8_t *d, size_t n)
{
	static const char cnonce[] = "fyko+d2lbbFgONRv9qkxdawL";
	for (int m = 0; m < SASL_M_COUNT; m++) {
		struct sasl_client *c = calloc(1, sizeof(*c));
		char *out = malloc(SASL_MSG_MAX);
		size_t len;
		if (!c || !out)
			abort();
		c->mech = (enum sasl_mech)m;
		strcpy(c->user, "user");
		strcpy(c->secret, "pencil");
		strcpy(c->cnonce, cnonce);
		if (sasl_client_start(c, out, SASL_MSG_MAX, &len) != SASL_E_OK)
			abort();
		c->sent_first = true;
		size_t off = 0;
		for (int step = 0; step < 4 && off <= n; step++) {
			const uint8_t *z = memchr(d + off, 0, n - off);
			size_t cl = z ? (size_t)(z - (d + off)) : n - off;
			char *chal = malloc(cl + sizeof(cnonce) + 2);
			if (!chal)
				abort();
			size_t k = 0;
			/* SCRAM: start the first challenge with "r=" and
			 * our nonce, so the rest of the parser is reached */
			if (m == SASL_M_SCRAM_SHA_256 && step == 0) {
				memcpy(chal, "r=", 2);
				memcpy(chal + 2, cnonce, sizeof(cnonce) - 1);
				k = sizeof(cnonce) + 1;
			}
			memcpy(chal + k, d + off, cl);
			/* many iterations are the server's right, but cost
			 * the fuzzer seconds of PBKDF2: not here */
			if (m == SASL_M_SCRAM_SHA_256 && step == 0 &&
			    too_many(chal, k + cl)) {
				free(chal);
				break;
			}
			enum sasl_err e = sasl_client_step(c, chal, k + cl, out,
			    SASL_MSG_MAX, &len);
			if (e == SASL_E_OK && len > SASL_MSG_MAX)
				abort();
			free(chal);
			off += cl + 1;
			if (e != SASL_E_OK)
				break;
		}
		sasl_client_wipe(c);
		free(c);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1 || n > SASL_MSG_MAX)
		return 0;
	uint8_t what = d[0];
	d++, n--;
	char *m = malloc(n ? n : 1);	/* exactly sized */
	if (!m)
		abort();
	memcpy(m, d, n);
	if (what % 3 == 0) {
		client(d, n);
	} else if (what % 3 == 1) {
		char user[64], nonce[128];
		size_t bare;
		if (sasl_scram_parse_client_first(m, n, user, sizeof(user),
		    nonce, sizeof(nonce), &bare) && (bare > n ||
		    strlen(user) >= sizeof(user) || strlen(nonce) >= 128))
			abort();
	} else {
		const char *cb, *nn;
		size_t cbl, nl, wl;
		unsigned char proof[SASL_SHA256_LEN];
		if (sasl_scram_parse_client_final(m, n, &cb, &cbl, &nn, &nl,
		    &wl, proof) && (cb < m || cb + cbl > m + n || nn < m ||
		    nn + nl > m + n || wl > n))
			abort();
	}
	free(m);
	return 0;
}
