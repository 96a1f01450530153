/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lab.h: the built-in lab, `mailsh lab [options]`: a small local mail
 * server (SMTP relay and submission, POP3, with STARTTLS / STLS and
 * implicit-TLS ports) that a class can practise against offline.
 *
 * This header holds what every lab file shares: the configuration (from
 * the command line) and the running lab (listeners, users, TLS).
 */
#ifndef MAILSH_LAB_H
#define MAILSH_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#define LAB_NAME_MAX	64	/* user names: [A-Za-z0-9._-], no dot first */
#define LAB_HOST_MAX	253
#define LAB_PBS_MAX	256	/* POP-before-SMTP addresses remembered */

/* Defaults; the lab's --help and README state the same values. */
#define LAB_DEFAULT_HOST	"lab.example"
#define LAB_DEFAULT_LISTEN	"127.0.0.1"
#define LAB_DEFAULT_PORT_BASE	2500
#define LAB_DEFAULT_IDLE_S	300	/* SMTP (RFC 5321 4.5.3.2.7) */
#define LAB_DEFAULT_MAX_CONNS	512
#define LAB_DEFAULT_MAX_PER_ADDR 64
#define LAB_FIRST_CMD_S		30	/* TLS handshake and greeting to the
					 * first command */
#define LAB_PREAUTH_IDLE_S	60	/* idle before login */
#define LAB_PREAUTH_SHARE	3	/* quarters of --max-conns that may
					 * be not logged in */
#define LAB_DEFAULT_MAX_SIZE	(10u * 1024 * 1024)
#define LAB_MAX_CMDS		10000	/* commands in one session */
#define LAB_DEFAULT_QUOTA_MSGS	1000	/* per user, all mailboxes */
#define LAB_DEFAULT_QUOTA_MIB	50
#define LAB_DEFAULT_DELIVERY_RATE 60	/* mail transactions a minute
					 * per client address */
#define LAB_DEFAULT_LOGIN_RATE	30	/* failed logins a minute per
					 * client address */

struct lab_cfg {
	char state[4096];	/* state directory */
	char hostname[LAB_HOST_MAX + 1];
	const char *listen;	/* address to bind */
	int port_base;		/* 0: free ports */
	bool strict;		/* --profile strict (default) or lax */
	bool plaintext_auth;	/* AUTH / USER / LOGIN without TLS */
	bool any_from;		/* any MAIL FROM on submission */
	bool vrfy;		/* VRFY answers */
	bool vulnerable_starttls;	/* keep input pipelined after STARTTLS */
	char vulnerable_only[64];	/* "smtp,imap": only there ("" all) */
	bool preauth;		/* IMAP PREAUTH greeting */
	int pop_before_smtp;	/* minutes, 0 = off */
	int idle_s;		/* 0: each protocol's own */
	int max_conns;
	int max_per_addr;
	uint64_t max_size;	/* SMTP SIZE */
	uint64_t quota_msgs;	/* --quota: messages per user, 0 none */
	uint64_t quota_bytes;	/* bytes per user, 0 none */
	int delivery_rate;	/* --delivery-rate, 0 off */
	int login_rate;		/* --login-rate, 0 off */
	bool sasl_extra;	/* --sasl-extra: CRAM-MD5, SCRAM-SHA-256 */
	const char *users_file;	/* --users FILE or NULL */
	const char *mitm;	/* --mitm MODES, or NULL */
	const char *mitm_for;	/* --mitm-for SERVICE, or NULL */
	const char *client_ca;	/* --client-ca FILE: ask for client
				 * certificates, verify against FILE */
};

struct lab_users;

/* A client address allowed to submit without AUTH (POP-before-SMTP). */
struct lab_pbs {
	char addr[64];
	char user[LAB_NAME_MAX + 1];
	time_t until;
};

struct lab {
	struct lab_cfg cfg;
	SSL_CTX *tls;		/* server context (lab certificate) */
	struct lab_users *users;
	struct lab_pbs pbs[LAB_PBS_MAX];
	bool wake;		/* mail was delivered this round */
};

/* gettext set-up (shell/i18n.c); a shell's --lang reaches the lab and
 * the MITM proxy, its children, as MAILSH_LANG in the environment. */
void i18n_init(void);

/* `mailsh lab ...`: argv[0] is "lab".  Returns the exit status. */
int lab_main(int argc, char **argv);

/*
 * Is name a safe user / mailbox name: 1 to LAB_NAME_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.' (so never "..", "/", NUL or a
 * control character)?
 */
bool lab_name_ok(const char *name, size_t n);

/* Is domain (n bytes) one the lab delivers to (lab.example, localhost,
 * --hostname, [127.0.0.1])? */
bool lab_domain_local(const struct lab *lab, const char *domain, size_t n);

/* Remembers a POP3 login from addr for POP-before-SMTP (when on). */
void lab_pbs_add(struct lab *lab, const char *addr, const char *user);

/* The user addr logged in as over POP3 within the window, or NULL. */
const char *lab_pbs_find(struct lab *lab, const char *addr);

#endif
