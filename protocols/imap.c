/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap.c: IMAP as a table for the line engine.
 *
 * RFC 3501 / RFC 9051 (IMAP4rev1 / rev2; 2.2 tagged, untagged and
 * continuation responses, 4.3 literals, 6.2.1 STARTTLS), RFC 7888
 * (LITERAL+ / LITERAL-: "{n+}"), RFC 3516 (binary literals "~{n}"),
 * RFC 4959 (SASL-IR), RFC 8314 (implicit TLS on 993).
 */
#include "pp.h"
#include "i18n.h"
#include "imap_parse.h"
#include "util.h"

#include <string.h>
#include <strings.h>

/* 2143 and 2993: the mailsh lab's default ports */
static const int imap_ports[] = { 143, 2143, 0 };
static const int imap_tls_ports[] = { 993, 2993, 0 };

static const char *const imap_verbs[] = {
#define IMAP_CMD(name, args, cap) name,
#include "commands.def"
#undef IMAP_CMD
	NULL,
};
static const struct pp_cmd imap_cmds[] = {
#define IMAP_CMD(name, args, cap) { name, args, cap },
#include "commands.def"
#undef IMAP_CMD
	{ NULL, NULL, NULL },
};

static enum pp_status
status_word(const char *s, size_t n)
{
	if (word_is(s, n, "OK") || word_is(s, n, "PREAUTH"))
		return PP_S_POS;
	if (word_is(s, n, "NO") || word_is(s, n, "BAD") ||
	    word_is(s, n, "BYE"))
		return PP_S_NEG;
	return PP_S_NONE;
}

/* A new response starts: untagged "*", continuation "+", or a tag. */
static void
start_response(struct pp *pp, const char *s, size_t n)
{
	struct pp_pstate *ps = &pp->ps;
	size_t rest;
	const char *w = next_word(s, n, &rest);
	ps->resp_tag[0] = '\0';
	ps->resp_status = PP_S_NONE;
	ps->resp_bad = word_is(w, rest, "BAD");
	ps->resp_bye = word_is(w, rest, "BYE");
	if (n >= 1 && s[0] == '*' && (n == 1 || s[1] == ' ')) {
		ps->resp_kind = PP_R_UNTAGGED;
		ps->resp_status = status_word(w, rest);
		if (word_is(w, rest, "BYE"))
			pp->bye_seen = true;
	} else if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' ')) {
		ps->resp_kind = PP_R_CONT;
	} else {
		size_t tl = (size_t)(w - s);
		while (tl > 0 && s[tl - 1] == ' ')
			tl--;
		ps->resp_status = status_word(w, rest);
		if (tl == 0 || tl >= PP_TAG_MAX || rest == 0 ||
		    ps->resp_status == PP_S_NONE) {
			ps->resp_kind = PP_R_BAD;
			return;
		}
		ps->resp_kind = PP_R_STATUS;
		memcpy(ps->resp_tag, s, tl);
		ps->resp_tag[tl] = '\0';
	}
}

static void
imap_recv(struct pp *pp, const char *s, size_t n, struct pp_rline *rl)
{
	struct pp_pstate *ps = &pp->ps;
	if (!ps->in_resp)
		start_response(pp, s, n);
	rl->kind = ps->resp_kind;
	rl->status = ps->resp_status;
	rl->bad = ps->resp_bad;
	rl->bye = ps->resp_bye;
	rl->tag = ps->resp_tag[0] ? ps->resp_tag : NULL;
	bool sync;
	/* Fix: a truncated line is only the first PP_IN_CAP bytes of a
	 * longer one; a "{n}" there is not at the line's end and announces
	 * no literal (it would eat n octets of the next line). */
	if (rl->kind != PP_R_CONT && !rl->truncated &&
	    pp_line_has_literal(s, n, &rl->literal, &sync)) {
		ps->in_resp = true;	/* the response goes on after it */
		return;
	}
	ps->in_resp = false;
	switch (rl->kind) {
	case PP_R_STATUS:
		rl->last = true;
		ps->client_literal = 0;
		if (pp->starttls && strcasecmp(ps->resp_tag, pp->tag) == 0)
			rl->upgrade = rl->status == PP_S_POS ? 1 : -1;
		pp->sasl = false;
		break;
	case PP_R_CONT:
		rl->last = true;
		break;
	case PP_R_UNTAGGED:
		rl->last = !pp->greeted;	/* the greeting is untagged */
		if (pp->greeted && ps->resp_bad)
			for (unsigned i = 0; i < pp->qn; i++)
				if (pp->q[i] & PP_Q_NOTAG)
					rl->last = true;
		break;
	default:
		rl->last = !pp->greeted;
		break;
	}
}

/* Is the word at s (up to a space) an IMAP command name? */
bool
imap_is_verb(const char *s, size_t n)
{
	for (const char *const *v = imap_verbs; *v; v++)
		if (word_is(s, n, *v))
			return true;
	return false;
}

/* Words 1 and 2 of a command: tag and verb, skipping "UID". */
static void
imap_command(struct pp *pp, const char *s, size_t n, struct pp_sinfo *si)
{
	size_t rest, trest;
	const char *verb = next_word(s, n, &rest);
	const char *args = next_word(verb, rest, &trest);
	size_t taglen = (size_t)(verb - s);
	while (taglen > 0 && s[taglen - 1] == ' ')
		taglen--;
	if (rest == 0) {
		/* one word: the server finds no tag to answer with, only
		 * an untagged BAD can come */
		si->notag = si->sync = true;
	}
	if (word_is(verb, rest, "LOGIN") || word_is(verb, rest, "LOGOUT") ||
	    word_is(verb, rest, "IDLE") || word_is(verb, rest, "SELECT") ||
	    word_is(verb, rest, "EXAMINE") || word_is(verb, rest, "CLOSE") ||
	    word_is(verb, rest, "UNSELECT") || word_is(verb, rest, "ENABLE") ||
	    word_is(verb, rest, "COMPRESS"))
		si->sync = true;	/* they change the state (RFC 3501 5.5) */
	if (word_is(verb, rest, "STARTTLS")) {
		si->starttls = true;
		si->alone = true;
		if (taglen >= PP_TAG_MAX)
			taglen = PP_TAG_MAX - 1;
		memcpy(pp->tag, s, taglen);
		pp->tag[taglen] = '\0';
	} else if (word_is(verb, rest, "LOGIN")) {
		/* keep "tag LOGIN user ", hide the password (RFC 3501
		 * 6.2.3: two astrings, the user may be a quoted string
		 * with spaces); a user name as a literal may be followed
		 * by the password, and an unclosed quote swallows it:
		 * hide all */
		bool open;
		size_t ul = imap_astring_len(args, trest, &open);
		const char *pass = args + ul;
		while (pass < s + n && *pass == ' ')
			pass++;
		size_t prest = (size_t)(s + n - pass);
		if (trest > 0 && (args[0] == '{' || open)) {
			si->secret = true;
			si->keep = (size_t)(args - s);
			si->cred = PP_CRED_CLEAR;
			pp->ps.secret_literal = args[0] == '{';
		} else if (prest > 0) {
			si->secret = true;
			si->keep = (size_t)(pass - s);
			si->cred = PP_CRED_CLEAR;
			pp->ps.secret_literal = true;
		}
		/* "tag LOGIN user" without a password: nothing secret */
	} else if (word_is(s, n, "LOGIN") && trest > 0 &&
	    !imap_is_verb(verb, rest)) {
		/* "login alice secret" typed without a tag: the server
		 * reads "login" as the tag, but the password leaves all
		 * the same */
		si->secret = true;
		si->keep = (size_t)(args - s);
		si->cred = PP_CRED_CLEAR;
	} else if (word_is(verb, rest, "AUTHENTICATE")) {
		size_t irest;
		const char *ir = next_word(args, trest, &irest);
		pp->sasl = true;
		si->alone = si->sync = true;
		if (irest > 0) {
			si->secret = true;
			si->keep = (size_t)(ir - s);
			si->cred = PP_CRED_SASL;
		}
	} else if (word_is(verb, rest, "LOGOUT")) {
		si->quit = true;
	}
}

/* A command line, or its continuation after a literal: a literal at its
 * end means more is to come; "{n}" waits for the server's "+". */
static void
command_tail(struct pp *pp, const char *s, size_t n, struct pp_sinfo *si)
{
	uint64_t oct;
	bool sync;
	if (pp_line_has_literal(s, n, &oct, &sync)) {
		pp->ps.client_literal = oct;
		pp->ps.literal_sync = sync;
		si->expect_reply = sync;
		si->sync = sync;	/* the octets wait for the "+" */
		si->data = !sync;
		if (oct == 0 && !sync)
			si->expect_reply = false;
	} else {
		pp->ps.secret_literal = false;
	}
}

static void
imap_send(struct pp *pp, const char *s, size_t n, struct pp_sinfo *si)
{
	struct pp_pstate *ps = &pp->ps;
	if (ps->client_literal > 0) {
		/* literal octets the user types, CRLF included */
		si->data = true;
		si->secret = ps->secret_literal;
		si->keep = 0;
		si->cred = ps->secret_literal ? PP_CRED_CLEAR : PP_CRED_NONE;
		if ((uint64_t)n + 2 <= ps->client_literal) {
			ps->client_literal -= (uint64_t)n + 2;
			si->expect_reply = false;
			return;
		}
		size_t used = ps->client_literal < n ?
		    (size_t)ps->client_literal : n;
		ps->client_literal = 0;
		si->data = false;
		si->expect_reply = true;
		command_tail(pp, s + used, n - used, si);
		return;
	}
	if (pp->sasl && pp->challenged) {	/* answer to a challenge */
		pp_sasl_answer(s, n, si);
		return;
	}
	ps->secret_literal = false;
	imap_command(pp, s, n, si);
	command_tail(pp, s, n, si);
}

static bool
imap_is_greeting(const char *s, size_t n)
{
	return word_is(s, n, "* OK") || word_is(s, n, "* PREAUTH") ||
	    word_is(s, n, "* BYE");
}

const struct pp_proto proto_imap = {
	.id = PROTO_IMAP,
	.name = "imap",
	.ports = imap_ports,
	.tls_ports = imap_tls_ports,
	.default_port = 143,
	.default_tls_port = 993,
	.verbs = imap_verbs,
	.cmds = imap_cmds,
	.starttls_verb = "STARTTLS",
	.after_tls = N_("everything learned before TLS is void: ask for "
	    "CAPABILITY again (RFC 3501 6.2.1)"),
	.starttls_again = N_("this connection is already encrypted (TLS): "
	    "the server refuses a second STARTTLS (RFC 9051 6.2.1: BAD after "
	    "a successful TLS negotiation)"),
	.max_reply_lines = 0,
	.recv = imap_recv,
	.send = imap_send,
	.is_greeting = imap_is_greeting,
};
