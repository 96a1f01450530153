/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imap_annot.c: explains IMAP responses from imap_tables.def: tagged
 * OK/NO/BAD, untagged response types, response codes, capabilities,
 * the greeting (PREAUTH on plaintext), [ALERT], SASL challenges.
 * RFC 3501 / RFC 9051, RFC 5530, RFC 2595.
 */
#include "annotate.h"
#include "i18n.h"
#include "imap_parse.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_item {
	const char *name;
	const char *text;
	const char *ref;
};

static const struct imap_item resps[] = {
#define RESP(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef RESP
};
static const struct imap_item rcodes[] = {
#define RCODE(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef RCODE
};
/* A response code with exact arguments (RCODE_ARGS) */
static const struct rcode_args {
	const char *name;
	const char *args;
	const char *id;		/* the last part of its --json id */
	const char *text;
	const char *ref;
} rcode_args[] = {
#define RCODE_ARGS(n, args, id, t, r) { n, args, id, t, r },
#include "imap_tables.def"
#undef RCODE_ARGS
};
static const struct imap_item caps[] = {
#define CAP(n, t, r) { n, t, r },
#include "imap_tables.def"
#undef CAP
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Exact match, or a table name ending in '=' matching as prefix. */
static const struct imap_item *
find(const struct imap_item *t, size_t nt, const char *s, size_t n)
{
	const struct imap_item *prefix = NULL;
	for (size_t i = 0; i < nt; i++) {
		size_t l = strlen(t[i].name);
		if (l == n && strncasecmp(t[i].name, s, n) == 0)
			return &t[i];
		if (l > 0 && t[i].name[l - 1] == '=' && l < n &&
		    strncasecmp(t[i].name, s, l) == 0)
			prefix = &t[i];
	}
	return prefix;
}

/* kind: the table, for the id ("imap.cap" + "." + the table key). */
static void
say_item(struct ann *a, const char *kind, const struct imap_item *it,
    const char *s, size_t n)
{
	if (a->mode == ANN_FULL && it->ref[0])
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "%s.%s", kind, it->name),
		    "%.*s: %s (%s)", (int)n, s,
		    _(it->text), it->ref);
	else
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "%s.%s", kind, it->name),
		    "%.*s: %s", (int)n, s, _(it->text));
}

/* Capabilities, space-separated, from a CAPABILITY line or code. */
static void
explain_caps(struct ann *a, const char *s, size_t n)
{
	ann_caps_begin(a);
	bool mechs = false;	/* the AUTH= heading is out */
	while (n > 0) {
		while (n > 0 && *s == ' ')
			s++, n--;
		size_t wl = 0;
		while (wl < n && s[wl] != ' ' && s[wl] != ']')
			wl++;
		if (wl == 0)
			break;
		ann_caps_add(a, s, wl);
		const struct imap_item *c = find(caps, NELEM(caps), s, wl);
		if (c && strncasecmp(s, "AUTH=", 5) == 0) {
			if (!mechs)	/* as SMTP's "AUTH: ..." */
				say_item(a, "imap.cap", c, "AUTH", 4);
			mechs = true;
			ann_explain_mech(a, s + 5, wl - 5);
		}
		else if (c)
			say_item(a, "imap.cap", c, s, wl);
		else
			ann_say(a, PP_EV_EXPLAIN, "imap.cap.unknown",
			    _("%.*s: a capability not in "
			    "mailsh's table"), (int)wl, s);
		if (wl == 13 && strncasecmp(s, "LOGINDISABLED", 13) == 0 &&
		    !conn_is_tls(&a->pp->conn))
			ann_say(a, PP_EV_EXPLAIN,
			    "imap.cap.LOGINDISABLED.plaintext",
			    _("  a client that heeds it "
			    "never sends the password in plaintext; typed "
			    "anyway, LOGIN still carries it across the network "
			    "before the NO: type \"a1 STARTTLS\" first, then "
			    "ask for CAPABILITY again (RFC 2595 3.2)"));
		s += wl;
		n -= wl;
		if (n > 0 && *s == ']')
			break;
	}
	ann_caps_end(a);
}

static const struct rcode_args *
find_rcode_args(const char *name, size_t nl, const char *args, size_t al)
{
	for (size_t i = 0; i < NELEM(rcode_args); i++)
		if (strlen(rcode_args[i].name) == nl &&
		    strncasecmp(rcode_args[i].name, name, nl) == 0 &&
		    strlen(rcode_args[i].args) == al &&
		    strncasecmp(rcode_args[i].args, args, al) == 0)
			return &rcode_args[i];
	return NULL;
}

/* "[CODE args] text": explain the code; returns what follows it. */
static const char *
explain_rcode(struct ann *a, const char *s, size_t *n, bool tagged)
{
	if (*n < 2 || s[0] != '[')
		return s;
	const char *end = memchr(s, ']', *n);
	if (!end)
		return s;
	size_t cl = 0;
	while (s + 1 + cl < end && s[1 + cl] != ' ')
		cl++;
	const char *args = s + 1 + cl;
	size_t al = (size_t)(end - args);
	while (al > 0 && *args == ' ')
		args++, al--;
	const struct imap_item *c = find(rcodes, NELEM(rcodes), s + 1, cl);
	const struct rcode_args *ra;
	if (c && cl == 10 && strncasecmp(s + 1, "CAPABILITY", 10) == 0) {
		explain_caps(a, args, al);
	} else if (c && cl == 5 && strncasecmp(s + 1, "ALERT", 5) == 0) {
		size_t tl = *n - (size_t)(end + 1 - s);
		const char *t = end + 1;
		while (tl > 0 && *t == ' ')
			t++, tl--;
		ann_say(a, PP_EV_WARN, "imap.code.ALERT",
		    _("ALERT from the server: \"%.*s\"%s"),
		    (int)tl, t, conn_is_tls(&a->pp->conn) ? "" :
		    _(" (arrived before TLS: anyone on the path could have "
		    "written it)"));
	} else if ((ra = find_rcode_args(s + 1, cl, args, al))) {
		if (a->mode == ANN_FULL)
			ann_say(a, PP_EV_EXPLAIN, ann_id(a, "imap.code.%s.%s",
			    ra->name, ra->id), "[%.*s %.*s]: %s (%s)", (int)cl,
			    s + 1, (int)al, args, _(ra->text), ra->ref);
		else
			ann_say(a, PP_EV_EXPLAIN, ann_id(a, "imap.code.%s.%s",
			    ra->name, ra->id), "[%.*s %.*s]: %s", (int)cl,
			    s + 1, (int)al, args, _(ra->text));
	} else if (c && al > 0) {
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "imap.code.%s", c->name),
		    "[%.*s %.*s]: %s", (int)cl, s + 1,
		    (int)al, args, _(c->text));
	} else if (c) {
		say_item(a, "imap.code", c, s + 1, cl);
	} else {
		ann_say(a, PP_EV_EXPLAIN, "imap.code.unknown",
		    _("[%.*s]: a response code not in "
		    "mailsh's table"), (int)cl, s + 1);
	}
	(void)tagged;
	size_t used = (size_t)(end + 1 - s);
	*n -= used;
	return end + 1;
}

static bool
status_like(const char *w, size_t wl)
{
	return word_is(w, wl, "OK") || word_is(w, wl, "NO") ||
	    word_is(w, wl, "BAD") || word_is(w, wl, "BYE") ||
	    word_is(w, wl, "PREAUTH");
}

/* A line sent without a tag (a->notag): the BAD that answers it. */
static bool
explain_notag(struct ann *a, const struct pp_rline *rl)
{
	if (!a->notag[0])
		return false;
	if (rl && (!rl->tag || strcasecmp(rl->tag, a->notag) != 0))
		return false;
	if (!rl)
		ann_say(a, PP_EV_EXPLAIN, "imap.bad.notag",
		    _("BAD: tag missing or unknown "
		    "command: the line sent had no tag (IMAP commands begin "
		    "with one, e.g. a1)"));
	else if (a->notag_cmd[0])
		ann_say(a, PP_EV_EXPLAIN, "imap.bad.notag",
		    _("tagged BAD: tag missing or "
		    "unknown command: the line sent had no tag, so the server "
		    "took \"%s\" for the tag and \"%s\" for the command"),
		    a->notag, a->notag_cmd);
	else
		ann_say(a, PP_EV_EXPLAIN, "imap.bad.notag",
		    _("tagged BAD: tag missing: the "
		    "line sent had no tag, so the server took \"%s\" for the "
		    "tag and found no command"), a->notag);
	a->notag[0] = '\0';
	return true;
}

static void
explain_tagged(struct ann *a, const struct pp_rline *rl, const char *w,
    size_t wl)
{
	size_t rest;
	const char *text = next_word(w, wl, &rest);
	a->idling = false;
	if (rl->tag && strcasecmp(rl->tag, a->notag) == 0 &&
	    !word_is(w, wl, "BAD"))
		a->notag[0] = '\0';
	if (word_is(w, wl, "BAD") && explain_notag(a, rl))
		;
	else if (rl->status == PP_S_POS)
		ann_say(a, PP_EV_EXPLAIN, "imap.tagged.ok",
		    _("tagged OK: command %s is done"),
		    rl->tag);
	else if (word_is(w, wl, "NO"))
		ann_say(a, PP_EV_EXPLAIN, "imap.tagged.no",
		    _("tagged NO: command %s failed "
		    "(the server understood it but refused or could not do "
		    "it)"), rl->tag);
	else
		ann_say(a, PP_EV_EXPLAIN, "imap.tagged.bad",
		    _("tagged BAD: command %s was not "
		    "understood (syntax, or not allowed in this state)"),
		    rl->tag);
	explain_rcode(a, text, &rest, true);
}

static void
explain_untagged(struct ann *a, const struct pp_rline *rl, const char *s,
    size_t n)
{
	size_t rest;
	const char *w = next_word(s, n, &rest);	/* after "* " */
	/* "* 23 EXISTS", "* 5 FETCH (...)": a number comes first */
	unsigned long num = 0;
	bool has_num = rest > 0 && isdigit((unsigned char)w[0]);
	const char *word = w;
	size_t wrest = rest;
	if (has_num) {
		num = strtoul(w, NULL, 10);
		word = next_word(w, rest, &wrest);
	}
	size_t wl = 0;
	while (wl < wrest && word[wl] != ' ')
		wl++;
	if (rl->greeting) {
		if (word_is(word, wrest, "PREAUTH")) {
			ann_say(a, PP_EV_EXPLAIN, "imap.greeting.PREAUTH",
			    _("greeting PREAUTH: you are "
			    "logged in already, without a password"));
			if (!conn_is_tls(&a->pp->conn)) {
				ann_say(a, PP_EV_WARN, "warn.preauth-plaintext",
				    _("PREAUTH on a plaintext "
				    "connection: STARTTLS is only allowed "
				    "before login, so this session can never "
				    "be encrypted; a man in the middle can "
				    "turn * OK into * PREAUTH to keep you in "
				    "plaintext"));
				if (a->require_tls)
					a->abort = MS_EDOWNGRADE;
			}
		} else if (word_is(word, wrest, "OK")) {
			ann_say(a, PP_EV_EXPLAIN, "imap.greeting.OK",
			    _("greeting: the IMAP server "
			    "is ready; commands start with a tag of your "
			    "choice (a1 CAPABILITY)"));
		} else if (word_is(word, wrest, "BYE")) {
			ann_say(a, PP_EV_EXPLAIN, "imap.greeting.BYE",
			    _("greeting BYE: the server "
			    "refuses this connection"));
		}
	} else if (has_num && wl == 6 && strncasecmp(word, "EXISTS", 6) == 0) {
		ann_say(a, PP_EV_EXPLAIN, "imap.resp.EXISTS",
		    ngettext("EXISTS: %lu message in "
		    "the mailbox", "EXISTS: %lu messages in the mailbox",
		    num), num);
	} else if (has_num && wl == 6 && strncasecmp(word, "RECENT", 6) == 0) {
		ann_say(a, PP_EV_EXPLAIN, "imap.resp.RECENT",
		    ngettext("RECENT: %lu of them "
		    "carries \\Recent: this session is the first to be told "
		    "of it", "RECENT: %lu of them carry \\Recent: this "
		    "session is the first to be told of them", num), num);
	} else if (has_num && wl == 7 && strncasecmp(word, "EXPUNGE", 7) == 0) {
		ann_say(a, PP_EV_EXPLAIN, "imap.resp.EXPUNGE",
		    _("EXPUNGE: message %lu was removed; "
		    "every later message number goes down by one"), num);
	} else if (has_num && wl == 5 && strncasecmp(word, "FETCH", 5) == 0) {
		/* read out below, field by field */
	} else {
		const struct imap_item *r = find(resps, NELEM(resps), word,
		    wl);
		/* "* OK [CODE] ...": the code says more than the OK */
		bool coded = status_like(word, wl) && wrest > wl + 1 &&
		    word[wl + 1] == '[';
		if (!has_num && word_is(word, wl, "BAD") &&
		    explain_notag(a, NULL))
			;
		else if (r && !coded && !(wl == 10 && strncasecmp(word,
		    "CAPABILITY", 10) == 0))
			say_item(a, "imap.resp", r, word, wl);
		else if (!r)
			ann_say(a, PP_EV_EXPLAIN, "imap.resp.unknown",
			    _("%.*s: an untagged response "
			    "not in mailsh's table"), (int)wl, word);
	}
	if (wl == 10 && strncasecmp(word, "CAPABILITY", 10) == 0) {
		ann_say(a, PP_EV_EXPLAIN, "imap.resp.CAPABILITY",
		    "%s", _("CAPABILITY: what this "
		    "server can do:"));
		explain_caps(a, word + wl, wrest - wl);
		return;
	}
	if (status_like(word, wl)) {
		size_t tl = wrest - wl;
		const char *t = word + wl;
		while (tl > 0 && *t == ' ')
			t++, tl--;
		explain_rcode(a, t, &tl, false);
	}
	const char *data = word + wl;
	size_t dl = wrest - wl;
	if (has_num && wl == 5 && strncasecmp(word, "FETCH", 5) == 0)
		imap_explain_fetch(a, num, data, dl);
	else if (has_num)
		;
	else if (word_is(word, wl, "LIST") || word_is(word, wl, "LSUB") ||
	    word_is(word, wl, "XLIST"))
		imap_explain_list(a, data, dl);
	else if (word_is(word, wl, "STATUS"))
		imap_explain_status(a, data, dl);
	else if (word_is(word, wl, "SEARCH") || word_is(word, wl, "SORT"))
		imap_explain_search(a, data, dl);
	else if (word_is(word, wl, "FLAGS"))
		imap_explain_flags(a, data, dl);
}

/*
 * A "+" means what the command before it asked for (RFC 3501 7.5): a
 * SASL challenge after AUTHENTICATE, the go-ahead for a literal "{n}",
 * IDLE accepted (RFC 2177).  The texts, as data:
 */
enum cont_for { CONT_OTHER, CONT_SASL, CONT_IDLE };
static const char *const cont_text[] = {
	[CONT_OTHER] = N_("+: the server waits for more from you (the "
	    "literal's octets, or the next line)"),
	[CONT_SASL] = N_("+ after AUTHENTICATE: a SASL challenge, but not "
	    "base64 as RFC 3501 6.2.2 wants; answer * to cancel"),
	[CONT_IDLE] = N_("+ after IDLE: IDLE is accepted: the server now "
	    "sends untagged updates (EXISTS, EXPUNGE, FETCH) as they happen, "
	    "and you send no commands; type DONE to end it (RFC 2177)"),
};
static const char *const cont_id[] = {
	[CONT_OTHER] = "more", [CONT_SASL] = "sasl", [CONT_IDLE] = "idle",
};

static void
explain_cont(struct ann *a, const char *text, size_t tl)
{
	struct pp *pp = a->pp;
	enum cont_for c = CONT_OTHER;
	if (pp->sasl) {
		if (ann_explain_challenge(a, text, tl))
			return;
		c = CONT_SASL;
	} else if (pp->ps.client_literal > 0 && pp->ps.literal_sync) {
		ann_say(a, PP_EV_EXPLAIN, "imap.cont.literal",
		    _("+: go-ahead for the literal "
		    "{%llu}: send exactly that many octets now (RFC 3501 "
		    "4.3)"), (unsigned long long)pp->ps.client_literal);
		return;
	} else if (strcasecmp(a->last_cmd, "IDLE") == 0 && !a->idling) {
		a->idling = true;
		c = CONT_IDLE;
	}
	ann_say(a, PP_EV_EXPLAIN, ann_id(a, "imap.cont.%s", cont_id[c]),
	    "%s", _(cont_text[c]));
}

/*
 * A response that goes on after a literal is kept (a->resp) and
 * explained once, when its last line has come: RFC 3501 4.3 puts the
 * literal in the middle of the response, so a field after it (" UID 7)")
 * belongs to the same FETCH.  pp->ps.in_resp says whether the line just
 * received is followed by a literal and more of the same response.
 */
static void
resp_add(struct ann *a, const char *s, size_t n, const struct pp_rline *rl)
{
	struct ann_resp *r = &a->resp;
	if (r->over)
		return;
	if (n > ANN_RESP_MAX - r->len) {
		r->over = true;
		return;
	}
	memcpy(r->text + r->len, s, n);
	r->len += n;
	if (a->pp->ps.in_resp && r->nlits < ANN_LITS_MAX) {
		struct ann_lit *l = &r->lit[r->nlits++];
		memset(l, 0, sizeof(*l));
		l->at = r->len;
		l->size = rl->literal;
	}
}

/* Literal octets: a short literal that came as one line is kept. */
static void
resp_data(struct ann *a, const char *s, size_t n)
{
	struct ann_resp *r = &a->resp;
	if (r->nlits == 0)
		return;
	struct ann_lit *l = &r->lit[r->nlits - 1];
	if (l->seen)
		return;
	l->seen = true;
	if ((uint64_t)n == l->size && n <= ANN_LIT_KEEP - r->keptlen) {
		memcpy(r->kept + r->keptlen, s, n);
		l->off = r->keptlen;
		l->len = n;
		l->kept = true;
		r->keptlen += n;
	}
}

static void
explain_line(struct ann *a, const struct pp_rline *rl, const char *s,
    size_t n)
{
	if (rl->kind == PP_R_STATUS) {
		size_t rest;
		const char *w = next_word(s, n, &rest);
		explain_tagged(a, rl, w, rest);
	} else {
		explain_untagged(a, rl, s, n);
	}
}

/* Returns true when the line was taken into a kept response. */
static bool
resp_keep(struct ann *a, const struct pp_rline *rl, const char *s,
    size_t n)
{
	struct ann_resp *r = &a->resp;
	bool goes_on = a->pp->ps.in_resp;
	if (rl->kind == PP_R_DATA) {
		if (r->active)
			resp_data(a, s, n);
		return true;
	}
	if (!r->active) {
		if (!goes_on || rl->kind == PP_R_CONT || rl->kind == PP_R_BAD)
			return false;
		r->active = true;
		r->over = false;
		r->len = 0;
		r->nlits = 0;
		r->keptlen = 0;
	}
	resp_add(a, s, n, rl);
	if (goes_on)
		return true;
	if (r->over)
		ann_say(a, PP_EV_EXPLAIN, "imap.resp.too-long",
		    _("this response is longer than "
		    "mailsh reads out (%u KiB besides its literals): not "
		    "explained"), (unsigned)(ANN_RESP_MAX / 1024));
	else
		explain_line(a, rl, r->text, r->len);
	r->active = false;
	return true;
}

void
imap_annotate(struct ann *a, const struct pp_event *ev)
{
	const struct pp_rline *rl = ev->rl;
	const char *s = ev->text;
	size_t n = ev->len;
	if (a->mode == ANN_OFF) {
		/* --require-tls still needs to see PREAUTH and refusals */
		if (a->require_tls && rl->greeting && rl->kind ==
		    PP_R_UNTAGGED && !conn_is_tls(&a->pp->conn) &&
		    word_is(s, n, "* PREAUTH"))
			a->abort = MS_EDOWNGRADE;
		a->resp.active = false;	/* read out nothing half */
		return;
	}
	if (resp_keep(a, rl, s, n)) {
		/* literal octets, or a response spanning literals */
		a->in_resp_cont = a->pp->ps.in_resp;
		a->mid_reply = !rl->last;
		return;
	}
	switch (rl->kind) {
	case PP_R_STATUS:
	case PP_R_UNTAGGED:
		explain_line(a, rl, s, n);
		break;
	case PP_R_CONT:
		explain_cont(a, n > 2 ? s + 2 : s + n, n > 2 ? n - 2 : 0);
		break;
	case PP_R_DATA:
		break;
	default:
		ann_say(a, PP_EV_WARN, "imap.bad-line",
		    _("not an IMAP response: \"*\", \"+\" or "
		    "a tag expected (RFC 3501 2.2.2)"));
		break;
	}
	a->in_resp_cont = rl->literal > 0 || (rl->kind == PP_R_DATA &&
	    a->in_resp_cont);
	a->mid_reply = !rl->last;
}

/* Lines sent without a tag by design (commands.def IMAP_UNTAGGED). */
static const char *const untagged_ok[] = {
#define IMAP_UNTAGGED(name) name,
#include "commands.def"
#undef IMAP_UNTAGGED
	NULL,
};

/* The command name at s as the table spells it, or NULL. */
static const char *
table_verb(const struct pp *pp, const char *s, size_t n)
{
	if (!pp->proto || !pp->proto->verbs)
		return NULL;
	for (const char *const *v = pp->proto->verbs; *v; v++)
		if (word_is(s, n, *v))
			return *v;
	return NULL;
}

/*
 * "login alice secret", "select INBOX", "CAPABILITY": the first word is
 * a command name, so the tag is missing (the server will take that word
 * for the tag).  "UID FETCH ..." is a missing tag too.
 */
static void
check_tag(struct ann *a, const char *s, size_t n, const char *verb,
    size_t rest, size_t vl)
{
	const char *name = table_verb(a->pp, s, n);
	a->notag[0] = '\0';
	if (!name)
		return;
	for (const char *const *u = untagged_ok; *u; u++)
		if (word_is(s, n, *u))
			return;
	if (rest > 0 && imap_is_verb(verb, rest) && !word_is(s, n, "UID"))
		return;		/* "LIST LIST ...": a tag that is a name */
	size_t tl = 0;
	while (tl < n && s[tl] != ' ')
		tl++;
	snprintf(a->notag, sizeof(a->notag), "%.*s",
	    (int)(tl < PP_TAG_MAX - 1 ? tl : PP_TAG_MAX - 1), s);
	snprintf(a->notag_cmd, sizeof(a->notag_cmd), "%.*s",
	    (int)(vl < sizeof(a->notag_cmd) - 1 ? vl :
	    sizeof(a->notag_cmd) - 1), verb);
	if (a->mode != ANN_OFF)
		ann_say(a, PP_EV_WARN, "warn.imap-no-tag",
		    _("IMAP commands begin with a tag (any "
		    "word, e.g. a1): a1 %s%s"), name, rest > 0 ? " ..." : "");
}

/* Commands with a fixed number of astrings (commands.def IMAP_ARGC). */
static const struct { const char *name; int argc; } argcs[] = {
#define IMAP_ARGC(name, argc) { name, argc },
#include "commands.def"
#undef IMAP_ARGC
};

/* "a2 LOGIN alice": fewer arguments than the command takes. */
static void
check_argc(struct ann *a, const char *verb, size_t n, size_t vl)
{
	const struct pp_cmd *cmds = a->pp->proto ? a->pp->proto->cmds : NULL;
	for (size_t i = 0; cmds && i < NELEM(argcs); i++) {
		if (!word_is(verb, n, argcs[i].name))
			continue;
		const char *p = verb + vl, *end = verb + n;
		int got = 0;
		for (;;) {
			while (p < end && *p == ' ')
				p++;
			if (p == end || *p == '{')	/* a literal: more to come */
				break;
			bool open;
			p += imap_astring_len(p, (size_t)(end - p), &open);
			got++;
		}
		if (p < end || got >= argcs[i].argc)
			return;
		for (const struct pp_cmd *c = cmds; c->name; c++)
			if (strcasecmp(c->name, argcs[i].name) == 0)
				ann_say(a, PP_EV_WARN, ann_id(a,
				    "imap.incomplete.%s", c->name),
				    _("incomplete: the syntax "
				    "is %s %s; the server will answer BAD"), c->name,
				    _(c->args));
		return;
	}
}

void
imap_before_send(struct ann *a, const char *s, size_t n)
{
	struct pp *pp = a->pp;
	if ((pp->sasl && pp->challenged) || pp->ps.client_literal > 0)
		return;
	if (a->idling && n == 4 && word_is(s, n, "DONE")) {
		/* the line that ends IDLE carries no tag (RFC 2177) */
		a->idling = false;
		return;
	}
	size_t rest;
	const char *verb = next_word(s, n, &rest);
	size_t vl = 0;
	while (vl < rest && verb[vl] != ' ')
		vl++;
	check_tag(a, s, n, verb, rest, vl);
	snprintf(a->last_cmd, sizeof(a->last_cmd), "%.*s",
	    (int)(vl < 15 ? vl : 15), verb);
	if (word_is(verb, rest, "AUTHENTICATE")) {
		size_t mrest;
		const char *mech = next_word(verb, rest, &mrest);
		ann_sasl_mech(a, mech, mrest);
	}
	check_argc(a, verb, rest, vl);
}
