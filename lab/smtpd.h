/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpd.h: the lab's SMTP server as a protocol for the event loop.
 * The same table serves the relay/MX port (local recipients only), the
 * submission port (LAB_L_SUBMIT: AUTH required) and implicit TLS.
 */
#ifndef MAILSH_LAB_SMTPD_H
#define MAILSH_LAB_SMTPD_H

#include "loop.h"

extern const struct lab_proto smtpd_proto;

#endif
