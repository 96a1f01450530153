#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/sasl.sh: /auth against tests/sasl_fake.py, which computes the
# server side of every mechanism itself (Python hashlib/hmac), in SMTP,
# POP3 and IMAP.
#   sasl-MECH-PROTO-ok    the right secret: logged in, exit 0
#   sasl-MECH-PROTO-bad   a wrong secret: 535 / -ERR / NO, exit 8
#   sasl-scram-badsig-P   a wrong SCRAM server signature: said plainly,
#                         the exchange cancelled, exit 8
#   sasl-imap-no-sasl-ir  without SASL-IR the first message waits for "+"
#   sasl-mask-*           the secret is in no stdout, --log transcript,
#                         --json stream, history file (interactive, tmux)
# One line per case: PASS name | FAIL name (+ diagnostics).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
MAILSH=${MAILSH:-$TOP/mailsh}
export LC_ALL=C LANG=C NO_COLOR=1
D=$(mktemp -d /tmp/mailsh-sasl.XXXXXX)
TMUX_S=sasl-test-$$
cleanup() {
	tmux kill-session -t "$TMUX_S" 2>/dev/null
	[ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
FAILED=0
pass() { echo "PASS $1"; }
fail() {
	local n=$1; shift
	echo "FAIL $n"
	FAILED=1
	for x in "$@"; do
		if [ -f "$x" ]; then sed 's/^/    /' "$x" | tail -40
		else echo "    $x"; fi
	done
}

SECRET='Geheim-7fQ2x'	# must never appear in what mailsh writes
TOKEN='ya29.Tok-9QzW'

wait_for() {	# text: up to 10 s until the tmux pane shows it
	local i
	for i in $(seq 200); do
		tmux capture-pane -p -t "$TMUX_S" | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# fake NAME ARGS...: starts sasl_fake.py, sets FPORT
fake() {
	local n=$1; shift
	python3 "$HERE/sasl_fake.py" --log "$D/$n.wire" "$@" >"$D/$n.port" \
	    2>"$D/$n.ferr" &
	FPID=$!
	local i
	for i in $(seq 200); do
		grep -q '^PORT ' "$D/$n.port" 2>/dev/null && break
		sleep 0.05
	done
	FPORT=$(awk '/^PORT/ { print $2 }' "$D/$n.port")
}
# run NAME PROTO ARGS...: mailsh scripted on the fake; stdin the script
run() {
	local n=$1 proto=$2; shift 2
	timeout 30 "$MAILSH" --no-color --timeout 10 --proto "$proto" \
	    --log "$D/$n.log" "$@" 127.0.0.1 "$FPORT" >"$D/$n.out" 2>&1
	echo $? >"$D/$n.rc"
	wait "$FPID" 2>/dev/null
	FPID=
}
hello() {	# what each protocol says first
	case $1 in
	smtp) echo 'EHLO pc.example' ;;
	pop3) echo 'CAPA' ;;
	imap) echo 'a1 CAPABILITY' ;;
	esac
}
bye() { case $1 in imap) echo 'a9 LOGOUT' ;; *) echo 'QUIT' ;; esac; }
# no_secret NAME FILES...: the secret and the token are in none of them
no_secret() {
	! grep -qF -e "$SECRET" -e "$TOKEN" "$@" 2>/dev/null
}
neg_word() { case $1 in smtp) echo '535 5.7.8' ;; pop3) echo '-ERR' ;;
	imap) echo 'NO \[AUTHENTICATIONFAILED\]' ;; esac; }

for proto in smtp pop3 imap; do
	for mech in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER; do
		sec=$SECRET
		case $mech in XOAUTH2|OAUTHBEARER) sec=$TOKEN ;; esac
		n=$mech-$proto-ok
		fake "$n" --proto "$proto" --user alice@example.org \
		    --secret "$sec"
		{ hello "$proto"; echo "/auth $mech alice@example.org $sec"
		  echo '/expect 235'; bye "$proto"; } |
		    sed -e "s|/expect 235|$(case $proto in smtp) echo /expect 235 ;;
		    pop3) echo /expect +OK ;; imap) echo /expect OK ;; esac)|" \
		    >"$D/$n.in"
		run "$n" "$proto" --json <"$D/$n.in"
		if [ "$(cat "$D/$n.rc")" = 0 ] &&
		    no_secret "$D/$n.out" "$D/$n.log" &&
		    grep -q '"redacted":true' "$D/$n.out" &&
		    ! grep -q '^ended' "$D/$n.wire"
		then pass "sasl-$n"
		else fail "sasl-$n" "$D/$n.out" "$D/$n.wire" "$D/$n.ferr"; fi

		n=$mech-$proto-bad
		fake "$n" --proto "$proto" --user alice@example.org \
		    --secret "$sec"
		{ hello "$proto"; echo "/auth $mech alice@example.org x$sec"
		  bye "$proto"; } >"$D/$n.in"
		run "$n" "$proto" <"$D/$n.in"
		if [ "$(cat "$D/$n.rc")" = 8 ] &&
		    grep -q "^S: .*$(neg_word "$proto")" "$D/$n.out" &&
		    no_secret "$D/$n.out" "$D/$n.log"
		then pass "sasl-$n"
		else fail "sasl-$n" "$D/$n.out" "$D/$n.wire"; fi
	done

	n=scram-badsig-$proto
	fake "$n" --proto "$proto" --user alice --secret "$SECRET" --badsig
	{ hello "$proto"; echo "/auth SCRAM-SHA-256 alice $SECRET"
	  bye "$proto"; } >"$D/$n.in"
	run "$n" "$proto" <"$D/$n.in"
	if [ "$(cat "$D/$n.rc")" = 8 ] &&
	    grep -q "signature does NOT match" "$D/$n.out" &&
	    grep -q "^C: \*$" "$D/$n.out" &&
	    grep -q "^S: .*cancelled" "$D/$n.out" &&
	    no_secret "$D/$n.out" "$D/$n.log"
	then pass "sasl-$n"
	else fail "sasl-$n" "$D/$n.out" "$D/$n.wire"; fi
done

# IMAP without SASL-IR: "AUTHENTICATE PLAIN" alone, the answer after "+"
n=imap-no-sasl-ir
fake "$n" --proto imap --user alice --secret "$SECRET" --no-sasl-ir
printf 'a1 CAPABILITY\n/auth PLAIN alice %s\na9 LOGOUT\n' "$SECRET" \
    >"$D/$n.in"
run "$n" imap <"$D/$n.in"
if [ "$(cat "$D/$n.rc")" = 0 ] &&
    grep -q '^C: a2 AUTHENTICATE PLAIN$' "$D/$n.out" &&
    grep -q '^S: + $\|^S: +$' "$D/$n.out" &&
    grep -q '^C: \*\*\*\*\*\*\*\*$' "$D/$n.out" &&
    grep -q 'SASL-IR' "$D/$n.out"
then pass "sasl-$n"
else fail "sasl-$n" "$D/$n.out" "$D/$n.wire"; fi

# The transcript and the screen show the proof parts, never the password
n=SCRAM-SHA-256-smtp-ok
if grep -q 'SCRAM-SHA-256 answer (before base64): n,,n=alice@example.org,r=' \
    "$D/$n.log" &&
    grep -q 'SCRAM-SHA-256 answer (before base64): c=biws,r=.*,p=' \
    "$D/$n.log" && grep -q 'signature matches' "$D/$n.log" &&
    grep -q '"event":"send","text":"AUTH SCRAM-SHA-256 \*\*\*\*\*\*\*\*"' \
    "$D/$n.out"
then pass sasl-mask-transcript-json
else fail sasl-mask-transcript-json "$D/$n.log" "$D/$n.out"; fi

# Interactive: the password read without echo, history without secrets
n=history
if command -v tmux >/dev/null; then
	fake "$n" --proto smtp --user alice --secret "$SECRET"
	export XDG_STATE_HOME=$D/state
	mkdir -p "$XDG_STATE_HOME"
	tmux new-session -d -s "$TMUX_S" -x 120 -y 40 \
	    "XDG_STATE_HOME=$XDG_STATE_HOME '$MAILSH' --no-color --no-confirm --log \
	    '$D/$n.log' 127.0.0.1 $FPORT; echo MAILSH-EXITED; sleep 30"
	ok=1
	wait_for '220 fake.example' || ok=0
	tmux send-keys -t "$TMUX_S" 'EHLO pc.example' Enter
	wait_for '250 8BITMIME' || ok=0
	tmux send-keys -t "$TMUX_S" '/auth SCRAM-SHA-256 alice' Enter
	wait_for 'password (not shown)' || ok=0
	tmux send-keys -t "$TMUX_S" "$SECRET" Enter
	wait_for '235 2.7.0' || ok=0
	tmux send-keys -t "$TMUX_S" '/quit' Enter
	wait_for MAILSH-EXITED || ok=0
	tmux capture-pane -p -t "$TMUX_S" >"$D/$n.pane"
	tmux kill-session -t "$TMUX_S" 2>/dev/null
	wait "$FPID" 2>/dev/null
	FPID=
	hist=$(find "$XDG_STATE_HOME" -type f | head -5)
	if [ $ok = 1 ] && [ -n "$hist" ] &&
	    grep -q '^/auth SCRAM-SHA-256 alice$' $hist &&
	    no_secret "$D/$n.pane" "$D/$n.log" $hist
	then pass sasl-mask-history-interactive
	else fail sasl-mask-history-interactive "$D/$n.pane" $hist; fi
else
	echo "SKIP sasl-mask-history-interactive (tmux is not installed)"
fi

# /auth with the secret on the line stays out of history (meta_secret),
# and its echo on the screen is replaced by a masked one
n=history-line
fake "$n" --proto smtp --user alice --secret "$SECRET"
tmux new-session -d -s "$TMUX_S" -x 120 -y 40 \
    "XDG_STATE_HOME=$D/state2 '$MAILSH' --no-color --no-confirm 127.0.0.1 $FPORT; \
    echo MAILSH-EXITED; sleep 30"
ok=1
wait_for '220 fake.example' || ok=0
tmux send-keys -t "$TMUX_S" 'EHLO pc.example' Enter
wait_for '250 8BITMIME' || ok=0
tmux send-keys -t "$TMUX_S" "/auth PLAIN alice $SECRET" Enter
wait_for '235 2.7.0' || ok=0
tmux send-keys -t "$TMUX_S" '/quit' Enter
wait_for MAILSH-EXITED || ok=0
tmux capture-pane -p -t "$TMUX_S" >"$D/$n.pane"
tmux kill-session -t "$TMUX_S" 2>/dev/null
wait "$FPID" 2>/dev/null
FPID=
hist=$(find "$D/state2" -type f 2>/dev/null | head -5)
if [ $ok = 1 ] && [ -n "$hist" ] && grep -q '^EHLO pc.example$' $hist &&
    ! grep -q '^/auth' $hist && no_secret $hist "$D/$n.pane" &&
    grep -q '/auth PLAIN alice \*\*\*\*\*\*\*\*' "$D/$n.pane"
then pass sasl-mask-history-secret-on-line
else fail sasl-mask-history-secret-on-line "$D/$n.pane" $hist; fi

exit $FAILED
