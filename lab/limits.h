/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * limits.h: what one student may do to the lab's mail store: a quota
 * per user (messages and bytes, over all of the user's mailboxes) and a
 * delivery rate per client address (a token bucket: --delivery-rate N
 * mail transactions a minute, N at once), and a login rate per client
 * address (--login-rate N failed logins a minute, N at once).
 *
 * Only failed logins count, as in Dovecot, whose auth penalty grows
 * with the failures from one address and is reset by a success: a
 * login takes a token before its password is checked (so a limited
 * address costs no PBKDF2 at all) and gets it back if it succeeds.
 * A class behind one NAT address logs in freely; a password guesser
 * gets N tries a minute.
 */
#ifndef MAILSH_LAB_LIMITS_H
#define MAILSH_LAB_LIMITS_H

#include "lab.h"

#include <stdbool.h>
#include <stdint.h>

/* Takes one delivery token for addr.  Returns true if there was one,
 * else false with *wait_s the seconds until the next. */
bool limits_rate_take(const struct lab_cfg *cfg, const char *addr,
    unsigned *wait_s);

/* Takes one login token for addr before a password is checked.
 * Returns true if there was one, else false with *wait_s the seconds
 * until the next. */
bool limits_login_take(const struct lab_cfg *cfg, const char *addr,
    unsigned *wait_s);

/* The login succeeded: gives its token back (only failures count). */
void limits_login_refund(const struct lab_cfg *cfg, const char *addr);

/* Would `add_msgs` more messages of `add_bytes` octets put user over
 * the quota?  *msgs and *bytes get what is stored (counting stops
 * above the quota, so the work is bounded by it). */
bool limits_over_quota(const struct lab_cfg *cfg, const char *user,
    unsigned add_msgs, uint64_t add_bytes, uint64_t *msgs,
    uint64_t *bytes);

#endif
