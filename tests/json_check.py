#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""json_check.py: check a file of mailsh --json output (docs/json.md).

    tests/json_check.py [--exit N] FILE

Every line must be valid against docs/mailsh-json.schema.json (version 1),
the first a "start" event, the last an "exit" event (with status N when
--exit is given), and received lines numbered 1, 2, ... per connection:
the same check as the e2e cases' "json".  Prints the problems and exits 1
if there are any, 0 if none.  Needs python3-jsonschema.
"""

import argparse
import sys

import e2e


def main():
    ap = argparse.ArgumentParser(description='check mailsh --json output')
    ap.add_argument('--exit', type=int, metavar='N',
                    help='the exit status the "exit" event must name')
    ap.add_argument('file')
    opt = ap.parse_args()
    with open(opt.file, encoding='utf-8', errors='replace') as f:
        problems = e2e.check_json(f.read(), opt.exit)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
