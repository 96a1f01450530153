/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commit.c: deliveries made durable off the event loop (see commit.h),
 * as jobs of a worker.h pool of one thread: fsyncs go to one disk, one
 * after another anyway.
 */
#include "commit.h"
#include "worker.h"
#include "../protocols/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_NAME_MAX	320	/* "user/.folder" (imapbox_store_user) */

struct commit_job {
	struct worker_job w;		/* first */
	commit_done_fn done;
	struct store_msg *msg;
	char (*users)[COMMIT_NAME_MAX];	/* n of them */
	size_t n;
	int r;
	char id[STORE_NAME_MAX];
};

static struct worker_pool *commit_pool;

/* Runs one commit (on the worker). */
static void
commit_run(struct worker_job *w)
{
	struct commit_job *j = (struct commit_job *)w;
	const char **users = malloc(j->n * sizeof(*users));
	if (!users) {
		store_abort(j->msg);
		j->r = -1;
	} else {
		for (size_t i = 0; i < j->n; i++)
			users[i] = j->users[i];
		j->r = store_commit(j->msg, users, j->n, j->id,
		    sizeof(j->id));
	}
	free(users);
	free(j->msg);
	j->msg = NULL;
}

/* On the loop, the session still there: its reply. */
static void
commit_done(struct lconn *c, struct worker_job *w)
{
	struct commit_job *j = (struct commit_job *)w;
	j->done(c, j->r, j->id);
}

static void
commit_free(struct worker_job *w)
{
	struct commit_job *j = (struct commit_job *)w;
	if (j->msg) {			/* never run (not taken) */
		store_abort(j->msg);
		free(j->msg);
	}
	free(j->users);
	free(j);
}

int
commit_start(void)
{
	int e;
	commit_pool = worker_start(1, COMMIT_QUEUE_MAX, true, &e);
	if (!commit_pool) {
		fprintf(stderr, _("mailsh lab: cannot start the delivery "
		    "thread: %s\n"), strerror(e));
		return -1;
	}
	return 0;
}

void
commit_stop(void)
{
	worker_stop(commit_pool);	/* the queue is done first */
	commit_pool = NULL;
}

bool
commit_async(struct lconn *c, struct store_msg *m,
    const char *const *users, size_t n, commit_done_fn done)
{
	if (!commit_pool || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strlen(users[i]) >= COMMIT_NAME_MAX)
			return false;
	struct commit_job *j = calloc(1, sizeof(*j));
	if (!j)
		return false;
	if (!(j->users = calloc(n, sizeof(*j->users)))) {
		free(j);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(j->users[i], users[i], strlen(users[i]) + 1);
	j->w.run = commit_run;
	j->w.done = commit_done;
	j->w.free = commit_free;
	j->n = n;
	j->done = done;
	j->msg = m;
	if (worker_submit(commit_pool, c, &j->w) != WORKER_QUEUED) {
		j->msg = NULL;		/* full: m stays the caller's */
		commit_free(&j->w);
		return false;
	}
	return true;
}
