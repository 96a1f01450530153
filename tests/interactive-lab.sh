#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Ctrl-C and the lab, through a real terminal (tmux).  The lab and MITM
# processes the shell starts must never see the terminal's signals:
# Ctrl-C at the prompt and inside SMTP DATA drops only the line being
# typed (inside DATA with a note on how to end or abandon the message),
# the lab keeps answering, no 421 / BYE appears, the mail arrives, no
# child is left defunct, and after /quit, a closed terminal (hang-up) or
# a killed shell no lab process remains; a lab that dies is reported.
# Covers `mailsh` without a server, `mailsh lesson smtp-by-hand` and a
# MITM lesson.
# Run by tests/interactive.sh (so also on the libedit build).
# Prints PASS/FAIL/SKIP lines.  Loopback only (the lab on free ports).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
command -v tmux >/dev/null ||
    { echo "FAIL interactive-lab (no tmux: install the Debian package tmux)"; exit 1; }
[ -x "$MAILSH" ] || { echo "FAIL interactive-lab (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
# the labs' state directories live here: their processes can be found
# by it (their command lines name it), and nothing else matches
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
labs() { pgrep -f -- "$TMPDIR/mailsh-lesson" 2>/dev/null; }
cleanup() {
	tm kill-server 2>/dev/null
	local p
	for p in $(labs); do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

export HOME=$work/home XDG_STATE_HOME=$work/state
export MAILSH_LESSONS=${MAILSH_LESSONS:-$top/lessons}
mkdir -p "$HOME"
unset LANGUAGE LC_ALL LC_MESSAGES
export LANG=C.UTF-8 NO_COLOR=1

S=			# the tmux session the helpers look at
screen() { tm capture-pane -p -t "$S" -S -2000 2>/dev/null; }
# Waits (up to 20 s: a lab starts first) for a line matching $1.
# Stops early when the shell has ended.
wait_for() {
	for _ in $(seq 200); do
		screen | grep -qE -- "$1" && return 0
		[ -s "$work/$S.exit" ] && break
		sleep 0.1
	done
	screen | grep -qE -- "$1"
}
# Waits until the screen shows at least $2 lines matching $1.
wait_count() {
	for _ in $(seq 200); do
		[ "$(screen | grep -cE -- "$1")" -ge "$2" ] && return 0
		[ -s "$work/$S.exit" ] && break
		sleep 0.1
	done
	[ "$(screen | grep -cE -- "$1")" -ge "$2" ]
}
fail() { echo "FAIL $1"; screen | tail -25 | sed 's/^/    /'; }
# Waits until the editor has read a half-typed line (it is drawn after
# the prompt): the terminal discards input not yet read when Ctrl-C
# sends SIGINT, so Ctrl-C before that would find an empty line.
typed() { wait_for "> $1\$" || true; }
check() {	# name, pattern
	if wait_for "$2"; then echo "PASS $1"; else fail "$1 (no line matching: $2)"; fi
}
check_count() {	# name, pattern, count
	if wait_count "$2" "$3"; then echo "PASS $1"; else
		fail "$1 (fewer than $3 lines matching: $2)"; fi
}
# Types a line (literally) and Enter.
send() { tm send-keys -t "$S" -l -- "$1"; tm send-keys -t "$S" Enter; }
no_shutdown() {	# name: the lab never said goodbye on its own
	if screen | grep -qE '^S: (421|\* BYE)'; then
		fail "$1 (the lab shut down: 421 / BYE)"
	else
		echo "PASS $1"
	fi
}
# Starts "$@" in tmux session $S; its pid goes to $work/$S.pid, its exit
# status to $work/$S.exit.
start() {
	S=$1; shift
	tm new-session -d -s "$S" -x 150 -y 50 \
	    "sh -c 'echo \$\$ >$work/$S.pid; exec \"\$@\"' sh $*; echo EXIT=\$? >$work/$S.exit; sleep 120"
}
pid_of() { cat "$work/$1.pid" 2>/dev/null; }
# the shell's children: none defunct, none in the shell's session
children_ok() {	# name
	local sh sid bad=
	sh=$(pid_of "$S")
	sid=$(ps -o sid= -p "$sh" | tr -d ' ')
	local kids
	kids=$(ps -o pid= --ppid "$sh" | tr -d ' ')
	if [ -z "$kids" ]; then fail "$1 (the shell has no lab child)"; return; fi
	for k in $kids; do
		case $(ps -o stat= -p "$k") in Z*) bad="$bad $k:defunct" ;; esac
		[ "$(ps -o sid= -p "$k" | tr -d ' ')" = "$sid" ] &&
		    bad="$bad $k:in-the-terminal's-session"
	done
	if [ -z "$bad" ]; then echo "PASS $1"; else fail "$1 ($bad)"; fi
}
# after the shell ended: no lab or MITM process of this test remains
gone() {	# name
	for _ in $(seq 100); do
		[ -z "$(labs)" ] && break
		sleep 0.1
	done
	if [ -z "$(labs)" ]; then echo "PASS $1"; else
		echo "FAIL $1 (still running:"; ps -o pid=,stat=,args= -p "$(labs | paste -sd,)" | sed 's/^/    /'
		echo "    )"
	fi
}
wait_exit() {	# session: waits for the shell to end
	for _ in $(seq 100); do
		[ -s "$work/$1.exit" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- mailsh without a server: its own lab ----
start own env "$MAILSH"
check own-lab-greeting '^S: 220 '
wait_for '^smtp plain> '
# Ctrl-C at the prompt, halfway through a line
tm send-keys -t own -l 'VRFY halfway'; typed 'VRFY halfway'; tm send-keys -t own C-c
wait_for 'VRFY halfway\^C'
send 'EHLO pc17.example'
check_count own-lab-ctrl-c-prompt '^S: 250 ' 1
send 'MAIL FROM:<alice@lab.example>'
check_count own-lab-mail-from '^S: 250 ' 2
send 'RCPT TO:<bob@lab.example>'
check_count own-lab-rcpt-to '^S: 250 ' 3
send 'DATA'
check own-lab-data '^S: 354 '
send 'Subject: ctrl-c in data'
send ''
tm send-keys -t own -l 'a line given up'; typed 'a line given up'; tm send-keys -t own C-c
check own-lab-ctrl-c-data-note '= Ctrl-C dropped only the line being typed'
check own-lab-ctrl-c-data-how 'a line with a lone "\." ends it'
send 'Still here.'
send '.'
check_count own-lab-data-kept '^S: 250 ' 4
if screen | grep -q '^C: a line given up'; then
	fail "own-lab-ctrl-c-line-dropped (the dropped line was sent)"
else
	echo "PASS own-lab-ctrl-c-line-dropped"
fi
tm send-keys -t own C-c
send 'NOOP'
check_count own-lab-noop '^S: 250 ' 5
children_ok own-lab-children
# read it back over POP3 (implicit TLS, the lab's CA is trusted)
pop3s=$(screen | sed -n 's/.*lab ports on 127\.0\.0\.1: .*pop3s \([0-9]*\).*/\1/p' | head -1)
send 'QUIT'
wait_for '^S: 221 '
send "/open --tls 127.0.0.1 $pop3s"
wait_for '^S: \+OK '
send 'USER bob'
send 'PASS bob-pass'
wait_count '^S: \+OK ' 3
send 'RETR 1'
check own-lab-mail-arrived '^S: Subject: ctrl-c in data'
if screen | grep -q '^S: a line given up'; then
	fail "own-lab-mail-without-dropped-line"
else
	echo "PASS own-lab-mail-without-dropped-line"
fi
no_shutdown own-lab-no-421
send '/quit'
if wait_exit own; then echo "PASS own-lab-quit"; else fail "own-lab-quit"; fi
gone own-lab-stopped-after-quit

# ---- a lesson: Ctrl-C at the prompt and in DATA ----
start les env "$MAILSH" lesson smtp-by-hand --lang en
check lesson-greeting '^S: 220 '
wait_for '^smtp plain> '
tm send-keys -t les -l 'EHLO halfway'; typed 'EHLO halfway'; tm send-keys -t les C-c
wait_for 'EHLO halfway\^C'
send 'EHLO pc17.example'
check_count lesson-ctrl-c-prompt '^S: 250 ' 1
send 'MAIL FROM:<alice@lab.example>'
wait_count '^S: 250 ' 2
send 'RCPT TO:<bob@lab.example>'
wait_count '^S: 250 ' 3
send 'DATA'
wait_for '^S: 354 '
send 'Subject: Hello from the lab'
tm send-keys -t les -l 'half a line'; typed 'half a line'; tm send-keys -t les C-c
check lesson-ctrl-c-data-note '= Ctrl-C dropped only the line being typed'
send ''
send 'Typed by hand.'
send '.'
check_count lesson-ctrl-c-data-kept '^S: 250 ' 4
send 'NOOP'
check_count lesson-noop '^S: 250 ' 5
children_ok lesson-children
no_shutdown lesson-no-421
send '/quit'
wait_exit les
gone lesson-stopped-after-quit

# ---- a lesson with MITM proxies: Ctrl-C reaches neither ----
start mitm env "$MAILSH" lesson starttls-stripping --lang en
check mitm-lesson-greeting '^S: 220 '
wait_for '^smtp plain> '
tm send-keys -t mitm C-c
wait_for '> \^C'
send 'EHLO pc17.example'
check_count mitm-lesson-ctrl-c '^S: 250 ' 1
no_shutdown mitm-lesson-no-421
if [ "$(ps -o pid= --ppid "$(pid_of mitm)" | wc -l)" -ge 2 ]; then
	echo "PASS mitm-lesson-proxies-alive"
else
	fail "mitm-lesson-proxies-alive (a proxy is gone)"
fi
children_ok mitm-lesson-children
send '/quit'
wait_exit mitm
gone mitm-lesson-stopped-after-quit

# ---- SIGHUP at the prompt, the terminal still there: mailsh ends as the
# signal says (status 129), stops its lab, and the signal stays its own.
# The line editor must not catch it: libedit's handlers (EL_SIGNAL, on
# when rl_catch_signals was still 1 at its first use) pass it on to the
# whole process group, killing the shell that started mailsh, and call
# stdio from the handler: a hang-up landing while stdout was locked hung
# mailsh and left its lab running (seen in CI on a busy machine). ----
start sighup env "$MAILSH"
wait_for '^smtp plain> '
kill -HUP "$(pid_of sighup)"
if wait_exit sighup && grep -qx 'EXIT=129' "$work/sighup.exit"; then
	echo "PASS sighup-ends-only-mailsh"
else
	fail "sighup-ends-only-mailsh (the shell that started mailsh wrote: $(cat "$work/sighup.exit" 2>/dev/null || echo nothing: it was killed too))"
fi
gone sighup-lab-stopped
tm kill-session -t sighup 2>/dev/null

# ---- SIGTERM landing after the shell's last look at its flags, at the
# entry of its wait: the wait ends all the same (ppoll() with the signals
# blocked outside it); a plain poll() slept on until the next key.  gdb
# holds mailsh there (a key typed wakes it from the wait it was in), the
# signal is sent, then mailsh goes on: no timing involved. ----
if command -v gdb >/dev/null; then
	start wake env "$MAILSH"
	wait_for '^smtp plain> '
	send 'NOOP'	# the lab then waits 60 s, not 30, for the next one
	wait_for '^S: 250 '
	pid=$(pid_of wake)
	timeout 60 gdb -batch -nx -p "$pid" \
	    -ex 'handle SIGTERM nostop noprint pass' \
	    -ex 'break poll' -ex 'break ppoll' \
	    -ex "shell tmux -S '$sock' send-keys -t wake -l x" \
	    -ex continue -ex "shell kill -TERM $pid" -ex delete -ex detach \
	    >"$work/gdb.log" 2>&1
	if ! grep -q '^Breakpoint [12],' "$work/gdb.log"; then
		echo "SKIP sigterm-at-wait (gdb could not hold mailsh)"
		kill -TERM "$pid" 2>/dev/null
		wait_exit wake
	elif wait_exit wake && grep -qx 'EXIT=143' "$work/wake.exit" &&
	    ! screen | grep -q 'the server closed the connection'; then
		echo "PASS sigterm-at-wait"
	else
		# (woken only by the lab's idle timeout, if at all)
		fail "sigterm-at-wait (the signal did not end the wait)"
	fi
	gone sigterm-at-wait-lab-stopped
	tm kill-session -t wake 2>/dev/null
else
	echo "SKIP sigterm-at-wait (no gdb)"
fi

# ---- the terminal closes (hang-up): the lab stops, its directory goes ----
start hup env "$MAILSH"
wait_for '^S: 220 '
[ -n "$(labs)" ] || fail "hangup-lab-started"
tm kill-session -t hup
gone hangup-lab-stopped
for _ in $(seq 100); do
	ls "$TMPDIR" | grep -q mailsh-lesson || break
	sleep 0.1
done
if ls "$TMPDIR" | grep -q mailsh-lesson; then
	echo "FAIL hangup-state-removed ($(ls "$TMPDIR"))"
else
	echo "PASS hangup-state-removed"
fi

# ---- the shell is killed: the lab stops all the same ----
start kill env "$MAILSH"
wait_for '^S: 220 '
kill -KILL "$(pid_of kill)"
gone killed-shell-lab-stopped
rm -rf "${TMPDIR:?}"/mailsh-lesson.*

# ---- the lab dies under the shell: said at once, reaped, no zombie ----
start died env "$MAILSH"
wait_for '^S: 220 '
lab=$(ps -o pid= --ppid "$(pid_of died)" | tr -d ' ')
[ -n "$lab" ] && kill -KILL "$lab"
check lab-died-reported 'the lab stopped unexpectedly \(SIGKILL\)'
if [ -n "$lab" ] && ps -o stat= -p "$lab" >/dev/null; then
	fail "lab-died-reaped ($lab is still there: $(ps -o stat= -p "$lab"))"
else
	echo "PASS lab-died-reaped"
fi
send '/quit'
if wait_exit died; then echo "PASS lab-died-quit"; else fail "lab-died-quit"; fi
exit 0
