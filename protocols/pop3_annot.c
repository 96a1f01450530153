/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pop3_annot.c: explains POP3 replies: +OK / -ERR, CAPA tags and
 * response codes from pop3_capa.def (RFC 1939, 2449, 2595, 3206, 6856),
 * STAT / LIST / UIDL answers read out, SASL challenges decoded.
 */
#include "annotate.h"
#include "i18n.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct pop3_item {
	const char *name;
	const char *text;
	const char *ref;
} capas[] = {
#define CAPA(name, text, ref) { name, text, ref },
#include "pop3_capa.def"
#undef CAPA
}, codes[] = {
#define CODE(name, text, ref) { name, text, ref },
#include "pop3_capa.def"
#undef CODE
};

static const struct pop3_item *
find(const struct pop3_item *t, size_t nt, const char *s, size_t n)
{
	for (size_t i = 0; i < nt; i++)
		if (strlen(t[i].name) == n && strncasecmp(t[i].name, s, n) == 0)
			return &t[i];
	return NULL;
}

/* What the last command was, for reading out its answer. */
static bool
last_is(const struct ann *a, const char *verb)
{
	return strcasecmp(a->last_cmd, verb) == 0;
}

/* "+OK 2 4523" after STAT, "+OK 1 120" after LIST 1 */
static void
explain_counts(struct ann *a, const char *s, size_t n, bool stat)
{
	unsigned long long x, y;
	char buf[64];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 63 ? n : 63), s);
	if (sscanf(buf, "%llu %llu", &x, &y) != 2)
		return;
	char xs[NUM_FMT_MAX], ys[NUM_FMT_MAX], msgs[96], octs[96];
	num_fmt(xs, sizeof(xs), x);
	num_fmt(ys, sizeof(ys), y);
	snprintf(octs, sizeof(octs), ngettext("%s octet", "%s octets",
	    (unsigned long)y), ys);
	if (stat) {
		snprintf(msgs, sizeof(msgs), ngettext("%s message",
		    "%s messages", (unsigned long)x), xs);
		/* TRANSLATORS: STAT's answer: "2 messages", "4523 octets" */
		ann_say(a, PP_EV_EXPLAIN, "pop3.stat", _("%s, %s in all"), msgs,
		    octs);
	} else {
		/* TRANSLATORS: LIST's answer: message number, "120 octets" */
		ann_say(a, PP_EV_EXPLAIN, "pop3.list", _("message %llu has %s"),
		    x, octs);
	}
}

static void
explain_capa(struct ann *a, const char *s, size_t n)
{
	size_t kl = 0;
	while (kl < n && s[kl] != ' ')
		kl++;
	ann_caps_add(a, s, kl);
	const struct pop3_item *c = find(capas, sizeof(capas) /
	    sizeof(capas[0]), s, kl);
	if (!c) {
		ann_say(a, PP_EV_EXPLAIN, "pop3.capa.unknown",
		    _("%.*s: a capability not in "
		    "mailsh's table"), (int)kl, s);
		return;
	}
	if (a->mode == ANN_FULL)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "pop3.capa.%s", c->name),
		    "%s: %s (%s)", c->name, _(c->text),
		    c->ref);
	else
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "pop3.capa.%s", c->name),
		    "%s: %s", c->name, _(c->text));
	if (strcasecmp(c->name, "SASL") == 0)
		ann_explain_mechs(a, "SASL:", s + kl, n - kl);
}

/* "[CODE] text" right after +OK / -ERR (RFC 2449 8). */
static void
explain_code(struct ann *a, const char *s, size_t n)
{
	if (n < 3 || s[0] != '[')
		return;
	const char *end = memchr(s, ']', n);
	if (!end)
		return;
	size_t cl = (size_t)(end - s - 1);
	const struct pop3_item *c = find(codes, sizeof(codes) /
	    sizeof(codes[0]), s + 1, cl);
	char hid[64];
	const char *hint = c ? ann_hint(PROTO_POP3, c->name, end + 1,
	    (size_t)(s + n - end - 1), hid, sizeof(hid)) : NULL;
	if (hint)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "pop3.code.%s.%s",
		    c->name, hid), "[%s]: %s", c->name, hint);
	else if (c)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "pop3.code.%s", c->name),
		    "[%s]: %s", c->name, _(c->text));
	else
		ann_say(a, PP_EV_EXPLAIN, "pop3.code.unknown", _("[%.*s]: a "
		    "response code not in mailsh's table"), (int)cl, s + 1);
}

void
pop3_annotate(struct ann *a, const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	const char *s = ev->text;
	size_t n = ev->len;
	if (a->mode == ANN_OFF)
		goto end;
	switch (rl->kind) {
	case PP_R_STATUS: {
		bool ok = rl->status == PP_S_POS;
		const char *text = s + (ok ? 3 : 4);
		size_t tl = n > (size_t)(ok ? 3 : 4) ? n - (ok ? 3 : 4) : 0;
		while (tl > 0 && *text == ' ')
			text++, tl--;
		if (!a->mid_reply && !rl->last && last_is(a, "CAPA"))
			ann_caps_begin(a);
		a->mid_reply = !rl->last;
		if (ok && rl->last && last_is(a, "STAT"))
			explain_counts(a, text, tl, true);
		else if (ok && rl->last && (last_is(a, "LIST") ||
		    last_is(a, "UIDL")) && tl > 0)
			ann_say(a, PP_EV_EXPLAIN, last_is(a, "LIST") ?
			    "pop3.list.line" : "pop3.uidl.line", "%s",
			    last_is(a, "LIST") ? _("+OK: the message number "
			    "and its size in octets") : _("+OK: the message "
			    "number and its unique id"));
		else if (rl->greeting && ok)
			ann_say(a, PP_EV_EXPLAIN, "pop3.greeting",
			    _("+OK: the POP3 server is "
			    "ready: log in (USER/PASS or AUTH), or CAPA to see "
			    "what it offers"));
		else if (ok)
			ann_say(a, PP_EV_EXPLAIN,
			    rl->last ? "pop3.ok" : "pop3.ok.multi",
			    rl->last ? _("+OK: done")
			    : _("+OK: a multi-line answer follows, ended by "
			    "a line with a single \".\""));
		else
			ann_say(a, PP_EV_EXPLAIN, "pop3.err",
			    _("-ERR: refused or failed; "
			    "the text says why"));
		explain_code(a, text, tl);
		if (ok && rl->last && last_is(a, "LIST") && tl > 0)
			explain_counts(a, text, tl, false);
		if (ok && rl->last && last_is(a, "PASS"))
			ann_say(a, PP_EV_EXPLAIN, "pop3.logged-in",
			    _("logged in: the session "
			    "is now in the TRANSACTION state"));
		if (ok && rl->last && last_is(a, "QUIT") && a->deleted)
			ann_say(a, PP_EV_EXPLAIN, "pop3.update",
			    _("UPDATE state: the "
			    "messages marked with DELE are removed now"));
		break;
	}
	case PP_R_CONT:
		ann_explain_challenge(a, n > 2 ? s + 2 : s + n,
		    n > 2 ? n - 2 : 0);
		break;
	case PP_R_DATA:
		if (rl->last) {
			ann_say(a, PP_EV_EXPLAIN, "pop3.multi.end",
			    _("end of the multi-line "
			    "answer"));
		} else if (a->collecting) {
			explain_capa(a, s, n);
		} else if (last_is(a, "LIST")) {
			explain_counts(a, s, n, false);
		} else if (last_is(a, "UIDL")) {
			unsigned long num;
			char uid[80];
			char buf[128];
			snprintf(buf, sizeof(buf), "%.*s",
			    (int)(n < 127 ? n : 127), s);
			if (sscanf(buf, "%lu %79s", &num, uid) == 2)
				ann_say(a, PP_EV_EXPLAIN, "pop3.uidl",
				    _("message %lu has "
				    "the unique id %s"), num, uid);
		} else if (rl->unstuffed && !a->stuffed_told) {
			a->stuffed_told = true;	/* once per answer */
			ann_say(a, PP_EV_EXPLAIN, "pop3.unstuffed",
			    _("lines shown with \"..\" "
			    "at the start: the server doubles a leading dot "
			    "(byte-stuffing, RFC 1939 3); in the message these "
			    "lines start with one dot"));
		}
		break;
	default:
		ann_say(a, PP_EV_WARN, "pop3.bad-line",
		    _("not a POP3 reply: +OK or -ERR "
		    "expected (RFC 1939 3)"));
		break;
	}
end:
	if (rl->last) {
		a->stuffed_told = false;
		a->mid_reply = false;
		if (a->collecting && a->mode != ANN_OFF)
			ann_caps_end(a);
		a->collecting = false;
	}
}

void
pop3_before_send(struct ann *a, const char *s, size_t n)
{
	struct pp *pp = a->pp;
	if (pp->sasl && pp->challenged)
		return;
	size_t rest;
	const char *arg = next_word(s, n, &rest);
	size_t vl = (size_t)(arg - s);
	while (vl > 0 && s[vl - 1] == ' ')
		vl--;
	snprintf(a->last_cmd, sizeof(a->last_cmd), "%.*s",
	    (int)(vl < 15 ? vl : 15), s);
	if (word_is(s, n, "AUTH"))
		ann_sasl_mech(a, arg, rest);
	if (word_is(s, n, "DELE"))
		a->deleted = true;
	else if (word_is(s, n, "RSET"))
		a->deleted = false;
	else if (word_is(s, n, "USER") && rest > 0)
		snprintf(a->auth_user, sizeof(a->auth_user), "%.*s",
		    (int)(rest < 127 ? rest : 127), arg);
}
