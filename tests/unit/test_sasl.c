/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_sasl.c: unit tests for protocols/sasl.c (cmocka).
 *
 * Test plan:
 *   sasl-1  names: every mechanism by name, case-insensitive; unknown
 *   sasl-2  PLAIN (RFC 4616 2): initial response; the same message to an
 *           empty challenge when no initial response went out; a second
 *           challenge is unexpected
 *   sasl-3  LOGIN: user then password, by prompt and by order
 *   sasl-4  CRAM-MD5: the RFC 2195 2 example; empty challenge refused
 *   sasl-5  SCRAM-SHA-256: the RFC 7677 3 example, byte for byte, with
 *           the server signature verified; a wrong signature, e=, m=,
 *           a foreign nonce, a bad syntax, too many iterations refused;
 *           "," and "=" in the user name encoded (RFC 5802 5.1)
 *   sasl-6  XOAUTH2 and OAUTHBEARER (RFC 7628 3.1) messages, the answer
 *           to the error challenge (empty, and ^A per RFC 7628 3.2.3)
 *   sasl-7  the lab's parsers: client-first and client-final of the RFC
 *           7677 example, the proof checked against StoredKey; bad
 *           messages refused
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/sasl.h"
#include "../../protocols/util.h"

static struct sasl_client *
client(enum sasl_mech m, const char *user, const char *secret)
{
	static struct sasl_client c;
	memset(&c, 0, sizeof(c));
	c.mech = m;
	snprintf(c.user, sizeof(c.user), "%s", user);
	snprintf(c.secret, sizeof(c.secret), "%s", secret);
	return &c;
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(sasl_mech_by_name("plain"), SASL_M_PLAIN);
	assert_int_equal(sasl_mech_by_name("LOGIN"), SASL_M_LOGIN);
	assert_int_equal(sasl_mech_by_name("cram-md5"), SASL_M_CRAM_MD5);
	assert_int_equal(sasl_mech_by_name("Scram-Sha-256"),
	    SASL_M_SCRAM_SHA_256);
	assert_int_equal(sasl_mech_by_name("xoauth2"), SASL_M_XOAUTH2);
	assert_int_equal(sasl_mech_by_name("OAUTHBEARER"),
	    SASL_M_OAUTHBEARER);
	assert_int_equal(sasl_mech_by_name("GSSAPI"), SASL_M_NONE);
	assert_int_equal(sasl_mech_by_name(""), SASL_M_NONE);
	for (int i = 0; i < SASL_M_COUNT; i++)
		assert_int_equal(sasl_mech_by_name(sasl_mech_name(
		    (enum sasl_mech)i)), i);
	for (int e = SASL_E_INTERNAL; e <= SASL_E_BAD_USER; e++)
		assert_true(sasl_err_text((enum sasl_err)e)[0] != '\0');
}

static void
test_plain(void **state)
{
	(void)state;
	char out[512];
	size_t n;
	struct sasl_client *c = client(SASL_M_PLAIN, "alice", "s3cret");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "\0alice\0s3cret", 13);
	/* no initial response went out: the empty challenge gets it */
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_memory_equal(out, "\0alice\0s3cret", 13);
	assert_int_equal(sasl_client_step(c, "x", 1, out, sizeof(out), &n),
	    SASL_E_UNEXPECTED);
	/* sent as initial response: any challenge is unexpected */
	sasl_client_start(c, out, sizeof(out), &n);
	c->sent_first = true;
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_UNEXPECTED);
	/* too small a buffer */
	assert_int_equal(sasl_client_start(c, out, 5, &n), SASL_E_TOO_LONG);
	/* control bytes cannot be carried */
	c = client(SASL_M_PLAIN, "al\001ice", "x");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_BAD_USER);
	sasl_client_wipe(c);
	assert_int_equal(c->secret[0], 0);
}

static void
test_login(void **state)
{
	(void)state;
	char out[512];
	size_t n;
	struct sasl_client *c = client(SASL_M_LOGIN, "alice", "pw");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_int_equal(n, 0);
	assert_int_equal(sasl_client_step(c, "Username:", 9, out,
	    sizeof(out), &n), SASL_E_OK);
	assert_memory_equal(out, "alice", 5);
	assert_int_equal(n, 5);
	assert_int_equal(sasl_client_step(c, "Password:", 9, out,
	    sizeof(out), &n), SASL_E_OK);
	assert_memory_equal(out, "pw", 2);
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_UNEXPECTED);
	/* by order, when the prompts say nothing */
	c = client(SASL_M_LOGIN, "bob", "pw2");
	sasl_client_start(c, out, sizeof(out), &n);
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_memory_equal(out, "bob", 3);
	assert_int_equal(sasl_client_step(c, "?", 1, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_memory_equal(out, "pw2", 3);
}

static void
test_cram(void **state)
{
	(void)state;
	char out[512];
	size_t n;
	/* RFC 2195 2 */
	struct sasl_client *c = client(SASL_M_CRAM_MD5, "tim",
	    "tanstaaftanstaaf");
	sasl_client_start(c, out, sizeof(out), &n);
	const char *ch = "<1896.697170952@postoffice.reston.mci.net>";
	assert_int_equal(sasl_client_step(c, ch, strlen(ch), out,
	    sizeof(out), &n), SASL_E_OK);
	out[n] = '\0';
	assert_string_equal(out, "tim b913a602c7eda7a495b4e6e7334d3890");
	assert_int_equal(sasl_client_step(c, ch, strlen(ch), out,
	    sizeof(out), &n), SASL_E_UNEXPECTED);
	c = client(SASL_M_CRAM_MD5, "tim", "x");
	sasl_client_start(c, out, sizeof(out), &n);
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_CRAM_EMPTY);
}

/* RFC 7677 3 */
static const char r7677_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char r7677_sfirst[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCA"
    "fuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char r7677_final[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa"
    "2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char r7677_sfinal[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJ"
    "Rsjl95G4=";

static struct sasl_client *
scram_after_first(char *out, size_t cap)
{
	size_t n;
	struct sasl_client *c = client(SASL_M_SCRAM_SHA_256, "user",
	    "pencil");
	snprintf(c->cnonce, sizeof(c->cnonce), "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(sasl_client_start(c, out, cap, &n), SASL_E_OK);
	c->sent_first = true;
	out[n] = '\0';
	assert_string_equal(out, r7677_first);
	return c;
}

static void
test_scram_rfc7677(void **state)
{
	(void)state;
	char out[1024];
	size_t n;
	struct sasl_client *c = scram_after_first(out, sizeof(out));
	assert_int_equal(sasl_client_step(c, r7677_sfirst,
	    strlen(r7677_sfirst), out, sizeof(out), &n), SASL_E_OK);
	out[n] = '\0';
	assert_string_equal(out, r7677_final);
	assert_int_equal(c->iterations, 4096);
	assert_int_equal(c->salt_len, 16);
	assert_false(c->iter_low);
	assert_false(c->verified);
	assert_int_equal(sasl_client_step(c, r7677_sfinal,
	    strlen(r7677_sfinal), out, sizeof(out), &n), SASL_E_OK);
	assert_int_equal(n, 0);
	assert_true(c->verified);
	assert_int_equal(sasl_client_step(c, "", 0, out, sizeof(out), &n),
	    SASL_E_UNEXPECTED);
}

static void
test_scram_refusals(void **state)
{
	(void)state;
	char out[1024];
	size_t n;
	/* a server signature off by one character */
	struct sasl_client *c = scram_after_first(out, sizeof(out));
	sasl_client_step(c, r7677_sfirst, strlen(r7677_sfirst), out,
	    sizeof(out), &n);
	const char *bad = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	assert_int_equal(sasl_client_step(c, bad, strlen(bad), out,
	    sizeof(out), &n), SASL_E_SCRAM_SIG);
	assert_false(c->verified);
	/* a signature of another length, an error, no v= */
	const char *finals[] = { "v=AAAA", "e=invalid-proof", "x=1", "v=!" };
	enum sasl_err want[] = { SASL_E_SCRAM_SIG, SASL_E_SCRAM_ERROR,
	    SASL_E_SCRAM_FINAL, SASL_E_SCRAM_FINAL };
	for (int i = 0; i < 4; i++) {
		c = scram_after_first(out, sizeof(out));
		sasl_client_step(c, r7677_sfirst, strlen(r7677_sfirst), out,
		    sizeof(out), &n);
		assert_int_equal(sasl_client_step(c, finals[i],
		    strlen(finals[i]), out, sizeof(out), &n), want[i]);
	}
	/* server-first messages that must be refused */
	struct {
		const char *m;
		enum sasl_err e;
	} firsts[] = {
		{ "m=x,r=rOprNGfwEbeRWgbNEkqOabc,s=QUJD,i=4096",
		    SASL_E_SCRAM_MEXT },
		{ "r=someoneElse123,s=QUJD,i=4096", SASL_E_SCRAM_NONCE },
		{ "r=rOprNGfwEbeRWgbNEkqO,s=QUJD,i=4096", SASL_E_SCRAM_NONCE },
		{ "r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=99999999",
		    SASL_E_SCRAM_ITER },
		{ "r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=0", SASL_E_SCRAM_SYNTAX },
		{ "r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=12345678901",
		    SASL_E_SCRAM_SYNTAX },
		{ "r=rOprNGfwEbeRWgbNEkqOx,s=QUJD", SASL_E_SCRAM_SYNTAX },
		{ "r=rOprNGfwEbeRWgbNEkqOx,s=!!,i=1", SASL_E_SCRAM_SYNTAX },
		{ "r=rOprNGfwEbeRWgbNEkqOx,i=1,s=QUJD", SASL_E_SCRAM_SYNTAX },
		{ "s=QUJD,r=rOprNGfwEbeRWgbNEkqOx,i=1", SASL_E_SCRAM_SYNTAX },
		{ "r=rOprNGfwEbeRWgbNEkqO\x01,s=QUJD,i=1",
		    SASL_E_SCRAM_SYNTAX },
		{ "", SASL_E_SCRAM_SYNTAX },
		{ "r=", SASL_E_SCRAM_SYNTAX },
	};
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		c = scram_after_first(out, sizeof(out));
		assert_int_equal(sasl_client_step(c, firsts[i].m,
		    strlen(firsts[i].m), out, sizeof(out), &n), firsts[i].e);
	}
	/* few iterations: computed, but noted */
	c = scram_after_first(out, sizeof(out));
	const char *few = "r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=10";
	assert_int_equal(sasl_client_step(c, few, strlen(few), out,
	    sizeof(out), &n), SASL_E_OK);
	assert_true(c->iter_low);
	/* "," and "=" in a user name (RFC 5802 5.1) */
	c = client(SASL_M_SCRAM_SHA_256, "a,b=c", "x");
	snprintf(c->cnonce, sizeof(c->cnonce), "abc");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	out[n] = '\0';
	assert_string_equal(out, "n,,n=a=2Cb=3Dc,r=abc");
	/* a random nonce: 24 characters, none a "," */
	c = client(SASL_M_SCRAM_SHA_256, "u", "x");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	assert_int_equal(strlen(c->cnonce), 24);
	assert_null(strchr(c->cnonce, ','));
}

static void
test_oauth(void **state)
{
	(void)state;
	char out[1024];
	size_t n;
	struct sasl_client *c = client(SASL_M_XOAUTH2, "alice@example.org",
	    "ya29.tok");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	const char x[] = "user=alice@example.org\001auth=Bearer ya29.tok"
	    "\001\001";
	assert_int_equal(n, sizeof(x) - 1);
	assert_memory_equal(out, x, n);
	c->sent_first = true;
	const char *err = "{\"status\":\"401\"}";
	assert_int_equal(sasl_client_step(c, err, strlen(err), out,
	    sizeof(out), &n), SASL_E_OK);
	assert_int_equal(n, 0);		/* an empty answer */
	assert_true(c->refused);
	assert_int_equal(sasl_client_step(c, err, strlen(err), out,
	    sizeof(out), &n), SASL_E_UNEXPECTED);

	c = client(SASL_M_OAUTHBEARER, "a,b", "vF9dft4qmT");
	snprintf(c->host, sizeof(c->host), "server.example.com");
	snprintf(c->port, sizeof(c->port), "143");
	assert_int_equal(sasl_client_start(c, out, sizeof(out), &n),
	    SASL_E_OK);
	/* RFC 7628 4.1, with a= */
	const char o[] = "n,a=a=2Cb,\001host=server.example.com\001port=143"
	    "\001auth=Bearer vF9dft4qmT\001\001";
	assert_int_equal(n, sizeof(o) - 1);
	assert_memory_equal(out, o, n);
	c->sent_first = true;
	assert_int_equal(sasl_client_step(c, err, strlen(err), out,
	    sizeof(out), &n), SASL_E_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 1);
	/* no host, no port */
	c = client(SASL_M_OAUTHBEARER, "u", "t");
	sasl_client_start(c, out, sizeof(out), &n);
	const char o2[] = "n,a=u,\001auth=Bearer t\001\001";
	assert_int_equal(n, sizeof(o2) - 1);
	assert_memory_equal(out, o2, n);
}

static void
test_server_parsers(void **state)
{
	(void)state;
	char user[64], nonce[128];
	size_t bare;
	assert_true(sasl_scram_parse_client_first(r7677_first,
	    strlen(r7677_first), user, sizeof(user), nonce, sizeof(nonce),
	    &bare));
	assert_string_equal(user, "user");
	assert_string_equal(nonce, "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(bare, 3);
	const char *bad[] = { "p=tls-unique,,n=u,r=x", "n,,n=,r=x",
	    "n,,n=u", "n,,n=u,r=", "n,,r=x,n=u", "n,x,n=u,r=x", "n,,n=a=2,r=x",
	    "n,,n=a=41,r=x", "x,,n=u,r=x", "n,,m=1,n=u,r=x", "", "n",
	    "n,,n=u,r=a\tb" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(sasl_scram_parse_client_first(bad[i],
		    strlen(bad[i]), user, sizeof(user), nonce, sizeof(nonce),
		    &bare));
	assert_true(sasl_scram_parse_client_first("y,a=admin,n=a=3Db,r=q",
	    21, user, sizeof(user), nonce, sizeof(nonce), &bare));
	assert_string_equal(user, "a=b");
	assert_int_equal(bare, 10);

	/* the whole server side of the RFC 7677 example */
	unsigned char salt[16], sp[32], stored[32], server[32], proof[32];
	unsigned char sig[32];
	assert_int_equal(b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt,
	    sizeof(salt)), 16);
	assert_true(sasl_scram_salted("pencil", 6, salt, 16, 4096, sp));
	assert_true(sasl_scram_keys(sp, stored, server));
	const char *cb, *nn;
	size_t cbl, nl, wl;
	assert_true(sasl_scram_parse_client_final(r7677_final,
	    strlen(r7677_final), &cb, &cbl, &nn, &nl, &wl, proof));
	assert_int_equal(cbl, 4);
	assert_memory_equal(cb, "biws", 4);
	assert_int_equal(nl, strlen(r7677_sfirst + 2) - strlen(",s=W22ZaJ0"
	    "SNY7soEsUEjb6gQ==,i=4096"));
	char auth[512];
	int al = snprintf(auth, sizeof(auth), "%s,%s,%.*s", r7677_first + 3,
	    r7677_sfirst, (int)wl, r7677_final);
	assert_true(sasl_scram_check_proof(stored, server, auth, (size_t)al,
	    proof, sig));
	char s64[64];
	b64_encode(sig, 32, s64, sizeof(s64));
	assert_string_equal(s64, r7677_sfinal + 2);
	proof[0] ^= 1;
	assert_false(sasl_scram_check_proof(stored, server, auth, (size_t)al,
	    proof, sig));
	const char *badf[] = { "c=biws,r=x", "c=biws,r=x,p=AAAA", "r=x,p=a",
	    "c=,r=x,p=" , "c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="};
	for (size_t i = 0; i < sizeof(badf) / sizeof(badf[0]); i++)
		assert_false(sasl_scram_parse_client_final(badf[i],
		    strlen(badf[i]), &cb, &cbl, &nn, &nl, &wl, proof));
	char hex[33];
	assert_true(sasl_cram_digest("tanstaaftanstaaf", 16,
	    "<1896.697170952@postoffice.reston.mci.net>", 42, hex));
	assert_string_equal(hex, "b913a602c7eda7a495b4e6e7334d3890");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_cram),
		cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_scram_refusals),
		cmocka_unit_test(test_oauth),
		cmocka_unit_test(test_server_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
