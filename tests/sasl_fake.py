#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""sasl_fake.py: a tiny SMTP / POP3 / IMAP server that checks SASL
exchanges, for tests/sasl.sh.  The server side of every mechanism is
computed here independently of mailsh (Python hashlib/hmac), so a wrong
computation in mailsh fails the login.

    sasl_fake.py --proto smtp|pop3|imap --user U --secret S [--badsig]
                 [--no-sasl-ir] [--log FILE]

Serves one connection on 127.0.0.1 (port 0; prints "PORT n" first), then
exits.  --badsig: the SCRAM server signature sent is wrong (mailsh must
refuse the session).  --no-sasl-ir: IMAP without SASL-IR.  --log: every
decoded client message, one per line (repr), for the test to inspect.
Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import os
import socket
import sys

MECHS = "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER"


class Conn:
    def __init__(self, sock, proto):
        self.f = sock.makefile("rwb", buffering=0)
        self.proto = proto
        self.tag = ""

    def send(self, line):
        self.f.write(line.encode() + b"\r\n")

    def recv(self):
        line = self.f.readline(20000)
        if not line:
            raise EOFError
        return line.rstrip(b"\r\n").decode("latin-1")

    def challenge(self, raw):
        b = base64.b64encode(raw).decode()
        self.send(("334 " if self.proto == "smtp" else "+ ") + b)

    def answer(self):
        """The client's answer to a challenge: bytes, or None for '*'."""
        line = self.recv()
        if line == "*":
            return None
        return base64.b64decode(line, validate=True)

    def ok(self):
        self.send({"smtp": "235 2.7.0 Authentication successful",
                   "pop3": "+OK logged in",
                   "imap": self.tag + " OK AUTHENTICATE completed"}
                  [self.proto])

    def no(self):
        self.send({"smtp": "535 5.7.8 Authentication credentials invalid",
                   "pop3": "-ERR [AUTH] authentication failed",
                   "imap": self.tag + " NO [AUTHENTICATIONFAILED] failed"}
                  [self.proto])

    def cancelled(self):
        self.send({"smtp": "501 5.7.0 Authentication cancelled",
                   "pop3": "-ERR authentication cancelled",
                   "imap": self.tag + " BAD AUTHENTICATE cancelled"}
                  [self.proto])


def first_msg(c, ir):
    """The client's first message: the initial response or the answer to
    an empty challenge."""
    if ir is not None:
        return b"" if ir == "=" else base64.b64decode(ir, validate=True)
    c.challenge(b"")
    return c.answer()


def saslname(s):
    return s.replace("=2C", ",").replace("=3D", "=")


def run_auth(c, mech, ir, a, log):
    def note(m):
        log.append(repr(m))

    user, secret = a.user.encode(), a.secret.encode()
    if mech == "PLAIN":
        m = first_msg(c, ir)
        if m is None:
            return c.cancelled()
        note(m)
        return c.ok() if m == b"\0" + user + b"\0" + secret else c.no()
    if mech == "LOGIN":
        c.challenge(b"Username:")
        u = c.answer()
        c.challenge(b"Password:")
        p = c.answer()
        note(u)
        note(p)
        return c.ok() if (u, p) == (user, secret) else c.no()
    if mech == "CRAM-MD5":
        ch = b"<4711.1700000000@fake.example>"
        c.challenge(ch)
        m = c.answer()
        if m is None:
            return c.cancelled()
        note(m)
        want = user + b" " + hmac.new(secret, ch, "md5").hexdigest().encode()
        return c.ok() if m == want else c.no()
    if mech == "SCRAM-SHA-256":
        m = first_msg(c, ir)
        if m is None:
            return c.cancelled()
        note(m)
        gs2, _, bare = m.decode().partition(",,")
        attrs = dict(kv.split("=", 1) for kv in bare.split(","))
        if gs2 != "n" or saslname(attrs["n"]) != a.user:
            return c.no()
        salt, it = os.urandom(16), 4096
        nonce = attrs["r"] + base64.b64encode(os.urandom(12)).decode()
        sfirst = "r=%s,s=%s,i=%d" % (nonce, base64.b64encode(salt).decode(),
                                     it)
        c.challenge(sfirst.encode())
        f = c.answer()
        if f is None:
            return c.cancelled()
        note(f)
        fs = f.decode()
        without, _, proof = fs.rpartition(",p=")
        if without != "c=biws,r=" + nonce:
            return c.no()
        auth = ("%s,%s,%s" % (bare, sfirst, without)).encode()
        sp = hashlib.pbkdf2_hmac("sha256", secret, salt, it)
        ck = hmac.new(sp, b"Client Key", "sha256").digest()
        stored = hashlib.sha256(ck).digest()
        csig = hmac.new(stored, auth, "sha256").digest()
        got = bytes(x ^ y for x, y in zip(base64.b64decode(proof), csig))
        if hashlib.sha256(got).digest() != stored:
            return c.no()
        sk = hmac.new(sp, b"Server Key", "sha256").digest()
        ssig = hmac.new(sk, auth, "sha256").digest()
        if a.badsig:
            ssig = bytes([ssig[0] ^ 1]) + ssig[1:]
        c.challenge(b"v=" + base64.b64encode(ssig))
        e = c.answer()
        if e is None:
            return c.cancelled()
        note(e)
        return c.ok() if e == b"" else c.no()
    if mech in ("XOAUTH2", "OAUTHBEARER"):
        m = first_msg(c, ir)
        if m is None:
            return c.cancelled()
        note(m)
        if mech == "XOAUTH2":
            want = b"user=" + user + b"\x01auth=Bearer " + secret + b"\x01\x01"
            good = m == want
            err = b'{"status":"401","schemes":"bearer"}'
            end = b""
        else:
            gs2, _, kv = m.partition(b",\x01")
            pairs = dict(p.split(b"=", 1) for p in kv.split(b"\x01") if p)
            good = (gs2 == b"n,a=" + user and
                    pairs.get(b"auth") == b"Bearer " + secret and
                    kv.endswith(b"\x01\x01"))
            err = b'{"status":"invalid_token"}'
            end = b"\x01"
        if good:
            return c.ok()
        c.challenge(err)
        e = c.answer()
        note(e)
        return c.no() if e == end else c.cancelled()
    c.send({"smtp": "504 5.5.4 Unrecognized authentication type",
            "pop3": "-ERR unknown mechanism",
            "imap": c.tag + " NO unknown mechanism"}[c.proto])


def serve(c, a, log):
    caps_imap = "IMAP4rev1 " + ("" if a.no_sasl_ir else "SASL-IR ") + \
        " ".join("AUTH=" + m for m in MECHS.split())
    c.send({"smtp": "220 fake.example ESMTP sasl_fake",
            "pop3": "+OK sasl_fake ready",
            "imap": "* OK [CAPABILITY %s] sasl_fake ready" % caps_imap}
           [a.proto])
    while True:
        words = c.recv().split(" ")
        if a.proto == "imap":
            c.tag, words = words[0], words[1:]
        verb = words[0].upper() if words else ""
        if verb in ("AUTH", "AUTHENTICATE") and len(words) >= 2:
            run_auth(c, words[1].upper(),
                     words[2] if len(words) > 2 else None, a, log)
        elif verb == "EHLO":
            c.send("250-fake.example\r\n250-AUTH " + MECHS + "\r\n250 8BITMIME")
        elif verb == "CAPA":
            c.send("+OK\r\nSASL " + MECHS + "\r\n.")
        elif verb == "CAPABILITY":
            c.send("* CAPABILITY " + caps_imap + "\r\n" + c.tag + " OK done")
        elif verb in ("QUIT", "LOGOUT"):
            c.send({"smtp": "221 2.0.0 Bye", "pop3": "+OK bye",
                    "imap": "* BYE bye\r\n" + c.tag + " OK done"}[a.proto])
            return
        else:
            c.send({"smtp": "500 5.5.1 what?", "pop3": "-ERR what?",
                    "imap": c.tag + " BAD what?"}[a.proto])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", required=True, choices=["smtp", "pop3", "imap"])
    p.add_argument("--user", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--badsig", action="store_true")
    p.add_argument("--no-sasl-ir", action="store_true")
    p.add_argument("--log")
    a = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(30)
    print("PORT", s.getsockname()[1], flush=True)
    conn, _ = s.accept()
    conn.settimeout(30)
    log = []
    try:
        serve(Conn(conn, a.proto), a, log)
    except (EOFError, OSError, ValueError) as e:
        log.append("ended: %s" % e.__class__.__name__)
    if a.log:
        with open(a.log, "w") as f:
            f.write("\n".join(log) + "\n")
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
