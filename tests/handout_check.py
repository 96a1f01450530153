#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks one lesson's handouts (tests/handout.sh calls it).

    handout_check.py LESSON LANG KIND MD_RENDERED HTML [PNG PDF]

LESSON is the lesson file, LANG en or de, KIND worksheet or key,
MD_RENDERED the Markdown handout as cmark rendered it, HTML the HTML
handout, PNG and PDF what chromium made of the HTML.  Prints PASS/FAIL
lines, one per check.
"""
import html
import html.parser
import re
import struct
import sys
import zlib


def parse_lesson(path, lang):
    """Text fields (by key, per step) and solution lines of a lesson."""
    steps = [{}]
    last = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            if line[0] in " \t":
                if last is not None:
                    last[-1] += "\n" + line.strip()
                continue
            if line in ("step", "question"):
                steps.append({"kind": line})
                last = None
                continue
            key, _, val = line.partition(":")
            val = val.strip()
            cur = steps[-1]
            cur.setdefault(key, []).append(val)
            last = cur[key]
    return steps


def visible(steps, lang, keys):
    out = []
    for s in steps:
        for k in keys:
            out += s.get(k + "." + lang, [])
    return out


def norm(t):
    return re.sub(r"\s+", " ", t).strip()


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, d):
        self.parts.append(d)

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "li", "pre", "div", "h1", "h2", "br", "ul", "ol"):
            self.parts.append("\n")


def text_of(h):
    p = Text()
    p.feed(h)
    return norm("".join(p.parts))


def png_ok(path):
    """The PNG exists, is more than a few KB and not of one colour."""
    data = open(path, "rb").read()
    if len(data) < 8000 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return False, "%d bytes" % len(data)
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    distinct = len(set(raw[:2000000]))
    return distinct > 16, "%d distinct byte values" % distinct


def main():
    lesson, lang, kind, md_html, page = sys.argv[1:6]
    png = sys.argv[6] if len(sys.argv) > 6 else None
    pdf = sys.argv[7] if len(sys.argv) > 7 else None
    steps = parse_lesson(lesson, lang)
    name = "%s-%s-%s" % (steps[0].get("lesson", ["?"])[0], lang, kind)
    docs = {"md": open(md_html, encoding="utf-8").read(),
            "html": open(page, encoding="utf-8").read()}
    fails = 0

    def check(ok, what, why=""):
        nonlocal fails
        print("%s handout-%s-%s%s" % ("PASS" if ok else "FAIL", name, what,
                                      "" if ok or not why else
                                      "\n    " + why))
        fails += 0 if ok else 1

    shown = ["title", "summary", "text", "choice"]
    if kind == "key":
        shown += ["hint", "explain", "note", "why"]
    shown_texts = visible(steps, lang, shown)
    addresses = set()
    for t in shown_texts:
        addresses.update(re.findall(r"<[^<>\s@]+@[^<>\s]+>", t))
    # a German run plays solution.de: where a step has it
    solutions = [v for s in steps for v in
                 (s.get("solution.de") if lang == "de" and
                  s.get("solution.de") else s.get("solution", []))]
    prose = norm(" ".join(visible(steps, lang, ["title", "summary", "text",
                                                 "choice"])))
    for fmt, doc in docs.items():
        txt = text_of(doc)
        check("mailto:" not in doc and "<a href" not in doc,
              "%s-no-links" % fmt, "a link appeared (an autolink?)")
        raw_tag = re.search(r"<[A-Za-z0-9._%+-]+@", doc)
        check(not raw_tag, "%s-no-raw-address" % fmt,
              raw_tag and doc[raw_tag.start():raw_tag.start() + 60])
        missing = [a for a in sorted(addresses)
                   if html.escape(a, quote=False) not in doc]
        check(not missing, "%s-addresses-escaped" % fmt,
              "not found as &lt;...&gt;: %s" % " ".join(missing[:3]))
        word = {"en": "Step 1", "de": "Schritt 1"}[lang]
        check(word in txt, "%s-language" % fmt, "no %r" % word)
        if kind == "worksheet":
            leaks = [s for s in solutions if len(norm(s)) >= 4 and
                     norm(s) in txt and norm(s) not in prose]
            check(not leaks, "%s-no-solutions" % fmt,
                  "solution lines on the worksheet: %r" % leaks[:3])
            hints = [norm(h) for h in visible(steps, lang, ["hint",
                     "explain", "note", "why"]) if len(norm(h)) >= 12]
            hl = [h for h in hints if h in txt and h not in prose]
            check(not hl, "%s-no-hints" % fmt,
                  "hints or answers on the worksheet: %r" % hl[:2])
            check("\u2611" not in doc and 'class="right"' not in doc and
                  "\u2714" not in doc, "%s-no-ticks" % fmt,
                  "a choice is ticked")
        else:
            absent = [s for s in solutions if norm(s) and norm(s) not in txt]
            check(not absent, "%s-solutions" % fmt,
                  "model answers missing: %r" % absent[:3])
            hints = [norm(h) for h in visible(steps, lang, ["hint",
                     "explain"])]
            hm = [h for h in hints if h not in txt]
            check(not hm, "%s-hints" % fmt, "missing: %r" % hm[:2])
            reply = re.search(r"S: (\d{3}[ -]|\+OK|\* [A-Z]|[A-Za-z0-9.]+ "
                              r"OK)", txt)
            check(bool(reply), "%s-server-replies" % fmt,
                  "no recorded server reply line")
            check("step 1: ok" not in txt and "] step 1/" not in txt,
                  "%s-no-check-transcript" % fmt,
                  "the --check transcript leaked into the handout")
            questions = sum(1 for s in steps if s.get("kind") == "question")
            ticks = doc.count("\u2611") if fmt == "md" else \
                doc.count('class="right"')
            check(ticks == questions, "%s-right-choices" % fmt,
                  "%d questions, %d ticked" % (questions, ticks))
    page_doc = docs["html"]
    check('<html lang="%s">' % lang in page_doc and
          '<meta charset="utf-8">' in page_doc and "<style>" in page_doc and
          "@media print" in page_doc, "html-head",
          "lang, charset or print CSS missing")
    if png:
        try:
            ok, why = png_ok(png)
        except (OSError, ValueError, zlib.error, struct.error) as e:
            ok, why = False, str(e)
        check(ok, "chromium-png", why)
    if pdf:
        try:
            data = open(pdf, "rb").read()
        except OSError as e:
            data = b""
        check(data.startswith(b"%PDF-") and len(data) > 5000 and
              b"/Type /Page" in data, "chromium-pdf",
              "%d bytes" % len(data))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
