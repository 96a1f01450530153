# SPDX-License-Identifier: GPL-3.0-or-later
# bash completion for mailsh: options, the subcommands lab, mitm and
# lesson, lesson names, lab profiles and switches, MITM modes, --lang,
# --handout.  Installed as share/bash-completion/completions/mailsh;
# needs nothing from the bash-completion package.

# The lesson names, from the first column of `mailsh lesson` (lines that
# start with "NAME  N min").  $1 is the mailsh that is being completed.
_mailsh_lessons()
{
	local cmd=$1
	case $cmd in
	"~/"*) cmd=$HOME/${cmd#"~/"} ;;
	esac
	command -v -- "$cmd" >/dev/null 2>&1 || cmd=mailsh
	"$cmd" lesson --lang en 2>/dev/null </dev/null |
	    awk '/^[^ \t]/ && $2 ~ /^[0-9]+$/ && $3 == "min" { print $1 }'
}

# Completes a comma-separated list of the words in $1 (the word being
# typed is in cur).
_mailsh_list()
{
	local words=$1 pre=
	[[ $cur == *,* ]] && pre=${cur%,*},
	COMPREPLY=($(compgen -P "$pre" -W "$words" -- "${cur##*,}"))
	[[ ${#COMPREPLY[@]} -eq 1 ]] && type compopt >/dev/null 2>&1 &&
	    compopt -o nospace 2>/dev/null
	return 0
}

_mailsh_files()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -f -- "$cur"))
	type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
	return 0
}

_mailsh_dirs()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -d -- "$cur"))
	type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
	return 0
}

_mailsh()
{
	local cur prev sub=
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	[[ $COMP_CWORD -gt 0 ]] && prev=${COMP_WORDS[COMP_CWORD-1]}
	# --opt=value: COMP_WORDBREAKS usually splits at "=" ("--opt" "="
	# "value"); without it the word is "--opt=value"
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = && $COMP_CWORD -gt 1 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	[[ $COMP_CWORD -gt 1 ]] && case ${COMP_WORDS[1]} in
	lab|mitm|lesson) sub=${COMP_WORDS[1]} ;;
	esac

	local modes="pass strip-starttls strip-logindisabled refuse-starttls
	    inject preauth tls-intercept"
	local services="smtp submission submissions pop3 pop3s imap imaps"

	case $sub in
	lab)
		case $prev in
		--state) _mailsh_dirs; return 0 ;;
		--users) _mailsh_files; return 0 ;;
		--profile)
			COMPREPLY=($(compgen -W "strict lax" -- "$cur"))
			return 0 ;;
		--listen)
			COMPREPLY=($(compgen -W "127.0.0.1 ::1 0.0.0.0" \
			    -- "$cur"))
			return 0 ;;
		--port-base)
			COMPREPLY=($(compgen -W "2500 0" -- "$cur"))
			return 0 ;;
		--mitm) _mailsh_list "$modes"; return 0 ;;
		--mitm-for)
			COMPREPLY=($(compgen -W "$services" -- "$cur"))
			return 0 ;;
		--vulnerable-starttls)
			# only --vulnerable-starttls=PORTS takes a value
			if [[ ${COMP_WORDS[COMP_CWORD-1]} == = ||
			    ${COMP_WORDS[COMP_CWORD]} == *=* ]]; then
				_mailsh_list "smtp submission pop3 imap"
				return 0
			fi ;;
		--hostname|--pop-before-smtp|--idle-timeout|--max-conns|\
		--max-per-addr|--max-size|--quota|--delivery-rate|\
		--login-rate)
			return 0 ;;
		--client-ca) _mailsh_files; return 0 ;;
		esac
		COMPREPLY=($(compgen -W "--state --listen --port-base
		    --hostname --users --profile --allow-plaintext-auth
		    --any-from --vulnerable-starttls --preauth
		    --pop-before-smtp --idle-timeout --max-conns
		    --max-per-addr --max-size --quota --delivery-rate
		    --login-rate --mitm --mitm-for --client-ca --sasl-extra --help" \
		    -- "$cur"))
		return 0 ;;
	mitm)
		case $prev in
		--mode) _mailsh_list "$modes"; return 0 ;;
		--proto)
			COMPREPLY=($(compgen -W "smtp pop3 imap" -- "$cur"))
			return 0 ;;
		--port-file) _mailsh_files; return 0 ;;
		--listen)
			COMPREPLY=($(compgen -W "127.0.0.1: [::1]:" \
			    -- "$cur"))
			type compopt >/dev/null 2>&1 &&
			    compopt -o nospace 2>/dev/null
			return 0 ;;
		--to)
			COMPREPLY=($(compgen -W "127.0.0.1:2525
			    127.0.0.1:2587 127.0.0.1:2465 127.0.0.1:2110
			    127.0.0.1:2995 127.0.0.1:2143 127.0.0.1:2993" \
			    -- "$cur"))
			return 0 ;;
		--port) return 0 ;;
		esac
		COMPREPLY=($(compgen -W "--listen --port --to --mode --proto
		    --port-file --allow-nonlocal -q --quiet -h --help" \
		    -- "$cur"))
		return 0 ;;
	lesson)
		case $prev in
		--lang)
			COMPREPLY=($(compgen -W "de en" -- "$cur"))
			return 0 ;;
		--handout)
			COMPREPLY=($(compgen -W "md html" -- "$cur"))
			return 0 ;;
		--server)
			COMPREPLY=($(compgen -A hostname -- "$cur"))
			return 0 ;;
		--color|--colour)
			if [[ ${COMP_WORDS[COMP_CWORD-1]} == = ||
			    ${COMP_WORDS[COMP_CWORD]} == *=* ]]; then
				COMPREPLY=($(compgen -W "auto always never" \
				    -- "$cur"))
				return 0
			fi ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--lang --check --restart
			    --server --handout --answers --lint --color
			    --colour --no-color --no-config -h --help" \
			    -- "$cur"))
			return 0
		fi
		# one NAME, or several after --lint
		local w named=0 lint=0 i
		for ((i = 2; i < COMP_CWORD; i++)); do
			w=${COMP_WORDS[i]}
			case $w in
			--lint) lint=1 ;;
			--lang|--server|--handout|=) ((i++)) ;;
			-*) ;;
			*) named=1 ;;
			esac
		done
		if [[ $named -eq 0 || $lint -eq 1 ]]; then
			COMPREPLY=($(compgen -W "$(_mailsh_lessons \
			    "${COMP_WORDS[0]}")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--lang --check --restart
			    --server --handout --answers --color
			    --no-color --no-config" -- "$cur"))
		fi
		return 0 ;;
	esac

	case $prev in
	-p|--proto)
		COMPREPLY=($(compgen -W "smtp pop3 imap" -- "$cur"))
		return 0 ;;
	--cafile|-f|--file|--log|--keylog|--pcap|--cert|--key) _mailsh_files; return 0 ;;
	--capath) _mailsh_dirs; return 0 ;;
	--pass) return 0 ;;
	--annotate)
		COMPREPLY=($(compgen -W "off brief full" -- "$cur"))
		return 0 ;;
	--lang)
		COMPREPLY=($(compgen -W "de en" -- "$cur"))
		return 0 ;;
	--color|--colour)
		if [[ ${COMP_WORDS[COMP_CWORD-1]} == = ||
		    ${COMP_WORDS[COMP_CWORD]} == *=* ]]; then
			COMPREPLY=($(compgen -W "auto always never" \
			    -- "$cur"))
			return 0
		fi ;;
	--tls-min|--tls-max)
		COMPREPLY=($(compgen -W "1.0 1.1 1.2 1.3" -- "$cur"))
		return 0 ;;
	--servername)
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		return 0 ;;
	--timeout|--ciphers|--ciphersuites|--groups) return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-p --proto -t --tls --plain --cafile
		    --capath --cert --key --pass --insecure
		    --servername --no-sni --tls-min --tls-max
		    --ciphers --ciphersuites --groups -f --file --json --timeout
		    -4 -6 -q --quiet
		    --annotate --require-tls --no-confirm --keep-going --pipeline
		    --lang --color --colour --no-color --no-config --log --keylog
		    --pcap -h
		    --help -V --version" -- "$cur"))
		return 0
	fi
	# HOST [PORT], or a subcommand in the first place
	local i w args=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-p|--proto|--cafile|-f|--file|--timeout|--annotate|--lang|--log|\
		--keylog|--servername|--tls-min|--tls-max|--ciphers|\
		--ciphersuites|--groups|--capath|--cert|--key|--pass|--pcap)
			((i++)) ;;
		=) ((i++)) ;;
		-*) ;;
		*) ((args++)) ;;
		esac
	done
	if [[ $args -eq 0 ]]; then
		local subs=
		[[ $COMP_CWORD -eq 1 ]] && subs="lab mitm lesson"
		COMPREPLY=($(compgen -W "$subs" -- "$cur")
		    $(compgen -A hostname -- "$cur"))
	elif [[ $args -eq 1 ]]; then
		COMPREPLY=($(compgen -W "25 465 587 110 995 143 993 2525
		    2587 2465 2110 2995 2143 2993" -- "$cur"))
	fi
	return 0
}

complete -F _mailsh mailsh
