/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conn.h: one connection to a server: TCP (IPv4/IPv6, connect timeout)
 * and TLS on top of it (implicit or upgraded in place), with certificate
 * verification against the system store plus an optional CA file.
 *
 * The socket is non-blocking; reads never block, writes and handshakes
 * wait with poll() up to a timeout.  conn knows nothing of mail protocols.
 */
#ifndef MAILSH_CONN_H
#define MAILSH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* Results, also used as the shell's error classes. */
enum ms_err {
	MS_OK = 0,
	MS_EINTERNAL = 1,
	MS_EUSAGE = 2,
	MS_ECONN = 3,		/* name, refused, unreachable, timed out */
	MS_ETLS = 4,		/* handshake or certificate */
	MS_ECLOSED = 5,		/* peer closed unexpectedly, protocol limit */
	MS_ETIMEOUT = 6,	/* no reply in time */
	MS_EDOWNGRADE = 7,	/* --require-tls: TLS refused, missing or
				 * skipped (PREAUTH) */
	MS_EREPLY = 8,		/* a script got a negative reply */
	MS_EEXPECT = 9,		/* a script's /expect was not met */
};

/* Kinds of messages conn and pp report (see pp_event). */
enum ms_say { SAY_NOTE, SAY_TLS, SAY_WARN, SAY_ERROR };

#define CONN_SAN_MAX 16

/* What a TLS handshake showed, for machines (--json, docs/json.md);
 * the human report says the same in words.  Strings are "" when not
 * known. */
struct tls_facts {
	char version[16];	/* "TLSv1.3" */
	char cipher[64];	/* "TLS_AES_256_GCM_SHA384" */
	char group[32];		/* key exchange group, "x25519" */
	char servername[256];	/* the name the certificate was checked
				 * against (--servername, else the host) */
	char sni[256];		/* the name sent as SNI; "" when none */
	bool cert;		/* the server sent a certificate */
	bool verified;
	char verify_error[32];	/* first problem, a word ("expired") */
	char subject[256];	/* RFC 2253 */
	char issuer[256];
	int nsan;		/* DNS names and IP addresses */
	char san[CONN_SAN_MAX][128];
	char not_before[24];	/* ISO 8601 UTC: "2026-01-31T12:00:00Z" */
	char not_after[24];
	char sha256[65];	/* the certificate's SHA-256, lowercase hex */
	/* certificates (issue 11): the leaf's key and signature, the
	 * connection's OCSP staple and client certificate */
	char key_type[16];	/* "RSA", "EC", "Ed25519" */
	int key_bits;
	char key_curve[16];	/* EC: "P-256" */
	char sig_alg[48];	/* "ecdsa-with-SHA256" */
	long days_left;		/* until not_after; negative: expired */
	char ocsp[32];		/* "none", else the response / cert status:
				 * "good", "revoked", "unknown", or the
				 * response status ("trylater") */
	bool ocsp_verified;	/* its signature and dates check out */
	bool must_staple;	/* the leaf has the TLS feature
				 * status_request (RFC 7633) */
	bool client_cert_asked;	/* the server asked for one */
	bool client_cert_sent;
};

/* id: a stable name of the message for machines ("tls.verified");
 * tf: the facts, on the last line of a handshake report, else NULL. */
typedef void (*conn_say_fn)(void *ctx, enum ms_say kind, const char *id,
    const struct tls_facts *tf, const char *msg);

struct tls_opts {
	const char *cafile;	/* extra trust anchors, PEM; may be NULL */
	const char *cafile_label;	/* how to name it ("the mailsh lab
					 * CA"); NULL: its path */
	bool insecure;		/* go on after failed verification */
	/* --keylog / SSLKEYLOGFILE: the NSS key log lines of every
	 * handshake are appended here, one write each; NULL: none */
	FILE *keylog;
	const char *keylog_path;	/* its name, for the note */
	const char *servername;	/* --servername: SNI and the name to
				 * verify; NULL: the host connected to */
	bool no_sni;		/* --no-sni: send no server name */
	int min_version;	/* --tls-min/--tls-max: TLS1_2_VERSION ...; */
	int max_version;	/* 0: OpenSSL's default */
	const char *ciphers;	/* --ciphers (TLS <= 1.2); NULL: default */
	const char *ciphersuites;	/* --ciphersuites (TLS 1.3) */
	const char *groups;	/* --groups (key exchange) */
	/* certificates (issue 11) */
	const char *capath;	/* hashed directory of trusted CAs */
	const char *cert;	/* client certificate chain, PEM */
	const char *key;	/* its key, PEM; NULL: in cert's file */
	const char *pass;	/* the key's passphrase; NULL: ask on the
				 * terminal when it is encrypted */
};

/* What conn_tls_opts_check found wrong (the option to blame). */
enum tls_opt_bad {
	TLS_OPT_OK, TLS_OPT_RANGE, TLS_OPT_CIPHERS, TLS_OPT_CIPHERSUITES,
	TLS_OPT_GROUPS,
};

/*
 * Tries the version range, cipher lists and groups of o on a scratch
 * TLS context, before any connection.  Returns TLS_OPT_OK or the
 * option OpenSSL refused (min above max counts as TLS_OPT_RANGE).
 */
enum tls_opt_bad conn_tls_opts_check(const struct tls_opts *o);

/* "1.0" ... "1.3" as TLS1_VERSION ... TLS1_3_VERSION; 0 if unknown. */
int conn_tls_version_parse(const char *s);

/* Does o allow a version below TLS 1.2 (the security level is then
 * lowered so OpenSSL 3 will speak it)? */
bool conn_tls_opts_legacy(const struct tls_opts *o);

#define CONN_VERR_MAX 4

struct pcap;

struct conn {
	int fd;			/* -1 when closed */
	SSL_CTX *ctx;
	SSL *ssl;		/* non-NULL once TLS is up */
	char host[256];		/* as typed: SNI and name checks, unless
				 * --servername names another */
	char checkname[256];	/* the name the last handshake verified */
	char sni[256];		/* the SNI it sent; "" when none */
	char port[16];
	char addr[64];		/* numeric address actually connected */
	int timeout_ms;
	/* verification results of the last handshake */
	bool verified;
	int nverr;
	long verr[CONN_VERR_MAX];
	int verr_depth[CONN_VERR_MAX];
	struct tls_facts facts;	/* of the last handshake */
	/* the server's CertificateRequest (SSL_CTX_set_cert_cb) */
	bool cert_asked;
	char cert_asked_cas[512];	/* acceptable CAs, shown safely */
	bool no_close_notify;	/* TLS ended by a TCP close alone */
	conn_say_fn say;
	void *say_ctx;
	FILE *keylog;		/* tls_opts.keylog of the running handshake */
	struct pcap *pcap;	/* --pcap: application data goes here */
};

void conn_init(struct conn *c, conn_say_fn say, void *ctx);

/*
 * Resolves host and connects to each address in turn (family AF_UNSPEC,
 * AF_INET or AF_INET6) within timeout_ms for each.  Returns MS_OK or
 * MS_ECONN after saying why, naming host and port and what to check.
 */
enum ms_err conn_open(struct conn *c, const char *host, const char *port,
    int family, int timeout_ms);

/*
 * Runs a TLS client handshake on the open socket (implicit TLS or a
 * STARTTLS upgrade), then reports version, cipher, certificate and the
 * verification result.  Returns MS_OK, or MS_ETLS after saying why; on
 * a verification failure without opts->insecure the caller must close.
 */
enum ms_err conn_tls(struct conn *c, const struct tls_opts *opts);

/*
 * Makes the TLS context now (before connecting): loads --capath and the
 * client certificate and key, asking for the key's passphrase on the
 * terminal.  Returns MS_OK, or MS_ETLS / MS_EUSAGE after saying why.
 */
enum ms_err conn_tls_prepare(struct conn *c, const struct tls_opts *opts);

/* Reports the whole peer chain with SHA-256 fingerprints. */
void conn_show_chain(struct conn *c);

/*
 * Writes the peer chain as PEM (as openssl s_client -showcerts) into
 * buf (NUL-terminated).  Returns its length, 0 without a chain, or -1
 * when it does not fit cap (nothing useful written then).
 */
int conn_chain_pem(struct conn *c, char *buf, size_t cap);

/* Result of conn_read. */
#define CONN_AGAIN	0	/* nothing to read now */
#define CONN_EOF	(-1)	/* peer closed */
#define CONN_ERROR	(-2)	/* reset or TLS error (already said) */

/*
 * Reads at most n bytes without blocking.  Returns the count read, or
 * CONN_AGAIN, CONN_EOF or CONN_ERROR.
 */
ssize_t conn_read(struct conn *c, void *buf, size_t n);

/* Bytes TLS has decrypted but not yet handed out (poll() can't see them). */
bool conn_pending(struct conn *c);

/*
 * Writes all n bytes, waiting up to the connection timeout for room.
 * Returns MS_OK, MS_ECLOSED (peer gone) or MS_ETIMEOUT.
 */
enum ms_err conn_write(struct conn *c, const void *buf, size_t n);

/* Closes TLS (without waiting for the peer) and the socket. */
void conn_close(struct conn *c);

bool conn_is_open(const struct conn *c);
bool conn_is_tls(const struct conn *c);

/* Frees the TLS context for good (at exit). */
void conn_free(struct conn *c);

#endif
