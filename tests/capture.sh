#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/capture.sh: what mailsh hands to Wireshark, checked with the
# Debian tools an admin uses:
#  - --keylog FILE / SSLKEYLOGFILE: a lab session captured on loopback
#    with tcpdump (as root; SKIP otherwise) is decrypted by tshark with
#    the key log, and the IMAP LOGIN / SMTP AUTH line is found in it;
#    implicit TLS and STARTTLS; the file's mode, appending, the note,
#    the JSON event and the errors.
#  - --pcap FILE: no capture rights needed; tshark dissects the file of
#    an SMTP session with STARTTLS, an IMAPS and a POP3 STLS session,
#    and of IMAP with STARTTLS over IPv6 (SKIP when ::1 is not there):
#    the commands in order, the switch to TLS marked by a comment on the
#    first packet after it, no malformed packet, every IP and TCP
#    checksum good; tcpdump reads it too; mode 0600, the note.
# Events are ordered by polling, never by sleeping a fixed time: tcpdump
# is ready when it says "listening on" (printed after its filter is
# set), and it is stopped (SIGINT) once its file holds the session's
# end (a RST, or a FIN from each side).
# One line per case: PASS name | FAIL name | SKIP name (why).  A missing
# tcpdump or tshark is a FAIL naming the Debian package.
#   MAILSH=path   binary to test (default ./mailsh at the repo top)
#   LAB_KEEP=1    keep the temp dir
LAB_TMP=capture
MAILSH=${MAILSH:-$(cd "$(dirname "$0")/.." && pwd)/mailsh}
. "$(dirname "$0")/lab/lib.sh"

TSHARK="tshark -n"	# stderr: "Running as user root ...", kept apart

if [ ! -x "$MAILSH" ]; then
	echo "FAIL capture-build"; echo "    $MAILSH not built"; exit 1
fi
if ! start main; then
	fail capture-lab-start "$D/main.err"
	exit 1
fi
S=$D/main
CA=$S/ca.pem

# ms NAME PORT ARGS... < script: a scripted mailsh; output in $D/NAME.ms
ms() {
	local n=$1 p=$2; shift 2
	timeout 60 "$MAILSH" --no-color --timeout 10 --cafile "$CA" "$@" \
	    127.0.0.1 "$p" >"$D/$n.ms" 2>&1
}

# ---- capture on loopback ----
# cap_start NAME PORT: tcpdump on lo for PORT into $D/NAME.pcap; sets
# CAP_PID.  Returns 1 (after saying why in $D/NAME.td) when it cannot.
cap_start() {
	local n=$1 p=$2 i
	tcpdump -Z root -i lo -U -w "$D/$n.pcap" "tcp port $p" \
	    >"$D/$n.td" 2>&1 &
	CAP_PID=$!
	PIDS="$PIDS $CAP_PID"
	for i in $(seq 300); do
		grep -q 'listening on' "$D/$n.td" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# cap_stop NAME PORT: waits (30 s at most) until the capture holds the
# end of the session on PORT (a RST, or a FIN from each side), then
# stops tcpdump.
cap_stop() {
	local n=$1 p=$2 i fin="tcp[tcpflags] & tcp-fin != 0"
	local rst="tcp[tcpflags] & tcp-rst != 0"
	for i in $(seq 300); do
		[ -n "$(tcpdump -nn -r "$D/$n.pcap" "$rst" 2>/dev/null)" ] &&
		    break
		[ -n "$(tcpdump -nn -r "$D/$n.pcap" "src port $p and $fin" \
		    2>/dev/null)" ] &&
		    [ -n "$(tcpdump -nn -r "$D/$n.pcap" \
		    "dst port $p and $fin" 2>/dev/null)" ] && break
		sleep 0.1
	done
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}

tools_ok=1
for t in tcpdump tshark; do
	have $t || tools_ok=0
done
can_capture=0
why=''
if [ $tools_ok = 0 ]; then
	:
elif [ "$(id -u)" -ne 0 ]; then
	why='not root: capturing on lo needs root'
elif ! tcpdump -D 2>/dev/null | grep -qw lo; then
	why='no loopback interface tcpdump can capture on'
else
	can_capture=1
fi
# capcase NAME: may this capture case run?  Says FAIL or SKIP if not.
capcase() {
	if [ $tools_ok = 0 ]; then missing "$1" tcpdump tshark; return 1; fi
	if [ $can_capture = 0 ]; then echo "SKIP $1 ($why)"; return 1; fi
	return 0
}

# ---- key log: IMAPS (implicit TLS), --keylog ----
n=keylog-imaps
if capcase capture-$n; then
	P=$(port main imaps)
	if cap_start $n "$P"; then
		printf 'a LOGIN alice alice-pass\nb LOGOUT\n' |
		    ms $n "$P" --tls --keylog "$D/$n.keys"
		rc=$?
		cap_stop $n "$P"
		$TSHARK -r "$D/$n.pcap" -o "tls.keylog_file:$D/$n.keys" \
		    -d "tcp.port==$P,tls" -d "tls.port==$P,imap" -Y imap \
		    -T fields -e imap.request >"$D/$n.tshark" 2>"$D/$n.err"
		if [ $rc = 0 ] &&
		    grep -qx 'a LOGIN alice alice-pass' "$D/$n.tshark" &&
		    grep -qx 'b LOGOUT' "$D/$n.tshark" &&
		    grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$D/$n.keys" &&
		    [ "$(stat -c %a "$D/$n.keys")" = 600 ] &&
		    grep -q "keys of this TLS session were written to $D/$n.keys: anyone who has that file can read the session" "$D/$n.ms" &&
		    ! grep -q alice-pass "$D/$n.ms"
		then pass capture-$n
		else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.td"; fi
	else
		echo "SKIP capture-$n (tcpdump cannot capture on lo:" \
		    "$(tail -1 "$D/$n.td"))"
	fi
fi

# ---- key log: SMTP submission after STARTTLS, SSLKEYLOGFILE ----
n=keylog-starttls
if capcase capture-$n; then
	P=$(port main submission)
	if cap_start $n "$P"; then
		printf '%s\n' 'EHLO pc.example' STARTTLS 'EHLO pc.example' \
		    'AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=' QUIT |
		    SSLKEYLOGFILE=$D/$n.keys ms $n "$P" --json
		rc=$?
		cap_stop $n "$P"
		$TSHARK -r "$D/$n.pcap" -o "tls.keylog_file:$D/$n.keys" \
		    -d "tcp.port==$P,smtp" -Y smtp -T fields \
		    -e smtp.req.command -e smtp.req.parameter \
		    >"$D/$n.tshark" 2>"$D/$n.err"
		if [ $rc = 0 ] && grep -qxF "$(printf \
		    'AUTH\tPLAIN AGFsaWNlAGFsaWNlLXBhc3M=')" "$D/$n.tshark" &&
		    [ "$(grep -c '"id":"warn.tls.keylog"' "$D/$n.ms")" = 1 ] &&
		    [ "$(stat -c %a "$D/$n.keys")" = 600 ]
		then pass capture-$n
		else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.td"; fi
	else
		echo "SKIP capture-$n (tcpdump cannot capture on lo:" \
		    "$(tail -1 "$D/$n.td"))"
	fi
fi

# ---- key log: no capture needed ----
P=$(port main imaps)
# --keylog wins over SSLKEYLOGFILE; lines are appended; a file readable
# by others is pointed out (and left as it is)
n=keylog-file
printf 'earlier line\n' >"$D/$n.keys"
chmod 644 "$D/$n.keys"
printf 'a LOGOUT\n' | SSLKEYLOGFILE=$D/$n.env ms $n "$P" --tls \
    --keylog "$D/$n.keys"
rc=$?
if [ $rc = 0 ] && [ ! -e "$D/$n.env" ] &&
    [ "$(head -1 "$D/$n.keys")" = 'earlier line' ] &&
    grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$D/$n.keys" &&
    grep -q "the key log $D/$n.keys can be read by others (mode 0644): chmod 600 $D/$n.keys" "$D/$n.ms"
then pass capture-$n
else fail capture-$n "$D/$n.ms" "rc $rc"; fi

# errors: a directory that does not exist, a symbolic link; exit 2 before
# connecting
n=keylog-errors
ln -s "$D/elsewhere" "$D/$n.link"
printf 'a LOGOUT\n' | ms $n-dir "$P" --tls --keylog "$D/no/such/dir/keys"
rc1=$?
printf 'a LOGOUT\n' | SSLKEYLOGFILE=$D/$n.link ms $n-link "$P" --tls
rc2=$?
if [ $rc1 = 2 ] && [ $rc2 = 2 ] &&
    grep -qx "mailsh: cannot write the key log $D/no/such/dir/keys: No such file or directory" "$D/$n-dir.ms" &&
    grep -qx "mailsh: cannot write the key log (SSLKEYLOGFILE) $D/$n.link: it is a symbolic link (refused)" "$D/$n-link.ms" &&
    ! grep -q connected "$D/$n-dir.ms" && [ ! -e "$D/elsewhere" ]
then pass capture-$n
else fail capture-$n "$D/$n-dir.ms" "$D/$n-link.ms" "rc $rc1 $rc2"; fi

# ---- --pcap ----
# pcap_check NAME PORT DISSECTOR FIELD: tshark reads $D/NAME.pcapng with
# PORT decoded as DISSECTOR; FIELD of each request into $D/NAME.req, a
# summary into $D/NAME.tshark.  Returns 1 on a malformed packet, a bad
# or unchecked checksum, an expert error, or when tcpdump cannot read
# the file.
pcap_check() {
	local n=$1 p=$2 dis=$3 field=$4 f=$D/$1.pcapng
	local opts="-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE"
	$TSHARK -r "$f" -d "tcp.port==$p,$dis" >"$D/$n.tshark" \
	    2>"$D/$n.err" || return 1
	# shellcheck disable=SC2086
	$TSHARK -r "$f" -d "tcp.port==$p,$dis" -Y "$field" -T fields \
	    -e "$field" >"$D/$n.req" 2>>"$D/$n.err" || return 1
	# shellcheck disable=SC2086
	[ -z "$($TSHARK -r "$f" -d "tcp.port==$p,$dis" $opts -Y \
	    'tcp.checksum.status != 1 || (ip && ip.checksum.status != 1) ||
	    _ws.malformed || _ws.expert.severity >= 0x800000' \
	    2>>"$D/$n.err")" ] ||
	    return 1
	[ "$(tcpdump -nn -r "$f" 2>/dev/null | wc -l)" = \
	    "$(grep -c . "$D/$n.tshark")" ] || return 1
	# the real time of each read and write: never backwards
	$TSHARK -r "$f" -T fields -e frame.time_epoch 2>/dev/null |
	    sort -c -g || return 1
}
# the one comment: on the first packet after the handshake
pcap_comment() {
	$TSHARK -r "$D/$1.pcapng" -Y frame.comment -T fields -e frame.comment \
	    2>/dev/null
}
# FILE holds the LINES in this order and nothing else
lines_are() {
	local f=$1; shift
	[ "$(printf '%s\n' "$@")" = "$(cat "$f")" ]
}
TLSNOTE='^TLS handshake before this packet (TLSv1\.3, [A-Z0-9_]*), not recorded: from here on the packets hold what TLS carried, decrypted by mailsh$'

if ! have tshark || ! have tcpdump; then
	missing capture-pcap-smtp-starttls tcpdump tshark
	missing capture-pcap-imaps tcpdump tshark
	missing capture-pcap-pop3-stls tcpdump tshark
else
	# SMTP submission with STARTTLS: the dissector keeps parsing SMTP
	# after the switch (what follows is plaintext in the file)
	n=pcap-smtp-starttls
	P=$(port main submission)
	printf '%s\n' 'EHLO pc.example' STARTTLS 'EHLO pc.example' \
	    'AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=' \
	    'MAIL FROM:<alice@lab.example>' QUIT |
	    ms $n "$P" --pcap "$D/$n.pcapng"
	rc=$?
	if [ $rc = 0 ] && pcap_check $n "$P" smtp smtp.req.command &&
	    lines_are "$D/$n.req" EHLO STAR EHLO AUTH MAIL QUIT &&
	    $TSHARK -r "$D/$n.pcapng" -d "tcp.port==$P,smtp" -Y \
	    'smtp.req.command == "AUTH"' -T fields -e smtp.req.parameter \
	    2>/dev/null | grep -qx 'PLAIN AGFsaWNlAGFsaWNlLXBhc3M=' &&
	    pcap_comment $n | grep -q "$TLSNOTE" &&
	    [ "$(pcap_comment $n | wc -l)" = 1 ] &&
	    [ "$($TSHARK -r "$D/$n.pcapng" -d "tcp.port==$P,smtp" -Y \
	    frame.comment -T fields -e smtp.req.command 2>/dev/null)" = EHLO ] &&
	    grep -q 'SYN\]' "$D/$n.tshark" &&
	    grep -q 'SYN, ACK\]' "$D/$n.tshark" &&
	    [ "$(grep -c 'FIN, ACK\]' "$D/$n.tshark")" = 2 ] &&
	    [ "$(stat -c %a "$D/$n.pcapng")" = 600 ] &&
	    grep -q "what this connection carries goes to $D/$n.pcapng (--pcap), after TLS decryption: anyone who has that file can read the session, passwords included" "$D/$n.ms" &&
	    grep -qxF "   * for Wireshark to show port $P of $D/$n.pcapng as SMTP, choose Decode As; with tshark: tshark -r $D/$n.pcapng -d tcp.port==$P,smtp" "$D/$n.ms"
	then pass capture-$n
	else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.req"; fi

	# IMAPS: TLS from the start, the port decoded as IMAP; an existing
	# file is emptied first; --json names the note
	n=pcap-imaps
	P=$(port main imaps)
	printf 'old bytes' >"$D/$n.pcapng"
	chmod 600 "$D/$n.pcapng"
	printf '%s\n' 'a LOGIN alice alice-pass' 'b SELECT INBOX' \
	    'c LOGOUT' | ms $n "$P" --tls --json --pcap "$D/$n.pcapng"
	rc=$?
	if [ $rc = 0 ] && pcap_check $n "$P" imap imap.request &&
	    lines_are "$D/$n.req" 'a LOGIN alice alice-pass' \
	    'b SELECT INBOX' 'c LOGOUT' &&
	    pcap_comment $n | grep -q "$TLSNOTE" &&
	    [ "$(grep -c '"id":"warn.pcap"' "$D/$n.ms")" = 1 ] &&
	    grep -q '"id":"pcap.decode-as"' "$D/$n.ms" &&
	    ! grep -q 'old bytes' "$D/$n.pcapng"
	then pass capture-$n
	else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.req"; fi

	# POP3 with STLS
	n=pcap-pop3-stls
	P=$(port main pop3)
	printf '%s\n' CAPA STLS CAPA 'USER alice' 'PASS alice-pass' STAT \
	    QUIT | ms $n "$P" --pcap "$D/$n.pcapng"
	rc=$?
	if [ $rc = 0 ] && pcap_check $n "$P" pop pop.request.command &&
	    lines_are "$D/$n.req" CAPA STLS CAPA USER PASS STAT QUIT &&
	    pcap_comment $n | grep -q "$TLSNOTE"
	then pass capture-$n
	else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.req"; fi
fi

# IPv6: a lab on ::1, IMAP with STARTTLS; the headers are IPv6 ones
n=pcap-ipv6-imap
if ! have tshark || ! have tcpdump; then
	missing capture-$n tcpdump tshark
elif ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	echo "SKIP capture-$n (::1 cannot be bound here)"
elif ! start v6 --listen ::1; then
	fail capture-$n "$D/v6.err"
else
	P=$(port v6 imap)
	printf '%s\n' 'a STARTTLS' 'b LOGIN alice alice-pass' 'c LOGOUT' |
	    timeout 60 "$MAILSH" --no-color --timeout 10 --cafile \
	    "$D/v6/ca.pem" --pcap "$D/$n.pcapng" ::1 "$P" >"$D/$n.ms" 2>&1
	rc=$?
	if [ $rc = 0 ] && pcap_check $n "$P" imap imap.request &&
	    lines_are "$D/$n.req" 'a STARTTLS' 'b LOGIN alice alice-pass' \
	    'c LOGOUT' && pcap_comment $n | grep -q "$TLSNOTE" &&
	    [ "$($TSHARK -r "$D/$n.pcapng" -Y 'ipv6.src == ::1 &&
	    ipv6.dst == ::1 && tcp' 2>/dev/null | wc -l)" = \
	    "$(grep -c . "$D/$n.tshark")" ]
	then pass capture-$n
	else fail capture-$n "$D/$n.ms" "$D/$n.tshark" "$D/$n.req"; fi
fi

# errors: exit 2 before connecting
n=pcap-errors
printf 'a LOGOUT\n' | ms $n "$(port main imaps)" --tls \
    --pcap "$D/no/such/dir/x.pcapng"
rc=$?
if [ $rc = 2 ] &&
    grep -qx "mailsh: cannot write the capture $D/no/such/dir/x.pcapng: No such file or directory" "$D/$n.ms" &&
    ! grep -q connected "$D/$n.ms"
then pass capture-$n
else fail capture-$n "$D/$n.ms" "rc $rc"; fi

exit $FAILED
