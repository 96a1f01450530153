#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/sasl.sh: `mailsh lab --sasl-extra` (CRAM-MD5 and
# SCRAM-SHA-256) against mailsh's /auth, in SMTP, POP3 and IMAP (issue
# 11 item 7).  Its own lab; run by tests/lab/run.sh, or alone.
#   lab-sasl-offered         the mechanisms listed only with the switch
#   lab-sasl-MECH-PROTO-ok   the right password: 235 / +OK / OK
#   lab-sasl-MECH-PROTO-bad  a wrong one: 535 / -ERR / NO, exit 8
#   lab-sasl-plain-PROTO     /auth PLAIN (and LOGIN in SMTP) too
#   lab-sasl-cram-file       STATE/cram-md5 is 0600; after a restart
#                            (no --users) CRAM-MD5 still works
#   lab-sasl-login-rate      failed SCRAM logins count for --login-rate
#   lab-sasl-unknown-user    an unknown user gets a salt, then 535
#   lab-sasl-no-secret       no password in transcripts or the lab's log
LAB_TMP=labsasl
. "$(dirname "$0")/lib.sh"

ms() {	# NAME PORT ARGS... < script
	local n=$1 p=$2; shift 2
	timeout 60 "$MAILSH" --no-color --timeout 10 --log "$D/$n.log" \
	    "$@" localhost "$p" >"$D/$n.ms" 2>&1
	echo $? >"$D/$n.rc"
}

if ! start sx --sasl-extra --login-rate 0; then
	fail lab-sasl-start "$D/sx.err"
	exit 1
fi
SX_PID=$LAB_PID
S=$D/sx
CA=$S/ca.pem

hello() { case $1 in submissions) echo 'EHLO pc.example' ;;
	pop3s) echo 'CAPA' ;; imaps) echo 'a1 CAPABILITY' ;; esac; }
bye() { case $1 in imaps) echo 'a9 LOGOUT' ;; *) echo 'QUIT' ;; esac; }
okword() { case $1 in submissions) echo '^S: 235 ' ;;
	pop3s) echo '^S: +OK Logged in' ;; imaps) echo '^S: a2 OK .*Logged in' ;;
	esac; }
noword() { case $1 in submissions) echo '^S: 535 5.7.8' ;;
	pop3s) echo '^S: -ERR \[AUTH\]' ;;
	imaps) echo '^S: a2 NO \[AUTHENTICATIONFAILED\]' ;; esac; }

# offered with the switch, not without (a second lab without it)
printf 'EHLO pc.example\nQUIT\n' | timeout 30 "$MAILSH" --no-color \
    --tls --cafile "$CA" localhost "$(port sx submissions)" >"$D/off1" 2>&1
if start plainlab; then
	printf 'EHLO pc.example\nQUIT\n' | timeout 30 "$MAILSH" --no-color \
	    --tls --cafile "$D/plainlab/ca.pem" localhost \
	    "$(port plainlab submissions)" >"$D/off2" 2>&1
	kill "$LAB_PID" 2>/dev/null; wait "$LAB_PID" 2>/dev/null
fi
printf 'a1 CAPABILITY\na2 LOGOUT\n' | timeout 30 "$MAILSH" --no-color \
    --tls --cafile "$CA" localhost "$(port sx imaps)" >"$D/off3" 2>&1
printf 'CAPA\nAUTH\nQUIT\n' | timeout 30 "$MAILSH" --no-color \
    --tls --cafile "$CA" localhost "$(port sx pop3s)" >"$D/off4" 2>&1
if grep -q '^S: 250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256$' "$D/off1" &&
    grep -q '^S: 250-AUTH PLAIN LOGIN$' "$D/off2" &&
    grep -q 'AUTH=CRAM-MD5 AUTH=SCRAM-SHA-256' "$D/off3" &&
    grep -q '^S: SASL PLAIN CRAM-MD5 SCRAM-SHA-256$' "$D/off4" &&
    grep -q '^S: SCRAM-SHA-256$' "$D/off4"
then pass lab-sasl-offered
else fail lab-sasl-offered "$D/off1" "$D/off2" "$D/off3" "$D/off4"; fi

for svc in submissions pop3s imaps; do
	for mech in CRAM-MD5 SCRAM-SHA-256; do
		n=$mech-$svc-ok
		{ hello $svc; echo "/auth $mech alice alice-pass"; bye $svc; } |
		    ms "$n" "$(port sx $svc)" --tls --cafile "$CA"
		if [ "$(cat "$D/$n.rc")" = 0 ] &&
		    grep -q "$(okword $svc)" "$D/$n.ms" &&
		    { [ $mech = CRAM-MD5 ] ||
		      grep -q 'SCRAM signature matches' "$D/$n.ms"; }
		then pass "lab-sasl-$n"
		else fail "lab-sasl-$n" "$D/$n.ms"; fi

		n=$mech-$svc-bad
		{ hello $svc; echo "/auth $mech bob alice-pass"; bye $svc; } |
		    ms "$n" "$(port sx $svc)" --tls --cafile "$CA"
		if [ "$(cat "$D/$n.rc")" = 8 ] &&
		    grep -q "$(noword $svc)" "$D/$n.ms"
		then pass "lab-sasl-$n"
		else fail "lab-sasl-$n" "$D/$n.ms"; fi
	done
	n=plain-$svc
	{ hello $svc; echo "/auth PLAIN alice alice-pass"; bye $svc; } |
	    ms "$n" "$(port sx $svc)" --tls --cafile "$CA"
	if [ "$(cat "$D/$n.rc")" = 0 ] && grep -q "$(okword $svc)" "$D/$n.ms"
	then pass "lab-sasl-$n"
	else fail "lab-sasl-$n" "$D/$n.ms"; fi
done
n=login-submissions
{ hello submissions; echo "/auth LOGIN bob bob-pass"; bye submissions; } |
    ms "$n" "$(port sx submissions)" --tls --cafile "$CA"
if [ "$(cat "$D/$n.rc")" = 0 ] && grep -q '^S: 235 ' "$D/$n.ms"
then pass "lab-sasl-$n"
else fail "lab-sasl-$n" "$D/$n.ms"; fi

# an unknown user: a server-first message all the same, then 535
n=unknown-user
{ hello submissions; echo "/auth SCRAM-SHA-256 mallory x"
  bye submissions; } | ms "$n" "$(port sx submissions)" --tls --cafile "$CA"
if [ "$(cat "$D/$n.rc")" = 8 ] &&
    grep -q 'the server asks (base64-decoded): "r=.*,s=.*,i=20000"' \
    "$D/$n.ms" &&
    grep -q '^S: 535 5.7.8' "$D/$n.ms"
then pass "lab-sasl-$n"
else fail "lab-sasl-$n" "$D/$n.ms"; fi

# nothing secret in the transcripts or in the lab's session log
if ! grep -q 'alice-pass\|bob-pass' "$D"/*.log "$D"/*.ms "$D/sx.out" \
    "$D/sx.err" && grep -q 'auth alice' "$D/sx.out" "$D/sx.err"
then pass lab-sasl-no-secret
else fail lab-sasl-no-secret "$(grep -l 'alice-pass\|bob-pass' \
    "$D"/*.log "$D"/*.ms "$D/sx.out" "$D/sx.err")"; fi

# STATE/cram-md5: 0600; a restart from STATE/users keeps CRAM-MD5 working
kill "$SX_PID" 2>/dev/null; wait "$SX_PID" 2>/dev/null
mv "$D/sx.out" "$D/sx1.out"
rm -f "$S/ports"
n=cram-file
if [ "$(stat -c %a "$S/cram-md5")" = 600 ] && ! grep -q 'alice-pass' \
    "$S/cram-md5" "$S/users" && start sx --sasl-extra --login-rate 2; then
	{ hello imaps; echo "/auth CRAM-MD5 bob bob-pass"; bye imaps; } |
	    ms "$n" "$(port sx imaps)" --tls --cafile "$CA"
	if [ "$(cat "$D/$n.rc")" = 0 ] && grep -q '^S: a2 OK' "$D/$n.ms"
	then pass "lab-sasl-$n"
	else fail "lab-sasl-$n" "$D/$n.ms"; fi
else
	fail "lab-sasl-$n" "$(ls -l "$S")" "$D/sx.err"
fi

# --login-rate 2 (this second start): failed SCRAM logins use up the
# address's budget, then 454 without a check
n=login-rate
for k in 1 2 3; do
	{ hello submissions; echo "/auth SCRAM-SHA-256 alice wrong$k"
	  bye submissions; } |
	    ms "$n-$k" "$(port sx submissions)" --tls --cafile "$CA"
done
if grep -q '^S: 535 5.7.8' "$D/$n-1.ms" && grep -q '^S: 535 5.7.8' \
    "$D/$n-2.ms" && grep -q '^S: 454 4.7.0' "$D/$n-3.ms"
then pass "lab-sasl-$n"
else fail "lab-sasl-$n" "$D/$n-3.ms"; fi

exit $FAILED
