#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Shell completion: completions/mailsh.bash is sourced into a clean bash
# and its function is called as bash calls it (COMP_WORDS, COMP_CWORD);
# COMPREPLY must hold the options, subcommands, lesson names (read from
# `mailsh lesson`), lab profiles and switches, MITM modes, --lang and
# --handout values.  completions/_mailsh is checked with zsh -n and then
# typed into an interactive zsh on a pseudo-terminal (zpty) with Tab;
# completions/mailsh.fish with fish -n and `complete -C`.  Also: every
# long option of a getopt table is offered by each completion.  Prints
# PASS/FAIL lines; a missing shell is a FAIL naming its Debian package.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
MAILSH=${MAILSH:-$top/mailsh}
[ -x "$MAILSH" ] || { echo "FAIL completion (no $MAILSH: run make)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the completions run `mailsh lesson`: a home of its own, no config,
# the tree's lessons; `mailsh` on PATH is the binary under test
mkdir -p "$work/home" "$work/bin"
ln -s "$MAILSH" "$work/bin/mailsh"
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config \
    XDG_STATE_HOME=$work/home/.local/state XDG_DATA_HOME=$work/home/.local/share
export MAILSH_LESSONS=$top/lessons
export PATH=$work/bin:$PATH
unset MAILSH_LANG LANGUAGE
export LC_ALL=C.UTF-8

# The lesson names as mailsh lists them: what completion must offer.
lessons=$(mailsh lesson --lang en 2>/dev/null |
    awk '/^[^ \t]/ && $2 ~ /^[0-9]+$/ && $3 == "min" { print $1 }' | sort)
if printf '%s\n' "$lessons" | grep -qx smtp-by-hand &&
    printf '%s\n' "$lessons" | grep -qx smtp-auth; then
	echo "PASS completion-lesson-list ($(echo $lessons | wc -w) lessons)"
else
	echo "FAIL completion-lesson-list (mailsh lesson lists no smtp-by-hand, smtp-auth: the completions read its first column)"
	mailsh lesson --lang en 2>&1 | head -5 | sed 's/^/    /'
fi

# The long options of each getopt table, for the "every option" checks:
# lines "SUB OPTION" (SUB: main, lab, mitm, lesson).
python3 - "$top" >"$work/opts" <<'EOF' || echo "FAIL completion-options (cannot read the getopt tables)"
import re, sys, os
top = sys.argv[1]
for sub, src in (("main", "shell/main.c"), ("lab", "lab/lab.c"),
                 ("mitm", "lab/mitm.c"), ("lesson", "shell/lesson.c")):
    code = open(os.path.join(top, src), encoding="utf-8").read()
    for m in re.finditer(r'struct\s+option\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\};',
                         code, re.S):
        for o in re.findall(r'\{\s*"([a-z0-9-]+)"\s*,', m.group(1)):
            print(sub, "--" + o)
EOF

# ---------------------------------------------------------------- bash
if ! command -v bash >/dev/null; then
	echo "FAIL completion-bash (no bash: apt-get install bash)"
else
	# case: "expected words" then the command line words; the last word
	# is the one being completed ("" for a new word)
	cat >"$work/bash-cases" <<'EOF'
--help|mailsh|--he
|mailsh|--ha
--handout|mailsh|lesson|smtp-by-hand|--ha
lab lesson|mailsh|l
smtp-auth smtp-by-hand|mailsh|lesson|smtp-
lax strict|mailsh|lab|--profile|
--profile|mailsh|lab|--pro
--allow-plaintext-auth --any-from|mailsh|lab|--a
--vulnerable-starttls|mailsh|lab|--vul
smtp|mailsh|lab|--vulnerable-starttls|=|sm
imap imaps|mailsh|lab|--mitm-for|im
strip-starttls,inject|mailsh|lab|--mitm|strip-starttls,in
inject pass preauth refuse-starttls strip-logindisabled strip-starttls tls-intercept|mailsh|mitm|--mode|
--mode|mailsh|mitm|--mo
imap pop3 smtp|mailsh|mitm|--proto|
de en|mailsh|--lang|
de en|mailsh|lesson|smtp-by-hand|--lang|
html md|mailsh|lesson|smtp-by-hand|--handout|
auto always|mailsh|--color|=|a
never|mailsh|--color=n
off brief full|mailsh|--annotate|
1.0 1.1 1.2 1.3|mailsh|--tls-max|
--tls-max --tls-min|mailsh|--tls-m
imap pop3 smtp|mailsh|-p|
587|mailsh|mail.example.org|58
pop-before-smtp pop3-by-hand|mailsh|lesson|--lint|smtp-by-hand|pop
EOF
	bash --norc --noprofile -c '
		source completions/mailsh.bash || exit 1
		complete -p mailsh >/dev/null || { echo "FAIL completion-bash-registered"; exit 1; }
		echo "PASS completion-bash-registered"
		n=0
		while IFS="|" read -r want rest; do
			n=$((n + 1))
			IFS="|" read -r -a COMP_WORDS <<<"$rest"
			# a trailing "|" means an empty word being completed
			case $rest in *"|") COMP_WORDS+=("") ;; esac
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE="${COMP_WORDS[*]}"
			COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			_mailsh mailsh "${COMP_WORDS[COMP_CWORD]}" \
			    "${COMP_WORDS[COMP_CWORD-1]}"
			# host names (compgen -A hostname) may come along
			# with the subcommands: only the expected words count
			got=$(printf "%s\n" "${COMPREPLY[@]}" | grep -v "^$" | sort | tr "\n" " ")
			exp=$(printf "%s\n" $want | grep -v "^$" | sort | tr "\n" " ")
			if [ "$want" = "lab lesson" ]; then
				got=$(printf "%s\n" "${COMPREPLY[@]}" | grep -xE "lab|lesson|mitm" | sort | tr "\n" " ")
			fi
			if [ "$got" = "$exp" ]; then
				echo "PASS completion-bash-$n ($rest -> $want)"
			else
				echo "FAIL completion-bash-$n ($rest: want \"$exp\", got \"$got\")"
			fi
		done <"$1"
		# every long option of each table is offered after "--"
		while read -r sub opt; do
			if [ "$sub" = main ]; then
				COMP_WORDS=(mailsh --)
			else
				COMP_WORDS=(mailsh "$sub" --)
			fi
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=()
			_mailsh mailsh -- x
			printf "%s\n" "${COMPREPLY[@]}" | grep -qx -- "$opt" ||
			    miss="${miss-} $sub:$opt"
		done <"$2"
		if [ -z "${miss-}" ]; then
			echo "PASS completion-bash-all-options ($(wc -l <"$2") options)"
		else
			echo "FAIL completion-bash-all-options (not offered:$miss)"
		fi
	' bash "$work/bash-cases" "$work/opts"
fi

# ----------------------------------------------------------------- zsh
if ! command -v zsh >/dev/null; then
	echo "FAIL completion-zsh (no zsh: apt-get install zsh)"
else
	if zsh -n completions/_mailsh 2>"$work/zsh.err"; then
		echo "PASS completion-zsh-syntax"
	else
		echo "FAIL completion-zsh-syntax"; sed 's/^/    /' "$work/zsh.err"
	fi
	# Types each line with Tab Tab into an interactive zsh on a
	# pseudo-terminal and prints what it lists, each followed by a
	# marker line the shell itself prints (so the listing is complete
	# before it is read: no sleeping).
	cat >"$work/zt.zsh" <<'EOF'
zmodload zsh/zpty || exit 1
dir=$1; shift
zpty z TERM=dumb zsh -f -i
# zle-line-init says when the line editor reads keys (the terminal in
# raw mode): keys sent before that would meet the cooked terminal
zpty -w z "PS1='%% '; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep; zstyle ':completion:*' list-separator ''; zle-line-init() { print -rn -- '<ZLE''READY>' }; zle -N zle-line-init"
zpty -r z line '*<ZLEREADY>*'
n=0
for input in "$@"; do
  n=$((n + 1))
  zpty -w -n z "$input"$'\t\t'$'\C-u'"print END-\$((${n}+1000))"$'\n'
  zpty -r z out "*END-$((n + 1000))*<ZLEREADY>*"
  print -r -- "== $input"
  print -r -- "$out" | tr -d '\r'
done
zpty -d z
EOF
	zcases=("mailsh lab --profile " "mailsh lesson smtp-" "mailsh mitm --mode " "mailsh l" "mailsh lesson smtp-by-hand --ha" "mailsh --lang ")
	timeout 120 zsh -f "$work/zt.zsh" "$top/completions" "${zcases[@]}" \
	    >"$work/zsh.out" 2>&1
	zsec() { awk -v h="== $1" '$0 == h { on = 1; next } /^== / { on = 0 } on' "$work/zsh.out"; }
	zcheck() {	# name "input" words...
		local name=$1 in=$2 w miss=; shift 2
		local out; out=$(zsec "$in")
		for w in "$@"; do
			printf '%s\n' "$out" | grep -qE -- "(^|[ ])$w([ =]|$)" ||
			    miss="$miss $w"
		done
		if [ -z "$miss" ]; then
			echo "PASS completion-zsh-$name ($in -> $*)"
		else
			echo "FAIL completion-zsh-$name ($in: missing$miss)"
			printf '%s\n' "$out" | head -12 | sed 's/^/    /'
		fi
	}
	zcheck profile "mailsh lab --profile " lax strict
	zcheck lesson "mailsh lesson smtp-" smtp-auth smtp-by-hand
	zcheck modes "mailsh mitm --mode " pass strip-starttls \
	    strip-logindisabled refuse-starttls inject preauth tls-intercept
	zcheck subcommands "mailsh l" lab lesson
	zcheck handout "mailsh lesson smtp-by-hand --ha" --handout
	zcheck lang "mailsh --lang " de en
	# every long option of each table is named in the file
	miss=
	while read -r sub opt; do
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" completions/_mailsh ||
		    miss="$miss $sub:$opt"
	done <"$work/opts"
	if [ -z "$miss" ]; then
		echo "PASS completion-zsh-all-options"
	else
		echo "FAIL completion-zsh-all-options (not offered:$miss)"
	fi
fi

# ---------------------------------------------------------------- fish
if ! command -v fish >/dev/null; then
	echo "FAIL completion-fish (no fish: apt-get install fish)"
else
	if fish -n completions/mailsh.fish 2>"$work/fish.err"; then
		echo "PASS completion-fish-syntax"
	else
		echo "FAIL completion-fish-syntax"; sed 's/^/    /' "$work/fish.err"
	fi
	fcheck() {	# name "command line" words...
		local name=$1 in=$2 w miss=; shift 2
		local out
		out=$(fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		    "$top/completions/mailsh.fish" "$in" 2>&1 | cut -f1)
		for w in "$@"; do
			printf '%s\n' "$out" | grep -qx -- "$w" || miss="$miss $w"
		done
		if [ -z "$miss" ]; then
			echo "PASS completion-fish-$name ($in -> $*)"
		else
			echo "FAIL completion-fish-$name ($in: missing$miss)"
			printf '%s\n' "$out" | head -12 | sed 's/^/    /'
		fi
	}
	fcheck profile "mailsh lab --profile " lax strict
	fcheck lesson "mailsh lesson smtp-" smtp-auth smtp-by-hand
	fcheck modes "mailsh mitm --mode strip-starttls,in" \
	    strip-starttls,inject
	fcheck subcommands "mailsh l" lab lesson
	fcheck handout "mailsh lesson smtp-by-hand --ha" --handout
	fcheck handout-values "mailsh lesson smtp-by-hand --handout " md html
	fcheck lang "mailsh --lang " de en
	fcheck tls-min "mailsh --tls-min " 1.0 1.1 1.2 1.3
	# every long option of each table is offered after "--"
	miss=
	for sub in main lab mitm lesson; do
		if [ $sub = main ]; then line="mailsh --"; else line="mailsh $sub --"; fi
		out=$(fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		    "$top/completions/mailsh.fish" "$line" 2>&1 | cut -f1)
		for opt in $(awk -v s=$sub '$1 == s { print $2 }' "$work/opts"); do
			printf '%s\n' "$out" | grep -qx -- "$opt" ||
			    miss="$miss $sub:$opt"
		done
	done
	if [ -z "$miss" ]; then
		echo "PASS completion-fish-all-options"
	else
		echo "FAIL completion-fish-all-options (not offered:$miss)"
	fi
fi
exit 0
