# SPDX-License-Identifier: GPL-3.0-or-later
# fish completion for mailsh: options, the subcommands lab, mitm and
# lesson, lesson names, lab profiles and switches, MITM modes, --lang,
# --handout.  Installed as share/fish/vendor_completions.d/mailsh.fish.

# True when the command line's first argument is the subcommand $argv[1]
# (mailsh only takes lab, mitm and lesson right after its name).
function __mailsh_sub
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = "$argv[1]"
end

# True while no subcommand has been named and nothing else typed yet.
function __mailsh_first
    set -l words (commandline -opc)
    test (count $words) -eq 1
end

function __mailsh_main
    set -l words (commandline -opc)
    test (count $words) -lt 2; and return 0
    not contains -- $words[2] lab mitm lesson
end

# The lesson names: the first column of `mailsh lesson` (lines that
# start with "NAME  N min").
function __mailsh_lessons
    set -l cmd (commandline -opc)[1]
    command -sq -- $cmd; or test -x "$cmd"; or set cmd mailsh
    $cmd lesson --lang en 2>/dev/null </dev/null | awk '/^[^ \t]/ && $2 ~ /^[0-9]+$/ && $3 == "min" { print $1 }'
end

# A comma-separated list: what is typed up to the last comma, then each
# word of $argv.
function __mailsh_list
    set -l tok (commandline -ct)
    set tok (string replace -r '^--[a-z-]+=' '' -- $tok)
    set -l pre ''
    if string match -q '*,*' -- $tok
        set pre (string replace -r '[^,]*$' '' -- $tok)
    end
    for w in $argv
        echo $pre$w
    end
end

set -l modes pass strip-starttls strip-logindisabled refuse-starttls inject preauth tls-intercept

complete -c mailsh -f

# mailsh [options] [HOST [PORT]]
complete -c mailsh -n __mailsh_first -a lab -d 'run the built-in lab mail server'
complete -c mailsh -n __mailsh_first -a mitm -d 'run a man in the middle for the lessons'
complete -c mailsh -n __mailsh_first -a lesson -d 'list the guided lessons, or run one'
complete -c mailsh -n __mailsh_main -a '(__fish_print_hostnames)' -d host
complete -c mailsh -n __mailsh_main -s p -l proto -x -a 'smtp pop3 imap' -d protocol
complete -c mailsh -n __mailsh_main -s t -l tls -d 'implicit TLS'
complete -c mailsh -n __mailsh_main -l plain -d 'no implicit TLS'
complete -c mailsh -n __mailsh_main -l cafile -r -F -d 'also trust the CA certificates in FILE'
complete -c mailsh -n __mailsh_main -l capath -x -a '(__fish_complete_directories)' -d 'also trust the CAs in this hashed directory'
complete -c mailsh -n __mailsh_main -l cert -r -F -d 'client certificate (PEM)'
complete -c mailsh -n __mailsh_main -l key -r -F -d 'key of the client certificate (PEM)'
complete -c mailsh -n __mailsh_main -l pass -x -d 'passphrase of the key'
complete -c mailsh -n __mailsh_main -l insecure -d 'go on when the certificate check fails'
complete -c mailsh -n __mailsh_main -l servername -x -a '(__fish_print_hostnames)' -d 'ask for and verify NAME instead of HOST'
complete -c mailsh -n __mailsh_main -l no-sni -d 'send no server name (SNI)'
complete -c mailsh -n __mailsh_main -l tls-min -x -a '1.0 1.1 1.2 1.3' -d 'lowest TLS version allowed'
complete -c mailsh -n __mailsh_main -l tls-max -x -a '1.0 1.1 1.2 1.3' -d 'highest TLS version allowed'
complete -c mailsh -n __mailsh_main -l ciphers -x -d 'OpenSSL cipher list for TLS 1.2 and older'
complete -c mailsh -n __mailsh_main -l ciphersuites -x -d 'TLS 1.3 cipher suites'
complete -c mailsh -n __mailsh_main -l groups -x -d 'key exchange groups'
complete -c mailsh -n __mailsh_main -s f -l file -r -F -d 'run the lines of FILE, then exit'
complete -c mailsh -n __mailsh_main -l json -d 'one JSON object per output line'
complete -c mailsh -n __mailsh_main -l timeout -x -d 'timeout in seconds'
complete -c mailsh -n __mailsh_main -s 4 -d 'IPv4 only'
complete -c mailsh -n __mailsh_main -s 6 -d 'IPv6 only'
complete -c mailsh -n __mailsh_main -s q -l quiet -d 'no notes or explanations'
complete -c mailsh -n __mailsh_main -l annotate -x -a 'off brief full' -d 'how much to explain'
complete -c mailsh -n __mailsh_main -l require-tls -d 'never send a credential outside TLS'
complete -c mailsh -n __mailsh_main -l no-confirm -d 'do not ask before a credential is sent in plaintext'
complete -c mailsh -n __mailsh_main -l keep-going -d 'a script goes on after a negative reply (exit status 8)'
complete -c mailsh -n __mailsh_main -l pipeline -d 'a script sends commands ahead where the server allows it'
complete -c mailsh -n __mailsh_main -l lang -x -a 'de en' -d language
complete -c mailsh -n __mailsh_main -l color -l colour -f -a 'auto always never' -d 'when to colour (--color=WHEN)'
complete -c mailsh -n __mailsh_main -l no-color -d 'no colour'
complete -c mailsh -n __mailsh_main -l no-config -d 'do not read the config file'
complete -c mailsh -n __mailsh_main -l log -r -F -d 'append a transcript of the screen to FILE'
complete -c mailsh -n __mailsh_main -l keylog -r -F -d 'append the TLS session keys to FILE (for Wireshark)'
complete -c mailsh -n __mailsh_main -l pcap -r -F -d 'write the decrypted session to FILE for Wireshark'
complete -c mailsh -n __mailsh_main -s h -l help -d 'show the usage'
complete -c mailsh -n __mailsh_main -s V -l version -d 'show the version'

# mailsh lab
complete -c mailsh -n '__mailsh_sub lab' -l state -x -a '(__fish_complete_directories)' -d 'state directory'
complete -c mailsh -n '__mailsh_sub lab' -l listen -x -a '127.0.0.1 ::1 0.0.0.0' -d 'address to listen on'
complete -c mailsh -n '__mailsh_sub lab' -l port-base -x -a '2500 0' -d 'port base (0: free ports)'
complete -c mailsh -n '__mailsh_sub lab' -l hostname -x -d 'server name'
complete -c mailsh -n '__mailsh_sub lab' -l users -r -F -d 'users file (name:password a line)'
complete -c mailsh -n '__mailsh_sub lab' -l profile -x -a 'strict\t"no password before TLS (default)" lax\t"the 1990s"' -d profile
complete -c mailsh -n '__mailsh_sub lab' -l allow-plaintext-auth -d 'AUTH / USER / PASS also without TLS'
complete -c mailsh -n '__mailsh_sub lab' -l any-from -d 'submission accepts any MAIL FROM'
complete -c mailsh -n '__mailsh_sub lab' -l vulnerable-starttls -f -a '(__mailsh_list smtp submission pop3 imap)' -d 'run commands pipelined after STARTTLS (--vulnerable-starttls=PORTS)'
complete -c mailsh -n '__mailsh_sub lab' -l preauth -d 'IMAP greets with PREAUTH'
complete -c mailsh -n '__mailsh_sub lab' -l pop-before-smtp -x -d 'POP-before-SMTP for MIN minutes'
complete -c mailsh -n '__mailsh_sub lab' -l idle-timeout -x -d 'close idle sessions after SEC seconds'
complete -c mailsh -n '__mailsh_sub lab' -l max-conns -x -d 'connections in all'
complete -c mailsh -n '__mailsh_sub lab' -l max-per-addr -x -d 'connections from one address'
complete -c mailsh -n '__mailsh_sub lab' -l quota -x -d 'messages and MiB a user may hold (MSGS,MIB)'
complete -c mailsh -n '__mailsh_sub lab' -l delivery-rate -x -d 'deliveries a minute from one address'
complete -c mailsh -n '__mailsh_sub lab' -l login-rate -x -d 'failed logins a minute from one address'
complete -c mailsh -n '__mailsh_sub lab' -l max-size -x -d 'largest message in bytes'
complete -c mailsh -n '__mailsh_sub lab' -l mitm -x -a "(__mailsh_list $modes)" -d 'also run the man in the middle'
complete -c mailsh -n '__mailsh_sub lab' -l mitm-for -x -a 'smtp submission submissions pop3 pop3s imap imaps' -d 'the port it fronts'
complete -c mailsh -n '__mailsh_sub lab' -l client-ca -r -F -d 'ask clients for a certificate, verified against FILE'
complete -c mailsh -n '__mailsh_sub lab' -l sasl-extra -d 'also offer CRAM-MD5 and SCRAM-SHA-256'
complete -c mailsh -n '__mailsh_sub lab' -s h -l help -d 'show the usage'

# mailsh mitm
complete -c mailsh -n '__mailsh_sub mitm' -l listen -x -d 'where to listen: [ADDR:]PORT'
complete -c mailsh -n '__mailsh_sub mitm' -l port -x -d 'listen on 127.0.0.1:PORT'
complete -c mailsh -n '__mailsh_sub mitm' -l to -x -a '127.0.0.1:2525 127.0.0.1:2587 127.0.0.1:2465 127.0.0.1:2110 127.0.0.1:2995 127.0.0.1:2143 127.0.0.1:2993' -d 'the real server'
complete -c mailsh -n '__mailsh_sub mitm' -l mode -x -a "(__mailsh_list $modes)" -d 'modes, comma-separated'
complete -c mailsh -n '__mailsh_sub mitm' -l proto -x -a 'smtp pop3 imap' -d protocol
complete -c mailsh -n '__mailsh_sub mitm' -l port-file -r -F -d 'write the listening port to FILE'
complete -c mailsh -n '__mailsh_sub mitm' -l allow-nonlocal -d 'allow addresses outside loopback'
complete -c mailsh -n '__mailsh_sub mitm' -s q -l quiet -d 'print only what the proxy did'
complete -c mailsh -n '__mailsh_sub mitm' -s h -l help -d 'show the usage'

# mailsh lesson
complete -c mailsh -n '__mailsh_sub lesson' -a '(__mailsh_lessons)' -d lesson
complete -c mailsh -n '__mailsh_sub lesson' -l lang -x -a 'de en' -d language
complete -c mailsh -n '__mailsh_sub lesson' -l check -d 'play the model solution headless'
complete -c mailsh -n '__mailsh_sub lesson' -l restart -d 'start at step 1'
complete -c mailsh -n '__mailsh_sub lesson' -l server -x -a '(__fish_print_hostnames)' -d "use an instructor's lab"
complete -c mailsh -n '__mailsh_sub lesson' -l handout -x -a 'md html' -d 'write a handout to stdout'
complete -c mailsh -n '__mailsh_sub lesson' -l answers -d 'with --handout: the answer key'
complete -c mailsh -n '__mailsh_sub lesson' -l lint -d 'check lessons for what a course expects'
complete -c mailsh -n '__mailsh_sub lesson' -l color -l colour -f -a 'auto always never' -d 'when to colour (--color=WHEN)'
complete -c mailsh -n '__mailsh_sub lesson' -l no-color -d 'no colour'
complete -c mailsh -n '__mailsh_sub lesson' -l no-config -d 'do not read the config file'
complete -c mailsh -n '__mailsh_sub lesson' -s h -l help -d 'show the usage'
