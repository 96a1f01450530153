/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labsession.c: the lconn_* calls of lab/loop.h on an in-memory output
 * buffer (same limits as the loop: LAB_OUT_CAP, LAB_REPLY_ROOM before a
 * line is dispatched, refill while there is room, raw bytes for
 * literals, LAB_MAX_CMDS, LAB_AUTH_FAILS), and one session per fuzz
 * input.  See labsession.h.
 */
#include "labsession.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lab/store.h"
#include "../../lab/users.h"
#include "../../shell/config.h"

struct lconn_priv {
	size_t outlen;		/* bytes in the output buffer */
	uint64_t raw_left;
	int cmds;
	int auth_fails;
	bool auth_close;
	bool closing;
};

static struct lab lab;
static char state[256];

/* The loop is not linked: nothing listens, nothing runs. */
int
loop_listen(struct lab_listener *ls, int n, const char *addr, int base)
{
	(void)ls, (void)n, (void)addr, (void)base;
	return -1;
}

int
loop_run(struct lab *l, struct lab_listener *ls, int n)
{
	(void)l, (void)ls, (void)n;
	return -1;
}

void
loop_wake(struct lab *l)
{
	l->wake = true;
}

/* lab_main and mitm_main (not called here) use these from shell/. */
void
i18n_init(void)
{
}

void
cli_try(const char *prog)
{
	(void)prog;
}

int
cli_bad_option(const char *prog, const char *optstring,
    const struct option *lo, int c, char *const *argv)
{
	(void)prog, (void)optstring, (void)lo, (void)c, (void)argv;
	return 2;
}

size_t
lconn_room(const struct lconn *c)
{
	return LAB_OUT_CAP - c->priv->outlen;
}

bool
lconn_write(struct lconn *c, const void *p, size_t n)
{
	(void)p;
	if (c->priv->outlen + n > LAB_OUT_CAP) {
		lconn_close(c, "output buffer full");
		return false;
	}
	c->priv->outlen += n;
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
	return lconn_write(c, line, n + 2);
}

void
lconn_note(struct lconn *c, const char *fmt, ...)
{
	char note[LAB_NOTE_MAX];
	va_list ap;
	(void)c;
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
}

void
lconn_close(struct lconn *c, const char *why)
{
	(void)why;
	c->priv->closing = true;
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

void
lconn_starttls(struct lconn *c)
{
	/* no TLS here: the session goes on in plain text, as after a
	 * handshake that the protocol is told about */
	c->l->proto->tls_ready(c);
}

bool
lconn_is_tls(const struct lconn *c)
{
	(void)c;
	return false;
}

/* auth.c checks passwords on the loop here (auth_start is never
 * called), so nothing is ever suspended or found again. */
void
lconn_suspend(struct lconn *c)
{
	(void)c;
}

void
lconn_resume(struct lconn *c)
{
	(void)c;
}

struct lconn *
loop_find(uint64_t id)
{
	(void)id;
	return NULL;
}

void
loop_watch(int fd, void (*ready)(void *arg), void *arg)
{
	(void)fd;
	(void)ready;
	(void)arg;
}

const char *
lconn_tls_version(const struct lconn *c)
{
	(void)c;
	return "";
}

/* ---- the state directory ---- */

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag;
	if (f->level == 0)
		return 0;
	if (f->level == 1 && strcmp(p + f->base, "users") == 0)
		return 0;	/* PBKDF2 once, not per input */
	remove(p);
	return 0;
}

static int
rm_all(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(p);
	return 0;
}

/* The state directory goes when the fuzzer exits. */
static void
rm_state(void)
{
	nftw(state, rm_all, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/mail/alice/%s", state, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

static void
reset_state(void)
{
	if (!state[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(state, sizeof(state), "%s/mailsh-fuzz-XXXXXX",
		    t && *t ? t : "/tmp");
		if (!mkdtemp(state))
			abort();
		atexit(rm_state);
		snprintf(lab.cfg.state, sizeof(lab.cfg.state), "%s", state);
		snprintf(lab.cfg.hostname, sizeof(lab.cfg.hostname),
		    "lab.example");
		lab.cfg.plaintext_auth = true;
		lab.cfg.vrfy = true;
		lab.cfg.max_size = 64 * 1024;
		lab.users = users_load(state, NULL);
		if (!lab.users)
			abort();
	}
	nftw(state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (store_init_user(state, "alice") != 0 ||
	    store_init_user(state, "bob") != 0)
		abort();
	put("new/1700000000.M1P1.lab.example",
	    "From: Bob <bob@lab.example>\r\nTo: alice@lab.example\r\n"
	    "Subject: hello\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
	    "Message-ID: <1@lab.example>\r\n\r\nHello Alice.\r\n");
	put("cur/1700000001.M2P1.lab.example:2,S",
	    "From: bob@lab.example\r\nTo: alice@lab.example\r\n"
	    "Subject: parts\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	    "first part\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Subject: inner\r\n\r\ninner body\r\n--b1--\r\n");
}

/* ---- one session ---- */

/* Output of one turn: thrown away, refill run while it has room. */
static void
drain(struct lconn *c)
{
	for (int turns = 0; turns < 10000; turns++) {
		c->priv->outlen = 0;
		if (!c->refill || c->priv->closing)
			return;
		while (c->refill && !c->priv->closing &&
		    lconn_room(c) >= LAB_REPLY_ROOM)
			if (!c->refill(c))
				c->refill = NULL;
	}
	abort();	/* a refill that never ends */
}

void
labsession_run(const struct lab_proto *proto, const uint8_t *data,
    size_t size, bool preauth)
{
	static struct lab_listener l;
	struct lconn_priv p = { 0 };
	struct lconn c = { 0 };
	reset_state();
	lab.cfg.preauth = preauth;
	lab.wake = false;
	l.name = proto->name;
	l.proto = proto;
	l.flags = 0;
	c.lab = &lab;
	c.l = &l;
	c.priv = &p;
	snprintf(c.addr, sizeof(c.addr), "127.0.0.1");
	proto->open(&c);
	char *in = malloc(size + 1);	/* lines get a NUL put after them */
	if (!in)
		abort();
	memcpy(in, data, size);
	size_t off = 0;
	while (!p.closing && off < size) {
		drain(&c);
		if (p.closing)
			break;
		char *s = in + off;
		size_t avail = size - off;
		if (p.raw_left > 0 && proto->raw) {
			size_t k = avail < p.raw_left ? avail :
			    (size_t)p.raw_left;
			p.raw_left -= k;
			off += k;
			proto->raw(&c, s, k);
			continue;
		}
		char *lf = memchr(s, '\n', avail);
		size_t n = lf ? (size_t)(lf - s) : avail;
		off += n + (lf ? 1 : 0);
		if (n + 1 > LAB_LINE_MAX) {
			proto->error(&c, LAB_E_TOOLONG);
			continue;
		}
		c.bare_lf = n == 0 || s[n - 1] != '\r';
		if (!c.bare_lf)
			n--;
		char save = s[n];
		s[n] = '\0';
		proto->line(&c, s, n);
		s[n] = save;
		if (p.auth_close && !p.closing) {
			p.auth_close = false;
			proto->error(&c, LAB_E_AUTHFAIL);
			lconn_close(&c, "too many failed logins");
		}
		drain(&c);
		if (lab.wake && proto->wake && !c.refill && !p.closing) {
			lab.wake = false;
			proto->wake(&c);
		}
	}
	if (!p.closing) {
		drain(&c);
		proto->error(&c, LAB_E_SHUTDOWN);
	}
	proto->close(&c);
	free(in);
}
