#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/attack-fsync.sh: issue 12, "under attack, measured": a
# delivery is made durable (fsync of the message and of new/) off the
# event loop.  fsync took 10-20 ms here on a quiet disk and over a
# second while other programs wrote; a delivery flood made every one of
# them a stall for all clients.  The lab runs with tests/lab/fsyncgate.c
# preloaded: while the gate file exists, fsync waits for its removal.
#  - SMTP: a message and a NOOP pipelined behind its final dot; while
#    the commit is held, another client gets its greeting and its NOOP
#    answered and the first client gets nothing; after the gate opens
#    it gets 250 ... queued, then its NOOP's reply, in that order, and
#    the message is in bob's new/ (the lab before this fix answered the
#    other client only after the fsync: here after the gate's 20 s).
#  - IMAP APPEND: the same with the tagged OK of APPEND.
# Ordering only, no durations.  Run by tests/lab/run.sh (MAILSH=binary);
# prints PASS/FAIL lines.
LAB_TMP=labfsync
. "$(dirname "$0")/lib.sh"

if ! ${CC:-cc} -shared -fPIC -o "$D/fsyncgate.so" "$HERE/fsyncgate.c" \
    -ldl 2>"$D/cc.err"; then
	fail lab-fsync-off-loop "cannot build the fsync gate" "$D/cc.err"
	exit 1
fi

cat >"$D/gate.py" <<'PY'
import os, socket, ssl, sys, time
smtp_p, imaps_p, gate, newdir = int(sys.argv[1]), int(sys.argv[2]), \
    sys.argv[3], sys.argv[4]
ok = True

def say(ok_, name, why=""):
    global ok
    print(("PASS %s" % name) if ok_ else ("FAIL %s\n    %s" % (name, why)))
    ok = ok and ok_

def lines(sock):
    f = sock.makefile("rb")
    return lambda: f.readline().decode(errors="replace").rstrip()

def smtp_reply(rd):
    while True:
        l = rd()
        if len(l) < 4 or l[3] != "-":
            return l

def close_gate():
    open(gate, "w").close()
    try:
        os.unlink(gate + ".entered")
    except FileNotFoundError:
        pass

def wait_entered():
    """Until the lab is inside fsync (an event; 120 s only if it never
    comes)."""
    for _ in range(2400):
        if os.path.exists(gate + ".entered"):
            return True
        time.sleep(0.05)
    return False

def quiet(sock):
    """Nothing has arrived on sock (the reply is held)."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        data = None
    sock.setblocking(True)
    return data

def other_client_served():
    """A new SMTP client: greeting and NOOP answered."""
    try:
        s = socket.create_connection(("127.0.0.1", smtp_p), timeout=120)
        rd = lines(s)
        g = smtp_reply(rd)
        s.sendall(b"NOOP\r\n")
        n = smtp_reply(rd)
        s.close()
    except OSError as e:
        return False, "no answer (%s)" % e
    return g.startswith("220") and n.startswith("250"), g + " / " + n

# --- SMTP ---
a = socket.create_connection(("127.0.0.1", smtp_p), timeout=120)
rd = lines(a)
smtp_reply(rd)
for line in ("EHLO a.example", "MAIL FROM:<a@example.org>",
             "RCPT TO:<bob@lab.example>", "DATA"):
    a.sendall(line.encode() + b"\r\n")
    smtp_reply(rd)
close_gate()
a.sendall(b"Subject: held\r\n\r\nbehind the gate\r\n.\r\nNOOP\r\n")
if not wait_entered():
    say(False, "lab-fsync-smtp-off-loop", "the lab never called fsync")
    sys.exit(1)
served, why = other_client_served()
held = quiet(a)
os.unlink(gate)
r1 = smtp_reply(rd)
r2 = smtp_reply(rd)
found = any("behind the gate" in open(os.path.join(newdir, n)).read()
            for n in os.listdir(newdir))
say(served and held is None and r1.startswith("250 2.0.0 Ok: queued") and
    r2 == "250 2.0.0 Ok" and found, "lab-fsync-smtp-off-loop",
    "other client: %s; held reply: %r; then %r, %r; in new/: %s" %
    (why, held, r1, r2, found))
a.close()

# --- IMAP APPEND (implicit TLS) ---
c = ssl.create_default_context()
c.check_hostname = False
c.verify_mode = ssl.CERT_NONE
b = c.wrap_socket(socket.create_connection(("127.0.0.1", imaps_p),
                                           timeout=120))
rd = lines(b)
rd()
b.sendall(b"a LOGIN bob bob-pass\r\n")
while not rd().startswith("a "):
    pass
msg = b"Subject: appended\r\n\r\nbehind the gate too\r\n"
close_gate()
b.sendall(b"b APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\nc NOOP\r\n")
if not wait_entered():
    say(False, "lab-fsync-append-off-loop", "the lab never called fsync")
    sys.exit(1)
served, why = other_client_served()
b.setblocking(False)
try:
    held = b.recv(4096)
except (BlockingIOError, ssl.SSLWantReadError):
    held = None
b.setblocking(True)
os.unlink(gate)
got = []
while True:
    l = rd()
    got.append(l)
    if not l or l.startswith("c "):
        break
tags = [l.split()[0] for l in got if l and not l.startswith("*")]
say(served and held is None and tags == ["b", "c"] and
    got[-1].startswith("c OK") and any(l.startswith("b OK") for l in got),
    "lab-fsync-append-off-loop",
    "other client: %s; held reply: %r; then %r" % (why, held, got))
b.close()
sys.exit(0 if ok else 1)
PY

# LD_PRELOAD after a sanitizer's runtime: tell ASan not to insist on
# coming first (make asan)
if LD_PRELOAD="$D/fsyncgate.so" ASAN_OPTIONS=verify_asan_link_order=0 \
    MAILSH_TEST_FSYNC_GATE="$D/fsync-gate" start gate; then
	python3 "$D/gate.py" "$(port gate smtp)" "$(port gate imaps)" \
	    "$D/fsync-gate" "$D/gate/mail/bob/new" || FAILED=1
	kill -TERM "$LAB_PID"; wait "$LAB_PID"
	[ $FAILED = 0 ] || sed 's/^/    lab: /' "$D/gate.err" | tail -20
else
	fail lab-fsync-off-loop "$D/gate.err"
fi
exit $FAILED
