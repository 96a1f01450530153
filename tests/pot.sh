#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Translations as a translator expects them: `make pot` on a clean tree
# leaves po/ as it is (run in a temporary copy of the tree: the template
# and every po/LANG.po are current, merged and sorted, no date churn),
# po/LINGUAS names the catalogues the Makefile builds, no catalogue keeps
# obsolete (#~) entries, and the short ambiguous msgids carry a context.
# Prints PASS/FAIL lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }

missing=
for t in make xgettext msgmerge msgfmt msginit diff; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail "pot-tools (missing:$missing; Debian: make, gettext, diffutils)"
	exit 1
fi

# the parts of the tree make pot reads
mkdir -p "$work/tree"
cp -r Makefile po protocols shell lab "$work/tree/"
if make -s -C "$work/tree" pot >"$work/out" 2>&1; then
	if diff -r po "$work/tree/po" >"$work/diff"; then
		pass "pot-stable (make pot leaves po/ unchanged)"
	else
		fail "pot-stable (make pot changes po/: run make pot and" \
		    "translate what it marks)"
		head -30 "$work/diff" | sed 's/^/    /'
	fi
else
	fail "pot-stable (make pot failed)"
	sed 's/^/    /' "$work/out" | head -20
fi

# po/LINGUAS: each language named has its catalogue, each catalogue is
# named, and the Makefile's LINGUAS is what po/LINGUAS says
langs=$(sed -e 's/#.*//' po/LINGUAS | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//')
sorted=$(echo "$langs" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
files=$(cd po && ls ./*.po | sed 's|^\./||; s/\.po$//' | sort | tr '\n' ' ' |
    sed 's/ $//')
if [ -n "$langs" ] && [ "$sorted" = "$files" ]; then
	pass "pot-linguas ($langs)"
else
	fail "pot-linguas (po/LINGUAS: \"$langs\", catalogues: \"$files\")"
fi
mk=$(make -s -p -n mo 2>/dev/null | sed -n 's/^LINGUAS := //p' | head -1)
if [ "$mk" = "$langs" ]; then
	pass "pot-linguas-makefile"
else
	fail "pot-linguas-makefile (the Makefile's LINGUAS is \"$mk\"," \
	    "po/LINGUAS says \"$langs\")"
fi

for po in po/*.po; do
	n=$(grep -c '^#~' "$po")
	if [ "$n" -eq 0 ]; then pass "pot-no-obsolete-$(basename "$po")"; else
		fail "pot-no-obsolete-$(basename "$po") ($n obsolete lines:" \
		    "msgattrib --no-obsolete)"; fi
done

# short msgids that mean different things in different places carry a
# msgctxt, and every msgctxt entry is translated
for c in "IMAP envelope field|from" "IMAP envelope field|to" \
    "IMAP envelope field|date" "enhanced status code subject|mailbox" \
    "IMAP flag|read" "worksheet field|Date:"; do
	ctx=${c%%|*} id=${c#*|}
	if grep -A1 -x "msgctxt \"$ctx\"" po/mailsh.pot |
	    grep -qx "msgid \"$id\""; then
		pass "pot-msgctxt ($ctx: $id)"
	else
		fail "pot-msgctxt ($ctx: $id: no such entry in po/mailsh.pot)"
	fi
done
for po in po/*.po; do
	l=$(basename "$po" .po)
	bad=$(msgattrib --untranslated --no-obsolete "$po" 2>/dev/null |
	    grep -c '^msgctxt')
	if [ "$bad" -eq 0 ]; then pass "pot-msgctxt-translated-$l"; else
		fail "pot-msgctxt-translated-$l ($bad untranslated)"; fi
done
exit 0
