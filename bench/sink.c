/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sink.c: a tiny SMTP sink for mailsh's benchmarks (bench/run), not for
 * anything else.  One connection at a time, on 127.0.0.1 only.
 *
 *     sink CERT.pem KEY.pem [PORT]
 *
 * Listens on 127.0.0.1:PORT (0 or none: any free port), prints "port N"
 * on stdout once it listens, then serves connections one after another
 * until killed: EHLO/HELO, STARTTLS (OpenSSL), MAIL, RCPT, DATA (the
 * message text is read and thrown away), RSET, NOOP, QUIT.  It does not
 * check addresses, does not care about pipelining, and stores nothing.
 * Plaintext buffered when STARTTLS is accepted is dropped (RFC 3207 4.2).
 *
 * Build: cc -O2 -o sink sink.c $(pkg-config --cflags --libs openssl)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_CAP		(256 * 1024)	/* read buffer */
#define LINE_MAX_SMTP	1000		/* RFC 5321 4.5.3.1.6, with CRLF */

struct io {
	int fd;
	SSL *ssl;		/* NULL while in plaintext */
	char buf[BUF_CAP];
	size_t start, end;	/* unread bytes are buf[start..end) */
};

static ssize_t
io_read(struct io *io, void *p, size_t n)
{
	if (!io->ssl)
		return read(io->fd, p, n);
	size_t got = 0;
	if (SSL_read_ex(io->ssl, p, n, &got) == 1)
		return (ssize_t)got;
	return -1;		/* close_notify, TCP close or error */
}

static bool
io_write(struct io *io, const char *s, size_t n)
{
	while (n > 0) {
		size_t done = 0;
		if (io->ssl) {
			if (SSL_write_ex(io->ssl, s, n, &done) != 1)
				return false;
		} else {
			ssize_t r = write(io->fd, s, n);
			if (r <= 0)
				return false;
			done = (size_t)r;
		}
		s += done;
		n -= done;
	}
	return true;
}

static bool
reply(struct io *io, const char *s)
{
	return io_write(io, s, strlen(s));
}

/*
 * Next line into line[] (CR LF stripped), at most cap-1 bytes kept;
 * longer lines are cut and *longer set.  Returns its length, -1 at EOF.
 */
static long
get_line(struct io *io, char *line, size_t cap, bool *longer)
{
	size_t len = 0;
	*longer = false;
	for (;;) {
		if (io->start == io->end) {
			ssize_t r = io_read(io, io->buf, sizeof(io->buf));
			if (r <= 0)
				return -1;
			io->start = 0;
			io->end = (size_t)r;
		}
		char *s = io->buf + io->start;
		size_t avail = io->end - io->start;
		char *lf = memchr(s, '\n', avail);
		size_t take = lf ? (size_t)(lf - s) : avail;
		size_t copy = take < cap - 1 - len ? take : cap - 1 - len;
		memcpy(line + len, s, copy);
		len += copy;
		if (copy < take)
			*longer = true;
		io->start += take + (lf ? 1 : 0);
		if (lf)
			break;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return (long)len;
}

static bool
verb(const char *line, const char *w)
{
	size_t n = strlen(w);
	return strncasecmp(line, w, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ');
}

/* Reads message text up to the lone dot and throws it away. */
static bool
data(struct io *io, unsigned long long *bytes)
{
	char line[LINE_MAX_SMTP + 1];
	bool longer;
	long n;
	*bytes = 0;
	while ((n = get_line(io, line, sizeof(line), &longer)) >= 0) {
		if (n == 1 && line[0] == '.' && !longer)
			return true;
		*bytes += (unsigned long long)n + 2;
	}
	return false;
}

static void
session(SSL_CTX *ctx, struct io *io)
{
	char line[LINE_MAX_SMTP + 1], msg[128];
	bool longer;
	io->start = io->end = 0;
	if (!reply(io, "220 sink.lab.example ESMTP mailsh bench sink\r\n"))
		return;
	while (get_line(io, line, sizeof(line), &longer) >= 0) {
		bool ok = true;
		if (longer) {
			ok = reply(io, "500 5.5.2 Line too long\r\n");
		} else if (verb(line, "EHLO")) {
			ok = reply(io, io->ssl
			    ? "250-sink.lab.example\r\n250-PIPELINING\r\n"
			      "250-8BITMIME\r\n250 SIZE 0\r\n"
			    : "250-sink.lab.example\r\n250-PIPELINING\r\n"
			      "250-8BITMIME\r\n250-SIZE 0\r\n"
			      "250 STARTTLS\r\n");
		} else if (verb(line, "HELO")) {
			ok = reply(io, "250 sink.lab.example\r\n");
		} else if (verb(line, "STARTTLS") && !io->ssl) {
			if (!reply(io, "220 2.0.0 Ready to start TLS\r\n"))
				return;
			io->start = io->end = 0;	/* drop plaintext */
			io->ssl = SSL_new(ctx);
			if (!io->ssl)
				return;
			SSL_set_fd(io->ssl, io->fd);
			if (SSL_accept(io->ssl) != 1) {
				ERR_clear_error();
				return;
			}
		} else if (verb(line, "STARTTLS")) {
			ok = reply(io, "503 5.5.1 TLS already active\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			ok = reply(io, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			ok = reply(io, "250 2.1.5 Ok\r\n");
		} else if (verb(line, "DATA")) {
			unsigned long long bytes;
			if (!reply(io, "354 End data with <CR><LF>.<CR><LF>\r\n")
			    || !data(io, &bytes))
				return;
			snprintf(msg, sizeof(msg), "250 2.0.0 Ok: %llu bytes "
			    "discarded\r\n", bytes);
			ok = reply(io, msg);
		} else if (verb(line, "RSET") || verb(line, "NOOP")) {
			ok = reply(io, "250 2.0.0 Ok\r\n");
		} else if (verb(line, "QUIT")) {
			reply(io, "221 2.0.0 Bye\r\n");
			return;
		} else {
			ok = reply(io, "502 5.5.2 Command not recognized\r\n");
		}
		if (!ok)
			return;
	}
}

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: sink CERT.pem KEY.pem [PORT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "sink: cannot load %s / %s\n", argv[1],
		    argv[2]);
		ERR_print_errors_fp(stderr);
		return 1;
	}
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)(argc == 4 ? atoi(argv[3]) : 0)),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(ls, 16) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sin, &sl) != 0) {
		perror("sink: listen on 127.0.0.1");
		return 1;
	}
	printf("port %u\n", ntohs(sin.sin_port));
	fflush(stdout);

	static struct io io;
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		io.fd = fd;
		io.ssl = NULL;
		session(ctx, &io);
		if (io.ssl) {
			SSL_shutdown(io.ssl);
			SSL_free(io.ssl);
		}
		ERR_clear_error();
		close(fd);
	}
}
