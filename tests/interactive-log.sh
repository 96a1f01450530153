#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/interactive-log.sh: the transcript (issue 10 §5) and the terminal
# safety (§6) in a real terminal (tmux), colour on.
#   interactive-log-*: /log FILE starts a transcript in the middle of a
#   session, /log says where it goes, /log off ends it; the file holds
#   the lines the screen showed from /log FILE to /log off (header line
#   with date and server, C:/S:/=/!/* lines, errors), no colour codes,
#   the password masked, mode 0600; a second /log FILE appends; a
#   symbolic link is refused.
#   interactive-hostile-*: a server's OSC 52 / OSC 0 / CSI in an EHLO
#   keyword does not reach the terminal (the window title and the
#   clipboard stay; the pane shows the escape as text).
# Prints PASS/FAIL/SKIP lines.  Loopback only; waits for screen lines,
# never fixed sleeps.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$TOP/mailsh}
command -v tmux >/dev/null ||
    { echo "FAIL interactive-log (no tmux: install the Debian package tmux)"; exit 1; }
[ -x "$MAILSH" ] || { echo "FAIL interactive-log (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
srv=
cleanup() {
	tm kill-server 2>/dev/null
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

python3 "$TOP/tests/e2e.py" --make-certs "$work/certs" >/dev/null 2>&1 ||
    { echo "FAIL interactive-log (cannot make test certificates)"; exit 1; }
cat >"$work/srv" <<'EOF'
send 220 fake.example ESMTP
expect EHLO client.example
send 250-fake.example
send 250-X\x1b]52;c;aGk=\x07CLIP
send 250-Y\x1b]0;pwned\x07
send 250 AUTH PLAIN
expect AUTH PLAIN AGFsaWNlAHNlY3JldA==
send 235 2.7.0 Authentication successful
expect NOOP
send 250 2.0.0 ok
expect RSET
send 250 2.0.0 reset
expect QUIT
send 221 2.0.0 Bye
EOF
python3 "$TOP/tests/fakeserver.py" --certdir "$work/certs" --timeout 60 \
    "$work/srv" >"$work/srv.out" 2>"$work/srv.err" & srv=$!
for _ in $(seq 100); do [ -s "$work/srv.out" ] && break; sleep 0.1; done
port=$(awk '$1 == "PORT" { print $2 }' "$work/srv.out")

export HOME=$work/home XDG_STATE_HOME=$work/state
mkdir -p "$HOME"
ln -s "$work/elsewhere" "$work/link.log"
tm new-session -d -x 150 -y 50 \
    "env -u NO_COLOR TERM=xterm-256color $MAILSH --color=always --no-confirm -p smtp 127.0.0.1 $port; echo EXIT=\$? >$work/exit; sleep 60"
tm set-option -g set-titles off 2>/dev/null

screen() { tm capture-pane -p -S -200 2>/dev/null; }
wait_for() {	# until the screen shows a line matching $1 (10 s at most)
	for _ in $(seq 100); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
check() {	# name, pattern
	if wait_for "$2"; then echo "PASS $1"; else
		echo "FAIL $1 (no line matching: $2)"
		screen | tail -20 | sed 's/^/    /'
	fi
}
log=$work/t.log

check interactive-log-greeting '^S: 220 fake.example'
tm send-keys "/log $log" Enter
check interactive-log-start "transcript: appending to $log"
tm send-keys 'EHLO client.example' Enter
check interactive-hostile-ehlo '= X\\e\]52;c;aGk: an extension'
tm send-keys 'AUTH PLAIN AGFsaWNlAHNlY3JldA==' Enter
check interactive-log-auth '^S: 235 2.7.0'
tm send-keys '/log' Enter
check interactive-log-where "transcript: $log\$"
tm send-keys '/nosuch' Enter
check interactive-log-error 'unknown command /nosuch'
tm send-keys '/log off' Enter
check interactive-log-off "transcript $log ended"
tm send-keys 'NOOP' Enter
check interactive-log-noop '^S: 250 2.0.0 ok'
tm send-keys "/log $work/link.log" Enter
check interactive-log-symlink 'cannot write the transcript .*link.log: it is a symbolic link'
tm send-keys "/log $log" Enter
check interactive-log-again "transcript: appending to $log"
tm send-keys 'RSET' Enter
check interactive-log-rset '^S: 250 2.0.0 reset'
tm send-keys 'QUIT' Enter
check interactive-log-quit '^S: 221 2.0.0 Bye'
for _ in $(seq 100); do [ -s "$work/exit" ] && break; sleep 0.1; done

# the pane's title was not set by the server's OSC 0
title=$(tm display-message -p '#{pane_title}' 2>/dev/null)
case $title in
*pwned*) echo "FAIL interactive-hostile-title (pane title: $title)" ;;
*) echo "PASS interactive-hostile-title" ;;
esac

ok=1
why() { ok=0; echo "    $*"; }
{
	[ -f "$log" ] || why "no transcript"
	[ "$(stat -c %a "$log" 2>/dev/null)" = 600 ] || why "mode not 600"
	[ "$(grep -c '^--- .*: session with 127.0.0.1 port ' "$log")" = 2 ] ||
	    why "not two header lines with the server"
	LC_ALL=C grep -q $'\x1b\\|\x07' "$log" && why "control bytes in it"
	grep -q '^C: AUTH PLAIN \*\*\*\*\*\*\*\*$' "$log" ||
	    why "no masked AUTH line"
	grep -q 'AGFsaWNl' "$log" && why "the password is in it"
	grep -qF '= X\e]52;c;aGk: an extension' "$log" ||
	    why "no escaped EHLO keyword"
	grep -q '^mailsh: unknown command /nosuch' "$log" ||
	    why "no error line"
	grep -q "^   \* transcript: $log\$" "$log" || why "no /log answer"
	grep -q 'NOOP\|2.0.0 ok' "$log" && why "NOOP logged after /log off"
	grep -q '^S: 250 2.0.0 reset$' "$log" || why "nothing after the second /log"
	[ -e "$work/elsewhere" ] && why "wrote through the symbolic link"
} >"$work/why"
if [ $ok = 1 ] && [ ! -s "$work/why" ]; then echo "PASS interactive-log-file"
else
	echo "FAIL interactive-log-file"
	cat "$work/why"
	sed 's/^/    | /' "$log" | cat -v | tail -40
fi
