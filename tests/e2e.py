#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""e2e.py: run mailsh's end-to-end cases (tests/data/NNN-name) against the
scripted fake server (tests/fakeserver.py).

    tests/e2e.py [-j N] [--mailsh PATH] [--keep] [-v] [NAME ...]
    tests/e2e.py --make-certs DIR      (only make the test certificates)

NAME selects cases by file name, number or substring ("024", "dotstuff").
Prints "PASS name", "SKIP name (why)" or "FAIL name" per case (a failure
with its reasons and a unified diff, expected vs actual) and exits 1 if any
case failed, 2 on usage errors.
Python 3 standard library, the openssl command line tool and, for the
json check, python3-jsonschema.

A case file holds sections, each opened by a line "<name>" (optionally with
flags: "<stdin crlf>") and closed by "</name>"; text outside sections is a
comment.

  <info>     what the case is about (free text)
  <server>   the fake server's script (see fakeserver.py)
  <args>     mailsh's arguments, shell-quoted, on one or more lines
  <stdin>    mailsh's standard input; with the flag "crlf" every line ends
             in CRLF instead of LF (a script saved on Windows)
  <stdout>   the expected standard output, exactly
  <stderr>   the expected standard error (only compared when present)
  <exit>     the expected exit code (default 0)
  <log>      the expected content of the transcript mailsh writes to
             %LOG% (give "--log %LOG%" in <args>); the file must exist
             with mode 0600
  <checks>   extra checks, one per line:
               max-stdout BYTES   standard output must not be larger
               json               (implied by --json in <args>)
                                  every stdout line is a JSON object valid
                                  against docs/mailsh-json.schema.json
                                  (version 1; needs python3-jsonschema),
                                  the first a "start", the last an "exit"
                                  with mailsh's exit code, "recv" lines
                                  numbered 1, 2, ... per connection
               json-lang LANG     (with json) run the case once more with
                                  --lang LANG: every field but "text" and
                                  "t" must be the same, line by line
               timeout SECONDS    kill mailsh after this long (default 30)
               needs-ipv6         SKIP the case when ::1 cannot be bound
               no-raw-controls    neither stdout nor stderr holds a byte
                                  that can steer a terminal: C0 controls
                                  but LF, DEL, 0x9B and every C1 control
                                  (raw or as U+0080-U+009F), or a bidi or
                                  format character (see RAW_CONTROLS)

Placeholders.  In <args>, <stdout> and <stderr>: %PORT% (the server's
port), %CA% (the test CA's PEM file), %CERTS% (the certificate directory),
%LOG% (the transcript file, in the case's work directory).
In <stdout> and <stderr> only, for the parts that change from run to run:
%ANY% (any text within one line), %NUM% (digits), %HEX% (hex digits and
colons: fingerprints, serials), %DATE% (any text without a comma: dates in
any format), %T% (seconds with three decimals: JSON "t").  A placeholder never spans lines, so every line is still
checked.

Certificates (made fresh by every run with the openssl CLI, in the run's
temporary directory): ca (mailsh test CA), good (localhost, 127.0.0.1,
::1, signed by ca), expired (as good, expired in 2020), wrongname
(other.example), selfsigned (localhost, self-signed), untrusted (localhost,
signed by a CA that is not passed to mailsh), hostile (signed by ca, with
control characters in its subject and subjectAltName), rsa (RSA 2048),
ed25519, mustaple (with the TLS feature status_request), rsa-staple
(both), future (valid only in 2099), and capath/ (a
hashed directory holding ca.pem, made with openssl rehash).
"""

import argparse
import concurrent.futures
import difflib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
DATA = os.path.join(HERE, 'data')
FAKESERVER = os.path.join(HERE, 'fakeserver.py')

# ---------------------------------------------------------------- certs

CA_CNF = """\
[ca]
default_ca = testca
[testca]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[staple]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
tlsfeature = status_request
"""

GOOD_SAN = 'DNS:localhost,IP:127.0.0.1,IP:::1'


def openssl(cwd, *args, env=None):
    """Run the openssl CLI; raise with its stderr on failure."""
    r = subprocess.run(('openssl',) + args, cwd=cwd, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('openssl %s failed:\n%s' % (' '.join(args),
                                                       r.stderr))


def make_ca(d, name, cn):
    """A self-signed CA certificate NAME.pem with key NAME.key."""
    openssl(d, 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:P-256', '-nodes', '-keyout', name + '.key',
            '-out', name + '.pem', '-days', '3650', '-subj', '/CN=' + cn,
            '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign')


EC_KEY = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256')


def make_leaf(d, name, ca, cn, san, dates=('-days', '365'), key=EC_KEY,
              ext='leaf'):
    """A server certificate NAME.pem/NAME.key for CN and SAN, signed by CA
    (with `openssl ca`, which can also back-date an expired one)."""
    openssl(d, 'req', '-new', *key, '-nodes', '-keyout', name + '.key',
            '-out', name + '.csr', '-subj', '/CN=' + cn)
    env = dict(os.environ, SAN=san)
    openssl(d, 'ca', '-batch', '-config', 'ca.cnf', '-cert', ca + '.pem',
            '-keyfile', ca + '.key', '-in', name + '.csr', '-out',
            name + '.pem', '-extensions', ext, '-notext', *dates, env=env)


# A certificate whose subject and subjectAltName hold what a hostile
# server would put there: OSC 52, BEL, U+202E, U+009B, CSI (issue 10 §6).
HOSTILE_CN = 'evil\x1b]52;c;aGk=\x07\u202e\u009b.example'
HOSTILE_SAN = 'DNS:localhost,DNS:evil\x1b[2J\u202e.example,IP:127.0.0.1'


def make_hostile(d, name='hostile'):
    """The hostile certificate, signed by ca (-utf8: the subject is taken
    as UTF-8, byte for byte)."""
    openssl(d, 'req', '-new', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:P-256', '-nodes', '-keyout', name + '.key',
            '-out', name + '.csr', '-utf8', '-subj', '/CN=' + HOSTILE_CN)
    env = dict(os.environ, SAN=HOSTILE_SAN)
    openssl(d, 'ca', '-batch', '-utf8', '-config', 'ca.cnf', '-cert',
            'ca.pem', '-keyfile', 'ca.key', '-in', name + '.csr', '-out',
            name + '.pem', '-extensions', 'leaf', '-notext', '-days', '365',
            env=env)


def make_certs(d):
    """Create the whole test PKI in directory D (see the module doc)."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'ca.cnf'), 'w') as f:
        f.write(CA_CNF)
    os.makedirs(os.path.join(d, 'issued'), exist_ok=True)
    open(os.path.join(d, 'index.txt'), 'w').close()
    with open(os.path.join(d, 'serial'), 'w') as f:
        f.write('1000\n')
    make_ca(d, 'ca', 'mailsh test CA')
    make_ca(d, 'rogueca', 'mailsh rogue CA')
    make_leaf(d, 'good', 'ca', 'localhost', GOOD_SAN)
    make_leaf(d, 'expired', 'ca', 'localhost', GOOD_SAN,
              ('-startdate', '20200101000000Z',
               '-enddate', '20200201000000Z'))
    make_leaf(d, 'wrongname', 'ca', 'other.example', 'DNS:other.example')
    make_leaf(d, 'untrusted', 'rogueca', 'localhost', GOOD_SAN)
    make_hostile(d)
    # issue 11: /cert's key types and must-staple; --capath
    make_leaf(d, 'rsa', 'ca', 'localhost', GOOD_SAN,
              key=('-newkey', 'rsa:2048'))
    make_leaf(d, 'ed25519', 'ca', 'localhost', GOOD_SAN,
              key=('-newkey', 'ed25519'))
    make_leaf(d, 'mustaple', 'ca', 'localhost', GOOD_SAN, ext='staple')
    make_leaf(d, 'rsa-staple', 'ca', 'localhost', GOOD_SAN,
              key=('-newkey', 'rsa:2048'), ext='staple')
    make_leaf(d, 'future', 'ca', 'localhost', GOOD_SAN,
              ('-startdate', '20990101000000Z',
               '-enddate', '20991231000000Z'))
    os.makedirs(os.path.join(d, 'capath'), exist_ok=True)
    shutil.copy(os.path.join(d, 'ca.pem'), os.path.join(d, 'capath'))
    openssl(d, 'rehash', 'capath')
    openssl(d, 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'selfsigned.key',
            '-out', 'selfsigned.pem', '-days', '365', '-subj', '/CN=localhost',
            '-addext', 'subjectAltName=' + GOOD_SAN)


# ---------------------------------------------------------------- cases

SECTION = re.compile(r'^<([a-z-]+)((?: [a-z-]+)*)>$')


def parse_case(path):
    """Case file -> {section: (flags, text)}.  Raises ValueError."""
    sections, name, flags, buf = {}, None, (), []
    with open(path, encoding='utf-8') as f:
        for no, line in enumerate(f.read().split('\n'), 1):
            if name is None:
                m = SECTION.match(line)
                if m:
                    name, flags, buf = m.group(1), m.group(2).split(), []
            elif line == '</%s>' % name:
                sections[name] = (flags, ''.join(l + '\n' for l in buf))
                name = None
            else:
                buf.append(line)
    if name is not None:
        raise ValueError('%s: <%s> is never closed' % (path, name))
    for need in ('server', 'args', 'stdout'):
        if need not in sections:
            raise ValueError('%s: no <%s> section' % (path, need))
    return sections


PLACEHOLDERS = {'%ANY%': '.*', '%NUM%': '[0-9]+', '%HEX%': '[0-9A-Fa-f:]+',
                '%DATE%': '[^,]*', '%T%': '[0-9]+\\.[0-9]{3}'}


def line_matcher(expected):
    """Expected line -> predicate on an actual line."""
    parts = re.split('(%ANY%|%NUM%|%HEX%|%DATE%|%T%)', expected)
    if len(parts) == 1:
        return lambda actual: actual == expected
    rx = re.compile(''.join(PLACEHOLDERS.get(p, re.escape(p))
                            for p in parts), re.S)
    return lambda actual: rx.fullmatch(actual) is not None


def normalise(expected, actual):
    """Return ACTUAL's lines with every line that matches its counterpart in
    EXPECTED (placeholders included) replaced by the expected text, so a
    plain diff shows only real differences.  Lines are paired by a longest
    common subsequence, so one extra or missing line does not misalign the
    rest."""
    exp, act = expected.split('\n'), actual.split('\n')
    if len(exp) * len(act) > 4_000_000:       # runaway output: pair by index
        return [e if i < len(exp) and line_matcher(e)(a) else a
                for i, (e, a) in enumerate(zip(exp + [''] * len(act), act))]
    match = [line_matcher(e) for e in exp]
    n, m = len(exp), len(act)
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            lcs[i][j] = (lcs[i + 1][j + 1] + 1 if match[i](act[j])
                         else max(lcs[i + 1][j], lcs[i][j + 1]))
    out, i, j = list(act), 0, 0
    while i < n and j < m:
        if match[i](act[j]) and lcs[i][j] == lcs[i + 1][j + 1] + 1:
            out[j] = exp[i]
            i, j = i + 1, j + 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def visible(line, limit=400):
    """A line as printed in a diff: control characters made visible,
    runaway lines cut."""
    s = re.sub('[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f'
               '\u2028-\u202e\u2066-\u2069\ufeff\ufffd]',
               lambda m: '<U+%04x>' % ord(m.group()) if ord(m.group()) > 0x7f
               else '<0x%02x>' % ord(m.group()), line)
    if len(s) > limit:
        s = s[:limit] + '...(%d chars in all)' % len(line)
    return s


def compare(what, expected, actual):
    """[] if ACTUAL matches EXPECTED, else report lines with a diff."""
    got = normalise(expected, actual)
    if got == expected.split('\n'):
        return []
    diff = difflib.unified_diff(expected.split('\n'), got,
                                'expected ' + what, 'actual ' + what,
                                lineterm='', n=3)
    lines = [visible(l) for l in diff]
    if len(lines) > 200:
        lines = lines[:200] + ['... (%d more diff lines)' % (len(lines) - 200)]
    return lines


def substitute(text, port, certdir, logfile=''):
    return (text.replace('%PORT%', str(port))
            .replace('%LOG%', logfile)
            .replace('%CA%', os.path.join(certdir, 'ca.pem'))
            .replace('%CERTS%', certdir))


SCHEMA = os.path.join(TOP, 'docs', 'mailsh-json.schema.json')
_validator = []


def json_validator():
    """The validator of docs/mailsh-json.schema.json (made once)."""
    if not _validator:
        import jsonschema        # Debian: python3-jsonschema
        with open(SCHEMA, encoding='utf-8') as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _validator.append(jsonschema.Draft202012Validator(schema))
    return _validator[0]


def parse_json(out):
    """(objects, problems) of --json output: every line one object."""
    objs, bad = [], []
    for no, line in enumerate(out.splitlines(), 1):
        try:
            objs.append((no, json.loads(line)))
        except ValueError as e:
            bad.append('stdout line %d is not JSON (%s): %s'
                       % (no, e, visible(line)))
    return objs, bad


def check_json(out, rc):
    """Problems with --json output: every line valid against the schema
    (docs/mailsh-json.schema.json), a "start" first, an "exit" with the
    exit code RC last, received lines numbered 1, 2, ... per
    connection."""
    try:
        val = json_validator()
    except ImportError:
        return ['the json check needs python3-jsonschema (Debian package '
                'python3-jsonschema; scripts/debian-deps --test)']
    objs, bad = parse_json(out)
    for no, obj in objs:
        for e in sorted(val.iter_errors(obj), key=str)[:3]:
            bad.append('stdout line %d: %s at /%s: %s' % (
                no, e.message, '/'.join(str(p) for p in e.absolute_path),
                visible(json.dumps(obj))))
    if not objs or objs[0][1].get('event') != 'start':
        bad.append('the first JSON line is not the "start" event')
    if not objs or objs[-1][1].get('event') != 'exit':
        bad.append('the last JSON line is not the "exit" event')
    elif rc is not None and objs[-1][1].get('status') != rc:
        bad.append('"exit" says status %r, mailsh exited %d'
                   % (objs[-1][1].get('status'), rc))
    want = 1
    for no, obj in objs:
        if obj.get('event') == 'close':
            want = 1
        elif obj.get('event') == 'recv':
            if obj.get('line') != want:
                bad.append('stdout line %d: recv "line" %r, expected %d'
                           % (no, obj.get('line'), want))
            want += 1
    return bad


def machine_fields(out, port):
    """Every JSON line without "text", "t" and "days_left" (they follow the
    clock), the port masked: what must not depend on the language."""
    objs, _ = parse_json(out)
    return [json.dumps({k: v for k, v in o.items()
                        if k not in ('text', 't', 'days_left')},
                       sort_keys=True).replace(str(port), '%PORT%')
            for _, o in objs]


def compare_lang(case, lang, mailsh, env, stdin, timeout, certdir, work,
                 port, out):
    """Run the case once more with --lang LANG; [] if every JSON field but
    "text" and "t" is the same as in OUT (no machine field translated)."""
    sub = os.path.join(work, 'lang-' + lang)
    os.makedirs(sub, exist_ok=True)
    script = os.path.join(sub, 'server.script')
    with open(script, 'w') as f:
        f.write(case['server'])
    try:
        server, port2 = start_server(script, certdir,
                                     os.path.join(sub, 'server.log'))
    except RuntimeError as e:
        return ['--lang %s: %s' % (lang, e)]
    args = ['--lang', lang] + shlex.split(substitute(case['args'], port2,
                                                     certdir))
    try:
        r = subprocess.run([mailsh] + args, cwd=sub, env=env, input=stdin,
                           capture_output=True, timeout=timeout)
        out2 = r.stdout.decode('utf-8', errors='replace')
    except subprocess.TimeoutExpired:
        out2 = ''
    try:
        server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
    with open(os.path.join(sub, 'stdout'), 'w') as fh:
        fh.write(out2)
    a, b = machine_fields(out, port), machine_fields(out2, port2)
    if a == b:
        return []
    diff = difflib.unified_diff(a, b, 'machine fields', 'machine fields '
                                'with --lang ' + lang, lineterm='', n=2)
    return ['--lang %s changes machine fields:' % lang] + [
        visible(l) for l in list(diff)[:60]]


# What mailsh never writes (with colour off): C0 controls except LF, DEL,
# raw C1 bytes, U+0080-U+009F and the bidi/format characters that reorder
# or hide text (U+061C, U+200E/F, U+2028/9, U+202A-E, U+2066-9, U+FEFF).
RAW_CONTROLS = re.compile(
    rb'[\x00-\x09\x0b-\x1f\x7f]|'
    rb'\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|'
    rb'\xe2\x81[\xa6-\xa9]|\xef\xbb\xbf')


def check_raw_controls(what, data):
    """Problems: bytes in DATA that could steer a terminal."""
    bad = []
    for no, line in enumerate(data.split(b'\n'), 1):
        m = RAW_CONTROLS.search(line)
        if not m:
            try:
                line.decode('utf-8')
                continue
            except UnicodeDecodeError as e:   # a raw C1 byte, or worse
                m_at, m_txt = e.start, line[e.start:e.start + 1]
        else:
            m_at, m_txt = m.start(), m.group()
        bad.append('%s line %d holds raw %r at %d: %s'
                   % (what, no, m_txt, m_at,
                      visible(line.decode('utf-8', errors='replace'))))
    return bad


def start_server(script_path, certdir, log_path):
    """Start fakeserver.py; return (process, port) once it listens."""
    p = subprocess.Popen([sys.executable, FAKESERVER, '--certdir', certdir,
                          '--log', log_path, script_path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline().decode()     # "PORT <n>", or EOF on error
    m = re.fullmatch(r'PORT (\d+)\n', first)
    if not m:
        p.wait()
        raise RuntimeError('fakeserver did not start: %s'
                           % (first + p.stderr.read().decode()).strip())
    return p, int(m.group(1))


def have_ipv6():
    """True if the IPv6 loopback can be bound (often not in containers)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


def run_case(path, opt, certdir, workroot):
    """Run one case.  Returns (name, result, [report lines]); result is
    True (pass), False (fail) or a string (skipped, and why)."""
    name = os.path.basename(path)
    work = os.path.join(workroot, name)
    os.makedirs(work, exist_ok=True)
    try:
        sec = parse_case(path)
    except ValueError as e:
        return name, False, [str(e)]
    text = {k: v[1] for k, v in sec.items()}
    checks = {}
    for line in text.get('checks', '').splitlines():
        if line.strip():
            key, _, val = line.strip().partition(' ')
            checks[key] = val
    if 'needs-ipv6' in checks and not have_ipv6():
        return name, 'no IPv6 loopback', []
    script = os.path.join(work, 'server.script')
    with open(script, 'w') as f:
        f.write(text['server'])
    log = os.path.join(work, 'server.log')
    try:
        server, port = start_server(script, certdir, log)
    except RuntimeError as e:
        return name, False, [str(e)]

    logfile = os.path.join(work, 'transcript.log')
    if os.path.exists(logfile):
        os.unlink(logfile)
    args = shlex.split(substitute(text['args'], port, certdir, logfile))
    stdin = text.get('stdin', '').encode()
    if 'crlf' in sec.get('stdin', ((), ''))[0]:
        stdin = stdin.replace(b'\n', b'\r\n')
    env = dict(os.environ, NO_COLOR='1', LC_ALL='C', LANG='C', TERM='dumb',
               HOME=work)
    env.pop('LANGUAGE', None)
    env.pop('LC_MESSAGES', None)
    timeout = float(checks.get('timeout', 30))
    report, timed_out = [], False
    try:
        client = subprocess.Popen([opt.mailsh] + args, cwd=work, env=env,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  start_new_session=True)
    except OSError as e:
        server.kill()
        server.communicate()
        return name, False, ['cannot run %s: %s' % (opt.mailsh, e)]
    try:
        out, err = client.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(client.pid, 9)
        out, err = client.communicate()
        timed_out = True
    try:
        srv_err = server.communicate(timeout=10)[1].decode(errors='replace')
    except subprocess.TimeoutExpired:
        server.kill()
        srv_err = server.communicate()[1].decode(errors='replace')
        srv_err += 'fakeserver: killed, still running after mailsh exited\n'
    for f, data in (('stdout', out), ('stderr', err)):
        with open(os.path.join(work, f), 'wb') as fh:
            fh.write(data)
    out_s = out.decode('utf-8', errors='replace')
    err_s = err.decode('utf-8', errors='replace')

    if timed_out:
        report.append('mailsh still running after %gs, killed' % timeout)
    want_rc = int(text.get('exit', '0').strip() or 0)
    if not timed_out and client.returncode != want_rc:
        report.append('exit code %d, expected %d'
                      % (client.returncode, want_rc))
    if server.returncode != 0:
        report += ['server: ' + l for l in srv_err.splitlines()]
    if 'max-stdout' in checks and len(out) > int(checks['max-stdout']):
        report.append('stdout is %d bytes, limit %s'
                      % (len(out), checks['max-stdout']))
    if 'json' in checks or '--json' in args:
        report += check_json(out_s, None if timed_out else client.returncode)
    if 'json-lang' in checks:
        report += compare_lang(text, checks['json-lang'], opt.mailsh, env,
                               stdin, timeout, certdir, work, port, out_s)
    if 'log' in text:
        try:
            with open(logfile, 'rb') as fh:
                logged = fh.read()
            mode = os.stat(logfile).st_mode & 0o777
            if mode != 0o600:
                report.append('transcript mode %o, expected 600' % mode)
            report += compare('transcript',
                              substitute(text['log'], port, certdir,
                                         logfile),
                              logged.decode('utf-8', errors='replace'))
            report += check_raw_controls('transcript', logged)
        except OSError as e:
            report.append('no transcript: %s' % e)
    if 'no-raw-controls' in checks:
        report += check_raw_controls('stdout', out)
        report += check_raw_controls('stderr', err)
    report += compare('stdout', substitute(text['stdout'], port, certdir,
                                           logfile), out_s)
    if 'stderr' in text:
        report += compare('stderr', substitute(text['stderr'], port,
                                               certdir, logfile), err_s)
    if report:
        report += ['mailsh ' + ' '.join(shlex.quote(a) for a in args)]
        if err_s and 'stderr' not in text:
            report += ['stderr: ' + visible(l) for l in err_s.splitlines()]
        if opt.verbose:
            with open(log, errors='replace') as fh:
                report += ['wire: ' + visible(l.rstrip('\n'))
                           for l in fh]
        report.append('files: ' + work)
    return name, not report, report


def select(names):
    """Case files matching NAMES (all if empty), in name order."""
    cases = sorted(f for f in os.listdir(DATA)
                   if re.match(r'\d{3}-', f) and not f.endswith('~'))
    if not names:
        return cases
    picked = [c for c in cases
              if any(c == n or c.startswith(n + '-') or n in c
                     for n in names)]
    return picked


def main():
    ap = argparse.ArgumentParser(description='run mailsh end-to-end cases')
    ap.add_argument('names', nargs='*', help='cases to run (default: all)')
    ap.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--mailsh', default=os.environ.get(
        'MAILSH', os.path.join(TOP, 'mailsh')))
    ap.add_argument('--keep', action='store_true',
                    help='keep the work directory even if all pass')
    ap.add_argument('-v', '--verbose', action='store_true',
                    help='show the server\'s wire log of failed cases')
    ap.add_argument('--make-certs', metavar='DIR')
    opt = ap.parse_args()

    if opt.make_certs:
        make_certs(opt.make_certs)
        return 0
    if not os.access(opt.mailsh, os.X_OK):
        print('e2e: no mailsh binary at %s (run make)' % opt.mailsh,
              file=sys.stderr)
        return 2
    opt.mailsh = os.path.abspath(opt.mailsh)
    cases = select(opt.names)
    if not cases:
        print('e2e: no case matches %s' % ' '.join(opt.names),
              file=sys.stderr)
        return 2
    workroot = tempfile.mkdtemp(prefix='mailsh-e2e.')
    certdir = os.path.join(workroot, 'certs')
    make_certs(certdir)

    failed, skipped = [], 0
    with concurrent.futures.ThreadPoolExecutor(opt.jobs) as pool:
        jobs = [pool.submit(run_case, os.path.join(DATA, c), opt, certdir,
                            workroot) for c in cases]
        for job in jobs:                        # report in case order
            name, ok, report = job.result()
            if isinstance(ok, str):
                print('SKIP %s (%s)' % (name, ok))
                skipped += 1
                continue
            print('%s %s' % ('PASS' if ok else 'FAIL', name))
            for line in report:
                print('    ' + line)
            sys.stdout.flush()
            if not ok:
                failed.append(name)
    print('%d of %d cases passed%s' % (
        len(cases) - len(failed) - skipped, len(cases),
        ', %d skipped' % skipped if skipped else ''))
    if failed:
        print('failed: ' + ' '.join(failed))
    elif not opt.keep:
        shutil.rmtree(workroot, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
