# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lab/lib.sh: what tests/lab/run.sh and tests/lab/attack-*.sh share.
# Source it after setting LAB_TMP (a word naming the temp directory):
#   LAB_TMP=attack-imap; . "$(dirname "$0")/lib.sh"
# It sets HERE, TOP, MAILSH, WIRE and D (a fresh temp directory, removed
# at exit unless LAB_KEEP=1), kills what was started at exit, and defines
# pass, fail, have, swaks_tls, missing, start and port.
#   MAILSH=path   binary to test (default ./mailsh at the repo top)
#   LAB_KEEP=1    keep the temp dir (states, logs, transcripts)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
MAILSH=${MAILSH:-$TOP/mailsh}
WIRE="python3 $HERE/wire.py"
export LC_ALL=C LANG=C NO_COLOR=1

D=$(mktemp -d "/tmp/mailsh-${LAB_TMP:-labtest}.XXXXXX")
PIDS=""
cleanup() {
	local p
	for p in $PIDS; do { kill -9 "$p"; wait "$p"; } 2>/dev/null; done
	wait 2>/dev/null
	if [ "${LAB_KEEP:-}" = 1 ]; then echo "kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FAILED=0
pass() { echo "PASS $1"; }
fail() {	# name, then diagnostics (files are shown indented)
	local n=$1; shift
	echo "FAIL $n"
	FAILED=1
	for x in "$@"; do
		if [ -f "$x" ]; then sed 's/^/    /' "$x" | tail -40
		else echo "    $x"; fi
	done
}
have() { command -v "$1" >/dev/null 2>&1; }
# swaks speaks TLS only with Net::SSLeay, which it merely Recommends
swaks_tls() { swaks --support 2>&1 | grep -q '^=== TLS supported'; }
# missing NAME TOOL...: the case needs tools that are not here
missing() {
	local n=$1 t pkgs=''; shift
	for t in "$@"; do
		if ! have "$t"; then pkgs="$pkgs $t"
		elif [ "$t" = swaks ] && ! swaks_tls; then
			pkgs="$pkgs libnet-ssleay-perl (swaks has no TLS without it)"
		fi
	done
	echo "FAIL $n (install the Debian package$pkgs;" \
	    "scripts/debian-deps --test installs every test tool)"
	FAILED=1
}

# start NAME ARGS...: a lab with state $D/NAME; sets LAB_PID.  Returns 1
# if it died or wrote no ports file within 30 s.
start() {
	local n=$1; shift
	"$MAILSH" lab --state "$D/$n" --port-base 0 "$@" \
	    >"$D/$n.out" 2>"$D/$n.err" &
	LAB_PID=$!
	PIDS="$PIDS $LAB_PID"
	local i
	for i in $(seq 600); do
		[ -s "$D/$n/ports" ] && return 0
		kill -0 "$LAB_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# port NAME ROLE: the port of a lab's role (smtp, submission, imap, ...)
port() { awk -v s="$2" '$1 == s { print $2 }' "$D/$1/ports"; }
