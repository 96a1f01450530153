/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tls.c: the lab's CA and server certificate (see tls.h).
 *
 * RFC 5280 (X.509 profile: basicConstraints, keyUsage, subjectAltName),
 * RFC 6125 (names are checked against the SAN, not the CN).  Keys are
 * EC P-256; certificates are signed with SHA-256.  Files are written to
 * a temporary name and renamed, so a killed lab never leaves half a PEM.
 */
#include "tls.h"
#include "lab.h"
#include "../protocols/i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* Prints what failed with OpenSSL's reason on stderr. */
static void
labtls_fail(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	fprintf(stderr, "mailsh lab: %s failed%s%s\n", what, r ? ": " : "",
	    r ? r : "");
}

/* path = state/name; false if it does not fit. */
static bool
labtls_path(char *path, size_t cap, const char *state, const char *name)
{
	int r = snprintf(path, cap, "%s/%s", state, name);
	return r > 0 && (size_t)r < cap;
}

/* Opens state/name for reading, or NULL (missing). */
static FILE *
labtls_open(const char *state, const char *name)
{
	char path[4200];
	if (!labtls_path(path, sizeof(path), state, name))
		return NULL;
	return fopen(path, "r");
}

/*
 * Writes the PEM of key (when non-NULL) or of the certificates x1, x2
 * (x2 may be NULL) to state/name with mode, via a temporary file and
 * rename.  Returns 0 or -1 after printing why.
 */
static int
labtls_write(const char *state, const char *name, mode_t mode,
    EVP_PKEY *key, X509 *x1, X509 *x2)
{
	char path[4200], tmp[4220];
	if (!labtls_path(path, sizeof(path), state, name) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, _("mailsh lab: cannot write %s: %s\n"), tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fchmod(fd, mode);
	int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_X509(f, x1) && (!x2 || PEM_write_X509(f, x2));
	ok = ok && fflush(f) == 0 && fsync(fd) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, _("mailsh lab: cannot write %s\n"), path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Adds one extension (OpenSSL config syntax).  Returns 1 or 0. */
static int
labtls_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	int r = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return r;
}

/*
 * Makes a certificate for key, named org / cn, valid for days, signed by
 * cakey (and issued by ca; both NULL: self-signed CA).  san is the
 * subjectAltName value for a server certificate.  Returns it or NULL.
 */
static X509 *
labtls_make(EVP_PKEY *key, const char *org, const char *cn, long days,
    X509 *ca, EVP_PKEY *cakey, const char *san)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	bool ok = x && bn && X509_set_version(x, 2) &&
	    BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) &&
	    X509_set_pubkey(x, key);
	X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
	ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)org, -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509 *issuer = ca ? ca : x;
	ok = ok && X509_set_issuer_name(x, X509_get_subject_name(issuer));
	if (ok && !ca) {
		ok = labtls_ext(x, x, NID_basic_constraints,
		    "critical,CA:TRUE,pathlen:0") &&
		    labtls_ext(x, x, NID_key_usage,
		    "critical,keyCertSign,cRLSign") &&
		    labtls_ext(x, x, NID_subject_key_identifier, "hash");
	} else if (ok) {
		ok = labtls_ext(x, ca, NID_basic_constraints,
		    "critical,CA:FALSE") &&
		    labtls_ext(x, ca, NID_key_usage,
		    "critical,digitalSignature") &&
		    labtls_ext(x, ca, NID_ext_key_usage, "serverAuth") &&
		    labtls_ext(x, ca, NID_subject_alt_name, san) &&
		    labtls_ext(x, ca, NID_subject_key_identifier, "hash") &&
		    labtls_ext(x, ca, NID_authority_key_identifier,
		    "keyid:always");
	}
	ok = ok && X509_sign(x, cakey ? cakey : key, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Does the certificate stay valid for LABTLS_RENEW_DAYS more days? */
static bool
labtls_fresh(X509 *x)
{
	time_t t = time(NULL) + LABTLS_RENEW_DAYS * 86400L;
	return X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(x), &t) > 0;
}

/* Does the server certificate cover name (DNS name or IP address)? */
static bool
labtls_covers(X509 *x, const char *name)
{
	if (X509_check_ip_asc(x, name, 0) == 1)
		return true;
	return X509_check_host(x, name, 0, X509_CHECK_FLAG_NO_WILDCARDS,
	    NULL) == 1;
}

/* Loads ca.pem and ca.key, or makes a new CA.  Returns 0 or -1;
 * *made tells whether it is new. */
static int
labtls_ca(const char *state, X509 **ca, EVP_PKEY **cakey, bool *made)
{
	FILE *f = labtls_open(state, "ca.pem");
	FILE *k = labtls_open(state, "ca.key");
	*ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	*cakey = k ? PEM_read_PrivateKey(k, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (k)
		fclose(k);
	*made = false;
	if (*ca && *cakey && X509_check_private_key(*ca, *cakey) == 1 &&
	    labtls_fresh(*ca))
		return 0;
	X509_free(*ca);
	EVP_PKEY_free(*cakey);
	*cakey = EVP_EC_gen("P-256");
	*ca = *cakey ? labtls_make(*cakey, "mailsh lab", LABTLS_CA_CN, LABTLS_CA_DAYS,
	    NULL, NULL, NULL) : NULL;
	if (!*ca) {
		labtls_fail("making the lab CA");
		return -1;
	}
	*made = true;
	if (labtls_write(state, "ca.key", 0600, *cakey, NULL, NULL) != 0 ||
	    labtls_write(state, "ca.pem", 0644, NULL, *ca, NULL) != 0)
		return -1;
	fprintf(stderr, _("mailsh lab: made a new CA \"%s\" in %s/ca.pem\n"),
	    LABTLS_CA_CN, state);
	return 0;
}

/* Is the kept server certificate usable: key matches, issued by ca,
 * fresh, covering every name? */
static bool
labtls_cert_ok(const char *state, X509 *ca, const char *hostname)
{
	FILE *f = labtls_open(state, "cert.pem");
	FILE *k = labtls_open(state, "key.pem");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = k ? PEM_read_PrivateKey(k, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (k)
		fclose(k);
	EVP_PKEY *capub = X509_get0_pubkey(ca);
	bool ok = x && key && X509_check_private_key(x, key) == 1 &&
	    X509_verify(x, capub) == 1 && labtls_fresh(x) &&
	    labtls_covers(x, "localhost") && labtls_covers(x, "127.0.0.1") &&
	    labtls_covers(x, "::1") && labtls_covers(x, LAB_DEFAULT_HOST) &&
	    labtls_covers(x, hostname);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

/* The subjectAltName value of a server certificate for hostname. */
static void
labtls_san(char *san, size_t cap, const char *hostname)
{
	unsigned char ipbuf[16];
	bool ip = inet_pton(AF_INET, hostname, ipbuf) == 1 ||
	    inet_pton(AF_INET6, hostname, ipbuf) == 1;
	snprintf(san, cap, "DNS:localhost,IP:127.0.0.1,IP:::1,"
	    "DNS:" LAB_DEFAULT_HOST "%s%s%s",
	    strcmp(hostname, LAB_DEFAULT_HOST) == 0 ? "" : ",",
	    strcmp(hostname, LAB_DEFAULT_HOST) == 0 ? "" : ip ? "IP:" :
	    "DNS:", strcmp(hostname, LAB_DEFAULT_HOST) == 0 ? "" : hostname);
}

/* Issues a new server certificate for hostname.  Returns 0 or -1. */
static int
labtls_issue(const char *state, X509 *ca, EVP_PKEY *cakey,
    const char *hostname)
{
	char san[600];
	labtls_san(san, sizeof(san), hostname);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key ? labtls_make(key, "mailsh lab", hostname,
	    LABTLS_CERT_DAYS, ca, cakey, san) : NULL;
	int r = -1;
	if (!x)
		labtls_fail("making the server certificate");
	else if (labtls_write(state, "key.pem", 0600, key, NULL, NULL) == 0 &&
	    labtls_write(state, "cert.pem", 0644, NULL, x, ca) == 0)
		r = 0;
	if (r == 0)
		fprintf(stderr, _("mailsh lab: issued a server certificate "
		    "for %s\n"), san);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

SSL_CTX *
labtls_forged(const char *hostname)
{
	char san[600];
	labtls_san(san, sizeof(san), hostname);
	EVP_PKEY *cakey = EVP_EC_gen("P-256");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca = cakey ? labtls_make(cakey, LABTLS_FORGED_O,
	    LABTLS_FORGED_CA_CN, 30, NULL, NULL, NULL) : NULL;
	X509 *x = ca && key ? labtls_make(key, LABTLS_FORGED_O, hostname, 30,
	    ca, cakey, san) : NULL;
	SSL_CTX *ctx = x ? SSL_CTX_new(TLS_server_method()) : NULL;
	/* the leaf alone: a client finds no issuer it trusts */
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		labtls_fail("making the proxy's own certificate");
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return ctx;
}

SSL_CTX *
labtls_setup(const char *state, const char *hostname)
{
	X509 *ca;
	EVP_PKEY *cakey;
	bool made;
	if (labtls_ca(state, &ca, &cakey, &made) != 0)
		return NULL;
	int r = 0;
	if (made || !labtls_cert_ok(state, ca, hostname))
		r = labtls_issue(state, ca, cakey, hostname);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	if (r != 0)
		return NULL;

	char cert[4200], key[4200];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !labtls_path(cert, sizeof(cert), state, "cert.pem") ||
	    !labtls_path(key, sizeof(key), state, "key.pem") ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		labtls_fail("loading the lab certificate");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

/* Lets every handshake go on; the result is read afterwards with
 * SSL_get_verify_result for the log line. */
static int
labtls_verify_any(int ok, X509_STORE_CTX *xs)
{
	(void)ok, (void)xs;
	return 1;
}

int
labtls_client_ca(SSL_CTX *ctx, const char *file)
{
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(file);
	static const unsigned char sid[] = "mailsh-lab";
	if (!names || SSL_CTX_load_verify_locations(ctx, file, NULL) != 1) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		fprintf(stderr, _("mailsh lab: cannot load the client CA file "
		    "%s (missing, or no PEM certificate in it)\n"), file);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	/* needed with SSL_VERIFY_PEER for session resumption */
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, labtls_verify_any);
	return 0;
}

void
labtls_client_note(SSL *ssl, char *buf, size_t cap)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	if (!x) {
		snprintf(buf, cap, "no client certificate");
		return;
	}
	char subj[256] = "";
	BIO *b = BIO_new(BIO_s_mem());
	if (b) {
		X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
		    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		int n = BIO_read(b, subj, (int)sizeof(subj) - 1);
		subj[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	long v = SSL_get_verify_result(ssl);
	if (v == X509_V_OK)
		snprintf(buf, cap, "client certificate %s: verified", subj);
	else
		snprintf(buf, cap, "client certificate %s: NOT verified: %s",
		    subj, X509_verify_cert_error_string(v));
}
