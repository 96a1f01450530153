#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The lesson runner as a student meets it, fed through a pipe (the
# runner works the same on a terminal; tests/lesson-interactive.sh
# covers that): a prediction question answered wrong, a reply-keyed hint
# (501, 503, -ERR), a typed: note shown once, a Subject of the student's
# own read back through a capture, the hint ladder to its end, /skip
# (no praise, named in the summary), progress remembered, --lint, and
# lesson files that must be refused (a regex that would eat gigabytes).
# Prints PASS/FAIL lines.  Loopback only (the lab on free ports).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MAILSH_LESSONS=$top/tests/data/lesson-runner NO_COLOR=1
export XDG_STATE_HOME=$work/state HOME=$work

input() {
	printf '%s\n' 'hello' 2 'HELO' 'helo pc.example' \
	    'rcpt to:<bob@lab.example>' 'mail from:<alice@lab.example>' \
	    'rcpt to:<bob@lab.example>' 'data' 'Subject: My own [42]' '' \
	    'Hi.' '.' '/skip' 'user bob' 'pass wrong' 'user bob' \
	    'pass bob-pass' 'retr 9' 'retr 8' 'retr 7' 'retr 1'
}

has() {	# name, file, fixed string
	if grep -qF -- "$3" "$2"; then echo "PASS $1"
	else echo "FAIL $1 (no \"$3\")"; sed 's/^/    /' "$2" | tail -30; fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then echo "FAIL $1 (\"$3\" appears)"
	else echo "PASS $1"; fi
}
count() {	# name, file, fixed string, count
	local n; n=$(grep -cF -- "$3" "$2")
	if [ "$n" -eq "$4" ]; then echo "PASS $1"
	else echo "FAIL $1 (\"$3\" $n times, not $4)"; fi
}

for lang in en de; do
	out=$work/out-$lang
	input | timeout 120 "$MAILSH" lesson runner-test --lang "$lang" \
	    >"$out" 2>&1
	echo "rc=$?" >>"$out"
	L=$(echo "$lang" | tr a-z A-Z)
	if [ "$lang" = en ]; then
		has runner-$lang-bad-answer "$out" "Type a number from 1 to 2"
		has runner-$lang-wrong-answer "$out" "Not quite: the answer is 1. EXPLAIN-EN"
		has runner-$lang-skipped "$out" "Skipped. The model answer is played:"
		has runner-$lang-summary "$out" "done: 5 of 6 steps, 1 skipped (step 4)."
		has runner-$lang-score "$out" "Questions: 0 of 1 answered right."
		has runner-$lang-last-hint "$out" "That was the last hint: /skip"
		has runner-$lang-challenge "$out" "step 5/6: a challenge"
	else
		has runner-$lang-bad-answer "$out" "Tippe eine Zahl von 1 bis 2"
		has runner-$lang-wrong-answer "$out" "Nicht ganz: Richtig ist 1. EXPLAIN-DE"
		has runner-$lang-skipped "$out" "Übersprungen. Die Musterlösung wird abgespielt:"
		has runner-$lang-summary "$out" "geschafft: 5 von 6 Schritten, 1 übersprungen (Schritt 4)."
		has runner-$lang-score "$out" "Fragen: 0 von 1 richtig beantwortet."
		has runner-$lang-last-hint "$out" "Das war der letzte Tipp: /skip"
		has runner-$lang-challenge "$out" "Schritt 5/6: eine Herausforderung"
	fi
	# /skip played the model answer (NOOP) on the server
	grep -A1 -E 'Skipped|Übersprungen' "$out" | grep -q '^C: NOOP$' &&
	    echo "PASS runner-$lang-skip-plays" ||
	    { echo "FAIL runner-$lang-skip-plays"; grep -A3 -E 'Skipped|Übersprungen' "$out" | sed 's/^/    /'; }
	# the question took "hello" and "2": neither went to the server
	hasnt runner-$lang-answer-not-sent "$out" "C: hello"
	has runner-$lang-reply-501 "$out" "REPLY-501-$L"
	has runner-$lang-reply-503 "$out" "REPLY-503-$L"
	has runner-$lang-reply-err "$out" "REPLY-ERR-$L"
	count runner-$lang-note-once "$out" "HELO-NOTE-$L" 1
	# the ladder: rung 1, rung 2, then the pointer to /skip
	count runner-$lang-rung1 "$out" "RUNG1-$L" 1
	count runner-$lang-rung2 "$out" "RUNG2-$L" 1
	# the student's own Subject (with regex characters) passes step 6
	has runner-$lang-capture "$out" "S: Subject: My own [42]"
	count runner-$lang-praise "$out" "$([ $lang = en ] && echo 'Well done.' || echo 'Gut gemacht!')" 4
	has runner-$lang-why "$out" "WHY-$L"
	has runner-$lang-exit "$out" "rc=0"
done

# The server hangs up after three failed logins: /lesson again opens the
# step's connection anew; then /skip on a closed connection replays the
# steps since it was opened and plays the model answer.
printf '%s\n' 1 'ehlo pc.example' 'mail from:<alice@lab.example>' \
    'rcpt to:<bob@lab.example>' data 'Subject: again' '' x . noop \
    'user bob' 'pass a' 'user bob' 'pass b' 'user bob' 'pass c' \
    '/lesson again' 'user bob' 'pass bob-pass' 'retr 1' |
    timeout 120 "$MAILSH" lesson runner-test --lang en >"$work/again" 2>&1
if grep -q 'S: -ERR .*closing\|the server closed' "$work/again" &&
    grep -q 'S: +OK .*ready' "$work/again" &&
    [ "$(grep -c '^\[runner-test\] step 5/6' "$work/again")" -ge 1 ] &&
    grep -q 'S: Subject: again' "$work/again" &&
    grep -q 'done: all 6 steps' "$work/again"
then echo "PASS runner-lesson-again"
else echo "FAIL runner-lesson-again"; sed 's/^/    /' "$work/again" | grep -v '^    S: \\t' | tail -40; fi
printf '%s\n' 1 'ehlo pc.example' 'mail from:<alice@lab.example>' \
    'rcpt to:<bob@lab.example>' data 'Subject: skipped' '' x . noop \
    'user bob' 'pass bob-pass' 'quit' '/skip' |
    timeout 120 "$MAILSH" lesson runner-test --lang en >"$work/skipclosed" 2>&1
if grep -q 'S: Subject: skipped' "$work/skipclosed" &&
    grep -q 'done: 5 of 6 steps, 1 skipped (step 6)' "$work/skipclosed"
then echo "PASS runner-skip-after-close"
else echo "FAIL runner-skip-after-close"; sed 's/^/    /' "$work/skipclosed" | tail -30; fi

# progress: the finished run is listed as done, with the skip
"$MAILSH" lesson --lang en >"$work/list" 2>&1
has runner-progress-listed "$work/list" "[done, 1 step skipped]"
grep -q '^runner-test done 6 1$' "$XDG_STATE_HOME/mailsh/progress" &&
    echo "PASS runner-progress-file" ||
    { echo "FAIL runner-progress-file"; cat "$XDG_STATE_HOME/mailsh/progress"; }

# --check plays the model answers (the capture's model value included)
if "$MAILSH" lesson runner-test --check >"$work/check" 2>&1; then
	echo "PASS runner-check"
else
	echo "FAIL runner-check"; tail -20 "$work/check" | sed 's/^/    /'
fi

# --lint: step 6 lacks a reply: hint
"$MAILSH" lesson --lint >"$work/lint" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'runner.lesson:[0-9]*: step 6 has no reply: hint' "$work/lint" &&
    [ "$(wc -l <"$work/lint")" -eq 1 ]; then
	echo "PASS runner-lint"
else
	echo "FAIL runner-lint (rc $rc)"; sed 's/^/    /' "$work/lint"
fi

# Lesson files that must be refused, with file:line, fast and small.
# AddressSanitizer reserves terabytes of address space for its shadow
# memory, so a sanitizer build (make asan) runs them without ulimit -v.
vmem=400000
grep -q __asan_init "$MAILSH" 2>/dev/null && vmem=unlimited
bad() {	# name, expected message pattern, step lines
	mkdir -p "$work/bad-$1"
	printf 'lesson: t\ntitle.en: T\ntitle.de: T\nsummary.en: S\nsummary.de: S\nminutes: 5\nwhy.en: W\nwhy.de: W\nstep\nconnect: smtp\ntext.en: x\ntext.de: x\n%s\n' "$3" >"$work/bad-$1/x.lesson"
	local out
	out=$( (ulimit -v $vmem; MAILSH_LESSONS=$work/bad-$1 timeout 10 "$MAILSH" lesson) 2>&1)
	if echo "$out" | grep -qE -- "x\.lesson:$2"; then
		echo "PASS runner-refuse-$1"
	else
		echo "FAIL runner-refuse-$1"; echo "$out" | head -5 | sed 's/^/    /'
	fi
}
bad regex-bomb '13: pattern refused: nested counted' 'type: (((((a{1,100}){1,100}){1,100}){1,100}){1,100})
expect: ^250
solution: x'
bad regex-unbounded '13: pattern refused: a repetition bound' 'type: a{1000}
expect: ^250
solution: x'
# x+ is expanded to xx*: 34 "+" in a row made regcomp take > 24 GB
bad regex-plus-run '14: pattern refused: a repetition of a repetition' 'type: ^x
expect: po++++++++++++++++++++++++++++++++++rt
solution: x'
bad regex-bound-run '13: pattern refused: a repetition of a repetition' 'type: a{100}{100}{100}{100}
expect: ^250
solution: x'
bad regex-plus-nest '13: pattern refused: nested counted' 'type: ((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+
expect: ^250
solution: x'
bad regex-long '14: pattern refused: longer than 512' "type: ^x
expect: $(printf 'a%.0s' $(seq 600))
solution: x"
bad unknown-var '9: step 1 uses \{nope\}' 'type: ^x
expect: ^{nope}
solution: x'
bad capture-no-model '9: step 1: capture s matches no solution' 'type: ^x
expect: ^250
capture: s ^Subject: (.*)
solution: x'
bad hint-counts '9: step 1 has 2 hint.en but 1 hint.de' 'type: ^x
expect: ^250
hint.en: a
hint.de: a
hint.en: b
solution: x'
bad reply-without-hint '15: reply: needs a hint.en and a hint.de' 'type: ^x
expect: ^250
reply: ^5
hint.en: a
solution: x'
bad note-without-typed '15: note: belongs after typed:' 'type: ^x
expect: ^250
note.en: a
solution: x'
bad question-answer '16: question 2: answer: names no choice' 'type: ^x
expect: ^250
solution: x
question
text.en: q
text.de: q
choice.en: a
choice.de: a
choice.en: b
choice.de: b
answer: 3
explain.en: e
explain.de: e'

# lab: takes only the profile and the deliberate weaknesses (issue 12,
# finding 5): a shared lesson must not make the lab listen on the
# network, nor point it at other state, users or a MITM.  Refused with
# file:line by --lint and when the lesson is run, in German too.
lablesson() {	# dir, lab: value (written as line 7)
	mkdir -p "$1"
	printf 'lesson: x\ntitle.en: T\ntitle.de: T\nsummary.en: S\nsummary.de: S\nminutes: 5\nlab: %s\nwhy.en: W\nwhy.de: W\nstep\nconnect: imap\ntext.en: x\ntext.de: x\ntype: ^a1 SELECT\nexpect: ^a1 OK\nsolution: a1 SELECT INBOX\n' "$2" >"$1/x.lesson"
}
badlab() {	# name, lab: value, expected message (fixed string)
	lablesson "$work/lab-$1" "$2"
	local out rc
	out=$(MAILSH_LESSONS=$work/lab-$1 timeout 20 "$MAILSH" lesson --lint --lang en 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qF -- "x.lesson:7: $3"; then
		echo "PASS runner-lab-lint-$1"
	else
		echo "FAIL runner-lab-lint-$1 (rc $rc)"; echo "$out" | head -5 | sed 's/^/    /'
	fi
	out=$(MAILSH_LESSONS=$work/lab-$1 timeout 20 "$MAILSH" lesson x --check --lang en 2>&1 </dev/null)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qF -- "x.lesson:7: $3" &&
	    ! echo "$out" | grep -q 'PREAUTH\|step 1'; then
		echo "PASS runner-lab-run-$1"
	else
		echo "FAIL runner-lab-run-$1 (rc $rc)"; echo "$out" | head -5 | sed 's/^/    /'
	fi
}
notforlessons='is not for lessons: a lesson may set only --profile'
badlab listen '--listen 0.0.0.0 --preauth --profile lax' "lab: --listen $notforlessons"
badlab listen-eq '--preauth --listen=127.0.0.2' "lab: --listen $notforlessons"
badlab listen-abbrev '--lis 0.0.0.0' "lab: --lis $notforlessons"
badlab state "--state $work/elsewhere" "lab: --state $notforlessons"
badlab users '--users /etc/passwd' "lab: --users $notforlessons"
badlab mitm '--mitm strip-starttls' "lab: --mitm $notforlessons"
badlab mitm-for '--mitm-for imap' "lab: --mitm-for $notforlessons"
badlab port-base '--port-base 2500' "lab: --port-base $notforlessons"
badlab short '-h' "lab: -h $notforlessons"
badlab word 'lax' "lab: lax $notforlessons"
badlab profile-value '--profile --listen' 'lab: --profile is strict or lax, not "--listen"'
badlab pbs-value '--pop-before-smtp 0.0.0.0' 'lab: --pop-before-smtp takes minutes from 1 to 1440'
badlab vuln-value '--vulnerable-starttls=smtp,--listen' 'lab: --vulnerable-starttls= takes STARTTLS ports'
badlab plain-value '--preauth=yes' 'lab: --preauth takes no value'
# an indented line cannot add to a checked lab: line
lablesson "$work/lab-cont" '--profile lax
  --listen 0.0.0.0'
out=$(MAILSH_LESSONS=$work/lab-cont timeout 20 "$MAILSH" lesson --lint --lang en 2>&1)
echo "$out" | grep -qF 'x.lesson:8: an indented line continues nothing' &&
    echo "PASS runner-lab-continuation" ||
    { echo "FAIL runner-lab-continuation"; echo "$out" | head -5 | sed 's/^/    /'; }
out=$(MAILSH_LESSONS=$work/lab-listen timeout 20 "$MAILSH" lesson --lint --lang de 2>&1)
echo "$out" | grep -qF 'x.lesson:7: lab: --listen ist nichts für Lektionen' &&
    echo "PASS runner-lab-german" ||
    { echo "FAIL runner-lab-german"; echo "$out" | head -5 | sed 's/^/    /'; }
# the weaknesses still work: --preauth lets SELECT go without a login
for v in '--preauth --profile lax' '--profile=strict --preauth --vulnerable-starttls=imap,smtp --pop-before-smtp 5'; do
	lablesson "$work/lab-ok" "$v"
	out=$(MAILSH_LESSONS=$work/lab-ok timeout 60 "$MAILSH" lesson x --check --lang en 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^S: \* PREAUTH' &&
	    echo "$out" | grep -q 'all steps passed'; then
		echo "PASS runner-lab-allowed ($v)"
	else
		echo "FAIL runner-lab-allowed ($v; rc $rc)"; echo "$out" | tail -8 | sed 's/^/    /'
	fi
done

# A question that opens a connection: mailsh refuses the proxy's own
# certificate, the proxy's view of it comes next, then the choices; the
# proxy's last line ("closed") comes before the next step, never inside.
out=$work/mitm
"$MAILSH" lesson runner-mitm --check --lang en >"$out" 2>&1
rc=$?
order=$(grep -nE 'verified: NO|attacker sees: mitm: #1 closed:|^  2\) mailsh refused|^\[runner-mitm\] step 2/2|attacker sees: .*listening on' "$out" | cut -d: -f2- | cut -c1-40 | tr '\n' '|')
case $order in
"   * verified: NO: unknown issuer: the C|   ! attacker sees: mitm: #1 closed: "*"|  2) mailsh refused the certificate|[runner-mitm] step 2/2: a challenge|")
	[ $rc -eq 0 ] && echo "PASS runner-question-connect" ||
	    { echo "FAIL runner-question-connect (rc $rc)"; tail -20 "$out" | sed 's/^/    /'; } ;;
*)	echo "FAIL runner-question-connect (order: $order)"; sed 's/^/    /' "$out" | head -40 ;;
esac

# Messages and lesson texts speak the same language, decided as gettext
# decides, also where the German locale is not installed (Debian's
# minimal systems): de_AT and de_DE are German; LC_ALL=C is English even
# with LANGUAGE=de.
lang_of() {	# env... -> "de", "en" or "mixed"
	local out; out=$(env -i PATH="$PATH" HOME="$work" MAILSH_LESSONS="$MAILSH_LESSONS" "$@" "$MAILSH" lesson 2>&1)
	local t m
	echo "$out" | grep -q 'Test des Ablaufs' && t=de || t=en
	echo "$out" | grep -q '^Starte eine mit' && m=de || m=en
	[ "$t" = "$m" ] && echo "$t" || echo mixed
}
for c in "de LANG=de_DE.UTF-8" "de LANG=de_AT.UTF-8" "en LC_ALL=C LANGUAGE=de" \
    "de LANG=en_US.UTF-8 LANGUAGE=de:en" "en LANG=C.UTF-8" "en LANG=en_GB.UTF-8"; do
	want=${c%% *} envs=${c#* }
	# shellcheck disable=SC2086
	got=$(lang_of $envs)
	[ "$got" = "$want" ] && echo "PASS runner-lang ($envs: $got)" ||
	    echo "FAIL runner-lang ($envs: $got, not $want)"
done
