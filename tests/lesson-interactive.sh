#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# An interactive lesson through a real terminal (tmux): `mailsh lesson
# smtp-by-hand` starts its lab, a wrong first line gets the hint, the
# right one advances to step 2, /skip advances once more, /quit leaves.
# Waits for screen content by polling.  Prints PASS/FAIL/SKIP lines.
# Loopback only (the lab on free ports).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
command -v tmux >/dev/null ||
    { echo "FAIL lesson-interactive (no tmux: install the Debian package tmux)"; exit 1; }
[ -x "$MAILSH" ] || { echo "FAIL lesson-interactive (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

export HOME=$work/home XDG_STATE_HOME=$work/state TMPDIR=$work
export MAILSH_LESSONS=$top/lessons
mkdir -p "$HOME"
tm new-session -d -x 120 -y 50 \
    "env NO_COLOR=1 LANG=C.UTF-8 $MAILSH lesson smtp-by-hand --lang en; echo EXIT=\$? >$work/exit; sleep 60"

screen() { tm capture-pane -p -S -300 2>/dev/null; }
# Waits (up to 20 s: the lab starts first) for a line matching $1.
wait_for() {
	for _ in $(seq 200); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# Waits until the screen shows at least $2 lines matching $1.
wait_count() {
	for _ in $(seq 200); do
		[ "$(screen | grep -cE -- "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
fail() {
	echo "FAIL $1"; screen | tail -25 | sed 's/^/    /'
}
check() {	# name, pattern
	if wait_for "$2"; then echo "PASS $1"; else fail "$1 (no line matching: $2)"; fi
}

check lesson-interactive-step1 '^\[smtp-by-hand\] step 1/[0-9]+'
check lesson-interactive-greeting '^S: 220 '

# a wrong first line: EHLO without a name (the server says 501)
tm send-keys 'EHLO' Enter
check lesson-interactive-wrong-reply '^S: 5[0-9][0-9] '
check lesson-interactive-hint 'Not yet\. '
if screen | grep -qE '^\[smtp-by-hand\] step 2/'; then
	fail "lesson-interactive-wrong-stays (a wrong line advanced the step)"
else
	echo "PASS lesson-interactive-wrong-stays"
fi

# the right line advances
tm send-keys 'EHLO pc17.example' Enter
check lesson-interactive-right-reply '^S: 250 '
check lesson-interactive-well-done 'Well done\.'
check lesson-interactive-step2 '^\[smtp-by-hand\] step 2/[0-9]+'

# /skip shows the model answer and advances once
tm send-keys '/skip' Enter
check lesson-interactive-skip-answer 'Skipped\. The model answer is played:'
check lesson-interactive-step3 '^\[smtp-by-hand\] step 3/[0-9]+'
if screen | grep -qE '^\[smtp-by-hand\] step 4/'; then
	fail "lesson-interactive-skip-once (skipped more than one step)"
else
	echo "PASS lesson-interactive-skip-once"
fi

# /quit leaves (the lesson is unfinished: a non-zero exit is expected)
tm send-keys '/quit' Enter
for _ in $(seq 200); do [ -s "$work/exit" ] && break; sleep 0.1; done
if [ -s "$work/exit" ]; then
	echo "PASS lesson-interactive-quit ($(cat "$work/exit"))"
else
	fail "lesson-interactive-quit (mailsh did not exit)"
fi

# the lab the lesson started is gone with it (its temp state dir too)
sleep 0.2
if ls -d "$work"/mailsh-lesson.* >/dev/null 2>&1; then
	fail "lesson-interactive-cleanup (state dir left: $(ls -d "$work"/mailsh-lesson.*))"
else
	echo "PASS lesson-interactive-cleanup"
fi
