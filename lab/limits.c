/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * limits.c: per-user quota and per-address delivery rate (see
 * limits.h), in the manner of Dovecot's quota plugin (messages and
 * storage over all mailboxes), Postfix's anvil (message rate per
 * client address) and Dovecot's auth penalty (failed logins per client
 * address).
 */
#include "limits.h"
#include "maildir.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LIMITS_ADDRS	512	/* client addresses remembered */

struct limits_bucket {
	char addr[64];
	double tokens;
	double last;		/* monotonic seconds */
};

/* One token bucket per client address and kind. */
struct limits_tab {
	struct limits_bucket b[LIMITS_ADDRS];
};

static struct limits_tab limits_delivery, limits_login;

static double
limits_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bucket of addr in tab (rate a minute, as many at once), refilled
 * to now; a new or reused one starts full. */
static struct limits_bucket *
limits_bucket(struct limits_tab *tab, int rate, const char *addr)
{
	double cap = rate, per_s = cap / 60.0;
	double now = limits_now();
	struct limits_bucket *b = NULL, *spare = NULL;
	double spare_tokens = -1;
	for (size_t i = 0; i < LIMITS_ADDRS && !b; i++) {
		struct limits_bucket *t = &tab->b[i];
		if (!t->addr[0]) {
			if (spare_tokens < cap + 1) {
				spare = t;
				spare_tokens = cap + 1;
			}
			continue;
		}
		if (strcmp(t->addr, addr) == 0) {
			b = t;
			break;
		}
		/* the fullest bucket (after refill) is the one to reuse:
		 * forgetting it gives nobody more than it has */
		double have = t->tokens + (now - t->last) * per_s;
		if (have > spare_tokens) {
			spare = t;
			spare_tokens = have;
		}
	}
	if (!b) {
		b = spare;
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = cap;
		b->last = now;
	}
	b->tokens += (now - b->last) * per_s;
	b->last = now;
	if (b->tokens > cap)
		b->tokens = cap;
	return b;
}

/* Takes a token from addr's bucket in tab.  Returns true if there was
 * one, else false with *wait_s the seconds until the next. */
static bool
limits_take(struct limits_tab *tab, int rate, const char *addr,
    unsigned *wait_s)
{
	*wait_s = 0;
	if (rate <= 0)
		return true;
	struct limits_bucket *b = limits_bucket(tab, rate, addr);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	*wait_s = (unsigned)((1.0 - b->tokens) / (rate / 60.0)) + 1;
	return false;
}

bool
limits_rate_take(const struct lab_cfg *cfg, const char *addr,
    unsigned *wait_s)
{
	return limits_take(&limits_delivery, cfg->delivery_rate, addr,
	    wait_s);
}

bool
limits_login_take(const struct lab_cfg *cfg, const char *addr,
    unsigned *wait_s)
{
	return limits_take(&limits_login, cfg->login_rate, addr, wait_s);
}

void
limits_login_refund(const struct lab_cfg *cfg, const char *addr)
{
	if (cfg->login_rate <= 0)
		return;
	struct limits_bucket *b = limits_bucket(&limits_login,
	    cfg->login_rate, addr);
	b->tokens += 1.0;
	if (b->tokens > cfg->login_rate)
		b->tokens = cfg->login_rate;
}

/* The running count of limits_over_quota. */
struct limits_tally {
	uint64_t max, msgs, bytes;
};

/* Counts one message; stops once the count passes max. */
static int
limits_count_one(void *arg, const char *dir, const char *name, bool cur)
{
	struct limits_tally *t = arg;
	(void)cur;
	t->msgs++;
	t->bytes += maildir_size(dir, name);
	return t->msgs > t->max;
}

/* Counts the messages of one Maildir folder (new/ and cur/). */
static void
limits_count(const char *box, struct limits_tally *t)
{
	if (t->msgs <= t->max)
		maildir_each(box, MAILDIR_NEW | MAILDIR_CUR, limits_count_one,
		    t);
}

bool
limits_over_quota(const struct lab_cfg *cfg, const char *user,
    unsigned add_msgs, uint64_t add_bytes, uint64_t *msgs,
    uint64_t *bytes)
{
	*msgs = *bytes = 0;
	uint64_t qm = cfg->quota_msgs, qb = cfg->quota_bytes;
	if (!qm && !qb)
		return false;
	struct limits_tally t = { qm ? qm : UINT64_MAX - 1, 0, 0 };
	char box[4400];
	snprintf(box, sizeof(box), "%s/mail/%s", cfg->state, user);
	limits_count(box, &t);
	DIR *d = opendir(box);		/* the folders: .NAME */
	struct dirent *de;
	while (d && t.msgs <= t.max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		char sub[4700];
		snprintf(sub, sizeof(sub), "%s/%s", box, de->d_name);
		limits_count(sub, &t);
	}
	if (d)
		closedir(d);
	*msgs = t.msgs;
	*bytes = t.bytes;
	return (qm && *msgs + add_msgs > qm) ||
	    (qb && *bytes + add_bytes > qb);
}
