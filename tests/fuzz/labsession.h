/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * labsession.h: a lab session without sockets for the libFuzzer targets
 * fuzz_labimap, fuzz_labsmtp and fuzz_labpop3.  It stands in for
 * lab/loop.c (the sockets, TLS and poll; the lconn_* calls a session
 * makes are the lab's own, lab/lconn.c, on its output buffer) and
 * drives the real protocol hooks (open, line, raw, refill, close) of
 * lab/imapd.c, lab/smtpd.c or lab/pop3d.c with the input split into
 * lines, in a fresh state directory (users alice and bob, two messages
 * in alice's INBOX) rebuilt before every input.
 */
#ifndef MAILSH_FUZZ_LABSESSION_H
#define MAILSH_FUZZ_LABSESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../../lab/loop.h"

/* Runs one session of proto on data.  preauth: IMAP PREAUTH as alice. */
void labsession_run(const struct lab_proto *proto, const uint8_t *data,
    size_t size, bool preauth);

#endif
