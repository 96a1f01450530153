/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lconn.c: what a session does to its own lab connection (see loop.h):
 * the bounded output buffer (lconn_write, lconn_reply, lconn_room), the
 * session log note, the command and failed-login counts, raw input for
 * literals, suspend / resume for work off the loop, and the close.  No
 * socket, TLS or poll here (lab/loop.c): the fuzz targets link this
 * file with tests/fuzz/labsession.c in place of the loop.
 */
#include "lconn_int.h"
#include "../protocols/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lc_state_name[] = {
	"handshake", "open", "closing",
};

const char *
lconn_state_name(enum lc_state st)
{
	return lc_state_name[st];
}

/* Changes state; the ONLY way to do so. */
void
lconn_set_state(struct lconn *c, enum lc_state st)
{
	if ((unsigned)st >= sizeof(lc_state_name) / sizeof(*lc_state_name))
		abort();
	c->priv->st = st;
}

size_t
lconn_room(const struct lconn *c)
{
	const struct lconn_priv *p = c->priv;
	return LAB_OUT_CAP - (p->outlen - p->outoff);
}

bool
lconn_write(struct lconn *c, const void *buf, size_t n)
{
	struct lconn_priv *p = c->priv;
	if (p->outoff > 0 && p->outlen + n > LAB_OUT_CAP) {
		memmove(p->out, p->out + p->outoff, p->outlen - p->outoff);
		p->outlen -= p->outoff;
		p->outoff = 0;
	}
	if (p->outlen + n > LAB_OUT_CAP) {
		lconn_close(c, "output buffer full");
		return false;
	}
	if (!p->out && !(p->out = malloc(LAB_OUT_CAP))) {
		lconn_close(c, "out of memory");
		p->dead = true;
		return false;
	}
	memcpy(p->out + p->outlen, buf, n);
	p->outlen += n;
	return true;
}

bool
lconn_reply(struct lconn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (r < 0)
		return false;
	size_t n = (size_t)r < sizeof(line) - 2 ? (size_t)r :
	    sizeof(line) - 3;
	memcpy(line + n, "\r\n", 2);
	return lconn_write(c, line, n + 2);
}

void
lconn_note(struct lconn *c, const char *fmt, ...)
{
	struct lconn_priv *p = c->priv;
	size_t room = sizeof(p->note) - p->notelen;
	if (room < 8)
		return;
	if (p->notelen > 0) {
		memcpy(p->note + p->notelen, "; ", 2);
		p->notelen += 2;
		room -= 2;
	}
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(p->note + p->notelen, room, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if ((size_t)r >= room) {	/* mark the cut */
		p->notelen = sizeof(p->note) - 1;
		memcpy(p->note + p->notelen - 3, "...", 3);
	} else {
		p->notelen += (size_t)r;
	}
	p->note[p->notelen] = '\0';
}

void
lconn_close(struct lconn *c, const char *why)
{
	struct lconn_priv *p = c->priv;
	if (p->st == LC_CLOSING)
		return;
	snprintf(p->why, sizeof(p->why), "%s", why);
	lconn_set_state(c, LC_CLOSING);
	p->deadline_ms = util_now_ms() + 5000;	/* grace to send the rest */
}

bool
lconn_command(struct lconn *c)
{
	if (++c->priv->cmds <= LAB_MAX_CMDS)
		return true;
	c->l->proto->error(c, LAB_E_TOOMANY);
	lconn_close(c, "too many commands");
	return false;
}

void
lconn_raw(struct lconn *c, uint64_t n)
{
	c->priv->raw_left = n;
}

void
lconn_auth_failed(struct lconn *c)
{
	if (++c->priv->auth_fails >= LAB_AUTH_FAILS)
		c->priv->auth_close = true;
}

/* After a line: closes a session that failed to log in too often. */
void
lconn_auth_check(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	if (!p->auth_close || p->st != LC_OPEN)
		return;
	p->auth_close = false;
	c->l->proto->error(c, LAB_E_AUTHFAIL);
	lconn_note(c, "%d failed logins", p->auth_fails);
	lconn_close(c, "too many failed logins");
}

void
lconn_suspend(struct lconn *c)
{
	c->priv->suspended = true;
}

void
lconn_resume(struct lconn *c)
{
	c->priv->suspended = false;
	c->priv->kick = true;
	lconn_auth_check(c);
}
