/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commit.h: deliveries made durable off the event loop (issue 12).
 *
 * store_commit fsyncs the message and new/ of every recipient: 10-20 ms
 * on a quiet disk, a second and more while other programs write, and
 * the lab's loop serves everybody.  So the commit runs as a job of a
 * worker.h pool (one thread): the session is suspended (what its
 * client sends meanwhile stays buffered, in order), and the result
 * comes back to the session on the loop if it is still there; the
 * reply is written then, so a
 * success is still only sent once the message is on disk.  A session
 * gone meanwhile loses only the reply: the message is delivered.
 */
#ifndef MAILSH_LAB_COMMIT_H
#define MAILSH_LAB_COMMIT_H

#include "loop.h"
#include "store.h"

#define COMMIT_QUEUE_MAX	64	/* commits waiting for the worker */

/* The result on the loop: r as store_commit's, id the message's name;
 * the session is resumed right after. */
typedef void (*commit_done_fn)(struct lconn *c, int r, const char *id);

/* Starts the worker.  Returns 0, or -1 after printing why (commits
 * then run on the loop). */
int commit_start(void);

/* Finishes the commits queued, then stops the worker. */
void commit_stop(void);

/*
 * Commits m (as store_commit, to the n users) off the loop.  Returns
 * true: m now belongs to the commit (freed with free() when done), c
 * is suspended and done is called later.  false: not taken (no worker,
 * or the queue is full): the caller commits on the loop itself and m
 * stays its own.
 */
bool commit_async(struct lconn *c, struct store_msg *m,
    const char *const *users, size_t n, commit_done_fn done);

#endif
