#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The licence: COPYING is the GPL version 3, every file git tracks names
# GPL-3.0-or-later in an SPDX-License-Identifier line (but for the files
# that cannot carry one), mailsh --version prints the licence and the
# README says it.  Prints PASS/FAIL/SKIP lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
MAILSH=${MAILSH:-$top/mailsh}
spdx='SPDX-License-Identifier: GPL-3.0-or-later'

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }

# Files without a place for a comment, or that are the licence itself.
exempt() {
	case $1 in
	COPYING|README.md) return 0 ;;		# the text; a Licence section
	debian/changelog|debian/copyright|debian/source/format) return 0 ;;
	tests/fuzz/corpus_*/*) return 0 ;;	# raw protocol bytes
	esac
	return 1
}
if [ -e .git ] && command -v git >/dev/null; then
	files=$(git ls-files)
else
	files=$(find . -path ./.git -prune -o -path ./build -prune -o \
	    -path ./debian/mailsh -prune -o -type f ! -name mailsh \
	    ! -name '*.o' ! -name 'test_*[!c]' ! -name 'fuzz_*[!c]' -print |
	    sed 's|^\./||')
fi
missing= n=0
for f in $files; do
	exempt "$f" && continue
	[ -f "$f" ] || continue
	n=$((n + 1))
	head -n 5 "$f" | grep -qF "$spdx" && continue
	missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "licence-spdx ($n files checked)"
else
	fail "licence-spdx (no '$spdx' in the first lines of:$missing)"
fi

if head -n 3 COPYING | grep -q 'GNU GENERAL PUBLIC LICENSE' &&
    head -n 3 COPYING | grep -q 'Version 3, 29 June 2007' &&
    { [ ! -f /usr/share/common-licenses/GPL-3 ] ||
    cmp -s COPYING /usr/share/common-licenses/GPL-3; }; then
	pass "licence-copying (the GPL version 3)"
else
	fail "licence-copying (COPYING is not the GPL version 3 text)"
fi

out=$("$MAILSH" --version 2>&1)
if echo "$out" | grep -qxF 'License GPL-3.0-or-later: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.' &&
    echo "$out" | grep -q 'NO WARRANTY'; then
	pass "licence-version (mailsh --version names the licence)"
else
	fail "licence-version"
	echo "$out" | sed 's/^/    /'
fi

if grep -q '^## Licence' README.md && grep -q 'GPL-3.0-or-later' README.md
then
	pass "licence-readme"
else
	fail "licence-readme (no Licence section naming GPL-3.0-or-later)"
fi

if grep -q '^License: GPL-3+' debian/copyright 2>/dev/null &&
    grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
    debian/copyright; then
	pass "licence-debian-copyright (DEP-5, GPL-3+)"
else
	fail "licence-debian-copyright"
fi
