#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
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
export TOP=$top

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

# Lesson text is plain text: whatever looks like Markdown or HTML in it
# must come out as the same characters, in Markdown through cmark and in
# HTML (only "- " lines make a list; lines indented deeper are kept).
mkdir -p "$work/hostile"
cat >"$work/hostile/x.lesson" <<'LESSON'
lesson: hostile
title.en: Title *not em* <b>no tag</b> & [no link](http://example.com)
title.de: Titel *nicht kursiv* <b>kein Tag</b>
summary.en: Summary _x_ `y` <alice@lab.example> \backslash
summary.de: Zusammenfassung _x_ `y` <alice@lab.example>
minutes: 5
why.en: W *x* <carol@lab.example>
why.de: W *x*

step
connect: smtp
text.en: Markup *not bold* and _not italic_ and **not strong**, [not a
  link](http://example.com), <b>not html</b>, &amp; stays, a `tick`,
  ``two ticks``, mail <bob@lab.example>, a \ backslash, ~~not struck~~.
  1. not a list
  # not a heading
  + not a list
  > not a quote
  ===
  <!-- not a comment -->
  <http://example.com/not-autolink>
  Type: EHLO pc17.example
  - a real item with *stars*
  - another
      ```kept
      <dave@lab.example> *as is*
text.de: Markup *nicht fett* <b>kein HTML</b> <bob@lab.example>
type: ^EHLO
expect: ^250
hint.en: Hint *x* <erin@lab.example> [y]
hint.de: Tipp *x* <erin@lab.example>
solution: EHLO pc17.example
solution.de: EHLO rechner.example
LESSON
# the German answer key shows (and records) the German model answer
MAILSH_LESSONS=$work/hostile "$MAILSH" lesson hostile --handout md \
    --answers --lang de >"$work/x-de.md" 2>&1
if grep -qx 'EHLO rechner.example' "$work/x-de.md" &&
    grep -qx 'C: EHLO rechner.example' "$work/x-de.md" &&
    ! grep -q 'pc17' "$work/x-de.md"; then
	echo "PASS handout-key-solution-de"
else
	echo "FAIL handout-key-solution-de"
fi
for kind in worksheet key; do
	extra=
	[ $kind = key ] && extra=--answers
	for fmt in md html; do
		# shellcheck disable=SC2086
		MAILSH_LESSONS=$work/hostile "$MAILSH" lesson hostile \
		    --handout $fmt $extra --lang en >"$work/x.$fmt" 2>&1
	done
	if [ $have_cmark = 1 ]; then
		cmark "$work/x.md" >"$work/x.md.html"
	else
		cp "$work/x.md" "$work/x.md.html"
	fi
	python3 - "$work/x.md.html" "$work/x.html" $kind <<'PY'
import html, re, sys
sys.path.insert(0, __import__("os").environ["TOP"] + "/tests")
from handout_check import text_of
kind = sys.argv[3]
want = ["Title *not em* <b>no tag</b> & [no link](http://example.com)",
        "Summary _x_ `y` <alice@lab.example> \\backslash",
        "*not bold*", "_not italic_", "**not strong**",
        "[not a link](http://example.com)", "<b>not html</b>",
        "&amp; stays", "a `tick`", "``two ticks``", "<bob@lab.example>",
        "a \\ backslash", "~~not struck~~", "1. not a list",
        "# not a heading", "+ not a list", "> not a quote", "===",
        "<!-- not a comment -->", "<http://example.com/not-autolink>",
        "EHLO pc17.example", "a real item with *stars*",
        "```kept <dave@lab.example> *as is*"]
if kind == "key":
    want += ["Hint *x* <erin@lab.example> [y]", "W *x* <carol@lab.example>"]
for fmt, path in (("md", sys.argv[1]), ("html", sys.argv[2])):
    doc = open(path, encoding="utf-8").read()
    txt = text_of(doc)
    lost = [w for w in want if w not in txt]
    print("%s handout-hostile-%s-%s-text-kept%s" % (
        "FAIL" if lost else "PASS", kind, fmt,
        "\n    lost: %r" % lost[:4] if lost else ""))
    body = doc[doc.find("<h1"):]
    bad = [t for t in ("<b>", "<a ", "<blockquote", "<h3", "<!--")
           if t in body]
    # the answer key's one list of hints is an <ol>, the text has none
    if body.count("<ol") != (1 if kind == "key" else 0):
        bad.append("<ol")
    items = body.count("<li")
    expect_items = 2 + (1 if kind == "key" else 0)
    ok = not bad and body.count("<h1") == 1 and items == expect_items
    print("%s handout-hostile-%s-%s-structure%s" % (
        "PASS" if ok else "FAIL", kind, fmt,
        "" if ok else "\n    markup %r, %d h1, %d items (want %d)" % (
            bad, body.count("<h1"), items, expect_items)))
PY
done

# The recorded replies are bounded: a long line is cut with a mark, a
# step keeps at most 40 lines and says how many it left out.  A step that
# fails while the key is recorded still gives a key, a message on stderr
# and exit status 1.
mkdir -p "$work/bounds"
python3 - "$work/bounds/b.lesson" <<'PY'
import sys
def mail(subject, lines):
    return ["EHLO pc17.example", "MAIL FROM:<alice@lab.example>",
            "RCPT TO:<bob@lab.example>", "DATA", "Subject: " + subject,
            ""] + ["line %d of the body" % i for i in range(lines)] + ["."]
def step(text, typ, expect, sols, connect=None):
    out = ["", "step"] + (["connect: " + connect] if connect else [])
    out += ["text.en: " + text, "text.de: " + text, "type: " + typ,
            "expect: " + expect] + ["solution: " + x for x in sols]
    return out
les = ["lesson: bounds", "title.en: Bounds", "title.de: Grenzen",
       "summary.en: S", "summary.de: S", "minutes: 5", "why.en: W",
       "why.de: W"]
les += step("A long mail.", "^\\.$", "^250", mail("L" * 300, 17), "smtp")
les += step("Another.", "^\\.$", "^250", mail("two", 17), "smtp")
les += step("Expect the wrong reply.", "^QUIT$", "^299", ["QUIT"])
les += step("Read both.", "^RETR 2$", "^Subject", ["USER bob",
            "PASS bob-pass", "RETR 1", "RETR 2"], "pop3s")
open(sys.argv[1], "w").write("\n".join(les) + "\n")
PY
MAILSH_LESSONS=$work/bounds "$MAILSH" lesson bounds --handout md --answers \
    --lang en >"$work/b.md" 2>"$work/b.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "1 step of lesson bounds failed" "$work/b.err" &&
    grep -q '^## Step 4' "$work/b.md" && grep -q '^S: +OK' "$work/b.md"; then
	echo "PASS handout-key-failed-step"
else
	echo "FAIL handout-key-failed-step (exit $rc)"
	sed 's/^/    /' "$work/b.err" | head -3
fi
if grep -qE '^C: Subject: L{100,160} … \[cut\]$' "$work/b.md" &&
    ! grep -qE 'L{161}' <(grep -E '^[CS]: ' "$work/b.md"); then
	echo "PASS handout-key-long-line-cut"
else
	echo "FAIL handout-key-long-line-cut"
fi
if grep -qE '^\.\.\. [0-9]+ more lines?$' "$work/b.md" &&
    [ "$(awk '/^## Step 4/{s=1} s && /^[CS]: /{n++} END{print n+0}' \
    "$work/b.md")" -le 40 ]; then
	echo "PASS handout-key-lines-bounded"
else
	echo "FAIL handout-key-lines-bounded"
fi

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
