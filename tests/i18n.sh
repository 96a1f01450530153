#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Translations: every message has a German translation that is neither
# missing nor fuzzy (checked against a freshly extracted template, not the
# committed po/mailsh.pot), de.po passes msgfmt --check, and mailsh really
# speaks German: --help and the explanation of an SMTP greeting, with
# --lang de and (if the locale exists) with LANG=de_DE.UTF-8 alone.
# Prints PASS/FAIL/SKIP lines.  Loopback only.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
MAILSH=${MAILSH:-$top/mailsh}
PO=po/de.po
MO=build/locale/de/LC_MESSAGES/mailsh.mo

work=$(mktemp -d)
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }

missing=
for t in xgettext msgmerge msgattrib msgfmt gettext python3; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail "i18n-tools (missing:$missing; Debian: gettext, gettext-base, python3)"
	exit 1
fi

# ---- the catalogue ----
if msgfmt --check -o /dev/null "$PO" 2>"$work/msgfmt.err"; then
	pass "i18n-msgfmt-check"
else
	fail "i18n-msgfmt-check"
	sed 's/^/    /' "$work/msgfmt.err"
fi

# The same extraction as `make pot` (keep the two in step).
srcs=(protocols/*.c protocols/*.def shell/*.c lab/*.c)
if ! xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
    --keyword=NC_:1c,2 --keyword=pgettext:1c,2 \
    --keyword=pgettext_expr:1c,2 --add-comments=TRANSLATORS: \
    --sort-by-file --add-location=file --package-name=mailsh \
    --msgid-bugs-address= -o "$work/mailsh.pot" \
    "${srcs[@]}" \
    2>"$work/xgettext.err"; then
	fail "i18n-extract (xgettext failed)"
	sed 's/^/    /' "$work/xgettext.err"
	exit 1
fi
total=$(grep -c '^msgid ' "$work/mailsh.pot")
total=$((total - 1))	# the header
msgmerge --quiet --no-wrap -o "$work/merged.po" "$PO" "$work/mailsh.pot"
msgattrib --untranslated --no-obsolete --no-wrap -o "$work/untr.po" \
    "$work/merged.po"
msgattrib --only-fuzzy --no-obsolete --no-wrap -o "$work/fuzzy.po" \
    "$work/merged.po"

count() {	# entries in a po file, header not counted
	local n
	n=$(grep -c '^msgid ' "$1" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && n=$((n - 1))
	echo "${n:-0}"
}
show() {	# first msgids of a po file, with where they come from
	awk '/^#: / { loc = $2 } /^msgid "./ && loc { print "    " loc ": " \
	    substr($0, 7); n++ } n >= 20 { exit }' "$1"
}
nu=$(count "$work/untr.po")
nf=$(count "$work/fuzzy.po")
if [ "$nu" -eq 0 ]; then
	pass "i18n-all-translated ($total messages)"
else
	fail "i18n-all-translated ($nu of $total messages have no German" \
	    "translation: make pot, then translate them in $PO)"
	show "$work/untr.po"
fi
if [ "$nf" -eq 0 ]; then
	pass "i18n-none-fuzzy"
else
	fail "i18n-none-fuzzy ($nf fuzzy translations in $PO: check them and" \
	    "remove the fuzzy flag)"
	show "$work/fuzzy.po"
fi

# ---- mailsh speaks German ----
if [ ! -x "$MAILSH" ]; then
	fail "i18n-binary ($MAILSH not built: run make)"
	exit 1
fi
if [ "$MAILSH" = "$top/mailsh" ]; then
	if [ ! -f "$MO" ] || [ "$MO" -ot "$PO" ]; then
		fail "i18n-mo-current ($MO missing or older than $PO: run make)"
	else
		pass "i18n-mo-current"
	fi
fi

# de_text TEXT: the catalogue's German for an English message
de_text() {
	LC_ALL=C.UTF-8 LANGUAGE=de TEXTDOMAINDIR="$top/build/locale" \
	    gettext -d mailsh -- "$1"
}

# --help: the German output is the catalogue's German of the English one
en=$("$MAILSH" --lang en --help; echo x); en=${en%x}
de=$("$MAILSH" --lang de --help; echo x); de=${de%x}
want=$(de_text "$en"; echo x); want=${want%x}
if [ -z "$en" ]; then
	fail "i18n-help-de (no output from --help)"
elif [ "$de" = "$en" ]; then
	fail "i18n-help-de (--lang de --help printed English)"
	echo "$de" | head -3 | sed 's/^/    /'
elif [ "$de" != "$want" ]; then
	fail "i18n-help-de (not the catalogue's German)"
	diff <(echo "$want") <(echo "$de") | head -10 | sed 's/^/    /'
else
	pass "i18n-help-de"
fi

# A one-shot SMTP server on loopback: greeting, then QUIT.
cat >"$work/srv.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(4); s.settimeout(30)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
for _ in range(int(sys.argv[2])):
    c, _ = s.accept(); c.settimeout(10)
    f = c.makefile("rb")
    c.sendall(b"220 lab.example ESMTP\r\n")
    for l in f:
        if l.strip().upper() == b"QUIT":
            c.sendall(b"221 lab.example bye\r\n")
            break
        c.sendall(b"502 5.5.1 not here\r\n")
    c.close()
PY
# LANG=de_DE.UTF-8 needs that locale: the system's, else one built here
# with localedef (found through LOCPATH) from the sources in the Debian
# package locales; without them the check fails, naming the package.
de_locale=$(locale -a 2>/dev/null | grep -iE '^de_DE\.utf-?8$' | head -1)
locpath=
if [ -z "$de_locale" ] && command -v localedef >/dev/null &&
    mkdir -p "$work/locale" &&
    localedef -i de_DE -f UTF-8 "$work/locale/de_DE.UTF-8" \
    >/dev/null 2>&1; then
	de_locale="de_DE.UTF-8 (built with localedef)"
	locpath=$work/locale
fi
runs=2; [ -n "$de_locale" ] && runs=3
python3 "$work/srv.py" "$work/port" "$runs" &
srv=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
if [ -z "$port" ]; then
	fail "i18n-annotation-de (the test server did not start)"
	exit 1
fi

# session ARGS...: the explanation of the 220 greeting
session() {
	printf 'QUIT\r\n' | NO_COLOR=1 timeout 20 "$@" -p smtp 127.0.0.1 \
	    "$port" 2>&1 | tee -a "$work/sessions" |
	    awk '/^S: 220 / { g = 1; next }
	        g && /^ += 220: / { sub(/^ += 220: /, ""); print; exit }
	        g && /^[SC]: / { exit }'
}
en220=$(session "$MAILSH" --lang en)
de220=$(session "$MAILSH" --lang de)
want220=$(de_text "$en220")
if [ -z "$en220" ]; then
	fail "i18n-annotation-de (no explanation of 220 in English)"
	sed 's/^/    /' "$work/sessions"
elif [ "$de220" = "$en220" ]; then
	fail "i18n-annotation-de (--lang de explained 220 in English: $de220)"
elif [ "$de220" != "$want220" ]; then
	fail "i18n-annotation-de (got \"$de220\", want \"$want220\")"
else
	pass "i18n-annotation-de (220: $de220)"
fi

if [ -z "$de_locale" ]; then
	fail "i18n-lang-env (no de_DE.UTF-8 locale and none to build with" \
	    "localedef: install the Debian package locales)"
else
	envde=$(session env -u LANGUAGE -u LC_ALL -u LC_MESSAGES \
	    ${locpath:+LOCPATH=$locpath} LANG=de_DE.UTF-8 "$MAILSH")
	if [ -n "$envde" ] && [ "$envde" = "$want220" ]; then
		pass "i18n-lang-env (LANG=de_DE.UTF-8 without --lang;" \
		    "locale $de_locale)"
	else
		fail "i18n-lang-env (LANG=de_DE.UTF-8 gave \"$envde\")"
	fi
fi
wait "$srv" 2>/dev/null
srv=
exit 0
