/*
 * trace: the traces weftd serves, and what it keeps for each.
 *
 * A trace_set holds every trace named on the command line plus those found
 * in the served directories (rescanned by trace_set_rescan). A trace
 * whose file is deleted leaves the list but is not freed, so a struct
 * trace pointer stays valid until trace_set_free. A finished trace with
 * no -wal is opened immutable (query_open): read-only mounts work. A trace is named by its id only
 * (the file name without ".db", made URL-safe and unique); no path from a request ever reaches the
 * file system.
 *
 * Per trace:
 *   - a pool of read-only connections (trace_acquire/trace_release): each
 *     request borrows its own, so no statement or connection is used by
 *     two threads at once;
 *   - the status (meta.status, bounds, file size), refreshed by
 *     trace_poll; its generation counter moves whenever any of it changes;
 *   - the timeline (lod tracks of every thread, process and CPU, and the
 *     flow totals of flowsum.h), loaded
 *     on first use and then only the rows added since (rowid > last seen),
 *     under a rwlock: trace_timeline_read() takes it shared;
 *   - until the timeline is first loaded, the trace's summary (coarse.h),
 *     read on first use, under a rwlock of its own; freed once the
 *     timeline is loaded. Only for traces of TRACE_COARSE_MIN_SPANS rows
 *     or more: smaller ones load in a blink, and are answered exactly. trace_timeline_try() starts
 * the first load in a thread of the trace's own (joined by trace_set_free) instead of waiting for
 * it, so a request can answer from the summary meanwhile. All functions are thread-safe.
 *
 * Test hook: with WEFTD_HOLD_LOADS=FILE in the environment, first loads of
 * a timeline wait until FILE exists (tests see weftd before its first load
 * is done without racing it).
 */
#ifndef WEFT_TRACE_H
#define WEFT_TRACE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "coarse.h"
#include "flowsum.h"
#include "lod.h"
#include "query.h"

/* Traces with fewer span rows than this load faster than a summary would
 * help (about 0.1 s): weftd waits for their spans. */
#define TRACE_COARSE_MIN_SPANS 500000

struct trace;
struct trace_set;

struct trace_set *trace_set_new(void);
void trace_set_free(struct trace_set *set);

/* Serves a file or every *.db in a directory (and those that appear in it
 * later). Returns 0, or -ENOENT / -ENOTSUP / -EPROTO (schema too new) /
 * -EIO with a message for the user in err. For a directory, files that
 * are not traces are skipped. */
int trace_set_add(struct trace_set *set, const char *path, char *err, size_t errlen);

/* Makes timeline loads in progress give up (-ECANCELED) and later ones
 * fail at once: called on shutdown so that no request holds it up. */
void trace_set_stop(struct trace_set *set);

/* Looks for new *.db files in the served directories. Returns 1 if the
 * list changed, else 0. */
int trace_set_rescan(struct trace_set *set);

/* Calls fn (under the set's lock: fn must not call back) for each *.db of
 * the served directories that is not served, with why ("is not a weft
 * trace") and its size. Their traces are rescanned only when they
 * change; traces whose file is deleted leave the list at the next
 * rescan. */
typedef void (*trace_broken_fn)(void *ctx, const char *path, const char *error, int64_t bytes);
void trace_set_each_broken(struct trace_set *set, trace_broken_fn fn, void *ctx);

size_t trace_set_count(struct trace_set *set);
/* The i-th trace (i < trace_set_count), or NULL. */
struct trace *trace_set_at(struct trace_set *set, size_t i);
/* The trace with this id, or NULL. */
struct trace *trace_set_find(struct trace_set *set, const char *id);
/* Moves when traces are added. */
uint64_t trace_set_generation(struct trace_set *set);

const char *trace_id(const struct trace *t);
/* The file name (no directory). */
const char *trace_file(const struct trace *t);
const char *trace_path(const struct trace *t);

/* A read-only connection for this thread's exclusive use until
 * trace_release; NULL if the file cannot be opened. */
sqlite3 *trace_acquire(struct trace *t);
void trace_release(struct trace *t, sqlite3 *db);

struct trace_info {
	struct query_status status;
	int64_t bytes;	   /* the file's size */
	int64_t wal_bytes; /* its -wal's (0 when none) */
	uint64_t generation;
};

/* Copies the last polled status (polling once first if never polled). */
int trace_info(struct trace *t, struct trace_info *info);

/* Re-reads size, mtime and meta; bumps the generation if anything
 * changed. Returns 1 if it changed, 0 if not, -errno on failure. */
int trace_poll(struct trace *t);

/* The loaded timeline, held for reading until trace_timeline_done. */
struct trace_timeline {
	/* tracks by id: threads[utid], processes[upid], cpus[cpu]; NULL when
	 * absent. */
	struct lod_track **threads, **processes, **cpus;
	size_t nthreads, nprocesses, ncpus;
	/* flow totals by time bucket (see flowsum.h); NULL if not loaded */
	struct flowsum *flows;
	size_t bytes;
};

/* Loads (first use) or extends (when the trace grew) the timeline, then
 * takes it shared. Returns 0 with *tl, or -ENOMEM/-EIO/-ECANCELED (see
 * trace_set_stop) with nothing held. */
int trace_timeline_read(struct trace *t, const struct trace_timeline **tl);
void trace_timeline_done(struct trace *t);

/* As trace_timeline_read once the timeline has been loaded (or when a
 * load in the background failed: the error is then the caller's). Before
 * that, -EAGAIN at once with nothing held, and the first load runs in the
 * background (started now unless it runs already). */
int trace_timeline_try(struct trace *t, const struct trace_timeline **tl);

/* The trace's summary, held for reading until trace_coarse_done (reads it
 * on first use). 0 with *c; -ENOENT with nothing held when there is none
 * to answer from: the trace has no summary, is still being recorded, is
 * small (TRACE_COARSE_MIN_SPANS), or its timeline is loaded (the exact one
 * answers then). */
int trace_coarse_read(struct trace *t, const struct coarse **c);
void trace_coarse_done(struct trace *t);

#endif
