/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conn.c: TCP connect with timeout over every address of a name, and the
 * TLS client (OpenSSL 3): SNI, hostname/IP checks, verification that
 * records every problem instead of stopping at the first, and a report
 * of what was negotiated.
 *
 * Outside facts relied on:
 *  - a non-blocking connect() completes when the socket is writable;
 *    SO_ERROR then holds its result;
 *  - with SSL_VERIFY_NONE OpenSSL still verifies the chain and calls the
 *    verify callback for each problem; SSL_set1_host() makes the name
 *    check part of that verification (X509_V_ERR_HOSTNAME_MISMATCH);
 *  - SNI must not carry an IP literal (RFC 6066 section 3).
 */
#include "conn.h"
#include "i18n.h"
#include "pcap.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static void
say_tf(struct conn *c, enum ms_say kind, const char *id,
    const struct tls_facts *tf, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->say)
		c->say(c->say_ctx, kind, id, tf, msg);
}

/* id: the message's stable name for machines (pp_event.id). */
static void
say(struct conn *c, enum ms_say kind, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(struct conn *c, enum ms_say kind, const char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_tf(c, kind, id, NULL, fmt, ap);
	va_end(ap);
}

/* The last line of a handshake report: it carries c->facts. */
static void
say_facts(struct conn *c, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say_facts(struct conn *c, const char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_tf(c, SAY_TLS, id, &c->facts, fmt, ap);
	va_end(ap);
}

/* --pcap: a write that failed is said once; the capture stops there. */
static void
pcap_said(struct conn *c, int r)
{
	if (r == 0 || c->pcap->told)
		return;
	c->pcap->told = true;
	say(c, SAY_WARN, "warn.pcap-failed",
	    _("cannot write the capture %s: %s; it stops here"),
	    c->pcap->path, strerror(errno));
}

/* --pcap: the connection begins (a TCP handshake in the file). */
static void
pcap_begin(struct conn *c, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	uint32_t isn[2] = { 0, 0 };
	if (!c->pcap)
		return;
	if (RAND_bytes((unsigned char *)isn, sizeof(isn)) != 1)
		isn[0] = (uint32_t)pcap_now(), isn[1] = ~isn[0];
	int r = getsockname(c->fd, (struct sockaddr *)&local, &ll);
	if (r == 0)
		r = pcap_connect(c->pcap, (struct sockaddr *)&local, peer,
		    isn[0], isn[1], pcap_now());
	pcap_said(c, r);
	if (c->pcap->failed)
		return;
	say(c, SAY_WARN, "warn.pcap",
	    _("what this connection carries goes to %s (--pcap), after "
	    "TLS decryption: anyone who has that file can read the "
	    "session, passwords included"), c->pcap->path);
}

/* --pcap: bytes read (from_server) or written. */
static void
pcap_bytes(struct conn *c, bool from_server, const void *buf, size_t n)
{
	if (c->pcap && n > 0)
		pcap_said(c, pcap_data(c->pcap, from_server, buf, n,
		    pcap_now()));
}

/* --pcap: the server closed its side. */
static void
pcap_eof(struct conn *c)
{
	if (c->pcap)
		pcap_said(c, pcap_fin(c->pcap, true, pcap_now()));
}

void
conn_init(struct conn *c, conn_say_fn fn, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->say = fn;
	c->say_ctx = ctx;
	c->timeout_ms = 30000;
}

bool
conn_is_open(const struct conn *c)
{
	return c->fd >= 0;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL;
}

/* Waits for events on fd until deadline.  Returns poll()'s revents, 0 on
 * timeout, -1 when interrupted. */
static int
wait_fd(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - util_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return p.revents ? p.revents : events;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		/* EINTR: the shell's SIGINT handler asks us to give up */
		return -1;
	}
}

/* What a connect error means and what to check, as data. */
static const struct {
	int err;
	const char *what;
	const char *check;
} conn_errs[] = {
	{ ECONNREFUSED, N_("connection refused"),
	  N_("nothing listens on that port: check the port number and that "
	     "the server runs") },
	{ ETIMEDOUT, N_("timed out"),
	  N_("no answer at all: a firewall may drop the packets, or the "
	     "host is down") },
	{ EHOSTUNREACH, N_("no route to host"),
	  N_("check the address and your network connection") },
	{ ENETUNREACH, N_("network unreachable"),
	  N_("check your network connection (or IPv6 support, try -4)") },
	{ EADDRNOTAVAIL, N_("address not available"),
	  N_("the address cannot be used from this machine") },
	{ EACCES, N_("permission denied"),
	  N_("a local firewall rule forbids this connection") },
	{ 0, NULL, NULL },
};

static void
explain_errno(int err, const char **what, const char **check)
{
	for (size_t i = 0; conn_errs[i].what; i++) {
		if (conn_errs[i].err == err) {
			*what = _(conn_errs[i].what);
			*check = _(conn_errs[i].check);
			return;
		}
	}
	*what = strerror(err);
	*check = "";
}

enum ms_err
conn_open(struct conn *c, const char *host, const char *port, int family,
    int timeout_ms)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int last_err = 0;

	conn_close(c);
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->port, sizeof(c->port), "%s", port);
	c->timeout_ms = timeout_ms;

	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	int gr = getaddrinfo(host, port, &hints, &res);
	if (gr != 0) {
		const char *check = gr == EAI_NONAME || gr == EAI_NODATA
		    ? _("check the spelling of the name and your DNS")
		    : gr == EAI_AGAIN ? _("DNS did not answer; try again")
		    : gr == EAI_SERVICE ? _("the port must be a number")
		    : "";
		say(c, SAY_ERROR, "conn.failed",
		    _("cannot connect to %s port %s: %s%s%s"),
		    host, port, gai_strerror(gr), *check ? "; " : "", check);
		return MS_ECONN;
	}

	for (ai = res; ai; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "?";
		getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
		    NULL, 0, NI_NUMERICHOST);
		int fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_err = errno;
			continue;
		}
		int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r < 0 && errno == EINPROGRESS) {
			int ev = wait_fd(fd, POLLOUT, util_now_ms() + timeout_ms);
			if (ev == 0) {
				errno = ETIMEDOUT;
			} else if (ev < 0) {
				errno = EINTR;
			} else {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
				    &sl);
				errno = soerr;
				r = soerr ? -1 : 0;
			}
		}
		if (r == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			c->fd = fd;
			snprintf(c->addr, sizeof(c->addr), "%s", addr);
			say(c, SAY_NOTE, "conn.connected",
			    _("connected to %s (%s) port %s"),
			    host, addr, port);
			pcap_begin(c, ai->ai_addr);
			freeaddrinfo(res);
			return MS_OK;
		}
		last_err = errno;
		close(fd);
		if (last_err == EINTR)
			break;
		const char *what, *check;
		explain_errno(last_err, &what, &check);
		if (ai->ai_next)
			say(c, SAY_NOTE, "conn.next-address",
			    _("%s port %s: %s; trying the next "
			    "address"), addr, port, what);
	}
	freeaddrinfo(res);
	if (last_err == EINTR) {
		say(c, SAY_ERROR, "conn.interrupted",
		    _("connecting to %s port %s: interrupted"),
		    host, port);
		return MS_ECONN;
	}
	const char *what, *check;
	explain_errno(last_err, &what, &check);
	say(c, SAY_ERROR, "conn.failed",
	    _("cannot connect to %s port %s: %s%s%s"), host,
	    port, what, *check ? "; " : "", check);
	return MS_ECONN;
}

/* Verification problems in words a student understands, as data. */
static const struct {
	long code;
	const char *words;
	const char *id;		/* for machines: json verify_error */
} verr_words[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED,
	  N_("the certificate has expired"), "expired" },
	{ X509_V_ERR_CERT_NOT_YET_VALID,
	  N_("the certificate is not valid yet (check the clock)"),
	  "not-yet-valid" },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	  N_("the certificate is self-signed: nobody vouches for it"),
	  "self-signed" },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
	  N_("the chain ends in a CA that is not trusted here"),
	  "untrusted-root" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	  N_("unknown issuer: the CA that signed it is not trusted here "
	     "(use --cafile for a private CA)"), "unknown-issuer" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
	  N_("unknown issuer: the CA that signed it is not trusted here"),
	  "unknown-issuer" },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
	  N_("unknown issuer: the chain cannot be checked (a missing "
	     "intermediate certificate?)"), "unknown-issuer" },
	{ X509_V_ERR_HOSTNAME_MISMATCH,
	  N_("name mismatch: the certificate is not for the name you "
	     "connected to"), "name-mismatch" },
	{ X509_V_ERR_IP_ADDRESS_MISMATCH,
	  N_("name mismatch: the certificate is not for the address you "
	     "connected to"), "ip-mismatch" },
	{ X509_V_ERR_CERT_REVOKED, N_("the certificate has been revoked"),
	  "revoked" },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE,
	  N_("the certificate's signature is invalid"), "bad-signature" },
	{ X509_V_ERR_CA_KEY_TOO_SMALL, N_("a CA key is too weak"),
	  "weak-ca-key" },
	{ X509_V_ERR_EE_KEY_TOO_SMALL, N_("the server's key is too weak"),
	  "weak-key" },
	{ X509_V_ERR_CA_MD_TOO_WEAK,
	  N_("signed with a weak hash algorithm"), "weak-hash" },
	{ X509_V_ERR_INVALID_CA,
	  N_("a certificate in the chain is not a CA"), "invalid-ca" },
	{ 0, NULL, NULL },
};

/* A verification problem as a word for machines ("expired"). */
static void
verr_id(long code, char *buf, size_t cap)
{
	for (size_t i = 0; verr_words[i].words; i++)
		if (verr_words[i].code == code) {
			snprintf(buf, cap, "%s", verr_words[i].id);
			return;
		}
	snprintf(buf, cap, "x509-%ld", code);
}

static const char *
verr_text(long code)
{
	for (size_t i = 0; verr_words[i].words; i++)
		if (verr_words[i].code == code)
			return _(verr_words[i].words);
	return X509_verify_cert_error_string(code);
}

/* Records every verification problem and lets the handshake go on: the
 * decision to stop is made after the report, in conn_tls(). */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	if (ok)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	long e = X509_STORE_CTX_get_error(xs);
	/* an unknown issuer also makes the leaf unverifiable: say it once */
	if (e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
		e = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	if (c) {
		for (int i = 0; i < c->nverr; i++)
			if (c->verr[i] == e)
				return 1;
		if (c->nverr < CONN_VERR_MAX) {
			c->verr_depth[c->nverr] =
			    X509_STORE_CTX_get_error_depth(xs);
			c->verr[c->nverr++] = e;
		}
	}
	return 1;
}

static void
name_line(X509_NAME *n, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	buf[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	int len = BIO_read(b, buf, (int)cap - 1);
	buf[len > 0 ? len : 0] = '\0';
	BIO_free(b);
}

static void
time_line(const ASN1_TIME *t, char *buf, size_t cap)
{
	struct tm tm;
	buf[0] = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Removes whatever OpenSSL queued so old errors are not misreported. */
static void
tls_error_text(char *buf, size_t cap)
{
	unsigned long e, last = 0;
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, buf, cap);
	else
		snprintf(buf, cap, "%s", "?");
}

/* Asking for a key's passphrase (pass_cb's user data). */
struct pass_ask {
	const char *pass;	/* --pass, or NULL */
	const char *file;
	bool asked;		/* the key is encrypted */
	bool no_tty;		/* ... and there is no terminal to ask on */
	bool interrupted;	/* Ctrl-C at the prompt */
	/* OpenSSL 3 tries several decoders and may call back for each:
	 * the terminal is asked once, its answer (or failure) kept */
	int got;		/* 0: not asked yet; 1: in phrase; -1: none */
	char phrase[1024];
};

static int pass_ask(struct pass_ask *pa, char *buf, int size);

/*
 * pem_password_cb: the passphrase from --pass, else typed on the
 * controlling terminal with echo off (never standard input: that may
 * be the script).  Returns its length, or -1.
 */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ask *pa = u;
	(void)rwflag;
	pa->asked = true;
	if (size < 2)
		return -1;
	if (pa->pass) {
		size_t n = strlen(pa->pass);
		if (n >= (size_t)size)
			return -1;
		memcpy(buf, pa->pass, n);
		return (int)n;
	}
	if (pa->got == 0) {
		int n = pass_ask(pa, pa->phrase, (int)sizeof(pa->phrase));
		pa->got = n < 0 ? -1 : 1;
	}
	size_t n = strlen(pa->phrase);
	if (pa->got < 0 || n >= (size_t)size)
		return -1;
	memcpy(buf, pa->phrase, n);
	return (int)n;
}

/* Reads a passphrase (at most size - 1 bytes, NUL-terminated) from the
 * controlling terminal with echo off.  Returns its length or -1. */
static int
pass_ask(struct pass_ask *pa, char *buf, int size)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios old, quiet;
	if (fd < 0 || tcgetattr(fd, &old) != 0) {
		if (fd >= 0)
			close(fd);
		pa->no_tty = true;
		return -1;
	}
	char prompt[512];
	int pl = snprintf(prompt, sizeof(prompt),
	    _("passphrase for the key in %s: "), pa->file);
	if (pl > 0 && write(fd, prompt, strlen(prompt)) < 0)
		pl = -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	int n = 0;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR) {
			pa->interrupted = true;
			n = -1;
			break;
		}
		if (r <= 0 || ch == '\n')
			break;
		if (n < size - 1)
			buf[n++] = ch;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	if (n < 0 && write(fd, "\n", 1) < 0)
		n = -1;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Loads --cert and --key (the key from the certificate's file when
 * --key is not given).  Returns MS_OK or MS_ETLS after saying why. */
static enum ms_err
tls_client_cert(struct conn *c, const struct tls_opts *o)
{
	const char *kf = o->key ? o->key : o->cert;
	char e[256];
	FILE *cf = fopen(o->cert, "r");
	if (!cf) {
		say(c, SAY_ERROR, "tls.cert-unreadable",
		    _("cannot load the client certificate %s: %s"), o->cert,
		    strerror(errno));
		return MS_ETLS;
	}
	fclose(cf);
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1) {
		tls_error_text(e, sizeof(e));
		say(c, SAY_ERROR, "tls.cert-unreadable",
		    _("cannot load the client certificate %s: %s"), o->cert,
		    e);
		return MS_ETLS;
	}
	FILE *f = fopen(kf, "r");
	if (!f) {
		say(c, SAY_ERROR, "tls.key-unreadable",
		    _("cannot read the key file %s: %s"), kf,
		    strerror(errno));
		return MS_ETLS;
	}
	struct pass_ask pa = { .pass = o->pass, .file = kf };
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, pass_cb, &pa);
	OPENSSL_cleanse(pa.phrase, sizeof(pa.phrase));
	fclose(f);
	ERR_clear_error();
	if (!pk) {
		if (pa.no_tty)
			say(c, SAY_ERROR, "tls.key-needs-pass",
			    _("the key in %s is protected by a passphrase "
			    "and there is no terminal to ask for it: give it "
			    "with --pass"), kf);
		else if (pa.interrupted)
			say(c, SAY_ERROR, "tls.key-interrupted",
			    _("reading the passphrase for %s: interrupted"),
			    kf);
		else if (pa.asked)
			say(c, SAY_ERROR, "tls.key-bad-pass",
			    _("cannot decrypt the key in %s: wrong "
			    "passphrase?"), kf);
		else
			say(c, SAY_ERROR, "tls.key-missing", o->key
			    ? _("no private key found in %s")
			    : _("no private key found in %s: give it with "
			    "--key FILE"), kf);
		return MS_ETLS;
	}
	int ok = SSL_CTX_use_PrivateKey(c->ctx, pk) == 1 &&
	    SSL_CTX_check_private_key(c->ctx) == 1;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	if (!ok) {
		say(c, SAY_ERROR, "tls.key-mismatch",
		    _("the key in %s does not belong to the client "
		    "certificate in %s"), kf, o->cert);
		return MS_ETLS;
	}
	return MS_OK;
}

/*
 * SSL_CTX_set_cert_cb: on a client, OpenSSL calls it when the server
 * sends a CertificateRequest.  Notes that, and the CAs the server
 * accepts (SSL_get_client_CA_list), for the report.  Returns 1.
 */
static int
cert_request_cb(SSL *ssl, void *arg)
{
	(void)arg;
	struct conn *c = SSL_get_app_data(ssl);
	if (!c)
		return 1;
	c->cert_asked = true;
	STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(ssl);
	struct sbuf sb;
	sbuf_init(&sb, c->cert_asked_cas, sizeof(c->cert_asked_cas));
	for (int i = 0; cas && i < sk_X509_NAME_num(cas); i++) {
		char n[256];
		name_line(sk_X509_NAME_value(cas, i), n, sizeof(n));
		if (i)
			sbuf_puts(&sb, "; ");
		show_bytes(&sb, n, strlen(n));
	}
	return 1;
}

/*
 * --keylog: OpenSSL hands each secret as one line of the NSS key log
 * format (CLIENT_RANDOM, CLIENT_HANDSHAKE_TRAFFIC_SECRET, ...), without
 * the line end.  Each goes out in one write, at once, so a capture can
 * be decrypted while the session runs.
 */
static void
keylog_cb(const SSL *ssl, const char *line)
{
	struct conn *c = SSL_get_app_data(ssl);
	if (!c || !c->keylog)
		return;
	fprintf(c->keylog, "%s\n", line);
	fflush(c->keylog);
}

/* The versions --tls-min and --tls-max take, as data. */
static const struct {
	const char *name;
	int version;
} tls_versions[] = {
	{ "1.0", TLS1_VERSION }, { "1.1", TLS1_1_VERSION },
	{ "1.2", TLS1_2_VERSION }, { "1.3", TLS1_3_VERSION },
	{ NULL, 0 },
};

int
conn_tls_version_parse(const char *s)
{
	for (size_t i = 0; tls_versions[i].name; i++)
		if (strcmp(s, tls_versions[i].name) == 0)
			return tls_versions[i].version;
	return 0;
}

/* "1.2" for TLS1_2_VERSION; "?" if unknown. */
static const char *
tls_version_name(int v)
{
	for (size_t i = 0; tls_versions[i].name; i++)
		if (tls_versions[i].version == v)
			return tls_versions[i].name;
	return "?";
}

bool
conn_tls_opts_legacy(const struct tls_opts *o)
{
	return (o->min_version && o->min_version < TLS1_2_VERSION) ||
	    (o->max_version && o->max_version < TLS1_2_VERSION);
}

/*
 * Applies the version range, cipher lists and groups of o to ctx.
 * OpenSSL 3's default security level (1) refuses TLS 1.0 and 1.1
 * outright, so when o asks for them the level drops to 0, as
 * "@SECLEVEL=0" in a cipher list would (a level in --ciphers, set
 * after this, still wins).  Returns TLS_OPT_OK or what was refused.
 */
static enum tls_opt_bad
tls_ctx_apply(SSL_CTX *ctx, const struct tls_opts *o)
{
	if (o->min_version && o->max_version && o->min_version >
	    o->max_version)
		return TLS_OPT_RANGE;
	if (!SSL_CTX_set_min_proto_version(ctx, o->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, o->max_version))
		return TLS_OPT_RANGE;
	if (conn_tls_opts_legacy(o))
		SSL_CTX_set_security_level(ctx, 0);
	if (o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1)
		return TLS_OPT_CIPHERS;
	if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx,
	    o->ciphersuites) != 1)
		return TLS_OPT_CIPHERSUITES;
	if (o->groups && SSL_CTX_set1_groups_list(ctx, o->groups) != 1)
		return TLS_OPT_GROUPS;
	return TLS_OPT_OK;
}

enum tls_opt_bad
conn_tls_opts_check(const struct tls_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return TLS_OPT_OK;	/* said when the handshake comes */
	enum tls_opt_bad r = tls_ctx_apply(ctx, o);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

static enum ms_err
tls_ctx(struct conn *c, const struct tls_opts *o)
{
	if (c->ctx)
		return MS_OK;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx) {
		say(c, SAY_ERROR, "tls.setup-failed",
		    _("cannot set up TLS (out of memory?)"));
		return MS_EINTERNAL;
	}
	if (tls_ctx_apply(c->ctx, o) != TLS_OPT_OK) {
		/* main checked them: only a changed library gets here */
		say(c, SAY_ERROR, "tls.setup-failed",
		    _("cannot set up TLS: OpenSSL refuses the versions, "
		    "ciphers or groups asked for"));
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
		return MS_EUSAGE;
	}
	if (conn_tls_opts_legacy(o))
		say(c, SAY_WARN, "warn.tls.seclevel",
		    _("security level lowered to 0 (@SECLEVEL=0) so that "
		    "TLS 1.0 and 1.1 can be used at all: this also accepts "
		    "weak keys and ciphers"));
	/* The hashed directory is looked up lazily, per issuer; parsing
	 * the whole bundle file costs more than the rest of a session.
	 * Without a directory the file is loaded now; SSL_CERT_FILE is
	 * consulted only if the directory does not vouch for the server
	 * (see file_verifies). */
	const char *dir = getenv(X509_get_default_cert_dir_env());
	if (!dir)
		dir = X509_get_default_cert_dir();
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		SSL_CTX_set_default_verify_file(c->ctx);
	else
		SSL_CTX_set_default_verify_dir(c->ctx);
	if (o->cafile && SSL_CTX_load_verify_locations(c->ctx, o->cafile,
	    NULL) != 1) {
		char e[256];
		tls_error_text(e, sizeof(e));
		say(c, SAY_ERROR, "tls.cafile-unreadable",
		    _("cannot load CA file %s: %s"), o->cafile,
		    e);
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
		return MS_ETLS;
	}
	if (o->capath && SSL_CTX_load_verify_locations(c->ctx, NULL,
	    o->capath) != 1) {
		char e[256];
		tls_error_text(e, sizeof(e));
		say(c, SAY_ERROR, "tls.capath-unreadable",
		    _("cannot use the CA directory %s: %s"), o->capath, e);
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
		return MS_ETLS;
	}
	if (o->cert && tls_client_cert(c, o) != MS_OK) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
		return MS_ETLS;
	}
	SSL_CTX_set_cert_cb(c->ctx, cert_request_cb, NULL);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, verify_cb);
	if (o->keylog)
		SSL_CTX_set_keylog_callback(c->ctx, keylog_cb);
	return MS_OK;
}

enum ms_err
conn_tls_prepare(struct conn *c, const struct tls_opts *o)
{
	return tls_ctx(c, o);
}

static bool
is_ip_literal(const char *h)
{
	unsigned char tmp[16];
	return inet_pton(AF_INET, h, tmp) == 1 ||
	    inet_pton(AF_INET6, h, tmp) == 1;
}

/* Is the peer this connection reached on loopback? */
static bool
peer_is_loopback(const struct conn *c)
{
	return strncmp(c->addr, "127.", 4) == 0 || strcmp(c->addr, "::1")
	    == 0 || strcmp(c->addr, "::ffff:127.0.0.1") == 0;
}

/* Were all verification problems of the kind "no trusted issuer"? */
static bool
only_trust_missing(const struct conn *c)
{
	for (int i = 0; i < c->nverr; i++)
		if (c->verr[i] != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
		    && c->verr[i] != X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN &&
		    c->verr[i] != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
			return false;
	return c->nverr > 0;
}

/*
 * Verifies the peer's chain again, against the CA certificates in path
 * only, with the same name check.  Returns true when that succeeds.
 */
static bool
chain_verifies(struct conn *c, const char *path)
{
	X509 *leaf = SSL_get0_peer_certificate(c->ssl);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	bool ok = false;
	if (leaf && store && xs && X509_STORE_load_file(store, path) == 1 &&
	    X509_STORE_CTX_init(xs, store, leaf,
	    SSL_get_peer_cert_chain(c->ssl)) == 1) {
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xs);
		if (is_ip_literal(c->checkname))
			X509_VERIFY_PARAM_set1_ip_asc(vp, c->checkname);
		else
			X509_VERIFY_PARAM_set1_host(vp, c->checkname, 0);
		ok = X509_verify_cert(xs) == 1;
	}
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/*
 * The lab's CA is trusted for the lab only: a server on loopback whose
 * chain verifies against $XDG_STATE_HOME/mailsh/lab/ca.pem (default
 * ~/.local/state/mailsh/lab/ca.pem).
 */
static bool
lab_ca_verifies(struct conn *c)
{
	char path[4096];
	const char *st = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (!peer_is_loopback(c) || !only_trust_missing(c))
		return false;
	if (st && *st == '/')
		snprintf(path, sizeof(path), "%s/mailsh/lab/ca.pem", st);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.local/state/mailsh/lab/ca.pem",
		    home);
	else
		return false;
	return chain_verifies(c, path);
}

/* SSL_CERT_FILE, when set, is consulted after the directory. */
static bool
file_verifies(struct conn *c)
{
	const char *f = getenv(X509_get_default_cert_file_env());
	return f && *f && only_trust_missing(c) && chain_verifies(c, f);
}

/* The leaf's DNS names and IP addresses, shown safely. */
static void
san_facts(X509 *cert, struct tls_facts *f)
{
	GENERAL_NAMES *san = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	for (int k = 0; san && k < sk_GENERAL_NAME_num(san) &&
	    f->nsan < CONN_SAN_MAX; k++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(san, k);
		struct sbuf sb;
		sbuf_init(&sb, f->san[f->nsan], sizeof(f->san[0]));
		if (g->type == GEN_DNS) {
			show_bytes(&sb, (const char *)ASN1_STRING_get0_data(
			    g->d.dNSName), (size_t)ASN1_STRING_length(
			    g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			char ip[INET6_ADDRSTRLEN] = "?";
			int il = ASN1_STRING_length(g->d.iPAddress);
			if (il == 4 || il == 16)
				inet_ntop(il == 16 ? AF_INET6 : AF_INET,
				    ASN1_STRING_get0_data(g->d.iPAddress),
				    ip, sizeof(ip));
			sbuf_puts(&sb, ip);
		} else {
			continue;
		}
		f->nsan++;
	}
	GENERAL_NAMES_free(san);
}

static void
iso_time(const ASN1_TIME *t, char *buf, size_t cap)
{
	struct tm tm;
	buf[0] = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The key's type ("RSA", "EC", "Ed25519"), size and, for EC, the curve
 * by its NIST name where it has one ("P-256"). */
static void
key_facts(EVP_PKEY *pk, char *type, size_t tcap, char *curve, size_t ccap,
    int *bits)
{
	type[0] = curve[0] = '\0';
	*bits = 0;
	if (!pk)
		return;
	int id = EVP_PKEY_get_base_id(pk);
	*bits = EVP_PKEY_get_bits(pk);
	const char *t = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_RSA_PSS
	    ? "RSA-PSS" : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519
	    ? "Ed25519" : id == EVP_PKEY_ED448 ? "Ed448" : id == EVP_PKEY_DSA
	    ? "DSA" : EVP_PKEY_get0_type_name(pk);
	snprintf(type, tcap, "%s", t ? t : "?");
	char g[64];
	if (id == EVP_PKEY_EC && EVP_PKEY_get_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof(g), NULL) == 1) {
		const char *nist = EC_curve_nid2nist(OBJ_txt2nid(g));
		snprintf(curve, ccap, "%s", nist ? nist : g);
	}
	ERR_clear_error();
}

/* "EC P-256", "RSA, 2048 bits", "Ed25519": the key in words. */
static void
key_words(X509 *x, char *buf, size_t cap)
{
	char type[16], curve[16];
	int bits;
	key_facts(X509_get0_pubkey(x), type, sizeof(type), curve,
	    sizeof(curve), &bits);
	if (curve[0])
		snprintf(buf, cap, "%s %s", type, curve);
	else if (strncmp(type, "Ed", 2) == 0)
		snprintf(buf, cap, "%s", type);
	else
		snprintf(buf, cap, ngettext("%s, %d bit", "%s, %d bits",
		    (unsigned long)bits), type, bits);
}

/* Whole days from now until t (negative: past), via ASN1_TIME_diff. */
static long
days_until(const ASN1_TIME *t)
{
	int day = 0, sec = 0;
	if (!t || !ASN1_TIME_diff(&day, &sec, NULL, t))
		return 0;
	return day < 0 || sec < 0 ? (long)day - (sec < 0 && day == 0)
	    : (long)day;
}

/* Does the certificate carry the TLS feature status_request (5), that
 * is "must-staple" (RFC 7633)? */
static bool
must_staple(X509 *x)
{
	TLS_FEATURE *tf = X509_get_ext_d2i(x, NID_tlsfeature, NULL, NULL);
	bool r = false;
	for (int i = 0; tf && i < sk_ASN1_INTEGER_num(tf); i++)
		if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(tf, i)) ==
		    TLSEXT_TYPE_status_request)
			r = true;
	TLS_FEATURE_free(tf);
	ERR_clear_error();
	return r;
}

/*
 * The stapled OCSP response (RFC 6066 8, asked for with
 * SSL_set_tlsext_status_type) into f->ocsp: "none"; the response
 * status when not successful ("trylater"); else the leaf's status
 * ("good", "revoked", "unknown", "not-for-this-certificate"), with
 * *sig_ok telling whether the response's signature verifies.
 */
static void
ocsp_facts(struct conn *c, X509 *cert, struct tls_facts *f, bool *sig_ok)
{
	const unsigned char *p = NULL;
	long len = SSL_get_tlsext_status_ocsp_resp(c->ssl, &p);
	*sig_ok = false;
	snprintf(f->ocsp, sizeof(f->ocsp), "none");
	if (len <= 0 || !p)
		return;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, len);
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	snprintf(f->ocsp, sizeof(f->ocsp), "invalid");
	if (!r)
		goto out;
	int st = OCSP_response_status(r);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(f->ocsp, sizeof(f->ocsp), "%s",
		    OCSP_response_status_str(st));
		goto out;
	}
	if (!(bs = OCSP_response_get1_basic(r)))
		goto out;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
	X509 *issuer = NULL;
	X509 *found = NULL;	/* from the trust store: freed here */
	for (int i = 0; chain && i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), cert) ==
		    X509_V_OK)
			issuer = sk_X509_value(chain, i);
	if (!issuer) {
		/* a server that sends the leaf alone: its CA is a trust
		 * anchor here, or the response cannot be matched */
		X509_STORE_CTX *xs = X509_STORE_CTX_new();
		if (xs && X509_STORE_CTX_init(xs,
		    SSL_CTX_get_cert_store(c->ctx), cert, NULL) == 1 &&
		    X509_STORE_CTX_get1_issuer(&found, xs, cert) == 1)
			issuer = found;
		X509_STORE_CTX_free(xs);
	}
	int status, reason;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	snprintf(f->ocsp, sizeof(f->ocsp), "not-for-this-certificate");
	if (issuer && (id = OCSP_cert_to_id(NULL, cert, issuer)) &&
	    OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd,
	    &nextupd) == 1) {
		snprintf(f->ocsp, sizeof(f->ocsp), "%s",
		    OCSP_cert_status_str(status));
		*sig_ok = OCSP_basic_verify(bs, chain,
		    SSL_CTX_get_cert_store(c->ctx), 0) == 1 &&
		    OCSP_check_validity(thisupd, nextupd, 300, -1) == 1;
	}
	X509_free(found);
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
}

/* What the handshake showed, for machines (c->facts). */
static void
tls_facts(struct conn *c, X509 *cert)
{
	struct tls_facts *f = &c->facts;
	memset(f, 0, sizeof(*f));
	const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
	snprintf(f->version, sizeof(f->version), "%s",
	    SSL_get_version(c->ssl));
	snprintf(f->cipher, sizeof(f->cipher), "%s",
	    ci ? SSL_CIPHER_get_name(ci) : "");
	int g = SSL_get_negotiated_group(c->ssl);
	const char *gn = g > 0 ? SSL_group_to_name(c->ssl, g) : NULL;
	snprintf(f->group, sizeof(f->group), "%s", gn ? gn : "");
	snprintf(f->servername, sizeof(f->servername), "%s", c->checkname);
	snprintf(f->sni, sizeof(f->sni), "%s", c->sni);
	if (!cert)
		return;
	f->cert = true;
	name_line(X509_get_subject_name(cert), f->subject,
	    sizeof(f->subject));
	name_line(X509_get_issuer_name(cert), f->issuer, sizeof(f->issuer));
	iso_time(X509_get0_notBefore(cert), f->not_before,
	    sizeof(f->not_before));
	iso_time(X509_get0_notAfter(cert), f->not_after,
	    sizeof(f->not_after));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) && mdlen == 32)
		for (unsigned int k = 0; k < mdlen; k++)
			snprintf(f->sha256 + k * 2, 3, "%02x", md[k]);
	san_facts(cert, f);
	key_facts(X509_get0_pubkey(cert), f->key_type, sizeof(f->key_type),
	    f->key_curve, sizeof(f->key_curve), &f->key_bits);
	snprintf(f->sig_alg, sizeof(f->sig_alg), "%s",
	    OBJ_nid2ln(X509_get_signature_nid(cert)));
	f->days_left = days_until(X509_get0_notAfter(cert));
	f->must_staple = must_staple(cert);
	ocsp_facts(c, cert, f, &f->ocsp_verified);
	f->client_cert_asked = c->cert_asked;
	f->client_cert_sent = c->cert_asked &&
	    SSL_get_certificate(c->ssl) != NULL;
}

/*
 * The names a certificate is for, for a mismatch message: its DNS and
 * IP subjectAltNames (f->san), else its CN (RFC 6125 6.4.4: the CN
 * counts only without SANs).  "" when it names nothing.
 */
static void
cert_names(X509 *cert, const struct tls_facts *f, char *buf, size_t cap)
{
	struct sbuf sb;
	sbuf_init(&sb, buf, cap);
	for (int i = 0; i < f->nsan; i++)
		sbuf_printf(&sb, "%s%s", i ? ", " : "", f->san[i]);
	if (f->nsan || !cert)
		return;
	X509_NAME *n = X509_get_subject_name(cert);
	int k = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	ASN1_STRING *cn = k >= 0 ? X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, k)) : NULL;
	if (cn)
		show_bytes(&sb, (const char *)ASN1_STRING_get0_data(cn),
		    (size_t)ASN1_STRING_length(cn));
}

static void
tls_report(struct conn *c, const struct tls_opts *o)
{
	X509 *cert = SSL_get1_peer_certificate(c->ssl);
	tls_facts(c, cert);
	/* a stapled response, signed and current, that says "revoked" is
	 * a failed check like any other (RFC 6960 2.2) */
	if (strcmp(c->facts.ocsp, "revoked") == 0 && c->facts.ocsp_verified &&
	    c->nverr < CONN_VERR_MAX) {
		c->verr_depth[c->nverr] = 0;
		c->verr[c->nverr++] = X509_V_ERR_CERT_REVOKED;
	}
	if (c->facts.group[0])
		say(c, SAY_TLS, "tls.negotiated", _("%s, %s, key exchange %s"),
		    c->facts.version, c->facts.cipher[0] ? c->facts.cipher
		    : "?", c->facts.group);
	else
		say(c, SAY_TLS, "tls.negotiated", _("%s, %s"),
		    c->facts.version, c->facts.cipher[0] ? c->facts.cipher
		    : "?");
	if (c->sni[0] && (o->servername || o->no_sni))
		say(c, SAY_TLS, "tls.sni", _("server name sent (SNI): %s"),
		    c->sni);
	else if (o->no_sni)
		say(c, SAY_TLS, "tls.sni", _("no server name sent (--no-sni)"));
	else if (o->servername)
		say(c, SAY_TLS, "tls.sni", _("no server name sent: SNI "
		    "cannot carry an IP address (RFC 6066)"));
	char names[512];
	cert_names(cert, &c->facts, names, sizeof(names));
	if (!cert) {
		say_facts(c, "tls.no-certificate",
		    _("the server sent no certificate"));
		return;
	}
	char subj[512], iss[512], nb[40], na[40];
	name_line(X509_get_subject_name(cert), subj, sizeof(subj));
	name_line(X509_get_issuer_name(cert), iss, sizeof(iss));
	time_line(X509_get0_notBefore(cert), nb, sizeof(nb));
	time_line(X509_get0_notAfter(cert), na, sizeof(na));
	say(c, SAY_TLS, "tls.certificate",
	    _("certificate %s, issued by %s"), subj, iss);
	say(c, SAY_TLS, "tls.validity", _("valid from %s until %s"), nb, na);
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	int id = pk ? EVP_PKEY_get_base_id(pk) : 0;
	if ((id == EVP_PKEY_RSA || id == EVP_PKEY_DSA) && bits < 2048)
		say(c, SAY_WARN, "warn.tls.weak-key",
		    ngettext("the server's key has only %d bit: "
		    "keys below 2048 bits can be broken with enough computing "
		    "power", "the server's key has only %d bits: keys below "
		    "2048 bits can be broken with enough computing power",
		    (unsigned long)bits), bits);
	else if (id == EVP_PKEY_EC && bits < 224)
		say(c, SAY_WARN, "warn.tls.weak-key",
		    ngettext("the server's key has only %d bit: "
		    "too weak for an elliptic-curve key", "the server's key "
		    "has only %d bits: too weak for an elliptic-curve key",
		    (unsigned long)bits), bits);
	X509_free(cert);
	int ver = SSL_version(c->ssl);
	if (ver < TLS1_2_VERSION)
		say(c, SAY_WARN, "warn.tls.old-version",
		    _("%s is outdated: RFC 8996 says TLS 1.0 and 1.1 must "
		    "not be used; their handshake rests on MD5 and SHA-1 "
		    "and they have no AEAD ciphers (those came with TLS "
		    "1.2)"), SSL_get_version(c->ssl));
	if (c->cert_asked && c->facts.client_cert_sent) {
		char me[512] = "";
		X509 *mine = SSL_get_certificate(c->ssl);
		if (mine)
			name_line(X509_get_subject_name(mine), me,
			    sizeof(me));
		say(c, SAY_TLS, "tls.client-cert-sent",
		    _("the server asked for a client certificate: sent %s"),
		    me);
	} else if (c->cert_asked) {
		say(c, SAY_TLS, "tls.client-cert-asked",
		    _("the server asked for a client certificate (acceptable "
		    "CAs: %s); none sent (--cert FILE sends one)"),
		    c->cert_asked_cas[0] ? c->cert_asked_cas : _("not named"));
	} else if (o->cert) {
		say(c, SAY_TLS, "tls.client-cert-unused",
		    _("the server did not ask for a client certificate: "
		    "--cert was not used"));
	}
	if (c->facts.must_staple && strcmp(c->facts.ocsp, "none") == 0)
		say(c, SAY_WARN, "warn.tls.must-staple",
		    _("the certificate demands a stapled OCSP response "
		    "(must-staple, RFC 7633) and none came: clients that "
		    "honour must-staple refuse this server"));
	if (c->nverr > 0 && file_verifies(c))
		c->nverr = 0;
	if (c->nverr > 0 && lab_ca_verifies(c)) {
		c->nverr = 0;
		c->verified = true;
		c->facts.verified = true;
		say_facts(c, "tls.verified",
		    _("verified: yes, for %s, by the mailsh lab CA "
		    "(trusted for lab servers on this machine only)"),
		    c->checkname);
		return;
	}
	if (c->nverr == 0) {
		c->verified = true;
		c->facts.verified = true;
		const char *extra = o->cafile_label ? o->cafile_label
		    : o->cafile ? o->cafile : o->capath;
		if (o->cafile && o->capath)
			say_facts(c, "tls.verified",
			    _("verified: yes, for %s (system store, %s and "
			    "%s)"), c->checkname, extra, o->capath);
		else
			say_facts(c, "tls.verified", extra
			    ? _("verified: yes, for %s (system store and %s)")
			    : _("verified: yes, for %s (system store)"),
			    c->checkname, extra ? extra : "");
		return;
	}
	verr_id(c->verr[0], c->facts.verify_error,
	    sizeof(c->facts.verify_error));
	for (int i = 0; i < c->nverr; i++) {
		char text[1024];
		bool mismatch = c->verr[i] == X509_V_ERR_HOSTNAME_MISMATCH ||
		    c->verr[i] == X509_V_ERR_IP_ADDRESS_MISMATCH;
		if (mismatch && names[0])
			snprintf(text, sizeof(text), _("name mismatch: the "
			    "certificate is for %s, not for %s"), names,
			    c->checkname);
		else
			snprintf(text, sizeof(text), "%s",
			    verr_text(c->verr[i]));
		if (i + 1 < c->nverr)
			say(c, SAY_TLS, "tls.not-verified",
			    _("verified: NO: %s"), text);
		else
			say_facts(c, "tls.not-verified",
			    _("verified: NO: %s"), text);
	}
}

enum ms_err
conn_tls(struct conn *c, const struct tls_opts *o)
{
	enum ms_err r;
	if (c->fd < 0)
		return MS_ECLOSED;
	if (c->ssl) {
		say(c, SAY_ERROR, "tls.already",
		    _("this connection already uses TLS"));
		return MS_EUSAGE;
	}
	if ((r = tls_ctx(c, o)) != MS_OK)
		return r;
	ERR_clear_error();
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl)
		return MS_EINTERNAL;
	c->nverr = 0;
	c->verified = false;
	c->no_close_notify = false;
	c->keylog = o->keylog;
	c->cert_asked = false;
	c->cert_asked_cas[0] = '\0';
	SSL_set_app_data(c->ssl, c);
	/* ask for a stapled OCSP response (RFC 6066 8): /cert shows it */
	SSL_set_tlsext_status_type(c->ssl, TLSEXT_STATUSTYPE_ocsp);
	SSL_set_fd(c->ssl, c->fd);
	/* --servername names the server to ask for (SNI) and to verify
	 * when HOST is an address or an MX; an address is never sent as
	 * SNI (RFC 6066 section 3) */
	snprintf(c->checkname, sizeof(c->checkname), "%s", o->servername
	    ? o->servername : c->host);
	bool ip = is_ip_literal(c->checkname);
	c->sni[0] = '\0';
	if (!ip && !o->no_sni) {
		snprintf(c->sni, sizeof(c->sni), "%s", c->checkname);
		SSL_set_tlsext_host_name(c->ssl, c->sni);
	}
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    c->checkname);
	else
		SSL_set1_host(c->ssl, c->checkname);

	long deadline = util_now_ms() + c->timeout_ms;
	for (;;) {
		int ret = SSL_connect(c->ssl);
		if (ret == 1)
			break;
		int e = SSL_get_error(c->ssl, ret);
		int ev = 0;
		if (e == SSL_ERROR_WANT_READ)
			ev = wait_fd(c->fd, POLLIN, deadline);
		else if (e == SSL_ERROR_WANT_WRITE)
			ev = wait_fd(c->fd, POLLOUT, deadline);
		if (ev > 0)
			continue;
		char why[256];
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			snprintf(why, sizeof(why), "%s", ev == 0
			    ? _("the server did not finish it in time")
			    : _("interrupted"));
		else if ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		    && ERR_peek_error() == 0)
			snprintf(why, sizeof(why), "%s",
			    _("the server closed the connection"));
		else {
			unsigned long le = ERR_peek_last_error();
			tls_error_text(why, sizeof(why));
			int reason = ERR_GET_REASON(le);
			if (reason == SSL_R_WRONG_VERSION_NUMBER)
				snprintf(why, sizeof(why), "%s",
				    _("the server answered with bytes that "
				    "are not TLS (a plaintext port? injected "
				    "data?)"));
			else if ((reason == SSL_R_UNSUPPORTED_PROTOCOL ||
			    reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
			    reason == SSL_R_NO_PROTOCOLS_AVAILABLE) &&
			    (o->min_version || o->max_version))
				snprintf(why, sizeof(why),
				    _("no TLS version in common: you allowed "
				    "TLS %s to %s (--tls-min, --tls-max) and "
				    "the server none of them"),
				    tls_version_name(o->min_version
				    ? o->min_version : TLS1_VERSION),
				    tls_version_name(o->max_version
				    ? o->max_version : TLS1_3_VERSION));
			else if (reason == SSL_R_UNSUPPORTED_PROTOCOL ||
			    reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
			    reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
			    reason == SSL_R_LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED)
				snprintf(why, sizeof(why), "%s",
				    _("no TLS version in common: the server "
				    "probably speaks only TLS 1.0 or 1.1, "
				    "which are outdated and refused here "
				    "(RFC 8996; --tls-min 1.0 allows them)"));
			else if ((reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE
			    || reason == SSL_R_NO_CIPHERS_AVAILABLE ||
			    reason == SSL_R_NO_SHARED_CIPHER ||
			    reason == SSL_R_NO_SUITABLE_KEY_SHARE) &&
			    (o->ciphers || o->ciphersuites || o->groups))
				snprintf(why, sizeof(why), "%s",
				    _("no cipher or key exchange group in "
				    "common with the server: check --ciphers, "
				    "--ciphersuites and --groups"));
		}
		say(c, SAY_ERROR, "tls.handshake-failed",
		    _("TLS handshake with %s port %s failed: "
		    "%s"), c->host, c->port, why);
		SSL_free(c->ssl);
		c->ssl = NULL;
		return MS_ETLS;
	}
	if (c->pcap) {
		/* what follows in the file was inside TLS */
		const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
		char note[PCAP_COMMENT_MAX];
		snprintf(note, sizeof(note), _("TLS handshake before this "
		    "packet (%s, %s), not recorded: from here on the packets "
		    "hold what TLS carried, decrypted by mailsh"),
		    SSL_get_version(c->ssl),
		    ci ? SSL_CIPHER_get_name(ci) : "?");
		pcap_mark(c->pcap, note);
	}
	tls_report(c, o);
	if (o->keylog)
		say(c, SAY_WARN, "warn.tls.keylog",
		    _("the keys of this TLS session were written to %s: "
		    "anyone who has that file can read the session"),
		    o->keylog_path ? o->keylog_path : "?");
	if (c->nverr > 0 && o->insecure) {
		say(c, SAY_WARN, "warn.tls.insecure-unverified",
		    _("certificate NOT verified, going on only "
		    "because of --insecure: anyone in the path could read "
		    "and change this session"));
	} else if (c->nverr > 0) {
		say(c, SAY_ERROR, "tls.verify-failed",
		    _("certificate verification failed for %s; "
		    "closing (--cafile FILE trusts a private CA, --insecure "
		    "goes on anyway)"), c->checkname);
		return MS_ETLS;
	} else if (o->insecure) {
		say(c, SAY_WARN, "warn.tls.insecure",
		    _("--insecure is on: certificate problems "
		    "would not stop this session"));
	}
	return MS_OK;
}

/* The SANs of x, ", "-separated and shown safely, into buf. */
static void
names_line(X509 *x, char *buf, size_t cap)
{
	struct tls_facts f;
	struct sbuf sb;
	f.nsan = 0;
	san_facts(x, &f);
	sbuf_init(&sb, buf, cap);
	for (int k = 0; k < f.nsan; k++) {
		if (k)
			sbuf_puts(&sb, ", ");
		sbuf_puts(&sb, f.san[k]);
	}
}

/* One certificate of the chain, as /cert shows it. */
static void
show_one(struct conn *c, X509 *x, int i)
{
	char subj[512], iss[512], nb[40], na[40], key[64], names[1024];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char fp[EVP_MAX_MD_SIZE * 3 + 1] = "";
	name_line(X509_get_subject_name(x), subj, sizeof(subj));
	name_line(X509_get_issuer_name(x), iss, sizeof(iss));
	time_line(X509_get0_notBefore(x), nb, sizeof(nb));
	time_line(X509_get0_notAfter(x), na, sizeof(na));
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		for (unsigned int k = 0; k < mdlen; k++)
			snprintf(fp + k * 3, 4, "%02X%s", md[k],
			    k + 1 < mdlen ? ":" : "");
	say(c, SAY_TLS, "cert.subject", _("[%d] subject %s"), i, subj);
	say(c, SAY_TLS, "cert.issuer", _("    issuer  %s"), iss);
	long left = days_until(X509_get0_notAfter(x));
	long start = days_until(X509_get0_notBefore(x));
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		say(c, SAY_TLS, "cert.validity", ngettext(
		    "    valid   %s .. %s (NOT VALID YET: starts in %ld day)",
		    "    valid   %s .. %s (NOT VALID YET: starts in %ld days)",
		    (unsigned long)start), nb, na, start);
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		say(c, SAY_TLS, "cert.validity", ngettext(
		    "    valid   %s .. %s (EXPIRED %ld day ago)",
		    "    valid   %s .. %s (EXPIRED %ld days ago)",
		    (unsigned long)-left), nb, na, -left);
	else
		say(c, SAY_TLS, "cert.validity", ngettext(
		    "    valid   %s .. %s (%ld day left)",
		    "    valid   %s .. %s (%ld days left)",
		    (unsigned long)left), nb, na, left);
	key_words(x, key, sizeof(key));
	say(c, SAY_TLS, "cert.key", _("    key     %s"), key);
	say(c, SAY_TLS, "cert.signature", _("    signed  %s"),
	    OBJ_nid2ln(X509_get_signature_nid(x)));
	say(c, SAY_TLS, "cert.sha256", _("    SHA-256 %s"), fp);
	names_line(x, names, sizeof(names));
	if (names[0])
		say(c, SAY_TLS, "cert.names", _("    names   %s"), names);
	if (must_staple(x))
		say(c, SAY_TLS, "cert.must-staple",
		    _("    must-staple (TLS feature status_request, RFC 7633)"));
}

void
conn_show_chain(struct conn *c)
{
	if (!c->ssl) {
		say(c, SAY_NOTE, "cert.no-tls",
		    _("no TLS on this connection: there is no "
		    "certificate to show"));
		return;
	}
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
	int n = chain ? sk_X509_num(chain) : 0;
	if (n == 0) {
		say(c, SAY_NOTE, "cert.none",
		    _("the server sent no certificate"));
		return;
	}
	for (int i = 0; i < n; i++)
		show_one(c, sk_X509_value(chain, i), i);
	const struct tls_facts *f = &c->facts;
	if (strcmp(f->ocsp, "none") == 0)
		say(c, SAY_TLS, "cert.ocsp", f->must_staple
		    ? _("no OCSP response stapled, though the certificate "
		    "demands one (must-staple)")
		    : _("no OCSP response stapled"));
	else if (strcmp(f->ocsp, "good") == 0 ||
	    strcmp(f->ocsp, "revoked") == 0 || strcmp(f->ocsp, "unknown") == 0)
		say(c, SAY_TLS, "cert.ocsp", f->ocsp_verified
		    ? _("OCSP response stapled: certificate status %s "
		    "(response signed by the CA and current)")
		    : _("OCSP response stapled: certificate status %s "
		    "(response NOT verified: signature or dates do not "
		    "check out)"), f->ocsp);
	else
		say(c, SAY_TLS, "cert.ocsp",
		    _("OCSP response stapled, but not usable: %s"), f->ocsp);
	if (c->cert_asked)
		say(c, SAY_TLS, "cert.client-asked", f->client_cert_sent
		    ? _("the server asked for a client certificate "
		    "(acceptable CAs: %s); one was sent")
		    : _("the server asked for a client certificate "
		    "(acceptable CAs: %s); none was sent"),
		    c->cert_asked_cas[0] ? c->cert_asked_cas : _("not named"));
	say(c, SAY_TLS, "cert.chain", c->verified ? _("chain verified for %s")
	    : _("chain NOT verified for %s"), c->checkname);
}

int
conn_chain_pem(struct conn *c, char *buf, size_t cap)
{
	STACK_OF(X509) *chain = c->ssl ? SSL_get_peer_cert_chain(c->ssl)
	    : NULL;
	int n = chain ? sk_X509_num(chain) : 0;
	if (cap == 0)
		return -1;
	buf[0] = '\0';
	if (n == 0)
		return 0;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return -1;
	int ok = 1;
	for (int i = 0; i < n && ok; i++) {
		X509 *x = sk_X509_value(chain, i);
		char subj[512], iss[512];
		/* the "s:" and "i:" lines of openssl s_client -showcerts */
		name_line(X509_get_subject_name(x), subj, sizeof(subj));
		name_line(X509_get_issuer_name(x), iss, sizeof(iss));
		ok = BIO_printf(b, "%2d s:%s\n   i:%s\n", i, subj, iss) > 0 &&
		    PEM_write_bio_X509(b, x) == 1;
	}
	char *mem;
	long len = BIO_get_mem_data(b, &mem);
	int r = -1;
	if (ok && len >= 0 && (size_t)len < cap) {
		memcpy(buf, mem, (size_t)len);
		buf[len] = '\0';
		r = (int)len;
	}
	BIO_free(b);
	return r;
}

ssize_t
conn_read(struct conn *c, void *buf, size_t n)
{
	if (c->fd < 0)
		return CONN_EOF;
	if (!c->ssl) {
		ssize_t r = recv(c->fd, buf, n, 0);
		if (r > 0) {
			pcap_bytes(c, true, buf, (size_t)r);
			return r;
		}
		if (r == 0) {
			pcap_eof(c);
			return CONN_EOF;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return CONN_AGAIN;
		say(c, SAY_ERROR, "conn.read-error",
		    _("reading from %s port %s: %s"), c->host,
		    c->port, strerror(errno));
		return CONN_ERROR;
	}
	size_t got = 0;
	ERR_clear_error();
	int ret = SSL_read_ex(c->ssl, buf, n, &got);
	if (ret == 1) {
		pcap_bytes(c, true, buf, got);
		return (ssize_t)got;
	}
	int e = SSL_get_error(c->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return CONN_AGAIN;
	if (e == SSL_ERROR_ZERO_RETURN) {
		pcap_eof(c);
		return CONN_EOF;
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		if (errno == EAGAIN || errno == EINTR)
			return CONN_AGAIN;
		/* TCP close without close_notify: an EOF the caller
		 * judges (normal after QUIT, else maybe truncated) */
		c->no_close_notify = true;
		pcap_eof(c);
		return CONN_EOF;
	}
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING) {	/* OpenSSL 3 */
		ERR_clear_error();
		c->no_close_notify = true;
		pcap_eof(c);
		return CONN_EOF;
	}
#endif
	char why[256];
	tls_error_text(why, sizeof(why));
	say(c, SAY_ERROR, "tls.read-error",
	    _("TLS error reading from %s port %s: %s"), c->host,
	    c->port, why);
	return CONN_ERROR;
}

bool
conn_pending(struct conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

enum ms_err
conn_write(struct conn *c, const void *buf, size_t n)
{
	const char *p = buf;
	long deadline = util_now_ms() + c->timeout_ms;
	while (n > 0) {
		size_t done = 0;
		int want = 0;
		if (c->fd < 0)
			return MS_ECLOSED;
		if (c->ssl) {
			ERR_clear_error();
			int ret = SSL_write_ex(c->ssl, p, n, &done);
			if (ret != 1) {
				int e = SSL_get_error(c->ssl, ret);
				if (e == SSL_ERROR_WANT_WRITE)
					want = POLLOUT;
				else if (e == SSL_ERROR_WANT_READ)
					want = POLLIN;
				else
					return MS_ECLOSED;
			}
		} else {
			ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);
			if (r >= 0)
				done = (size_t)r;
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				want = POLLOUT;
			else if (errno != EINTR)
				return MS_ECLOSED;
		}
		pcap_bytes(c, false, p, done);
		p += done;
		n -= done;
		if (want) {
			int ev = wait_fd(c->fd, (short)want, deadline);
			if (ev == 0)
				return MS_ETIMEOUT;
			if (ev < 0)
				return MS_ECLOSED;
			deadline = util_now_ms() + c->timeout_ms;
		}
	}
	return MS_OK;
}

void
conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);	/* one close_notify, no waiting */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		int save = errno;
		if (c->pcap)
			pcap_said(c, pcap_close(c->pcap, pcap_now()));
		close(c->fd);
		errno = save;
		c->fd = -1;
	}
	c->verified = false;
	c->nverr = 0;
	c->no_close_notify = false;
}

void
conn_free(struct conn *c)
{
	conn_close(c);
	if (c->ctx) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
	}
}
