#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Real Dovecot + Postfix for mailsh's end-to-end tests.
#
#   tests/real/servers.sh start DIR   configure and start everything under DIR
#   tests/real/servers.sh stop DIR    stop exactly the daemons start launched
#
# Root only, no systemd, loopback only.  Ports are REAL_PORT_BASE (24000) plus
# the usual number.  The strict plaintext (STARTTLS) listeners are bound to
# 127.0.0.2 because Dovecot 2.3 treats a client whose IP equals the listener's
# IP as secure (no LOGINDISABLED); the client's source is then 127.0.0.1.
# Implicit-TLS listeners are on 127.0.0.1.  Start writes DIR/ports (lines
# "name host port") and DIR/ca.pem.  Test user: student / lab-pass-1; mail for
# other local names is accepted too, foreign recipients go to "sink".
# DIR: keep its path short (unix sockets live in it) and its parents
# searchable by the dovecot, postfix and mail users (mktemp -d in /tmp is).
set -eu

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
D=$(cd "$2" && pwd)
B=${REAL_PORT_BASE:-24000}
PLAIN=127.0.0.2 TLSIP=127.0.0.1
MAILUSER=${REAL_MAIL_USER:-nobody}	# existing system user owning the mail
PATH=$PATH:/usr/sbin:/sbin

# alive PID: the process exists and is not a zombie (PID 1 may not reap).
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }; [ "${s%% *}" != Z ]
}

# Every descendant of PID (Dovecot login processes can outlive the master).
# From /proc: procps may be missing.  After "comm) ", $2 is the parent PID.
descendants() {
	local c
	for c in $(awk -v p="$1" '{ sub(/.*\) /, "") } $2 == p {
	    split(FILENAME, f, "/"); print f[3] }' /proc/[0-9]*/stat 2>/dev/null); do
		echo "$c"; descendants "$c"
	done
}

# wait_gone SECONDS PID...: true once none of the PIDs is alive.
wait_gone() {
	local n=$(($1 * 10)) p=; shift
	while [ $n -gt 0 ]; do
		for p in "$@"; do alive "$p" && break; p=; done
		[ -z "$p" ] && return 0
		n=$((n - 1)); sleep 0.1
	done
	return 1
}

stop() {
	[ -f "$D/pids" ] || return 0
	local all="" p
	for p in $(cat "$D/pids"); do		# the masters we started
		alive "$p" || continue
		all="$all $p $(descendants "$p" | tr '\n' ' ')"
		kill -TERM "$p" 2>/dev/null || true
	done
	# Then TERM what outlived its master (e.g. a login process holding a
	# client), then KILL.
	local sig
	for sig in TERM KILL; do
		# shellcheck disable=SC2086
		wait_gone 2 $all && break
		for p in $all; do alive "$p" && kill -$sig "$p" 2>/dev/null; done
	done
	# shellcheck disable=SC2086
	wait_gone 2 $all || echo "servers.sh: some PIDs of$all survive" >&2
	rm -f "$D/pids"
}

# fail MSG: report, show the logs, stop what already runs, exit 1.
fail() {
	echo "servers.sh: $*" >&2
	for f in "$D"/*.log "$D"/*.out; do
		[ -s "$f" ] || continue
		echo "---- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2
	done
	stop; exit 1
}

# accepts HOST PORT: something accepts TCP connections there.
accepts() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# waitfor CMD...: retry CMD for up to 10 s; fail at once if a daemon died.
waitfor() {
	local p
	for _ in $(seq 100); do
		"$@" && return 0
		for p in $(cat "$D/pids"); do
			alive "$p" || fail "daemon $p exited early"
		done
		sleep 0.1
	done
	return 1
}

make_certs() {
	cd "$D"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -days 30 -subj "/CN=mailsh test CA" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout server.key -out server.pem -CA ca.pem -CAkey ca.key -days 30 \
	    -subj "/CN=mail.lab.example" -addext basicConstraints=CA:FALSE \
	    -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth \
	    -addext subjectAltName=DNS:mail.lab.example,DNS:localhost,IP:127.0.0.1,IP:127.0.0.2
	chmod 600 ca.key server.key
	cd - >/dev/null
}

dovecot_conf() {
	mkdir -p "$D/dovecot/run" "$D/mail"
	chown "$MAILUSER:" "$D/mail"
	echo 'student:{PLAIN}lab-pass-1' >"$D/dovecot/users"
	cat >"$D/dovecot/dovecot.conf" <<-EOF
	instance_name = mailsh-real
	base_dir = $D/dovecot/run
	state_dir = $D/dovecot/state
	log_path = $D/dovecot.log
	protocols = imap pop3 lmtp
	listen = $TLSIP
	default_internal_user = dovecot
	default_login_user = dovenull
	first_valid_uid = 1
	ssl = yes
	ssl_cert = <$D/server.pem
	ssl_key = <$D/server.key
	disable_plaintext_auth = yes
	# the passwords are stored in clear ({PLAIN}), so Dovecot can also
	# compute CRAM-MD5 and SCRAM-SHA-256 (mailsh's /auth, issue 11)
	auth_mechanisms = plain login cram-md5 scram-sha-256
	auth_username_format = %Ln
	mail_location = maildir:~/Maildir
	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN $D/dovecot/users
	}
	userdb {
	  driver = static
	  args = uid=$MAILUSER gid=$(id -gn "$MAILUSER") home=$D/mail/%n allow_all_users=yes
	}
	# Override every built-in inet listener, else 143/993/110/995 stay.
	service imap-login {
	  inet_listener imap {
	    address = $PLAIN
	    port = $((B + 143))
	  }
	  inet_listener imaps {
	    address = $TLSIP
	    port = $((B + 993))
	    ssl = yes
	  }
	}
	service pop3-login {
	  inet_listener pop3 {
	    address = $PLAIN
	    port = $((B + 110))
	  }
	  inet_listener pop3s {
	    address = $TLSIP
	    port = $((B + 995))
	    ssl = yes
	  }
	}
	service auth {
	  unix_listener auth-postfix {
	    mode = 0660
	    user = postfix
	  }
	}
	EOF
}

postfix_conf() {
	# The config dir must hold only root-owned files (postfix check).
	local P=$D/postfix run=$D/dovecot/run C=$D/postfix/conf
	mkdir -p "$C" "$P/spool" "$P/data"
	chown postfix: "$P/data"
	echo '!/@(mail\.lab\.example|lab\.example|localhost)$/ sink@mail.lab.example' \
	    >"$C/catchall"
	cat >"$C/main.cf" <<-EOF
	compatibility_level = 3.6
	myhostname = mail.lab.example
	mydomain = lab.example
	mydestination = \$myhostname, \$mydomain, localhost, localhost.\$mydomain
	mynetworks = 127.0.0.0/8
	inet_interfaces = loopback-only
	inet_protocols = ipv4
	queue_directory = $P/spool
	data_directory = $P/data
	maillog_file = $D/postfix.log
	maillog_file_prefixes = $D
	smtp_dns_support_level = disabled
	smtpd_peername_lookup = no
	# Everything local goes into Dovecot, foreign recipients to "sink".
	local_recipient_maps =
	local_transport = lmtp:unix:$run/lmtp
	virtual_alias_domains =
	virtual_alias_maps = regexp:$C/catchall
	smtpd_tls_cert_file = $D/server.pem
	smtpd_tls_key_file = $D/server.key
	smtpd_tls_security_level = may
	smtpd_tls_auth_only = yes
	smtpd_sasl_type = dovecot
	smtpd_sasl_path = $run/auth-postfix
	EOF
	# Explicit loopback addresses on every inet service; the internal
	# services from Postfix's own list, with chroot off (absolute paths).
	local auth="-o smtpd_sasl_auth_enable=yes
	  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
	cat >"$C/master.cf" <<-EOF
	$PLAIN:$((B + 25)) inet n - n - - smtpd
	$PLAIN:$((B + 587)) inet n - n - - smtpd -o syslog_name=postfix/submission
	  -o smtpd_tls_security_level=encrypt $auth
	$TLSIP:$((B + 465)) inet n - n - - smtpd -o syslog_name=postfix/smtps
	  -o smtpd_tls_wrappermode=yes $auth
	EOF
	awk '/^#/ || NF == 0 { next }
	     /^[^ \t]/ { keep = $2 != "inet" && $8 != "pipe"; $5 = "n" }
	     keep' /usr/share/postfix/master.cf.dist >>"$C/master.cf"
}

start() {
	[ "$(id -u)" -eq 0 ] || { echo "servers.sh: must run as root" >&2; exit 1; }
	for p in dovecot postfix openssl; do
		command -v $p >/dev/null || { echo "servers.sh: no $p" >&2; exit 1; }
	done
	[ -f "$D/pids" ] && { echo "servers.sh: already started in $D" >&2; exit 1; }
	id "$MAILUSER" >/dev/null 2>&1 ||
	    { echo "servers.sh: no user $MAILUSER (REAL_MAIL_USER)" >&2; exit 1; }
	chmod 755 "$D"		# dovecot/postfix users traverse DIR
	: >"$D/pids"
	cat >"$D/ports" <<-EOF
	smtp $PLAIN $((B + 25))
	submission $PLAIN $((B + 587))
	smtps $TLSIP $((B + 465))
	imap $PLAIN $((B + 143))
	imaps $TLSIP $((B + 993))
	pop3 $PLAIN $((B + 110))
	pop3s $TLSIP $((B + 995))
	EOF
	while read -r name host port; do	# a stale server would fool us
		accepts "$host" "$port" &&
		    fail "$host:$port ($name) already in use; set REAL_PORT_BASE"
	done <"$D/ports"
	make_certs >"$D/openssl.out" 2>&1 || fail "certificate generation failed"
	dovecot_conf
	postfix_conf
	# Postfix re-reads a main.cf whose mtime is not yet in the past (it
	# may still be written): backdating saves 1-2 s of start time.
	touch -d '-1 min' "$D"/postfix/conf/*

	# Dovecot in the foreground, backgrounded here: $! is its master.
	# stdio to files, or it keeps the caller's pipes open.
	dovecot -F -c "$D/dovecot/dovecot.conf" </dev/null >"$D/dovecot.out" 2>&1 &
	echo $! >>"$D/pids"

	# Postfix daemonizes; its master's PID is in the queue directory.
	postfix -c "$D/postfix/conf" start </dev/null >"$D/postfix.out" 2>&1 ||
	    fail "postfix start failed"
	tr -d ' ' <"$D/postfix/spool/pid/master.pid" >>"$D/pids" ||
	    fail "no Postfix master.pid"

	while read -r name host port; do
		waitfor accepts "$host" "$port" || fail "$name ($host:$port) not listening"
	done <"$D/ports"
	for f in lmtp auth-postfix; do		# Dovecot sockets for Postfix
		waitfor test -S "$D/dovecot/run/$f" || fail "no Dovecot socket $f"
	done
}

case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
