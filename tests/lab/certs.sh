#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/certs.sh: client certificates against `mailsh lab
# --client-ca` (issue 11 §3) and /cert pem against the lab's chain
# (§6).  Certificates are made here with the openssl CLI.  Run by
# tests/lab/run.sh; alone: bash tests/lab/certs.sh.
LAB_TMP=labcerts
. "$(dirname "$0")/lib.sh"

if ! have openssl; then missing lab-client-cert openssl; exit 1; fi
# ca NAME CN: a CA; leaf NAME CN CA: a client certificate it signs
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/$1.key" -out "$D/$1.pem" -days 30 -subj "/CN=$2" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
}
leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/$1.key" -subj "/CN=$2" 2>/dev/null |
	    openssl x509 -req -CA "$D/$3.pem" -CAkey "$D/$3.key" -days 30 \
	    -out "$D/$1.pem" 2>/dev/null
}
ca cca 'mailsh client CA'
ca other 'other CA'
leaf alice alice cca
leaf mallory mallory other
leaf evil "$(printf 'evil\033]52;c;aGk=\007')" cca
cat "$D/alice.pem" "$D/alice.key" >"$D/alice-both.pem"
openssl pkey -in "$D/alice.key" -aes256 -passout pass:sesame \
    -out "$D/alice-enc.key"

if ! start certs --client-ca "$D/cca.pem"; then
	fail lab-client-ca-start "$D/certs.err"
	exit 1
fi
CA=$D/certs/ca.pem
IMAPS=$(port certs imaps)
SUB=$(port certs submission)
# cms NAME PORT ARGS...: a one-command IMAPS (or, with ARGS, any) session
cms() {
	local n=$1 p=$2; shift 2
	timeout 60 "$MAILSH" --no-color --timeout 10 --cafile "$CA" "$@" \
	    127.0.0.1 "$p" >"$D/$n.ms" 2>&1
	echo $? >"$D/$n.rc"
}
# logged PATTERN: the lab's session log has a line with PATTERN
logged() { grep -q -- "$1" "$D/certs.err"; }

# accepted: a certificate from the client CA, implicit TLS
printf 'a1 LOGOUT\n' | cms accept "$IMAPS" --tls --cert "$D/alice.pem" \
    --key "$D/alice.key"
if [ "$(cat "$D/accept.rc")" = 0 ] &&
    grep -q 'the server asked for a client certificate: sent CN=alice' \
    "$D/accept.ms" && grep -q '^S: a1 OK' "$D/accept.ms" &&
    logged 'imaps.*tls=implicit.*client certificate CN=alice: verified'
then pass lab-client-cert-accepted
else fail lab-client-cert-accepted "$D/accept.ms" "$D/certs.err"; fi

# the key in the certificate's file (no --key), over STARTTLS
printf 'EHLO pc.example\nSTARTTLS\nEHLO pc.example\nQUIT\n' |
    cms starttls "$SUB" --cert "$D/alice-both.pem"
if [ "$(cat "$D/starttls.rc")" = 0 ] &&
    grep -q 'sent CN=alice' "$D/starttls.ms" &&
    logged 'submission.*tls=starttls.*client certificate CN=alice: verified'
then pass lab-client-cert-starttls
else fail lab-client-cert-starttls "$D/starttls.ms" "$D/certs.err"; fi

# refused: a certificate from another CA.  The lab logs why and, as
# Postfix with smtpd_tls_ask_ccert, still serves the session.
printf 'a1 LOGOUT\n' | cms other "$IMAPS" --tls --cert "$D/mallory.pem" \
    --key "$D/mallory.key"
if [ "$(cat "$D/other.rc")" = 0 ] && grep -q '^S: a1 OK' "$D/other.ms" &&
    logged 'client certificate CN=mallory: NOT verified: '
then pass lab-client-cert-other-ca
else fail lab-client-cert-other-ca "$D/other.ms" "$D/certs.err"; fi

# a client certificate whose CN holds OSC 52: the lab's log escapes it
printf 'a1 LOGOUT\n' | cms evil "$IMAPS" --tls --cert "$D/evil.pem" \
    --key "$D/evil.key"
if [ "$(cat "$D/evil.rc")" = 0 ] &&
    logged 'client certificate CN=evil\\1B]52\\;c\\;aGk=\\07: verified' &&
    ! grep -q "$(printf '\033')" "$D/certs.err" &&
    ! grep -q "$(printf '\033')" "$D/evil.ms"
then pass lab-client-cert-hostile-subject
else fail lab-client-cert-hostile-subject "$D/evil.ms" "$D/certs.err"; fi

# none: the client says the server asked, and which CAs it accepts
printf 'a1 LOGOUT\n' | cms none "$IMAPS" --tls
if [ "$(cat "$D/none.rc")" = 0 ] &&
    grep -q 'the server asked for a client certificate (acceptable CAs: CN=mailsh client CA); none sent' \
    "$D/none.ms" && logged 'imaps.*: no client certificate' &&
    grep -q "client certificates: asked for, verified against $D/cca.pem" \
    "$D/certs.out"
then pass lab-client-cert-none
else fail lab-client-cert-none "$D/none.ms" "$D/certs.err" "$D/certs.out"; fi

# an encrypted key: --pass, a wrong one, and no terminal to ask on
printf 'a1 LOGOUT\n' | cms enc "$IMAPS" --tls --cert "$D/alice.pem" \
    --key "$D/alice-enc.key" --pass sesame
printf 'a1 LOGOUT\n' | cms encbad "$IMAPS" --tls --cert "$D/alice.pem" \
    --key "$D/alice-enc.key" --pass wrong
printf 'a1 LOGOUT\n' | setsid -w timeout 60 "$MAILSH" --no-color --tls \
    --cafile "$CA" --cert "$D/alice.pem" --key "$D/alice-enc.key" \
    127.0.0.1 "$IMAPS" >"$D/encnotty.ms" 2>&1 </dev/null
rc=$?
if [ "$(cat "$D/enc.rc")" = 0 ] && grep -q 'sent CN=alice' "$D/enc.ms" &&
    [ "$(cat "$D/encbad.rc")" = 4 ] &&
    grep -q 'cannot decrypt the key in .*alice-enc.key: wrong passphrase' \
    "$D/encbad.ms" && [ $rc = 4 ] &&
    grep -q 'protected by a passphrase and there is no terminal' \
    "$D/encnotty.ms"
then pass lab-client-cert-encrypted-key
else fail lab-client-cert-encrypted-key "$D/enc.ms" "$D/encbad.ms" \
    "$D/encnotty.ms"; fi

# the passphrase typed on a terminal (tmux): asked for once, before
# connecting, not echoed, and the certificate is sent; Ctrl-C at the
# prompt ends mailsh (OpenSSL 3 calls back once per decoder it tries:
# it used to ask again)
if have tmux; then
	tsock=$D/tmux.sock
	tmux -S "$tsock" new-session -d -x 120 -y 30 \
	    "env NO_COLOR=1 HOME=$D XDG_STATE_HOME=$D/xdg $MAILSH --tls \
	    --cafile $CA --cert $D/alice.pem --key $D/alice-enc.key \
	    127.0.0.1 $IMAPS; echo EXIT=\$?; sleep 30"
	tscreen() { tmux -S "$tsock" capture-pane -p -S -60 2>/dev/null; }
	twait() {
		local i
		for i in $(seq 100); do
			tscreen | grep -qE -- "$1" && return 0
			sleep 0.1
		done
		return 1
	}
	ok=1
	twait 'passphrase for the key in .*alice-enc.key:' || ok=0
	tmux -S "$tsock" send-keys 'sesame' Enter
	twait 'S: \* OK' || ok=0
	tmux -S "$tsock" send-keys 'a1 LOGOUT' Enter
	twait 'S: a1 OK' || ok=0
	tmux -S "$tsock" send-keys '/quit' Enter
	twait 'EXIT=0' || ok=0
	tscreen >"$D/tty.screen"
	tmux -S "$tsock" kill-server 2>/dev/null
	# Ctrl-C at the prompt: asked once, then ends (exit 4); a server
	# of its own (the first may still be going away)
	tsock=$D/tmux2.sock
	tmux -S "$tsock" new-session -d -x 120 -y 30 \
	    "env NO_COLOR=1 HOME=$D XDG_STATE_HOME=$D/xdg $MAILSH --tls \
	    --cafile $CA --cert $D/alice.pem --key $D/alice-enc.key \
	    127.0.0.1 $IMAPS; echo EXIT=\$?; sleep 30"
	twait 'passphrase for the key in .*alice-enc.key:' || ok=0
	tmux -S "$tsock" send-keys C-c
	twait 'EXIT=4' || ok=0
	tscreen >>"$D/tty.screen"
	tmux -S "$tsock" kill-server 2>/dev/null
	[ "$(grep -c 'passphrase for the key' "$D/tty.screen")" = 2 ] &&
	    grep -q 'reading the passphrase for .*alice-enc.key: interrupted' \
	    "$D/tty.screen" || ok=0
	if [ $ok = 1 ] && ! grep -q sesame "$D/tty.screen" &&
	    grep -q 'sent CN=alice' "$D/tty.screen" &&
	    [ "$(grep -c 'client certificate CN=alice: verified' \
	    "$D/certs.err")" -ge 3 ]
	then pass lab-client-cert-passphrase-tty
	else fail lab-client-cert-passphrase-tty "ok=$ok" "$D/tty.screen"; fi
else
	missing lab-client-cert-passphrase-tty tmux
fi

# a certificate with another's key: said before connecting, exit 4
printf 'a1 LOGOUT\n' | cms pair "$IMAPS" --tls --cert "$D/alice.pem" \
    --key "$D/mallory.key"
printf 'a1 LOGOUT\n' | cms nokey "$IMAPS" --tls --cert "$D/alice.pem"
if [ "$(cat "$D/pair.rc")" = 4 ] &&
    grep -q 'the key in .*mallory.key does not belong to the client certificate in .*alice.pem' \
    "$D/pair.ms" && ! grep -q 'connected to' "$D/pair.ms" &&
    [ "$(cat "$D/nokey.rc")" = 4 ] &&
    grep -q 'no private key found in .*alice.pem: give it with --key' \
    "$D/nokey.ms"
then pass lab-client-cert-wrong-key
else fail lab-client-cert-wrong-key "$D/pair.ms" "$D/nokey.ms"; fi

# /cert pem: openssl reads it back; the same chain openssl s_client
# -showcerts gets; the SHA-256 that /cert shows
printf '/cert pem\n/cert\na1 LOGOUT\n' | cms pem "$IMAPS" --tls -q
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    "$D/pem.ms" >"$D/pem.chain"
openssl s_client -connect 127.0.0.1:"$IMAPS" -showcerts </dev/null \
    2>/dev/null | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$D/sclient.chain"
fp=$(openssl x509 -in "$D/pem.chain" -noout -fingerprint -sha256 | cut -d= -f2)
if openssl x509 -in "$D/pem.chain" -noout -subject | grep -q 'CN = lab.example' &&
    [ "$(grep -c BEGIN "$D/pem.chain")" = 2 ] &&
    cmp -s "$D/pem.chain" "$D/sclient.chain" && [ -n "$fp" ] &&
    grep -q "SHA-256 $fp" "$D/pem.ms" &&
    openssl verify -CAfile "$CA" "$D/pem.chain" >/dev/null 2>&1
then pass lab-cert-pem
else fail lab-cert-pem "$D/pem.ms" "$D/sclient.chain"; fi

kill -TERM "$LAB_PID"; wait "$LAB_PID"

# OCSP stapling (the lab does not staple): openssl s_server with
# -status_file, responses made with openssl ocsp from the e2e test PKI
# (its index.txt); mustaple.pem is revoked first: a signed, current
# "revoked" staple fails verification (exit 4) unless --insecure.
P=$D/pki
if python3 "$TOP/tests/e2e.py" --make-certs "$P" >"$D/pki.log" 2>&1 &&
    (cd "$P" && SAN=DNS:x openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key \
    -revoke mustaple.pem && for c in good mustaple; do
	openssl ocsp -issuer ca.pem -cert $c.pem -no_nonce -reqout $c.req &&
	openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key \
	    -CA ca.pem -reqin $c.req -respout $c.ocsp -ndays 1 || exit 1
    done) >>"$D/pki.log" 2>&1; then
	# sserve NAME OUT ARGS...: s_server with NAME.pem (stapling
	# NAME.ocsp if there is one), a mailsh session (/cert, /cert pem)
	# with ARGS into $D/OUT, its exit status in $D/OUT.rc
	sserve() {
		local name=$1 out=$2 port i st=''
		shift 2
		port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		# s_server sends what it reads on stdin: the greeting; the
		# writer stays (exec sleep) so that stdin does not end
		rm -f "$D/greet.$out"
		mkfifo "$D/greet.$out"
		(printf '220 s-server.example ESMTP\r\n'; exec sleep 60) \
		    >"$D/greet.$out" &
		local feeder=$!
		[ -f "$P/$name.ocsp" ] && st="-status_file $P/$name.ocsp"
		# shellcheck disable=SC2086
		openssl s_server -accept "127.0.0.1:$port" -naccept 1 \
		    -cert "$P/$name.pem" -key "$P/$name.key" $st -quiet \
		    <"$D/greet.$out" >"$D/s_server.$out" 2>&1 &
		PIDS="$PIDS $feeder $!"
		for i in $(seq 100); do	# until it listens
			ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port " && break
			sleep 0.1
		done
		printf '/cert\n/cert pem\n' | timeout 60 "$MAILSH" --no-color \
		    -q --tls --cafile "$P/ca.pem" "$@" -p smtp 127.0.0.1 \
		    "$port" >"$D/$out" 2>&1
		echo $? >"$D/$out.rc"
		kill "$feeder" 2>/dev/null
	}
	sserve good staple.good
	sserve mustaple staple.insecure --insecure
	sserve mustaple staple.mustaple
	if [ "$(cat "$D/staple.good.rc")" = 0 ] && grep -q 'OCSP response stapled: certificate status good (response signed by the CA and current)' \
	    "$D/staple.good" &&
	    grep -q 'OCSP response stapled: certificate status revoked (response signed' \
	    "$D/staple.insecure" &&
	    grep -q 'must-staple (TLS feature status_request' \
	    "$D/staple.insecure" &&
	    ! grep -q 'demands a stapled OCSP response' "$D/staple.insecure" &&
	    [ "$(cat "$D/staple.mustaple.rc")" = 4 ] &&
	    grep -q 'verified: NO: the certificate has been revoked' \
	    "$D/staple.mustaple"
	then pass cert-ocsp-stapled
	else fail cert-ocsp-stapled "$D/staple.good" "$D/staple.insecure" \
	    "$D/staple.mustaple"; fi
else
	fail cert-ocsp-stapled "$D/pki.log"
fi

# /cert pem of a certificate whose CN holds OSC 52, BEL, U+202E and
# U+009B (tests/e2e.py's "hostile"): the s: line escaped, the PEM read
# back by openssl, no byte that steers a terminal
sserve hostile hostile
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    "$D/hostile" >"$D/hostile.pem"
if [ "$(cat "$D/hostile.rc")" = 0 ] &&
    grep -qF ' 0 s:CN=evil\1B]52\;c\;aGk=\07\xE2\x80\xAE\xC2\x9B.example' \
    "$D/hostile" && cmp -s "$D/hostile.pem" "$P/hostile.pem" &&
    ! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$D/hostile" &&
    ! grep -q -e "$(printf '\342\200\256')" -e "$(printf '\302\233')" \
    "$D/hostile"
then pass cert-pem-hostile
else fail cert-pem-hostile "$D/hostile"; fi
exit $FAILED
