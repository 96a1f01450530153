/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtp_annot.c: explains SMTP replies from the tables in
 * smtp_replies.def (RFC 5321 4.2 reply codes), smtp_esc.def (RFC 3463
 * enhanced status codes) and smtp_ehlo.def (EHLO keywords), and watches
 * MAIL FROM, AUTH and the From: header for the spoofing notes.
 */
#include "annotate.h"
#include "i18n.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct reply {
	int code;
	const char *text;
	const char *ref;
} replies[] = {
#define X(code, text, ref) { code, text, ref },
#include "smtp_replies.def"
#undef X
};

/* What a code means as the answer to one command (STARTTLS, ETRN). */
static const struct cmd_reply {
	const char *cmd;
	int code;
	const char *text;
	const char *ref;
} cmd_replies[] = {
#define CMD_REPLY(cmd, code, text, ref) { cmd, code, text, ref },
#include "smtp_replies.def"
#undef CMD_REPLY
};

static const char *const esc_class[10] = {
#define ESC_CLASS(c, text) [c] = text,
#include "smtp_esc.def"
#undef ESC_CLASS
};

static const char *const esc_subject[10] = {
#define ESC_SUBJECT(s, text) [s] = text,
#include "smtp_esc.def"
#undef ESC_SUBJECT
};

static const struct esc_detail {
	int subject, detail;
	const char *text;
	const char *ref;
} esc_details[] = {
#define ESC_DETAIL(s, d, text, ref) { s, d, text, ref },
#include "smtp_esc.def"
#undef ESC_DETAIL
};

static const struct keyword {
	const char *name;
	const char *text;
	const char *ref;
} keywords[] = {
#define X(name, text, ref) { name, text, ref },
#include "smtp_ehlo.def"
#undef X
};

/* What each digit of a reply code means (RFC 5321 4.2.1), as data. */
static const char *const first_digit[6] = {
	[2] = N_("positive completion"),
	[3] = N_("positive intermediate: send more"),
	[4] = N_("transient negative: try again later"),
	[5] = N_("permanent negative: do not repeat it as it is"),
};
static const char *const second_digit[6] = {
	[0] = N_("syntax"), [1] = N_("information"),
	[2] = N_("the connection"), [3] = N_("unspecified"),
	[4] = N_("unspecified"), [5] = N_("the mail system"),
};

/* Greeting text -> software, as data; names are names, only the two
 * descriptions are translated (the catalogue has no entry for the rest,
 * so gettext hands them back as they are). */
static const struct {
	const char *needle;
	const char *name;
} software[] = {
	{ "Postfix", "Postfix" }, { "Exim", "Exim" },
	{ "Sendmail", "Sendmail" }, { "OpenSMTPD", "OpenSMTPD" },
	{ "Microsoft ESMTP MAIL Service", "Microsoft Exchange / IIS" },
	{ "Microsoft", "Microsoft Exchange" }, { "Exchange", "Exchange" },
	{ "mailsh-lab", N_("the mailsh lab") }, { "qmail", "qmail" },
	{ "Haraka", "Haraka" }, { "hMailServer", "hMailServer" },
	{ "MDaemon", "MDaemon" }, { "Zimbra", "Zimbra" },
	{ "Courier", "Courier" }, { "Dovecot", "Dovecot" },
	{ "Cyrus", "Cyrus" }, { "Stalwart", "Stalwart" },
	{ "Mailcow", "mailcow" }, { "Gmail", "Gmail" },
	{ "mx.google.com", "Gmail" }, { "Apache James", "Apache James" },
	{ "smtpd", N_("an smtpd") },
};

const char *
ann_software(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(software) / sizeof(software[0]); i++) {
		size_t nl = strlen(software[i].needle);
		for (size_t k = 0; k + nl <= n; k++)
			if (strncasecmp(s + k, software[i].needle, nl) == 0)
				return _(software[i].name);
	}
	return NULL;
}

static const struct reply *
find_reply(int code)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
		if (replies[i].code == code)
			return &replies[i];
	return NULL;
}

const char *
smtp_esc_detail(int subject, int detail, const char **ref)
{
	for (size_t i = 0; i < sizeof(esc_details) / sizeof(esc_details[0]);
	    i++)
		if (esc_details[i].subject == subject &&
		    esc_details[i].detail == detail) {
			if (ref)
				*ref = esc_details[i].ref;
			return esc_details[i].text;
		}
	return NULL;
}

static const struct cmd_reply *
find_cmd_reply(const char *cmd, int code)
{
	for (size_t i = 0; i < sizeof(cmd_replies) / sizeof(cmd_replies[0]);
	    i++)
		if (cmd_replies[i].code == code &&
		    strcasecmp(cmd_replies[i].cmd, cmd) == 0)
			return &cmd_replies[i];
	return NULL;
}

static void
explain_code(struct ann *a, int code)
{
	const struct cmd_reply *cr = find_cmd_reply(a->last_cmd, code);
	if (cr) {
		char cmd[16];	/* the id names the command in lower case */
		size_t k = 0;
		for (; cr->cmd[k] && k + 1 < sizeof(cmd); k++)
			cmd[k] = (char)tolower((unsigned char)cr->cmd[k]);
		cmd[k] = '\0';
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.reply.%d.%s", code,
		    cmd), "%d: %s (%s)", code, _(cr->text), cr->ref);
		return;
	}
	const struct reply *r = find_reply(code);
	int d1 = code / 100, d2 = code / 10 % 10;
	if (r && a->mode == ANN_FULL)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.reply.%d", code),
		    "%d: %s (%s)", code, _(r->text),
		    r->ref);
	else if (r)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.reply.%d", code),
		    "%d: %s", code, _(r->text));
	if (r && a->mode != ANN_FULL)
		return;
	if (d1 >= 2 && d1 <= 5 && d2 <= 5)
		ann_say(a, PP_EV_EXPLAIN,
		    ann_id(a, "smtp.digits.%d%dx", d1, d2),
		    _("%s%d: %dxx = %s, x%dx = about %s"),
		    r ? "  " : "", code, d1, _(first_digit[d1]), d2,
		    _(second_digit[d2]));
	else
		ann_say(a, PP_EV_EXPLAIN, "smtp.reply.unknown",
		    _("%d: not a reply code of RFC 5321"),
		    code);
}

/* "5.7.1 text": an enhanced status code right after the reply code. */
static void
explain_esc(struct ann *a, const char *s, size_t n)
{
	size_t i = 0;
	int part[3] = { 0 }, p = 0, digits = 0;
	for (; i < n && p < 3; i++) {
		if (isdigit((unsigned char)s[i]) && digits < 3) {
			part[p] = part[p] * 10 + (s[i] - '0');
			digits++;
		} else if (s[i] == '.' && digits > 0 && p < 2) {
			p++;
			digits = 0;
		} else {
			break;
		}
	}
	if (p != 2 || digits == 0 || (i < n && s[i] != ' '))
		return;
	if (part[0] != 2 && part[0] != 4 && part[0] != 5)
		return;
	char code[16];
	snprintf(code, sizeof(code), "%d.%d.%d", part[0], part[1], part[2]);
	if (strcmp(code, a->last_esc) == 0)
		return;
	/* 2.0.0 says no more than the reply code did */
	if (a->mode != ANN_FULL && part[0] == 2 && part[1] == 0 &&
	    part[2] == 0)
		return;
	snprintf(a->last_esc, sizeof(a->last_esc), "%s", code);
	const char *ref = NULL;
	const char *d = part[1] <= 7 ? smtp_esc_detail(part[1], part[2], &ref)
	    : NULL;
	const char *subj = part[1] <= 7 ? esc_subject[part[1]] : NULL;
	if (d)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.esc.%s", code),
		    "%s: %s", code, _(d));
	else
		ann_say(a, PP_EV_EXPLAIN, "smtp.esc.unknown",
		    _("%s: not in the registry; "
		    "subject %d is %s"), code, part[1], subj ?
		    pgettext_expr("enhanced status code subject", subj) :
		    _("unknown"));
	if (a->mode == ANN_FULL)
		ann_say(a, PP_EV_EXPLAIN,
		    ann_id(a, "smtp.esc-class.%d.%d", part[0], part[1]),
		    _("  %d.x.x = %s; x.%d.x = %s%s%s"),
		    part[0], _(esc_class[part[0]]), part[1],
		    subj ? pgettext_expr("enhanced status code subject",
		    subj) : _("unknown"), ref ? "; " : "",
		    ref ? ref : "");
}

static const struct keyword *
find_keyword(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].name) == n &&
		    strncasecmp(keywords[i].name, s, n) == 0)
			return &keywords[i];
	return NULL;
}

/* One EHLO line after the first: a keyword and its parameters. */
static void
explain_keyword(struct ann *a, const char *s, size_t n)
{
	size_t kl = 0;
	while (kl < n && s[kl] != ' ' && s[kl] != '=')
		kl++;
	if (!(kl == 4 && strncasecmp(s, "AUTH", 4) == 0))
		ann_caps_add(a, s, kl);	/* AUTH counts per mechanism */
	const char *params = s + kl;
	size_t pl = n - kl;
	while (pl > 0 && (*params == ' ' || *params == '=')) {
		params++;
		pl--;
	}
	const struct keyword *k = find_keyword(s, kl);
	if (!k) {
		bool priv = kl > 2 && strncasecmp(s, "X-", 2) == 0;
		ann_say(a, PP_EV_EXPLAIN, priv ? "smtp.ext.private" :
		    "smtp.ext.unknown", priv ? _("%.*s: a private extension "
		    "(X- names are not registered)") : _("%.*s: an extension "
		    "not in mailsh's table"), (int)kl, s);
		return;
	}
	if (strcasecmp(k->name, "SIZE") == 0 && pl > 0) {
		unsigned long long v = strtoull(params, NULL, 10);
		if (v == 0)
			ann_say(a, PP_EV_EXPLAIN, "smtp.ext.SIZE",
			    _("SIZE 0: no fixed limit on "
			    "the message size"));
		else {
			char num[NUM_FMT_MAX], mib[NUM_FMT_MAX];
			ann_say(a, PP_EV_EXPLAIN, "smtp.ext.SIZE",
			    /* TRANSLATORS: SIZE %llu is the keyword as the
			     * server sent it; the second %s the same number
			     * as your language writes it, the third in MiB */
			    ngettext("SIZE %llu: "
			    "messages up to %s byte (%s MiB)", "SIZE %llu: "
			    "messages up to %s bytes (%s MiB)",
			    (unsigned long)v), v,
			    num_fmt(num, sizeof(num), v),
			    num_fmt1(mib, sizeof(mib),
			    (double)v / (1024.0 * 1024.0)));
		}
		return;
	}
	if (a->mode == ANN_FULL && k->ref[0])
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.ext.%s", k->name),
		    "%s: %s (%s)", k->name, _(k->text),
		    k->ref);
	else
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.ext.%s", k->name),
		    "%s: %s", k->name, _(k->text));
	if (strcasecmp(k->name, "AUTH") == 0)
		ann_explain_mechs(a, "AUTH=", params, pl);
}


void
smtp_annotate(struct ann *a, const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	const char *s = ev->text;
	size_t n = ev->len;
	if (a->mode == ANN_OFF)
		goto end;
	if (rl->kind == PP_R_BAD) {
		ann_say(a, PP_EV_WARN, "smtp.bad-line",
		    _("not an SMTP reply line: three digits "
		    "and a space or hyphen expected (RFC 5321 4.2)"));
		return;
	}
	const char *text = n > 4 ? s + 4 : s + n;
	size_t tl = n > 4 ? n - 4 : 0;
	bool first = !a->mid_reply;
	if (first) {
		a->mid_reply = true;
		a->last_esc[0] = '\0';
		a->reply_code = rl->code;
		a->mixed_told = false;
		explain_code(a, rl->code);
		if (rl->greeting) {
			const char *sw = ann_software(text, tl);
			if (sw)
				ann_say(a, PP_EV_EXPLAIN,
				    "smtp.greeting.software", _("the greeting "
				    "names the software: %s"), sw);
		}
		if (strcasecmp(a->last_cmd, "EHLO") == 0 && rl->code == 250)
			ann_caps_begin(a);
		if (rl->code == 354)
			a->in_headers = true;
	} else {
		if (rl->code != a->reply_code && !a->mixed_told) {
			a->mixed_told = true;
			ann_say(a, PP_EV_WARN, "warn.reply-mixed-codes",
			    _("this line has code %d, the "
			    "reply began with %d: all lines of a reply carry "
			    "the same code (RFC 5321 4.2.1)"), rl->code,
			    a->reply_code);
		}
		if (a->collecting)
			explain_keyword(a, text, tl);
	}
	explain_esc(a, text, tl);
	if (rl->code == 334)
		if (!ann_explain_challenge(a, text, tl))
			ann_say(a, PP_EV_EXPLAIN, "sasl.challenge.not-base64",
			    _("the challenge is not "
			    "base64"));
	if (rl->last && rl->code >= 400) {
		char hid[64];
		const char *hint = ann_hint(PROTO_SMTP, "", text, tl, hid,
		    sizeof(hid));
		if (hint)
			ann_say(a, PP_EV_EXPLAIN, ann_id(a, "smtp.%s", hid),
			    "%s", hint);
	}
	if (rl->last && rl->code == 235 && a->auth_try[0])
		ann_say(a, PP_EV_NOTE, "smtp.logged-in", _("logged in as %s"),
		    a->auth_try);
end:
	/* The user an AUTH named counts only once the server said 235
	 * (RFC 4954 6); a 535, a 503 or any other end of the exchange
	 * forgets it. */
	if (rl->last && rl->code != 334 && a->auth_try[0]) {
		if (rl->code == 235)
			memcpy(a->auth_user, a->auth_try,
			    sizeof(a->auth_user));
		a->auth_try[0] = '\0';
	}
	if (rl->last) {
		a->mid_reply = false;
		if (a->collecting && a->mode != ANN_OFF)
			ann_caps_end(a);
		a->collecting = false;
	}
}

/* The address inside <...> of MAIL FROM / a header, lowercased. */
static void
address_of(const char *s, size_t n, char *out, size_t cap)
{
	const char *lt = memchr(s, '<', n);
	const char *start = lt ? lt + 1 : s;
	const char *end = s + n;
	if (lt) {
		const char *gt = memchr(start, '>', (size_t)(end - start));
		if (gt)
			end = gt;
	}
	while (start < end && *start == ' ')
		start++;
	size_t k = 0;
	for (; start < end && *start != ' ' && k + 1 < cap; start++)
		out[k++] = (char)tolower((unsigned char)*start);
	out[k] = '\0';
}

/* The user part of an AUTH PLAIN response: authzid NUL authcid NUL pw */
static void
plain_user(struct ann *a, const char *b64, size_t n)
{
	char raw[600];
	long dl = b64_decode(b64, n, raw, sizeof(raw) - 1);
	if (dl < 0)
		return;
	const char *nul = memchr(raw, '\0', (size_t)dl);
	if (!nul)
		return;
	const char *user = nul + 1;
	const char *nul2 = memchr(user, '\0', (size_t)(raw + dl - user));
	if (!nul2)
		return;
	snprintf(a->auth_try, sizeof(a->auth_try), "%.*s",
	    (int)(nul2 - user), user);
	explicit_bzero(raw, sizeof(raw));
}

static bool
same_address(const char *user, const char *addr)
{
	if (strcasecmp(user, addr) == 0)
		return true;
	/* a bare user name owns user@anything */
	size_t ul = strlen(user);
	return !strchr(user, '@') && strncasecmp(addr, user, ul) == 0 &&
	    addr[ul] == '@';
}

static void
spoof_note(struct ann *a)
{
	ann_say(a, PP_EV_EXPLAIN, "smtp.spf-dkim-dmarc",
	    _("SMTP itself checks neither address. "
	    "SPF lets the receiver check that the MAIL FROM domain allows "
	    "the sending server's IP, DKIM signs the headers for a domain, "
	    "and DMARC requires the From: domain to match one of them"));
}

void
smtp_before_send(struct ann *a, const char *s, size_t n)
{
	struct pp *pp = a->pp;
	if (pp->in_data) {
		if (!a->in_headers)
			return;
		if (n == 0) {
			a->in_headers = false;
			return;
		}
		if (n > 5 && strncasecmp(s, "From:", 5) == 0 &&
		    a->mail_from[0]) {
			char from[256];
			address_of(s + 5, n - 5, from, sizeof(from));
			if (from[0] && strcasecmp(from, a->mail_from) != 0) {
				ann_say(a, PP_EV_WARN,
				    "warn.from-header-differs", _("the From: "
				    "header (%s) differs from MAIL FROM (%s): "
				    "the reader sees From:, the envelope "
				    "decides where bounces go"), from,
				    a->mail_from);
				spoof_note(a);
			}
		}
		return;
	}
	if (pp->sasl && pp->challenged) {
		/* the answer to AUTH LOGIN's "Username:" is the user */
		if (a->login_step == 1) {
			char raw[256];
			long dl = b64_decode(s, n, raw, sizeof(raw) - 1);
			if (dl > 0)
				snprintf(a->auth_try, sizeof(a->auth_try),
				    "%.*s", (int)dl, raw);
		} else if (a->login_step == 0 &&
		    strcasecmp(a->sasl_mech, "PLAIN") == 0) {
			plain_user(a, s, n);	/* PLAIN answered to a 334 */
		}
		a->login_step++;
		return;
	}
	size_t rest;
	const char *arg = next_word(s, n, &rest);
	size_t vl = (size_t)(arg - s);
	while (vl > 0 && s[vl - 1] == ' ')
		vl--;
	snprintf(a->last_cmd, sizeof(a->last_cmd), "%.*s",
	    (int)(vl < 15 ? vl : 15), s);
	if (word_is(s, n, "AUTH")) {
		ann_sasl_mech(a, arg, rest);
		const char *ir = next_word(arg, rest, &rest);
		a->login_step = 0;
		a->auth_try[0] = '\0';
		if (word_is(arg, rest + (size_t)(ir - arg), "PLAIN") &&
		    rest > 0)
			plain_user(a, ir, rest);
		else if (word_is(arg, (size_t)(s + n - arg), "LOGIN"))
			a->login_step = 1;
	} else if (n > 10 && strncasecmp(s, "MAIL FROM:", 10) == 0) {
		address_of(s + 10, n - 10, a->mail_from, sizeof(a->mail_from));
		if (a->auth_user[0] && a->mail_from[0] &&
		    !same_address(a->auth_user, a->mail_from)) {
			ann_say(a, PP_EV_WARN, "warn.mail-from-not-user",
			    _("MAIL FROM (%s) is not the "
			    "address of the logged-in user (%s): this is "
			    "sending as someone else (spoofing), unless the "
			    "server refuses it"), a->mail_from, a->auth_user);
			spoof_note(a);
		}
	} else if (word_is(s, n, "RSET") || word_is(s, n, "EHLO") ||
	    word_is(s, n, "HELO")) {
		a->mail_from[0] = '\0';
	}
}
