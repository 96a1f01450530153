/*
 * annotate.c: what every protocol shares when explaining a session:
 * the event pass-through, capability sets and their change across a TLS
 * upgrade, STARTTLS missing where it belongs, credentials about to leave
 * in plaintext, SASL mechanisms.  Protocol details are in *_annot.c.
 */
#include "annotate.h"
#include "i18n.h"
#include "util.h"

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

void
ann_say(struct ann *a, enum pp_ev kind, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct pp_event ev = {
		.kind = kind, .text = msg, .len = strlen(msg),
		.tls = conn_is_tls(&a->pp->conn),
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

/* Words of a that are not in b, as one line. */
static void
caps_minus(const struct ann_caps *x, const struct ann_caps *y,
    struct sbuf *sb)
{
	for (int i = 0; i < x->n; i++)
		if (!ann_caps_has(y, x->name[i])) {
			if (sb->len)
				sbuf_puts(sb, " ");
			sbuf_puts(sb, x->name[i]);
		}
}

/* Ports where the plaintext service normally offers STARTTLS. */
static bool
starttls_expected(const struct ann *a, int port)
{
	return a->expect_starttls || port == 587 || port == 143 ||
	    port == 110 || port == 25 || port == 2525 || port == 2587 ||
	    port == 2143 || port == 2110;	/* the lab's usual ports */
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

void
ann_explain_mech(struct ann *a, const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(sasl_mechs) / sizeof(sasl_mechs[0]);
	    i++) {
		const struct sasl_mech *m = &sasl_mechs[i];
		if (strlen(m->name) == n && strncasecmp(m->name, name, n) == 0) {
			ann_say(a, PP_EV_EXPLAIN, "  %s: %s", m->name,
			    _(m->text));
			return;
		}
	}
	ann_say(a, PP_EV_EXPLAIN, _("  %.*s: a mechanism not in mailsh's "
	    "table"), (int)n, name);
}

/* A SASL challenge (SMTP 334, POP3 and IMAP "+") is base64: show what
 * it says.  Returns false if it is not base64. */
bool
ann_explain_challenge(struct ann *a, const char *s, size_t n)
{
	char raw[512], shown[2100];
	if (n == 0) {
		ann_say(a, PP_EV_EXPLAIN, _("an empty challenge: send your "
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
	ann_say(a, PP_EV_EXPLAIN, _("the server asks (base64-decoded): "
	    "\"%s\"; answer in base64 (/b64 TEXT encodes), or * to cancel"),
	    shown);
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

	if (!c->tls) {
		a->plain_caps = *c;
		a->have_plain_caps = true;
		if (!ann_caps_has(c, stls) && starttls_expected(a, port)) {
			ann_say(a, PP_EV_WARN, _("%s is not offered on port %d, "
			    "where it is expected: either this server cannot "
			    "do TLS, or someone in the path removed it "
			    "(STARTTLS stripping); a careful client stops "
			    "here"), stls, port);
			if (a->require_tls)
				a->abort = MS_EDOWNGRADE;
		}
		if (plaintext_auth_offered(a, c) || (pp->proto &&
		    pp->proto->id == PROTO_POP3 && ann_caps_has(c, "USER")))
			ann_say(a, PP_EV_WARN, _("a login is offered before "
			    "TLS: a password sent now crosses the network "
			    "readable"));
	} else if (a->upgraded && a->have_plain_caps) {
		char gone[512], new[512];
		struct sbuf g, nw;
		sbuf_init(&g, gone, sizeof(gone));
		sbuf_init(&nw, new, sizeof(new));
		caps_minus(&a->plain_caps, c, &g);
		caps_minus(c, &a->plain_caps, &nw);
		if (!g.len && !nw.len)
			ann_say(a, PP_EV_EXPLAIN, _("the capabilities are the "
			    "same as before TLS"));
		if (nw.len)
			ann_say(a, PP_EV_EXPLAIN, _("new after TLS: %s"), new);
		if (g.len)
			ann_say(a, PP_EV_EXPLAIN, _("gone after TLS: %s"), gone);
		if (nw.len && plaintext_auth_offered(a, c) &&
		    !plaintext_auth_offered(a, &a->plain_caps))
			ann_say(a, PP_EV_EXPLAIN, _("login is offered only now, "
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
		ann_init(a, pp, mode, a->out, a->octx);
		a->require_tls = req;
		a->abort = abort;
		return;
	}
	if (pp->upgrades != a->upgrades_seen) {
		a->upgrades_seen = pp->upgrades;
		a->upgraded = true;
	}
	if (ev->kind != PP_EV_RECV || !ev->rl || !pp->proto)
		return;
	if (a->mode != ANN_OFF || a->require_tls) {
		switch (pp->proto->id) {
		case PROTO_SMTP: smtp_annotate(a, ev); break;
		case PROTO_POP3: pop3_annotate(a, ev); break;
		case PROTO_IMAP: imap_annotate(a, ev); break;
		default: break;
		}
	}
	if (ev->rl->upgrade < 0 && a->require_tls) {
		ann_say(a, PP_EV_WARN, _("--require-tls: the server refused "
		    "STARTTLS, so this session cannot be protected: closing"));
		a->abort = MS_EDOWNGRADE;
	}
}

enum ann_verdict
ann_before_send(struct ann *a, const char *line, size_t n,
    const struct pp_sinfo *si)
{
	struct pp *pp = a->pp;
	if (pp->proto) {
		switch (pp->proto->id) {
		case PROTO_SMTP: smtp_before_send(a, line, n); break;
		case PROTO_POP3: pop3_before_send(a, line, n); break;
		case PROTO_IMAP: imap_before_send(a, line, n); break;
		default: break;
		}
	}
	if (!si->secret || conn_is_tls(&pp->conn))
		return ANN_SEND;
	if (a->require_tls) {
		ann_say(a, PP_EV_WARN, _("--require-tls: this line carries a "
		    "credential and the connection is not encrypted: not "
		    "sent"));
		return ANN_REFUSE;
	}
	ann_say(a, PP_EV_WARN, _("this line carries a credential and the "
	    "connection is NOT encrypted: anyone on the path can read it "
	    "(base64 is an encoding, not encryption)"));
	return ANN_CONFIRM;
}
