#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck disable=SC2317,SC2046 # t_* run by name; $(at x) is "host port"
# End-to-end tests: ./mailsh in scripted mode (stdin piped) against real
# Dovecot and Postfix started by servers.sh.  One line per case:
#   PASS name | FAIL name (+ diagnostics) | SKIP name (reason)
# Exit status 1 if any case failed.  Needs root and the Debian packages
# (scripts/debian-deps --test); without them every case fails, naming the
# package.  Not as root, every case is skipped (and tests/run lists it).
#   MAILSH=path       binary to test (default ./mailsh at the repo top)
#   REAL_PORT_BASE=N  port base for servers.sh (default 24000)
#   REAL_KEEP=1       keep the temp dir (configs, logs, transcripts)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
MAILSH=${MAILSH:-$TOP/mailsh}
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C LANG=C NO_COLOR=1

CASES="smtp-starttls submission-auth-after-tls pop3-stls imap-starttls
imap-starttls-json imaps-cafile pop3s-cafile smtps-cafile verify-fail-implicit
verify-fail-starttls send-smtp read-imap read-pop3 no-password-in-transcript
paste-starttls paste-data pipeline-script servername-starttls
servername-mismatch tls-max-12 cert-dovecot cert-pem-postfix capath
sasl-cram-md5-smtp sasl-cram-md5-pop3 sasl-cram-md5-imap
sasl-scram-sha-256-smtp sasl-scram-sha-256-pop3 sasl-scram-sha-256-imap"

skip_all() { for c in $CASES; do echo "SKIP $c ($1)"; done; exit 0; }
fail_all() { for c in $CASES; do echo "FAIL $c ($1)"; done; exit 1; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root to run Dovecot and Postfix"
for p in dovecot:dovecot-core postfix:postfix openssl:openssl; do
	command -v "${p%%:*}" >/dev/null ||
	    fail_all "no ${p%%:*}: install the Debian package ${p#*:}"
done
for p in imap pop3 lmtp; do
	[ -x /usr/lib/dovecot/$p ] ||
	    fail_all "no Dovecot $p: install the Debian package dovecot-${p}d"
done

if [ ! -x "$MAILSH" ]; then
	for c in $CASES; do echo "FAIL $c"; echo "    $MAILSH not built"; done
	exit 1
fi

D=$(mktemp -d /tmp/mailsh-real.XXXXXX)	# servers (configs, logs, mail)
T=$D/t					# transcripts of mailsh runs
mkdir -p "$T" "$D/home"
cleanup() {
	"$HERE/servers.sh" stop "$D"
	if [ "${REAL_KEEP:-}" = 1 ]; then echo "kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# The default port base, else (ports taken by another run on this
# machine) the next free ones; an explicit REAL_PORT_BASE is used as is.
started=0
for base in ${REAL_PORT_BASE:-24000 25000 26000 27000 28000}; do
	if REAL_PORT_BASE=$base "$HERE/servers.sh" start "$D" </dev/null \
	    >"$D/start.out" 2>&1; then
		started=1
		break
	fi
	grep -q 'already in use' "$D/start.out" || break
done
if [ "$started" != 1 ]; then
	echo "FAIL servers-start"; sed 's/^/    /' "$D/start.out"; exit 1
fi
CA=$D/ca.pem
at() { awk -v n="$1" '$1 == n { print $2, $3 }' "$D/ports"; }	# host port
port() { awk -v n="$1" '$1 == n { print $3 }' "$D/ports"; }

# ms ARGS...: run mailsh, stdin is the script; transcript in $T/$n.*
ms() {
	HOME=$D/home timeout 60 "$MAILSH" --no-color --timeout 10 "$@" \
	    >"$T/$n.out" 2>"$T/$n.err"
	echo $? >"$T/$n.rc"
}

# Checks: on failure set $why and return 1.  $n is the current case.
rc_is() {
	local rc; rc=$(cat "$T/$n.rc")
	[ "$rc" = "$1" ] || { why="exit code $rc, expected $1"; return 1; }
}
has() {		# has ERE [PART]: some line of $T/$n.PART (out) matches
	grep -Eq -- "$1" "$T/$n.${2:-out}" ||
	    { why="no line matches /$1/ in ${2:-out}"; return 1; }
}
json_valid() {	# json_valid: $T/$n.out is valid --json output (schema)
	local out
	out=$(python3 "$TOP/tests/json_check.py" --exit "$(cat "$T/$n.rc")" \
	    "$T/$n.out" 2>&1) || { why="--json output: $out"; return 1; }
}
hasnt() {
	! grep -Eq -- "$1" "$T/$n.${2:-out}" ||
	    { why="unexpected line matching /$1/ in ${2:-out}:
$(grep -E -m3 -- "$1" "$T/$n.${2:-out}")"; return 1; }
}
# split LINE: $T/$n.before = output before the C: line LINE, .after = after.
split() {
	grep -qxF "C: $1" "$T/$n.out" || { why="no line 'C: $1'"; return 1; }
	awk -v l="C: $1" '$0 == l { exit } { print }' "$T/$n.out" >"$T/$n.before"
	awk -v l="C: $1" 'f { print } $0 == l { f = 1 }' "$T/$n.out" >"$T/$n.after"
}

failed=0
run_case() {		# run_case NAME: call t_NAME, print the verdict
	n=$1 why=
	if "t_${n//-/_}"; then echo "PASS $n"; return; fi
	echo "FAIL $n"; failed=1
	echo "$why" | sed 's/^/    /'
	for f in out err; do
		[ -s "$T/$n.$f" ] || continue
		echo "    --- $f (rc $(cat "$T/$n.rc" 2>/dev/null), last 12 lines)"
		tail -n 12 "$T/$n.$f" | sed 's/^/    | /'
	done
}

# --- cases -------------------------------------------------------------

# SMTP (25-style): EHLO, STARTTLS, EHLO again inside TLS.
t_smtp_starttls() {
	printf '%s\n' "EHLO client.lab.example" STARTTLS \
	    "EHLO client.lab.example" QUIT |
	    ms -p smtp --cafile "$CA" $(at smtp)
	rc_is 0 && split STARTTLS && has '^S: 220 mail\.lab\.example' before &&
	has '^S: 250-STARTTLS' before && has '^S: 220 2\.0\.0 ' after &&
	has '^C: EHLO client\.lab\.example' after && has '^S: 250[ -]' after &&
	hasnt '^S: 250[ -]STARTTLS' after && has '^S: 221 ' after
}

# Submission (587-style): AUTH only offered after TLS; AUTH PLAIN works.
t_submission_auth_after_tls() {
	printf '%s\n' "EHLO client.lab.example" STARTTLS \
	    "EHLO client.lab.example" "AUTH PLAIN $PLAIN_B64" QUIT |
	    ms -p smtp --cafile "$CA" $(at submission)
	rc_is 0 && split STARTTLS && has '^S: 250-STARTTLS' before &&
	hasnt '^S: 250[ -]AUTH' before && has '^S: 250[ -]AUTH PLAIN' after &&
	has '^S: 235 ' after && has '^S: 221 ' after
}
PLAIN_B64=$(printf '\0student\0lab-pass-1' | base64)

# POP3: STLS; CAPA before shows STLS (no USER), after shows USER (no STLS).
t_pop3_stls() {
	printf '%s\n' CAPA STLS CAPA QUIT |
	    ms -p pop3 --cafile "$CA" $(at pop3)
	rc_is 0 && split STLS && has '^S: \+OK' before && has '^S: STLS' before &&
	hasnt '^S: USER' before && has '^S: \+OK' after && has '^S: USER' after &&
	hasnt '^S: STLS' after
}

# IMAP: LOGINDISABLED before STARTTLS, gone after; "a1 STARTTLS" upgrades.
t_imap_starttls() {
	printf '%s\n' "a0 CAPABILITY" "a1 STARTTLS" "a2 CAPABILITY" "a3 LOGOUT" |
	    ms -p imap --cafile "$CA" $(at imap)
	rc_is 0 && split "a1 STARTTLS" && has '^S: .*LOGINDISABLED' before &&
	has '^S: \* CAPABILITY .*STARTTLS' before && has '^S: a1 OK' after &&
	has '^S: \* CAPABILITY .*AUTH=PLAIN' after &&
	hasnt '^S: .*LOGINDISABLED' after && has '^S: a3 OK' after &&
	has '= gone after TLS: .*LOGINDISABLED' after
}

# The same with --json: "tls" says which lines travelled inside TLS.
t_imap_starttls_json() {
	printf '%s\n' "a0 CAPABILITY" "a1 STARTTLS" "a2 CAPABILITY" "a3 LOGOUT" |
	    ms --json -p imap --cafile "$CA" $(at imap)
	rc_is 0 && json_valid || return 1
	grep -E '"event": ?"recv"' "$T/$n.out" >"$T/$n.recv"
	grep -E '"tls": ?false' "$T/$n.recv" >"$T/$n.plain"
	grep -E '"tls": ?true' "$T/$n.recv" >"$T/$n.tls"
	has 'LOGINDISABLED' plain && has 'a1 OK' plain && hasnt 'LOGINDISABLED' tls &&
	has 'AUTH=PLAIN' tls && has 'a3 OK' tls && hasnt 'a[01] OK' tls
}

# Implicit TLS (993/995/465-style) trusting the test CA; name "localhost".
t_imaps_cafile() {
	printf '%s\n' "a1 CAPABILITY" "a2 LOGOUT" |
	    ms -t -p imap --cafile "$CA" localhost "$(port imaps)"
	rc_is 0 && has '^S: \* OK' && hasnt '^S: .*LOGINDISABLED' &&
	has '^S: a1 OK' && has '^S: a2 OK'
}
t_pop3s_cafile() {
	printf '%s\n' CAPA QUIT |
	    ms -t -p pop3 --cafile "$CA" localhost "$(port pop3s)"
	rc_is 0 && has '^S: \+OK' && has '^S: USER' && hasnt '^S: STLS'
}
t_smtps_cafile() {
	printf '%s\n' "EHLO client.lab.example" QUIT |
	    ms -t -p smtp --cafile "$CA" localhost "$(port smtps)"
	rc_is 0 && has '^S: 220 ' && has '^S: 250[ -]AUTH PLAIN' && has '^S: 221 '
}

# /auth CRAM-MD5 and SCRAM-SHA-256 against Dovecot (issue 11 item 7;
# Postfix's submission uses Dovecot's SASL): the right password logs in
# (and SCRAM's server signature checks out), a wrong one is refused, and
# the password is in no transcript.  Two sessions: $n.out and $n-bad.out.
sasl_case() {	# MECH PROTO
	local mech=$1 proto=$2 svc hello ok no bye
	case $proto in
	smtp) svc=smtps hello='EHLO client.lab.example' ok='^S: 235 '
	      no='^S: 535 ' bye=QUIT ;;
	pop3) svc=pop3s hello=CAPA ok='^S: \+OK Logged in' no='^S: -ERR ' \
	      bye=QUIT ;;
	imap) svc=imaps hello='a1 CAPABILITY' ok='^S: a2 OK' no='^S: a2 NO ' \
	      bye='a9 LOGOUT' ;;
	esac
	printf '%s\n' "$hello" "/auth $mech student lab-pass-1" "$bye" |
	    ms -t -p "$proto" --cafile "$CA" --log "$T/$n.log" localhost \
	    "$(port $svc)"
	rc_is 0 && has "$ok" && has "^S: .*$mech" || return 1
	if [ "$mech" = SCRAM-SHA-256 ]; then
		has 'SCRAM signature matches' || return 1
	fi
	local good=$n
	n=$good-bad
	printf '%s\n' "$hello" "/auth $mech student wrong-pass" "$bye" |
	    ms -t -p "$proto" --keep-going --cafile "$CA" localhost \
	    "$(port $svc)"
	rc_is 8 && has "$no" || return 1
	n=$good
	hasnt 'lab-pass-1' && hasnt 'lab-pass-1' log
}
t_sasl_cram_md5_smtp() { sasl_case CRAM-MD5 smtp; }
t_sasl_cram_md5_pop3() { sasl_case CRAM-MD5 pop3; }
t_sasl_cram_md5_imap() { sasl_case CRAM-MD5 imap; }
t_sasl_scram_sha_256_smtp() { sasl_case SCRAM-SHA-256 smtp; }
t_sasl_scram_sha_256_pop3() { sasl_case SCRAM-SHA-256 pop3; }
t_sasl_scram_sha_256_imap() { sasl_case SCRAM-SHA-256 imap; }

# Without --cafile the test CA is unknown: exit 4, nothing sent.
t_verify_fail_implicit() {
	printf '%s\n' "a1 LOGOUT" | ms -t -p imap $(at imaps)
	rc_is 4 && hasnt '^C: a1' && hasnt '^S: '
}
t_verify_fail_starttls() {
	printf '%s\n' "a1 STARTTLS" "a2 LOGOUT" | ms -p imap $(at imap)
	rc_is 4 && has '^S: a1 OK' && hasnt '^C: a2'
}

# --servername: Postfix on an address, verified as mail.lab.example
# (STARTTLS); Dovecot's certificate does not carry mail.example.org:
# exit 4, its names listed; --tls-max 1.2 negotiates TLS 1.2.
t_servername_starttls() {
	printf '%s\n' "EHLO client.lab.example" STARTTLS QUIT |
	    ms -p smtp --cafile "$CA" --servername mail.lab.example $(at smtp)
	rc_is 0 && has '^   \* server name sent \(SNI\): mail\.lab\.example$' &&
	has '^   \* verified: yes, for mail\.lab\.example '
}
t_servername_mismatch() {
	printf '%s\n' "a1 LOGOUT" |
	    ms -t -p imap --cafile "$CA" --servername mail.example.org \
	    127.0.0.1 "$(port imaps)"
	rc_is 4 && hasnt '^C: a1' &&
	has 'the certificate is for mail\.lab\.example, localhost, 127\.0\.0\.1, 127\.0\.0\.2, not for mail\.example\.org$'
}
t_tls_max_12() {
	printf '%s\n' CAPA QUIT |
	    ms -t -p pop3 --cafile "$CA" --tls-max 1.2 localhost "$(port pop3s)"
	rc_is 0 && has '^   \* TLSv1\.2, [A-Z0-9-]+, key exchange [a-z0-9]+$' &&
	has '^S: \+OK'
}

# /cert against Dovecot: the key, signature, days left and OCSP lines;
# /cert pem after Postfix's STARTTLS is its server.pem, byte for byte;
# --capath: a directory made with openssl rehash holding the test CA.
t_cert_dovecot() {
	printf '%s\n' /cert "a1 LOGOUT" |
	    ms -t -p imap --cafile "$CA" localhost "$(port imaps)"
	rc_is 0 && has '^   \*     key     EC P-256$' &&
	has '^   \*     signed  ecdsa-with-SHA256$' &&
	has '^   \*     valid   .* \(([23][0-9]) days left\)$' &&
	has '^   \* no OCSP response stapled$' &&
	has '^   \* chain verified for localhost$'
}
t_cert_pem_postfix() {
	printf '%s\n' "EHLO client.lab.example" STARTTLS "/cert pem" QUIT |
	    ms -p smtp --cafile "$CA" --servername mail.lab.example $(at smtp)
	sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' \
	    "$T/$n.out" >"$T/$n.pem"
	rc_is 0 && has '^ 0 s:CN=mail\.lab\.example' &&
	{ cmp -s "$T/$n.pem" <(openssl x509 -in "$D/server.pem") ||
	{ why="/cert pem is not server.pem"; return 1; }; }
}
t_capath() {
	mkdir -p "$D/capath" && cp "$CA" "$D/capath/" &&
	    openssl rehash "$D/capath" >/dev/null 2>&1
	printf '%s\n' CAPA QUIT |
	    ms -t -p pop3 --capath "$D/capath" localhost "$(port pop3s)"
	rc_is 0 && has "^   \\* verified: yes, for localhost \\(system store and $D/capath\\)\$" &&
	has '^S: \+OK'
}

# A mail sent over plain SMTP, read back over IMAP and POP3 (after TLS).
SUBJ=mailsh-real-$$-$RANDOM
t_send_smtp() {
	printf '%s\n' "EHLO client.lab.example" \
	    "MAIL FROM:<teacher@lab.example>" "RCPT TO:<student@mail.lab.example>" \
	    DATA "From: teacher@lab.example" "To: student@mail.lab.example" \
	    "Subject: $SUBJ" "" "Hello from the mailsh end-to-end test." . QUIT |
	    ms -p smtp $(at smtp)
	rc_is 0 && has '^S: 354 ' && has '^S: 250 2\.0\.0 Ok: queued' &&
	has '^S: 221 ' || return 1
	for _ in $(seq 100); do	# LMTP delivery is asynchronous: wait for it
		grep -rqsF "Subject: $SUBJ" "$D/mail/student/Maildir" && return 0
		sleep 0.1
	done
	why="mail not delivered to Maildir within 10 s"; return 1
}
t_read_imap() {
	printf '%s\n' "a1 STARTTLS" "a2 LOGIN student lab-pass-1" \
	    "a3 SELECT INBOX" "a4 FETCH 1 BODY[]" "a5 LOGOUT" |
	    ms -p imap --cafile "$CA" $(at imap)
	rc_is 0 && has '^S: a2 OK' && has '^S: \* 1 EXISTS' &&
	has "^S: Subject: $SUBJ\$" && has '^S: Hello from the mailsh' &&
	has '^S: a4 OK' && has '^S: a5 OK'
}
t_read_pop3() {
	printf '%s\n' STLS "USER student" "PASS lab-pass-1" "RETR 1" QUIT |
	    ms -p pop3 --cafile "$CA" $(at pop3)
	rc_is 0 && has '^S: \+OK Logged in' && has "^S: Subject: $SUBJ\$" &&
	has '^S: Hello from the mailsh' && has '^S: \.$'
}

# Passwords (and base64 of AUTH PLAIN) never appear in any transcript.
t_no_password_in_transcript() {
	local f
	for f in submission-auth-after-tls read-imap read-pop3; do
		[ -s "$T/$f.out" ] || { why="no transcript of $f"; return 1; }
		cat "$T/$f.out" "$T/$f.err"
	done >"$T/$n.out"
	echo 0 >"$T/$n.rc"
	hasnt 'lab-pass-1' && hasnt "$PLAIN_B64" && has '^C: a2 LOGIN student' &&
	has '^C: PASS' && has '^C: AUTH PLAIN'
}

# tp ARGS...: an interactive mailsh in a real terminal (tmux), the lines
# of $paste pasted at once after the greeting; the screen in $T/$n.out
tp() {
	command -v tmux >/dev/null ||
	    { why="no tmux: install the Debian package tmux"; return 1; }
	local sock=$D/tmux.sock s=$n i
	tmux -S "$sock" new-session -d -s "$s" -x 200 -y 150 \
	    "env HOME=$D/home NO_COLOR=1 $MAILSH --no-color --timeout 10 $*; sleep 60"
	for i in $(seq 100); do
		tmux -S "$sock" capture-pane -p -t "$s" | grep -q '^S: 220 ' && break
		sleep 0.1
	done
	tmux -S "$sock" send-keys -t "$s" "$paste"
	for i in $(seq 200); do
		tmux -S "$sock" capture-pane -p -S -500 -t "$s" |
		    grep -q '^S: 221 ' && break
		sleep 0.1
	done
	tmux -S "$sock" capture-pane -p -S -500 -t "$s" >"$T/$n.out"
	tmux -S "$sock" kill-session -t "$s"
	echo 0 >"$T/$n.rc"
}

# Pasted EHLO + STARTTLS + EHLO: the second EHLO goes inside TLS, the
# EHLO's 250 is not taken for the answer to STARTTLS.
t_paste_starttls() {
	paste="EHLO client.lab.example
STARTTLS
EHLO client.lab.example
QUIT
"
	tp -p smtp --cafile "$CA" $(at smtp) || return 1
	split STARTTLS && has '^S: 220 2\.0\.0 ' after &&
	has '^C: EHLO client\.lab\.example' after &&
	hasnt '^S: 250[ -]STARTTLS' after && hasnt 'refused the upgrade' &&
	has '^S: 221 ' after
}

# Pasted MAIL + RCPT + DATA + text (".x" and "/x" lines) + "." : the text
# is delivered as typed, "/x" is no command, ".x" was dot-stuffed.
t_paste_data() {
	local subj="paste $$"
	paste="EHLO client.lab.example
MAIL FROM:<teacher@lab.example>
RCPT TO:<student@mail.lab.example>
DATA
Subject: $subj

.x leading dot
/x not a command
.
QUIT
"
	tp -p smtp $(at smtp) || return 1
	has '^S: 354 ' && has '^C: \.\.x leading dot' &&
	has '^C: /x not a command' && hasnt 'unknown command' &&
	has '^S: 250 2\.0\.0 Ok: queued' || return 1
	for _ in $(seq 100); do
		if grep -rqsF "Subject: $subj" "$D/mail/student/Maildir"; then
			grep -rqsx '\.x leading dot' "$D/mail/student/Maildir" &&
			    grep -rqsx '/x not a command' "$D/mail/student/Maildir" &&
			    return 0
			why="message text changed on the way"; return 1
		fi
		sleep 0.1
	done
	why="mail not delivered to Maildir within 10 s"; return 1
}

# --pipeline against Postfix (PIPELINING): the same replies and result as
# one command at a time.
t_pipeline_script() {
	printf '%s\n' "EHLO client.lab.example" "MAIL FROM:<teacher@lab.example>" \
	    "RCPT TO:<student@mail.lab.example>" "RCPT TO:<no such@address>" \
	    DATA "Subject: pipelined" "" "text" . QUIT |
	    ms --keep-going --pipeline -p smtp $(at smtp)
	rc_is 8 && has '^S: 250-PIPELINING' && has '^S: 354 ' &&
	has '^S: 501 5\.1\.3 ' && has '^S: 250 2\.0\.0 Ok: queued' &&
	has '^S: 221 ' && has 'line 4: the server said no: 501' err
}

for c in $CASES; do run_case "$c"; done
exit $failed
