#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# German /help: every meta command's "/help CMD" and the plain "/help",
# with --lang de and with LANGUAGE=de, print German only: never the
# catalogue's header (gettext("") returns "Project-Id-Version: ..."),
# and every line's text is a translation in the German catalogue, not
# the English message.  A German lesson run and mailsh --help never show
# the header either.  mailsh --help lists the subcommands (English and
# German) and mandoc finds nothing wrong in the man page.  Prints
# PASS/FAIL/SKIP lines.  No network.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
MAILSH=${MAILSH:-$top/mailsh}
MO=${MAILSH_MO:-$top/build/locale/de/LC_MESSAGES/mailsh.mo}
export MAILSH_LESSONS=${MAILSH_LESSONS:-$top/lessons}
[ -x "$MAILSH" ] || { echo "FAIL i18n-help (no $MAILSH: run make)"; exit 1; }
[ -f "$MO" ] || { echo "FAIL i18n-help (no $MO: run make)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL i18n-help (no python3)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work XDG_STATE_HOME=$work/state NO_COLOR=1
unset LC_ALL LC_MESSAGES LANGUAGE

# help LANGOPTS... : runs "/help" and "/help CMD" for every command as a
# script (stdin is not a terminal: no lab is started), one block each
cmds=$(printf '/help\n' | LANG=C.UTF-8 "$MAILSH" --lang en 2>&1 |
    sed -n 's/^   \* \(\/[a-z0-9-]*\).*/\1/p')
if [ "$(echo "$cmds" | wc -w)" -lt 10 ]; then
	echo "FAIL i18n-help-commands (English /help listed: $cmds)"
	exit 0
fi
script=$work/script
{
	echo "/help"
	for c in $cmds; do echo "/help $c"; echo "/help ${c#/}"; done
} >"$script"

# checks one German transcript against the catalogue
check() {	# name file
	python3 - "$MO" "$2" "$1" "$cmds" <<'PY'
import gettext, sys
mo, path, name, cmds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
cat = gettext.GNUTranslations(open(mo, "rb"))._catalog
de = {v for k, v in cat.items() if isinstance(k, str) and k}
en = {k for k, v in cat.items() if isinstance(k, str) and k and k != v}
bad = []
lines = open(path, encoding="utf-8").read().splitlines()
for l in lines:
    if "Project-Id-Version" in l or "Content-Type:" in l or \
       "Plural-Forms" in l:
        bad.append("catalogue header: " + l)
        continue
    if not l.strip():
        continue
    if l.startswith("   * "):
        # "/cmd" or "/cmd ARGS": the arguments come from the catalogue
        t = l[5:]
        cmd, _, args = t.partition(" ")
        if cmd not in cmds:
            bad.append("unknown command line: " + l)
        elif args and args not in de:
            bad.append("arguments not from the catalogue: " + l)
        elif args and args in en and args not in de:
            bad.append("English arguments: " + l)
        continue
    if l.startswith("   = "):
        t = l[5:]
        if t in en and t not in de:
            bad.append("English: " + l)
        elif t not in de:
            bad.append("not a German catalogue text: " + l)
        continue
    bad.append("unexpected line: " + l)
if len(lines) < 2 * len(cmds):
    bad.append("only %d lines for %d commands" % (len(lines), len(cmds)))
if bad:
    print("FAIL %s (%d bad lines)" % (name, len(bad)))
    for b in bad[:15]:
        print("    " + b)
else:
    print("PASS %s (%d lines)" % (name, len(lines)))
PY
}

LANG=C.UTF-8 "$MAILSH" --lang de -f "$script" >"$work/lang-de" 2>&1
check i18n-help-lang-de "$work/lang-de"
LANG=C.UTF-8 LANGUAGE=de "$MAILSH" -f "$script" >"$work/language-de" 2>&1
check i18n-help-language-de "$work/language-de"

# the header must not appear anywhere else either: a whole German lesson
# (every annotation of a session), and --help
{
	LANG=C.UTF-8 "$MAILSH" lesson smtp-by-hand --check --lang de
	LANG=C.UTF-8 "$MAILSH" --lang de --help
} >"$work/lesson" 2>&1
if grep -q 'Project-Id-Version\|Plural-Forms' "$work/lesson"; then
	echo "FAIL i18n-no-header (the catalogue header was printed)"
	grep -n -B2 'Project-Id-Version' "$work/lesson" | head -10 | sed 's/^/    /'
elif ! grep -q 'Schritte' "$work/lesson"; then
	echo "FAIL i18n-no-header (the German lesson did not run)"
	tail -5 "$work/lesson" | sed 's/^/    /'
else
	echo "PASS i18n-no-header"
fi

# mailsh --help names the subcommands, one line each, in both languages
for l in en de; do
	out=$(LANG=C.UTF-8 "$MAILSH" --lang $l --help 2>&1)
	miss=
	for sub in lab mitm lesson; do
		[ "$(echo "$out" | grep -cE "^ +mailsh $sub \[")" -eq 1 ] ||
		    miss="$miss $sub"
	done
	if [ -z "$miss" ]; then echo "PASS help-subcommands-$l"; else
		echo "FAIL help-subcommands-$l (no usage line for:$miss)"; fi
done

# the man page: no mandoc warnings or errors
if command -v mandoc >/dev/null; then
	if mandoc -T lint -W warning docs/mailsh.1 >"$work/lint" 2>&1; then
		echo "PASS man-lint"
	else
		echo "FAIL man-lint"; sed 's/^/    /' "$work/lint"
	fi
else
	echo "FAIL man-lint (no mandoc: install the Debian package mandoc)"
fi
exit 0
