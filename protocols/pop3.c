/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pop3.c: POP3 as a table for the line engine.
 *
 * RFC 1939 (POP3; 3: multi-line responses and byte-stuffing), RFC 2449
 * (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH, "+ " continuations),
 * RFC 8314 (implicit TLS on 995).
 */
#include "pp.h"
#include "i18n.h"
#include "util.h"

#include <string.h>
#include <strings.h>

/* 2110 and 2995: the mailsh lab's default ports */
static const int pop3_ports[] = { 110, 2110, 0 };
static const int pop3_tls_ports[] = { 995, 2995, 0 };

static const char *const pop3_verbs[] = {
#define POP3_CMD(name, args, cap) name,
#include "commands.def"
#undef POP3_CMD
	NULL,
};
static const struct pp_cmd pop3_cmds[] = {
#define POP3_CMD(name, args, cap) { name, args, cap },
#include "commands.def"
#undef POP3_CMD
	{ NULL, NULL, NULL },
};

static bool
is_status(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);
	return n >= wl && strncasecmp(s, word, wl) == 0 &&
	    (n == wl || s[wl] == ' ');
}

static void
pop3_recv(struct pp *pp, const char *s, size_t n, struct pp_rline *rl)
{
	struct pp_pstate *ps = &pp->ps;
	if (ps->in_multi) {
		rl->kind = PP_R_DATA;
		if (n == 1 && s[0] == '.') {	/* end of the body */
			ps->in_multi = false;
			rl->last = true;
		} else if (n >= 2 && s[0] == '.') {
			rl->unstuffed = true;
		}
		return;
	}
	if (is_status(s, n, "+OK")) {
		rl->kind = PP_R_STATUS;
		rl->status = PP_S_POS;
		if (ps->expect_multi)
			ps->in_multi = true;
		else
			rl->last = true;
	} else if (is_status(s, n, "-ERR")) {
		rl->kind = PP_R_STATUS;
		rl->status = PP_S_NEG;
		rl->last = true;
	} else if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' ')) {
		rl->kind = PP_R_CONT;	/* SASL challenge */
		rl->last = true;
	} else {
		rl->kind = PP_R_BAD;
		return;
	}
	ps->expect_multi = false;
	if (!rl->last)
		return;
	if (pp->starttls)
		rl->upgrade = rl->status == PP_S_POS ? 1 : -1;
	if (pp->sasl && rl->kind != PP_R_CONT)
		pp->sasl = false;
}

static void
pop3_send(struct pp *pp, const char *s, size_t n, struct pp_sinfo *si)
{
	size_t rest;
	const char *arg = next_word(s, n, &rest);
	if (pp->sasl && pp->challenged) {	/* answer to a challenge */
		pp_sasl_answer(s, n, si);
		return;
	}
	if (word_is(s, n, "STLS")) {
		si->starttls = true;
		si->alone = true;
	} else if (word_is(s, n, "CAPA") || word_is(s, n, "RETR") ||
	    word_is(s, n, "TOP")) {
		si->multi = true;
		si->sync = word_is(s, n, "CAPA");
	} else if (word_is(s, n, "LIST") || word_is(s, n, "UIDL")) {
		si->multi = rest == 0;	/* all messages */
	} else if (word_is(s, n, "PASS")) {
		si->sync = true;
		si->secret = true;
		si->keep = (size_t)(arg - s);
		si->cred = PP_CRED_CLEAR;
	} else if (word_is(s, n, "APOP")) {
		const char *digest = next_word(arg, rest, &rest);
		si->sync = true;
		si->secret = true;
		si->keep = (size_t)(digest - s);
		si->cred = PP_CRED_DIGEST;
	} else if (word_is(s, n, "AUTH")) {
		if (rest == 0) {	/* list of mechanisms */
			si->multi = true;
			return;
		}
		const char *ir = next_word(arg, rest, &rest);
		pp->sasl = true;
		si->alone = si->sync = true;
		if (rest > 0) {
			si->secret = true;
			si->keep = (size_t)(ir - s);
			si->cred = PP_CRED_SASL;
		}
	} else if (word_is(s, n, "QUIT")) {
		si->quit = true;
	}
}

static bool
pop3_is_greeting(const char *s, size_t n)
{
	return is_status(s, n, "+OK");
}

const struct pp_proto proto_pop3 = {
	.id = PROTO_POP3,
	.name = "pop3",
	.ports = pop3_ports,
	.tls_ports = pop3_tls_ports,
	.default_port = 110,
	.default_tls_port = 995,
	.verbs = pop3_verbs,
	.cmds = pop3_cmds,
	.starttls_verb = "STLS",
	.after_tls = N_("everything learned before TLS is void: send CAPA "
	    "again (RFC 2595 4)"),
	.starttls_again = N_("this connection is already encrypted (TLS): "
	    "the server refuses a second STLS (RFC 2595 4: -ERR when a "
	    "security layer is already active)"),
	.max_reply_lines = 0,
	.recv = pop3_recv,
	.send = pop3_send,
	.is_greeting = pop3_is_greeting,
};
