/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtp.c: SMTP as a table for the line engine.
 *
 * RFC 5321 (SMTP; 4.2 reply syntax, 4.5.2 dot-stuffing), RFC 3207
 * (STARTTLS), RFC 4954 (AUTH, 334 continuations), RFC 6409 (submission),
 * RFC 8314 (implicit TLS on 465).
 */
#include "pp.h"
#include "i18n.h"
#include "util.h"

#include <string.h>

/* 2525, 2587, 2465: the mailsh lab's default ports */
static const int smtp_ports[] = { 25, 587, 2525, 2587, 0 };
static const int smtp_tls_ports[] = { 465, 2465, 0 };

static const char *const smtp_verbs[] = {
#define SMTP_CMD(name, args, cap) name,
#include "commands.def"
#undef SMTP_CMD
	NULL,
};
static const struct pp_cmd smtp_cmds[] = {
#define SMTP_CMD(name, args, cap) { name, args, cap },
#include "commands.def"
#undef SMTP_CMD
	{ NULL, NULL, NULL },
};

static bool
is_code(const char *s, size_t n)
{
	return n >= 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' &&
	    s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

/* An enhanced status code (RFC 3463 2: class "." subject "." detail,
 * 1-3 digits each, class 2, 4 or 5) at the start of the text, followed
 * by a space or the end, into esc; else esc = "". */
static void
smtp_esc(const char *s, size_t n, char *esc, size_t cap)
{
	size_t i = 0;
	int dots = 0, digits = 0;
	esc[0] = '\0';
	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return;
	for (; i < n && s[i] != ' '; i++) {
		if (s[i] >= '0' && s[i] <= '9' && digits < 3)
			digits++;
		else if (s[i] == '.' && digits > 0 && dots < 2)
			dots++, digits = 0;
		else
			return;
	}
	if (dots != 2 || digits == 0 || i >= cap)
		return;
	memcpy(esc, s, i);
	esc[i] = '\0';
}

/* Reply line: three digits, then SP (last line), '-' (more follow) or
 * nothing (RFC 5321 4.2: "the text is optional"). */
static void
smtp_recv(struct pp *pp, const char *s, size_t n, struct pp_rline *rl)
{
	if (!is_code(s, n) || (n > 3 && s[3] != ' ' && s[3] != '-')) {
		rl->kind = PP_R_BAD;
		return;
	}
	rl->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	rl->kind = rl->code == 334 ? PP_R_CONT : PP_R_STATUS;
	rl->status = s[0] <= '3' ? PP_S_POS : PP_S_NEG;
	rl->last = n == 3 || s[3] == ' ';
	smtp_esc(s + 4, n > 4 ? n - 4 : 0, rl->esc, sizeof(rl->esc));
	if (!rl->last)
		return;
	if (rl->code == 221)	/* closing transmission channel */
		pp->bye_seen = true;
	if (pp->starttls && rl->code == 221)
		pp->starttls = false;	/* a close, not a refusal */
	else if (pp->starttls)
		rl->upgrade = rl->code == 220 ? 1 : -1;
	if (pp->ps.client_literal > 0)	/* a BDAT refused mid-chunk */
		pp->ps.client_literal = 0;
	if (pp->ps.data_sent) {
		pp->ps.data_sent = false;
		pp->in_data = rl->code == 354;
	}
	if (pp->sasl && rl->code != 334)
		pp->sasl = false;
}

static void
smtp_send(struct pp *pp, const char *s, size_t n, struct pp_sinfo *si)
{
	if (pp->ps.client_literal > 0) {	/* BDAT chunk octets */
		si->data = true;
		si->expect_reply = false;
		pp->ps.client_literal -= (uint64_t)n + 2 <
		    pp->ps.client_literal ? (uint64_t)n + 2 :
		    pp->ps.client_literal;
		if (pp->ps.client_literal == 0) {
			si->expect_reply = true;	/* the chunk's reply */
			si->sync = true;
		}
		return;
	}
	if (pp->in_data) {
		if (n == 1 && s[0] == '.') {
			pp->in_data = false;	/* end of message text */
			si->sync = true;
			return;
		}
		si->expect_reply = false;
		si->data = true;
		si->stuff = n > 0 && s[0] == '.';
		return;
	}
	if (pp->sasl && pp->challenged) {	/* answer to a challenge */
		pp_sasl_answer(s, n, si);
		return;
	}
	/* RFC 2920 3.1: these end a group; their reply changes what may
	 * follow */
	static const char *const group_end[] = { "EHLO", "HELO", "LHLO",
	    "VRFY", "EXPN", "TURN", "NOOP", "ETRN", NULL };
	for (const char *const *g = group_end; *g; g++)
		if (word_is(s, n, *g))
			si->sync = true;
	if (word_is(s, n, "STARTTLS")) {
		si->starttls = true;
		si->alone = true;
	} else if (word_is(s, n, "DATA")) {
		si->opens_data = true;
	} else if (word_is(s, n, "BDAT")) {
		/* RFC 3030 2: exactly n octets follow the line; the reply
		 * comes after them */
		size_t rest;
		const char *num = next_word(s, n, &rest);
		uint64_t v = 0;
		size_t k = 0;
		while (k < rest && k < 19 && num[k] >= '0' && num[k] <= '9')
			v = v * 10 + (uint64_t)(num[k++] - '0');
		if (k > 0 && (k == rest || num[k] == ' ') && v > 0) {
			pp->ps.client_literal = v;
			si->expect_reply = false;
		}
		si->sync = true;
	} else if (word_is(s, n, "AUTH")) {
		si->alone = si->sync = true;
		size_t rest;
		const char *mech = next_word(s, n, &rest);
		const char *ir = next_word(mech, rest, &rest);
		pp->sasl = true;
		if (rest > 0) {		/* initial response */
			si->secret = true;
			si->keep = (size_t)(ir - s);
			si->cred = PP_CRED_SASL;
		}
	} else if (word_is(s, n, "QUIT")) {
		si->quit = true;
	}
}

static bool
smtp_is_greeting(const char *s, size_t n)
{
	return n >= 3 && (memcmp(s, "220", 3) == 0 ||
	    memcmp(s, "554", 3) == 0) && (n == 3 || s[3] == ' ' ||
	    s[3] == '-');
}

const struct pp_proto proto_smtp = {
	.id = PROTO_SMTP,
	.name = "smtp",
	.ports = smtp_ports,
	.tls_ports = smtp_tls_ports,
	.default_port = 25,
	.default_tls_port = 465,
	.verbs = smtp_verbs,
	.cmds = smtp_cmds,
	.starttls_verb = "STARTTLS",
	.after_tls = N_("everything learned before TLS is void: send EHLO "
	    "again (RFC 3207 4.2)"),
	.starttls_again = N_("this connection is already encrypted (TLS): "
	    "the server refuses a second STARTTLS; once TLS is up it no "
	    "longer offers STARTTLS (RFC 3207 4.2)"),
	.max_reply_lines = PP_SMTP_LINES_MAX,
	.recv = smtp_recv,
	.send = smtp_send,
	.is_greeting = smtp_is_greeting,
};
