#!/usr/bin/env bash
# Handout tests: every lesson's worksheet and answer key (--handout md|html
# [--answers]) in English and German.  The Markdown goes through cmark
# (no autolinks, addresses escaped), the HTML through headless chromium
# (a screenshot that is not blank, a PDF).  The worksheet holds no model
# answer and no hint; the answer key holds every model answer, every hint,
# the right choices and real server replies.  Prints PASS/FAIL lines.
# Needs the Debian packages cmark and chromium (scripts/debian-deps
# --test): without them the tests fail, naming the package.  Loopback
# only (the answer key plays the lesson against the lab).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MAILSH=${MAILSH:-$top/mailsh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MAILSH_LESSONS=$top/lessons

have_cmark=1 have_chromium=1
if ! command -v cmark >/dev/null 2>&1; then
	echo "FAIL handout-tools-cmark (install the Debian package cmark)"
	have_cmark=0
fi
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	echo "FAIL handout-tools-chromium (install the Debian package chromium)"
	have_chromium=0
fi

# headless chromium: one page to a PNG or a PDF (bounded in time)
shoot() {	# html, --screenshot=...|--print-to-pdf=...
	local prof
	prof=$(mktemp -d "$work/prof.XXXXXX")
	timeout 90 "$chromium" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$prof" --window-size=1000,1400 \
	    --no-pdf-header-footer "$2" "file://$1" >"$work/chromium.log" 2>&1
	rm -rf "$prof"
}

# --answers alone is a usage error
"$MAILSH" lesson smtp-by-hand --answers >/dev/null 2>"$work/err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- '--handout' "$work/err"; then
	echo "PASS handout-answers-needs-handout"
else
	echo "FAIL handout-answers-needs-handout (exit $rc)"
fi

for f in "$top"/lessons/*.lesson; do
	name=$(sed -n 's/^lesson: *//p' "$f")
	for lang in en de; do
		for kind in worksheet key; do
			extra=
			[ $kind = key ] && extra=--answers
			base=$work/$name-$lang-$kind
			ok=1
			for fmt in md html; do
				# shellcheck disable=SC2086
				if ! "$MAILSH" lesson "$name" --handout $fmt $extra \
				    --lang $lang >"$base.$fmt" 2>"$base.$fmt.err"; then
					echo "FAIL handout-$name-$lang-$kind-$fmt-runs"
					sed 's/^/    /' "$base.$fmt.err" | head -5
					ok=0
				fi
			done
			[ $ok = 1 ] || continue
			if [ $have_cmark = 1 ]; then
				cmark "$base.md" >"$base.md.html"
			else
				cp "$base.md" "$base.md.html"
			fi
			args=("$f" $lang $kind "$base.md.html" "$base.html")
			if [ $have_chromium = 1 ]; then
				shoot "$base.html" --screenshot="$base.png"
				shoot "$base.html" --print-to-pdf="$base.pdf"
				args+=("$base.png" "$base.pdf")
			fi
			python3 "$top/tests/handout_check.py" "${args[@]}"
		done
	done
done
