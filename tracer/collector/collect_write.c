/*
 * collect_write.c — the collector's writer side, which owns the model, the
 * trace and `pending`: takes what the drain side handed over, puts it in
 * timestamp order (held back COLLECT_HOLD_NS), hands it to the model
 * (model.h), which writes the trace (tracedb.h), and commits when due.
 * Runs on the host's thread.
 *
 * When writing fails (the disk is full, an I/O error, out of memory) the
 * writer gives up for good (collect_write_give_up): the trace keeps what
 * was committed, the drain side goes on emptying the rings so that the
 * workload runs untouched, and the writer frees what it is handed,
 * counting it, until the workload is over; collect_finish then writes
 * status 'incomplete' and why.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect_internal.h"

static int compare_items(const void *left, const void *right)
{
	const struct item *a = left, *b = right;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Writer side: put the new items at the end of pending in order among the
 * held ones. Each item is sorted once, when it arrives, and merged with
 * the held items it overlaps in time (the last few milliseconds' worth, as
 * rings are drained in turn), not re-sorted with all of them every round.
 * Returns 0, or -ENOMEM when it had to sort all of them instead (slower,
 * the same order). */
static int merge_pending(struct collect *c)
{
	struct queue *q = &c->pending;
	struct item *held = q->items + c->pending_head;
	size_t n = c->pending_sorted - c->pending_head;
	struct item *fresh = q->items + c->pending_sorted;
	size_t m = q->count - c->pending_sorted;
	if (!m)
		return 0;
	qsort(fresh, m, sizeof *fresh, compare_items);
	c->pending_sorted = q->count;
	if (!n || compare_items(&held[n - 1], &fresh[0]) <= 0)
		return 0;
	size_t lo = 0, hi = n; /* first held item that sorts after fresh[0] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (compare_items(&held[mid], &fresh[0]) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = n - lo;
	if (k > c->scratch_cap) {
		struct item *grown = realloc(c->scratch, k * sizeof *grown);
		if (!grown) {
			qsort(held, n + m, sizeof *held, compare_items);
			return -ENOMEM;
		}
		c->scratch = grown;
		c->scratch_cap = k;
	}
	/* Merge scratch (held[lo, n)) and fresh into held[lo, n + m): the
	 * write position never passes the next fresh item to read. */
	memcpy(c->scratch, held + lo, k * sizeof *held);
	size_t i = 0, j = 0, w = lo;
	while (i < k && j < m)
		held[w++] =
		    compare_items(&fresh[j], &c->scratch[i]) < 0 ? fresh[j++] : c->scratch[i++];
	while (i < k)
		held[w++] = c->scratch[i++];
	return 0;
}

/* Writer side: a perf task record (collect_drain_on_switch) to the model. */
static int task_record(struct collect *c, const struct item *item)
{
	switch (item->head.reason) {
	case SCHED_FORK:
		return model_task_fork(c->model, item->ts, item->source.pid, item->source.tid,
				       item->source.ppid, (uint32_t)item->head.a);
	case SCHED_EXIT:
		return model_task_exit(c->model, item->ts, item->source.pid, item->source.tid);
	case SCHED_COMM:
		return model_task_comm(c->model, item->ts, item->source.pid, item->source.tid,
				       item->info.name, item->out);
	}
	return 0;
}

/* Writer side: hand the pending items up to horizon to the model. */
void collect_write_queue(struct collect *c, int64_t horizon)
{
	struct queue *q = &c->pending;
	merge_pending(c); /* out of memory, it sorted all of pending instead */
	size_t done = c->pending_head;
	for (; done < q->count && q->items[done].ts <= horizon; done++) {
		struct item *item = &q->items[done];
		int rc = 0;
		switch (item->kind) {
		case ITEM_EVENT:
			rc = model_event(c->model, &item->source,
					 item->full ? (const struct weft_event *)item->full
						    : &item->head);
			free(item->full);
			item->full = NULL; /* freed again with the queue otherwise */
			break;
		case ITEM_REAPED:
			rc = model_reaped(c->model, item->ts, item->source.pid, item->status,
					  &item->info);
			break;
		case ITEM_SUSPEND:
			rc = model_suspend(c->model, item->ts, item->source.pid, item->source.tid,
					   item->status);
			break;
		case ITEM_GONE:
			rc = model_gone(c->model, item->ts, item->source.pid);
			break;
		case ITEM_SAMPLE:
			rc = model_sample(c->model, item->ts, item->source.pid, item->source.tid,
					  item->head.a, item->head.b);
			break;
		case ITEM_SWITCH:
			rc = model_switch(c->model, item->ts, item->source.pid, item->source.tid,
					  item->status, item->out, item->preempt);
			break;
		case ITEM_TASK:
			rc = task_record(c, item);
			break;
		}
		if (rc && !c->error)
			c->error = rc;
	}
	int rc = model_advance(c->model, horizon); /* nothing older is to come */
	if (rc && !c->error)
		c->error = rc;
	model_retire(c->model, horizon);
	c->pending_head = done;
	/* Move the held items down once they are the smaller part. */
	if (done == q->count || (done > 4096 && done * 2 > q->count)) {
		if (done < q->count)
			memmove(q->items, q->items + done, (q->count - done) * sizeof *q->items);
		q->count -= done;
		c->pending_sorted -= done;
		c->pending_head = 0;
		collect_queue_trim(q);
	}
}

/* Attach mode, the target gone and no ring in use: no writer is left, so
 * every queued record can go to the model; the recording is over when no
 * process it knows of (or saw forked) is still alive. Writer side. */
static int attach_done(struct collect *c)
{
	collect_write_queue(c, INT64_MAX);
	size_t count = model_unfinished_pids(c->model, NULL, 0);
	uint32_t *pids = calloc(count + 1, sizeof *pids);
	if (!pids)
		return -ENOMEM;
	count = model_unfinished_pids(c->model, pids, count);
	int done = 1;
	for (size_t i = 0; i < count && done; i++)
		if (collect_pid_alive((pid_t)pids[i]))
			done = 0;
	int64_t now = collect_now();
	for (size_t i = 0; i < count && done; i++)
		if (model_gone(c->model, now, pids[i]) && !c->error)
			c->error = -EIO;
	free(pids);
	return done;
}

void collect_write_discard(struct collect *c)
{
	struct queue *q = &c->pending;
	for (size_t i = c->pending_head; i < q->count; i++)
		if (q->items[i].kind == ITEM_EVENT || q->items[i].kind == ITEM_SWITCH)
			c->events_unwritten++;
	for (size_t i = 0; i < q->count; i++)
		free(q->items[i].full);
	q->count = 0;
	c->pending_head = 0;
	c->pending_sorted = 0;
}

void collect_write_give_up(struct collect *c, int error)
{
	c->error = 0;
	if (c->write_failed)
		return;
	c->write_failed = error;
	c->fail_ts = collect_now();
	if (error == -EIO)
		snprintf(c->fail_reason, sizeof c->fail_reason, "writing the trace failed: %s",
			 tracedb_error(c->db));
	else
		snprintf(c->fail_reason, sizeof c->fail_reason, "recording failed: %s",
			 strerror(-error));
	tracedb_abandon(c->db);
	collect_write_discard(c);
	c->error = 0;
}

/* Writer side: take what the drain side handed over, write what is older
 * than horizon (or, once writing failed, count and drop it). Returns 1
 * when the recording is over, 0 when not: a failure to write does not end
 * the recording (see the head of this file). */
int collect_write_step(struct collect *c, int64_t horizon)
{
	pthread_mutex_lock(&c->lock);
	int rc = collect_queue_move(&c->pending, &c->staging);
	bool quiet = c->staging_quiet && !c->staging.count;
	/* The watermark: a record stamped before the latest full drain round
	 * began (less the moment a writer takes from its stamp to publishing
	 * the record) is here already. A drain side that fell behind holds
	 * the horizon back instead of letting a late ring sort out of order. */
	if (c->staging_swept && horizon > c->staging_swept - COLLECT_PUBLISH_NS)
		horizon = c->staging_swept - COLLECT_PUBLISH_NS;
	if (c->staging_error && !c->error)
		c->error = c->staging_error;
	pthread_mutex_unlock(&c->lock);
	c->writer_quiet = quiet;
	if (rc && !c->error)
		c->error = rc;
	if (!c->write_failed && !c->bound_stopped) {
		horizon = collect_bound_horizon(c, horizon);
		collect_write_queue(c, horizon);
		collect_bound_step(c, horizon);
		int64_t now = collect_now();
		if (tracedb_due(c->db, now) && model_write_waits(c->model) && !c->error)
			c->error = -EIO;
		if (tracedb_tick(c->db, now) && !c->error)
			c->error = -EIO;
	}
	if (c->error)
		collect_write_give_up(c, c->error);
	if (c->write_failed || c->bound_stopped)
		collect_write_discard(c);
	if (!quiet)
		return 0;
	return c->mode == COLLECT_PARENT || c->write_failed ? 1 : attach_done(c);
}

/* Writer side: wait up to COLLECT_WRITE_NS, less when the drain side sees
 * the workload over or fails (not again once write_step has seen it over:
 * in attach mode the wait for the last processes goes on at that pace). */
void collect_write_wait(struct collect *c)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += COLLECT_WRITE_NS;
	while (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	if (c->writer_quiet || (!c->staging_quiet && !c->staging_error))
		pthread_cond_timedwait(&c->handed, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
}
