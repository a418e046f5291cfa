/*
 * collect_bound.c — bounded recordings, on the writer's side.
 *
 *   --duration D   the writer goes no further than start + D
 *                  (collect_bound_horizon); once there, the trace is
 *                  finished at that moment (every thread and process ends
 *                  there) and nothing more is written: the workload runs on,
 *                  its records drained and counted (events_unwritten).
 *                  meta truncated 'duration', truncated_ts.
 *   --max-size S   the same cut, at the first write step where the trace
 *                  takes S less a margin for what finishing adds (the
 *                  summary, the closing spans, meta): meta truncated
 *                  'max-size'.
 *   --keep-last D  a chunk boundary (tracedb_chunk_mark) every
 *                  D / (COLLECT_CHUNKS - 2); the span rows written before
 *                  a boundary older than horizon - D are deleted, a whole
 *                  chunk at a time, so the trace holds at least the last D
 *                  (and at most one chunk more). process, thread and object
 *                  rows stay. meta keep_last_ns, dropped_before_ts,
 *                  dropped_rows.
 *
 * The writer's thread runs all of it, between model steps.
 */
#include <errno.h>

#include "collect_internal.h"

/* What finishing adds to a trace cut by --max-size: the track summary
 * (tens of KB, a few MB for the biggest traces), a closing span per live
 * thread, meta rows. */
static int64_t max_size_margin(int64_t max_bytes)
{
	return max_bytes / 32 + 64 * 1024;
}

int64_t collect_bound_horizon(const struct collect *c, int64_t horizon)
{
	if (c->duration_ns && horizon > c->start_ts + c->duration_ns)
		return c->start_ts + c->duration_ns;
	return horizon;
}

/* Finish the trace at ts (the model's threads and processes end there),
 * say why, commit, and write nothing more. */
static void cut(struct collect *c, const char *why, int64_t ts)
{
	int rc = model_finish(c->model, ts);
	if (!rc)
		rc = model_write_waits(c->model);
	if (!rc && (tracedb_meta(c->db, "truncated", why) ||
		    tracedb_meta_int(c->db, "truncated_ts", ts) || tracedb_commit(c->db)))
		rc = -EIO;
	if (rc && !c->error)
		c->error = rc;
	c->bound_stopped = true;
}

/* --keep-last: a boundary when the last is a chunk old, and the chunks
 * wholly older than the window dropped. */
static int keep_last(struct collect *c, int64_t horizon)
{
	int64_t chunk_ns = c->keep_last_ns / (COLLECT_CHUNKS - 2);
	if (!c->nchunks || horizon - c->chunks[c->nchunks - 1].ts >= chunk_ns) {
		if (c->nchunks == COLLECT_CHUNKS) { /* cannot happen: dropped below */
			for (size_t i = 1; i < c->nchunks; i++)
				c->chunks[i - 1] = c->chunks[i];
			c->nchunks--;
		}
		if (tracedb_chunk_mark(c->db, horizon, &c->chunks[c->nchunks]))
			return -EIO;
		c->nchunks++;
	}
	size_t drop = 0;
	while (drop < c->nchunks && c->chunks[drop].ts <= horizon - c->keep_last_ns)
		drop++;
	if (!drop)
		return 0;
	/* everything written up to the newest boundary out of the window */
	const struct tracedb_chunk *last = &c->chunks[drop - 1];
	int64_t rows;
	if (tracedb_chunk_drop(c->db, last, &rows))
		return -EIO;
	c->dropped_rows += rows;
	if (tracedb_meta_int(c->db, "dropped_before_ts", last->ts) ||
	    tracedb_meta_int(c->db, "dropped_rows", c->dropped_rows))
		return -EIO;
	for (size_t i = drop; i < c->nchunks; i++)
		c->chunks[i - drop] = c->chunks[i];
	c->nchunks -= drop;
	return 0;
}

void collect_bound_step(struct collect *c, int64_t horizon)
{
	if (c->bound_stopped || c->write_failed)
		return;
	if (c->duration_ns && horizon >= c->start_ts + c->duration_ns) {
		cut(c, "duration", c->start_ts + c->duration_ns);
		return;
	}
	if (c->max_bytes) {
		int64_t bytes = tracedb_bytes(c->db);
		if (bytes < 0 && !c->error)
			c->error = -EIO;
		if (bytes >= c->max_bytes - max_size_margin(c->max_bytes)) {
			cut(c, "max-size", horizon);
			return;
		}
	}
	if (c->keep_last_ns && keep_last(c, horizon) && !c->error)
		c->error = -EIO;
}
