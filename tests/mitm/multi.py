#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""multi.py: many clients, long lines, backpressure and SIGTERM for
`mailsh mitm` (called by tests/mitm/run.sh).

    multi.py MAILSH

Starts a threaded POP3-like echo server on 127.0.0.1 port 0 (greeting
"+OK ready"; "BIG n" is answered with one line of n 'x'; any other line
with "+OK LEN <length> <first 20 bytes>"), then `MAILSH mitm --port 0
--port-file F --proto pop3` in front of it, and checks through the proxy:
64 clients at once with interleaved lines, a 65th refused, a 300,000-byte
line each way (passed through in pieces, intact), a client that resets,
and a clean exit 0 on SIGTERM.  Waits on the port file, never on time.
Exit status 0 when all held; reasons on stderr otherwise.
"""

import os
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import time


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b'+OK ready\r\n')
        for line in self.rfile:
            body = line.rstrip(b'\r\n')
            if body.startswith(b'BIG '):
                self.wfile.write(b'x' * int(body[4:]) + b'\r\n')
            else:
                self.wfile.write(b'+OK LEN %d %s\r\n' % (len(body),
                                                         body[:20]))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def readline(f):
    line = f.readline()
    if not line.endswith(b'\r\n'):
        raise AssertionError('short line: %r' % line[:80])
    return line[:-2]


def main():
    mailsh = sys.argv[1]
    srv = Server(('127.0.0.1', 0), Echo)
    import threading
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    d = tempfile.mkdtemp()
    pf = os.path.join(d, 'port')
    log = open(os.path.join(d, 'log'), 'w+')
    p = subprocess.Popen([mailsh, 'mitm', '--port', '0', '--port-file', pf,
                          '--to', '127.0.0.1:%d' % srv.server_address[1],
                          '--proto', 'pop3', '--quiet'],
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (os.path.exists(pf) and os.path.getsize(pf)):
            if p.poll() is not None or time.monotonic() > deadline:
                raise AssertionError('mitm did not start')
            time.sleep(0.02)
        port = int(open(pf).read())

        socks = []
        for _ in range(64):
            s = socket.create_connection(('127.0.0.1', port), timeout=20)
            socks.append((s, s.makefile('rb')))
        for s, f in socks:
            if readline(f) != b'+OK ready':
                raise AssertionError('no greeting')
        # the 65th is closed by the proxy at once
        extra = socket.create_connection(('127.0.0.1', port), timeout=20)
        if extra.recv(100) != b'':
            raise AssertionError('65th connection was not refused')
        extra.close()
        for r in range(10):
            for i, (s, f) in enumerate(socks):
                s.sendall(b'LINE %d %d\r\n' % (i, r))
            for i, (s, f) in enumerate(socks):
                want = b'LINE %d %d' % (i, r)
                got = readline(f)
                if got != b'+OK LEN %d %s' % (len(want), want):
                    raise AssertionError('conn %d got %r' % (i, got))
        s, f = socks[0]
        # a long line from the client, sent before reading anything
        s.sendall(b'y' * 300000 + b'\r\n')
        if readline(f) != b'+OK LEN 300000 ' + b'y' * 20:
            raise AssertionError('long client line damaged')
        # a long line from the server, read only after more traffic
        s.sendall(b'BIG 300000\r\n')
        s2, f2 = socks[1]
        s2.sendall(b'after\r\n')
        if readline(f2) != b'+OK LEN 5 after':
            raise AssertionError('other client stalled')
        if readline(f) != b'x' * 300000:
            raise AssertionError('long server line damaged')
        s.sendall(b'still\r\n')
        if readline(f) != b'+OK LEN 5 still':
            raise AssertionError('line after the long one damaged')
        # a client that resets its connection
        s3, f3 = socks[2]
        s3.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack('ii', 1, 0))
        s3.close()
        s, f = socks[3]
        s.sendall(b'alive\r\n')
        if readline(f) != b'+OK LEN 5 alive':
            raise AssertionError('proxy hurt by a reset')
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        if rc != 0:
            raise AssertionError('mitm exit %d after SIGTERM' % rc)
        log.seek(0)
        text = log.read()
        if 'mitm: stopping on signal' not in text:
            raise AssertionError('no stop line')
        if 'too many connections' not in text:
            raise AssertionError('refusal of the 65th not reported')
    except Exception as e:
        log.seek(0)
        sys.stderr.write('multi.py: %s\n--- mitm output (tail)\n%s' %
                         (e, ''.join(log.readlines()[-30:])))
        if p.poll() is None:
            p.kill()
        return 1
    finally:
        srv.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
