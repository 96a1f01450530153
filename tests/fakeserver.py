#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fakeserver.py: play one scripted mail server case for mailsh's e2e tests.

    fakeserver.py --certdir DIR [--log FILE] [--timeout SEC] SCRIPT

Serves exactly one connection, driven line by line by SCRIPT, then exits.
Prints "PORT <n>" on stdout (and flushes) once it listens, so the caller
can start the client; port 0 is used, so cases never collide.
Exit status: 0 if every script step ran and every expectation held,
1 if the case failed (reason on stderr), 2 for a bad script or usage.
Python 3 standard library only (socket, ssl).

Script: one command per line; blank lines and lines starting with '#' are
ignored.  ARG is everything after the first space, kept as is (no trimming),
with escapes \\r \\n \\t \\0 \\\\ \\xNN \\s (space) decoded where noted.

  listen ADDR          bind ADDR instead of 127.0.0.1 (e.g. ::1); must come
                       before any other command
  tls-cert NAME        use DIR/NAME.pem + DIR/NAME.key for later handshakes
                       (default "good"; see e2e.py for the set)
  send TEXT            queue TEXT (escapes decoded) + CRLF
  sendraw BYTES        queue BYTES (escapes decoded), nothing added
  sendbig N BYTE [PFX] queue PFX (escaped), then stream N times BYTE
                       (escaped, one byte), then CRLF; e.g. a 10 MB line
  expect TEXT          read one line from the client (up to and including
                       LF); it must be exactly TEXT (escaped) + CRLF, so a
                       bare LF or a doubled CR fails.  On a mismatch the
                       server sends "XXX fakeserver: ..." and the case fails
  expect-eof           the client must close the connection, sending nothing
  starttls             TLS handshake now, server side (as the first command
                       this is implicit TLS)
  starttls-inject BYTES  append BYTES (escaped) to the queued reply, send both
                       in one write, then do the handshake: plaintext bytes
                       that arrive after the "go ahead" and before TLS
  starttls-keep        TLS handshake now, keeping the lines the client sent
                       after STARTTLS in the same write: later expects read
                       them as if they had come over TLS (a server with
                       CVE-2011-0411, as the lab's --vulnerable-starttls)
  starttls-keep-reply TEXT
                       as starttls-keep, but TLS 1.2 through memory BIOs,
                       and TEXT (escapes decoded) + CRLF goes out in the
                       same write as the server's last handshake flight
                       (its Finished): the reply to a kept command is
                       already there when the client's handshake returns,
                       whatever the timing.  The kept lines are read by
                       the expects that follow
  starttls-expect-abort  attempt the handshake; the client must refuse it
                       (handshake fails, or the client closes without sending
                       anything over TLS).  Ends the script
  close-mid-handshake  read the client's first TLS record (ClientHello), then
                       close the TCP connection.  Ends the script
  close                close the connection now (close_notify first if TLS)
  close-no-notify      close the TCP connection without a TLS close_notify
                       (as OpenSMTPD and Cyrus do after QUIT / LOGOUT)
  sleep MS             pause; only if unavoidable, cases must not rely on time
  tls-versions MIN MAX later handshakes allow only TLS MIN to MAX (1.0, 1.1,
                       1.2, 1.3); below 1.2 at OpenSSL security level 0
  tls-ciphers LIST     later handshakes offer only these TLS <= 1.2 ciphers
                       (an OpenSSL cipher list)
  expect-sni NAME      later handshakes must get NAME as SNI ("-": none);
                       a wrong one fails the case

Queued output is written in one go before any read, handshake, close or
sleep, so a multi-line reply reaches the client in a single write, as from a
real server.  The end of the script closes the connection.
"""

import argparse
import os
import re
import socket
import ssl
import sys
import time

CHUNK = 64 * 1024


class CaseFailed(Exception):
    """The client did something the script did not allow."""


class ScriptError(Exception):
    """The script itself is wrong (unknown command, bad argument)."""


def unescape(text):
    """Decode the script escapes into bytes.  Raises ScriptError."""
    out = bytearray()
    i = 0
    simple = {'r': b'\r', 'n': b'\n', 't': b'\t', '0': b'\0', '\\': b'\\',
              's': b' '}
    while i < len(text):
        c = text[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        nxt = text[i + 1:i + 2]
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif nxt == 'x' and re.fullmatch(r'[0-9a-fA-F]{2}', text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            raise ScriptError('bad escape in %r' % text)
    return bytes(out)


def show(data):
    """Bytes as a readable one-line string for logs and error messages."""
    out = []
    for b in data:
        if b == 13:
            out.append('\\r')
        elif b == 10:
            out.append('\\n')
        elif b == 92:
            out.append('\\\\')
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append('\\x%02x' % b)
    s = ''.join(out)
    return s if len(s) <= 300 else s[:300] + '...(%d bytes)' % len(data)


class BioSocket:
    """The socket calls Conn makes, over an ssl.SSLObject on memory BIOs
    (starttls-keep-reply)."""

    def __init__(self, sock, obj, inc, out):
        self.raw, self.obj, self.inc, self.out = sock, obj, inc, out

    def _push(self):
        if self.out.pending:
            self.raw.sendall(self.out.read())

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self._push()
                data = self.raw.recv(CHUNK)
                if not data:
                    return b''
                self.inc.write(data)

    def sendall(self, data):
        self.obj.write(data)
        self._push()

    def version(self):
        return self.obj.version()

    def cipher(self):
        return self.obj.cipher()

    def setblocking(self, flag):
        self.raw.setblocking(flag)

    def unwrap(self):
        try:
            self.obj.unwrap()
        except ssl.SSLError:
            pass
        self._push()

    def shutdown(self, how):
        self.raw.shutdown(how)

    def close(self):
        self.raw.close()


class Conn:
    """One client connection: plain socket, later maybe TLS, plus a line
    reader and an output queue."""

    def __init__(self, sock, certdir, timeout, log):
        self.sock = sock
        self.certdir = certdir
        self.timeout = timeout
        self.log = log
        self.cert = 'good'
        self.versions = None            # (min, max) ssl.TLSVersion
        self.ciphers = None             # TLS <= 1.2 cipher list
        self.want_sni = False           # False: unchecked; None: none
        self.sni = None                 # what the last ClientHello named
        self.tls = False
        self.rbuf = b''
        self.wbuf = b''
        self.closed = False
        sock.settimeout(timeout)

    def note(self, text):
        self.log.write('# %s\n' % text)

    def queue(self, data):
        self.wbuf += data

    def flush(self):
        """Write everything queued, in one sendall."""
        if self.wbuf:
            self.log.write('S> %s\n' % show(self.wbuf))
            self.sendall(self.wbuf)
            self.wbuf = b''

    def sendall(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise CaseFailed('client went away while the server was '
                             'sending (%s)' % e)

    def recv(self):
        """One recv; b'' on EOF.  Timeout and resets are case failures."""
        try:
            return self.sock.recv(CHUNK)
        except socket.timeout:
            raise CaseFailed('timed out waiting for the client')
        except ssl.SSLZeroReturnError:
            return b''
        except (OSError, ssl.SSLError) as e:
            raise CaseFailed('reading from the client failed: %s' % e)

    def readline(self):
        """Bytes up to and including the next LF; b'' on EOF (any partial
        line is returned as is)."""
        self.flush()
        while b'\n' not in self.rbuf:
            data = self.recv()
            if not data:
                line, self.rbuf = self.rbuf, b''
                return line
            self.rbuf += data
        n = self.rbuf.index(b'\n') + 1
        line, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        self.log.write('C> %s\n' % show(line))
        return line

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base = os.path.join(self.certdir, self.cert)
        ctx.load_cert_chain(base + '.pem', base + '.key')
        if self.versions:
            ctx.minimum_version, ctx.maximum_version = self.versions
            if self.versions[0] < ssl.TLSVersion.TLSv1_2:
                # OpenSSL 3 speaks TLS 1.0/1.1 only at level 0
                ctx.set_ciphers(self.ciphers or 'DEFAULT@SECLEVEL=0')
        if self.ciphers:
            ctx.set_ciphers(self.ciphers)

        def sni(obj, name, ctx_):
            self.sni = name
        self.sni = None
        ctx.sni_callback = sni
        return ctx

    def check_sni(self):
        """After a handshake: the SNI must be what expect-sni asked."""
        if self.want_sni is not False and self.sni != self.want_sni:
            raise CaseFailed('expected SNI %s, got %s' % (
                self.want_sni or '(none)', self.sni or '(none)'))

    def handshake(self, keep=False):
        """Server side TLS handshake on the current socket.  Raises
        ssl.SSLError / OSError on failure (callers decide what it means).
        keep: plaintext already read stays in the input (CVE-2011-0411)."""
        if self.tls:
            raise ScriptError('starttls while TLS is already on')
        if self.rbuf and not keep:
            raise CaseFailed('client sent %s before the TLS handshake'
                             % show(self.rbuf))
        if self.rbuf:
            self.note('kept across the handshake: %s' % show(self.rbuf))
        self.sock = self.context().wrap_socket(self.sock, server_side=True)
        self.tls = True
        self.check_sni()
        self.note('TLS up: %s %s, cert %s' % (self.sock.version(),
                                              self.sock.cipher()[0],
                                              self.cert))

    def handshake_with_reply(self, reply):
        """handshake(keep=True), TLS 1.2 over memory BIOs, with reply
        sent in the same write as the server's Finished."""
        if self.tls:
            raise ScriptError('starttls while TLS is already on')
        ctx = self.context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_side=True)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                if out.pending:
                    self.sock.sendall(out.read())
                data = self.sock.recv(CHUNK)
                if not data:
                    raise CaseFailed('client closed during the handshake')
                inc.write(data)
        obj.write(reply)
        self.log.write('S> (with the last handshake flight) %s\n'
                       % show(reply))
        self.sock.sendall(out.read())
        self.sock = BioSocket(self.sock, obj, inc, out)
        self.tls = True
        if self.rbuf:
            self.note('kept across the handshake: %s' % show(self.rbuf))
        self.note('TLS up: %s %s, cert %s' % (obj.version(),
                                              obj.cipher()[0], self.cert))

    def close(self, notify=True):
        if self.closed:
            return
        self.flush()
        if self.tls and notify:
            # Send close_notify without waiting for the client's.
            try:
                self.sock.setblocking(False)
                self.sock.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.closed = True
        self.note('closed')


def cmd_expect(conn, arg):
    want = unescape(arg) + b'\r\n'
    got = conn.readline()
    if got != want:
        what = 'connection closed' if not got else show(got)
        conn.queue(b'XXX fakeserver: expected "' + show(want).encode() +
                   b'", got "' + what.encode() + b'"\r\n')
        try:
            conn.flush()
        except CaseFailed:
            pass
        raise CaseFailed('expected "%s", got %s' % (show(want),
                         'EOF' if not got else '"%s"' % show(got)))


def cmd_expect_eof(conn, arg):
    got = conn.readline()
    if got:
        raise CaseFailed('expected the client to close, got "%s"' % show(got))


def cmd_sendbig(conn, arg):
    parts = arg.split(' ', 2)
    if len(parts) < 2:
        raise ScriptError('sendbig needs N and BYTE')
    n, byte = int(parts[0]), unescape(parts[1])
    if len(byte) != 1:
        raise ScriptError('sendbig BYTE must be one byte')
    conn.queue(unescape(parts[2]) if len(parts) == 3 else b'')
    conn.flush()
    conn.log.write('S> (%d times %s, then \\r\\n)\n' % (n, show(byte)))
    chunk = byte * CHUNK
    while n > 0:                        # streamed: never n bytes in memory
        conn.sendall(chunk[:min(n, CHUNK)])
        n -= min(n, CHUNK)
    conn.sendall(b'\r\n')


def cmd_starttls(conn, arg):
    conn.flush()
    try:
        conn.handshake()
    except (ssl.SSLError, OSError) as e:
        raise CaseFailed('TLS handshake failed: %s' % e)


def cmd_starttls_keep(conn, arg):
    conn.flush()
    try:
        conn.handshake(keep=True)
    except (ssl.SSLError, OSError) as e:
        raise CaseFailed('TLS handshake failed: %s' % e)


def cmd_starttls_keep_reply(conn, arg):
    conn.flush()
    try:
        conn.handshake_with_reply(unescape(arg) + b'\r\n')
    except (ssl.SSLError, OSError) as e:
        raise CaseFailed('TLS handshake failed: %s' % e)


def cmd_starttls_inject(conn, arg):
    conn.queue(unescape(arg))          # same write as the queued reply
    cmd_starttls(conn, '')


def cmd_starttls_expect_abort(conn, arg):
    conn.flush()
    try:
        conn.handshake()
    except (ssl.SSLError, OSError) as e:
        conn.note('handshake refused by the client, as expected: %s' % e)
        return
    # Handshake done on our side (TLS 1.3 or a post-handshake check):
    # the client must now hang up without sending any data.
    try:
        data = conn.sock.recv(CHUNK)
    except (ssl.SSLError, OSError) as e:
        conn.note('client aborted after the handshake: %s' % e)
        return
    if data:
        raise CaseFailed('client went on over TLS despite the bad '
                         'certificate: "%s"' % show(data))
    conn.note('client closed after the handshake, as expected')


def cmd_close_mid_handshake(conn, arg):
    """Read one whole TLS record (the ClientHello) so that no unread bytes
    remain (closing with unread data would send RST, not FIN), then close."""
    conn.flush()
    while len(conn.rbuf) < 5:
        data = conn.recv()
        if not data:
            raise CaseFailed('client closed before sending a ClientHello')
        conn.rbuf += data
    if conn.rbuf[0] != 0x16:
        raise CaseFailed('expected a TLS handshake record, got "%s"'
                         % show(conn.rbuf))
    need = 5 + int.from_bytes(conn.rbuf[3:5], 'big')
    while len(conn.rbuf) < need:
        data = conn.recv()
        if not data:
            break
        conn.rbuf += data
    conn.note('got ClientHello (%d bytes), closing mid-handshake'
              % len(conn.rbuf))
    conn.rbuf = b''
    conn.close()


def cmd_close(conn, arg):
    conn.close()


def cmd_close_no_notify(conn, arg):
    conn.close(notify=False)


def cmd_sleep(conn, arg):
    conn.flush()
    time.sleep(int(arg) / 1000.0)


TLS_VERSIONS = {'1.0': ssl.TLSVersion.TLSv1, '1.1': ssl.TLSVersion.TLSv1_1,
                '1.2': ssl.TLSVersion.TLSv1_2, '1.3': ssl.TLSVersion.TLSv1_3}


def cmd_tls_versions(conn, arg):
    try:
        lo, hi = (TLS_VERSIONS[v] for v in arg.split())
    except (KeyError, ValueError):
        raise ScriptError('tls-versions wants MIN MAX (1.0 .. 1.3)')
    conn.versions = (lo, hi)


def cmd_expect_sni(conn, arg):
    conn.want_sni = None if arg == '-' else arg


def cmd_tls_cert(conn, arg):
    if not os.path.exists(os.path.join(conn.certdir, arg + '.pem')):
        raise ScriptError('no certificate named %r' % arg)
    conn.cert = arg


# Command table: name -> handler(conn, arg).  The commands in LAST end the
# connection, so nothing may follow them.
COMMANDS = {
    'send': lambda c, a: c.queue(unescape(a) + b'\r\n'),
    'sendraw': lambda c, a: c.queue(unescape(a)),
    'sendbig': cmd_sendbig,
    'expect': cmd_expect,
    'expect-eof': cmd_expect_eof,
    'starttls': cmd_starttls,
    'starttls-inject': cmd_starttls_inject,
    'starttls-keep': cmd_starttls_keep,
    'starttls-keep-reply': cmd_starttls_keep_reply,
    'starttls-expect-abort': cmd_starttls_expect_abort,
    'close-mid-handshake': cmd_close_mid_handshake,
    'close': cmd_close,
    'close-no-notify': cmd_close_no_notify,
    'sleep': cmd_sleep,
    'tls-cert': cmd_tls_cert,
    'tls-versions': cmd_tls_versions,
    'tls-ciphers': lambda c, a: setattr(c, 'ciphers', a),
    'expect-sni': cmd_expect_sni,
}
LAST = ('starttls-expect-abort', 'close-mid-handshake', 'close',
        'close-no-notify')


def parse(text):
    """Script text -> (listen address, [(lineno, cmd, arg)]).
    Raises ScriptError."""
    addr = '127.0.0.1'
    steps = []
    for no, line in enumerate(text.split('\n'), 1):
        line = line.rstrip('\r')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        cmd, _, arg = line.partition(' ')
        if cmd == 'listen':
            if steps:
                raise ScriptError('line %d: listen must come first' % no)
            addr = arg.strip()
        elif cmd in COMMANDS:
            if steps and steps[-1][1] in LAST:
                raise ScriptError('line %d: nothing may follow %s'
                                  % (no, steps[-1][1]))
            steps.append((no, cmd, arg))
        else:
            raise ScriptError('line %d: unknown command %r' % (no, cmd))
    return addr, steps


def listen(addr):
    """A listening socket on ADDR, port 0 (the kernel picks a free one)."""
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0))
    s.listen(1)
    return s


def run(script, certdir, timeout, log):
    """Play SCRIPT.  Returns the exit status (0 pass, 1 fail)."""
    addr, steps = parse(script)
    lsock = listen(addr)
    print('PORT %d' % lsock.getsockname()[1], flush=True)
    lsock.settimeout(timeout)
    try:
        sock, peer = lsock.accept()
    except socket.timeout:
        print('fakeserver: FAIL: no client connected', file=sys.stderr)
        return 1
    lsock.close()
    log.write('# connection from %s\n' % (peer,))
    conn = Conn(sock, certdir, timeout, log)
    no, cmd = 0, '(start)'
    try:
        for no, cmd, arg in steps:
            COMMANDS[cmd](conn, arg)
        conn.close()
    except CaseFailed as e:
        log.write('# FAIL at script line %d: %s\n' % (no, e))
        print('fakeserver: FAIL at script line %d (%s): %s' % (no, cmd, e),
              file=sys.stderr)
        conn.close()
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description='scripted mail server for '
                                 'mailsh end-to-end tests')
    ap.add_argument('--certdir', required=True)
    ap.add_argument('--log', help='transcript of what went over the wire')
    ap.add_argument('--timeout', type=float, default=20.0,
                    help='seconds to wait for the client at each step')
    ap.add_argument('script')
    opt = ap.parse_args()
    with open(opt.script, encoding='utf-8') as f:
        script = f.read()
    log = open(opt.log, 'w', buffering=1) if opt.log else open(os.devnull,
                                                               'w')
    try:
        sys.exit(run(script, opt.certdir, opt.timeout, log))
    except ScriptError as e:
        print('fakeserver: bad script: %s' % e, file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
