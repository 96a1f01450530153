#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer targets (make fuzz, clang) and runs each for a
# fixed number of inputs from its seed corpus, seed 1: a quick check that
# the parsers survive garbage, not a fuzzing campaign (run the targets by
# hand for that: tests/fuzz/fuzz_pp -max_total_time=600 tests/fuzz/corpus_pp).
# Prints PASS/FAIL/SKIP lines.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
command -v clang >/dev/null ||
    { echo "FAIL fuzz (no clang: install the Debian package clang)"; exit 1; }
if ! make -s fuzz >/tmp/mailsh-fuzz-build.$$ 2>&1; then
	if grep -q 'fuzzer' /tmp/mailsh-fuzz-build.$$; then
		echo "FAIL fuzz (clang has no libFuzzer runtime:" \
		    "install the Debian package libclang-rt-dev)"
		sed 's/^/    /' /tmp/mailsh-fuzz-build.$$ | tail -5
		rm -f /tmp/mailsh-fuzz-build.$$
		exit 1
	fi
	echo "FAIL fuzz-build"; sed 's/^/    /' /tmp/mailsh-fuzz-build.$$ | tail -20
	rm -f /tmp/mailsh-fuzz-build.$$
	exit 1
fi
rm -f /tmp/mailsh-fuzz-build.$$
for t in tests/fuzz/fuzz_*; do
	case $t in *.c) continue ;; esac
	name=${t##*/fuzz_}
	# the lab's servers (a state directory per input), the MIME,
	# lesson and MITM parsers get 10 s each, the others 30 s: the budget
	case $name in lab*|mime|lesson|mitm) secs=10 ;; *) secs=30 ;; esac
	new=$(mktemp -d)	# new inputs land here, not in the seeds
	if "$t" -seed=1 -runs=10000 -max_total_time=$secs -timeout=20 \
	    -max_len=8192 "$new" \
	    "tests/fuzz/corpus_$name" >"$new.log" 2>&1; then
		echo "PASS fuzz-$name"
	else
		echo "FAIL fuzz-$name"; tail -30 "$new.log" | sed 's/^/    /'
	fi
	rm -rf "$new" "$new.log"
done
