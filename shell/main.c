/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * main.c: command line, then the interactive shell or a script.
 * Only this file decides the exit status.
 */
#include "shell.h"
#include "config.h"
#include "labrun.h"
#include "lesson.h"
#include "../protocols/util.h"
#include "output.h"
#include "../protocols/annotate.h"
#include "../protocols/i18n.h"
#include "../protocols/pcap.h"
#include "../lab/child.h"
#include "../lab/lab.h"
#include "../lab/mitm.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#ifndef MAILSH_VERSION
#define MAILSH_VERSION "0.0"
#endif

static void
usage(FILE *f)
{
	fprintf(f, _(
"usage: mailsh [options] [HOST [PORT]]\n"
"       mailsh lab [options]     run the built-in lab mail server\n"
"       mailsh mitm [options]    run a man in the middle for the lessons\n"
"       mailsh lesson [NAME]     list the guided lessons, or run one\n"
"\n"
"Talk SMTP, POP3 or IMAP by hand, in plaintext, over TLS, or upgrading\n"
"with STARTTLS / STLS, and see every line explained.  Without HOST, an\n"
"interactive mailsh starts the built-in lab for this session and\n"
"connects to its SMTP port; the lab and its mail are gone when mailsh\n"
"ends.\n"
"\n"
"options:\n"
"  -p, --proto smtp|pop3|imap  protocol (else guessed from the port and\n"
"                              confirmed by the greeting)\n"
"  -t, --tls                   implicit TLS (default on 465, 993, 995)\n"
"      --plain                 no implicit TLS, even on 465, 993, 995\n"
"      --cafile FILE           also trust the CA certificates in FILE\n"
"      --insecure              go on when the certificate check fails\n"
"      --servername NAME       ask for NAME (SNI) and verify the\n"
"                              certificate against it, not against HOST\n"
"      --no-sni                send no server name (SNI)\n"
"      --tls-min, --tls-max 1.0|1.1|1.2|1.3  the TLS versions allowed\n"
"                              (below 1.2 only with a warning)\n"
"      --ciphers LIST          OpenSSL cipher list for TLS 1.2 and older\n"
"      --ciphersuites LIST     TLS 1.3 cipher suites (colon-separated)\n"
"      --groups LIST           key exchange groups (X25519:P-256)\n"
"      --capath DIR            also trust the CAs in DIR (openssl rehash)\n"
"      --cert FILE             client certificate (PEM, with its chain)\n"
"      --key FILE              its key (PEM; default: in --cert's FILE);\n"
"                              an encrypted key asks for its passphrase\n"
"      --pass PHRASE           the key's passphrase (else asked for)\n"
"  -f, --file FILE             run the lines of FILE, then exit\n"
"      --keep-going            a script goes on after a negative reply\n"
"                              (the exit status is still 8)\n"
"      --pipeline              a script sends commands ahead where the\n"
"                              server allows it (PIPELINING; IMAP)\n"
"      --json                  one JSON object per output line\n"
"      --annotate off|brief|full  how much to explain (default brief)\n"
"      --require-tls           never send a credential outside TLS; close\n"
"                              on a refused or missing STARTTLS and on a\n"
"                              plaintext PREAUTH (exit 7)\n"
"      --no-confirm            do not ask before a credential is sent in\n"
"                              plaintext (it is still pointed out)\n"
"      --lang de|en            language of the explanations (else LANG)\n"
"      --timeout SECONDS       connect, handshake and reply timeout\n"
"                              (default 30)\n"
"  -4, -6                      IPv4 or IPv6 only\n"
"  -q, --quiet                 no notes or explanations\n"
"      --color[=WHEN]          colour: auto (the default: on a terminal\n"
"                              unless NO_COLOR or CLICOLOR=0 is set;\n"
"                              CLICOLOR_FORCE=1 also on a pipe), always\n"
"                              or never\n"
"      --no-color              the same as --color=never\n"
"      --log FILE              append a transcript of the screen to FILE\n"
"                              (no colour, secrets masked; /log too)\n"
"      --keylog FILE           append the TLS session keys to FILE in the\n"
"                              NSS key log format, for Wireshark (else\n"
"                              SSLKEYLOGFILE); anyone with FILE can read\n"
"                              the sessions\n"
"      --pcap FILE             write what the session sends and receives\n"
"                              to FILE as Wireshark reads it (pcapng),\n"
"                              after TLS decryption, passwords included\n"
"      --no-config             do not read the config file\n"
"  -h, --help                  this help\n"
"  -V, --version               version and build\n"
"\n"
"Lines starting with / are mailsh commands (/help lists them); every\n"
"other line goes to the server as typed, ended with CRLF.\n"
"\n"
"In a script, /expect WHAT checks the reply to the command before it\n"
"(535, 2.., 5.7.8, OK, NO, BAD, +OK, -ERR); /wait SECONDS and\n"
"/wait-for PATTERN [SECONDS] wait for what the server sends.\n"
"\n"
"exit status: 0 session ran, 2 usage, 3 connection failed, 4 TLS or\n"
"certificate failure, 5 server closed unexpectedly, 6 reply timed out,\n"
"7 TLS downgrade refused (--require-tls), 8 a script got a negative\n"
"reply (4xx/5xx, -ERR, NO, BAD), 9 an /expect was not met, 1 internal\n"
"error.\n"
"\n"
"The config file $XDG_CONFIG_HOME/mailsh/config (else\n"
"~/.config/mailsh/config) holds defaults, one \"key = value\" a line:\n"
"cafile, capath, cert, key, lang, timeout, annotate, color, confirm\n"
"(yes or no), tls-min, tls-max, ciphers, ciphersuites, groups; # starts\n"
"a comment line.  The command line wins.\n"
"\n"
"mailsh lab --help, mailsh mitm --help and mailsh lesson --help explain\n"
"the subcommands; man mailsh tells more.\n"));
}

/*
 * Opens a file only its owner may read (--keylog, --pcap; what names
 * it for messages): says why not on stderr and returns NULL, or warns
 * when a file that existed can be read by others.
 */
static FILE *
open_private(const char *path, bool truncate, const char *what)
{
	unsigned mode = 0;
	int fd = util_open_private(path, truncate, &mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		fprintf(stderr, _("mailsh: cannot write %s %s: %s\n"), what,
		    path, e == ELOOP ? _("it is a symbolic link (refused)")
		    : e == EINVAL ? _("not a regular file") : strerror(e));
		return NULL;
	}
	if (mode & 077)
		out_say(PP_EV_WARN, _("%s %s can be read by others (mode "
		    "%04o): chmod 600 %s"), what, path, mode, path);
	return f;
}

/* A --servername: a host name or an address, nothing a certificate
 * could not carry (no spaces, controls or slashes). */
static bool
servername_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/')
			return false;
	return true;
}

/* "1.2" for a --tls-min/--tls-max value. */
static const char *
tls_opt_name(int v)
{
	static const char *const names[] = { "1.0", "1.1", "1.2", "1.3" };
	return v >= TLS1_VERSION && v <= TLS1_3_VERSION
	    ? names[v - TLS1_VERSION] : "?";
}

volatile sig_atomic_t got_sigint;
volatile sig_atomic_t got_sigterm;
volatile sig_atomic_t got_sigchld;

/* Is this loopback port free? */
static bool
port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa,
	    sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Starts a lab for this session: on its usual ports (2525 SMTP, 2587
 * submission, 2465 submissions, 2110/2995 POP3, 2143/2993 IMAP) when
 * they are free, else on free ports; tells the user where and how.
 */
static enum ms_err
start_own_lab(struct labrun *lab)
{
	static const int usual[] = { 2525, 2587, 2465, 2110, 2995, 2143,
	    2993 };
	bool free_all = true;
	for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++)
		free_all = free_all && port_free(usual[i]);
	out_say(PP_EV_NOTE, _("no server named: starting the built-in lab "
	    "(users alice / alice-pass and bob / bob-pass)"));
	out_flush();
	int r = labrun_start(lab, free_all ? "--port-base 2500"
	    : "--port-base 0", NULL, NULL, "mailsh");
	if (r != MS_OK)
		return (enum ms_err)r;
	static const char *const names[] = { "smtp", "submission",
	    "submissions", "pop3", "pop3s", "imap", "imaps" };
	char line[256];
	struct sbuf sb;
	sbuf_init(&sb, line, sizeof(line));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sbuf_printf(&sb, "%s%s %d", i ? ", " : "", names[i],
		    labrun_port(lab, names[i]));
	out_say(PP_EV_NOTE, _("lab ports on 127.0.0.1: %s"), line);
	out_say(PP_EV_NOTE, _("/open 127.0.0.1 PORT reaches the others "
	    "(/open --tls for submissions, pop3s, imaps)"));
	return MS_OK;
}

static void
on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
}

static void
on_sigterm(int sig)
{
	got_sigterm = sig;
}

/* Wakes poll (EINTR): a lab child that died is reaped and said at
 * once, even when its socket's end woke us before it was a zombie. */
static void
on_sigchld(int sig)
{
	(void)sig;
	got_sigchld = 1;
}

/*
 * Ctrl-C only sets a flag (no SA_RESTART: poll sees EINTR); the line
 * editor drops the line being typed.  A hang-up (the terminal window
 * closed) or SIGTERM ends the session the normal way, so the lab this
 * process started is stopped and its directory removed.
 */
static void
catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_sigterm;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* After a hang-up or SIGTERM, and everything cleaned up: end as that
 * signal would have ended us, so the parent sees it. */
static int
leave(int status)
{
	out_exit(got_sigterm ? 128 + got_sigterm : status);
	if (got_sigterm) {
		int sig = got_sigterm;
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return status;
}

int
main(int argc, char **argv)
{
	static struct shell sh;	/* large: the engine's buffers */
	struct out_opts oo = { 0 };
	const char *file = NULL, *logfile = NULL, *keylog = NULL;
	const char *pcapfile = NULL;
	static struct pcap pcapw;
	enum color_mode color = COLOR_UNSET;

	if (argc > 1 && strcmp(argv[1], "lab") == 0) {
		child_watch_parent();	/* a shell's lab ends with the shell */
		return lab_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "mitm") == 0) {
		child_watch_parent();
		return mitm_main(argc - 1, argv + 1);
	}
	i18n_init();
	if (argc > 1 && strcmp(argv[1], "lesson") == 0) {
		catch_signals();
		return leave(lesson_main(argc - 1, argv + 1));
	}
	sh.family = AF_UNSPEC;
	sh.timeout_ms = 30000;
	enum ann_mode mode = ANN_BRIEF;
	pp_init(&sh.pp, shell_emit, &sh);
	/* the config file first: the command line then wins, and --help
	 * and usage errors speak its lang */
	static struct config cfg;
	if (!config_skip(argc, argv)) {
		int r = config_load(&cfg, NULL);
		if (r != 0)
			return r;
		if (cfg.cafile[0])
			sh.pp.tls.cafile = cfg.cafile;
		if (cfg.capath[0])
			sh.pp.tls.capath = cfg.capath;
		if (cfg.cert[0])
			sh.pp.tls.cert = cfg.cert;
		if (cfg.key[0])
			sh.pp.tls.key = cfg.key;
		sh.pp.tls.min_version = cfg.tls_min;
		sh.pp.tls.max_version = cfg.tls_max;
		if (cfg.ciphers[0])
			sh.pp.tls.ciphers = cfg.ciphers;
		if (cfg.ciphersuites_set)
			sh.pp.tls.ciphersuites = cfg.ciphersuites;
		if (cfg.groups[0])
			sh.pp.tls.groups = cfg.groups;
		if (cfg.lang[0])
			i18n_set_lang(cfg.lang);
		if (cfg.timeout_s)
			sh.timeout_ms = cfg.timeout_s * 1000;
		if (cfg.annotate >= 0)
			mode = (enum ann_mode)cfg.annotate;
		if (cfg.confirm >= 0)
			sh.no_confirm = !cfg.confirm;
		color = cfg.color;
	}

	enum { O_PLAIN = 256, O_CAFILE, O_INSECURE, O_JSON, O_TIMEOUT,
	    O_NOCOLOR, O_ANNOTATE, O_REQTLS, O_NOCONFIRM, O_LANG, O_COLOR,
	    O_NOCONFIG, O_LOG, O_KEEPGOING, O_PIPELINE,
	    O_KEYLOG,
	    O_SERVERNAME, O_NOSNI, O_TLSMIN, O_TLSMAX, O_CIPHERS,
	    O_CIPHERSUITES, O_GROUPS,
	    O_CAPATH, O_CERT, O_KEY, O_PASS, O_PCAP };
	static const struct option lopts[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "tls", no_argument, NULL, 't' },
		{ "plain", no_argument, NULL, O_PLAIN },
		{ "cafile", required_argument, NULL, O_CAFILE },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "servername", required_argument, NULL, O_SERVERNAME },
		{ "no-sni", no_argument, NULL, O_NOSNI },
		{ "tls-min", required_argument, NULL, O_TLSMIN },
		{ "tls-max", required_argument, NULL, O_TLSMAX },
		{ "ciphers", required_argument, NULL, O_CIPHERS },
		{ "ciphersuites", required_argument, NULL, O_CIPHERSUITES },
		{ "groups", required_argument, NULL, O_GROUPS },
		{ "capath", required_argument, NULL, O_CAPATH },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "pass", required_argument, NULL, O_PASS },
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, O_JSON },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "color", optional_argument, NULL, O_COLOR },
		{ "colour", optional_argument, NULL, O_COLOR },
		{ "no-config", no_argument, NULL, O_NOCONFIG },
		{ "annotate", required_argument, NULL, O_ANNOTATE },
		{ "require-tls", no_argument, NULL, O_REQTLS },
		{ "no-confirm", no_argument, NULL, O_NOCONFIRM },
		{ "lang", required_argument, NULL, O_LANG },
		{ "log", required_argument, NULL, O_LOG },
		{ "keep-going", no_argument, NULL, O_KEEPGOING },
		{ "pipeline", no_argument, NULL, O_PIPELINE },
		{ "keylog", required_argument, NULL, O_KEYLOG },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool key_given = false;	/* --key on the command line */
	static const char optstring[] = ":p:tf:q46hV";
	int c;
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, optstring, lopts, NULL))
	    != -1) {
		switch (c) {
		case 'p':
			sh.force_proto = pp_proto_by_name(optarg);
			if (!sh.force_proto) {
				fprintf(stderr, _("mailsh: unknown protocol "
				    "\"%s\": use smtp, pop3 or imap\n"),
				    optarg);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			break;
		case 't': sh.want_tls = true; break;
		case O_PLAIN: sh.no_tls = true; break;
		case O_CAFILE: sh.pp.tls.cafile = optarg; break;
		case O_INSECURE: sh.pp.tls.insecure = true; break;
		case O_SERVERNAME:
			if (!servername_ok(optarg))
				return cli_usage_error("mailsh", _("--servername "
				    "wants a host name or an address, not "
				    "\"%s\""), optarg);
			sh.pp.tls.servername = optarg;
			break;
		case O_NOSNI: sh.pp.tls.no_sni = true; break;
		case O_TLSMIN:
		case O_TLSMAX: {
			int v = conn_tls_version_parse(optarg);
			if (!v)
				return cli_usage_error("mailsh", _("%s wants "
				    "1.0, 1.1, 1.2 or 1.3, not \"%s\""),
				    c == O_TLSMIN ? "--tls-min" : "--tls-max",
				    optarg);
			if (c == O_TLSMIN)
				sh.pp.tls.min_version = v;
			else
				sh.pp.tls.max_version = v;
			break;
		}
		case O_CIPHERS: sh.pp.tls.ciphers = optarg; break;
		case O_CIPHERSUITES: sh.pp.tls.ciphersuites = optarg; break;
		case O_GROUPS: sh.pp.tls.groups = optarg; break;
		case O_CAPATH: sh.pp.tls.capath = optarg; break;
		case O_CERT:
			/* the config file's key goes with its cert */
			sh.pp.tls.cert = optarg;
			if (!key_given)
				sh.pp.tls.key = NULL;
			break;
		case O_KEY: sh.pp.tls.key = optarg; key_given = true; break;
		case O_PASS: sh.pp.tls.pass = optarg; break;
		case 'f': file = optarg; break;
		case O_JSON: oo.json = true; break;
		case O_TIMEOUT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 3600) {
				fprintf(stderr, _("mailsh: --timeout wants "
				    "seconds from 1 to 3600, not \"%s\"\n"),
				    optarg);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			sh.timeout_ms = (int)v * 1000;
			break;
		}
		case 'q': oo.quiet = true; mode = ANN_OFF; break;
		case O_ANNOTATE:
			if (!ann_mode_parse(optarg, &mode)) {
				fprintf(stderr, _("mailsh: --annotate wants off, "
				    "brief or full, not \"%s\"\n"), optarg);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			break;
		case O_REQTLS: sh.require_tls = true; break;
		case O_NOCONFIRM: sh.no_confirm = true; break;
		case O_KEEPGOING: sh.keep_going = true; break;
		case O_PIPELINE: sh.pipeline = true; break;
		case O_LANG:
			if (!i18n_set_lang(optarg)) {
				fprintf(stderr, _("mailsh: --lang wants de or "
				    "en, not \"%s\"\n"), optarg);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			break;
		case '4': sh.family = AF_INET; break;
		case '6': sh.family = AF_INET6; break;
		case O_NOCOLOR: color = COLOR_NEVER; break;
		case O_COLOR:
			if (!optarg) {
				color = COLOR_ALWAYS;	/* as ls --color */
			} else if (!color_mode_parse(optarg, &color)) {
				fprintf(stderr, _("mailsh: --color wants auto, "
				    "always or never, not \"%s\"\n"), optarg);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			break;
		case O_NOCONFIG: break;	/* config_skip() saw it */
		case O_LOG: logfile = optarg; break;
		case O_KEYLOG: keylog = optarg; break;
		case O_PCAP: pcapfile = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("mailsh %s (%s, %s)\n", MAILSH_VERSION,
			    OpenSSL_version(OPENSSL_VERSION),
#ifdef MAILSH_LIBEDIT
			    "libedit"
#else
			    "GNU readline"
#endif
			    );
			/* the licence, as GNU tools print it (not translated:
			 * it names the licence's own English title) */
			fputs("License GPL-3.0-or-later: GNU GPL version 3 or "
			    "later <https://gnu.org/licenses/gpl.html>.\n"
			    "This is free software: you are free to change and "
			    "redistribute it.\n"
			    "There is NO WARRANTY, to the extent permitted by "
			    "law.\n", stdout);
			return 0;
		default:
			return cli_bad_option("mailsh", optstring, lopts, c,
			    argv);
		}
	}
	ann_init(&sh.ann, &sh.pp, mode, out_event, NULL);
	sh.ann.require_tls = sh.require_tls;
	if (sh.want_tls && sh.no_tls) {
		fprintf(stderr, _("mailsh: --tls and --plain contradict each "
		    "other\n"));
		cli_try("mailsh");
		return MS_EUSAGE;
	}
	switch (conn_tls_opts_check(&sh.pp.tls)) {
	case TLS_OPT_OK:
		break;
	case TLS_OPT_RANGE:
		return cli_usage_error("mailsh", _("--tls-min %s is above "
		    "--tls-max %s"), tls_opt_name(sh.pp.tls.min_version),
		    tls_opt_name(sh.pp.tls.max_version));
	case TLS_OPT_CIPHERS:
		if (strncmp(sh.pp.tls.ciphers, "TLS_", 4) == 0)
			return cli_usage_error("mailsh", _("--ciphers: \"%s\" "
			    "looks like a TLS 1.3 suite: those go to "
			    "--ciphersuites"), sh.pp.tls.ciphers);
		return cli_usage_error("mailsh", _("--ciphers: OpenSSL knows "
		    "no cipher in \"%s\" (see openssl ciphers -v)"),
		    sh.pp.tls.ciphers);
	case TLS_OPT_CIPHERSUITES:
		return cli_usage_error("mailsh", _("--ciphersuites: OpenSSL "
		    "does not know \"%s\" (TLS 1.3 suites, separated by "
		    "colons: TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384)"),
		    sh.pp.tls.ciphersuites);
	case TLS_OPT_GROUPS:
		return cli_usage_error("mailsh", _("--groups: OpenSSL does "
		    "not know \"%s\" (groups separated by colons: "
		    "X25519:P-256)"), sh.pp.tls.groups);
	}
	if (argc - optind > 2) {
		fprintf(stderr, _("mailsh: too many arguments: give HOST "
		    "[PORT]\n"));
		cli_try("mailsh");
		return MS_EUSAGE;
	}
	if (sh.pp.tls.cafile) {
		/* said before connecting, not as a TLS failure later */
		struct stat st;
		FILE *f = fopen(sh.pp.tls.cafile, "r");
		int e = errno;
		if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
			e = EISDIR;
		if (!f || e == EISDIR) {
			fprintf(stderr, _("mailsh: cannot read the CA file "
			    "%s: %s\n"), sh.pp.tls.cafile, strerror(e));
			if (f)
				fclose(f);
			return MS_EUSAGE;
		}
		fclose(f);
	}
	if (sh.pp.tls.capath) {
		struct stat st;
		int e = stat(sh.pp.tls.capath, &st) != 0 ? errno
		    : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
		if (e) {
			fprintf(stderr, _("mailsh: --capath wants a directory "
			    "(made with openssl rehash): %s: %s\n"),
			    sh.pp.tls.capath, strerror(e));
			return MS_EUSAGE;
		}
	}
	if ((key_given || sh.pp.tls.pass) && !sh.pp.tls.cert)
		return cli_usage_error("mailsh", _("%s needs --cert"),
		    key_given ? "--key" : "--pass");
	/* HOST as [::1], [::1]:2525 or host:port (one colon only: a bare
	 * IPv6 address has several) */
	static char hostbuf[256], portbuf[16];
	const char *host_arg = optind < argc ? argv[optind] : NULL;
	const char *port_arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind < argc && argc - optind == 1) {
		const char *a = argv[optind];
		const char *colon = strrchr(a, ':');
		if (a[0] == '[') {
			const char *close = strchr(a, ']');
			if (!close || (close[1] && (close[1] != ':' ||
			    !close[2])) || (size_t)(close - a - 1) >=
			    sizeof(hostbuf)) {
				fprintf(stderr, _("mailsh: \"%s\": write an "
				    "IPv6 address as [::1] or [::1]:PORT\n"),
				    a);
				cli_try("mailsh");
				return MS_EUSAGE;
			}
			snprintf(hostbuf, sizeof(hostbuf), "%.*s",
			    (int)(close - a - 1), a + 1);
			host_arg = hostbuf;
			if (close[1] == ':') {
				snprintf(portbuf, sizeof(portbuf), "%s",
				    close + 2);
				port_arg = portbuf;
			}
		} else if (colon && colon == strchr(a, ':') && colon[1] &&
		    (size_t)(colon - a) < sizeof(hostbuf)) {
			snprintf(hostbuf, sizeof(hostbuf), "%.*s",
			    (int)(colon - a), a);
			snprintf(portbuf, sizeof(portbuf), "%s", colon + 1);
			host_arg = hostbuf;
			port_arg = portbuf;
		}
	} else if (optind < argc && argv[optind][0] == '[') {
		const char *a = argv[optind];
		const char *close = strchr(a, ']');
		if (close && !close[1] && (size_t)(close - a - 1) <
		    sizeof(hostbuf)) {
			snprintf(hostbuf, sizeof(hostbuf), "%.*s",
			    (int)(close - a - 1), a + 1);
			host_arg = hostbuf;
		}
	}

	if (file) {
		sh.script = fopen(file, "r");
		if (!sh.script) {
			fprintf(stderr, _("mailsh: cannot read %s: %s\n"),
			    file, strerror(errno));
			return MS_EUSAGE;
		}
	} else if (!isatty(STDIN_FILENO)) {
		sh.script = stdin;
	}
	sh.interactive = sh.script == NULL;
	/* --color, else the config file, else NO_COLOR, CLICOLOR_FORCE,
	 * CLICOLOR and whether stdout is a terminal */
	oo.color = !oo.json && color_decide(color, isatty(STDOUT_FILENO));
	out_setup(&oo);
	/* before connecting: a transcript that cannot be written is a
	 * usage error, as an unreadable -f FILE */
	if (logfile && out_log_open(logfile) != 0) {
		int e = errno;
		fprintf(stderr, _("mailsh: cannot write the transcript %s: "
		    "%s\n"), logfile, e == ELOOP ?
		    _("it is a symbolic link (refused)") : e == EINVAL ?
		    _("not a regular file") : strerror(e));
		return MS_EUSAGE;
	}
	/* --keylog wins over SSLKEYLOGFILE (as curl and browsers read it) */
	bool keylog_env = false;
	if (!keylog && getenv("SSLKEYLOGFILE") && *getenv("SSLKEYLOGFILE")) {
		keylog = getenv("SSLKEYLOGFILE");
		keylog_env = true;
	}
	if (keylog) {
		FILE *f = open_private(keylog, false, keylog_env
		    ? _("the key log (SSLKEYLOGFILE)") : _("the key log"));
		if (!f)
			return MS_EUSAGE;
		sh.pp.tls.keylog = f;
		sh.pp.tls.keylog_path = keylog;
	}
	if (pcapfile) {
		FILE *f = open_private(pcapfile, true, _("the capture"));
		if (!f)
			return MS_EUSAGE;
		if (pcap_start(&pcapw, f, pcapfile) != 0) {
			fprintf(stderr, _("mailsh: cannot write %s %s: %s\n"),
			    _("the capture"), pcapfile, strerror(errno));
			fclose(f);
			return MS_EUSAGE;
		}
		sh.pp.conn.pcap = &pcapw;
	}

	catch_signals();

	static struct labrun lab = { .mitm_fd = -1 };
	char labca[PATH_MAX];
	if (optind == argc && sh.interactive) {
		/* no server named: practise against the built-in lab */
		if (start_own_lab(&lab) == MS_OK) {
			for (const char *const *sv = ann_services; *sv; sv++)
				ann_port_role(&sh.ann, labrun_port(&lab, *sv), *sv);
			snprintf(labca, sizeof(labca), "%s/ca.pem", lab.state);
			sh.pp.tls.cafile = labca;
			sh.pp.tls.cafile_label = _("the mailsh lab CA");
			char port[16];
			snprintf(port, sizeof(port), "%d",
			    labrun_port(&lab, "smtp"));
			shell_open(&sh, "127.0.0.1", port, false, true);
		}
	}
	/* the client certificate now: its passphrase is asked for before
	 * the session starts, a wrong key is said before connecting */
	if (sh.pp.tls.cert || sh.pp.tls.capath) {
		enum ms_err r = conn_tls_prepare(&sh.pp.conn, &sh.pp.tls);
		if (r != MS_OK) {
			labrun_stop(&lab);
			out_flush();
			pp_free(&sh.pp);
			return leave(r);
		}
	}
	if (host_arg) {
		enum ms_err r = shell_open(&sh, host_arg, port_arg, sh.want_tls,
		    sh.no_tls);
		if (r != MS_OK && !sh.interactive) {
			out_flush();
			pp_free(&sh.pp);
			return leave(sh.status);
		}
	}
	int status = sh.interactive ? repl_interactive(&sh)
	    : repl_script(&sh);
	if (pp_connected(&sh.pp))
		pp_close(&sh.pp, NULL);
	labrun_stop(&lab);
	out_flush();
	out_log_close();
	if (sh.pp.tls.keylog)
		fclose(sh.pp.tls.keylog);
	if (pcapw.f)
		fclose(pcapw.f);
	if (sh.script && sh.script != stdin)
		fclose(sh.script);
	pp_free(&sh.pp);
	return leave(status);
}
