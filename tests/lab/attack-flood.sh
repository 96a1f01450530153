#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/attack-flood.sh: issue 12, finding 3: an unauthenticated
# delivery flood, then a mailbox of tens of thousands of messages.
#  - a flood of mail transactions from one address is refused with
#    450 4.7.1 at RCPT after --delivery-rate of them, another address
#    still gets through;
#  - the quota refuses with 452 4.2.2 at RCPT (messages) and after DATA
#    (bytes), and says so; IMAP APPEND and COPY past it get
#    NO [OVERQUOTA] and store nothing, and mailsh explains the code;
#  - with 40,000 messages in alice's INBOX (made directly in the
#    Maildir, with a uid list), SELECT and 20 NOOPs answer, and
#    deliveries while alice IDLEs do not stall another client.
# The bounds are generous (a correct lab needs well under a second
# each; the lab before the UID index needed about 5 s per NOOP and per
# delivery, i.e. minutes): the test never depends on timing to pass.
# Run by tests/lab/run.sh (MAILSH=binary); prints PASS/FAIL lines.
LAB_TMP=labflood
. "$(dirname "$0")/lib.sh"

# The clients: raw sockets, every read with a timeout.
cat >"$D/flood.py" <<'PY'
import os, socket, ssl, sys, time

def smtp(port, src="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=60,
                                 source_address=(src, 0))
    f = s.makefile("rb")
    def reply():
        lines = []
        while True:
            l = f.readline()
            if not l:
                raise EOFError("closed")
            lines.append(l.decode(errors="replace").rstrip())
            if len(l) < 4 or l[3:4] != b"-":
                return lines[-1]
    def cmd(line):
        s.sendall(line.encode() + b"\r\n")
        return reply()
    reply()
    cmd("EHLO flood.example")
    return s, cmd, reply

def send(cmd, to, body=b"x\r\n"):
    r = cmd("MAIL FROM:<flood@example.org>")
    if not r.startswith("250"):
        cmd("RSET")
        return r
    r = cmd("RCPT TO:<%s>" % to)
    if not r.startswith("250"):
        cmd("RSET")
        return r
    r = cmd("DATA")
    if not r.startswith("354"):
        return r
    return cmd(body.decode() + ".")

def rate(port):
    s, cmd, _ = smtp(port)
    got = [send(cmd, "bob@lab.example") for _ in range(40)]
    ok = sum(r.startswith("250") for r in got)
    limited = [r for r in got if r.startswith("450 4.7.1")]
    print("accepted", ok, "limited", len(limited), limited[:1])
    # another address is not held back by the flood
    s2, cmd2, _ = smtp(port, "127.0.0.2")
    other = send(cmd2, "bob@lab.example")
    print("other address:", other)
    return 5 <= ok <= 10 and len(limited) >= 30 and other.startswith("250")

def quota(port, bigport):
    s, cmd, _ = smtp(port)
    got = [send(cmd, "bob@lab.example") for _ in range(5)]
    print(got)
    ok = got[:3] == [g for g in got[:3] if g.startswith("250 2.0.0")]
    full = all(g.startswith("452 4.2.2") for g in got[3:])
    # bytes: --quota 0,1 (1 MiB); the second 700 KB message is refused
    # after the data, the first is delivered
    s, cmd, _ = smtp(bigport)
    body = (b"y" * 998 + b"\r\n") * 700
    big = [send(cmd, "bob@lab.example", body) for _ in range(2)]
    print(big)
    return (ok and full and big[0].startswith("250 2.0.0") and
            big[1].startswith("452 4.2.2"))

def fill(state, n):
    box = os.path.join(state, "mail", "alice")
    cur = os.path.join(box, "cur")
    uids = ["V 1000 %d" % (n + 1)]
    msg = b"From: a@example.org\nSubject: m\n\nhello\n"
    for i in range(1, n + 1):
        base = "%d.M%06dP1Q%d.flood" % (1700000000 + i, i, i)
        with open(os.path.join(cur, base + ",S=%d,W=%d:2,S" %
                  (len(msg), len(msg) + 4)), "wb") as f:
            f.write(msg)
        uids.append("%d %s" % (i, base))
    with open(os.path.join(box, "mailsh-uidlist"), "w") as f:
        f.write("\n".join(uids) + "\n")

class Imap:
    def __init__(self, port, ca, deadline):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", port),
                                       timeout=max(1, deadline - time.time()))
        self.s = ctx.wrap_socket(raw)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.line()
    def line(self):
        l = self.f.readline()
        if not l:
            raise EOFError("closed")
        return l.decode(errors="replace").rstrip()
    def cmd(self, c):
        self.n += 1
        tag = "t%d" % self.n
        self.s.sendall(("%s %s\r\n" % (tag, c)).encode())
        out = []
        while True:
            l = self.line()
            out.append(l)
            if l.startswith(tag + " "):
                return out

def big(imaps, smtpport, ca, state, n):
    deadline = time.time() + 60
    a = Imap(imaps, ca, deadline)
    a.cmd("LOGIN alice alice-pass")
    t = time.time()
    sel = a.cmd("SELECT INBOX")
    t_sel = time.time() - t
    exists = [l for l in sel if l.endswith(" EXISTS")]
    t = time.time()
    for _ in range(20):
        r = a.cmd("NOOP")
        if time.time() > deadline:
            print("SELECT and NOOPs: past the 60 s bound")
            return False
    t_noop = time.time() - t
    print("SELECT %.3f s (%s), 20 NOOPs %.3f s" % (t_sel, exists, t_noop))
    if exists != ["* %d EXISTS" % n] or not r[-1].split()[1] == "OK":
        return False
    if time.time() > deadline:
        return False
    # alice IDLEs on the big mailbox; 20 deliveries to her, and between
    # them another client's SMTP NOOP and a STATUS
    deadline = time.time() + 60
    a.s.settimeout(60)
    a.n += 1
    a.s.sendall(b"idle1 IDLE\r\n")
    if not a.line().startswith("+"):
        return False
    s, cmd, _ = smtp(smtpport, "127.0.0.3")
    b = Imap(imaps, ca, deadline)
    b.cmd("LOGIN bob bob-pass")
    t = time.time()
    for i in range(20):
        if not send(cmd, "alice@lab.example").startswith("250"):
            print("delivery", i, "refused")
            return False
        if not cmd("NOOP").startswith("250"):
            return False
        if time.time() > deadline:
            print("deliveries while alice IDLEs: past the 60 s bound")
            return False
    st = b.cmd('STATUS INBOX (MESSAGES)')
    t_del = time.time() - t
    seen = 0
    a.s.settimeout(max(1, deadline - time.time()))
    while seen < n + 20:
        l = a.line()
        if l.endswith(" EXISTS"):
            seen = int(l.split()[1])
    a.s.sendall(b"DONE\r\n")
    print("20 deliveries while IDLE %.3f s; IDLE saw %d EXISTS" %
          (t_del, seen))
    return st[-1].split()[1] == "OK" and time.time() < deadline

what = sys.argv[1]
try:
    if what == "rate":
        ok = rate(int(sys.argv[2]))
    elif what == "quota":
        ok = quota(int(sys.argv[2]), int(sys.argv[3]))
    elif what == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
        ok = True
    else:
        ok = big(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
                 sys.argv[5], int(sys.argv[6]))
except Exception as e:
    print("error:", repr(e))
    ok = False
sys.exit(0 if ok else 1)
PY
PY="python3 $D/flood.py"

# --- the delivery rate: 5 a minute from one address ---
if start rate --delivery-rate 5 --quota 0,0; then
	if timeout 120 $PY rate "$(port rate smtp)" >"$D/rate.log" 2>&1
	then pass lab-flood-rate-limit
	else fail lab-flood-rate-limit "$D/rate.log" "$D/rate.err"; fi
else
	fail lab-flood-rate-limit "$D/rate.err"
fi

# --- the quota: 3 messages; 1 MiB ---
if start quota --quota 3,0 --delivery-rate 0 &&
    start qbytes --quota 0,1 --delivery-rate 0; then
	if timeout 120 $PY quota "$(port quota smtp)" "$(port qbytes smtp)" \
	    >"$D/quota.log" 2>&1
	then pass lab-flood-quota
	else fail lab-flood-quota "$D/quota.log" "$D/quota.err"; fi
else
	fail lab-flood-quota "$D/quota.err" "$D/qbytes.err"
fi

# --- the quota over IMAP: APPEND and COPY past it get NO [OVERQUOTA]
# and store nothing (RFC 5530 3); mailsh explains the code ---
# count DIR: messages in the Maildir DIR (new/ and cur/)
count() { find "$1/new" "$1/cur" -type f | wc -l; }
# imapquota NAME SCRIPT: wire.py's IMAPS session against lab NAME
imapquota() {
	timeout 120 $WIRE imap "$(port "$1" imaps)" \
	    "$D/$1/ca.pem" <"$2" >"$D/$1.log" 2>&1
}
# messages: --quota 3,0; 2 in INBOX and 1 in Old fill it; d (a
# synchronizing literal) is refused before its "+", e (LITERAL+) after
# its literal, and the session goes on
cat >"$D/qimap.script" <<'EOF'
a LOGIN alice alice-pass
b CREATE Old
LIT Subject: 1\r\n\r\none
c1 APPEND INBOX {17}
LIT Subject: 2\r\n\r\ntwo
c2 APPEND INBOX {17}
LIT Subject: 3\r\n\r\nthr
c3 APPEND Old {17}
LIT Subject: 4\r\n\r\nfou
d APPEND INBOX {17}
LIT Subject: 5\r\n\r\nfiv
e APPEND INBOX {17+}
f NOOP
g SELECT INBOX
h COPY 1 Old
i UID COPY 1:* INBOX
z LOGOUT
EOF
# bytes: --quota 0,1 (1 MiB); a 700 KB message fits, a second one is
# refused after its literal, and so is a copy of the first
python3 - "$D/qbimap.script" <<'EOF'
import sys
body = "Subject: big\\r\\n\\r\\n" + ("y" * 998 + "\\r\\n") * 700
n = 16 + 1000 * 700
with open(sys.argv[1], "w") as f:
    f.write("a LOGIN alice alice-pass\n")
    for t in ("b1", "b2"):
        f.write("LIT %s\n%s APPEND INBOX {%d}\n" % (body, t, n))
    f.write("c SELECT INBOX\nd COPY 1 INBOX\nz LOGOUT\n")
EOF
if start qimap --quota 3,0 --delivery-rate 0 &&
    start qbimap --quota 0,1 --delivery-rate 0 &&
    imapquota qimap "$D/qimap.script" &&
    imapquota qbimap "$D/qbimap.script"; then
	q=$D/qimap/mail/alice
	if grep -q '^c1 OK' "$D/qimap.log" && grep -q '^c3 OK' "$D/qimap.log" &&
	    grep -q '^d NO \[OVERQUOTA\]' "$D/qimap.log" &&
	    [ "$(grep -c '^+' "$D/qimap.log")" = 3 ] &&
	    grep -q '^e NO \[OVERQUOTA\]' "$D/qimap.log" &&
	    grep -q '^f OK' "$D/qimap.log" &&
	    grep -q '^h NO \[OVERQUOTA\]' "$D/qimap.log" &&
	    grep -q '^i NO \[OVERQUOTA\]' "$D/qimap.log" &&
	    [ "$(count "$q")" = 2 ] && [ "$(count "$q/.Old")" = 1 ] &&
	    grep -q '^b1 OK' "$D/qbimap.log" &&
	    grep -q '^b2 NO \[OVERQUOTA\]' "$D/qbimap.log" &&
	    grep -q '^d NO \[OVERQUOTA\]' "$D/qbimap.log" &&
	    [ "$(count "$D/qbimap/mail/alice")" = 1 ] &&
	    [ -z "$(ls "$D/qbimap/mail/alice/tmp")" ]
	then pass lab-flood-quota-imap
	else fail lab-flood-quota-imap "$D/qimap.log" "$D/qbimap.log" \
	    "$(find "$D/qimap/mail" "$D/qbimap/mail" -type f)"; fi
	# the client explains the code, in English and German
	for l in en de; do
		printf 'a LOGIN alice alice-pass\nb SELECT INBOX\nc COPY 1 Old\nd LOGOUT\n' |
		    timeout 60 "$MAILSH" --no-color --lang $l --timeout 10 \
		    --tls --cafile "$D/qimap/ca.pem" localhost \
		    "$(port qimap imaps)" >"$D/qimap-$l.ms" 2>&1
	done
	if grep -q 'OVERQUOTA.*would be over quota after this command' \
	    "$D/qimap-en.ms" &&
	    grep -q 'OVERQUOTA.*nach diesem Befehl' "$D/qimap-de.ms"
	then pass lab-flood-quota-imap-explained
	else fail lab-flood-quota-imap-explained "$D/qimap-en.ms" \
	    "$D/qimap-de.ms"; fi
else
	fail lab-flood-quota-imap "$D/qimap.log" "$D/qimap.err" \
	    "$D/qbimap.err"
fi

# --- a mailbox of 40,000 messages: SELECT, NOOP, IDLE + deliveries ---
N=40000
# Its bounds are for a normal build: under AddressSanitizer (make asan)
# every file operation of 40,000 messages is many times slower.
if nm "$MAILSH" 2>/dev/null | grep -q '__asan_init'; then
	echo "SKIP lab-flood-big-mailbox (a sanitizer build: the bounds" \
	    "of this case are for a normal build)"
elif start big --quota 0,0 --delivery-rate 0 &&
    $PY fill "$D/big" $N >"$D/fill.log" 2>&1; then
	if timeout 200 $PY big "$(port big imaps)" "$(port big smtp)" \
	    "$D/big/ca.pem" "$D/big" $N >"$D/big.log" 2>&1
	then pass lab-flood-big-mailbox; cat "$D/big.log" | sed 's/^/    /'
	else fail lab-flood-big-mailbox "$D/big.log" "$D/big.err"; fi
else
	fail lab-flood-big-mailbox "$D/fill.log" "$D/big.err"
fi

exit $FAILED
