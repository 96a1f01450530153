#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Lesson tests: every lesson's model solution passes (--check) in both
# languages, and broken lesson files are reported with
# file and line, and what a hostile lesson file holds is shown escaped.
# Prints PASS/FAIL lines.  Loopback only (the lab).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MAILSH_LESSONS=$top/lessons

for f in "$top"/lessons/*.lesson; do
	name=$(sed -n 's/^lesson: *//p' "$f")
	for lang in en de; do
		if "$MAILSH" lesson "$name" --check --lang "$lang" \
		    >"$work/out" 2>&1; then
			echo "PASS lesson-check-$name-$lang"
		else
			echo "FAIL lesson-check-$name-$lang"
			grep -E 'FAILED|mailsh:' "$work/out" | head -5 | sed 's/^/    /'
		fi
	done
done

# Broken lesson files: the error names file and line.
bad() {	# name, expected message pattern, file content
	mkdir -p "$work/bad-$1"
	printf '%s\n' "$3" >"$work/bad-$1/x.lesson"
	out=$(MAILSH_LESSONS=$work/bad-$1 "$MAILSH" lesson 2>&1)
	if echo "$out" | grep -qE -- "x\.lesson:$2"; then
		echo "PASS lesson-error-$1"
	else
		echo "FAIL lesson-error-$1"; echo "$out" | sed 's/^/    /'
	fi
}
head='lesson: t
title.en: T
title.de: T
summary.en: S
summary.de: S
minutes: 5
why.en: W
why.de: W'
bad unknown-key '9: unknown key "colour"' "$head
colour: red"
bad missing-text '9: step 1 has no text.de' "$head
step
connect: smtp
text.en: hi
type: ^x
expect: ^250
solution: x"
bad bad-pattern '13: bad pattern' "$head
step
connect: smtp
text.en: hi
text.de: hallo
type: ^(x
expect: ^250
solution: x"
bad no-solution '9: step 1 has no solution' "$head
step
connect: smtp
text.en: hi
text.de: hallo
type: ^x
expect: ^250"
bad stray-continuation '1: an indented line continues nothing' "  lonely"

# A lesson file may come from anyone (issue 10 §6): what `mailsh lesson`
# shows of it (the error quoting a bad key, a title, a summary) reaches
# the terminal escaped, as server text does.
mkdir -p "$work/hostile"
printf 'ev\033]0;pwn\007il: x\n' >"$work/hostile/bad.lesson"
printf '%s\n' "lesson: hostile" >"$work/hostile/h.lesson"
printf 'title.en: T \033]52;c;aGk=\007 \342\200\256x\n' >>"$work/hostile/h.lesson"
printf 'summary.en: S \302\233 2J\n' >>"$work/hostile/h.lesson"
printf '%s\n' "$head" | sed '/^lesson:/d; /^title.en:/d; /^summary.en:/d' \
    >>"$work/hostile/h.lesson"
printf '%s\n' step 'connect: smtp' 'text.en: hi' 'text.de: hallo' \
    'type: ^x' 'expect: ^250' 'solution: x' >>"$work/hostile/h.lesson"
MAILSH_LESSONS=$work/hostile "$MAILSH" lesson --lang en >"$work/hostile.out" 2>&1
if ! LC_ALL=C grep -q $'\x1b\\|\x07\\|\x9b\\|\xe2\x80\xae' "$work/hostile.out" &&
    grep -qF 'bad key "ev\e]0;pwn\x07il"' "$work/hostile.out" &&
    grep -qF 'T \e]52;c;aGk=\x07 \xE2\x80\xAEx' "$work/hostile.out" &&
    grep -qF 'S \xC2\x9B 2J' "$work/hostile.out"; then
	echo "PASS lesson-hostile-file"
else
	echo "FAIL lesson-hostile-file"; cat -v "$work/hostile.out" | head -8 | sed 's/^/    /'
fi

# What a course expects of every shipped lesson (questions, a challenge,
# reply-keyed hints): the lint passes.
if "$MAILSH" lesson --lint >"$work/lint" 2>&1; then
	echo "PASS lesson-lint"
else
	echo "FAIL lesson-lint"; head -20 "$work/lint" | sed 's/^/    /'
fi
