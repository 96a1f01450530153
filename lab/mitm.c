/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mitm.c: `mailsh mitm`, the man-in-the-middle proxy of the downgrade
 * lessons (see mitm.h for the output contract).
 *
 * One process, one poll loop, non-blocking sockets.  Each connection
 * has two directions (client to server, server to client), each with
 * a bounded input buffer that is cut into lines and a bounded output
 * buffer; a direction is read only while its output buffer has room
 * for everything one read can turn into (backpressure, not growth).
 * A line longer than MITM_LINE passes through in pieces, unchanged.
 * Once STARTTLS has been accepted, every byte is relayed blind.
 * Protocol rules live in mitm_proto.c; this file knows lines, not what
 * they mean.
 *
 * Outside facts relied on:
 *  - ppoll() installs its signal mask atomically with the wait, so a
 *    SIGINT/SIGTERM blocked elsewhere cannot slip in between the flag
 *    check and the wait;
 *  - poll() reports POLLHUP / POLLERR even when not asked for; a socket
 *    that has both hung up and said EOF has nothing more to give;
 *  - a non-blocking connect() says EINPROGRESS, then POLLOUT, and
 *    SO_ERROR tells how it ended;
 *  - shutdown(SHUT_WR) passes one side's EOF on while the other
 *    direction keeps flowing (QUIT sent, reply still to come).
 */
#include "mitm.h"
#include "mitm_int.h"
#include "lab.h"
#include "tls.h"
#include "../protocols/i18n.h"
#include "../protocols/util.h"
#include "../shell/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

static const struct {
	const char *name;
	unsigned bit;
} mode_tab[] = {
	{ "pass", M_PASS },
	{ "strip-starttls", M_STRIP },
	{ "strip-logindisabled", M_STRIPLD },
	{ "refuse-starttls", M_REFUSE },
	{ "inject", M_INJECT },
	{ "preauth", M_PREAUTH },
	{ "tls-intercept", M_INTERCEPT },
	{ NULL, 0 },
};

static volatile sig_atomic_t stop_sig;

static void
on_signal(int sig)
{
	stop_sig = sig;
}

/* Prints one "mitm: " line, with "#N " for a connection (c may be NULL).
 * The line quotes what the server or the client sent (a certificate's
 * subject, a capability): it goes through show_bytes, as in the shell. */
void
mitm_say(const struct mconn *c, const char *fmt, ...)
{
	char msg[8 * MITM_SHOW + 256], shown[4 * sizeof(msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct sbuf sb;
	sbuf_init(&sb, shown, sizeof(shown));
	show_bytes(&sb, msg, strlen(msg));
	if (c)
		printf("mitm: #%u %s\n", c->id, shown);
	else
		printf("mitm: %s\n", shown);
}

/* Prints a relayed line or piece: "#N C: text" or "#N S: text". */
void
mitm_show(const struct mitm *m, const struct mconn *c, const char *who,
    const char *p, size_t n, const char *note)
{
	char buf[4 * MITM_SHOW + 64];
	struct sbuf sb;
	if (m->quiet)
		return;
	sbuf_init(&sb, buf, sizeof buf);
	show_bytes(&sb, p, n < MITM_SHOW ? n : MITM_SHOW);
	if (n > MITM_SHOW)
		sbuf_printf(&sb, ngettext(" ... (%zu byte)", " ... (%zu bytes)",
		    n), n);
	mitm_say(c, "%s %s%s%s", who, buf, *note ? " " : "", note);
}

/* See mitm_int.h. */
void
mitm_put(struct mconn *c, struct half *h, const char *p, size_t n)
{
	if (n > MITM_OUT - h->outlen) {
		c->dead = _("internal: output buffer full");
		return;
	}
	memcpy(h->out + h->outlen, p, n);
	h->outlen += n;
}

/* ---- TLS (tls-intercept) ---- */

/* OpenSSL's reason for the last failure, or fallback. */
static const char *
tls_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : fallback;
}

/* Runs side t's handshake as far as it goes now. */
static void
tls_step(struct mconn *c, struct tside *t, bool client)
{
	if (!t->hs || c->dead)
		return;
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->hs = false;
		t->done = true;
		t->want = 0;
		if (client)
			mitm_say(c, _("TLS with the client is up (%s) with the "
			    "proxy's own certificate; whether the client "
			    "accepted it shows when it sends something"),
			    SSL_get_version(t->ssl));
		else
			mitm_say(c, _("TLS with the server is up (%s)"),
			    SSL_get_version(t->ssl));
		return;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		return;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		return;
	default:
		break;
	}
	if (client)
		mitm_say(c, _("the client broke off the TLS handshake (%s): "
		    "it refused the proxy's certificate, the attack failed"),
		    tls_reason(_("connection closed")));
	else
		mitm_say(c, _("TLS handshake with the server failed: %s"),
		    tls_reason(_("connection closed")));
	c->dead = client ? _("the client refused TLS with the proxy")
	    : _("no TLS with the server");
}

/* Starts TLS with the server side once it is connected. */
static void
tls_server_side(struct mitm *m, struct mconn *c)
{
	if (!c->intercept || c->st.ssl || c->connecting || c->dead)
		return;
	c->st.ssl = SSL_new(m->cctx);
	if (!c->st.ssl || !SSL_set_fd(c->st.ssl, c->sfd)) {
		c->dead = _("out of memory");
		return;
	}
	SSL_set_connect_state(c->st.ssl);
	c->st.hs = true;
	tls_step(c, &c->st, false);
}

/* TLS on both sides from now: the proxy's certificate to the client,
 * its own TLS client to the server. */
static void
tls_begin(struct mitm *m, struct mconn *c)
{
	c->intercept = true;
	c->blind = false;
	c->ct.ssl = SSL_new(m->sctx);
	if (!c->ct.ssl || !SSL_set_fd(c->ct.ssl, c->cfd)) {
		c->dead = _("out of memory");
		return;
	}
	SSL_set_accept_state(c->ct.ssl);
	c->ct.hs = true;
	mitm_say(c, _("answering TLS with the proxy's own certificate "
	    "(O=%s, CN=%s, not signed by the lab's CA) and opening "
	    "its own TLS to the server"), LABTLS_FORGED_O, LAB_DEFAULT_HOST);
	tls_step(c, &c->ct, true);
	tls_server_side(m, c);
}

/* See mitm_int.h. */
void
mitm_tls_go_ahead(struct mitm *m, struct mconn *c)
{
	if (m->modes & M_INTERCEPT) {
		c->tls_wait = true;	/* after the go-ahead is sent */
		mitm_say(c, _("STARTTLS accepted: the proxy now does TLS "
		    "with each side itself"));
		return;
	}
	c->blind = true;
	mitm_say(c, _("STARTTLS accepted: TLS from here on, relaying bytes "
	    "blind (the proxy cannot read or change them)"));
}

/* recv() or SSL_read(): > 0 bytes, 0 at EOF, -1 to wait, -2 error. */
static ssize_t
side_recv(struct tside *t, int fd, char *buf, size_t n)
{
	if (!t->ssl) {
		ssize_t r = recv(fd, buf, n, 0);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? -1 : -2;
		return r;
	}
	ERR_clear_error();
	int r = SSL_read(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ: t->want = POLLIN; return -1;
	case SSL_ERROR_WANT_WRITE: t->want = POLLOUT; return -1;
	case SSL_ERROR_ZERO_RETURN: return 0;
	case SSL_ERROR_SYSCALL:
		return ERR_peek_error() == 0 ? 0 : -2;
	default:
		return ERR_GET_REASON(ERR_peek_last_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING ? 0 : -2;
	}
}

/* send() or SSL_write(): bytes taken, -1 to wait, -2 error. */
static ssize_t
side_send(struct tside *t, int fd, const char *buf, size_t n)
{
	if (!t->ssl) {
		ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? -1 : -2;
		return r;
	}
	ERR_clear_error();
	int r = SSL_write(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ: t->want = POLLIN; return -1;
	case SSL_ERROR_WANT_WRITE: t->want = POLLOUT; return -1;
	default: return -2;
	}
}

/* Decrypted bytes that poll() cannot see? */
static bool
side_pending(const struct tside *t)
{
	return t->ssl && t->done && SSL_pending(t->ssl) > 0;
}

/* Is the side's TLS handshake still to finish (no data moves)? */
static bool
side_busy(const struct tside *t)
{
	return t->ssl && !t->done;
}

/* ---- framing and the loop ---- */

/* Passes what h has received on: lines to client_line / server_line,
 * literals, long-line pieces and blind bytes unchanged.  At EOF, an
 * unterminated rest goes on as it is. */
static void
pump(struct mitm *m, struct mconn *c, struct half *h)
{
	size_t off = 0;
	bool up = h == &c->up;
	while (off < h->inlen && !c->dead) {
		char *s = h->in + off;
		size_t left = h->inlen - off, k;
		if (c->blind) {
			mitm_flush_hold(c, false);
			mitm_put(c, h, s, left);
			off = h->inlen;
			break;
		}
		if (h->lit > 0) {
			k = h->lit < left ? (size_t)h->lit : left;
			mitm_put(c, h, s, k);
			h->lit -= k;
			off += k;
			continue;
		}
		char *lf = memchr(s, '\n', left);
		if (!lf && off == 0 && h->inlen == MITM_LINE) {
			if (!up)
				mitm_flush_hold(c, false);
			mitm_show(m, c, up ? "C:" : "S:", s, left,
			    _("(a piece of a long line, passed on as it is)"));
			mitm_put(c, h, s, left);
			h->midline = true;
			off = left;
			break;
		}
		if (!lf && !h->eof)
			break;
		k = lf ? (size_t)(lf - s) + 1 : left;
		if (h->midline || !lf) {
			if (!up)
				mitm_flush_hold(c, false);
			mitm_show(m, c, up ? "C:" : "S:", s, k, lf ?
			    _("(the end of a long line)") :
			    _("(no line end before EOF)"));
			mitm_put(c, h, s, k);
			h->midline = false;
		} else {
			size_t tn = k - 1;
			if (tn > 0 && s[tn - 1] == '\r')
				tn--;
			if (up)
				mitm_client_line(m, c, s, k, s, tn);
			else
				mitm_server_line(m, c, s, k, s, tn);
		}
		off += k;
	}
	memmove(h->in, h->in + off, h->inlen - off);
	h->inlen -= off;
	if (h->eof && !up)
		mitm_flush_hold(c, false);
}

/* May h's source be read now?  Only when all one read can become fits
 * in the outputs (a full input, a held line, a refusal). */
static bool
can_read(const struct mconn *c, const struct half *h)
{
	if (h->eof || c->connecting || c->dead || h->inlen >= MITM_LINE ||
	    c->tls_wait)
		return false;
	if (side_busy(h == &c->up ? &c->ct : &c->st))
		return false;
	if (MITM_OUT - h->outlen < 2 * MITM_LINE + MITM_SLACK)
		return false;
	return h != &c->up || MITM_OUT - c->down.outlen >= MITM_SLACK;
}

/* The client is gone (end of file, reset, or a write to it failed) after
 * a TLS handshake with the proxy's certificate and before a byte of
 * data: said once, whichever of these the proxy notices first. */
static void
client_left_silent(struct mconn *c)
{
	if (!c->ct.ssl || !c->ct.done || c->client_spoke || c->told_silent)
		return;
	c->told_silent = true;
	mitm_say(c, _("the client closed right after the TLS handshake "
	    "without sending a byte: it most likely checked the proxy's "
	    "certificate and refused it"));
}

/* Reads from fd into h and passes it on.  Marks c dead on errors.
 * The client's first byte is looked at first: 0x16 opens a TLS
 * handshake (implicit TLS; the ports did not tell). */
static void
do_read(struct mitm *m, struct mconn *c, int fd, struct half *h)
{
	bool up = h == &c->up;
	struct tside *t = up ? &c->ct : &c->st;
	if (up && !t->ssl && !c->blind && !c->greeted && c->up.bytes == 0 &&
	    c->down.bytes == 0) {
		unsigned char b;
		if (recv(fd, &b, 1, MSG_PEEK) == 1 && b == 0x16) {
			if (m->modes & M_INTERCEPT) {
				tls_begin(m, c);
				return;
			}
			c->blind = true;
			mitm_say(c, _("the client starts with TLS: relaying "
			    "bytes blind"));
		}
	}
	ssize_t r = side_recv(t, fd, h->in + h->inlen, MITM_LINE - h->inlen);
	if (r == -1)
		return;
	if (r == -2) {
		if (up)
			client_left_silent(c);
		c->dead = up ? _("client connection error")
		    : _("server connection error");
		return;
	}
	if (r == 0) {
		h->eof = true;
		if (up)
			client_left_silent(c);
	} else if (up && t->ssl && !c->client_spoke) {
		c->client_spoke = true;
		mitm_say(c, _("the client talks over TLS with the proxy's "
		    "certificate: it did not check it (or was told to go "
		    "on anyway), so the proxy reads everything"));
	}
	h->inlen += (size_t)r;
	h->bytes += (size_t)r;
	pump(m, c, h);
}

/* Writes what h holds to fd.  Marks c dead on errors. */
static void
do_write(struct mconn *c, int fd, struct half *h)
{
	struct tside *t = h == &c->up ? &c->st : &c->ct;
	if (side_busy(t) || h->outlen == 0)
		return;
	ssize_t r = side_send(t, fd, h->out, h->outlen);
	if (r == -1)
		return;
	if (r < 0) {
		if (h != &c->up)
			client_left_silent(c);
		c->dead = _("write failed (the other side is gone)");
		return;
	}
	memmove(h->out, h->out + r, h->outlen - (size_t)r);
	h->outlen -= (size_t)r;
}

/* Is sa a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)? */
static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const struct in6_addr *a = &s6->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Accepts waiting clients and starts their server connections. */
static void
accept_all(struct mitm *m)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		char host[NI_MAXHOST], serv[NI_MAXSERV];
		int fd = accept4(m->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				mitm_say(NULL, _("accept: %s"), strerror(errno));
			return;
		}
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host,
		    serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(host, sizeof host, "?"), serv[0] = '\0';
		struct mconn *c = NULL;
		if (m->nconns < MITM_MAX_CONNS)
			c = calloc(1, sizeof *c);
		if (!c) {
			mitm_say(NULL, _("refused %s port %s: %s"), host, serv,
			    m->nconns < MITM_MAX_CONNS ? "out of memory"
			    : "too many connections");
			close(fd);
			continue;
		}
		c->id = ++m->next_id;
		c->cfd = fd;
		/* small replies go out at once (no delayed-ACK stall) */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->blind = m->tls_target;
		c->proto = m->proto;
		c->sfd = socket(m->target.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->sfd >= 0)
			setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
		m->conns[m->nconns++] = c;
		mitm_say(c, _("client %s port %s connected; connecting to %s"),
		    host, serv, m->to);
		if (c->sfd < 0 || (connect(c->sfd,
		    (struct sockaddr *)&m->target, m->target_len) < 0 &&
		    errno != EINPROGRESS))
			c->dead = _("cannot connect to the server");
		else
			c->connecting = true;
		if (m->tls_target && (m->modes & M_INTERCEPT) && !c->dead)
			tls_begin(m, c);
		else if (m->tls_target)
			mitm_say(c, _("the server speaks TLS from the first "
			    "byte: relaying bytes blind"));
	}
}

/* Ends a connection: says why, closes both sockets, frees it. */
static void
conn_end(struct mitm *m, int i)
{
	struct mconn *c = m->conns[i];
	char nu[NUM_FMT_MAX], nd[NUM_FMT_MAX], up[80], down[80];
	snprintf(up, sizeof(up), ngettext("%s byte", "%s bytes",
	    (unsigned long)c->up.bytes), num_fmt(nu, sizeof(nu),
	    c->up.bytes));
	snprintf(down, sizeof(down), ngettext("%s byte", "%s bytes",
	    (unsigned long)c->down.bytes), num_fmt(nd, sizeof(nd),
	    c->down.bytes));
	/* TRANSLATORS: why, then "120 bytes" twice */
	mitm_say(c, _("closed: %s (the client sent %s, the server %s)"),
	    c->dead, up, down);
	SSL_free(c->ct.ssl);
	SSL_free(c->st.ssl);
	close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c);
	m->conns[i] = m->conns[--m->nconns];
}

/* After the events: connect results, EOF passed on, closing. */
static void
conn_tidy(struct mitm *m, struct mconn *c, short sev)
{
	if (c->connecting && !c->dead && (sev & (POLLOUT | POLLERR |
	    POLLHUP))) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			mitm_say(c, _("cannot connect to the server: %s"),
			    strerror(err));
			c->dead = _("no server");
		}
		c->connecting = false;
	}
	if (c->connecting || c->dead)
		return;
	tls_server_side(m, c);
	if (c->tls_wait && !c->down.outlen && !c->up.outlen && !c->holdlen) {
		/* the go-ahead has reached the client: TLS both ways */
		c->tls_wait = false;
		if (c->up.inlen)
			mitm_say(c, ngettext("dropped %zu byte the client "
			    "sent in plaintext after STARTTLS", "dropped %zu "
			    "bytes the client sent in plaintext after "
			    "STARTTLS", c->up.inlen), c->up.inlen);
		c->up.inlen = 0;
		tls_begin(m, c);
		if (c->dead)
			return;
	}
	if (c->up.eof && !c->up.inlen && !c->up.outlen && !c->up.shut &&
	    !side_busy(&c->st)) {
		if (c->st.ssl)
			SSL_shutdown(c->st.ssl);	/* close_notify */
		shutdown(c->sfd, SHUT_WR);
		c->up.shut = true;
	}
	if (c->down.eof && !c->down.inlen && !c->down.outlen &&
	    !c->down.shut && !side_busy(&c->ct)) {
		if (c->ct.ssl)
			SSL_shutdown(c->ct.ssl);
		shutdown(c->cfd, SHUT_WR);
		c->down.shut = true;
	}
	if (c->up.shut && c->down.shut)
		c->dead = _("both sides finished");
}

/* The poll loop: runs until SIGINT/SIGTERM.  Returns the exit status. */
static int
run(struct mitm *m)
{
	static struct pollfd pfd[1 + 2 * MITM_MAX_CONNS];
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &none);
	sigdelset(&none, SIGINT);
	sigdelset(&none, SIGTERM);

	while (!stop_sig) {
		int n = m->nconns;
		bool ready = false;	/* decrypted bytes wait in OpenSSL */
		pfd[0] = (struct pollfd){ m->lfd, POLLIN, 0 };
		for (int i = 0; i < n; i++) {
			struct mconn *c = m->conns[i];
			short ce = 0, se = 0;
			if (can_read(c, &c->up))
				ce |= POLLIN;
			if (c->down.outlen && !side_busy(&c->ct))
				ce |= POLLOUT;
			if (can_read(c, &c->down))
				se |= POLLIN;
			if ((c->up.outlen && !side_busy(&c->st)) ||
			    c->connecting)
				se |= POLLOUT;
			ce |= c->ct.ssl ? c->ct.want : 0;
			se |= c->st.ssl ? c->st.want : 0;
			if ((side_pending(&c->ct) && can_read(c, &c->up)) ||
			    (side_pending(&c->st) && can_read(c, &c->down)))
				ready = true;
			pfd[1 + 2 * i] = (struct pollfd){ c->cfd, ce, 0 };
			pfd[2 + 2 * i] = (struct pollfd){ c->sfd, se, 0 };
		}
		const struct timespec zero = { 0, 0 };
		if (ppoll(pfd, 1 + 2 * (nfds_t)n, ready ? &zero : NULL,
		    &none) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mitm: poll: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct mconn *c = m->conns[i];
			short cev = pfd[1 + 2 * i].revents;
			short sev = pfd[2 + 2 * i].revents;
			conn_tidy(m, c, sev);
			if (c->ct.hs && cev)
				tls_step(c, &c->ct, true);
			if (c->st.hs && sev && !c->connecting)
				tls_step(c, &c->st, false);
			if (c->ct.done && cev)
				c->ct.want = 0;		/* retried below */
			if (c->st.done && sev)
				c->st.want = 0;
			if (cev & (POLLOUT | POLLIN))
				do_write(c, c->cfd, &c->down);
			if (sev & (POLLOUT | POLLIN) && !c->dead &&
			    !c->connecting)
				do_write(c, c->sfd, &c->up);
			if ((cev & (POLLIN | POLLHUP | POLLERR | POLLOUT) ||
			    side_pending(&c->ct)) && can_read(c, &c->up))
				do_read(m, c, c->cfd, &c->up);
			if ((sev & (POLLIN | POLLHUP | POLLERR | POLLOUT) ||
			    side_pending(&c->st)) && can_read(c, &c->down))
				do_read(m, c, c->sfd, &c->down);
			conn_tidy(m, c, 0);
			/* an error, or a hang-up with nothing left to read */
			if (!c->dead && ((cev & POLLERR) ||
			    ((cev & POLLHUP) && c->up.eof)))
				c->dead = _("the client hung up first");
			if (!c->dead && !c->connecting && ((sev & POLLERR) ||
			    ((sev & POLLHUP) && c->down.eof)))
				c->dead = _("the server hung up first");
		}
		for (int i = m->nconns - 1; i >= 0; i--)
			if (m->conns[i]->dead)
				conn_end(m, i);
		if (pfd[0].revents & POLLIN)
			accept_all(m);
	}
	mitm_say(NULL, ngettext("stopping on signal %d, closing %d "
	    "connection", "stopping on signal %d, closing %d connections",
	    (unsigned long)m->nconns), (int)stop_sig, m->nconns);
	while (m->nconns > 0) {
		m->conns[m->nconns - 1]->dead = "proxy stopped";
		conn_end(m, m->nconns - 1);
	}
	return 0;
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
	fputs(
_("usage: mailsh mitm --listen [ADDR:]PORT | --port PORT  --to HOST:PORT\n"
"                   [--mode MODE[,MODE...]] [--proto smtp|pop3|imap]\n"
"                   [--port-file FILE] [--allow-nonlocal] [--quiet]\n"
"\n"
"A man in the middle for the downgrade lessons: relays a mail session\n"
"and shows what an attacker in between sees (credentials decoded).\n"
"\n"
"  --listen [ADDR:]PORT  where to listen (ADDR default 127.0.0.1;\n"
"                        [::1]:PORT for IPv6; PORT 0: a free port)\n"
"  --port PORT           the same as --listen 127.0.0.1:PORT\n"
"  --to HOST:PORT        the real server\n"
"  --mode MODES          comma-separated (default pass):\n"
"      pass                 relay unchanged, print what passes\n"
"      strip-starttls       remove STARTTLS / STLS from EHLO, CAPA and\n"
"                           CAPABILITY (also in the IMAP greeting)\n"
"      strip-logindisabled  remove LOGINDISABLED from IMAP capabilities\n"
"      refuse-starttls      answer STARTTLS / STLS with a refusal itself\n"
"      inject               add a plaintext line after the go-ahead\n"
"      preauth              turn the IMAP greeting * OK into * PREAUTH\n"
"      tls-intercept        answer TLS (implicit TLS, or after the\n"
"                           STARTTLS go-ahead) with the proxy's own\n"
"                           certificate for lab.example, not signed by\n"
"                           the lab's CA, and open its own TLS to the\n"
"                           server: a client that checks certificates\n"
"                           refuses it; one that does not is read in\n"
"                           clear (credentials included)\n"
"  --proto P             smtp, pop3 or imap (else from the --to port,\n"
"                        else the greeting); a client that starts with\n"
"                        a TLS handshake is seen as implicit TLS\n"
"  --port-file FILE      write the listening port to FILE\n"
"  --allow-nonlocal      allow addresses outside 127.0.0.0/8 and ::1\n"
"  -q, --quiet           print only what the proxy did, not each line\n"
"\n"
"Output: one line per event on standard output, starting \"mitm: \";\n"
"errors on standard error.  Stop with Ctrl-C (SIGINT) or SIGTERM.\n"), f);
}

/* Splits "[ADDR:]PORT" / "[V6]:PORT" / "HOST:PORT" into host (empty if
 * none) and port (0..65535).  Returns 0, or -1 on bad syntax. */
static int
split_hostport(const char *s, char *host, size_t hcap, int *port)
{
	const char *h = s, *ps = s, *colon;
	size_t hl = 0;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		ps = rb + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		if (memchr(s, ':', (size_t)(colon - s)))
			return -1;	/* a bare IPv6 address needs [] */
		hl = (size_t)(colon - s);
		ps = colon + 1;
	}
	if (hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long v = strtol(ps, &end, 10);
	if (*ps < '0' || *ps > '9' || *end || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Resolves host:port into *ss, taking the first loopback address (any
 * address with nonlocal).  Returns 0, -1 (cannot resolve, message
 * printed) or -2 (only non-loopback addresses). */
static int
resolve(const char *host, int port, bool passive, bool nonlocal,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	char serv[16];
	int rc = -2;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(serv, sizeof serv, "%d", port);
	int e = getaddrinfo(host, serv, &hints, &res);
	if (e) {
		fprintf(stderr, _("mailsh mitm: %s: %s\n"), host,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (!nonlocal && !is_loopback(ai->ai_addr))
			continue;
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		rc = 0;
		break;
	}
	freeaddrinfo(res);
	return rc;
}

/* Opens the listening socket on ss.  Returns the fd or -1. */
static int
listen_on(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, 64) < 0) {
		int save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

/* Writes "PORT\n" to path via a temporary file and rename, so a reader
 * polling for it never sees it half written.  Returns 0 or -1. */
static int
write_port_file(const char *path, int port)
{
	char tmp[4096];
	int k = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (k < 0 || (size_t)k >= sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

/* Parses --mode's comma list into bits.  Returns 0, or -1 (message
 * printed) for an unknown mode. */
static int
parse_modes(const char *s, unsigned *bits)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		int i;
		for (i = 0; mode_tab[i].name; i++)
			if (strlen(mode_tab[i].name) == n &&
			    strncmp(mode_tab[i].name, s, n) == 0)
				break;
		if (!mode_tab[i].name) {
			fprintf(stderr, _("mailsh mitm: unknown mode "
			    "\"%.*s\"\n"), (int)n, s);
			return -1;
		}
		*bits |= mode_tab[i].bit;
		s += n + (s[n] == ',');
	}
	return 0;
}

int
mitm_main(int argc, char **argv)
{
	static struct mitm m;
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'P' },
		{ "to", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "proto", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'F' },
		{ "allow-nonlocal", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char lhost[256] = "", thost[256], shown[NI_MAXHOST], modes[160] = "";
	const char *listen_arg = NULL, *port_file = NULL;
	struct sockaddr_storage lss;
	socklen_t llen = 0;
	bool nonlocal = false;
	int lport = -1, tport = -1, c, rc;

	i18n_init();
	setlocale(LC_CTYPE, "C");
	setlocale(LC_TIME, "C");
	optind = 0;	/* glibc: start afresh, also after another getopt */
	opterr = 0;	/* our own one-line messages */
	m.to = NULL;
	m.proto = NULL;
	m.modes = 0;
	static const char optstring[] = ":qh";
	while ((c = getopt_long(argc, argv, optstring, lopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_arg = optarg; break;
		case 'P':
			if (split_hostport(optarg, lhost, sizeof lhost,
			    &lport) || lhost[0]) {
				fprintf(stderr, _("mailsh mitm: bad --port "
				    "\"%s\"\n"), optarg);
				cli_try("mailsh mitm");
				return 2;
			}
			break;
		case 't': m.to = optarg; break;
		case 'm':
			if (parse_modes(optarg, &m.modes)) {
				cli_try("mailsh mitm");
				return 2;
			}
			break;
		case 'p':
			if (!(m.proto = pp_proto_by_name(optarg))) {
				fprintf(stderr, _("mailsh mitm: unknown protocol "
				    "\"%s\": use smtp, pop3 or imap\n"),
				    optarg);
				cli_try("mailsh mitm");
				return 2;
			}
			break;
		case 'F': port_file = optarg; break;
		case 'N': nonlocal = true; break;
		case 'q': m.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default:
			return cli_bad_option("mailsh mitm", optstring, lopts,
			    c, argv);
		}
	}
	if (listen_arg && split_hostport(listen_arg, lhost, sizeof lhost,
	    &lport)) {
		fprintf(stderr, _("mailsh mitm: bad --listen \"%s\": want "
		    "[ADDR:]PORT\n"), listen_arg);
		cli_try("mailsh mitm");
		return 2;
	}
	if (optind < argc || lport < 0 || !m.to ||
	    split_hostport(m.to, thost, sizeof thost, &tport) ||
	    !thost[0] || tport == 0) {
		fprintf(stderr, _("mailsh mitm: need --listen [ADDR:]PORT (or "
		    "--port) and --to HOST:PORT\n"));
		cli_try("mailsh mitm");
		return 2;
	}
	if (!m.modes)
		m.modes = M_PASS;
	/* else the client's table (it knows the lab's 25xx ports), else
	 * each connection's greeting */
	if (!m.proto)
		m.proto = pp_proto_for_port(tport, &m.tls_target);
	if (!lhost[0])
		snprintf(lhost, sizeof lhost, "127.0.0.1");
	rc = resolve(lhost, lport, true, nonlocal, &lss, &llen);
	if (rc == -2)
		fprintf(stderr, _("mailsh mitm: refusing to listen on %s: not a "
		    "loopback address (127.0.0.0/8, ::1); a classroom "
		    "setup needs --allow-nonlocal\n"), lhost);
	if (rc)
		return rc == -2 ? 2 : 3;
	rc = resolve(thost, tport, false, nonlocal, &m.target,
	    &m.target_len);
	if (rc == -2)
		fprintf(stderr, _("mailsh mitm: refusing to connect to %s: not a "
		    "loopback address (127.0.0.0/8, ::1); use "
		    "--allow-nonlocal\n"), thost);
	if (rc)
		return rc == -2 ? 2 : 3;
	if ((m.lfd = listen_on(&lss, llen)) < 0) {
		fprintf(stderr, _("mailsh mitm: cannot listen on %s port %d: "
		    "%s\n"), lhost, lport, strerror(errno));
		return 3;
	}
	llen = sizeof lss;
	getsockname(m.lfd, (struct sockaddr *)&lss, &llen);
	if (getnameinfo((struct sockaddr *)&lss, llen, shown, sizeof shown,
	    NULL, 0, NI_NUMERICHOST))
		snprintf(shown, sizeof shown, "%s", lhost);
	lport = ntohs(lss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&lss)->sin6_port :
	    ((struct sockaddr_in *)&lss)->sin_port);
	for (int i = 0; mode_tab[i].name; i++)
		if (m.modes & mode_tab[i].bit)
			snprintf(modes + strlen(modes), sizeof modes -
			    strlen(modes), "%s%s", modes[0] ? "," : "",
			    mode_tab[i].name);

	if (m.modes & M_INTERCEPT) {
		m.sctx = labtls_forged(LAB_DEFAULT_HOST);
		m.cctx = SSL_CTX_new(TLS_client_method());
		if (!m.sctx || !m.cctx) {
			close(m.lfd);
			return 1;
		}
		/* an attacker does not care whom it talks to */
		SSL_CTX_set_verify(m.cctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_min_proto_version(m.cctx, TLS1_2_VERSION);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mitm_say(NULL, _("listening on %s %d -> %s (modes: %s)"), shown, lport,
	    m.to, modes);
	mitm_say(NULL, _("protocol %s%s"), m.proto ? m.proto->name :
	    _("from the server's greeting"), !m.tls_target ? "" :
	    (m.modes & M_INTERCEPT) ? _(", implicit TLS: the proxy answers "
	    "it with its own certificate") : _(", implicit TLS: the proxy "
	    "only sees encrypted bytes"));
	if (port_file && write_port_file(port_file, lport) < 0) {
		fprintf(stderr, _("mailsh mitm: cannot write %s: %s\n"),
		    port_file, strerror(errno));
		close(m.lfd);
		return 3;
	}
	rc = run(&m);
	close(m.lfd);
	return rc;
}
