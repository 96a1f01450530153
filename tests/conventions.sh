#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The conventions a command-line user expects: one-line usage errors with
# "Try 'mailsh --help'" (exit 2, also for lab, mitm and lesson, also in
# German), the config file ($XDG_CONFIG_HOME/mailsh/config: the command
# line wins, --no-config skips it, a bad line names file:line), and the
# colour decision (--color, NO_COLOR, CLICOLOR, CLICOLOR_FORCE, on a pipe
# and on a pseudo-terminal).  Prints PASS/FAIL lines.  Loopback only.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
MAILSH=${MAILSH:-$top/mailsh}
work=$(mktemp -d)
PIDS=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
show() { sed 's/^/    /' "$@" | head -20; }

# Every case starts from a clean environment: no colour variables, no
# config of the person running the tests, English.
clean_env=(env -u NO_COLOR -u CLICOLOR -u CLICOLOR_FORCE -u LANGUAGE
    -u LC_ALL -u LC_MESSAGES -u MAILSH_LANG LANG=C.UTF-8 TERM=xterm
    HOME="$work/home" XDG_CONFIG_HOME="$work/xdg" MAILSH_LESSONS=)
mkdir -p "$work/home" "$work/xdg/mailsh"
cfg=$work/xdg/mailsh/config

# ---- usage errors ----
# usage NAME "WANT LINE 1" CMD...: stderr is exactly two lines, the
# first WANT LINE 1, the second the Try line of its command; nothing on
# stdout; exit 2.
usage() {
	local name=$1 want=$2 prog; shift 2
	prog=${want%%: *}
	"${clean_env[@]}" "$@" </dev/null >"$work/out" 2>"$work/err"
	local rc=$?
	local try="Try '$prog --help' for more information."
	if [ $rc -eq 2 ] && [ ! -s "$work/out" ] &&
	    [ "$(wc -l <"$work/err")" -eq 2 ] &&
	    [ "$(sed -n 1p "$work/err")" = "$want" ] &&
	    [ "$(sed -n 2p "$work/err")" = "$try" ]; then
		pass "usage-$name"
	else
		fail "usage-$name (exit $rc; want \"$want\" and the Try line)"
		show "$work/err" "$work/out"
	fi
}
usage unknown-long "mailsh: unknown option '--foo'" "$MAILSH" --foo
usage unknown-long-value "mailsh: unknown option '--foo'" "$MAILSH" --foo=1
usage unknown-short "mailsh: unknown option '-x'" "$MAILSH" -x
usage unknown-in-cluster "mailsh: unknown option '-x'" "$MAILSH" --json -qx
usage needs-argument "mailsh: option '--timeout' needs an argument" \
    "$MAILSH" --timeout
usage needs-argument-short "mailsh: option '-f' needs an argument" \
    "$MAILSH" -f
usage takes-no-argument "mailsh: option '--help' takes no argument" \
    "$MAILSH" --help=yes
usage ambiguous "mailsh: option '--p' is ambiguous" "$MAILSH" --p
usage too-many "mailsh: too many arguments: give HOST [PORT]" \
    "$MAILSH" a b c
usage bad-value 'mailsh: --timeout wants seconds from 1 to 3600, not "0"' \
    "$MAILSH" --timeout 0
usage bad-color 'mailsh: --color wants auto, always or never, not "blue"' \
    "$MAILSH" --color=blue
# TLS options (issue 11): each bad value names its option, exit 2
usage tls-min 'mailsh: --tls-min wants 1.0, 1.1, 1.2 or 1.3, not "1.4"' \
    "$MAILSH" --tls-min 1.4 127.0.0.1
usage tls-max 'mailsh: --tls-max wants 1.0, 1.1, 1.2 or 1.3, not "TLSv1.2"' \
    "$MAILSH" --tls-max TLSv1.2 127.0.0.1
usage tls-range 'mailsh: --tls-min 1.3 is above --tls-max 1.2' \
    "$MAILSH" --tls-min 1.3 --tls-max 1.2 127.0.0.1
usage ciphers 'mailsh: --ciphers: OpenSSL knows no cipher in "NOPE" (see openssl ciphers -v)' \
    "$MAILSH" --ciphers NOPE 127.0.0.1
usage ciphers-13 'mailsh: --ciphers: "TLS_AES_128_GCM_SHA256" looks like a TLS 1.3 suite: those go to --ciphersuites' \
    "$MAILSH" --ciphers TLS_AES_128_GCM_SHA256 127.0.0.1
usage ciphersuites 'mailsh: --ciphersuites: OpenSSL does not know "TLS_NOPE" (TLS 1.3 suites, separated by colons: TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384)' \
    "$MAILSH" --ciphersuites TLS_NOPE 127.0.0.1
usage groups 'mailsh: --groups: OpenSSL does not know "P-999" (groups separated by colons: X25519:P-256)' \
    "$MAILSH" --groups P-999 127.0.0.1
usage servername 'mailsh: --servername wants a host name or an address, not "a b"' \
    "$MAILSH" --servername 'a b' 127.0.0.1
usage lab "mailsh lab: unknown option '--foo'" "$MAILSH" lab --foo
usage lab-value 'mailsh lab: --profile is strict or lax, not "x"' \
    "$MAILSH" lab --profile x
usage lab-argument 'mailsh lab: unexpected argument "x"' "$MAILSH" lab x
usage mitm "mailsh mitm: unknown option '--foo'" "$MAILSH" mitm --foo
usage mitm-missing "mailsh mitm: option '--to' needs an argument" \
    "$MAILSH" mitm --to
usage mitm-mode 'mailsh mitm: unknown mode "x"' "$MAILSH" mitm --mode x
usage lesson "mailsh lesson: unknown option '--foo'" "$MAILSH" lesson --foo
usage lesson-args "mailsh lesson: too many arguments: give one lesson NAME" \
    "$MAILSH" lesson a b
usage lesson-color 'mailsh lesson: --color wants auto, always or never, not "x"' \
    "$MAILSH" lesson --color=x
usage lesson-value 'mailsh lesson: --handout wants md or html, not "pdf"' \
    "$MAILSH" lesson --handout pdf

# German: the same two lines, from the catalogue
de_usage() {	# name, want line 1, want line 2, command...
	local name=$1 w1=$2 w2=$3; shift 3
	"${clean_env[@]}" "$@" </dev/null >"$work/out" 2>"$work/err"
	local rc=$?
	if [ $rc -eq 2 ] && [ "$(sed -n 1p "$work/err")" = "$w1" ] &&
	    [ "$(sed -n 2p "$work/err")" = "$w2" ] &&
	    [ "$(wc -l <"$work/err")" -eq 2 ]; then
		pass "usage-de-$name"
	else
		fail "usage-de-$name (exit $rc)"
		show "$work/err"
	fi
}
de_usage mailsh "mailsh: unbekannte Option „--foo“" \
    "„mailsh --help“ liefert weitere Informationen." \
    "$MAILSH" --lang de --foo
de_usage tls-max "mailsh: --tls-max erwartet 1.0, 1.1, 1.2 oder 1.3, nicht „1.4“" \
    "„mailsh --help“ liefert weitere Informationen." \
    "$MAILSH" --lang de --tls-max 1.4 127.0.0.1
de_usage lab "mailsh lab: unbekannte Option „--foo“" \
    "„mailsh lab --help“ liefert weitere Informationen." \
    env MAILSH_LANG=de "$MAILSH" lab --foo
de_usage mitm "mailsh mitm: Option „--port“ braucht ein Argument" \
    "„mailsh mitm --help“ liefert weitere Informationen." \
    env LANG=de_DE.UTF-8 "$MAILSH" mitm --port
de_usage lesson "mailsh lesson: unbekannte Option „--foo“" \
    "„mailsh lesson --help“ liefert weitere Informationen." \
    "$MAILSH" lesson --lang de --foo

# ---- the config file ----
run() {	# mailsh with the clean environment; stdin: /dev/null unless given
	"${clean_env[@]}" "$MAILSH" "$@"
}
check() {	# name, pattern, file: PASS if the pattern is in the file
	if grep -qE -- "$2" "$3"; then pass "$1"; else fail "$1 (no /$2/)"; show "$3"; fi
}

cat >"$cfg" <<'EOF'
# defaults for this machine
annotate = off

   lang=de
EOF
echo /annotate | run >"$work/a" 2>&1
check config-annotate '^   \* .*: off$' "$work/a"
run --help >"$work/a" 2>&1
check config-lang '^Aufruf: mailsh' "$work/a"
run --lang en --help >"$work/a" 2>&1
check config-cmdline-wins '^usage: mailsh' "$work/a"
echo /annotate | run --annotate full >"$work/a" 2>&1
check config-cmdline-wins-annotate 'full$' "$work/a"
echo /annotate | run --no-config >"$work/a" 2>&1
check config-no-config '^   \* annotations: brief$' "$work/a"

# ~/.config/mailsh/config when XDG_CONFIG_HOME is not set (or relative)
mkdir -p "$work/home/.config/mailsh"
echo 'annotate = full' >"$work/home/.config/mailsh/config"
echo /annotate | "${clean_env[@]}" env -u XDG_CONFIG_HOME "$MAILSH" \
    >"$work/a" 2>&1
check config-home-default 'annotations: full$' "$work/a"
echo /annotate | "${clean_env[@]}" XDG_CONFIG_HOME=relative "$MAILSH" \
    >"$work/a" 2>&1
check config-xdg-relative-ignored 'annotations: full$' "$work/a"

# bad lines: exit 2, file:line named, nothing run
badcfg() {	# name, want pattern, config text
	printf '%s\n' "$3" >"$cfg"
	echo /annotate | run >"$work/a" 2>"$work/e"
	local rc=$?
	if [ $rc -eq 2 ] && grep -qE -- "^mailsh: $cfg:$2" "$work/e" &&
	    [ ! -s "$work/a" ]; then
		pass "config-bad-$1"
	else
		fail "config-bad-$1 (exit $rc)"; show "$work/e" "$work/a"
	fi
}
badcfg unknown-key '3: unknown key "colr"' '# x

colr = never'
badcfg no-equals '2: no "="' 'lang = en
timeout 30'
badcfg bad-lang '1: lang wants de or en, not "fr"' 'lang = fr'
badcfg bad-timeout '1: timeout wants seconds from 1 to 3600, not "30s"' \
    'timeout = 30s'
badcfg bad-annotate '1: annotate wants off, brief or full' 'annotate = all'
badcfg bad-color '1: color wants auto, always or never' 'color = red'
badcfg bad-confirm '1: confirm wants yes or no' 'confirm = maybe'
badcfg empty-cafile '1: cafile wants a file name' 'cafile ='
badcfg empty-cert '1: cert wants a file name' 'cert ='
badcfg bad-tls-min '1: tls-min wants 1.0, 1.1, 1.2 or 1.3, not "1.5"' \
    'tls-min = 1.5'
badcfg bad-ciphers '2: ciphers: OpenSSL does not accept "NOPE"' \
    'tls-max = 1.2
ciphers = NOPE'
echo /annotate | run --no-config >"$work/a" 2>&1
check config-bad-no-config 'annotations: brief$' "$work/a"
printf 'lang = de\ntimeout = 0\n' >"$cfg"
run --help >/dev/null 2>"$work/e"
check config-bad-german ':2: timeout erwartet Sekunden von 1 bis 3600, nicht „0“$' "$work/e"
printf 'lang = de\n' >"$cfg"
run --foo >/dev/null 2>"$work/e"
check config-lang-usage-error '^mailsh: unbekannte Option „--foo“$' "$work/e"
# the lesson subcommand reads lang (titles and messages in one language)
printf 'lang = de\n' >"$cfg"
"${clean_env[@]}" MAILSH_LESSONS="$top/lessons" "$MAILSH" lesson \
    >"$work/a" 2>&1
if grep -q '^smtp-by-hand .*Eine Mail von Hand verschicken' "$work/a" &&
    grep -q '^Starte eine mit' "$work/a"; then
	pass config-lesson-lang
else
	fail config-lesson-lang; show "$work/a"
fi
"${clean_env[@]}" MAILSH_LESSONS="$top/lessons" "$MAILSH" lesson \
    --no-config >"$work/a" 2>&1
check config-lesson-no-config '^smtp-by-hand .*Sending a mail by hand' \
    "$work/a"
printf 'lang = de\nbogus\n' >"$cfg"
"${clean_env[@]}" "$MAILSH" lesson >"$work/a" 2>&1
[ $? -eq 2 ] && grep -q "config:2: kein „=“" "$work/a" &&
    pass config-lesson-bad-line || { fail config-lesson-bad-line; show "$work/a"; }
mkdir -p "$work/dir/mailsh/config"
echo /annotate | "${clean_env[@]}" XDG_CONFIG_HOME="$work/dir" "$MAILSH" \
    >"$work/a" 2>"$work/e"
[ $? -eq 2 ] && grep -q 'is not a file' "$work/e" &&
    pass config-directory || { fail config-directory; show "$work/e"; }

# timeout and cafile reach the session: a silent server, then the lab's
# submissions port (its CA only through the config file)
cat >"$work/silent.py" <<'PY'
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)	# never answers
PY
python3 "$work/silent.py" "$work/silent.port" &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$work/silent.port" ] && break; sleep 0.05; done
sport=$(cat "$work/silent.port" 2>/dev/null)
printf 'timeout = 1\n' >"$cfg"
run -p smtp 127.0.0.1 "$sport" </dev/null >"$work/a" 2>&1
rc=$?
check config-timeout "within 1 s" "$work/a"
run --timeout 2 -p smtp 127.0.0.1 "$sport" </dev/null >"$work/a" 2>&1
check config-timeout-cmdline-wins "within 2 s" "$work/a"
[ $rc -eq 6 ] && pass "config-timeout-exit-6" || fail "config-timeout-exit-6 ($rc)"

"${clean_env[@]}" "$MAILSH" lab --state "$work/lab" --port-base 0 \
    >"$work/lab.out" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 600); do [ -s "$work/lab/ports" ] && break; sleep 0.05; done
subs=$(awk '$1 == "submissions" { print $2 }' "$work/lab/ports" 2>/dev/null)
if [ -z "$subs" ]; then
	fail "config-cafile (the lab did not start)"; show "$work/lab.out"
else
	cp "$work/lab/ca.pem" "$work/home/lab-ca.pem"
	printf 'cafile = ~/lab-ca.pem\n' >"$cfg"
	printf 'QUIT\r\n' | run --tls localhost "$subs" >"$work/a" 2>&1
	check config-cafile 'verified: yes' "$work/a"
	printf 'QUIT\r\n' | run --no-config --tls localhost "$subs" \
	    >"$work/a" 2>&1
	check config-cafile-no-config 'verified: NO' "$work/a"
	# capath from the config file (a hashed directory, ~/ expanded)
	mkdir -p "$work/home/capath"
	cp "$work/lab/ca.pem" "$work/home/capath/"
	openssl rehash "$work/home/capath" >/dev/null 2>&1
	printf 'capath = ~/capath\n' >"$cfg"
	printf 'QUIT\r\n' | run --tls localhost "$subs" >"$work/a" 2>&1
	check config-capath "verified: yes, for localhost \\(system store and .*/home/capath\\)$" "$work/a"
	# tls-max from the config file reaches the handshake
	printf 'cafile = ~/lab-ca.pem\ntls-max = 1.2\n' >"$cfg"
	printf 'QUIT\r\n' | run --tls 127.0.0.1 "$subs" >"$work/a" 2>&1
	check config-tls-max '^   \* TLSv1\.2, ' "$work/a"
	# --servername against the lab (its certificate carries lab.example)
	printf 'QUIT\r\n' | run --no-config --cafile "$work/lab/ca.pem" --tls \
	    --servername lab.example 127.0.0.1 "$subs" >"$work/a" 2>&1
	check lab-servername-match 'verified: yes, for lab.example ' "$work/a"
	printf 'QUIT\r\n' | run --no-config --cafile "$work/lab/ca.pem" --tls \
	    --servername mail.example.org 127.0.0.1 "$subs" >"$work/a" 2>&1
	rc=$?
	check lab-servername-mismatch 'the certificate is for localhost, 127\.0\.0\.1, ::1, lab\.example, not for mail\.example\.org$' "$work/a"
	[ $rc -eq 4 ] && pass lab-servername-mismatch-exit-4 ||
	    { fail "lab-servername-mismatch-exit-4 ($rc)"; show "$work/a"; }
fi
rm -f "$cfg"

# ---- colour ----
# color NAME WANT(yes|no) pipe|tty [env VAR=...] [args...]: is there an
# escape sequence in what /b64 prints?
cat >"$work/ptyrun.py" <<'PY'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=s,
                     stderr=s)
os.close(s)
p.stdin.write(b"/b64 hi\n"); p.stdin.close()
out = b""
while True:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
p.wait()
sys.stdout.buffer.write(out)
PY
color() {
	local name=$1 want=$2 how=$3; shift 3
	local envs=()
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Z_]+= ]]; do envs+=("$1"); shift; done
	if [ "$how" = tty ]; then
		"${clean_env[@]}" "${envs[@]}" python3 "$work/ptyrun.py" \
		    "$MAILSH" "$@" >"$work/c" 2>&1
	else
		echo '/b64 hi' | "${clean_env[@]}" "${envs[@]}" "$MAILSH" "$@" \
		    >"$work/c" 2>&1
	fi
	local got=no
	grep -q $'\033\\[' "$work/c" && got=yes
	if ! grep -q 'aGk=' "$work/c"; then
		fail "color-$name (no output)"; show "$work/c"
	elif [ "$got" = "$want" ]; then
		pass "color-$name"
	else
		fail "color-$name (colour: $got, want $want)"
		od -c "$work/c" | head -3 | sed 's/^/    /'
	fi
}
color pipe no pipe
color pipe-always yes pipe --color=always
color pipe-bare-color yes pipe --color
color pipe-force yes pipe CLICOLOR_FORCE=1
color pipe-force-0 no pipe CLICOLOR_FORCE=0
color pipe-force-empty no pipe CLICOLOR_FORCE=
color pipe-no-color-beats-force no pipe NO_COLOR=1 CLICOLOR_FORCE=1
color pipe-option-beats-no-color yes pipe NO_COLOR=1 --color=always
color pipe-never-beats-force no pipe CLICOLOR_FORCE=1 --color=never
color tty yes tty
color tty-no-color no tty NO_COLOR=1
color tty-no-color-empty yes tty NO_COLOR=
color tty-clicolor-0 no tty CLICOLOR=0
color tty-clicolor-1 yes tty CLICOLOR=1
color tty-force-beats-clicolor yes tty CLICOLOR=0 CLICOLOR_FORCE=1
color tty-never no tty --color=never
color tty-no-color-option no tty --no-color
color tty-auto-no-color no tty NO_COLOR=x --color=auto
color tty-dumb no tty TERM=dumb
echo '/b64 hi' | "${clean_env[@]}" "$MAILSH" --json --color=always \
    >"$work/c" 2>&1
if grep -q '"text":"base64: aGk="' "$work/c" && ! grep -q $'\033' "$work/c"; then
	pass color-json-never
else
	fail color-json-never; show "$work/c"
fi
printf 'color = never\n' >"$cfg"
color config-never no tty
color config-cmdline-wins yes tty --color=always
printf 'color = always\n' >"$cfg"
color config-always yes pipe
color config-beats-no-color yes pipe NO_COLOR=1
color config-no-config no pipe --no-config
rm -f "$cfg"

# ---- the lesson search path ----
# MAILSH_LESSONS (colon-separated), then $XDG_DATA_HOME/mailsh/lessons
# (else ~/.local/share/mailsh/lessons), /etc/mailsh/lessons, the shipped
# lessons; the first of a name wins; `mailsh lesson` says where a lesson
# from outside comes from.
shipped=$top/lessons/01-smtp-by-hand.lesson
mklesson() {	# file, name, title
	mkdir -p "$(dirname "$1")"
	sed -e "s/^lesson: .*/lesson: $2/" -e "s/^title\.en: .*/title.en: $3/" \
	    "$shipped" >"$1"
}
lessons() {	# MAILSH_LESSONS value, args...: mailsh lesson, output in $work/l
	local path=$1; shift
	"${clean_env[@]}" MAILSH_LESSONS="$path" "$MAILSH" lesson "$@" \
	    >"$work/l" 2>&1
}
lp_check() {	# name, then awk program that must print "ok"
	if [ "$(awk "$2" "$work/l")" = ok ]; then pass "lesson-path-$1"; else
		fail "lesson-path-$1"; show "$work/l"; fi
}
mklesson "$work/course/own.lesson" course-own "A course's own lesson"
mklesson "$work/course/smtp.lesson" smtp-by-hand "The course's SMTP lesson"
mklesson "$work/course2/own.lesson" course-own "Hidden by the first dir"
mklesson "$work/course2/extra.lesson" course-extra "From the second dir"
lessons "$work/course"
lp_check adds '/^course-own .*A course.s own lesson$/ { a = 1 }
    /^pop3-by-hand / { b = 1 } END { if (a && b) print "ok" }'
lp_check marker-own "/^ +from ${work//\//\\/}\/course\/own\.lesson\$/ { n++ }
    END { if (n == 1) print \"ok\" }"
lp_check overrides '/^smtp-by-hand .*The course.s SMTP lesson$/ { a++ }
    /^smtp-by-hand .*Sending a mail by hand/ { b++ }
    / in place of .*lessons\/01-smtp-by-hand\.lesson$/ { c++ }
    END { if (a == 1 && !b && c == 1) print "ok" }'
lp_check shipped-unmarked '/^pop3-by-hand / { p = 1; next }
    p && /^ +from / { bad = 1 } p && /^[a-z]/ { p = 0 }
    END { if (!bad) print "ok" }'
lessons "$work/course" smtp-by-hand --handout md
lp_check override-runs '/The course.s SMTP lesson/ { print "ok"; exit }'
lessons "$work/course:$work/course2"
lp_check first-dir-wins '/Hidden by the first dir/ { bad = 1 }
    /^course-own .*A course.s own lesson$/ { a = 1 }
    /^course-extra .*From the second dir$/ { b = 1 }
    END { if (a && b && !bad) print "ok" }'
lessons "$work/course::$work/nowhere:"
lp_check empty-and-missing-entries '/^course-own / { a = 1 }
    /^smtp-by-hand / { b = 1 } END { if (a && b) print "ok" }'
lessons "$work/course" course-extra
lp_check not-found-names-path "/no lesson \"course-extra\" in ${work//\//\\/}\/course:.*:\/etc\/mailsh\/lessons:.*lessons;/ { print \"ok\" }"
# the XDG data directory, and ~/.local/share without XDG_DATA_HOME
mklesson "$work/data/mailsh/lessons/x.lesson" xdg-lesson "From XDG_DATA_HOME"
mklesson "$work/home/.local/share/mailsh/lessons/h.lesson" home-lesson \
    "From the home directory"
"${clean_env[@]}" XDG_DATA_HOME="$work/data" MAILSH_LESSONS="$work/course" \
    "$MAILSH" lesson >"$work/l" 2>&1
lp_check xdg-data-home '/^xdg-lesson .*From XDG_DATA_HOME$/ { a = 1 }
    /^home-lesson / { b = 1 } /^course-own / { c = 1 }
    END { if (a && !b && c) print "ok" }'
"${clean_env[@]}" "$MAILSH" lesson >"$work/l" 2>&1
lp_check home-data '/^home-lesson .*From the home directory$/ { a = 1 }
    /^smtp-by-hand .*Sending a mail by hand/ { b = 1 }
    END { if (a && b) print "ok" }'
mklesson "$work/data/mailsh/lessons/s.lesson" smtp-by-hand "XDG SMTP"
"${clean_env[@]}" XDG_DATA_HOME="$work/data" MAILSH_LESSONS="$work/course" \
    "$MAILSH" lesson >"$work/l" 2>&1
lp_check env-before-xdg '/^smtp-by-hand .*The course.s SMTP lesson$/ { a = 1 }
    /XDG SMTP/ { bad = 1 } END { if (a && !bad) print "ok" }'
# a broken lesson of that name is reported, not replaced by the shipped one
mkdir -p "$work/broken"
printf 'lesson: smtp-by-hand\nnonsense\n' >"$work/broken/smtp-by-hand.lesson"
lessons "$work/broken" smtp-by-hand --handout md
rc=$?
lp_check broken-override '/smtp-by-hand\.lesson:2:/ { a = 1 }
    /Sending a mail by hand/ { bad = 1 } END { if (a && !bad) print "ok" }'
[ $rc -eq 2 ] && pass lesson-path-broken-exit-2 ||
    fail "lesson-path-broken-exit-2 ($rc)"
# bounded: 130 files, the first 128 by name are read, and it says so
mkdir -p "$work/many"
for i in $(seq -w 1 130); do
	mklesson "$work/many/m$i.lesson" "many-$i" "Many $i"
done
lessons "$work/many"
lp_check bounded '/^many-128 / { a = 1 } /^many-129 / { bad = 1 }
    /more than 128 lesson files in .*many: only the first 128/ { m = 1 }
    /^smtp-by-hand / { s = 1 }
    END { if (a && m && s && !bad) print "ok" }'
# --lint sees the whole path; a named lesson is found on it
lessons "$work/course" --lint course-own smtp-by-hand
rc=$?
[ $rc -eq 0 ] && pass lesson-path-lint || { fail "lesson-path-lint ($rc)"; show "$work/l"; }
lessons "$work/course" --lint course-extra
rc=$?
[ $rc -eq 2 ] && grep -q 'found 0 of the lessons named in .*/course:' "$work/l" &&
    pass lesson-path-lint-missing ||
    { fail "lesson-path-lint-missing ($rc)"; show "$work/l"; }

# --cafile that cannot be read: exit 2 before connecting, saying why
# (port 9 on loopback: nothing is connected to, nothing listens there)
for ca in "$work/no-such-ca.pem" "$work"; do
	echo QUIT | "$MAILSH" --cafile "$ca" --tls 127.0.0.1 9 >"$work/ca.out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^mailsh: cannot read the CA file $ca: " \
	    "$work/ca.out" && ! grep -qi 'connect' "$work/ca.out"; then
		pass "cafile-unreadable-exit-2 ($(basename "$ca"))"
	else
		fail "cafile-unreadable-exit-2 ($(basename "$ca"): exit $rc)"
		show "$work/ca.out"
	fi
done
# a bracketed IPv6 address with junk after it is a usage error
"$MAILSH" '[::1]x' </dev/null >"$work/h.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'write an IPv6 address as \[::1\]' "$work/h.out" &&
    pass host-brackets-usage || { fail "host-brackets-usage ($rc)"; show "$work/h.out"; }

exit 0
