#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Lesson tests: every lesson's model solution passes (--check) in both
# languages, and broken lesson files are reported with
# file and line.  Prints PASS/FAIL lines.  Loopback only (the lab).
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

# What a course expects of every shipped lesson (questions, a challenge,
# reply-keyed hints): the lint passes.
if "$MAILSH" lesson --lint >"$work/lint" 2>&1; then
	echo "PASS lesson-lint"
else
	echo "FAIL lesson-lint"; head -20 "$work/lint" | sed 's/^/    /'
fi
