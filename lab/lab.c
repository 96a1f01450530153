/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lab.c: `mailsh lab`: the command line, the state directory, the
 * listeners and the ports file; then the event loop until a signal.
 *
 * Port map: with port base B (default 2500), each service listens on
 * B - 500 + its standard port, except SMTP relay on B + 25 (2525, the
 * usual alternative SMTP port).  B = 0 picks free ports.
 *   smtp        2525  relay/MX: plaintext + STARTTLS, local recipients
 *   submission  2587  STARTTLS + AUTH (RFC 6409)
 *   submissions 2465  implicit TLS + AUTH (RFC 8314)
 *   pop3        2110  plaintext + STLS
 *   pop3s       2995  implicit TLS
 *   imap        2143  plaintext + STARTTLS
 *   imaps       2993  implicit TLS
 */
#include "auth.h"
#include "commit.h"
#include "lab.h"
#include "labmitm.h"
#include "imapd.h"
#include "loop.h"
#include "pop3d.h"
#include "smtpd.h"
#include "store.h"
#include "tls.h"
#include "users.h"
#include "../protocols/i18n.h"
#include "../shell/config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static struct lab_listener lab_listeners[] = {
	{ "smtp", &smtpd_proto, 0, 25, -1, 0 },
	{ "submission", &smtpd_proto, LAB_L_SUBMIT, 587 - 500, -1, 0 },
	{ "submissions", &smtpd_proto, LAB_L_SUBMIT | LAB_L_TLS, 465 - 500,
	    -1, 0 },
	{ "pop3", &pop3d_proto, 0, 110 - 500, -1, 0 },
	{ "pop3s", &pop3d_proto, LAB_L_TLS, 995 - 500, -1, 0 },
	{ "imap", &imapd_proto, 0, 143 - 500, -1, 0 },
	{ "imaps", &imapd_proto, LAB_L_TLS, 993 - 500, -1, 0 },
};
#define LAB_NLISTEN ((int)(sizeof(lab_listeners) / sizeof(*lab_listeners)))

/* Is name one of the lab's ports (smtp, submission, ...)? */
static bool
lab_listener_named(const char *name)
{
	for (int i = 0; i < LAB_NLISTEN; i++)
		if (strcmp(lab_listeners[i].name, name) == 0)
			return true;
	return false;
}

/* Prints the lab's help (ports, users, switches) to f. */
static void
lab_usage(FILE *f)
{
	fprintf(f,
_("usage: mailsh lab [options]\n"
"\n"
"Runs a small local mail server for practice: SMTP relay and submission,\n"
"POP3, IMAP, with STARTTLS/STLS and implicit-TLS ports, its own CA, users\n"
"alice (password alice-pass) and bob (password bob-pass).\n"
"\n"
"options:\n"
"  --state DIR            state directory (CA, certificate, users, mail);\n"
"                         default $XDG_STATE_HOME/mailsh/lab or\n"
"                         ~/.local/state/mailsh/lab\n"
"  --listen ADDR          address to listen on (default 127.0.0.1)\n"
"  --port-base N          N-500 + the standard port, SMTP relay on N+25:\n"
"                         with 2500 (default): smtp 2525, submission\n"
"                         2587, submissions 2465, pop3 2110, pop3s 2995,\n"
"                         imap 2143, imaps 2993.  0: free ports.  Also\n"
"                         written to STATE/ports\n"
"  --hostname NAME        server name (default lab.example), also in the\n"
"                         certificate\n"
"  --users FILE           users, one name:password a line (replaces\n"
"                         alice and bob; stored hashed)\n"
"  --profile strict|lax   strict (default): no password before TLS,\n"
"                         submission MAIL FROM must be the user's own,\n"
"                         VRFY off.  lax: the 1990s\n"
"  --allow-plaintext-auth AUTH / USER / PASS also without TLS\n"
"  --any-from             submission accepts any MAIL FROM\n"
"  --vulnerable-starttls[=PORTS]\n"
"                         keep commands pipelined after STARTTLS / STLS\n"
"                         and run them after the handshake as if sent\n"
"                         inside TLS (CVE-2011-0411); without it they\n"
"                         are discarded (RFC 3207 4.2).  PORTS: only on\n"
"                         these, comma-separated (smtp,submission,pop3,\n"
"                         imap); the others stay strict\n"
"  --preauth              IMAP greets with PREAUTH, logged in as the\n"
"                         first user (alice)\n"
"  --pop-before-smtp MIN  a POP3 login allows submission without AUTH\n"
"                         from that address for MIN minutes\n"
"  --idle-timeout SEC     close idle sessions (default: SMTP 300, POP3\n"
"                         600, IMAP 1800, as their RFCs ask; before\n"
"                         login 60, and 30 for the TLS handshake and\n"
"                         the first command; a shorter SEC wins)\n"
"  --max-conns N          connections in all (default %d); at most 3/4\n"
"                         of them not logged in: beyond, the oldest of\n"
"                         those is closed\n"
"  --max-per-addr N       connections from one address (default %d)\n"
"  --mitm MODES           also run the man in the middle (mailsh mitm\n"
"                         --help lists the modes: pass, strip-starttls,\n"
"                         strip-logindisabled, refuse-starttls, inject,\n"
"                         preauth, tls-intercept) in front of one port,\n"
"                         on port base+1 (2501); it prints what an\n"
"                         attacker sees\n"
"  --mitm-for SERVICE     the port it fronts: smtp, submission (default),\n"
"                         submissions, pop3, pop3s, imap or imaps (the\n"
"                         implicit-TLS ones with --mitm tls-intercept)\n"
"  --max-size BYTES       largest message, SMTP and IMAP APPEND\n"
"                         (default %u)\n"
"  --quota MSGS,MIB       per user, over all mailboxes: SMTP refuses\n"
"                         mail beyond MSGS messages or MIB MiB with\n"
"                         452 4.2.2, IMAP APPEND and COPY with\n"
"                         NO [OVERQUOTA] (default %d,%d; 0 no limit)\n"
"  --delivery-rate N      mail transactions a minute from one client\n"
"                         address on the SMTP ports, up to N at once;\n"
"                         beyond: 450 4.7.1 at RCPT (default %d; 0 off)\n"
"  --login-rate N         failed logins a minute from one client\n"
"                         address, up to N at once (a login that\n"
"                         succeeds does not count); beyond: 454 4.7.0 /\n"
"                         NO [UNAVAILABLE] / -ERR [SYS/TEMP] without\n"
"                         checking the password (default %d; 0 off)\n"
"  --client-ca FILE       ask clients for a certificate and verify it\n"
"                         against the CAs in FILE (PEM); one is not\n"
"                         required, and one that fails is logged, not\n"
"                         refused: the session log line says what was\n"
"                         seen\n"
"  --sasl-extra           also offer CRAM-MD5 (RFC 2195) and SCRAM-SHA-256\n"
"                         (RFC 7677) in SMTP, POP3 and IMAP.  The cost:\n"
"                         CRAM-MD5 needs every password itself, so the\n"
"                         passwords given now (alice and bob, --users)\n"
"                         are kept in STATE/cram-md5 (mode 0600, only\n"
"                         base64); and for SCRAM the hashes in\n"
"                         STATE/users serve as the salted password, so\n"
"                         whoever reads that file can log in with SCRAM\n"
"                         without knowing the password\n"
"  -h, --help             this help\n"
"\n"
"Three failed logins in one session end it (421 4.7.0 / -ERR [AUTH] /\n"
"* BYE).  IMAP mailboxes besides INBOX live in STATE/mail/USER/.NAME.\n"
"Every delivered message gets Return-Path: and Received: on top; the\n"
"submission ports also add a missing Date: and Message-ID: (RFC 6409),\n"
"the smtp port (relay/MX) never does.\n"
"\n"
"Stop it with Ctrl-C (SIGINT) or SIGTERM.  Trust STATE/ca.pem in clients:\n"
"  mailsh --cafile STATE/ca.pem localhost 2465\n"),
	    LAB_DEFAULT_MAX_CONNS,
	    LAB_DEFAULT_MAX_PER_ADDR, LAB_DEFAULT_MAX_SIZE,
	    LAB_DEFAULT_QUOTA_MSGS, LAB_DEFAULT_QUOTA_MIB,
	    LAB_DEFAULT_DELIVERY_RATE, LAB_DEFAULT_LOGIN_RATE);
}

bool
lab_domain_local(const struct lab *lab, const char *d, size_t n)
{
	static const char *const fixed[] = {
		LAB_DEFAULT_HOST, "localhost", "[127.0.0.1]", "[IPv6:::1]",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		if (strlen(fixed[i]) == n && strncasecmp(fixed[i], d, n) == 0)
			return true;
	return strlen(lab->cfg.hostname) == n &&
	    strncasecmp(lab->cfg.hostname, d, n) == 0;
}

void
lab_pbs_add(struct lab *lab, const char *addr, const char *user)
{
	time_t now = time(NULL);
	struct lab_pbs *slot = &lab->pbs[0];
	for (int i = 0; i < LAB_PBS_MAX; i++) {
		struct lab_pbs *b = &lab->pbs[i];
		if (strcmp(b->addr, addr) == 0 || b->until < slot->until) {
			slot = b;
			if (strcmp(b->addr, addr) == 0)
				break;
		}
	}
	snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->until = now + lab->cfg.pop_before_smtp * 60L;
}

const char *
lab_pbs_find(struct lab *lab, const char *addr)
{
	if (!lab->cfg.pop_before_smtp)
		return NULL;
	time_t now = time(NULL);
	for (int i = 0; i < LAB_PBS_MAX; i++)
		if (lab->pbs[i].until > now &&
		    strcmp(lab->pbs[i].addr, addr) == 0)
			return lab->pbs[i].user;
	return NULL;
}

/* Parses a number in [lo, hi].  Returns false after saying why. */
static bool
lab_number(const char *opt, const char *s, long long lo, long long hi,
    long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end || errno || v < lo || v > hi) {
		fprintf(stderr, _("mailsh lab: %s wants a number from %lld to "
		    "%lld, not \"%s\"\n"), opt, lo, hi, s);
		return false;
	}
	*out = v;
	return true;
}

/* "smtp,imap": STARTTLS ports by name, checked; copied to out. */
static bool
lab_port_list(const char *s, char *out, size_t cap)
{
	static const char *const ok[] = { "smtp", "submission", "pop3",
	    "imap" };
	char buf[64];
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) || !*s)
		goto bad;
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
	    t = strtok_r(NULL, ",", &save)) {
		bool known = false;
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			known |= strcmp(t, ok[i]) == 0;
		if (!known)
			goto bad;
	}
	snprintf(out, cap, ",%s,", s);
	return true;
bad:
	fprintf(stderr, _("mailsh lab: --vulnerable-starttls= takes STARTTLS "
	    "ports separated by commas (smtp, submission, pop3, imap), not "
	    "\"%s\"\n"), s);
	return false;
}

/* A host name for the certificate and the greeting: letters, digits,
 * '-', '.', or an IP address. */
static bool
lab_hostname_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > LAB_HOST_MAX || h[0] == '.' || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == ':'))
			return false;
	}
	return true;
}

/* mkdir -p for dir (new directories 0700); dir must be ours and
 * private.  Returns 0, or -1 after saying why. */
static int
lab_mkstate(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, _("mailsh lab: cannot create %s: %s\n"),
			    path, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, _("mailsh lab: cannot create %s: %s\n"), path,
		    strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, _("mailsh lab: %s is not a directory\n"), path);
		return -1;
	}
	if (st.st_uid != getuid()) {
		fprintf(stderr, _("mailsh lab: %s belongs to someone else\n"),
		    path);
		return -1;
	}
	if (st.st_mode & 077) {
		/* keys live here: do not silently take a shared directory */
		fprintf(stderr, _("mailsh lab: %s can be read by others (mode "
		    "%03o): give a private directory, or chmod 700 it\n"),
		    path, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

/*
 * Makes sure no other lab uses the state directory: holds an flock on
 * STATE/lock for as long as the process lives.  Returns 0, or -1 after
 * saying why.
 */
static int
lab_lock(const char *state)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/lock", state);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, _("mailsh lab: cannot open %s: %s\n"), path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, _("mailsh lab: another lab is running with %s "
		    "(give it its own --state)\n"), state);
		close(fd);
		return -1;
	}
	return 0;	/* fd stays open: the lock goes with the process */
}

/* The default state directory into cfg->state.  Returns 0 or -1. */
static int
lab_default_state(struct lab_cfg *cfg)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int r;
	if (x && x[0] == '/')
		r = snprintf(cfg->state, sizeof(cfg->state),
		    "%s/mailsh/lab", x);
	else if (home && home[0] == '/')
		r = snprintf(cfg->state, sizeof(cfg->state),
		    "%s/.local/state/mailsh/lab", home);
	else {
		fprintf(stderr, _("mailsh lab: neither XDG_STATE_HOME nor HOME "
		    "is set: give --state DIR\n"));
		return -1;
	}
	return r > 0 && (size_t)r < sizeof(cfg->state) ? 0 : -1;
}

/* Writes STATE/ports ("name port" lines) atomically.  Returns 0 or -1. */
static int
lab_write_ports(const struct lab_cfg *cfg, int mitm_port)
{
	char path[4200], tmp[4220];
	snprintf(path, sizeof(path), "%s/ports", cfg->state);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, _("mailsh lab: cannot write %s: %s\n"), tmp,
		    strerror(errno));
		return -1;
	}
	for (int i = 0; i < LAB_NLISTEN; i++)
		fprintf(f, "%s %d\n", lab_listeners[i].name,
		    lab_listeners[i].port);
	if (mitm_port > 0)
		fprintf(f, "mitm %d\n", mitm_port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, _("mailsh lab: cannot write %s\n"), path);
		return -1;
	}
	return 0;
}

/* What each port is, for the start banner. */
static const char *
lab_port_what(const struct lab_listener *l)
{
	if (l->proto == &smtpd_proto)
		return l->flags & LAB_L_TLS ? _("SMTP submission, implicit TLS") :
		    l->flags & LAB_L_SUBMIT ? _("SMTP submission, STARTTLS") :
		    _("SMTP relay/MX, STARTTLS");
	if (l->proto == &imapd_proto)
		return l->flags & LAB_L_TLS ? _("IMAP, implicit TLS") :
		    _("IMAP, STARTTLS");
	return l->flags & LAB_L_TLS ? _("POP3, implicit TLS") :
	    _("POP3, STLS");
}

/* Prints the ports, users and paths at start (stdout, flushed). */
static void
lab_banner(const struct lab *lab)
{
	const struct lab_cfg *cfg = &lab->cfg;
	printf(_("mailsh lab: %s on %s, profile %s%s%s%s%s\n"), cfg->hostname,
	    /* TRANSLATORS: the --profile names, as typed on the command
	       line */
	    cfg->listen, cfg->strict ? _("strict") : _("lax"),
	    cfg->plaintext_auth ? _(", plaintext auth") : "",
	    cfg->vulnerable_starttls ? _(", VULNERABLE STARTTLS") : "",
	    cfg->pop_before_smtp ? _(", POP-before-SMTP") : "",
	    cfg->sasl_extra ? _(", CRAM-MD5 and SCRAM-SHA-256") : "");
	for (int i = 0; i < LAB_NLISTEN; i++)
		printf("  %-12s %5d  %s\n", lab_listeners[i].name,
		    lab_listeners[i].port, lab_port_what(&lab_listeners[i]));
	printf(_("  users:"));
	for (size_t i = 0; i < lab->users->n && i < 10; i++)
		printf(" %s", lab->users->u[i].name);
	if (lab->users->n > 10)
		printf(_(" ... (%zu)"), lab->users->n);
	printf(_("\n  state: %s\n  CA:    %s/ca.pem\n"), cfg->state, cfg->state);
	if (cfg->client_ca)
		printf(_("  client certificates: asked for, verified against "
		    "%s (none required, none refused)\n"), cfg->client_ca);
	fflush(stdout);
}

/* Parses the command line into cfg.  Returns -1 to go on, else the
 * exit status. */
/* --quota MSGS,MIB.  Returns false after printing why. */
static bool
lab_quota(const char *arg, struct lab_cfg *cfg)
{
	char m[32];
	const char *comma = strchr(arg, ',');
	long long msgs, mib;
	if (!comma || (size_t)(comma - arg) >= sizeof(m)) {
		fprintf(stderr, _("mailsh lab: --quota wants MESSAGES,MIB "
		    "(for example 1000,50), not \"%s\"\n"), arg);
		return false;
	}
	memcpy(m, arg, (size_t)(comma - arg));
	m[comma - arg] = '\0';
	if (!lab_number("--quota", m, 0, 100000000, &msgs) ||
	    !lab_number("--quota", comma + 1, 0, 1000000, &mib))
		return false;
	cfg->quota_msgs = (uint64_t)msgs;
	cfg->quota_bytes = (uint64_t)mib << 20;
	return true;
}

static int
lab_options(int argc, char **argv, struct lab_cfg *cfg)
{
	enum { O_STATE = 256, O_LISTEN, O_BASE, O_HOST, O_USERS, O_PROFILE,
	    O_PLAIN, O_ANYFROM, O_VULN, O_PREAUTH, O_PBS, O_IDLE, O_MAXC,
	    O_MAXA, O_MAXS, O_MITM, O_MITMFOR, O_QUOTA, O_RATE,
	    O_LRATE, O_CLIENTCA, O_SASLX };
	static const struct option lopts[] = {
		{ "state", required_argument, NULL, O_STATE },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port-base", required_argument, NULL, O_BASE },
		{ "hostname", required_argument, NULL, O_HOST },
		{ "users", required_argument, NULL, O_USERS },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "allow-plaintext-auth", no_argument, NULL, O_PLAIN },
		{ "any-from", no_argument, NULL, O_ANYFROM },
		{ "vulnerable-starttls", optional_argument, NULL, O_VULN },
		{ "preauth", no_argument, NULL, O_PREAUTH },
		{ "pop-before-smtp", required_argument, NULL, O_PBS },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "max-conns", required_argument, NULL, O_MAXC },
		{ "max-per-addr", required_argument, NULL, O_MAXA },
		{ "max-size", required_argument, NULL, O_MAXS },
		{ "quota", required_argument, NULL, O_QUOTA },
		{ "delivery-rate", required_argument, NULL, O_RATE },
		{ "login-rate", required_argument, NULL, O_LRATE },
		{ "mitm", required_argument, NULL, O_MITM },
		{ "mitm-for", required_argument, NULL, O_MITMFOR },
		{ "client-ca", required_argument, NULL, O_CLIENTCA },
		{ "sasl-extra", no_argument, NULL, O_SASLX },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool lax = false, plain = false, anyfrom = false;
	long long v;
	static const char optstring[] = ":h";
	int c;
	optind = 1;
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, optstring, lopts, NULL)) != -1) {
		switch (c) {
		case O_STATE:
			if (snprintf(cfg->state, sizeof(cfg->state), "%s",
			    optarg) >= (int)sizeof(cfg->state) || !*optarg) {
				fprintf(stderr, _("mailsh lab: --state: bad "
				    "path\n"));
				goto bad;
			}
			break;
		case O_LISTEN: cfg->listen = optarg; break;
		case O_MITM: cfg->mitm = optarg; break;
		case O_CLIENTCA: cfg->client_ca = optarg; break;
		case O_MITMFOR:
			if (!lab_listener_named(optarg)) {
				fprintf(stderr, _("mailsh lab: --mitm-for is "
				    "smtp, submission, submissions, pop3, pop3s, "
				    "imap or imaps\n"));
				goto bad;
			}
			cfg->mitm_for = optarg;
			break;
		case O_BASE:
			if (!lab_number("--port-base", optarg, 0, 65000,
			    &v))
				goto bad;
			if (v > 0 && v < 1500) {	/* pop3: N - 390 */
				fprintf(stderr, _("mailsh lab: --port-base is 0 "
				    "or from 1500 (ports below 1024 need "
				    "root)\n"));
				goto bad;
			}
			cfg->port_base = (int)v;
			break;
		case O_HOST:
			if (!lab_hostname_ok(optarg)) {
				fprintf(stderr, _("mailsh lab: --hostname wants "
				    "a host name or address, not \"%s\"\n"),
				    optarg);
				goto bad;
			}
			snprintf(cfg->hostname, sizeof(cfg->hostname), "%s",
			    optarg);
			break;
		case O_USERS: cfg->users_file = optarg; break;
		case O_PROFILE:
			if (strcmp(optarg, "strict") == 0) {
				lax = false;
			} else if (strcmp(optarg, "lax") == 0) {
				lax = true;
			} else {
				fprintf(stderr, _("mailsh lab: --profile is "
				    "strict or lax, not \"%s\"\n"), optarg);
				goto bad;
			}
			break;
		case O_PLAIN: plain = true; break;
		case O_SASLX: cfg->sasl_extra = true; break;
		case O_ANYFROM: anyfrom = true; break;
		case O_VULN:
			cfg->vulnerable_starttls = true;
			if (optarg && !lab_port_list(optarg,
			    cfg->vulnerable_only,
			    sizeof(cfg->vulnerable_only)))
				goto bad;
			break;
		case O_PREAUTH: cfg->preauth = true; break;
		case O_PBS:
			if (!lab_number("--pop-before-smtp", optarg, 1, 1440,
			    &v))
				goto bad;
			cfg->pop_before_smtp = (int)v;
			break;
		case O_IDLE:
			if (!lab_number("--idle-timeout", optarg, 1, 86400,
			    &v))
				goto bad;
			cfg->idle_s = (int)v;
			break;
		case O_MAXC:
			if (!lab_number("--max-conns", optarg, 1, 100000, &v))
				goto bad;
			cfg->max_conns = (int)v;
			break;
		case O_MAXA:
			if (!lab_number("--max-per-addr", optarg, 1, 100000,
			    &v))
				goto bad;
			cfg->max_per_addr = (int)v;
			break;
		case O_MAXS:
			if (!lab_number("--max-size", optarg, 1024,
			    1LL << 32, &v))
				goto bad;
			cfg->max_size = (uint64_t)v;
			break;
		case O_QUOTA:
			if (!lab_quota(optarg, cfg))
				goto bad;
			break;
		case O_RATE:
			if (!lab_number("--delivery-rate", optarg, 0, 100000,
			    &v))
				goto bad;
			cfg->delivery_rate = (int)v;
			break;
		case O_LRATE:
			if (!lab_number("--login-rate", optarg, 0, 100000,
			    &v))
				goto bad;
			cfg->login_rate = (int)v;
			break;
		case 'h':
			lab_usage(stdout);
			return 0;
		default:
			return cli_bad_option("mailsh lab", optstring, lopts, c,
			    argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, _("mailsh lab: unexpected argument \"%s\"\n"),
		    argv[optind]);
		cli_try("mailsh lab");
		return 2;
	}
	cfg->strict = !lax;
	cfg->plaintext_auth = lax || plain;
	cfg->any_from = lax || anyfrom;
	cfg->vrfy = lax;
	return -1;
bad:	/* a bad value: the message is out */
	cli_try("mailsh lab");
	return 2;
}

int
lab_main(int argc, char **argv)
{
	i18n_init();
	/* dates in headers and on the wire are never the user's locale's */
	setlocale(LC_TIME, "C");
	setlocale(LC_CTYPE, "C");
	static struct lab lab;	/* large: the POP-before-SMTP table */
	struct lab_cfg *cfg = &lab.cfg;
	cfg->listen = LAB_DEFAULT_LISTEN;
	cfg->port_base = LAB_DEFAULT_PORT_BASE;
	snprintf(cfg->hostname, sizeof(cfg->hostname), "%s",
	    LAB_DEFAULT_HOST);
	cfg->max_conns = LAB_DEFAULT_MAX_CONNS;
	cfg->max_per_addr = LAB_DEFAULT_MAX_PER_ADDR;
	cfg->max_size = LAB_DEFAULT_MAX_SIZE;
	cfg->quota_msgs = LAB_DEFAULT_QUOTA_MSGS;
	cfg->quota_bytes = (uint64_t)LAB_DEFAULT_QUOTA_MIB << 20;
	cfg->delivery_rate = LAB_DEFAULT_DELIVERY_RATE;
	cfg->login_rate = LAB_DEFAULT_LOGIN_RATE;
	int r = lab_options(argc, argv, cfg);
	if (r >= 0)
		return r;
	if (!cfg->state[0] && lab_default_state(cfg) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (lab_mkstate(cfg->state) != 0 || lab_lock(cfg->state) != 0)
		return 1;
	char ports[4200];
	snprintf(ports, sizeof(ports), "%s/ports", cfg->state);
	unlink(ports);		/* scripts wait for the new one */
	lab.tls = labtls_setup(cfg->state, cfg->hostname);
	if (!lab.tls)
		return 1;
	if (cfg->client_ca && labtls_client_ca(lab.tls, cfg->client_ca)
	    != 0) {
		SSL_CTX_free(lab.tls);
		return 1;
	}
	lab.users = users_load(cfg->state, cfg->users_file, cfg->sasl_extra);
	if (!lab.users) {
		SSL_CTX_free(lab.tls);
		return 1;
	}
	r = 0;
	for (size_t i = 0; i < lab.users->n && r == 0; i++)
		r = store_init_user(cfg->state, lab.users->u[i].name);
	if (r == 0 && loop_listen(lab_listeners, LAB_NLISTEN, cfg->listen,
	    cfg->port_base) != 0)
		r = -1;
	pid_t mitm = -1;
	int mitm_port = 0;
	if (r == 0 && cfg->mitm) {
		const char *svc = cfg->mitm_for ? cfg->mitm_for : "submission";
		int target = 0;
		for (int i = 0; i < LAB_NLISTEN; i++)
			if (strcmp(lab_listeners[i].name, svc) == 0)
				target = lab_listeners[i].port;
		const char *proto = strncmp(svc, "pop3", 4) == 0 ? "pop3" :
		    strncmp(svc, "imap", 4) == 0 ? "imap" : "smtp";
		mitm = labmitm_start(cfg->state, cfg->listen, cfg->port_base ?
		    cfg->port_base + 1 : 0, target, proto, cfg->mitm,
		    &mitm_port);
		if (mitm < 0)
			r = -1;
		else
			printf(_("mailsh lab: man in the middle (%s) on port %d "
			    "in front of %s %d, pid %d\n"), cfg->mitm,
			    mitm_port, svc, target, (int)mitm);
	}
	if (r == 0 && (auth_start() != 0 || commit_start() != 0))
		r = -1;
	if (r == 0 && lab_write_ports(cfg, mitm_port) == 0) {
		lab_banner(&lab);
		int sig = loop_run(&lab, lab_listeners, LAB_NLISTEN);
		unlink(ports);
		if (sig > 0)
			fprintf(stderr, _("mailsh lab: stopped (%s)\n"),
			    strsignal(sig));
		r = sig < 0 ? -1 : 0;
	} else {
		r = -1;
	}
	auth_stop();
	commit_stop();
	labmitm_stop(mitm);
	users_free(lab.users);
	SSL_CTX_free(lab.tls);
	return r == 0 ? 0 : 1;
}
