#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Every lesson's --check run in German must be German: no English text
# of the lesson, no untranslated message of mailsh's catalogue, and no
# line that reads as English, outside what the server and the client put
# on the wire (S:/C: lines and the proxy's copies of them).  Prints
# PASS/FAIL lines.  Loopback only (the lab on free ports).
import os, re, subprocess, sys, tempfile

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
mailsh = os.environ.get("MAILSH", os.path.join(top, "mailsh"))
lessons = os.path.join(top, "lessons")

EN = set("the and is are you your with this that not was will from for "
         "it be has have can what which when where there their they "
         "does only must should into been would could".split())
DE = set("der die das und ist sind du dein deine mit nicht war wird von "
         "für es hat haben kann was wenn wo ein eine einen dem den des "
         "auf im zu sich noch schon nur".split())

def po_msgids(path):
    """msgid -> msgstr of the German catalogue (single-line joined)."""
    out, cur, key = {}, {}, None
    def flush():
        if cur.get("msgid") and cur.get("msgstr") is not None:
            out[cur["msgid"]] = cur["msgstr"]
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r'^(msgid|msgstr|msgstr\[0\]|msgid_plural)\s+"(.*)"$', line)
        if m:
            k = m.group(1).replace("[0]", "")
            if k == "msgid":
                flush()
                cur = {}
            key = k
            cur[key] = cur.get(key, "") + m.group(2)
        elif line.startswith('"') and key:
            cur[key] += line[1:-1]
        elif not line.strip():
            key = None
    flush()
    return out

def english_texts(path):
    """The lesson's English texts, as sentences of some length."""
    texts, cur = [], None
    for line in open(path, encoding="utf-8"):
        if re.match(r"^[a-z-]+\.en:", line):
            cur = [line.split(":", 1)[1].strip()]
            texts.append(cur)
        elif line[:1] in " \t" and cur is not None:
            cur.append(line.strip())
        else:
            cur = None
    out = []
    for t in texts:
        for s in re.split(r"(?<=[.:;!?])\s+", " ".join(t)):
            words = re.findall(r"[a-z]+", s.lower())
            if len(s) >= 25 and sum(w in EN for w in words) >= 2:
                out.append(s)
    return out

def wire(line):
    s = line.strip()
    return (s.startswith(("S:", "C:")) or
            re.match(r"^! *(Angreifer sieht|attacker sees)", s) is not None)

po = po_msgids(os.path.join(top, "po", "de.po"))
english_msgs = [k.replace("\\n", "\n") for k, v in po.items()
                if v and v != k and len(k) >= 20 and "%" not in k[:3]]

failed = 0
for f in sorted(os.listdir(lessons)):
    if not f.endswith(".lesson"):
        continue
    path = os.path.join(lessons, f)
    name = re.search(r"^lesson:\s*(\S+)", open(path).read(), re.M).group(1)
    env = dict(os.environ, NO_COLOR="1", MAILSH_LESSONS=lessons,
               LANGUAGE="de", LANG="de_DE.UTF-8")
    with tempfile.TemporaryDirectory() as d:
        env["XDG_STATE_HOME"] = d
        p = subprocess.run([mailsh, "lesson", name, "--check", "--lang",
                            "de"], env=env, capture_output=True, text=True,
                           timeout=300)
    lines = [l for l in (p.stdout + p.stderr).splitlines() if not wire(l)]
    text = "\n".join(lines)
    problems = []
    for s in english_texts(path):
        if s in text:
            problems.append("English lesson text: " + s[:70])
    for m in english_msgs:
        first = m.strip().split("\n")[0]
        if len(first) >= 20 and first in text:
            problems.append("untranslated message: " + first[:70])
    for l in lines:
        words = re.findall(r"[A-Za-zäöüÄÖÜß]+", l.lower())
        en = sum(w in EN for w in words)
        de = sum(w in DE for w in words)
        if en >= 3 and en > de:
            problems.append("reads as English: " + l.strip()[:90])
    if problems:
        failed += 1
        print(f"FAIL lesson-german-{name}")
        for pr in sorted(set(problems))[:12]:
            print("    " + pr)
    else:
        print(f"PASS lesson-german-{name}")
sys.exit(1 if failed else 0)
