#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# make install / make uninstall / make dist, on a copy of the tree (the
# tree's own build is left alone):
#  - `make && make install PREFIX=/usr DESTDIR=...` installs a binary that
#    looks in /usr (PREFIX change rebuilds what has paths compiled in);
#  - an installed binary (PREFIX=a temporary directory) finds its lessons,
#    its German catalogue and itself (the lab children) with /proc hidden:
#    it runs in a mount namespace of its own (unshare) with an empty
#    tmpfs over /proc, and plays a lesson in German against its lab;
#  - a lessons/ directory next to a copied binary is not taken for the
#    source tree;
#  - `make uninstall` leaves no file behind;
#  - `make dist` packs what git tracks into mailsh-VERSION/.
# Prints PASS/FAIL/SKIP lines.  Loopback only.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }

missing=
for t in make cc msgfmt unshare mount tar; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail "install-tools (missing:$missing; Debian: build-essential, gettext, util-linux, mount, tar)"
	exit 1
fi

# ---- a copy of the source tree, built there ----
# A plain build: not the flags of a `make asan` this may run under (an
# ASan binary needs the /proc this test hides).
unset MAKEFLAGS MFLAGS MAKELEVEL
# make puts command-line variables into the environment too
case "${CFLAGS:-} ${LDFLAGS:-}" in *-fsanitize*) unset CFLAGS LDFLAGS ;; esac
src=$work/src
mkdir -p "$src"
tar -C "$top" --exclude=./.git --exclude=./build --exclude=./mailsh \
    --exclude=./tests --exclude=./debian --exclude='./mailsh-*.tar.gz' \
    -cf - . | tar -C "$src" -xf -
jobs=$(nproc 2>/dev/null || echo 2)
if ! make -C "$src" -j"$jobs" >"$work/build.log" 2>&1; then
	fail "install-build (make in a copy of the tree)"
	tail -20 "$work/build.log" | sed 's/^/    /'
	exit 1
fi

# ---- make install PREFIX=/usr DESTDIR=... after a plain make ----
dest=$work/dest
if make -C "$src" install PREFIX=/usr DESTDIR="$dest" >"$work/inst.log" 2>&1
then
	bin=$dest/usr/bin/mailsh
	if grep -aq '/usr/share/mailsh/lessons' "$bin" &&
	    grep -aq '/usr/share/locale' "$bin" &&
	    ! grep -aq '/usr/local/share' "$bin"; then
		pass "install-prefix-rebuild (the binary looks in /usr)"
	else
		fail "install-prefix-rebuild (make install PREFIX=/usr installed a binary built for another PREFIX)"
	fi
	want="usr/bin/mailsh usr/share/man/man1/mailsh.1"
	for f in lessons/*.lesson; do
		want="$want usr/share/mailsh/lessons/${f#lessons/}"
	done
	for p in po/*.po; do
		l=${p#po/}
		want="$want usr/share/locale/${l%.po}/LC_MESSAGES/mailsh.mo"
	done
	miss=
	for f in $want; do
		[ -f "$dest/$f" ] || miss="$miss $f"
	done
	stray=$(cd "$dest" && find . ! -type d ! -path './usr/*')
	if [ -z "$miss" ] && [ -z "$stray" ]; then
		pass "install-files ($(cd "$dest" && find . ! -type d | wc -l) files, all under DESTDIR/usr)"
	else
		fail "install-files (missing:${miss:- none}; outside usr: ${stray:-none})"
	fi
	make -C "$src" uninstall PREFIX=/usr DESTDIR="$dest" \
	    >"$work/uninst.log" 2>&1
	left=$( (cd "$dest" && find . ! -type d; find . -type d -name 'mailsh*') )
	if [ -z "$left" ]; then
		pass "install-uninstall-destdir (nothing left)"
	else
		fail "install-uninstall-destdir (left behind: $(echo $left))"
	fi
else
	fail "install-destdir (make install PREFIX=/usr DESTDIR=... failed)"
	tail -20 "$work/inst.log" | sed 's/^/    /'
fi

# ---- installed under a temporary PREFIX, run with /proc hidden ----
prefix=$work/prefix
if ! make -C "$src" install PREFIX="$prefix" >"$work/inst2.log" 2>&1; then
	fail "install-prefix (make install PREFIX=$prefix failed)"
	tail -20 "$work/inst2.log" | sed 's/^/    /'
	exit 1
fi

# noproc CMD...: runs CMD in a mount namespace of its own with an empty
# tmpfs over /proc (as root, or in a user namespace as anyone else), in
# an empty working directory, with no MAILSH_* variables and a HOME of
# its own.  The namespace's copy of /proc is made private before the
# tmpfs goes over it, so nothing propagates to the rest of the system;
# in a chroot, where / is no mount point (and unshare --propagation
# private fails), only /proc is made private.
mkdir -p "$work/home" "$work/cwd"
noproc() {
	local ns=(unshare --mount --propagation unchanged)
	[ "$(id -u)" -eq 0 ] || ns=(unshare --user --map-root-user --mount \
	    --propagation unchanged)
	(cd "$work/cwd" && env -u MAILSH_LESSONS -u MAILSH_LOCALEDIR \
	    -u MAILSH_LANG -u MAILSH -u XDG_CONFIG_HOME -u XDG_DATA_HOME \
	    -u XDG_STATE_HOME -u LANGUAGE LC_ALL=C.UTF-8 HOME="$work/home" \
	    "${ns[@]}" sh -c '
		mount --make-rprivate / 2>/dev/null ||
		    mount --make-private /proc || exit 96
		mount -t tmpfs none /proc || exit 97
		[ -e /proc/self/exe ] && exit 98
		exec "$@"' noproc "$@")
}

# A sanitizer build (make asan) cannot run without /proc: AddressSanitizer
# reads its options and LeakSanitizer the process's threads there.
if grep -q __asan_init "$prefix/bin/mailsh" 2>/dev/null; then
	for c in noproc-lessons noproc-lesson-de noproc-path not-a-tree; do
		echo "SKIP install-$c (a sanitizer build needs /proc)"
	done
else
	noproc true
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "install-noproc (cannot hide /proc: unshare/mount ended with $rc; needs root or user namespaces)"
		exit 1
	fi

	out=$(noproc "$prefix/bin/mailsh" lesson 2>&1)
	if echo "$out" | grep -q '^smtp-by-hand ' &&
	    echo "$out" | grep -q '^imap-by-hand '; then
		pass "install-noproc-lessons (installed lessons listed without /proc)"
	else
		fail "install-noproc-lessons"
		echo "$out" | head -10 | sed 's/^/    /'
	fi

	# The lesson starts the lab: the binary finds itself for the child.
	out=$(noproc "$prefix/bin/mailsh" lesson smtp-by-hand --check --lang de 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^Lektion smtp-by-hand: '; then
		pass "install-noproc-lesson-de (lesson, German catalogue and lab without /proc)"
	else
		fail "install-noproc-lesson-de (exit status $rc)"
		echo "$out" | tail -10 | sed 's/^/    /'
	fi

	# Started through a symbolic link in another directory (PATH lookup).
	mkdir -p "$work/path"
	ln -s "$prefix/bin/mailsh" "$work/path/mailsh"
	out=$(PATH="$work/path:$PATH" noproc mailsh lesson smtp-by-hand --check \
	    --lang en 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^lesson smtp-by-hand: all steps'
	then
		pass "install-noproc-path (found through PATH and a link)"
	else
		fail "install-noproc-path (exit status $rc)"
		echo "$out" | tail -10 | sed 's/^/    /'
	fi

	# A lessons/ directory next to a copy of the binary is not a source tree.
	mkdir -p "$work/copy/lessons"
	cp "$prefix/bin/mailsh" "$work/copy/mailsh"
	sed 's/^lesson: *smtp-by-hand/lesson: not-the-shipped-one/' \
	    lessons/01-smtp-by-hand.lesson >"$work/copy/lessons/01-x.lesson"
	out=$(noproc "$work/copy/mailsh" lesson 2>&1)
	if echo "$out" | grep -q '^smtp-by-hand ' &&
	    ! echo "$out" | grep -q 'not-the-shipped-one'; then
		pass "install-not-a-tree (lessons/ next to a copied binary ignored)"
	else
		fail "install-not-a-tree"
		echo "$out" | head -10 | sed 's/^/    /'
	fi
fi

# ---- make uninstall ----
make -C "$src" uninstall PREFIX="$prefix" >"$work/uninst2.log" 2>&1
left=$( (cd "$prefix" && find . ! -type d; find . -type d -name 'mailsh*') )
if [ -z "$left" ]; then
	pass "install-uninstall (nothing left under PREFIX)"
else
	fail "install-uninstall (left behind: $(echo $left))"
fi

# ---- make dist ----
if [ ! -e "$top/.git" ]; then
	echo "SKIP install-dist (not a git checkout: make dist packs what git tracks)"
elif ! command -v git >/dev/null; then
	fail "install-dist (git missing; Debian: git)"
else
	# make dist in the copy, with the tree's repository named in
	# GIT_DIR (so no clone, and a checkout that belongs to another
	# user is no "dubious ownership")
	gd=$top/.git
	[ -d "$gd" ] || gd=$(git -C "$top" rev-parse --absolute-git-dir)
	ver=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
	tgz=$src/mailsh-$ver.tar.gz
	if GIT_DIR=$gd make -C "$src" dist >"$work/dist.log" 2>&1 &&
	    [ -f "$tgz" ]; then
		n_git=$(GIT_DIR=$gd git ls-tree -r --name-only HEAD | wc -l)
		n_tar=$(tar -tzf "$tgz" | grep -vc '/$')
		if [ "$n_git" -eq "$n_tar" ] &&
		    tar -tzf "$tgz" | grep -qx "mailsh-$ver/COPYING"; then
			pass "install-dist (mailsh-$ver.tar.gz, $n_tar files)"
		else
			fail "install-dist ($n_tar files in the tarball, git tracks $n_git, or no COPYING)"
		fi
	else
		fail "install-dist (make dist failed)"
		tail -5 "$work/dist.log" | sed 's/^/    /'
	fi
fi
