#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/mitm/run.sh: end-to-end tests of `mailsh mitm`.
#
# Each case starts tests/fakeserver.py (one scripted connection, port 0,
# "PORT n" on its stdout), puts `mailsh mitm --port 0 --port-file F` in
# front of it, drives it with ./mailsh in scripted mode (piped stdin) and
# checks three things: what mailsh showed, that the fake server's script
# held (its exit status: the server saw exactly the expected lines), and
# what the proxy printed.  The proxy is stopped with SIGTERM and must
# exit 0.  tests/mitm/multi.py covers many clients, long lines and
# backpressure.  Waiting is for files and processes, never fixed sleeps.
# One line per case:  PASS name | FAIL name (+ diagnostics) | SKIP name
#   MAILSH=path   binary to test (default ./mailsh at the repo top)
#   MITM_KEEP=1   keep the temp dir
# tests/lab/lib.sh gives HERE, TOP, MAILSH, D (the temp dir), PIDS
# (killed at exit), pass and fail; MITM_KEEP=1 is its LAB_KEEP=1.
LAB_TMP=mitmtest
LAB_KEEP=${LAB_KEEP:-${MITM_KEEP:-}}
. "$(dirname "$0")/../lab/lib.sh"
FAKE="python3 $TOP/tests/fakeserver.py"

if [ ! -x "$MAILSH" ]; then
	echo "FAIL mitm-build"; echo "    $MAILSH not built"; exit 1
fi
if ! python3 "$TOP/tests/e2e.py" --make-certs "$D/certs" >/dev/null 2>&1
then
	if command -v openssl >/dev/null; then
		echo "FAIL mitm (cannot make test certificates)"
	else
		echo "FAIL mitm (no openssl to make test certificates:" \
		    "install the Debian package openssl)"
	fi
	exit 1
fi
CA=$D/certs/ca.pem

# waitfor FILE PID: until FILE is non-empty (30 s at most, or PID died)
waitfor() {
	local i
	for i in $(seq 600); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || { [ -s "$1" ]; return; }
		sleep 0.05
	done
	return 1
}

# run_case NAME PROTO MODES [MAILSH-ARGS...] < mailsh-stdin
# The fake server's script is $D/NAME.srv.  PROTO "imap?" means: do not
# tell the proxy (it learns it from the greeting).  Leaves $D/NAME.{ms,
# mitm,fs.err} and sets RC_MS (mailsh), RC_FS (fake server), RC_MITM.
run_case() {
	local n=$1 proto=$2 modes=$3 a popt; shift 3
	popt=(--proto "$proto")
	case $proto in *\?) proto=${proto%\?}; popt=() ;; esac
	$FAKE --certdir "$D/certs" --timeout 20 "$D/$n.srv" \
	    >"$D/$n.fs.out" 2>"$D/$n.fs.err" &
	local fs=$! sp mp
	PIDS="$PIDS $fs"
	waitfor "$D/$n.fs.out" $fs
	sp=$(awk '$1 == "PORT" { print $2 }' "$D/$n.fs.out")
	"$MAILSH" mitm --port 0 --port-file "$D/$n.port" \
	    --to "127.0.0.1:$sp" "${popt[@]}" --mode "$modes" \
	    >"$D/$n.mitm" 2>&1 &
	mp=$!
	PIDS="$PIDS $mp"
	waitfor "$D/$n.port" $mp
	timeout 30 "$MAILSH" --no-color --no-confirm --timeout 10 -p "$proto" \
	    "$@" 127.0.0.1 "$(cat "$D/$n.port")" >"$D/$n.ms" 2>&1
	RC_MS=$?
	wait $fs; RC_FS=$?
	# the proxy has printed the close once the server's side is done;
	# wait for that line so the log is complete, then stop it
	for a in $(seq 200); do
		grep -q 'closed:' "$D/$n.mitm" && break
		sleep 0.05
	done
	kill -TERM $mp; wait $mp; RC_MITM=$?
}

# check NAME [grep patterns...]: mailsh exited 0, the server's script
# held, the proxy exited 0, and every "file:pattern" matches (ms: mailsh
# output, mitm: proxy output; "!file:pattern" must not match).
check() {
	local n=$1 ok=1 p f neg; shift
	why() { ok=0; echo "    $*" >>"$D/$n.why"; }
	[ "$RC_MS" = 0 ] || why "mailsh exit $RC_MS"
	[ "$RC_FS" = 0 ] || why "server script failed"
	[ "$RC_MITM" = 0 ] || why "mitm exit $RC_MITM"
	for p in "$@"; do
		neg=0
		case $p in !*) neg=1; p=${p#!} ;; esac
		f=${p%%:*}; p=${p#*:}
		if grep -qF -- "$p" "$D/$n.$f"; then
			[ $neg = 0 ] || why "$f has: $p"
		else
			[ $neg = 1 ] || why "$f lacks: $p"
		fi
	done
	if [ $ok = 1 ]; then pass "mitm-$n"
	else fail "mitm-$n" "$D/$n.why" "$D/$n.ms" "$D/$n.mitm" "$D/$n.fs.err"
	fi
}

# ---- SMTP ----
cat >"$D/smtp-pass.srv" <<'EOF'
send 220 fake.example ESMTP
expect EHLO client.example
send 250-fake.example
send 250-STARTTLS
send 250 AUTH PLAIN
expect AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
send 235 2.7.0 Authentication successful
expect MAIL FROM:<alice@example.org>
send 250 2.1.0 ok
expect RCPT TO:<bob@example.org>
send 250 2.1.5 ok
expect DATA
send 354 go ahead
expect Subject: a body line that looks like a command
expect 
expect AUTH PLAIN AGV2ZQBldmU=
expect .
send 250 2.0.0 queued
expect QUIT
send 221 2.0.0 Bye
EOF
run_case smtp-pass smtp pass <<'EOF'
EHLO client.example
AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.org>
DATA
Subject: a body line that looks like a command

AUTH PLAIN AGV2ZQBldmU=
.
QUIT
EOF
check smtp-pass "ms:S: 250-STARTTLS" "!mitm:user=eve" \
    "mitm:mitm: listening on 127.0.0.1 " "mitm:(modes: pass)" \
    "mitm:mitm: #1 S: 250-STARTTLS" \
    "mitm:mitm: captured credentials: user=alice password=wonderland"

# STARTTLS in the middle and as the last line of the EHLO reply
cat >"$D/smtp-strip.srv" <<'EOF'
send 220 fake.example ESMTP
expect EHLO client.example
send 250-fake.example
send 250-STARTTLS
send 250-PIPELINING
send 250-AUTH PLAIN LOGIN
send 250 STARTTLS
expect AUTH LOGIN
send 334 VXNlcm5hbWU6
expect Ym9i
send 334 UGFzc3dvcmQ6
expect YnVpbGRlcg==
send 235 2.7.0 ok
expect QUIT
send 221 2.0.0 Bye
EOF
run_case smtp-strip 'smtp?' strip-starttls -q <<'EOF'
EHLO client.example
AUTH LOGIN
Ym9i
YnVpbGRlcg==
QUIT
EOF
check smtp-strip "ms:S: 250-fake.example" "ms:S: 250-PIPELINING" \
    "ms:S: 250 AUTH PLAIN LOGIN" "!ms:STARTTLS" \
    "mitm:stripped STARTTLS from the EHLO reply" \
    "mitm:mitm: captured credentials: user=bob password=builder"

cat >"$D/smtp-refuse.srv" <<'EOF'
send 220 fake.example ESMTP
expect EHLO client.example
send 250-fake.example
send 250 STARTTLS
expect QUIT
send 221 2.0.0 Bye
EOF
run_case smtp-refuse smtp refuse-starttls -q <<'EOF'
EHLO client.example
STARTTLS
/expect 454
QUIT
EOF
check smtp-refuse "ms:S: 454 4.7.0 TLS not available" \
    "mitm:refused STARTTLS in the server's name"

cat >"$D/smtp-inject.srv" <<'EOF'
send 220 fake.example ESMTP
expect EHLO client.example
send 250-fake.example
send 250 STARTTLS
expect STARTTLS
send 220 2.0.0 Ready to start TLS
starttls
expect EHLO client.example
send 250-fake.example over TLS
send 250 AUTH PLAIN
expect QUIT
send 221 2.0.0 Bye
EOF
run_case smtp-inject smtp inject -q --cafile "$CA" <<'EOF'
EHLO client.example
STARTTLS
EHLO client.example
QUIT
EOF
check smtp-inject "ms:! injected, dropped: 250-PIPELINING injected" \
    "ms:S: 250-fake.example over TLS" "mitm:injected " \
    "mitm:relaying bytes blind"

# ---- POP3 ----
cat >"$D/pop3-strip.srv" <<'EOF'
send +OK fake POP3 ready
expect CAPA
send +OK Capability list follows
send USER
send STLS
send TOP
send .
expect USER alice
send +OK
expect PASS wonderland
send +OK logged in
expect QUIT
send +OK Bye
EOF
run_case pop3-strip 'pop3?' strip-starttls -q <<'EOF'
CAPA
USER alice
PASS wonderland
QUIT
EOF
check pop3-strip "ms:S: TOP" "!ms:STLS" "mitm:stripped STLS" \
    "mitm:mitm: captured credentials: user=alice password=wonderland"

cat >"$D/pop3-refuse.srv" <<'EOF'
send +OK fake POP3 ready
expect QUIT
send +OK Bye
EOF
run_case pop3-refuse pop3 refuse-starttls -q <<'EOF'
STLS
/expect -ERR
QUIT
EOF
check pop3-refuse "ms:S: -ERR TLS not available"

cat >"$D/pop3-inject.srv" <<'EOF'
send +OK fake POP3 ready
expect STLS
send +OK Begin TLS
starttls
expect CAPA
send +OK Capability list follows
send USER
send .
expect QUIT
send +OK Bye
EOF
run_case pop3-inject pop3 inject -q --cafile "$CA" <<'EOF'
STLS
CAPA
QUIT
EOF
check pop3-inject "ms:! injected, dropped: +OK injected" "ms:S: USER"

# ---- IMAP ----
cat >"$D/imap-strip.srv" <<'EOF'
send * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN] hi
expect a1 CAPABILITY
send * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN
send a1 OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] done
expect a2 LOGIN alice "won der\\"land"
send a2 OK logged in
expect a3 LOGOUT
send * BYE
send a3 OK bye
EOF
run_case imap-strip imap strip-starttls,strip-logindisabled -q <<'EOF'
a1 CAPABILITY
a2 LOGIN alice "won der\"land"
a3 LOGOUT
EOF
check imap-strip "ms:S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi" \
    "ms:S: * CAPABILITY IMAP4rev1 AUTH=PLAIN" \
    "ms:S: a1 OK [CAPABILITY IMAP4rev1] done" \
    "mitm:stripped STARTTLS from the capabilities" \
    "mitm:stripped LOGINDISABLED from the capabilities" \
    "mitm:(modes: strip-starttls,strip-logindisabled)" \
    'mitm:mitm: captured credentials: user=alice password=won der"land'

cat >"$D/imap-auth.srv" <<'EOF'
send * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi
expect a1 AUTHENTICATE PLAIN
send +
expect AGJvYgBidWlsZGVy
send a1 OK done
expect a2 STARTTLS
send a2 OK Begin TLS
starttls
expect a3 LOGOUT
send * BYE
send a3 OK bye
EOF
run_case imap-auth imap pass,inject -q --cafile "$CA" <<'EOF'
a1 AUTHENTICATE PLAIN
AGJvYgBidWlsZGVy
a2 STARTTLS
a3 LOGOUT
EOF
check imap-auth \
    "mitm:mitm: captured credentials: user=bob password=builder" \
    "ms:! injected, dropped: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected" \
    "ms:S: a3 OK bye"

cat >"$D/imap-refuse.srv" <<'EOF'
send * OK [CAPABILITY IMAP4rev1 STARTTLS] hi
expect a2 LOGOUT
send * BYE
send a2 OK bye
EOF
run_case imap-refuse imap refuse-starttls -q <<'EOF'
a1 STARTTLS
/expect NO
a2 LOGOUT
EOF
check imap-refuse "ms:S: a1 NO TLS not available"

cat >"$D/imap-preauth.srv" <<'EOF'
send * OK [CAPABILITY IMAP4rev1 STARTTLS] fake IMAP ready
expect a1 LOGOUT
send * BYE
send a1 OK bye
EOF
run_case imap-preauth 'imap?' preauth,strip-starttls <<'EOF'
a1 LOGOUT
EOF
check imap-preauth "mitm:the greeting is imap" \
    "ms:S: * PREAUTH [CAPABILITY IMAP4rev1] fake IMAP ready" \
    "ms:! PREAUTH on a plaintext connection" \
    "mitm:turned the greeting's * OK into * PREAUTH"

# ---- no server behind the proxy: the client is closed, the proxy goes on
np=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')	# now closed
"$MAILSH" mitm --port 0 --port-file "$D/noserver.port" --proto smtp \
    --to "127.0.0.1:$np" >"$D/noserver.mitm" 2>&1 &
mp=$!
PIDS="$PIDS $mp"
waitfor "$D/noserver.port" $mp
python3 -c 'import socket, sys
for _ in range(2):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    assert c.recv(100) == b""
' "$(cat "$D/noserver.port")" >"$D/noserver.py" 2>&1
rc=$?
kill -TERM $mp; wait $mp; rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] &&
    [ "$(grep -c 'cannot connect to the server' "$D/noserver.mitm")" = 2 ]
then pass mitm-no-server
else fail mitm-no-server "exit $rc / $rc2" "$D/noserver.py" "$D/noserver.mitm"
fi

# ---- refusals and usage ----
"$MAILSH" mitm --listen 192.0.2.1:2525 --to 127.0.0.1:2525 \
    >"$D/nonlocal.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "refusing to listen on 192.0.2.1" "$D/nonlocal.out"
then pass mitm-refuse-nonlocal-listen
else fail mitm-refuse-nonlocal-listen "exit $rc" "$D/nonlocal.out"
fi
"$MAILSH" mitm --port 0 --to 192.0.2.1:25 >"$D/nonlocal2.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "refusing to connect to 192.0.2.1" "$D/nonlocal2.out"
then pass mitm-refuse-nonlocal-target
else fail mitm-refuse-nonlocal-target "exit $rc" "$D/nonlocal2.out"
fi
"$MAILSH" mitm --port 0 --to 127.0.0.1:2143 --mode bogus \
    >"$D/badmode.out" 2>&1
rc=$?
"$MAILSH" mitm --to 127.0.0.1:2143 >"$D/nolisten.out" 2>&1
rc2=$?
if [ $rc = 2 ] && grep -q 'unknown mode "bogus"' "$D/badmode.out" &&
    [ $rc2 = 2 ] && grep -q -- "need --listen" "$D/nolisten.out"
then pass mitm-usage
else fail mitm-usage "exit $rc / $rc2" "$D/badmode.out" "$D/nolisten.out"
fi

# ---- tls-intercept: the proxy's own certificate, in front of the lab ----
# lab_mitm NAME MODES SERVICE [ENV...]: `mailsh lab --mitm MODES
# --mitm-for SERVICE` on free ports; sets LAB, MP (the proxy's port),
# LCA (the lab's CA).  The lab's stdout (with the proxy's lines) is
# $D/NAME.out.
lab_mitm() {
	local n=$1 modes=$2 svc=$3; shift 3
	env "$@" "$MAILSH" lab --state "$D/$n" --port-base 0 --mitm "$modes" \
	    --mitm-for "$svc" >"$D/$n.out" 2>"$D/$n.err" &
	LAB=$!
	PIDS="$PIDS $LAB"
	waitfor "$D/$n/ports" $LAB || return 1
	MP=$(awk '$1 == "mitm" { print $2 }' "$D/$n/ports")
	LCA=$D/$n/ca.pem
	[ -n "$MP" ]
}
lab_stop() { kill -TERM "$LAB"; wait "$LAB"; }

if lab_mitm icpt tls-intercept imaps; then
	# a client that checks (the lab's CA) refuses the proxy's certificate
	printf 'a1 LOGIN alice alice-pass\na2 LOGOUT\n' |
	    timeout 60 "$MAILSH" --no-color --keep-going --timeout 10 --cafile "$LCA" \
	    --tls -p imap localhost "$MP" >"$D/icpt-check.ms" 2>&1
	rc1=$?
	# one told to go on anyway is read in clear
	printf 'a1 LOGIN alice alice-pass\na2 LOGOUT\n' |
	    timeout 60 "$MAILSH" --no-color --keep-going --timeout 10 --insecure \
	    --tls -p imap localhost "$MP" >"$D/icpt-insecure.ms" 2>&1
	rc2=$?
	lab_stop
	if [ $rc1 != 0 ] &&
	    grep -q 'issued by CN=mailsh mitm CA,O=mailsh mitm' \
	    "$D/icpt-check.ms" &&
	    grep -q 'verified: NO: unknown issuer' "$D/icpt-check.ms" &&
	    grep -q '^mailsh: certificate verification failed' \
	    "$D/icpt-check.ms" && ! grep -q '^C: a1' "$D/icpt-check.ms" &&
	    grep -q '#1 the client closed right after the TLS handshake' \
	    "$D/icpt.out" && [ $rc2 = 0 ] &&
	    grep -q '^S: a1 OK' "$D/icpt-insecure.ms" &&
	    grep -q '#2 the client talks over TLS' "$D/icpt.out" &&
	    grep -q '#2 C: a1 LOGIN alice alice-pass' "$D/icpt.out" &&
	    grep -q 'mitm: captured credentials: user=alice password=alice-pass (#2, LOGIN)' "$D/icpt.out"
	then pass mitm-tls-intercept-imaps
	else fail mitm-tls-intercept-imaps "exit $rc1 / $rc2" \
	    "$D/icpt-check.ms" "$D/icpt-insecure.ms" "$D/icpt.out" "$D/icpt.err"
	fi
else
	fail mitm-tls-intercept-imaps "$D/icpt.err"
fi

# after a STARTTLS go-ahead too (submission), and in German when the
# shell's language reaches its children (MAILSH_LANG, set by --lang)
if lab_mitm icpt2 tls-intercept submission MAILSH_LANG=de; then
	timeout 60 "$MAILSH" --no-color --keep-going --timeout 10 --cafile "$LCA" \
	    localhost "$MP" >"$D/icpt2-check.ms" 2>&1 <<'EOF'
EHLO pc.example
STARTTLS
EHLO pc.example
QUIT
EOF
	rc1=$?
	timeout 60 "$MAILSH" --no-color --keep-going --timeout 10 --insecure \
	    localhost "$MP" >"$D/icpt2-insecure.ms" 2>&1 <<'EOF'
EHLO pc.example
STARTTLS
EHLO pc.example
AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=
QUIT
EOF
	rc2=$?
	lab_stop
	if [ $rc1 != 0 ] && grep -q '^S: 220 2.0.0 Ready to start TLS' \
	    "$D/icpt2-check.ms" &&
	    grep -q 'verified: NO: unknown issuer' "$D/icpt2-check.ms" &&
	    [ $rc2 = 0 ] && grep -q '^S: 235 ' "$D/icpt2-insecure.ms" &&
	    grep -q 'mitm: #1 STARTTLS angenommen: Der Proxy macht jetzt selbst TLS' "$D/icpt2.out" &&
	    grep -q 'mitm: Zugangsdaten mitgelesen: user=alice password=alice-pass (#2, AUTH PLAIN)' "$D/icpt2.out" &&
	    grep -q '^  Benutzer: alice bob' "$D/icpt2.out"
	then pass mitm-tls-intercept-starttls-german
	else fail mitm-tls-intercept-starttls-german "exit $rc1 / $rc2" \
	    "$D/icpt2-check.ms" "$D/icpt2-insecure.ms" "$D/icpt2.out"
	fi
else
	fail mitm-tls-intercept-starttls-german "$D/icpt2.err"
fi

# ---- a hostile peer: no byte of it reaches the terminal raw (issue 10 §6)
# The client's AUTH PLAIN carries an authorization identity with OSC 52,
# BEL, U+202E and a raw 0x9B, the password a CSI; the server's lines an
# OSC 0 title, a bidi override and U+009B.  The proxy's lines (the authzid
# it reports, the captured credentials, the relayed S: lines) and mailsh's
# show them all escaped.
cat >"$D/hostile.srv" <<'EOF'
send 220 fake.example ESMTP \x1b]0;title\x07 \xe2\x80\xaeevil
expect EHLO client.example
send 250-fake.example
send 250 AUTH PLAIN \x1b[31mX\xc2\x9b
expect AUTH PLAIN G101MjtjO2FHaz0H4oCumzJKAGFsaWNlAHdvbmRlchtbMkpsYW5k
send 235 2.7.0 \x1b]52;c;aGk=\x07 ok
expect QUIT
send 221 2.0.0 Bye
EOF
run_case hostile smtp pass <<'EOF'
EHLO client.example
AUTH PLAIN G101MjtjO2FHaz0H4oCumzJKAGFsaWNlAHdvbmRlchtbMkpsYW5k
QUIT
EOF
# raw_hits FILE: how many lines hold ESC, BEL, 0x9B (raw or in U+009B)
# or U+202E
raw_hits() {
	LC_ALL=C grep -c $'\x1b\\|\x07\\|\x9b\\|\xe2\x80\xae' "$1"
}
if [ "$(raw_hits "$D/hostile.mitm")" = 0 ] &&
    [ "$(raw_hits "$D/hostile.ms")" = 0 ]; then
	check hostile \
	    'mitm:authorization identity: \e]52;c;aGk=\x07\xE2\x80\xAE\x9B2J' \
	    'mitm:user=alice password=wonder\e[2Jland' \
	    'mitm:#1 S: 220 fake.example ESMTP \e]0;title\x07 \xE2\x80\xAEevil' \
	    'ms:   =   \e[31mX\xC2\x9B: a mechanism not in'
else
	RC_MS=1
	fail mitm-hostile "raw control bytes in the output" \
	    "$D/hostile.mitm" "$D/hostile.ms"
fi

# ---- many clients, long lines, backpressure, SIGTERM ----
if python3 "$HERE/multi.py" "$MAILSH" >"$D/multi.out" 2>&1
then pass mitm-multi
else fail mitm-multi "$D/multi.out"
fi

exit $FAILED
