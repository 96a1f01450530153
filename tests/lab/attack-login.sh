#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/attack-login.sh: issue 12, finding 10: a password check
# (PBKDF2) must not stop the lab.  STATE/users gives alice a hash of
# 5,000,000 rounds (a second or more a check) and carol one of
# 1,000,000, both with a random salt and hash (no password matches, and
# a wrong one costs the same); bob has a real 20000-round hash.  Clients are raw sockets (tests/lab's Python); every case
# asserts the order of replies, never a duration.
#  - IMAP LOGIN, SMTP AUTH PLAIN, POP3 USER/PASS as alice, each with a
#    NOOP pipelined behind it: while it is checked another client gets
#    its greeting and its NOOP answered, and the waiting client gets
#    nothing; then its failure, then its NOOP, in order (the lab before
#    this fix answered the other client only after the check);
#  - --login-rate 3: three wrong logins from 127.0.0.1 get
#    AUTHENTICATIONFAILED, the fourth, and a right one, NO [UNAVAILABLE]
#    (SMTP 454 4.7.0, POP3 -ERR [SYS/TEMP]); bob logs in from
#    127.0.0.2, and logins that succeed do not count (127.0.0.3, five
#    in a row);
#  - the queue of the password workers full (MAILSH_TEST_AUTH_QUEUE=0):
#    IMAP LOGIN and AUTHENTICATE, SMTP AUTH, POP3 PASS get the
#    temporary failure, the command pipelined after each is answered
#    after it, and the login rate taken is given back;
#  - clients that disconnect while carol's password is checked (a reset
#    and a plain close): the lab stays healthy (under `make asan` a use
#    after free would end it), and says nothing about memory.
# Run by tests/lab/run.sh (MAILSH=binary); prints PASS/FAIL lines.
LAB_TMP=lablogin
. "$(dirname "$0")/lib.sh"

# users NAME: STATE/users as above, written before the lab starts
users() {
	mkdir -p "$D/$1" && chmod 700 "$D/$1"
	python3 - "$D/$1/users" <<'PY'
import base64, hashlib, os, sys
def b64(b): return base64.b64encode(b).decode()
def rnd(name, rounds):
    return "%s:pbkdf2-sha256$%d$%s$%s" % (name, rounds, b64(os.urandom(16)),
                                          b64(os.urandom(32)))
salt = os.urandom(16)
dk = hashlib.pbkdf2_hmac("sha256", b"bob-pass", salt, 20000, 32)
with open(sys.argv[1], "w") as f:
    f.write(rnd("alice", 5000000) + "\n")
    f.write("bob:pbkdf2-sha256$20000$%s$%s\n" % (b64(salt), b64(dk)))
    f.write(rnd("carol", 1000000) + "\n")
os.chmod(sys.argv[1], 0o600)
PY
}

cat >"$D/login.py" <<'PY'
import base64, select, socket, struct, sys, time

class Conn:
    """A plaintext session; every read waits at most 120 s."""
    def __init__(self, port, src="127.0.0.1"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120,
                                          source_address=(src, 0))
        self.buf = b""
    def send(self, text):
        self.s.sendall(text.encode())
    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise SystemExit("connection closed; had %r" % self.buf)
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode(errors="replace").rstrip("\r")
    def until(self, pred):
        """Lines up to and including the first one pred accepts."""
        got = []
        while True:
            l = self.line()
            got.append(l)
            if pred(l):
                return got
    def quiet(self):
        """Nothing has arrived (nothing buffered, nothing readable)."""
        if self.buf:
            return False
        r, _, _ = select.select([self.s], [], [], 0)
        return not r
    def reset(self):
        """Close with a TCP reset (SO_LINGER 0)."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        self.s.close()

def plain(user, pw):
    return base64.b64encode(b"\0" + user + b"\0" + pw).decode()

def expect(what, line, *want):
    if not any(w in line for w in want):
        raise SystemExit("%s: got %r, wanted %s" % (what, line, want))

def smtp_greet(c):
    c.until(lambda l: l[:4] == "220 ")
    c.send("EHLO pc.example\r\n")
    c.until(lambda l: l[:4] == "250 ")

def pop3_greet(c):
    expect("POP3 greeting", c.line(), "+OK")

def imap_greet(c):
    expect("IMAP greeting", c.line(), "* OK")

def order(proto, port):
    """A slow check, a second client served meanwhile, then in order."""
    a = Conn(port)
    if proto == "imap":
        imap_greet(a)
        a.send("a1 LOGIN alice wrong-pass\r\na2 NOOP\r\n")
    elif proto == "smtp":
        smtp_greet(a)
        a.send("AUTH PLAIN %s\r\nNOOP\r\n" % plain(b"alice", b"wrong"))
    else:
        pop3_greet(a)
        a.send("USER alice\r\n")
        expect("USER", a.line(), "+OK")
        a.send("PASS wrong-pass\r\nCAPA\r\n")
    b = Conn(port)
    if proto == "imap":
        imap_greet(b)
        b.send("b1 NOOP\r\n")
        r = b.until(lambda l: l.startswith("b1 "))[-1]
    elif proto == "smtp":
        smtp_greet(b)
        b.send("NOOP\r\n")
        r = b.line()
    else:
        pop3_greet(b)
        b.send("CAPA\r\n")
        r = b.line()
        b.until(lambda l: l == ".")
    if not a.quiet():
        raise SystemExit("%s: the login was answered before the other "
                         "client (%r): the check ran on the loop"
                         % (proto, a.buf or a.line()))
    if proto == "imap":
        expect("other client", r, "b1 OK")
        got = a.until(lambda l: l.startswith("a2 "))
        if len(got) != 2 or not got[0].startswith("a1 NO "):
            raise SystemExit("imap order: %r" % got)
        expect("LOGIN", got[0], "[AUTHENTICATIONFAILED]")
    elif proto == "smtp":
        expect("other client", r, "250")
        got = [a.line(), a.line()]
        expect("AUTH", got[0], "535 5.7.8")
        expect("NOOP after AUTH", got[1], "250")
    else:
        expect("other client", r, "+OK")
        got = [a.line(), a.line()]
        expect("PASS", got[0], "-ERR [AUTH]")
        expect("CAPA after PASS", got[1], "+OK")
    print("%s: other client served during the check; then %s"
          % (proto, " | ".join(got)))

def imap_login(port, src, user, pw):
    c = Conn(port, src)
    imap_greet(c)
    c.send("t LOGIN %s %s\r\n" % (user, pw))
    return c, c.until(lambda l: l.startswith("t "))[-1]

mode = sys.argv[1]
if mode == "order":
    for proto, port in zip(("imap", "smtp", "pop3"), sys.argv[2:5]):
        order(proto, int(port))
elif mode == "rate":
    imap, smtp, pop3 = (int(x) for x in sys.argv[2:5])
    for i in range(3):
        _, r = imap_login(imap, "127.0.0.1", "bob", "wrong-pass")
        expect("wrong login %d" % (i + 1), r, "NO [AUTHENTICATIONFAILED]")
    _, r = imap_login(imap, "127.0.0.1", "bob", "wrong-pass")
    expect("fourth wrong login", r, "NO [UNAVAILABLE]")
    _, r = imap_login(imap, "127.0.0.1", "bob", "bob-pass")
    expect("right login, limited address", r, "NO [UNAVAILABLE]")
    s = Conn(smtp)
    smtp_greet(s)
    s.send("AUTH PLAIN %s\r\n" % plain(b"bob", b"bob-pass"))
    expect("SMTP AUTH, limited address", s.line(), "454 4.7.0")
    p = Conn(pop3)
    pop3_greet(p)
    p.send("USER bob\r\nPASS bob-pass\r\n")
    expect("USER", p.line(), "+OK")
    expect("POP3 PASS, limited address", p.line(), "-ERR [SYS/TEMP]")
    c, r = imap_login(imap, "127.0.0.2", "bob", "bob-pass")
    expect("bob from 127.0.0.2", r, "t OK")
    for i in range(5):
        _, r = imap_login(imap, "127.0.0.3", "bob", "bob-pass")
        expect("login %d that succeeds" % (i + 1), r, "t OK")
    print("limited: UNAVAILABLE, 454 4.7.0, [SYS/TEMP]; others served")
elif mode == "gone":
    imap = int(sys.argv[2])
    for how in ("reset", "close", "reset", "close"):
        c = Conn(imap)
        imap_greet(c)
        c.send("g LOGIN carol wrong-pass\r\ng2 NOOP\r\n")
        time.sleep(0.05)
        c.reset() if how == "reset" else c.s.close()
    # four more checks: with the workers first-come first-served, their
    # answers come only after the four above were done with
    probes = []
    for i in range(4):
        c = Conn(imap)
        imap_greet(c)
        c.send("p LOGIN carol wrong-pass\r\n")
        probes.append(c)
    for c in probes:
        expect("probe", c.until(lambda l: l.startswith("p "))[-1],
               "[AUTHENTICATIONFAILED]")
    c, r = imap_login(imap, "127.0.0.1", "bob", "bob-pass")
    expect("bob after", r, "t OK")
    c.send("n NOOP\r\n")
    expect("NOOP after", c.until(lambda l: l.startswith("n "))[-1], "n OK")
    print("healthy after clients left during the check")
elif mode == "full":
    # MAILSH_TEST_AUTH_QUEUE=0: every check finds the queue full
    imap, smtp, pop3 = (int(x) for x in sys.argv[2:5])
    c = Conn(imap)
    imap_greet(c)
    c.send("a1 LOGIN bob bob-pass\r\na2 NOOP\r\n")
    got = c.until(lambda l: l.startswith("a2 "))
    if len(got) != 2:
        raise SystemExit("imap full: %r" % got)
    expect("LOGIN, queue full", got[0], "a1 NO [UNAVAILABLE]")
    expect("NOOP after it", got[1], "a2 OK")
    c.send("a3 AUTHENTICATE PLAIN %s\r\na4 LOGIN bob bob-pass\r\n"
           % plain(b"bob", b"bob-pass"))
    got += c.until(lambda l: l.startswith("a4 "))
    expect("AUTHENTICATE, queue full", got[2], "a3 NO [UNAVAILABLE]")
    expect("LOGIN again, queue full", got[3], "a4 NO [UNAVAILABLE]")
    c.send("a5 LOGOUT\r\n")
    c.until(lambda l: l.startswith("a5 "))
    s = Conn(smtp)
    smtp_greet(s)
    s.send("AUTH PLAIN %s\r\nNOOP\r\nQUIT\r\n" % plain(b"bob", b"bob-pass"))
    sg = [s.line(), s.line()]
    expect("SMTP AUTH, queue full", sg[0], "454 4.7.0")
    expect("NOOP after AUTH", sg[1], "250")
    s.until(lambda l: l[:4] == "221 ")
    p = Conn(pop3)
    pop3_greet(p)
    p.send("USER bob\r\n")
    expect("USER", p.line(), "+OK")
    p.send("PASS bob-pass\r\nCAPA\r\n")
    pg = [p.line(), p.line()]
    expect("POP3 PASS, queue full", pg[0], "-ERR [SYS/TEMP]")
    expect("CAPA after PASS", pg[1], "+OK")
    p.until(lambda l: l == ".")
    p.send("QUIT\r\n")
    p.line()
    print("queue full: %s" % " | ".join(got + sg + pg))
elif mode == "hold":
    c = Conn(int(sys.argv[2]))
    imap_greet(c)
    c.send("h LOGIN alice wrong-pass\r\n")
    o = Conn(int(sys.argv[2]))   # served after the LOGIN was read
    imap_greet(o)
    o.send("o NOOP\r\n")
    o.until(lambda l: l.startswith("o "))
    print("sent", flush=True)
    try:
        c.until(lambda l: l.startswith("* BYE"))
    except SystemExit:
        pass
PY

users order
if start order --allow-plaintext-auth; then
	if python3 "$D/login.py" order "$(port order imap)" \
	    "$(port order smtp)" "$(port order pop3)" >"$D/order.log" 2>&1; then
		pass "a slow password check: other clients served meanwhile, pipelined commands after it, in order (IMAP, SMTP, POP3)"
	else
		fail "a slow password check: other clients served meanwhile, pipelined commands after it, in order (IMAP, SMTP, POP3)" \
		    "$D/order.log" "$D/order.err"
	fi
else
	fail "lab starts (order)" "$D/order.err"
fi

users rate
if start rate --allow-plaintext-auth --login-rate 3; then
	if python3 "$D/login.py" rate "$(port rate imap)" \
	    "$(port rate smtp)" "$(port rate pop3)" >"$D/rate.log" 2>&1; then
		pass "--login-rate 3: the fourth failure from one address gets NO [UNAVAILABLE] / 454 4.7.0 / -ERR [SYS/TEMP]; other addresses log in"
	else
		fail "--login-rate 3: the fourth failure from one address gets NO [UNAVAILABLE] / 454 4.7.0 / -ERR [SYS/TEMP]; other addresses log in" \
		    "$D/rate.log" "$D/rate.err"
	fi
else
	fail "lab starts (rate)" "$D/rate.err"
fi

# the password workers' queue full (MAILSH_TEST_AUTH_QUEUE=0, tests
# only): the temporary failure of each protocol, the pipelined command
# after it answered in order, and the login rate given back (with
# --login-rate 1 a spent one would say "login rate limit" in the log)
users full
if MAILSH_TEST_AUTH_QUEUE=0 start full --allow-plaintext-auth --login-rate 1
then
	python3 "$D/login.py" full "$(port full imap)" "$(port full smtp)" \
	    "$(port full pop3)" >"$D/full.log" 2>&1
	st=$?
	kill -TERM "$LAB_PID"
	wait "$LAB_PID"		# the session log lines are written now
	if [ $st = 0 ] &&
	    [ "$(grep -o 'auth: 0 checks queued' "$D/full.err" | wc -l)" = 5 ] &&
	    ! grep -q 'login rate limit' "$D/full.err"; then
		pass "password queue full: NO [UNAVAILABLE] / 454 4.7.0 / -ERR [SYS/TEMP], the next command answered after it, the login rate given back"
	else
		fail "password queue full: NO [UNAVAILABLE] / 454 4.7.0 / -ERR [SYS/TEMP], the next command answered after it, the login rate given back" \
		    "$D/full.log" "$D/full.err"
	fi
else
	fail "lab starts (full)" "$D/full.err"
fi

users gone
if start gone --allow-plaintext-auth; then
	if python3 "$D/login.py" gone "$(port gone imap)" >"$D/gone.log" 2>&1 &&
	    kill -0 "$LAB_PID" 2>/dev/null &&
	    ! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$D/gone.err"; then
		pass "clients gone during a password check: the lab stays healthy"
	else
		fail "clients gone during a password check: the lab stays healthy" \
		    "$D/gone.log" "$D/gone.err"
	fi
	# a clean stop while alice's check runs: no leak, no crash
	coproc HOLD { python3 "$D/login.py" hold "$(port gone imap)" 2>&1; }
	read -r -t 120 ready <&"${HOLD[0]}"
	kill -TERM "$LAB_PID"
	wait "$LAB_PID"
	st=$?
	if [ "${ready:-}" = sent ] && [ "$st" = 0 ] &&
	    ! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$D/gone.err"; then
		pass "SIGTERM during password checks: clean exit"
	else
		fail "SIGTERM during password checks: clean exit (status $st)" "$D/gone.err"
	fi
else
	fail "lab starts (gone)" "$D/gone.err"
fi
exit $FAILED
