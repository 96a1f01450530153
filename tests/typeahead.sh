#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Type-ahead and paste through a real terminal (tmux): a block of lines
# pasted at once must reach the server as if each had waited for its
# reply where the protocol says so (RFC 2920, RFC 3207 4.2).
#  - EHLO + STARTTLS + EHLO pasted together, server WITHOUT PIPELINING:
#    nothing is sent before the reply it depends on (the server checks,
#    as Exim does), the 220 starts TLS, the second EHLO goes inside TLS.
#  - MAIL + RCPT + DATA + text (with ".x" and "/x" lines) + "." pasted:
#    the text is dot-stuffed message text, "/x" no meta command.
#  - a refused DATA: the pasted message text never runs as commands.
#  - Ctrl-C after editing a recalled history line leaves the entry as
#    it was.
#  - -q still asks before a credential goes out in plaintext.
# Prints PASS/FAIL lines.  Loopback only.  Nothing here depends on
# timing: a correct client passes however fast or slow the machine is.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
command -v tmux >/dev/null ||
    { echo "FAIL typeahead (no tmux: install the Debian package tmux)"; exit 1; }
[ -x "$MAILSH" ] || { echo "FAIL typeahead (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
pids=
cleanup() {
	tm kill-server 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
python3 "$top/tests/e2e.py" --make-certs "$work/certs" >/dev/null 2>&1 ||
    { echo "FAIL typeahead (could not make test certificates)"; exit 1; }

# SMTP server: PIPELINING only inside TLS; before TLS it reports any
# command that arrives before the reply to the one before it was sent
# (it waits a little before each reply, so a client that sends ahead is
# caught); logs what it receives, and how, to $1.log; DATA refused when
# the recipient is "nobody".
cat >"$work/srv.py" <<'PY'
import socket, ssl, sys, time, select
log = open(sys.argv[1] + ".log", "w", buffering=1)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
c, _ = s.accept()
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[2] + "/good.pem", sys.argv[2] + "/good.key")
buf = b""; tls = False; conn = c; rcpt_ok = True
def readline():
    global buf
    while b"\n" not in buf:
        d = conn.recv(4096)
        if not d: sys.exit(0)
        buf += d
    l, buf = buf.split(b"\n", 1)
    return l.rstrip(b"\r")
def reply(text):
    if not tls:
        time.sleep(0.3)
        r, _, _ = select.select([conn], [], [], 0)
        if buf or r:
            log.write("SYNC-ERROR early input\n")
    conn.sendall(text)
conn.sendall(b"220 test.example ESMTP\r\n")
while True:
    l = readline(); u = l.upper()
    log.write("%s %s\n" % ("TLS" if tls else "PLAIN", l.decode(errors="replace")))
    if u.startswith(b"EHLO"):
        reply(b"250-test.example\r\n" + (b"250-PIPELINING\r\n" if tls else b"250-STARTTLS\r\n") + b"250 8BITMIME\r\n")
    elif u == b"STARTTLS":
        reply(b"220 2.0.0 go ahead\r\n")
        if buf: log.write("INJECTED before TLS\n")
        conn = ctx.wrap_socket(c, server_side=True); tls = True
    elif u.startswith(b"RCPT"):
        rcpt_ok = b"NOBODY" not in u
        reply(b"250 2.1.5 ok\r\n" if rcpt_ok else b"550 5.1.1 no such user\r\n")
    elif u == b"DATA":
        if not rcpt_ok:
            reply(b"554 5.5.1 no valid recipients\r\n"); continue
        reply(b"354 go\r\n")
        while True:
            t = readline()
            log.write("TEXT %s\n" % t.decode(errors="replace"))
            if t == b".": break
        reply(b"250 2.0.0 queued\r\n")
    elif u == b"QUIT":
        reply(b"221 2.0.0 bye\r\n"); break
    else:
        reply(b"250 2.0.0 ok\r\n")
PY

screen() { tm capture-pane -p -S -200 -t "$1" 2>/dev/null; }
wait_for() {	# session pattern: up to 20 s
	for _ in $(seq 200); do
		screen "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
# start NAME [ARGS]: a server and an interactive mailsh connected to it
start() {
	python3 "$work/srv.py" "$work/$1" "$work/certs" & pids="$pids $!"
	for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
	tm new-session -d -s "$1" -x 150 -y 60 "env NO_COLOR=1 \
HOME=$work XDG_STATE_HOME=$work/state $MAILSH --cafile $work/certs/ca.pem \
${2:-} -p smtp 127.0.0.1 $(cat "$work/$1.port"); sleep 60"
	wait_for "$1" '^S: 220 test.example'
}
verdict() {	# name, then conditions already evaluated into $bad
	if [ -z "$bad" ]; then echo "PASS $1"; else
		echo "FAIL $1 ($bad)"
		sed 's/^/    log| /' "$work/$2.log" | tail -25
		screen "$2" | grep -v '^$' | tail -25 | sed 's/^/    tty| /'
	fi
}

# 1. EHLO + STARTTLS + EHLO + MAIL + RCPT + DATA + text + "." + QUIT,
#    pasted as one block
start a
tm send-keys -t a "EHLO one.example
STARTTLS
EHLO two.example
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.org>
DATA
Subject: pasted

.x leading dot
/x not a command
.
QUIT
"
wait_for a '^S: 221 2.0.0 bye' || true
sleep 0.2
bad=
log=$work/a.log
grep -q 'SYNC-ERROR' "$log" && bad="$bad; a command went out before the reply it had to wait for"
grep -q 'INJECTED' "$log" && bad="$bad; plaintext after STARTTLS"
grep -qx 'PLAIN EHLO one.example' "$log" || bad="$bad; first EHLO not in plaintext"
grep -qx 'TLS EHLO two.example' "$log" || bad="$bad; second EHLO not inside TLS"
grep -q '^PLAIN EHLO two' "$log" && bad="$bad; second EHLO in plaintext"
screen a | grep -q 'refused the upgrade' && bad="$bad; the EHLO reply taken for a refusal"
verdict typeahead-paste-ehlo-starttls-ehlo a
bad=
grep -qx 'TEXT ..x leading dot' "$log" || bad="$bad; .x line not dot-stuffed"
grep -qx 'TEXT /x not a command' "$log" || bad="$bad; /x line not sent as text"
grep -qx 'TEXT Subject: pasted' "$log" || bad="$bad; Subject not message text"
screen a | grep -q 'unknown command /x' && bad="$bad; /x ran as a meta command"
grep -qx 'TLS QUIT' "$log" || bad="$bad; QUIT not sent after the message"
verdict typeahead-paste-data-text a

# 2. a refused DATA: the pasted text must not run as commands
start b
tm send-keys -t b "EHLO one.example
MAIL FROM:<alice@example.org>
RCPT TO:<nobody@example.org>
DATA
RSET
NOOP
.
QUIT
"
wait_for b '^S: 221 2.0.0 bye' || true
bad=
log=$work/b.log
grep -qx 'PLAIN RSET' "$log" && bad="$bad; message text RSET ran as a command"
grep -qx 'PLAIN NOOP' "$log" && bad="$bad; message text NOOP ran as a command"
grep -qx 'PLAIN QUIT' "$log" || bad="$bad; QUIT after the message not sent"
screen b | grep -q 'DATA was refused: 3 lines' || bad="$bad; no note on the lines not sent"
verdict typeahead-data-refused b

# 3. Ctrl-C after editing a recalled history line: the entry keeps what
#    it was, the next Up recalls it again; no blank entries are kept
start c
tm send-keys -t c 'NOOP' Enter
wait_for c '^C: NOOP' || true
tm send-keys -t c 'RSET' Enter
wait_for c '^C: RSET' || true
tm send-keys -t c Up
wait_for c '> RSET$' || true
tm send-keys -t c BSpace BSpace
wait_for c '> RS$' || true
tm send-keys -t c C-c
wait_for c 'RS\^C$' || true
tm send-keys -t c Up
bad=
wait_for c '> RSET$' || bad="the recalled entry was changed by the edit before Ctrl-C"
verdict typeahead-history-ctrl-c c

# 4. -q shows less, but still asks before a password goes out in
#    plaintext (only --no-confirm does not)
start d -q
tm send-keys -t d 'AUTH PLAIN AGFsaWNlAHNlY3JldA==' Enter
bad=
wait_for d 'send it anyway\? \[y/N\]' || bad="no question before the plaintext credential under -q"
tm send-keys -t d Enter
sleep 0.3
grep -q 'AUTH PLAIN' "$work/d.log" && bad="$bad; the credential was sent without a yes"
verdict typeahead-quiet-still-confirms d
exit 0
