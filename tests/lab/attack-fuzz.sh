#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/attack-fuzz.sh: what tests/fuzz/fuzz_labimap found (issue
# 12, fuzzing): two inputs that made the lab loop forever, freezing
# every session.  Run by tests/lab/run.sh (or alone).
#   attack-fuzz-header-cr   a message whose header ends in a bare CR
#                           (APPENDed with "\r\r\n" as its empty line,
#                           or a Maildir file with CRLF line ends):
#                           FETCH 1 (BODY[HEADER] RFC822.HEADER
#                           BODY.PEEK[HEADER.FIELDS (Subject)]) answers
#   attack-fuzz-flags-nul   STORE 1 FLAGS (\Seen<NUL>) is answered
#   In both, a session opened before is still served after.
#   MAILSH=path   binary to test (default ./mailsh at the repo top)
#   LAB_KEEP=1    keep the temp dir
LAB_TMP=attack-fuzz
. "$(dirname "$0")/lib.sh"

if ! start a --allow-plaintext-auth; then
	echo "FAIL attack-fuzz-start"
	sed 's/^/    /' "$D/a.err" | tail -20
	exit 1
fi

python3 - "$D/a/ports" <<'PY'
import socket
import sys

ports = {}
for ln in open(sys.argv[1]):
    w = ln.split()
    if len(w) >= 2:
        ports[w[0]] = int(w[1])
SERVED = 20     # generous: a correct lab answers at once


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", ports["imap"]),
                                          timeout=SERVED)
        self.buf = b""
        self.line()
        self.send("l LOGIN alice alice-pass\r\n")
        self.until("l")

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed; buffered %r" % self.buf[-200:])
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def send(self, data):
        self.s.sendall(data.encode())

    def until(self, tag):
        seen = []
        while True:
            r = self.line()
            seen.append(r)
            if r.startswith(tag + " ") or r.startswith("* BYE"):
                return seen


failed = False


def case(name, fn):
    global failed
    problems = []
    try:
        h = Conn()          # another student, logged in before
        a = Conn()
        fn(a, problems)
        h.send("h NOOP\r\n")
        r = h.until("h")
        if not r[-1].startswith("h OK"):
            problems.append("NOOP of another session: %r" % r)
    except (OSError, EOFError, RuntimeError) as e:
        problems.append("%s: %r (the lab froze?)" % (type(e).__name__, e))
    if problems:
        failed = True
        print("FAIL " + name)
        for p in problems:
            print("    " + p)
    else:
        print("PASS " + name)


def header_cr(a, problems):
    msg = "Subject: crlf\r\nFrom: bob@lab.example\r\n\r\r\nbody\r\n"
    a.send("p APPEND INBOX {%d}\r\n" % len(msg))
    if not a.line().startswith("+"):
        raise RuntimeError("no go-ahead for APPEND")
    a.send(msg + "\r\n")
    r = a.until("p")
    if not r[-1].startswith("p OK"):
        problems.append("APPEND: %r" % r)
    a.send("s SELECT INBOX\r\nf FETCH 1 (BODY[HEADER] RFC822.HEADER "
           "BODY.PEEK[HEADER.FIELDS (Subject)])\r\n")
    a.until("s")
    r = a.until("f")
    if not r[-1].startswith("f OK") or r.count("Subject: crlf") != 3:
        problems.append("FETCH of the header: %r" % r)


def flags_nul(a, problems):
    a.send("s SELECT INBOX\r\nn STORE 1 FLAGS (\\Seen\0)\r\n")
    a.until("s")
    r = a.until("n")
    if r[-1].startswith("* BYE"):
        problems.append("STORE with a NUL: %r" % r)


case("attack-fuzz-header-cr", header_cr)
case("attack-fuzz-flags-nul", flags_nul)
sys.exit(1 if failed else 0)
PY
