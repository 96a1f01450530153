/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mitm.h: `mailsh mitm`, a man-in-the-middle proxy for the downgrade
 * lessons.  It sits between a mail client and an SMTP, POP3 or IMAP
 * server (loopback only unless told otherwise), relays the plaintext
 * part line by line, and per mode strips STARTTLS / STLS /
 * LOGINDISABLED, refuses STARTTLS itself, injects plaintext after the
 * server's go-ahead or turns the IMAP greeting into PREAUTH.  It prints
 * what an attacker in its place sees, credentials decoded.
 *
 * Output: everything it saw or did goes to standard output, one line
 * each, starting with "mitm: ".  Lines about one connection continue
 * with "#N " (N counts connections from 1); captured credentials are
 * printed as "mitm: captured credentials: user=U password=P (#N, HOW)"
 * so a lesson can look for that exact text.  Usage errors and fatal
 * errors go to standard error.  Exit status: 0 after SIGINT/SIGTERM,
 * 2 usage (also a refused non-loopback address), 3 cannot listen or
 * resolve the target, 1 internal error.
 */
#ifndef MAILSH_MITM_H
#define MAILSH_MITM_H

/* `mailsh mitm ...`: argv[0] is "mitm".  Returns the exit status. */
int mitm_main(int argc, char **argv);

#endif
