/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labsession.c: the loop's part of a lab session without sockets, and
 * one session per fuzz input (see labsession.h).  The lconn_* calls a
 * session makes are lab/lconn.c's, as in the lab (LAB_OUT_CAP,
 * LAB_MAX_CMDS, LAB_AUTH_FAILS); what loop.c does around them is done
 * here on the input buffer: lines, raw bytes for literals, a turn's
 * output thrown away, refill while there is LAB_REPLY_ROOM.
 */
#include "labsession.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lab/lconn_int.h"
#include "../../lab/store.h"
#include "../../lab/users.h"
#include "../../shell/config.h"

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
		/* CRAM-MD5 and SCRAM-SHA-256 too: their parsers are fuzzed
		 * with the sessions' */
		lab.cfg.sasl_extra = true;
		lab.users = users_load(state, NULL, true);
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
		c->priv->outoff = c->priv->outlen = 0;
		if (!c->refill || c->priv->st == LC_CLOSING)
			return;
		while (c->refill && c->priv->st != LC_CLOSING &&
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
	struct lconn_priv p = { .fd = -1 };
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
	lconn_set_state(&c, LC_OPEN);
	snprintf(c.addr, sizeof(c.addr), "127.0.0.1");
	proto->open(&c);
	char *in = malloc(size + 1);	/* lines get a NUL put after them */
	if (!in)
		abort();
	memcpy(in, data, size);
	size_t off = 0;
	while (p.st != LC_CLOSING && off < size) {
		drain(&c);
		if (p.st == LC_CLOSING)
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
		lconn_auth_check(&c);
		drain(&c);
		if (lab.wake && proto->wake && !c.refill &&
		    p.st != LC_CLOSING) {
			lab.wake = false;
			proto->wake(&c);
		}
	}
	if (p.st != LC_CLOSING) {
		drain(&c);
		proto->error(&c, LAB_E_SHUTDOWN);
	}
	proto->close(&c);
	free(p.out);
	free(in);
}
