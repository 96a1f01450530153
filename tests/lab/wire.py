#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""wire.py: raw-socket checks against a running `mailsh lab`, for
tests/lab/run.sh.  Each subcommand exits 0 when the check holds, else
prints what it saw and exits 1.  Loopback only; every read has a
timeout so a broken lab fails the case instead of hanging it.

  wire.py toolong smtp|pop3|imap PORT 100 KB line: error, then still OK
  wire.py inject PORT CA yes|no       CVE-2011-0411: is a command
                                      pipelined after STARTTLS run?
  wire.py inuse PORT CA               second POP3 login gets [IN-USE]
  wire.py limit PORT N                connection N+1 from us gets 421
  wire.py idle PORT                   an idle session is told 421 4.4.2
  wire.py nul PORT                    NUL byte in a command: 500, alive
  wire.py smuggle PORT strict|lax     "\n.\n" in DATA: the end of the
                                      text only in lax (SMTP smuggling)
  wire.py stream PORT ACKS            deliver until the lab dies; write
                                      each acknowledged marker to ACKS
  wire.py idle_imap IMAP SMTP         IDLE hears of a delivery at once
                                      (plaintext LOGIN: lax profile)
  wire.py held PORT                   hold a session open, print "ready",
                                      then print every line received
  wire.py imap PORT CA < script       IMAPS session: each stdin line is a
                                      tagged command ("LIT text" first
                                      gives the literal for the next
                                      "+"); prints the transcript
  wire.py endless_literal PORT CA     IMAPS: {999999999} before and after
                                      login gets TOOBIG at once (no "+");
                                      while that client floods data, a
                                      second session works; a line end
                                      then brings the first one back
  wire.py literal_plus PORT CA        IMAPS: refused LITERAL+ literals
                                      ({N+} over the limits) are skipped
                                      and the next command is answered
  wire.py crowd N ADDRS PORTS...      hold N idle connections, spread
                                      over source ADDRS (comma list) and
                                      PORTS (name=port; smtp, pop3 and
                                      imap ones must greet); print
                                      "ready N", hold until stdin closes
  wire.py mitm_inject PORT CA         SMTP through `--mitm inject`: the
                                      plaintext after the 220 go-ahead
                                      shows the injection; TLS to the lab
                                      still verifies
"""
import socket
import ssl
import sys
import threading

TIMEOUT = 20


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)),
                                          timeout=TIMEOUT)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed; buffered %r" % self.buf)
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """One SMTP reply (all lines) or one POP3 status line."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def tls(self, ca):
        ctx = ssl.create_default_context(cafile=ca)
        self.s = ctx.wrap_socket(self.s, server_hostname="localhost")


def fail(msg):
    print(msg)
    sys.exit(1)


def toolong(proto, port):
    c = Conn(port)
    c.line()
    c.send(b"x" * 100000 + b"\r\n")
    r = c.line()
    want = {"smtp": "500 5.5.2", "pop3": "-ERR", "imap": "* BAD"}[proto]
    if not r.startswith(want):
        fail("overlong line: got %r, want %s" % (r, want))
    c.send("a1 NOOP\r\n" if proto == "imap" else "NOOP\r\n")
    r = c.line()
    # POP3 answers -ERR: NOOP before login
    want = {"smtp": "250", "pop3": "-ERR", "imap": "a1 OK"}[proto]
    if not r.startswith(want):
        fail("after the overlong line: got %r" % r)


def inject(port, ca, vulnerable):
    c = Conn(port)
    c.line()
    c.send("EHLO t\r\n")
    c.reply()
    # HELP pipelined in the same packet as STARTTLS
    c.send("STARTTLS\r\nHELP\r\n")
    r = c.line()
    if not r.startswith("220"):
        fail("STARTTLS: %r" % r)
    if c.buf:
        fail("bytes after the 220: %r" % c.buf)
    c.tls(ca)
    c.send("NOOP\r\n")
    r = c.line()
    ran = r.startswith("214")
    if ran != (vulnerable == "yes"):
        fail("first reply inside TLS %r (vulnerable=%s)" % (r, vulnerable))


def inuse(port, ca):
    a = Conn(port)
    a.line()
    a.send("STLS\r\n")
    a.line()
    a.tls(ca)
    a.send("USER alice\r\nPASS alice-pass\r\n")
    a.line()
    r = a.line()
    if not r.startswith("+OK"):
        fail("first login: %r" % r)
    b = Conn(port)
    b.line()
    b.send("STLS\r\n")
    b.line()
    b.tls(ca)
    b.send("AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=\r\n")
    r = b.line()
    if not r.startswith("-ERR [IN-USE]"):
        fail("second login: %r" % r)
    a.send("QUIT\r\n")
    a.line()
    b.send("AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=\r\n")
    r = b.line()
    if not r.startswith("+OK"):
        fail("login after the first QUIT: %r" % r)


def limit(port, n):
    held = []
    for _ in range(int(n)):
        c = Conn(port)
        if not c.line().startswith("220"):
            fail("greeting")
        held.append(c)
    c = Conn(port)
    r = c.line()
    if not r.startswith("421 4.7.0"):
        fail("connection over the limit: %r" % r)
    held[0].send("NOOP\r\n")
    if not held[0].line().startswith("250"):
        fail("a session under the limit stopped")


def idle(port):
    c = Conn(port)
    c.line()
    r = c.line()
    if not r.startswith("421 4.4.2"):
        fail("idle: %r" % r)


def nul(port):
    c = Conn(port)
    c.line()
    c.send(b"NO\0OP\r\n")
    r = c.line()
    if not r.startswith("500"):
        fail("NUL: %r" % r)
    c.send("NOOP\r\n")
    if not c.line().startswith("250"):
        fail("after NUL")


def smuggle(port, profile):
    c = Conn(port)
    c.line()
    c.send("HELO t\r\nMAIL FROM:<>\r\nRCPT TO:<alice@lab.example>\r\n"
           "DATA\r\n")
    for _ in range(4):
        r = c.line()
    if not r.startswith("354"):
        fail("DATA: %r" % r)
    c.send("Subject: s\r\n\r\nhello\n.\nNOOP\r\n.\r\n")
    r1 = c.line()
    if profile == "strict":
        if not r1.startswith("554 5.5.2"):
            fail("strict: %r" % r1)
        return
    r2 = c.line()
    if not (r1.startswith("250 2.0.0 Ok: queued") and
            r2.startswith("250 2.0.0 Ok")):
        fail("lax: %r %r" % (r1, r2))


def body(i):
    return "".join("marker %d line %d %s\r\n" % (i, k, "x" * 60)
                   for k in range(200))


def stream(port, acks):
    out = open(acks, "w")
    try:
        c = Conn(port)
        c.line()
        c.send("EHLO t\r\n")
        c.reply()
        i = 0
        while True:
            i += 1
            c.send("MAIL FROM:<t@example.org>\r\n"
                   "RCPT TO:<bob@lab.example>\r\nDATA\r\n")
            for _ in range(3):
                r = c.line()
            if not r.startswith("354"):
                fail("DATA: %r" % r)
            c.send("Subject: stream %d\r\n\r\n%s.\r\n" % (i, body(i)))
            r = c.line()
            if not r.startswith("250"):
                fail("end of data: %r" % r)
            out.write("%d\n" % i)
            out.flush()
    except (EOFError, OSError):
        pass


def idle_imap(iport, sport):
    c = Conn(iport)
    user = "bob"
    if c.line().startswith("* PREAUTH"):   # --preauth: as alice
        user = "alice"
    else:
        c.send("a LOGIN bob bob-pass\r\n")
    c.send("b SELECT INBOX\r\n")
    while not c.line().startswith("b OK"):
        pass
    c.send("c IDLE\r\n")
    if not c.line().startswith("+"):
        fail("no IDLE continuation")
    s = Conn(sport)
    s.line()
    s.send("HELO t\r\nMAIL FROM:<>\r\nRCPT TO:<%s@lab.example>\r\n"
           "DATA\r\n" % user)
    for _ in range(4):
        s.line()
    s.send("Subject: live\r\n\r\nhi\r\n.\r\n")
    if not s.line().startswith("250"):
        fail("delivery")
    r = c.line()
    if not (r.startswith("* ") and r.endswith(" EXISTS")):
        fail("IDLE: got %r" % r)
    c.line()  # RECENT
    c.send("DONE\r\n")
    r = c.line()
    if not r.startswith("c OK"):
        fail("DONE: %r" % r)


def held(port):
    c = Conn(port)
    print(c.line(), flush=True)
    print("ready", flush=True)
    try:
        while True:
            print(c.line(), flush=True)
    except (EOFError, OSError):
        pass


def imap(port, ca):
    c = Conn(port)
    c.tls(ca)
    print(c.line())
    lit = None
    for ln in sys.stdin.read().splitlines():
        if ln.startswith("LIT "):
            lit = ln[4:].encode().decode("unicode_escape").encode("latin-1")
            continue
        c.send(ln + "\r\n")
        tag = ln.split()[0]
        if "{" in ln and ln.rstrip().endswith("+}") and lit is not None:
            c.send(lit + b"\r\n")
            lit = None
        while True:
            got = c.line()
            print(got, flush=True)
            if got.startswith("+ ") and lit is not None:
                c.send(lit + b"\r\n")
                lit = None
            if got.startswith(tag + " ") or got.startswith("* BYE"):
                break


def imaps(port, ca, login=None):
    c = Conn(port)
    c.tls(ca)
    g = c.line()
    if not g.startswith("* OK"):
        fail("greeting %r" % g)
    if login:
        c.send("l LOGIN %s %s-pass\r\n" % (login, login))
        r = c.line()
        if not r.startswith("l OK"):
            fail("LOGIN %s: %r" % (login, r))
    return c


def until_tag(c, tag):
    """Lines up to the tagged reply; returns them all."""
    seen = []
    while True:
        r = c.line()
        seen.append(r)
        if r.startswith(tag + " "):
            return seen


def endless_literal(port, ca):
    # not logged in: a command literal far over the command limit
    c = imaps(port, ca)
    c.send("a LOGIN alice {999999999}\r\n")
    r = c.line()
    if r.startswith("+") or "TOOBIG" not in r:
        fail("LOGIN {999999999}: %r" % r)
    # logged in: APPEND far over --max-size
    a = imaps(port, ca, "alice")
    a.send("b APPEND INBOX {999999999}\r\n")
    r = a.line()
    if r.startswith("+") or not r.startswith("b NO [TOOBIG]"):
        fail("APPEND {999999999}: %r" % r)
    # ... and the client sends its data anyway, endlessly
    sent = [0]
    stop = threading.Event()
    err = []

    def flood():
        chunk = b"A" * 65536
        try:
            while not stop.is_set():
                a.s.sendall(chunk)
                sent[0] += len(chunk)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=flood, daemon=True)
    t.start()
    while sent[0] < 4 << 20 and t.is_alive():     # 4 MiB in flight
        threading.Event().wait(0.01)
    # another client is served while the flood goes on
    b = imaps(port, ca, "bob")
    b.send("s SELECT INBOX\r\nn NOOP\r\nz LOGOUT\r\n")
    got = until_tag(b, "z")
    if not any(x.startswith("s OK") for x in got) or \
            not got[-1].startswith("z OK"):
        fail("second session during the flood: %r" % got)
    # the lab still reads the flood (it was not stuck on it)
    mark = sent[0]
    while sent[0] < mark + (4 << 20) and t.is_alive():
        threading.Event().wait(0.01)
    if err or not t.is_alive():
        fail("the flooding session was cut: %r after %d bytes" % (err, sent[0]))
    stop.set()
    t.join()
    a.send("\r\nc NOOP\r\n")
    got = until_tag(a, "c")
    if not got[-1].startswith("c OK"):
        fail("after the flood: %r" % got)
    print("flooded %d bytes; then %r" % (sent[0], got))


def literal_plus(port, ca):
    def step(what, c, tag):
        try:
            got = until_tag(c, tag)
        except (EOFError, OSError) as e:
            fail("%s: no %s reply (%s); buffered %r" % (what, tag, e, c.buf))
        if not got[-1].startswith(tag + " OK"):
            fail("%s: %r" % (what, got))
        return got
    # a refused LITERAL+ literal: its octets come anyway and the lab
    # cannot count them reliably (lines too long are dropped unread), so
    # it answers the tag with BAD [TOOBIG], says BYE and closes; other
    # sessions go on
    for what, lit in (("short lines", b"".join(
            b"line %05d %s\r\n" % (k, b"y" * 80) for k in range(1200))),
            ("one long line", b"C" * 100000)):
        c = imaps(port, ca)
        c.send(b"a LOGIN alice {%d+}\r\n" % len(lit))
        try:
            got = until_tag(c, "a")
            bye = c.line()
        except (EOFError, OSError) as e:
            fail("refused LOGIN {n+} of %s: %s; buffered %r"
                 % (what, e, c.buf))
        if not got[-1].startswith("a BAD [TOOBIG]") or \
                not bye.startswith("* BYE"):
            fail("refused LOGIN {n+} of %s: %r %r" % (what, got, bye))
        try:
            c.send(lit + b" x\r\nb NOOP\r\n")
            extra = c.line()
            fail("refused LOGIN {n+} of %s: still open: %r"
                 % (what, extra))
        except (EOFError, OSError):
            pass
        ok = imaps(port, ca)
        ok.send(b"z NOOP\r\n")
        step("a new session after the refused {n+} of %s" % what, ok, "z")
    # an APPEND over --max-size (default 10 MiB) with LITERAL+: the lab
    # reads the announced octets and refuses the message
    a = imaps(port, ca, "alice")
    n = 10485761
    a.send(b"c APPEND INBOX {%d+}\r\n" % n)
    a.send(b"B" * n + b"\r\nd NOOP\r\n")
    got = step("after a refused APPEND {%d+}" % n, a, "d")
    if not any(x.startswith("c NO [TOOBIG]") for x in got):
        fail("APPEND {%d+}: no NO [TOOBIG]: %r" % (n, got))


def crowd(n, addrs, *ports):
    n = int(n)
    addrs = addrs.split(",")
    targets = [p.split("=") for p in ports]
    held = []
    for k in range(n):
        name, port = targets[k % len(targets)]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((addrs[k % len(addrs)], 0))
        s.settimeout(TIMEOUT)
        s.connect(("127.0.0.1", int(port)))
        if name in ("smtp", "pop3", "imap"):
            g = s.recv(512)
            ok = {"smtp": b"220 ", "pop3": b"+OK", "imap": b"* OK"}[name]
            if not g.startswith(ok):
                fail("connection %d to %s: %r" % (k, name, g))
        held.append(s)
    print("ready %d" % len(held), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


def mitm_inject(port, ca):
    c = Conn(port)
    c.line()
    c.send("EHLO pc.example\r\n")
    r = c.reply()
    if not any("STARTTLS" in x for x in r):
        fail("no STARTTLS offered: %r" % r)
    c.send("STARTTLS\r\n")
    r = c.line()
    if not r.startswith("220"):
        fail("STARTTLS: %r" % r)
    injected = c.reply()     # what the man in the middle added
    if not injected[-1].endswith("injected"):
        fail("after the go-ahead: %r" % injected)
    c.tls(ca)                # the lab's own certificate, via the proxy
    c.send("EHLO pc.example\r\n")
    r = c.reply()
    if not any(x.startswith("250-AUTH PLAIN LOGIN") or
               x.startswith("250 AUTH PLAIN LOGIN") for x in r) or \
            any("injected" in x for x in r):
        fail("EHLO inside TLS: %r" % r)
    c.send("QUIT\r\n")
    c.line()
    print("injected in plaintext: %r" % injected)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"toolong": toolong, "inject": inject, "inuse": inuse,
          "limit": limit, "idle": idle, "nul": nul, "stream": stream,
          "held": held, "idle_imap": idle_imap, "imap": imap,
          "smuggle": smuggle, "endless_literal": endless_literal,
          "literal_plus": literal_plus, "crowd": crowd,
          "mitm_inject": mitm_inject}[cmd]
    try:
        fn(*args)
    except (EOFError, OSError, ssl.SSLError) as e:
        fail("%s: %s" % (cmd, e))


if __name__ == "__main__":
    main()
