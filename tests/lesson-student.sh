#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# smtp-by-hand in German through a real terminal (tmux), typed the way a
# student types: lower case, HELO instead of EHLO, RCPT before MAIL (503),
# a Subject of their own, Ctrl-C halfway through a line inside DATA and
# at the prompt, the questions answered.  The lesson must finish, the
# lab must still answer afterwards, and nothing of it may be left after
# /quit.  Prints PASS/FAIL lines.  Loopback only (the lab on free ports).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
command -v tmux >/dev/null || { echo "FAIL lesson-student (no tmux: apt-get install tmux)"; exit 1; }
[ -x "$MAILSH" ] || { echo "FAIL lesson-student (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
cleanup() { for k in "$work"/tmux*.sock; do tmux -S "$k" kill-server 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

export HOME=$work/home XDG_STATE_HOME=$work/state TMPDIR=$work
export MAILSH_LESSONS=$top/lessons
mkdir -p "$HOME"
tm new-session -d -x 150 -y 50 \
    "env NO_COLOR=1 LANG=de_DE.UTF-8 LANGUAGE=de $MAILSH lesson smtp-by-hand; echo EXIT=\$? >$work/exit; sleep 60"

screen() { tm capture-pane -p -S -3000 2>/dev/null; }
wait_for() {	# pattern [count]: waits up to 20 s
	for _ in $(seq 200); do
		[ "$(screen | grep -cE -- "$1")" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}
fails=0
fail() { echo "FAIL $1"; screen | grep -v '^ *$' | tail -30 | sed 's/^/    /'; fails=$((fails + 1)); }
check() { if wait_for "$2" "${3:-1}"; then echo "PASS $1"; else fail "$1 (no line matching: $2)"; fi; }
type() { tm send-keys -l -- "$1"; tm send-keys Enter; }

check student-greeting '^S: 220 '
check student-german-step '^\[smtp-by-hand\] Schritt 1/'
type 'helo pc17.example'
check student-helo-note 'Hinweis: '
check student-step2 '^\[smtp-by-hand\] Schritt 2/'
type 'rcpt to:<bob@lab.example>'
check student-503 '^S: 503 '
check student-503-hint 'Noch nicht\. '
type 'mail from:<alice@lab.example>'
check student-step3 '^\[smtp-by-hand\] Schritt 3/'
type 'rcpt to:<bob@lab.example>'
check student-step4 '^\[smtp-by-hand\] Schritt 4/'
type 'data'
check student-354 '^S: 354 '
check student-step5 '^\[smtp-by-hand\] Schritt 5/'
type 'From: alice@lab.example'
type 'Subject: Mein eigener Betreff über Umlaute'
# the terminal discards input not yet read when Ctrl-C is pressed (no
# NOFLSH): wait, as the student sees it, until both lines went out
check student-data-typed '^C: Subject: Mein eigener Betreff über Umlaute$'
# Ctrl-C halfway through a line inside DATA: only that line is gone
tm send-keys -l -- 'Diese Zeile verschwindet'
wait_for '> Diese Zeile verschwindet$' || true
tm send-keys C-c
sleep 0.3
type ''
type 'Hallo Bob, von Hand getippt.'
type '.'
check student-data-250 '^S: 250 2\.0\.0'
if screen | grep -q 'Diese Zeile verschwindet$' && screen | grep -q '^C: Diese Zeile'; then
	fail "student-ctrl-c-data (the abandoned line was sent)"
else
	echo "PASS student-ctrl-c-data"
fi
if screen | grep -qE '^S: (421 |\* BYE)|[Ss]hutting down'; then
	fail "student-lab-survives-ctrl-c (the lab said goodbye)"
else
	echo "PASS student-lab-survives-ctrl-c"
fi
check student-step6 '^\[smtp-by-hand\] Schritt 6/'
# Ctrl-C at the prompt, halfway through a line
tm send-keys -l -- 'mail from:<halb'
wait_for '> mail from:<halb$' || true
tm send-keys C-c
sleep 0.3
type 'mail from:<alice@lab.example>'
type 'rcpt to:<carol@lab.example>'
check student-challenge-550 '^S: 550 5\.1\.1'
check student-step7 '^\[smtp-by-hand\] Schritt 7/'
type 'quit'
check student-221 '^S: 221 '
check student-question '^\[smtp-by-hand\] Schritt 8/.*Frage'
type '2'
check student-answer '(Richtig|Nicht ganz)'
check student-pop3s '^S: \+OK .*POP3'
type 'user bob'
type 'pass bob-pass'
check student-question2 '^\[smtp-by-hand\] Schritt 10/.*Frage'
type '2'
type 'retr 1'
check student-own-subject '^S: Subject: Mein eigener Betreff über Umlaute$'
check student-step12 '^\[smtp-by-hand\] Schritt 12/'
type 'quit'
for q in 13 14; do
	check student-question$q "^\[smtp-by-hand\] Schritt $q/.*Frage"
	type '2'
done
check student-done 'geschafft'
if screen | grep -qE '(skipped|übersprungen|Well done|Not yet)'; then
	fail "student-all-german (an English line or a skip)"
else
	echo "PASS student-all-german"
fi

# the lab still answers after the lesson: open its SMTP port
port=$(screen | grep -oE 'smtp [0-9]+' | tail -1 | cut -d' ' -f2)
type "/open 127.0.0.1 $port"
check student-lab-after '^S: 220 ' 2
type 'noop'
check student-lab-noop '^S: 250 2\.0\.0' 2

lab=$(pgrep -f "mailsh lab --state $work" | head -1)
type '/quit'
for _ in $(seq 100); do [ -s "$work/exit" ] && break; sleep 0.1; done
[ -s "$work/exit" ] && echo "PASS student-quit ($(cat "$work/exit"))" || fail "student-quit"
sleep 0.3
if [ -n "$lab" ] && kill -0 "$lab" 2>/dev/null; then
	fail "student-lab-stopped (lab pid $lab still runs)"
elif [ -z "$lab" ]; then
	fail "student-lab-stopped (no lab process was found while the lesson ran)"
else
	echo "PASS student-lab-stopped"
fi

# Progress: a student who leaves at step 3 is offered to go on there
# the next time; the steps before are replayed on the new lab, so step 3
# (RCPT TO) finds the MAIL FROM of step 2.
tm kill-server 2>/dev/null
sock=$work/tmux1.sock	# a fresh server: no race with the old one
rm -f "$work/exit"
tm new-session -d -x 150 -y 50 \
    "env NO_COLOR=1 LANG=de_DE.UTF-8 $MAILSH lesson smtp-by-hand; echo EXIT=\$? >$work/exit; sleep 60"
check resume-first-run '^\[smtp-by-hand\] Schritt 1/'
type 'ehlo pc17.example'
type 'mail from:<alice@lab.example>'
check resume-step3 '^\[smtp-by-hand\] Schritt 3/'
type '/quit'
for _ in $(seq 100); do [ -s "$work/exit" ] && break; sleep 0.1; done
tm kill-server 2>/dev/null
sock=$work/tmux2.sock	# a fresh server: no race with the old one
rm -f "$work/exit"
tm new-session -d -x 150 -y 50 \
    "env NO_COLOR=1 LANG=de_DE.UTF-8 $MAILSH lesson smtp-by-hand; echo EXIT=\$? >$work/exit; sleep 60"
check resume-offer 'Beim letzten Mal hast du bei Schritt 3 von [0-9]+ aufgehört'
tm send-keys Enter
check resume-at-step3 '^\[smtp-by-hand\] Schritt 3/'
if screen | grep -q '^\[smtp-by-hand\] Schritt 1/'; then
	fail "resume-skips-shown-steps (step 1 was shown again)"
else
	echo "PASS resume-skips-shown-steps"
fi
type 'rcpt to:<bob@lab.example>'
check resume-state-replayed '^\[smtp-by-hand\] Schritt 4/'
"$MAILSH" lesson --lang de >"$work/list" 2>&1
grep -q '\[angefangen: bei Schritt 4 von' "$work/list" &&
    echo "PASS resume-listed" || { echo "FAIL resume-listed"; cat "$work/list"; }
type '/quit'
for _ in $(seq 100); do [ -s "$work/exit" ] && break; sleep 0.1; done

# Ctrl-C on an empty line inside DATA offers to abandon the message:
# mailsh closes the connection before the ".", nothing is delivered,
# and /lesson again brings the learner back to the step.
tm kill-server 2>/dev/null
sock=$work/tmux3.sock	# a fresh server: no race with the old one
rm -f "$work/exit"
tm new-session -d -x 150 -y 50 \
    "env NO_COLOR=1 LANG=de_DE.UTF-8 $MAILSH lesson smtp-by-hand --restart; echo EXIT=\$? >$work/exit; sleep 60"
check abandon-start '^\[smtp-by-hand\] Schritt 1/'
for l in 'ehlo pc17.example' 'mail from:<alice@lab.example>' \
    'rcpt to:<bob@lab.example>' 'data'; do
	type "$l"
	sleep 0.3
done
check abandon-354 '^S: 354 '
type 'Subject: verworfen'
sleep 0.3
tm send-keys C-c
check abandon-asked 'Diese Nachricht verwerfen\?'
type 'j'
check abandon-closed 'Die Nachricht wurde verworfen \(nichts zugestellt\)'
check abandon-lesson-again '/lesson again öffnet die Verbindung der Lektion neu'
if screen | grep -q '^S: 250 2\.0\.0'; then
	fail "abandon-nothing-delivered (the message was accepted)"
else
	echo "PASS abandon-nothing-delivered"
fi
type '/lesson again'
check abandon-again-replayed 'die Schritte 1 bis 4 werden still'
check abandon-again-step5 '^\[smtp-by-hand\] Schritt 5/' 2
for l in 'Subject: neu' '' 'Hallo.' '.'; do type "$l"; done
check abandon-again-delivered '^S: 250 2\.0\.0'
check abandon-again-step6 '^\[smtp-by-hand\] Schritt 6/'
type '/quit'
for _ in $(seq 100); do [ -s "$work/exit" ] && break; sleep 0.1; done
exit 0
