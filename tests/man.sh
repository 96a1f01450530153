#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The manual pages: `mandoc -T lint` finds nothing in any of them (any
# message, style included, fails); every option in the getopt tables of
# mailsh, mailsh lab, mailsh mitm and mailsh lesson (long options and
# the short ones of the optstring) is in that command's page; the pages
# name each other under SEE ALSO; `make install` installs every page,
# completion file and document and `make uninstall` removes them (read
# from `make -n`, so nothing is built or installed).  Prints PASS/FAIL
# lines.  A missing tool is a FAIL naming the Debian package.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

pages="docs/mailsh.1 docs/mailsh-lab.1 docs/mailsh-mitm.1
docs/mailsh-lesson.1 docs/mailsh-lessons.5"

have() { command -v "$1" >/dev/null 2>&1; }

# ---- mandoc -T lint ----
if ! have mandoc; then
	echo "FAIL man-lint (no mandoc: apt-get install mandoc)"
else
	for p in $pages; do
		n=$(basename "$p")
		if [ ! -f "$p" ]; then
			echo "FAIL man-lint-$n (missing)"
			continue
		fi
		out=$(mandoc -T lint -W all "$p" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && [ -z "$out" ]; then
			echo "PASS man-lint-$n"
		else
			echo "FAIL man-lint-$n (exit $rc)"
			printf '%s\n' "$out" | sed 's/^/    /'
		fi
	done
	# every page renders, with a NAME line
	for p in $pages; do
		n=$(basename "$p")
		if mandoc -T ascii "$p" 2>/dev/null | sed "s/.\x08//g" |
		    grep -q '^NAME'; then
			echo "PASS man-render-$n"
		else
			echo "FAIL man-render-$n"
		fi
	done
fi

# ---- every option of the getopt tables is in its page ----
have python3 || { echo "FAIL man-options (no python3: apt-get install python3)"; exit 0; }
python3 - "$top" <<'EOF'
import re, sys, os
top = sys.argv[1]
# source file, function-independent: the option table and optstring of
# the getopt_long call that uses it; the page that documents them
cmds = [
    ("mailsh", "shell/main.c", "docs/mailsh.1"),
    ("mailsh lab", "lab/lab.c", "docs/mailsh-lab.1"),
    ("mailsh mitm", "lab/mitm.c", "docs/mailsh-mitm.1"),
    ("mailsh lesson", "shell/lesson.c", "docs/mailsh-lesson.1"),
]
def cstrings(s):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s))
for name, src, page in cmds:
    tag = "man-options-" + (name.split()[1] if " " in name else "mailsh")
    try:
        code = open(os.path.join(top, src), encoding="utf-8").read()
        roff = open(os.path.join(top, page), encoding="utf-8").read()
    except OSError as e:
        print(f"FAIL {tag} ({e})")
        continue
    calls = list(re.finditer(
        r'getopt_long\s*\(\s*\w+\s*,\s*\w+\s*,\s*("(?:[^"\\]|\\.)*"|\w+)'
        r'\s*,\s*(\w+)', code))
    if not calls:
        print(f"FAIL {tag} (no getopt_long call in {src})")
        continue
    longs, shorts = [], []
    for call in calls:
        opt, table = call.group(1), call.group(2)
        if not opt.startswith('"'):
            m = re.search(r'\b' + re.escape(opt) + r'\s*\[\s*\]\s*=\s*'
                          r'((?:"(?:[^"\\]|\\.)*"\s*)+)', code)
            opt = m.group(1) if m else '""'
        for ch in cstrings(opt):
            if ch.isalnum() and ch not in shorts:
                shorts.append(ch)
        m = re.search(r'struct\s+option\s+' + re.escape(table) +
                      r'\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\};', code, re.S)
        if not m:
            print(f"FAIL {tag} (no option table {table} in {src})")
            continue
        for o in re.findall(r'\{\s*"([a-z0-9-]+)"\s*,', m.group(1)):
            if o not in longs:
                longs.append(o)
    # in roff, a dash is written \- ; an option is --name not followed
    # by another name character
    text = roff.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
    text = text.replace("\\fI", "").replace("\\fP", "")
    missing = [f"--{o}" for o in longs
               if not re.search(r'(?<![A-Za-z0-9-])--' + re.escape(o) +
                                r'(?![A-Za-z0-9-])', text)]
    missing += [f"-{c}" for c in shorts
                if not re.search(r'(?<![A-Za-z0-9-])-' + re.escape(c) +
                                 r'(?![A-Za-z0-9-])', text)]
    if not longs:
        print(f"FAIL {tag} (no long options found in {src})")
    elif missing:
        print(f"FAIL {tag} ({page} lacks {' '.join(missing)} of {src})")
    else:
        print(f"PASS {tag} ({len(longs)} long, {len(shorts)} short)")
EOF

# ---- SEE ALSO links every page to the others ----
for p in $pages; do
	n=$(basename "$p")
	see=$(sed -n '/^\.SH SEE ALSO/,/^\.SH /p' "$p" | sed 's/\\-/-/g')
	miss=
	for q in $pages; do
		[ "$q" = "$p" ] && continue
		b=$(basename "$q")
		ref="${b%.*} (${b##*.})"	# mailsh-lab.1 -> "mailsh-lab (1)"
		printf '%s\n' "$see" | grep -qF "${b%.*} (${b##*.})" ||
		    printf '%s\n' "$see" | grep -qE "^\.BR ${b%.*} \(${b##*.}\)" ||
		    miss="$miss $ref"
	done
	if [ -z "$miss" ]; then
		echo "PASS man-see-also-$n"
	else
		echo "FAIL man-see-also-$n (missing:$miss)"
	fi
done

# ---- make install / uninstall cover the pages, completions, docs ----
if ! have make; then
	echo "FAIL man-install (no make: apt-get install make)"
	exit 0
fi
D=/nonexistent-destdir
join() { sed -e ':a' -e '/\\$/N; s/\\\n//; ta'; }	# continuation lines
inst=$(make -s -n install DESTDIR=$D PREFIX=/usr 2>&1 | join)
uninst=$(make -s -n uninstall DESTDIR=$D PREFIX=/usr 2>&1 | join)
# SOURCE TARGET: an install line names both (TARGET a file or a
# directory ending in /); uninstall removes TARGET (or TARGET/SOURCE)
want="docs/mailsh.1 $D/usr/share/man/man1/
docs/mailsh-lab.1 $D/usr/share/man/man1/
docs/mailsh-mitm.1 $D/usr/share/man/man1/
docs/mailsh-lesson.1 $D/usr/share/man/man1/
docs/mailsh-lessons.5 $D/usr/share/man/man5/
completions/mailsh.bash $D/usr/share/bash-completion/completions/mailsh
completions/_mailsh $D/usr/share/zsh/vendor-completions/_mailsh
completions/mailsh.fish $D/usr/share/fish/vendor_completions.d/mailsh.fish
README.md $D/usr/share/doc/mailsh/
docs/lessons.md $D/usr/share/doc/mailsh/"
miss_i= miss_u=
while read -r src dst; do
	[ -f "$src" ] || miss_i="$miss_i $src(no such file)"
	printf '%s\n' "$inst" | grep -F -- " $src " | grep -qF -- "$dst" ||
	    miss_i="$miss_i $src"
	case $dst in */) dst=$dst$(basename "$src") ;; esac
	printf '%s\n' "$uninst" | grep -qF -- "$dst" || miss_u="$miss_u $dst"
done <<EOW
$want
EOW
if [ -z "$miss_i" ]; then
	echo "PASS man-install"
else
	echo "FAIL man-install (make install does not install:$miss_i)"
fi
if [ -z "$miss_u" ]; then
	echo "PASS man-uninstall"
else
	echo "FAIL man-uninstall (make uninstall does not remove:$miss_u)"
fi
exit 0
