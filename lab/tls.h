/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tls.h: the lab's own CA and server certificate, made with the OpenSSL
 * API on first start and kept in the state directory:
 *   ca.pem (0644)    the CA certificate (CN "mailsh lab CA"): clients
 *                    trust this file (mailsh --cafile, curl --cacert)
 *   ca.key (0600)    its key
 *   cert.pem (0644)  the server certificate, then the CA certificate
 *   key.pem (0600)   the server key
 */
#ifndef MAILSH_LAB_TLS_H
#define MAILSH_LAB_TLS_H

#include <openssl/ssl.h>

#define LABTLS_CA_CN	"mailsh lab CA"
#define LABTLS_CA_DAYS	3650
#define LABTLS_CERT_DAYS 397
#define LABTLS_RENEW_DAYS 30	/* reissue when fewer days are left */

/*
 * Makes sure the state directory holds a CA and a server certificate
 * valid now and for hostname (also localhost, 127.0.0.1, ::1,
 * lab.example), creating or reissuing what is missing, then builds the
 * server context (TLS 1.2 and later).  Returns the context, or NULL after
 * printing why on stderr.
 */
SSL_CTX *labtls_setup(const char *state, const char *hostname);

/*
 * --client-ca FILE: the server asks every client for a certificate
 * (SSL_VERIFY_PEER, naming FILE's CAs as acceptable) and verifies it
 * against FILE, but does not require one and does not refuse one that
 * fails: the session goes on and its log line says what was seen (as
 * Postfix's smtpd_tls_ask_ccert).  Returns 0, or -1 after printing why.
 */
int labtls_client_ca(SSL_CTX *ctx, const char *file);

/* What the client's certificate was, for the session log line:
 * "client certificate CN=...: verified", "... NOT verified: why", "no
 * client certificate". */
void labtls_client_note(SSL *ssl, char *buf, size_t cap);

#define LABTLS_FORGED_O	"mailsh mitm"
#define LABTLS_FORGED_CA_CN "mailsh mitm CA"

/*
 * The man in the middle's own server context: a certificate for
 * hostname (and localhost, 127.0.0.1, ::1, lab.example), subject
 * "O=mailsh mitm, CN=HOSTNAME", issued by a CA made here and now and
 * thrown away ("O=mailsh mitm, CN=mailsh mitm CA"), not by the lab's CA.
 * Only the certificate is sent, not its CA: a client that checks finds
 * no trusted issuer.  Returns the context or NULL after saying why.
 */
SSL_CTX *labtls_forged(const char *hostname);

#endif
