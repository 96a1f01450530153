/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * annotate.c: what every protocol shares when explaining a session:
 * the event pass-through, capability sets and their change across a TLS
 * upgrade, STARTTLS missing where it belongs, credentials about to leave
 * in plaintext, SASL mechanisms.  Protocol details are in *_annot.c.
 */
#include "annotate.h"
#include "i18n.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
ann_mode_parse(const char *s, enum ann_mode *mode)
{
	static const char *const names[] = {
		[ANN_OFF] = "off", [ANN_BRIEF] = "brief", [ANN_FULL] = "full",
	};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum ann_mode)i;
			return true;
		}
	return false;
}

void
ann_init(struct ann *a, struct pp *pp, enum ann_mode mode,
    void (*out)(void *, const struct pp_event *), void *octx)
{
	memset(a, 0, sizeof(*a));
	a->pp = pp;
	a->mode = mode;
	a->out = out;
	a->octx = octx;
}

const char *
ann_id(struct ann *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->id, sizeof(a->id), fmt, ap);
	va_end(ap);
	return a->id;
}

void
ann_say(struct ann *a, enum pp_ev kind, const char *id, const char *fmt,
    ...)
{
	char msg[1024], idc[sizeof(a->id)];
	size_t k = 0;
	/* ids hold table keys only, but never let a byte through that
	 * the id syntax of docs/json.md does not allow */
	for (; id[k] && k + 1 < sizeof(idc); k++)
		idc[k] = isalnum((unsigned char)id[k]) ||
		    strchr("._=+-", id[k]) ? id[k] : '_';
	/* a table key's trailing "=" or "[" (prefix entries) is dropped */
	while (k > 0 && !isalnum((unsigned char)idc[k - 1]))
		k--;
	idc[k] = '\0';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct pp_event ev = {
		.kind = kind, .text = msg, .len = strlen(msg),
		.tls = conn_is_tls(&a->pp->conn),
		.id = idc, .line = a->line,
	};
	a->out(a->octx, &ev);
}

bool
ann_caps_has(const struct ann_caps *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcasecmp(c->name[i], name) == 0)
			return true;
	return false;
}

void
ann_mailbox_add(struct ann *a, const char *name, size_t n)
{
	if (n == 0 || n >= ANN_MAILBOX_LEN)
		return;
	for (int i = 0; i < a->nmailboxes; i++)
		if (strlen(a->mailboxes[i]) == n &&
		    memcmp(a->mailboxes[i], name, n) == 0)
			return;
	if (a->nmailboxes >= ANN_MAILBOX_MAX)
		return;
	memcpy(a->mailboxes[a->nmailboxes], name, n);
	a->mailboxes[a->nmailboxes++][n] = '\0';
}

void
ann_caps_begin(struct ann *a)
{
	memset(&a->collect, 0, sizeof(a->collect));
	a->collect.tls = conn_is_tls(&a->pp->conn);
	a->collecting = true;
}

void
ann_caps_add(struct ann *a, const char *word, size_t n)
{
	struct ann_caps *c = &a->collect;
	if (!a->collecting || n == 0 || c->n >= ANN_CAPS_MAX)
		return;
	if (n >= ANN_CAP_LEN)
		n = ANN_CAP_LEN - 1;
	memcpy(c->name[c->n], word, n);
	c->name[c->n][n] = '\0';
	c->n++;
}

/*
 * The prefix a protocol's SASL mechanisms are kept under (AUTH=PLAIN,
 * SASL:PLAIN), when that is not how the protocol writes them: SMTP's
 * EHLO says "AUTH PLAIN LOGIN" (RFC 4954 3), POP3's CAPA "SASL PLAIN
 * LOGIN" (RFC 2449 6.3); only IMAP writes AUTH=PLAIN (RFC 3501 6.2.2).
 */
static const char *
mech_prefix(const struct ann *a)
{
	if (!a->pp->proto)
		return NULL;
	switch (a->pp->proto->id) {
	case PROTO_SMTP: return "AUTH=";
	case PROTO_POP3: return "SASL:";
	default: return NULL;
	}
}

/*
 * Words of x that are not in y, as one line, written as the protocol
 * writes them: IMAP's capabilities as one space-separated list; SMTP's
 * and POP3's one capability a line, so separated by commas, and the
 * mechanisms as one "AUTH PLAIN LOGIN" where the first of them stood.
 */
static void
caps_minus(const struct ann *a, const struct ann_caps *x,
    const struct ann_caps *y, struct sbuf *sb)
{
	const char *mp = mech_prefix(a);
	size_t ml = mp ? strlen(mp) : 0;
	const char *sep = mp ? ", " : " ";
	bool mechs_done = false, new_mechs = false;
	for (int i = 0; mp && i < x->n; i++)
		if (strncasecmp(x->name[i], mp, ml) == 0 &&
		    !ann_caps_has(y, x->name[i]))
			new_mechs = true;
	for (int i = 0; i < x->n; i++) {
		const char *w = x->name[i];
		if (ann_caps_has(y, w))
			continue;
		bool mech = mp && strncasecmp(w, mp, ml) == 0;
		if (mech && mechs_done)
			continue;
		/* POP3's bare "SASL": part of "SASL PLAIN LOGIN" below */
		if (new_mechs && strlen(w) == ml - 1 &&
		    strncasecmp(w, mp, ml - 1) == 0)
			continue;
		if (sb->len)
			sbuf_puts(sb, sep);
		if (!mech) {
			sbuf_puts(sb, w);
			continue;
		}
		/* "AUTH" and every new mechanism, in the server's order */
		sbuf_add(sb, w, ml - 1);
		for (int k = i; k < x->n; k++)
			if (strncasecmp(x->name[k], mp, ml) == 0 &&
			    !ann_caps_has(y, x->name[k])) {
				sbuf_puts(sb, " ");
				sbuf_puts(sb, x->name[k] + ml);
			}
		mechs_done = true;
	}
}

/*
 * The roles of ports, as data: the lab's services (whose numbers the
 * shell passes with ann_port_role()) and the well-known ports.  label is
 * how a warning names the port ("... is not offered on %s").
 */
static const struct role {
	const char *service;
	const char *label;
	bool starttls;		/* plaintext, STARTTLS/STLS belongs here */
} roles[] = {
	/* TRANSLATORS: the roles of ports, used as "not offered on %s";
	 * in German the dative after "auf": "dem Submission-Port" */
	{ "smtp", N_("the SMTP port (MX)"), true },
	{ "submission", N_("the submission port"), true },
	{ "submissions", N_("the submissions port (implicit TLS)"), false },
	{ "pop3", N_("the POP3 port"), true },
	{ "pop3s", N_("the POP3S port (implicit TLS)"), false },
	{ "imap", N_("the IMAP port"), true },
	{ "imaps", N_("the IMAPS port (implicit TLS)"), false },
};
#define NROLES (sizeof(roles) / sizeof(roles[0]))

const char *const ann_services[] = {
	"smtp", "submission", "submissions", "pop3", "pop3s", "imap",
	"imaps", NULL,
};

/* Well-known ports (RFC 5321, 6409, 8314, 1939, 3501) and the lab's
 * usual ones (port base 2500). */
static const struct { int port; const char *service; } known_ports[] = {
	{ 25, "smtp" }, { 587, "submission" }, { 465, "submissions" },
	{ 110, "pop3" }, { 995, "pop3s" }, { 143, "imap" }, { 993, "imaps" },
	{ 2525, "smtp" }, { 2587, "submission" }, { 2465, "submissions" },
	{ 2110, "pop3" }, { 2995, "pop3s" }, { 2143, "imap" },
	{ 2993, "imaps" },
};

static int
role_index(const char *service, size_t n)
{
	if (n > 5 && strncmp(service, "mitm-", 5) == 0)
		service += 5, n -= 5;
	for (size_t i = 0; i < NROLES; i++)
		if (strlen(roles[i].service) == n &&
		    strncmp(roles[i].service, service, n) == 0)
			return (int)i;
	return -1;
}

bool
ann_port_role(struct ann *a, int port, const char *service)
{
	if (!service || port <= 0)
		return false;
	size_t n = strcspn(service, " ");
	int r = role_index(service, n);
	if (r < 0)
		return false;
	struct ann_roles *t = &a->roles;
	for (int i = 0; i < t->n; i++)
		if (t->p[i].port == port) {
			t->p[i].role = r;
			return true;
		}
	if (t->n >= ANN_ROLES_MAX)
		return false;
	t->p[t->n].port = port;
	t->p[t->n++].role = r;
	return true;
}

/* The role of a port: told by the shell, else a well-known one. */
static const struct role *
port_role(const struct ann *a, int port)
{
	for (int i = 0; i < a->roles.n; i++)
		if (a->roles.p[i].port == port)
			return &roles[a->roles.p[i].role];
	for (size_t i = 0; i < sizeof(known_ports) / sizeof(known_ports[0]);
	    i++)
		if (known_ports[i].port == port) {
			const char *sv = known_ports[i].service;
			return &roles[role_index(sv, strlen(sv))];
		}
	return NULL;
}

static const struct sasl_mech {
	const char *name;
	const char *text;
	bool plaintext;
	const char *ref;
} sasl_mechs[] = {
#define X(name, text, plain, ref) { name, text, plain, ref },
#include "sasl.def"
#undef X
};

static const struct sasl_mech *
find_mech(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(sasl_mechs) / sizeof(sasl_mechs[0]);
	    i++) {
		const struct sasl_mech *m = &sasl_mechs[i];
		if (n > 0 && strlen(m->name) == n &&
		    strncasecmp(m->name, name, n) == 0)
			return m;
	}
	return NULL;
}

void
ann_explain_mech(struct ann *a, const char *name, size_t n)
{
	const struct sasl_mech *m = find_mech(name, n);
	if (m)
		ann_say(a, PP_EV_EXPLAIN, ann_id(a, "sasl.%s", m->name),
		    "  %s: %s", m->name, _(m->text));
	else
		ann_say(a, PP_EV_EXPLAIN, "sasl.unknown",
		    _("  %.*s: a mechanism not in "
		    "mailsh's table"), (int)n, name);
}

void
ann_sasl_mech(struct ann *a, const char *p, size_t n)
{
	size_t l = 0;
	while (l < n && p[l] != ' ')
		l++;
	if (l >= sizeof(a->sasl_mech))
		l = 0;
	memcpy(a->sasl_mech, p, l);
	a->sasl_mech[l] = '\0';
}

/*
 * Credentials about to leave in plaintext, by what they are (pp_cred):
 * a password as typed is not base64 at all; only SASL answers are.
 */
static const char *const cred_warn[] = {
	[PP_CRED_NONE] = N_("this line carries a credential and the "
	    "connection is NOT encrypted: anyone on the path can read it"),
	[PP_CRED_CLEAR] = N_("this line carries a password and the "
	    "connection is NOT encrypted: the password crosses the network "
	    "in plain text, exactly as typed; anyone on the path can read "
	    "it"),
	[PP_CRED_SASL] = N_("this line carries a SASL answer and the "
	    "connection is NOT encrypted: anyone on the path can record "
	    "it"),
	[PP_CRED_DIGEST] = N_("this line carries an APOP digest and the "
	    "connection is NOT encrypted: it is not the password itself, "
	    "but anyone on the path can record it and try passwords "
	    "against it offline"),
};
static const char cred_warn_b64[] = N_("this line carries login data and "
    "the connection is NOT encrypted: SASL %s only base64-encodes it, so "
    "anyone on the path can decode it (base64 is an encoding, not "
    "encryption)");
static const char cred_warn_sasl[] = N_("this line carries a SASL %s "
    "answer and the connection is NOT encrypted: it does not show the "
    "password itself, but anyone on the path can record it");

/* After a line whose credential the screen hides went out in plaintext:
 * once per connection, say that only the screen hides it. */
static void
mask_note(struct ann *a, const struct pp_event *ev)
{
	enum pp_cred c = a->cred;
	a->cred = PP_CRED_NONE;
	if (!ev->redacted || ev->tls || a->mask_told || a->mode == ANN_OFF)
		return;
	const struct sasl_mech *m = c == PP_CRED_SASL ?
	    find_mech(a->sasl_mech, strlen(a->sasl_mech)) : NULL;
	if (c == PP_CRED_CLEAR)
		ann_say(a, PP_EV_WARN, "warn.masked-cleartext",
		    "%s", _("the screen hides the password "
		    "(********), but it crossed the network in clear text, "
		    "exactly as typed"));
	else if (m && m->plaintext)
		ann_say(a, PP_EV_WARN, "warn.masked-base64",
		    "%s", _("the screen hides the login "
		    "data (********), but they crossed the network in clear "
		    "text, only base64-encoded"));
	else
		return;
	a->mask_told = true;
}

/* A SASL challenge (SMTP 334, POP3 and IMAP "+") is base64: show what
 * it says.  Returns false if it is not base64. */
bool
ann_explain_challenge(struct ann *a, const char *s, size_t n)
{
	char raw[512], shown[2100];
	if (n == 0) {
		if (a->sasl_auto)
			ann_say(a, PP_EV_EXPLAIN, "sasl.challenge.empty",
			    _("an empty challenge: the server waits for the "
			    "client's first message"));
		else
			ann_say(a, PP_EV_EXPLAIN, "sasl.challenge.empty",
			    _("an empty challenge: send your "
			    "answer (base64), or * to cancel"));
		return true;
	}
	long dl = b64_decode(s, n, raw, sizeof(raw));
	if (dl < 0) {
		return false;
	}
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, raw, (size_t)dl);
	if (a->sasl_auto)	/* /auth answers it */
		ann_say(a, PP_EV_EXPLAIN, "sasl.challenge",
		    _("the server asks (base64-decoded): \"%s\""), shown);
	else
		ann_say(a, PP_EV_EXPLAIN, "sasl.challenge",
		    _("the server asks (base64-decoded): "
		    "\"%s\"; answer in base64 (/b64 TEXT encodes), or * to "
		    "cancel"), shown);
	return true;
}

/* A list of SASL mechanisms ("PLAIN LOGIN"): each one remembered as the
 * capability prefix+name (AUTH=PLAIN, SASL:PLAIN) and explained. */
void
ann_explain_mechs(struct ann *a, const char *prefix, const char *p,
    size_t pl)
{
	while (pl > 0) {
		while (pl > 0 && *p == ' ')
			p++, pl--;
		size_t ml = 0;
		while (ml < pl && p[ml] != ' ')
			ml++;
		if (ml > 0) {
			char cap[ANN_CAP_LEN];
			snprintf(cap, sizeof(cap), "%s%.*s", prefix,
			    (int)(ml < 40 ? ml : 40), p);
			ann_caps_add(a, cap, strlen(cap));
			ann_explain_mech(a, p, ml);
		}
		p += ml;
		pl -= ml;
	}
}

static const struct hint {
	enum pp_proto_id proto;
	const char *key;
	const char *needles;
	const char *text;
} hints[] = {
#define HINT(proto, key, needles, text) { proto, key, needles, text },
#include "hints.def"
#undef HINT
};

/* Does text (tl bytes) hold needle (nl bytes), ignoring case? */
static bool
holds(const char *text, size_t tl, const char *needle, size_t nl)
{
	for (size_t k = 0; nl > 0 && k + nl <= tl; k++)
		if (strncasecmp(text + k, needle, nl) == 0)
			return true;
	return false;
}

/* The id of a hint: "hint." + its first needle, words joined by "-"
 * ("hint.relay-access-denied"). */
static void
hint_id(const struct hint *h, char *id, size_t cap)
{
	struct sbuf sb;
	sbuf_init(&sb, id, cap);
	sbuf_puts(&sb, "hint.");
	for (const char *p = h->needles; *p && *p != '|'; p++)
		sbuf_add(&sb, isalnum((unsigned char)*p) ? p : "-", 1);
}

const char *
ann_hint(enum pp_proto_id proto, const char *key, const char *text,
    size_t tl, char *id, size_t idcap)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		const struct hint *h = &hints[i];
		if (h->proto != proto || strcasecmp(h->key, key) != 0)
			continue;
		for (const char *p = h->needles; *p; ) {
			size_t nl = strcspn(p, "|");
			if (holds(text, tl, p, nl)) {
				if (id)
					hint_id(h, id, idcap);
				return _(h->text);
			}
			p += nl;
			if (*p == '|')
				p++;
		}
	}
	return NULL;
}

const char *
ann_text_hint(enum pp_proto_id proto, const char *key, const char *text,
    size_t tl)
{
	return ann_hint(proto, key, text, tl, NULL, 0);
}

/* Is a mechanism that shows the password among the capabilities? */
static bool
plaintext_auth_offered(struct ann *a, const struct ann_caps *c)
{
	for (int i = 0; i < c->n; i++) {
		const char *w = c->name[i];
		if (strncasecmp(w, "AUTH=", 5) == 0)
			w += 5;
		else if (strncasecmp(w, "SASL:", 5) == 0)
			w += 5;
		for (size_t k = 0; k < sizeof(sasl_mechs) /
		    sizeof(sasl_mechs[0]); k++)
			if (sasl_mechs[k].plaintext &&
			    strcasecmp(w, sasl_mechs[k].name) == 0)
				return true;
	}
	(void)a;
	return false;
}

void
ann_caps_end(struct ann *a)
{
	if (!a->collecting)
		return;
	a->collecting = false;
	struct ann_caps *c = &a->collect;
	struct pp *pp = a->pp;
	const char *stls = pp->proto ? pp->proto->starttls_verb : "STARTTLS";
	int port = atoi(pp->conn.port);
	const struct role *role = port_role(a, port);

	if (!c->tls) {
		a->plain_caps = *c;
		a->have_plain_caps = true;
		if (!ann_caps_has(c, stls) && (a->expect_starttls ||
		    (role && role->starttls))) {
			char where[96];
			if (role)
				snprintf(where, sizeof(where), "%s",
				    _(role->label));
			else
				snprintf(where, sizeof(where), _("port %d"),
				    port);
			ann_say(a, PP_EV_WARN, "warn.starttls-missing",
			    _("%s is not offered on %s, "
			    "where it is expected: either this server cannot "
			    "do TLS, or someone in the path removed it "
			    "(STARTTLS stripping); a careful client stops "
			    "here"), stls, where);
			if (a->require_tls)
				a->abort = MS_EDOWNGRADE;
		}
		if (plaintext_auth_offered(a, c) || (pp->proto &&
		    pp->proto->id == PROTO_POP3 && ann_caps_has(c, "USER")))
			ann_say(a, PP_EV_WARN, "warn.login-before-tls",
			    _("a login is offered before "
			    "TLS: a password sent now crosses the network "
			    "readable"));
	} else if (a->upgraded && a->have_plain_caps) {
		char gone[512], new[512];
		struct sbuf g, nw;
		sbuf_init(&g, gone, sizeof(gone));
		sbuf_init(&nw, new, sizeof(new));
		caps_minus(a, &a->plain_caps, c, &g);
		caps_minus(a, c, &a->plain_caps, &nw);
		if (!g.len && !nw.len)
			ann_say(a, PP_EV_EXPLAIN, "tls.caps.same",
			    _("the capabilities are the "
			    "same as before TLS"));
		if (nw.len)
			ann_say(a, PP_EV_EXPLAIN, "tls.caps.new",
			    _("new after TLS: %s"), new);
		if (g.len)
			ann_say(a, PP_EV_EXPLAIN, "tls.caps.gone",
			    _("gone after TLS: %s"), gone);
		if (nw.len && plaintext_auth_offered(a, c) &&
		    !plaintext_auth_offered(a, &a->plain_caps))
			ann_say(a, PP_EV_EXPLAIN, "tls.caps.login-inside-tls",
			    _("login is offered only now, "
			    "inside TLS: that is how it should be"));
	}
	a->caps = *c;
	a->have_caps = true;
}

/* Watches for things every protocol shares, then asks the protocol. */
void
ann_event(void *ctx, const struct pp_event *ev)
{
	struct ann *a = ctx;
	struct pp *pp = a->pp;
	a->out(a->octx, ev);
	if (ev->kind == PP_EV_CLOSE) {
		bool req = a->require_tls;
		enum ann_mode mode = a->mode;
		int abort = a->abort;
		struct ann_roles r = a->roles;
		ann_init(a, pp, mode, a->out, a->octx);
		a->require_tls = req;
		a->abort = abort;
		a->roles = r;
		return;
	}
	if (ev->kind == PP_EV_SEND) {
		mask_note(a, ev);
		return;
	}
	if (pp->upgrades != a->upgrades_seen) {
		a->upgrades_seen = pp->upgrades;
		a->upgraded = true;
	}
	if (ev->kind != PP_EV_RECV || !ev->rl || !pp->proto)
		return;
	a->line = ev->line;
	if (a->mode != ANN_OFF || a->require_tls) {
		switch (pp->proto->id) {
		case PROTO_SMTP: smtp_annotate(a, ev); break;
		case PROTO_POP3: pop3_annotate(a, ev); break;
		case PROTO_IMAP: imap_annotate(a, ev); break;
		default: break;
		}
	}
	if (ev->rl->upgrade < 0 && a->require_tls &&
	    !conn_is_tls(&pp->conn)) {
		ann_say(a, PP_EV_WARN, "warn.require-tls.refused",
		    _("--require-tls: the server refused "
		    "STARTTLS, so this session cannot be protected: closing"));
		a->abort = MS_EDOWNGRADE;
	}
	a->line = 0;
}

void
ann_command(struct ann *a, const char *line, size_t n)
{
	struct pp *pp = a->pp;
	if (!pp->proto)
		return;
	switch (pp->proto->id) {
	case PROTO_SMTP: smtp_before_send(a, line, n); break;
	case PROTO_POP3: pop3_before_send(a, line, n); break;
	case PROTO_IMAP: imap_before_send(a, line, n); break;
	default: break;
	}
}

void
ann_answering(struct ann *a, const char *line, size_t n)
{
	struct pp *pp = a->pp;
	const char *s = line;
	size_t rest = n;
	if (pp->proto && pp->proto->id == PROTO_IMAP)
		s = next_word(line, n, &rest);	/* after the tag */
	size_t vl = 0;
	while (vl < rest && s[vl] != ' ')
		vl++;
	snprintf(a->last_cmd, sizeof(a->last_cmd), "%.*s",
	    (int)(vl < 15 ? vl : 15), s);
}

enum ann_verdict
ann_before_send(struct ann *a, const char *line, size_t n,
    const struct pp_sinfo *si)
{
	struct pp *pp = a->pp;
	ann_command(a, line, n);
	a->cred = si->secret ? si->cred : PP_CRED_NONE;
	if (!si->secret || conn_is_tls(&pp->conn))
		return ANN_SEND;
	if (a->require_tls) {
		ann_say(a, PP_EV_WARN, "warn.require-tls.credential",
		    _("--require-tls: this line carries a "
		    "credential and the connection is not encrypted: not "
		    "sent"));
		return ANN_REFUSE;
	}
	const struct sasl_mech *m = a->cred == PP_CRED_SASL ?
	    find_mech(a->sasl_mech, strlen(a->sasl_mech)) : NULL;
	if (m && m->plaintext)
		ann_say(a, PP_EV_WARN, "warn.plaintext-credential",
		    _(cred_warn_b64), m->name);
	else if (m)
		ann_say(a, PP_EV_WARN, "warn.plaintext-credential",
		    _(cred_warn_sasl), m->name);
	else
		ann_say(a, PP_EV_WARN, "warn.plaintext-credential",
		    "%s", _(cred_warn[a->cred]));
	return ANN_CONFIRM;
}
