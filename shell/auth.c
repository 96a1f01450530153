/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * auth.c: /auth MECH [USER [SECRET]]: runs a whole SASL exchange that
 * protocols/sasl.c computes, in the protocol connected to:
 *
 *   SMTP  AUTH MECH [initial-response]        RFC 4954 4 (334 challenges)
 *   POP3  AUTH MECH [initial-response]        RFC 5034 4 ("+" challenges;
 *                                             the initial response only
 *                                             while the line stays within
 *                                             255 octets)
 *   IMAP  tag AUTHENTICATE MECH [initial-r.]  RFC 3501 6.2.2, the initial
 *                                             response only with SASL-IR
 *                                             (RFC 4959)
 *
 * An empty initial response is sent as "=" (RFC 4954 4, RFC 5034 4,
 * RFC 4959 3); "*" cancels an exchange.  Every line goes through the
 * engine (pp_send), which masks what the protocol file calls secret: the
 * initial response and every answer to a challenge.  What the answers
 * say, decoded, is shown here with the secret replaced by ********: the
 * CRAM-MD5 digest and the SCRAM proof are shown (neither is the
 * password), the password and the token never.
 */
#include "shell.h"
#include "lineedit.h"
#include "output.h"
#include "../protocols/i18n.h"
#include "../protocols/sasl.h"
#include "../protocols/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_ROUNDS_MAX	8	/* challenges answered in one exchange */
#define POP3_LINE_MAX	255	/* RFC 5034 4: AUTH line with its IR and
				 * CRLF */

/* The list of mechanisms for messages ("PLAIN, LOGIN, ..."). */
static void
mech_list(char *buf, size_t cap)
{
	struct sbuf sb;
	sbuf_init(&sb, buf, cap);
	for (int i = 0; i < SASL_M_COUNT; i++)
		sbuf_printf(&sb, "%s%s", i ? ", " : "",
		    sasl_mech_name((enum sasl_mech)i));
}

/* Is the password or token at msg[i]: where the mechanisms put it (the
 * whole LOGIN answer, after PLAIN's second NUL, after "Bearer ")?
 * CRAM-MD5 and SCRAM never send it: a match in a nonce is chance. */
static bool
secret_at(const char *msg, size_t n, size_t i, const char *secret,
    size_t sl)
{
	if (sl == 0 || n - i < sl || memcmp(msg + i, secret, sl) != 0)
		return false;
	return (i == 0 && sl == n) || (i > 0 && msg[i - 1] == '\0' &&
	    i + sl == n) || (i >= 7 && memcmp(msg + i - 7, "Bearer ", 7) ==
	    0);
}

/* Shows a message of the exchange, decoded, with the secret masked:
 * what goes on the wire is masked whole by the engine. */
static void
show_answer(const struct sasl_client *c, const char *msg, size_t n)
{
	char masked[SASL_MSG_MAX + 16], shown[4 * sizeof(masked)];
	size_t sl = strlen(c->secret), k = 0;
	for (size_t i = 0; i < n && k + 9 < sizeof(masked);) {
		if (secret_at(msg, n, i, c->secret, sl)) {
			memcpy(masked + k, "********", 8);
			k += 8;
			i += sl;
		} else {
			masked[k++] = msg[i++];
		}
	}
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, masked, k);
	explicit_bzero(masked, sizeof(masked));
	if (n == 0)
		out_say(PP_EV_NOTE, _("%s answer: empty"),
		    sasl_mech_name(c->mech));
	else
		out_say(PP_EV_NOTE, _("%s answer (before base64): %s"),
		    sasl_mech_name(c->mech), shown);
}

/* Was the mechanism offered?  Unknown capabilities: yes. */
static bool
mech_offered(const struct shell *sh, const char *name)
{
	if (!sh->ann.have_caps)
		return true;
	char cap[64];
	snprintf(cap, sizeof(cap), "%s%s", sh->pp.proto->id == PROTO_POP3 ?
	    "SASL:" : "AUTH=", name);
	return ann_caps_has(&sh->ann.caps, cap);
}

/* Sends one line through the engine (masked there as the protocol
 * says); false if it did not go out. */
static bool
auth_send(struct shell *sh, const char *line)
{
	struct pp_sinfo si;
	enum ms_err r = shell_send(sh, line, strlen(line), &si);
	return r == MS_OK && si.expect_reply;
}

/* The base64 of a challenge line: after "334 " (SMTP) or "+ ". */
static const char *
challenge_b64(const struct shell *sh, size_t *n)
{
	const char *s = sh->cont;
	size_t l = sh->cont_len;
	size_t skip = sh->pp.proto->id == PROTO_SMTP ? 3 : 1;
	if (l < skip) {
		*n = 0;
		return s;
	}
	s += skip, l -= skip;
	if (l > 0 && *s == ' ')
		s++, l--;
	while (l > 0 && s[l - 1] == ' ')	/* trailing blanks */
		l--;
	*n = l;
	return s;
}

/* The facts a SCRAM server-first message gave, in words. */
static void
scram_facts(const struct sasl_client *c)
{
	out_say(PP_EV_EXPLAIN, ngettext("SCRAM: the server's nonce extends "
	    "ours, salt of %zu byte, %lu PBKDF2-HMAC-SHA-256 iterations; the "
	    "answer proves the password without sending it (RFC 5802 3)",
	    "SCRAM: the server's nonce extends ours, salt of %zu bytes, %lu "
	    "PBKDF2-HMAC-SHA-256 iterations; the answer proves the password "
	    "without sending it (RFC 5802 3)", c->salt_len), c->salt_len,
	    c->iterations);
	if (c->iter_low)
		out_say(PP_EV_WARN, _("fewer than 4096 iterations: for "
		    "SCRAM-SHA-256 the count SHOULD be at least 4096 (RFC "
		    "7677 3); fewer make it faster to guess the password from "
		    "what the server stores"));
}

enum meta_result
meta_auth(struct shell *sh, int argc, char **argv, const char *rest)
{
	(void)rest;
	char names[128];
	mech_list(names, sizeof(names));
	if (argc < 2 || argc > 4) {
		out_say(PP_EV_ERROR, _("usage: /auth MECHANISM [USER [PASSWORD|"
		    "TOKEN]]  (mechanisms: %s)"), names);
		return META_FAIL;
	}
	enum sasl_mech mech = sasl_mech_by_name(argv[1]);
	if (mech == SASL_M_NONE) {
		out_say(PP_EV_ERROR, _("mailsh cannot compute %s: it knows %s "
		    "(other mechanisms by hand: AUTH %s, then /b64 and /unb64)"),
		    argv[1], names, argv[1]);
		return META_FAIL;
	}
	struct pp *pp = &sh->pp;
	if (!pp_connected(pp)) {
		out_say(PP_EV_ERROR, _("not connected: use /open HOST [PORT] "
		    "first"));
		return META_FAIL;
	}
	if (!pp->proto) {
		out_say(PP_EV_ERROR, _("the protocol is not known yet: say it "
		    "with /proto smtp|pop3|imap"));
		return META_FAIL;
	}
	if (pp->in_data || pp->ps.client_literal > 0 || pp->sasl) {
		out_say(PP_EV_ERROR, _("not now: message text or another "
		    "exchange is under way"));
		return META_FAIL;
	}
	bool token = sasl_mech_token(mech);
	static struct sasl_client c;	/* large; wiped after use */
	memset(&c, 0, sizeof(c));
	c.mech = mech;
	enum meta_result result = META_FAIL;
	char b64[SASL_MSG_MAX * 4 / 3 + 8], line[sizeof(b64) + 64];
	char msg[SASL_MSG_MAX], chal[SASL_MSG_MAX];
	size_t ml = 0;
	bool cancelled = false;

	if (argc >= 3) {
		snprintf(c.user, sizeof(c.user), "%s", argv[2]);
	} else if (!sh->interactive) {
		out_say(PP_EV_ERROR, token ? _("in a script, give the user "
		    "and the token: /auth MECHANISM USER TOKEN") : _("in a "
		    "script, give the user and the password: /auth MECHANISM "
		    "USER PASSWORD"));
		goto out;
	} else {
		char *u = readline(_("user: "));
		if (!u)
			goto out;
		snprintf(c.user, sizeof(c.user), "%s", u);
		free(u);
	}
	if (argc == 4) {
		snprintf(c.secret, sizeof(c.secret), "%s", argv[3]);
	} else if (!sh->interactive || !repl_read_secret(sh, token
	    ? _("token (not shown): ") : _("password (not shown): "),
	    c.secret, sizeof(c.secret))) {
		out_say(PP_EV_ERROR, !sh->interactive ? (token ? _("in a "
		    "script, give the token: /auth MECHANISM USER TOKEN")
		    : _("in a script, give the password: /auth MECHANISM "
		    "USER PASSWORD")) : token ? _("no token read")
		    : _("no password read"));
		goto out;
	}
	if (mech == SASL_M_OAUTHBEARER) {
		snprintf(c.host, sizeof(c.host), "%s", pp->conn.host);
		snprintf(c.port, sizeof(c.port), "%s", pp->conn.port);
	}
	if (!mech_offered(sh, sasl_mech_name(mech)))
		out_say(PP_EV_WARN, _("the server does not offer %s: trying "
		    "it all the same"), sasl_mech_name(mech));

	enum sasl_err e = sasl_client_start(&c, msg, sizeof(msg), &ml);
	if (e != SASL_E_OK) {
		out_say(PP_EV_ERROR, "%s", _(sasl_err_text(e)));
		goto out;
	}
	enum pp_proto_id proto = pp->proto->id;
	bool ir = sasl_mech_client_first(mech);
	if (ml == 0)
		snprintf(b64, sizeof(b64), "=");	/* empty response */
	else if (b64_encode(msg, ml, b64, sizeof(b64)) < 0)
		ir = false;
	if (ir && proto == PROTO_IMAP && !(sh->ann.have_caps &&
	    ann_caps_has(&sh->ann.caps, "SASL-IR"))) {
		ir = false;
		out_say(PP_EV_NOTE, _("the server does not announce SASL-IR: "
		    "the first message waits for its \"+\" (RFC 4959)"));
	}
	if (ir && proto == PROTO_POP3 && strlen("AUTH ") +
	    strlen(sasl_mech_name(mech)) + 1 + strlen(b64) + 2 >
	    POP3_LINE_MAX) {	/* + CRLF */
		ir = false;
		out_say(PP_EV_NOTE, _("the initial response would make the "
		    "AUTH line longer than 255 octets: it waits for the "
		    "server's \"+\" (RFC 5034 4)"));
	}
	if (proto == PROTO_IMAP)
		snprintf(line, sizeof(line), "a%u AUTHENTICATE %s%s%s",
		    ++sh->tagno, sasl_mech_name(mech), ir ? " " : "",
		    ir ? b64 : "");
	else
		snprintf(line, sizeof(line), "AUTH %s%s%s",
		    sasl_mech_name(mech), ir ? " " : "", ir ? b64 : "");
	if (ir)
		show_answer(&c, msg, ml);
	c.sent_first = ir;
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(b64, sizeof(b64));

	if (pp->awaiting)
		shell_wait_reply(sh);
	sh->ann.sasl_auto = true;
	sh->sent_lineno = sh->lineno;
	bool sent = auth_send(sh, line);
	explicit_bzero(line, sizeof(line));
	if (!sent)
		goto out;
	if (proto == PROTO_SMTP)	/* "logged in as" after the 235 */
		snprintf(sh->ann.auth_try, sizeof(sh->ann.auth_try), "%s",
		    c.user);
	result = META_OK;
	for (unsigned round = 0;; round++) {
		unsigned long seq = sh->reply.seq, cseq = sh->cont_seq;
		out_flush();
		shell_wait_reply(sh);
		if (!pp_connected(pp) || sh->reply.seq == seq)
			break;		/* closed, timed out, interrupted */
		if (sh->cont_seq == cseq) {
			/* the outcome */
			if (sh->reply.negative)
				break;
			if (mech == SASL_M_SCRAM_SHA_256 && !c.verified) {
				out_say(PP_EV_ERROR, _("the server said yes "
				    "without proving that it knows your "
				    "password (no SCRAM signature v=): do "
				    "not trust this session"));
				shell_fail(sh, MS_EREPLY);
				result = META_FAIL;
			}
			break;
		}
		/* a challenge: decode it, answer it */
		size_t cl;
		const char *cb = challenge_b64(sh, &cl);
		long dl = -1;
		if (cancelled) {
			out_say(PP_EV_ERROR, _("the server goes on asking "
			    "after the exchange was cancelled: giving up (type "
			    "* to cancel it by hand)"));
			result = META_FAIL;
			break;
		}
		e = SASL_E_OK;
		if (sh->cont_trunc)
			e = SASL_E_TOO_LONG;
		else if (round >= AUTH_ROUNDS_MAX)
			e = SASL_E_UNEXPECTED;
		else if ((dl = b64_decode(cb, cl, chal, sizeof(chal))) < 0)
			out_say(PP_EV_ERROR, _("the challenge is not base64"));
		if (dl >= 0 && e == SASL_E_OK)
			e = sasl_client_step(&c, chal, (size_t)dl, msg,
			    sizeof(msg), &ml);
		explicit_bzero(chal, sizeof(chal));
		if (dl < 0 || e != SASL_E_OK) {
			if (e != SASL_E_OK)
				out_say(PP_EV_ERROR, "%s",
				    _(sasl_err_text(e)));
			if (e == SASL_E_SCRAM_SIG) {
				shell_fail(sh, MS_EREPLY);
				result = META_FAIL;
			}
			out_say(PP_EV_NOTE, _("cancelling the exchange (*)"));
			cancelled = true;
			if (!auth_send(sh, "*"))
				break;
			continue;
		}
		if (mech == SASL_M_SCRAM_SHA_256 && c.verified)
			out_say(PP_EV_NOTE, _("the server's SCRAM signature "
			    "matches: it knows the key derived from your "
			    "password (RFC 5802 3); an empty answer ends the "
			    "exchange"));
		else if (mech == SASL_M_SCRAM_SHA_256)
			scram_facts(&c);
		if (c.refused)
			out_say(PP_EV_NOTE, mech == SASL_M_OAUTHBEARER
			    ? _("the server refused the token (its reason is "
			    "above); a single ^A ends the exchange (RFC 7628 "
			    "3.2.3)") : _("the server refused the token (its "
			    "reason is above); an empty answer ends the "
			    "exchange"));
		else if (!(mech == SASL_M_SCRAM_SHA_256 && c.verified))
			show_answer(&c, msg, ml);
		if (b64_encode(msg, ml, b64, sizeof(b64)) < 0)
			b64[0] = '\0';
		explicit_bzero(msg, sizeof(msg));
		bool ok = auth_send(sh, b64);
		explicit_bzero(b64, sizeof(b64));
		if (!ok)
			break;
	}
out:
	sh->ann.sasl_auto = false;
	sasl_client_wipe(&c);
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(chal, sizeof(chal));
	return result;
}
