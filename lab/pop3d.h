/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pop3d.h: the lab's POP3 server as a protocol for the event loop
 * (plaintext with STLS, or implicit TLS).
 */
#ifndef MAILSH_LAB_POP3D_H
#define MAILSH_LAB_POP3D_H

#include "loop.h"

extern const struct lab_proto pop3d_proto;

#endif
