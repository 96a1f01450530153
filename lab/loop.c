/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loop.c: the lab's event loop (see loop.h): listeners, sockets, TLS,
 * line framing, poll, timeouts.  What a session does to its own
 * connection (output buffer, notes, counts, close) is lab/lconn.c.
 *
 * Outside facts relied on:
 *  - ppoll() installs its signal mask atomically with the wait, so a
 *    SIGTERM blocked elsewhere cannot slip in between the flag check and
 *    the wait;
 *  - OpenSSL on a non-blocking socket returns SSL_ERROR_WANT_READ /
 *    WANT_WRITE from SSL_accept, SSL_read and SSL_write, whichever call
 *    it was; the same call is repeated when the socket is ready;
 *  - SSL_read may hold decrypted bytes (SSL_pending) that poll() cannot
 *    see, so a connection with those is serviced without waiting;
 *  - with SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write returns the bytes it
 *    took, like send().
 */
#include "../protocols/i18n.h"
#include "../protocols/util.h"
#include "lconn_int.h"
#include "tls.h"
#include "turn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

/* A connection and its private part in one allocation. */
struct lconn_box {
	struct lconn c;
	struct lconn_priv p;
};

static volatile sig_atomic_t loop_stop;

struct loop;
static struct loop *loop_cur;	/* the running loop (loop_find) */
static uint64_t loop_ids;	/* the last lconn.id given */
#define LOOP_WATCH_MAX	4
static struct {			/* loop_watch: the worker pools */
	int fd;			/* -1: free */
	void (*ready)(void *arg);
	void *arg;
} loop_w[LOOP_WATCH_MAX] = {
	{ -1, NULL, NULL }, { -1, NULL, NULL }, { -1, NULL, NULL },
	{ -1, NULL, NULL },
};

/* SIGINT / SIGTERM: ask the loop to stop. */
static void
loop_on_signal(int sig)
{
	loop_stop = sig;
}

/*
 * The idle timeout of c: --idle-timeout, else the protocol's own, once
 * logged in.  Before that a silent socket must not hold a slot for
 * long (issue 12, finding 4): LAB_FIRST_CMD_S until the TLS handshake
 * is done and the first command has come, LAB_PREAUTH_IDLE_S after it,
 * each shortened to --idle-timeout when that is shorter.
 */
static long
lc_idle_ms(const struct lconn *c)
{
	int s = c->lab->cfg.idle_s ? c->lab->cfg.idle_s : c->l->proto->idle_s;
	if (s <= 0)
		s = LAB_DEFAULT_IDLE_S;
	if (!c->user[0]) {
		int pre = c->priv->cmds == 0 ? LAB_FIRST_CMD_S :
		    LAB_PREAUTH_IDLE_S;
		if (pre < s)
			s = pre;
	}
	return s * 1000L;
}

/* ---- listeners ---- */

int
loop_listen(struct lab_listener *ls, int n, const char *addr, int base)
{
	for (int i = 0; i < n; i++) {
		struct addrinfo hints = {
			.ai_family = AF_UNSPEC,
			.ai_socktype = SOCK_STREAM,
			.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
			    AI_PASSIVE,
		};
		struct addrinfo *ai;
		char port[16];
		snprintf(port, sizeof(port), "%d",
		    base ? base + ls[i].offset : 0);
		int r = getaddrinfo(addr, port, &hints, &ai);
		if (r != 0) {
			fprintf(stderr, _("mailsh lab: --listen %s: %s (give a "
			    "numeric address such as 127.0.0.1 or ::1)\n"),
			    addr, gai_strerror(r));
			return -1;
		}
		int fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, 128) != 0) {
			int e = errno;
			fprintf(stderr, _("mailsh lab: cannot listen on %s port "
			    "%s (%s): %s%s\n"), addr, port, ls[i].name,
			    strerror(e), e == EADDRINUSE ? " (another lab "
			    "running? try --port-base 0 for free ports)" :
			    "");
			if (fd >= 0)
				close(fd);
			freeaddrinfo(ai);
			return -1;
		}
		freeaddrinfo(ai);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		ls[i].port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
		ls[i].fd = fd;
	}
	return 0;
}

void
loop_wake(struct lab *lab)
{
	lab->wake = true;
}

/* ---- other descriptors, TLS ---- */

void
loop_watch(int fd, void (*ready)(void *arg), void *arg)
{
	int free_slot = -1;
	for (int i = 0; i < LOOP_WATCH_MAX; i++) {
		if (loop_w[i].fd >= 0 && loop_w[i].ready == ready &&
		    loop_w[i].arg == arg) {
			free_slot = i;	/* the caller's own: replace it */
			break;
		}
		if (loop_w[i].fd < 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		abort();	/* more watchers than LOOP_WATCH_MAX */
	loop_w[free_slot].fd = fd;
	loop_w[free_slot].ready = fd >= 0 ? ready : NULL;
	loop_w[free_slot].arg = arg;
}

void
lconn_starttls(struct lconn *c)
{
	c->priv->upgrade = true;
}

bool
lconn_is_tls(const struct lconn *c)
{
	return c->priv->ssl != NULL;
}

const char *
lconn_tls_version(const struct lconn *c)
{
	return c->priv->ssl ? SSL_get_version(c->priv->ssl) : "";
}

/* ---- connections ---- */

/* The OpenSSL reason for the last failure, or fallback. */
static const char *
ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : fallback;
}

/* Writes the session's log line on stderr. */
static void
lc_log(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	double secs = (double)(util_now_ms() - p->start_ms) / 1000.0;
	/* the user name, the note and the reason quote what a client
	 * sent: shown through show_bytes like every line mailsh prints */
	char line[2048], shown[4 * sizeof(line)];
	snprintf(line, sizeof(line), "%s[%d] %s%s%s:%d tls=%s user=%s "
	    "cmds=%lu in=%llu out=%llu %.1fs: %s%send: %s",
	    c->l->name, c->l->port, strchr(c->addr, ':') ? "[" : "",
	    c->addr, strchr(c->addr, ':') ? "]" : "", p->port,
	    p->tls[0] ? p->tls : "no", c->user[0] ? c->user : "-", p->cmds,
	    (unsigned long long)p->bytes_in,
	    (unsigned long long)p->bytes_out, secs, p->note,
	    p->notelen ? "; " : "", p->why[0] ? p->why : "closed");
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, line, strlen(line));
	fprintf(stderr, "mailsh lab: %s\n", shown);
}

/* Ends a connection: protocol state, session log line, TLS
 * (close_notify unless it failed), socket, buffers. */
static void
lc_free(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	if (c->l->proto->close)
		c->l->proto->close(c);	/* may add a note */
	lc_log(c);
	if (p->ssl) {
		/* close_notify, without waiting for the client's */
		if (!p->ssl_fatal && SSL_is_init_finished(p->ssl))
			SSL_shutdown(p->ssl);
		SSL_free(p->ssl);
	}
	if (p->fd >= 0)
		close(p->fd);
	free(p->in);
	free(p->out);
	free(c);	/* the box starts with c */
}

/* Begins a server handshake on the connection.  Returns false (and
 * marks it dead) if OpenSSL cannot even start. */
static bool
lc_tls_begin(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	p->ssl = SSL_new(c->lab->tls);
	if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1) {
		snprintf(p->why, sizeof(p->why), "TLS setup failed");
		p->dead = true;
		return false;
	}
	SSL_set_mode(p->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	lconn_set_state(c, LC_HANDSHAKE);
	p->ssl_events = POLLIN;
	return true;
}

/* Translates an OpenSSL result into wait events; false on failure. */
static bool
lc_ssl_wait(struct lconn *c, int r)
{
	struct lconn_priv *p = c->priv;
	switch (SSL_get_error(p->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		p->ssl_events = POLLIN;
		return true;
	case SSL_ERROR_WANT_WRITE:
		p->ssl_events = POLLOUT;
		return true;
	case SSL_ERROR_ZERO_RETURN:
		p->eof = true;
		return true;
	case SSL_ERROR_SSL:
		p->ssl_fatal = true;
		if (ERR_GET_REASON(ERR_peek_last_error()) !=
		    SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return false;
		/* common and harmless here: the session log says so */
		lconn_note(c, "client closed without TLS close_notify");
		p->eof = true;
		return true;
	default:
		p->ssl_fatal = true;
		return false;
	}
}

/* Runs the handshake as far as it goes now. */
static void
lc_handshake(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	ERR_clear_error();
	int r = SSL_accept(p->ssl);
	if (r == 1) {
		snprintf(p->tls, sizeof(p->tls), "%s/%s",
		    p->implicit ? "implicit" : "starttls",
		    SSL_get_version(p->ssl));
		if (c->lab->cfg.client_ca) {
			char who[320];
			labtls_client_note(p->ssl, who, sizeof(who));
			lconn_note(c, "%s", who);
		}
		p->ssl_events = 0;
		lconn_set_state(c, LC_OPEN);
		if (!p->opened) {
			p->opened = true;
			c->l->proto->open(c);
		} else if (c->l->proto->tls_ready) {
			c->l->proto->tls_ready(c);
		}
		return;
	}
	if (lc_ssl_wait(c, r) && !p->eof)
		return;
	snprintf(p->why, sizeof(p->why), "TLS handshake failed: %s",
	    p->eof ? "client closed" : ssl_reason("connection reset"));
	p->dead = true;
}

/* Reads what is there into the input buffer.  Marks eof / dead. */
static void
lc_read(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	if (!p->in && !(p->in = malloc(LAB_LINE_MAX))) {
		snprintf(p->why, sizeof(p->why), "out of memory");
		p->dead = true;
		return;
	}
	while (p->inlen < LAB_LINE_MAX && !p->eof && !p->dead) {
		size_t room = LAB_LINE_MAX - p->inlen;
		ssize_t r;
		if (p->ssl) {
			ERR_clear_error();
			int k = SSL_read(p->ssl, p->in + p->inlen,
			    room > INT_MAX ? INT_MAX : (int)room);
			if (k <= 0) {
				if (!lc_ssl_wait(c, k)) {
					snprintf(p->why, sizeof(p->why),
					    "TLS error: %s",
					    ssl_reason("connection reset"));
					p->dead = true;
				}
				return;
			}
			r = k;
		} else {
			r = recv(p->fd, p->in + p->inlen, room, 0);
			if (r == 0) {
				p->eof = true;
				return;
			}
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				snprintf(p->why, sizeof(p->why), "read: %s",
				    strerror(errno));
				p->dead = true;
				return;
			}
		}
		p->inlen += (size_t)r;
		p->bytes_in += (uint64_t)r;
		p->deadline_ms = util_now_ms() + lc_idle_ms(c);
	}
}

/* Sends what the output buffer holds, as far as the socket takes it. */
static void
lc_flush(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	while (p->outoff < p->outlen && !p->dead) {
		size_t n = p->outlen - p->outoff;
		ssize_t r;
		if (p->ssl) {
			ERR_clear_error();
			int k = SSL_write(p->ssl, p->out + p->outoff,
			    n > INT_MAX ? INT_MAX : (int)n);
			if (k <= 0) {
				if (!lc_ssl_wait(c, k) || p->eof) {
					snprintf(p->why, sizeof(p->why),
					    "TLS write failed: %s",
					    ssl_reason("connection reset"));
					p->dead = true;
				}
				return;
			}
			r = k;
		} else {
			r = send(p->fd, p->out + p->outoff, n, MSG_NOSIGNAL);
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				snprintf(p->why, sizeof(p->why), "write: %s",
				    strerror(errno));
				p->dead = true;
				return;
			}
		}
		p->outoff += (size_t)r;
		p->bytes_out += (uint64_t)r;
		p->deadline_ms = util_now_ms() + lc_idle_ms(c);
	}
	if (p->outoff == p->outlen)
		p->outoff = p->outlen = 0;
}

/* Can the next line be handed to the protocol now? */
static bool
lc_can_dispatch(const struct lconn *c)
{
	const struct lconn_priv *p = c->priv;
	return p->st == LC_OPEN && !p->upgrade && !p->dead &&
	    !p->suspended && !c->refill && lconn_room(c) >= LAB_REPLY_ROOM;
}

/* Hands complete lines to the protocol while it can take them; handles
 * an overlong line (error reply, then its rest is skipped). */
static void
lc_dispatch(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	size_t off = 0;
	if (!p->in)
		return;
	while (lc_can_dispatch(c)) {
		if (c->refill)
			break;
		char *s = p->in + off;
		size_t avail = p->inlen - off;
		if (p->raw_left > 0 && c->l->proto->raw) {
			size_t k = avail < p->raw_left ? avail :
			    (size_t)p->raw_left;
			if (k == 0)
				break;
			p->raw_left -= k;
			off += k;
			c->l->proto->raw(c, s, k);
			continue;
		}
		char *lf = memchr(s, '\n', avail);
		if (!lf) {
			if (off == 0 && p->inlen == LAB_LINE_MAX) {
				/* full without a line end: too long */
				if (!p->skipping) {
					c->l->proto->error(c, LAB_E_TOOLONG);
					lconn_note(c, "line too long");
				}
				p->skipping = true;
				p->inlen = 0;
			}
			break;
		}
		size_t n = (size_t)(lf - s);
		off += n + 1;
		if (p->skipping) {	/* the end of the overlong line */
			p->skipping = false;
			continue;
		}
		c->bare_lf = n == 0 || s[n - 1] != '\r';
		if (!c->bare_lf)
			n--;
		s[n] = '\0';
		if (turn_on)
			turn_line(s, n);
		c->l->proto->line(c, s, n);
		lconn_auth_check(c);
	}
	if (off > 0) {
		memmove(p->in, p->in + off, p->inlen - off);
		p->inlen -= off;
	}
}

/* Runs the refill hook while there is room, until it yields (its share
 * of this turn is done: lc_service lets it go on in the next one). */
static void
lc_refill(struct lconn *c)
{
	while (c->refill && !c->yield && c->priv->st == LC_OPEN &&
	    lconn_room(c) >= LAB_REPLY_ROOM) {
		if (!c->refill(c))
			c->refill = NULL;
	}
}

/* Switches to TLS after the STARTTLS go-ahead has been sent. */
static void
lc_upgrade(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	p->upgrade = false;
	const struct lab_cfg *cfg = &c->lab->cfg;
	char me[32];
	snprintf(me, sizeof(me), ",%s,", c->l->name);
	bool vulnerable = cfg->vulnerable_starttls &&
	    (!cfg->vulnerable_only[0] || strstr(cfg->vulnerable_only, me));
	if (p->inlen > 0 && !vulnerable) {
		/* CVE-2011-0411: bytes sent before the handshake must not
		 * count as sent inside TLS. */
		lconn_note(c, "dropped %zu bytes pipelined after STARTTLS",
		    p->inlen);
		p->inlen = 0;
	} else if (p->inlen > 0) {
		lconn_note(c, "kept %zu plaintext bytes across STARTTLS "
		    "(--vulnerable-starttls)", p->inlen);
	}
	p->skipping = false;
	lc_tls_begin(c);
}

static short lc_events(const struct lconn *c);

/* Gives back the buffers that hold nothing. */
static void
lc_trim(struct lconn *c)
{
	struct lconn_priv *p = c->priv;
	if (p->inlen == 0 && p->in) {
		free(p->in);
		p->in = NULL;
	}
	if (p->outlen == 0 && p->out) {
		free(p->out);
		p->out = NULL;
	}
}

/* One round of work on a connection; revents from poll (0: none). */
static void
lc_service(struct lconn *c, short revents)
{
	struct lconn_priv *p = c->priv;
	c->yield = false;	/* a new turn */
	p->kick = false;
	if (revents & (POLLNVAL | POLLERR)) {
		snprintf(p->why, sizeof(p->why), "connection reset");
		p->dead = true;
		return;
	}
	if ((revents & POLLHUP) && !(lc_events(c) & POLLIN))
		p->eof = true;	/* gone both ways; nothing will be read */
	if (p->st == LC_HANDSHAKE) {
		lc_handshake(c);
		if (p->st == LC_HANDSHAKE || p->dead)
			return;
	}
	for (int round = 0; round < 4 && !p->dead; round++) {
		if (p->st == LC_OPEN && !p->upgrade)
			lc_read(c);
		lc_refill(c);
		lc_dispatch(c);
		lc_refill(c);
		lc_flush(c);
		if (p->upgrade && p->outlen == 0 && !p->dead) {
			lc_upgrade(c);
			lc_handshake(c);
			if (p->st == LC_HANDSHAKE)
				return;
			continue;
		}
		break;
	}
	if (p->eof && p->st == LC_OPEN && !p->dead && !p->suspended) {
		lc_dispatch(c);	/* what came with the close, e.g. QUIT */
		lc_flush(c);
		lconn_close(c, p->inlen || c->refill ?
		    "client closed mid-command" : "client closed");
	}
	if (p->st == LC_CLOSING && p->outlen == 0)
		p->dead = true;
	lc_trim(c);
}

/* Does the connection have work that poll() would not announce? */
static bool
lc_busy(const struct lconn *c)
{
	const struct lconn_priv *p = c->priv;
	if (p->dead || p->st != LC_OPEN || p->upgrade)
		return false;
	if (p->kick)
		return true;
	if (p->ssl && SSL_pending(p->ssl) > 0 && p->inlen < LAB_LINE_MAX)
		return true;
	if (c->refill)
		return lconn_room(c) >= LAB_REPLY_ROOM;
	return lc_can_dispatch(c) && p->inlen &&
	    memchr(p->in, '\n', p->inlen);
}

/* What to wait for in poll() for c. */
static short
lc_events(const struct lconn *c)
{
	const struct lconn_priv *p = c->priv;
	if (p->st == LC_HANDSHAKE)
		return (short)p->ssl_events;
	short ev = 0;
	if (p->ssl_events)
		ev |= (short)p->ssl_events;
	if (p->st == LC_OPEN && !p->upgrade && !p->eof &&
	    p->inlen < LAB_LINE_MAX)
		ev |= POLLIN;
	if (p->outlen > p->outoff)
		ev |= POLLOUT;
	return ev;
}

/* ---- the loop ---- */

struct loop {
	struct lab *lab;
	struct lconn **conns;
	int nconns;
	int cap;
	struct pollfd *pfd;
};

struct lconn *
loop_find(uint64_t id)
{
	struct loop *lp = loop_cur;
	for (int i = 0; lp && i < lp->nconns; i++) {
		struct lconn *c = lp->conns[i];
		if (c->id == id)
			return c->priv->st == LC_OPEN && !c->priv->dead ?
			    c : NULL;
	}
	return NULL;
}

/* How many connections come from addr. */
static int
loop_per_addr(const struct loop *lp, const char *addr)
{
	int k = 0;
	for (int i = 0; i < lp->nconns; i++)
		k += strcmp(lp->conns[i]->addr, addr) == 0;
	return k;
}

/* Connections not logged in (and not already closing) from addr, or
 * from everyone when addr is NULL; *oldest gets the oldest of them. */
static int
loop_preauth(const struct loop *lp, const char *addr, int *oldest)
{
	int k = 0;
	*oldest = -1;
	for (int i = 0; i < lp->nconns; i++) {
		const struct lconn *c = lp->conns[i];
		if (c->user[0] || c->priv->dead ||
		    (addr && strcmp(c->addr, addr) != 0))
			continue;
		if (*oldest < 0 || c->priv->start_ms <
		    lp->conns[*oldest]->priv->start_ms)
			*oldest = i;
		k++;
	}
	return k;
}

/*
 * Makes room for one more connection not yet logged in: at most
 * LAB_PREAUTH_SHARE quarters of --max-conns are such (--max-per-addr
 * caps each address); over that the oldest of them is closed, as
 * Dovecot's login processes drop the oldest unauthenticated client.
 * So silent sockets cannot lock out the students who log in, and
 * those logged in keep their slots.
 */
static void
loop_preauth_room(struct loop *lp)
{
	int cap = lp->cap * LAB_PREAUTH_SHARE / 4;
	int old;
	if (cap < 1)
		cap = 1;
	int k = loop_preauth(lp, NULL, &old);
	if (old < 0 || (k < cap && lp->nconns < lp->cap))
		return;
	struct lconn *c = lp->conns[old];
	struct lconn_priv *p = c->priv;
	if (p->st == LC_OPEN && p->opened) {
		c->refill = NULL;
		p->outoff = p->outlen = 0;
		c->l->proto->error(c, LAB_E_BUSY);
		lc_flush(c);
	}
	snprintf(p->why, sizeof(p->why), "closed: oldest of the clients "
	    "not logged in, to make room");
	lc_free(c);
	lp->conns[old] = lp->conns[--lp->nconns];
}

/* Accepts what is waiting on a listener; over a limit the client gets
 * the protocol's "busy" reply (plaintext ports) and is closed. */
static void
loop_accept(struct loop *lp, const struct lab_listener *l)
{
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				fprintf(stderr, "mailsh lab: accept on %s: "
				    "%s\n", l->name, strerror(errno));
			return;
		}
		struct lconn_box *b = calloc(1, sizeof(*b));
		if (!b) {
			close(fd);
			return;
		}
		struct lconn *c = &b->c;
		struct lconn_priv *p = &b->p;
		c->priv = p;
		c->lab = lp->lab;
		c->l = l;
		c->id = ++loop_ids;
		p->fd = fd;
		p->start_ms = util_now_ms();
		char port[16] = "";
		getnameinfo((struct sockaddr *)&ss, sl, c->addr,
		    sizeof(c->addr), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
		p->port = atoi(port);
		p->deadline_ms = p->start_ms + lc_idle_ms(c);
		/* small replies go out at once: no delayed-ACK stall on the
		 * first write after the TLS handshake (finding 11) */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		const char *refuse = NULL;
		if (loop_per_addr(lp, c->addr) < lp->lab->cfg.max_per_addr)
			loop_preauth_room(lp);
		if (lp->nconns >= lp->cap)
			refuse = "refused: too many connections";
		else if (loop_per_addr(lp, c->addr) >=
		    lp->lab->cfg.max_per_addr)
			refuse = "refused: too many connections from this "
			    "address";
		if (refuse) {
			lconn_set_state(c, LC_OPEN);
			if (!(l->flags & LAB_L_TLS)) {
				l->proto->error(c, LAB_E_BUSY);
				lc_flush(c);
			}
			snprintf(p->why, sizeof(p->why), "%s", refuse);
			lc_free(c);
			continue;
		}
		lp->conns[lp->nconns++] = c;
		if (l->flags & LAB_L_TLS) {
			p->implicit = true;
			if (lc_tls_begin(c))
				lc_handshake(c);
		} else {
			lconn_set_state(c, LC_OPEN);
			p->opened = true;
			l->proto->open(c);
			lc_flush(c);
		}
	}
}

/* Says goodbye to every connection (best effort, no waiting). */
static void
loop_shutdown(struct loop *lp, int sig)
{
	for (int i = 0; i < lp->nconns; i++) {
		struct lconn *c = lp->conns[i];
		struct lconn_priv *p = c->priv;
		if (p->st == LC_OPEN && p->opened) {
			c->refill = NULL;
			p->outoff = p->outlen = 0;
			c->l->proto->error(c, LAB_E_SHUTDOWN);
			lc_flush(c);
		}
		snprintf(p->why, sizeof(p->why), "lab stopped (%s)",
		    strsignal(sig));
		lc_free(c);
	}
	lp->nconns = 0;
}

int
loop_run(struct lab *lab, struct lab_listener *ls, int n)
{
	struct loop lp = { .lab = lab, .cap = lab->cfg.max_conns };
	lp.conns = calloc((size_t)lp.cap, sizeof(*lp.conns));
	lp.pfd = calloc((size_t)(lp.cap + n + LOOP_WATCH_MAX),
	    sizeof(*lp.pfd));
	if (!lp.conns || !lp.pfd) {
		free(lp.conns);
		free(lp.pfd);
		fprintf(stderr, "mailsh lab: out of memory\n");
		return -1;
	}
	sigset_t block, old, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	waitmask = old;
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	struct sigaction sa = { .sa_handler = loop_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int result = 0;
	loop_stop = 0;
	loop_cur = &lp;
	turn_init();
	while (!loop_stop) {
		long now = util_now_ms();
		long wait = 60000;
		for (int i = 0; i < n; i++)
			lp.pfd[i] = (struct pollfd){ ls[i].fd, POLLIN, 0 };
		for (int i = 0; i < lp.nconns; i++) {
			struct lconn *c = lp.conns[i];
			lp.pfd[n + i] = (struct pollfd){ c->priv->fd,
			    lc_events(c), 0 };
			long left = c->priv->deadline_ms - now;
			if (lc_busy(c))
				left = 0;
			if (left < wait)
				wait = left < 0 ? 0 : left;
		}
		int w = n + lp.nconns;	/* loop_watch's fds come last */
		for (int i = 0; i < LOOP_WATCH_MAX; i++)
			lp.pfd[w + i] = (struct pollfd){ loop_w[i].fd, POLLIN,
			    0 };
		struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
		int r = ppoll(lp.pfd, (nfds_t)(w + LOOP_WATCH_MAX), &ts,
		    &waitmask);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "mailsh lab: poll: %s\n",
			    strerror(errno));
			result = -1;
			break;
		}
		if (r < 0)
			continue;
		if (turn_on)
			turn_begin();
		now = util_now_ms();
		int before = lp.nconns;
		for (int i = 0; i < before; i++) {
			struct lconn *c = lp.conns[i];
			struct lconn_priv *p = c->priv;
			short re = lp.pfd[n + i].revents;
			if (re || lc_busy(c)) {
				long t0 = turn_on ? turn_step_begin() : 0;
				const char *st = lconn_state_name(p->st);
				lc_service(c, re);
				if (turn_on)
					turn_step_end(t0, TURN_SERVICE,
					    c->l->name, c->addr, st);
			}
			if (!p->dead && now >= p->deadline_ms) {
				if (p->st == LC_OPEN) {
					c->refill = NULL;
					c->l->proto->error(c, LAB_E_TIMEOUT);
					lconn_close(c, "idle timeout");
					lc_flush(c);
					if (p->outlen == 0)
						p->dead = true;
				} else {
					if (!p->why[0])
						snprintf(p->why,
						    sizeof(p->why), "timeout "
						    "in %s",
						    lconn_state_name(p->st));
					p->dead = true;
				}
			}
		}
		for (int i = 0; i < LOOP_WATCH_MAX; i++) {
			if (!(lp.pfd[w + i].revents & POLLIN) ||
			    !loop_w[i].ready)
				continue;
			long t0 = turn_on ? turn_step_begin() : 0;
			loop_w[i].ready(loop_w[i].arg);
			if (turn_on)
				turn_step_end(t0, TURN_RESULTS, NULL, NULL,
				    NULL);
		}
		if (lab->wake) {	/* a delivery: let sessions look */
			long t0 = turn_on ? turn_step_begin() : 0;
			lab->wake = false;
			for (int i = 0; i < lp.nconns; i++) {
				struct lconn *c = lp.conns[i];
				if (c->l->proto->wake && !c->refill &&
				    c->priv->st == LC_OPEN && !c->priv->dead &&
				    lconn_room(c) >= LAB_REPLY_ROOM) {
					c->l->proto->wake(c);
					lc_flush(c);
				}
			}
			if (turn_on)
				turn_step_end(t0, TURN_WAKE, NULL, NULL, NULL);
		}
		for (int i = 0; i < n; i++) {
			if (!(lp.pfd[i].revents & POLLIN))
				continue;
			long t0 = turn_on ? turn_step_begin() : 0;
			loop_accept(&lp, &ls[i]);
			if (turn_on)
				turn_step_end(t0, TURN_ACCEPT, ls[i].name,
				    NULL, NULL);
		}
		int k = 0;
		for (int i = 0; i < lp.nconns; i++) {
			struct lconn *c = lp.conns[i];
			if (!c->priv->dead) {
				lp.conns[k++] = c;
				continue;
			}
			long t0 = turn_on ? turn_step_begin() : 0;
			const char *name = c->l->name;
			lc_free(c);
			if (turn_on)
				turn_step_end(t0, TURN_FREE, name, NULL, NULL);
		}
		lp.nconns = k;
		if (turn_on)
			turn_end(lp.nconns);
	}
	turn_summary();
	loop_shutdown(&lp, loop_stop ? (int)loop_stop : SIGTERM);
	loop_cur = NULL;
	for (int i = 0; i < n; i++)
		close(ls[i].fd);
	free(lp.conns);
	free(lp.pfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return result < 0 ? -1 : (int)loop_stop;
}
