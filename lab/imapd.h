/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * imapd.h: the lab's IMAP4rev1 server as a protocol for the event loop
 * (plaintext with STARTTLS, or implicit TLS).  One mailbox: INBOX.
 */
#ifndef MAILSH_LAB_IMAPD_H
#define MAILSH_LAB_IMAPD_H

#include "loop.h"

extern const struct lab_proto imapd_proto;

#endif
