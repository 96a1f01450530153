/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * worker.h: work that must not stop the lab's event loop (a password
 * check, the fsync of a delivery: issue 12) done on worker threads.
 *
 * A pool is N threads, a bounded FIFO of jobs and one pipe that wakes
 * the loop (loop_watch).  A job belongs to one session: submitting it
 * suspends the session (lconn_suspend: what its client sends
 * meanwhile stays buffered, in order); a worker runs the job's run
 * callback; back on the loop, the session is looked up by its
 * lconn.id and, if it is still there, the job's done callback writes
 * the reply and the session is resumed (lconn_resume).  A session gone
 * meanwhile loses only the reply.  Results come back oldest first.
 *
 * Threads: the loop thread owns every session; run sees only its job.
 * Jobs are a struct worker_job embedded first in the caller's own
 * struct (auth.c, commit.c).
 */
#ifndef MAILSH_LAB_WORKER_H
#define MAILSH_LAB_WORKER_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker_job {
	/* set by the caller before worker_submit */
	void (*run)(struct worker_job *j);	/* on a worker thread */
	/* on the loop, after run, with the session that submitted j
	 * (never called if it has gone); the session is resumed after */
	void (*done)(struct lconn *c, struct worker_job *j);
	/* frees j: always called, once (on the loop, or in worker_stop
	 * for a job that was dropped) */
	void (*free)(struct worker_job *j);
	/* worker.c's */
	struct worker_job *next;
	uint64_t conn;				/* lconn.id */
};

struct worker_pool;

enum worker_put {
	WORKER_QUEUED,	/* the session is suspended; done comes later */
	WORKER_FULL,	/* queue_max jobs wait already: j is still the
			 * caller's (say "try again later", or do it
			 * on the loop) */
	WORKER_OFF,	/* no pool (it was not started): j is still the
			 * caller's */
};

/*
 * Starts a pool of up to threads threads (at least one must start)
 * with at most queue_max jobs waiting for them.  drain: worker_stop
 * runs the jobs still queued first (deliveries), else drops them
 * (password checks).  Returns the pool, or NULL with *err set to the
 * error number (the caller says what could not start).
 */
struct worker_pool *worker_start(int threads, size_t queue_max, bool drain,
    int *err);

/*
 * Stops the pool (NULL: nothing): a job running is finished, queued
 * ones are run or dropped (drain), the threads are joined, and every
 * job not handed back to its session is freed without its done.
 */
void worker_stop(struct worker_pool *p);

/* Queues j for c (see enum worker_put).  On the loop only. */
enum worker_put worker_submit(struct worker_pool *p, struct lconn *c,
    struct worker_job *j);

#endif
