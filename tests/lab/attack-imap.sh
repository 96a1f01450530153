#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/attack-imap.sh: hostile IMAP clients against `mailsh lab`
# (issue 12, findings 1, 7 and 8).  Run by tests/lab/run.sh (or alone).
# One lab with --port-base 0 and a temp --state; the ports file is
# polled for, never a fixed sleep.  While each attack runs, another
# client must be served: an IMAP NOOP in a session opened before, and
# the greeting of a new SMTP connection.  The bounds are generous (a
# correct lab answers at once however slow the machine; a broken one
# takes minutes), so no case depends on timing to pass.
#   attack-imap-list-wildcard  LIST/LSUB patterns that backtracked
#                              exponentially (100 "a" vs %%%%%%%b, 106 %
#                              + Z) end at once; a pattern over 255
#                              bytes gets NO [LIMIT]; RFC 3501 6.3.8
#                              matching still holds (INBOX in any case)
#   attack-imap-literal        {18446744073709551615}, 21+ digits and
#                              2^64 get BAD [TOOBIG], never "+"; the
#                              session goes on; {huge+} ends it with BYE
#   attack-imap-list-stream    200 mailboxes with 100-byte names: every
#                              LIST answers all 201, then OK, also when
#                              the client reads nothing for a while
#   attack-imap-pop3-lock      while POP3 holds bob's maildrop, IMAP
#                              EXPUNGE and STORE on INBOX get NO
#                              [INUSE], SELECT gives READ-ONLY; POP3
#                              RETR still works; after QUIT, EXPUNGE
#                              does (finding 9, first half)
#   attack-imap-sessions       a second session on the same mailbox
#                              hears of EXPUNGE (in IDLE at once, else
#                              at NOOP) and of POP3 DELE; its COPY of a
#                              later message then works (finding 9)
#   MAILSH=path   binary to test (default ./mailsh at the repo top)
#   LAB_KEEP=1    keep the temp dir
#   ATTACK_ONLY=NAME  run only that case
LAB_TMP=attack-imap
. "$(dirname "$0")/lib.sh"

if ! start a --allow-plaintext-auth; then
	echo "FAIL attack-imap-start"
	sed 's/^/    /' "$D/a.err" | tail -20
	exit 1
fi

# 200 mailboxes of alice with 100-byte names, made on disk (Maildir++)
mkdir -p "$D/a/mail/alice"
for k in $(seq -w 1 200); do
	b="$D/a/mail/alice/.box$k-$(printf 'x%.0s' $(seq 92))"
	mkdir -p "$b/cur" "$b/new" "$b/tmp"
done

python3 - "$D/a/ports" <<'EOF'
import os
import socket
import sys

ports = {}
for ln in open(sys.argv[1]):
    w = ln.split()
    if len(w) >= 2:
        ports[w[0]] = int(w[1])
SERVED = 20     # another client: answered at all within this (s)
ATTACK = 120    # the attacker's own answers: within this (s)
failed = False


class Conn:
    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed; buffered %r" % self.buf[-200:])
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def until(self, tag):
        """Lines up to and with the tagged reply (or a BYE)."""
        seen = []
        while True:
            r = self.line()
            seen.append(r)
            if r.startswith(tag + " ") or r.startswith("* BYE"):
                return seen


def imap(timeout, login=True, user="alice"):
    c = Conn(ports["imap"], timeout)
    g = c.line()
    if not g.startswith("* OK"):
        raise RuntimeError("greeting %r" % g)
    if login:
        c.send("l LOGIN %s %s-pass\r\n" % (user, user))
        r = c.until("l")
        if not r[-1].startswith("l OK"):
            raise RuntimeError("LOGIN: %r" % r)
    return c


def served(h):
    """Is another client served now?  h: an IMAP session opened before
    the attack.  Returns "" or what went wrong."""
    try:
        h.send("h NOOP\r\n")
        r = h.until("h")
        if not r[-1].startswith("h OK"):
            return "NOOP of another session: %r" % r
        s = Conn(ports["smtp"], SERVED)
        g = s.line()
        s.send("QUIT\r\n")
        s.s.close()
        if not g.startswith("220 "):
            return "SMTP greeting %r" % g
    except (OSError, EOFError) as e:
        return "another client was not served within %d s: %r" % (
            SERVED, e)
    return ""


def result(name, problems):
    global failed
    if problems:
        failed = True
        print("FAIL " + name)
        for p in problems:
            print("    " + p)
    else:
        print("PASS " + name)


def case(name, fn):
    if os.environ.get("ATTACK_ONLY", name) != name:
        return
    problems = []
    try:
        fn(problems)
    except (OSError, EOFError, RuntimeError) as e:
        problems.append("%s: %r" % (type(e).__name__, e))
    result(name, problems)


def want(problems, lines, tag, start, what):
    if not lines or not lines[-1].startswith(tag + " " + start):
        problems.append("%s: %r" % (what, lines[-3:]))


def list_wildcard(problems):
    h = imap(SERVED)
    a = imap(ATTACK)
    a.send("c CREATE %s\r\n" % ("a" * 100))
    want(problems, a.until("c"), "c", "OK", "CREATE")
    # exponential before: each of these kept the lab busy for seconds
    # to minutes; pipelined, they would freeze it for many minutes
    pats = ['"%%%%%%%b"'] * 3 + ['"' + "%" * 106 + 'Z"'] * 3
    cmds = ["w%d LIST \"\" %s\r\n" % (k, p) for k, p in enumerate(pats)]
    cmds.append("w9 LSUB \"\" \"*a*a*a*a*a*a*a*a*a*a*a*a*b\"\r\n")
    a.send("".join(cmds))
    why = served(h)
    if why:
        problems.append("while wildcard LISTs ran: " + why)
    for k in range(len(pats)):
        r = a.until("w%d" % k)
        want(problems, r, "w%d" % k, "OK", "LIST %s" % pats[k][:20])
        if len(r) != 1:
            problems.append("LIST %s matched %r" % (pats[k][:20], r))
    want(problems, a.until("w9"), "w9", "OK", "LSUB")
    # a pattern over the cap: refused before matching, session goes on
    a.send("t LIST \"\" \"%s\"\r\nt2 NOOP\r\n" % ("%" * 300))
    want(problems, a.until("t"), "t", "NO [LIMIT]", "300-byte pattern")
    want(problems, a.until("t2"), "t2", "OK", "NOOP after it")
    # RFC 3501 6.3.8 still: % and *, INBOX in any case, reference
    checks = [('"" "a%"', ["a" * 100]), ('"" "inbox"', ["INBOX"]),
              ('"" "InB*"', ["INBOX"]), ('"" "%b"', []),
              ('"a" "%"', ["a" * 100]), ('"" "a/%"', []),
              ('"" "%a%a%a%"', ["a" * 100])]
    for k, (args, names) in enumerate(checks):
        a.send("m%d LIST %s\r\n" % (k, args))
        r = a.until("m%d" % k)
        want(problems, r, "m%d" % k, "OK", "LIST %s" % args)
        got = sorted(x.split(" ")[-1].strip('"') for x in r[:-1]
                     if x.startswith("* LIST "))
        if got != sorted(names):
            problems.append("LIST %s gave %r" % (args, r))
    a.send("d DELETE %s\r\n" % ("a" * 100))
    want(problems, a.until("d"), "d", "OK", "DELETE")


def literal(problems):
    h = imap(SERVED)
    a = imap(ATTACK, login=False)
    huge = ["18446744073709551615", "18446744073709551616",
            "9" * 21, "1" + "0" * 40]
    for k, n in enumerate(huge):
        a.send("x%d LOGIN {%s}\r\n" % (k, n))
        r = a.line()
        if not r.startswith("x%d BAD [TOOBIG]" % k):
            problems.append("LOGIN {%s}: %r" % (n, r))
            return
    why = served(h)
    if why:
        problems.append("after huge literals: " + why)
    a.send("n NOOP\r\n")
    want(problems, a.until("n"), "n", "OK", "NOOP after TOOBIG")
    a.send("l LOGIN alice alice-pass\r\n")
    want(problems, a.until("l"), "l", "OK", "LOGIN after TOOBIG")
    for k, c in enumerate(["SELECT", "APPEND INBOX", "LIST \"\""]):
        a.send("y%d %s {%s}\r\n" % (k, c, huge[0]))
        r = a.line()        # APPEND: NO [TOOBIG] (RFC 4469, 7889)
        if not r.startswith("y%d BAD [TOOBIG]" % k) and not (
                k == 1 and r.startswith("y1 NO [TOOBIG]")):
            problems.append("%s {%s}: %r" % (c, huge[0], r))
    a.send("n2 NOOP\r\n")
    want(problems, a.until("n2"), "n2", "OK", "NOOP at the end")
    # LITERAL+: the octets would come anyway, so the session ends
    b = imap(ATTACK, login=False)
    b.send("p LOGIN {%s+}\r\n" % huge[0])
    r = b.until("p")
    if not r[-1].startswith("p BAD [TOOBIG]"):
        problems.append("LOGIN {%s+}: %r" % (huge[0], r))
    r = b.line()
    if not r.startswith("* BYE"):
        problems.append("after {%s+}: %r (want BYE)" % (huge[0], r))


def list_stream(problems):
    h = imap(SERVED)
    a = imap(ATTACK)
    # 201 lines of about 140 bytes: more than the lab's output buffer;
    # twenty of them asked for at once, read only after another client
    # was served
    n = 20
    a.send("".join("s%d LIST \"\" *\r\n" % k for k in range(n)))
    why = served(h)
    if why:
        problems.append("while LIST streamed: " + why)
    for k in range(n):
        r = a.until("s%d" % k)
        want(problems, r, "s%d" % k, "OK", "LIST *")
        lines = [x for x in r if x.startswith("* LIST ")]
        boxes = [x for x in lines if '"box' in x]
        if len(lines) != 201 or len(boxes) != 200 or \
                not any(x.endswith(" INBOX") for x in lines):
            problems.append("LIST %d: %d lines, %d boxes; last %r" % (
                k, len(lines), len(boxes), r[-2:]))
            break
    a.send("e NOOP\r\n")
    want(problems, a.until("e"), "e", "OK", "NOOP after the LISTs")
    a.send("f LSUB \"\" \"box1%\"\r\n")
    r = a.until("f")
    want(problems, r, "f", "OK", "LSUB box1%")
    if len([x for x in r if x.startswith("* LSUB ")]) != 100:
        problems.append("LSUB box1%%: %d lines" % (len(r) - 1))


def pop3_lock(problems):
    h = imap(SERVED)
    a = imap(ATTACK, user="bob")
    msg = b"Subject: lock\r\n\r\nkept while POP3 reads it\r\n"
    a.send(b"p APPEND INBOX {%d}\r\n" % len(msg))
    r = a.line()
    if not r.startswith("+"):
        problems.append("APPEND: %r" % r)
        return
    a.send(msg + b"\r\n")
    want(problems, a.until("p"), "p", "OK", "APPEND")
    a.send("s SELECT INBOX\r\n")
    want(problems, a.until("s"), "s", "OK [READ-WRITE]", "SELECT")
    a.send("d STORE 1 +FLAGS (\\Deleted)\r\n")
    want(problems, a.until("d"), "d", "OK", "STORE before POP3")
    p = Conn(ports["pop3"], ATTACK)
    for cmd in [None, "USER bob", "PASS bob-pass", "STAT"]:
        if cmd:
            p.send(cmd + "\r\n")
        r = p.line()
        if not r.startswith("+OK"):
            problems.append("POP3 %s: %r" % (cmd, r))
            return
    a.send("e EXPUNGE\r\n")
    want(problems, a.until("e"), "e", "NO [INUSE]", "EXPUNGE under POP3")
    a.send("f STORE 1 -FLAGS (\\Deleted)\r\n")
    want(problems, a.until("f"), "f", "NO [INUSE]", "STORE under POP3")
    a.send("g FETCH 1 BODY[]\r\n")
    want(problems, a.until("g"), "g", "OK", "FETCH under POP3")
    b = imap(ATTACK, user="bob")
    b.send("s SELECT INBOX\r\n")
    r = b.until("s")
    want(problems, r, "s", "OK [READ-ONLY]", "second SELECT under POP3")
    if not any(x.startswith("* NO [INUSE]") for x in r):
        problems.append("second SELECT: no * NO [INUSE]: %r" % r)
    why = served(h)
    if why:
        problems.append("under the POP3 lock: " + why)
    p.send("RETR 1\r\n")
    r = p.line()
    body = []
    while r.startswith("+OK"):
        ln = p.line()
        if ln == ".":
            break
        body.append(ln)
    if not r.startswith("+OK") or "kept while POP3 reads it" not in body:
        problems.append("POP3 RETR 1: %r %r" % (r, body[-3:]))
    p.send("QUIT\r\n")
    p.line()
    a.send("x EXPUNGE\r\n")
    r = a.until("x")
    want(problems, r, "x", "OK", "EXPUNGE after POP3 QUIT")
    if "* 1 EXPUNGE" not in r:
        problems.append("EXPUNGE after POP3 QUIT: %r" % r)


def sessions(problems):
    h = imap(SERVED)
    a = imap(ATTACK)
    for k in range(4):
        msg = b"Subject: m%d\r\n\r\nbody %d\r\n" % (k, k)
        a.send(b"p%d APPEND INBOX {%d+}\r\n" % (k, len(msg)) + msg +
               b"\r\n")
        want(problems, a.until("p%d" % k), "p%d" % k, "OK", "APPEND")
    a.send("c CREATE Archive\r\n")
    want(problems, a.until("c"), "c", "OK", "CREATE Archive")
    views = []
    for name in ["b", "n"]:
        v = imap(ATTACK)
        v.send("s SELECT INBOX\r\n")
        r = v.until("s")
        want(problems, r, "s", "OK", "SELECT (%s)" % name)
        if "* 4 EXISTS" not in r:
            problems.append("SELECT (%s): %r" % (name, r))
        views.append(v)
    b, n = views
    b.send("i IDLE\r\n")
    r = b.line()
    if not r.startswith("+"):
        problems.append("IDLE: %r" % r)
    a.send("s SELECT INBOX\r\n")
    want(problems, a.until("s"), "s", "OK", "SELECT (a)")
    a.send("d STORE 2 +FLAGS.SILENT (\\Deleted)\r\ne EXPUNGE\r\n")
    want(problems, a.until("d"), "d", "OK", "STORE")
    want(problems, a.until("e"), "e", "OK", "EXPUNGE")
    r = b.line()       # IDLE hears of it at once
    if r != "* 2 EXPUNGE":
        problems.append("IDLE after EXPUNGE: %r" % r)
    b.send("DONE\r\n")
    want(problems, b.until("i"), "i", "OK", "IDLE DONE")
    n.send("o NOOP\r\n")
    r = n.until("o")
    want(problems, r, "o", "OK", "NOOP")
    if "* 2 EXPUNGE" not in r:
        problems.append("NOOP after EXPUNGE: %r" % r)
    why = served(h)
    if why:
        problems.append("between the sessions: " + why)
    # the old message 3 is 2 now in every view: COPY it
    for v, name in [(b, "b"), (n, "n")]:
        v.send("y FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n"
               "z COPY 2 Archive\r\n")
        r = v.until("y")
        if not any("m2" in x for x in r):
            problems.append("FETCH 2 (%s): %r" % (name, r))
        want(problems, v.until("z"), "z", "OK", "COPY 2 (%s)" % name)
    # POP3 deletes message 1 (the old m0): n hears of it at NOOP
    p = Conn(ports["pop3"], ATTACK)
    for cmd in [None, "USER alice", "PASS alice-pass", "DELE 1", "QUIT"]:
        if cmd:
            p.send(cmd + "\r\n")
        r = p.line()
        if not r.startswith("+OK"):
            problems.append("POP3 %s: %r" % (cmd, r))
            return
    n.send("o2 NOOP\r\n")
    r = n.until("o2")
    if "* 1 EXPUNGE" not in r or not r[-1].startswith("o2 OK"):
        problems.append("NOOP after POP3 DELE: %r" % r)


case("attack-imap-list-wildcard", list_wildcard)
case("attack-imap-literal", literal)
case("attack-imap-list-stream", list_stream)
case("attack-imap-pop3-lock", pop3_lock)
case("attack-imap-sessions", sessions)
sys.exit(1 if failed else 0)
EOF
