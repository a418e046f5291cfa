/*
 * critpath.h — the critical path of a run: the chain of work and waits that
 * set its wall time, found by walking back from the end along the edges the
 * trace already keeps (waker, lock holder, pipe writer, exiting child,
 * creator). See critpath.c for the walk and schema/001_schema.sql (table
 * critical_path) for what is stored.
 */
#ifndef WEFT_CRITPATH_H
#define WEFT_CRITPATH_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* One stretch of the path on one thread. Segments of a result are in time
 * order and tile [start, end) of the walk: each begins where the one before
 * it ends. */
struct critpath_segment {
	int64_t utid;
	int64_t ts, dur;
	char state[12];	       /* "Running", "Ready", "New", "Blocked"; "" unknown */
	char reason[12];       /* Blocked's reason, else "" */
	int64_t object_id;     /* 0: none */
	int64_t via_object_id; /* the wait that led the path here, 0: none */
	char edge[12];	       /* how this stretch ended a later thread's wait */
	int64_t next_utid;     /* that later thread, 0: the path stays here */
};

struct critpath {
	struct critpath_segment *segments;
	size_t count, cap;
	int64_t start, end;
	int64_t utid; /* the thread the walk began on, at end */
};

/* The traced command's interval and the thread to start from: the root
 * process (the first one without a parent in the trace), from its start to
 * its end, beginning at the thread of it that ended last.
 * Returns 0, -ENOENT when the trace has no finished process, or -EIO. */
int critpath_root(sqlite3 *db, int64_t *utid, int64_t *start, int64_t *end);

/* Walks back from (utid, end) to start and fills path (initialised here;
 * free it with critpath_free, on failure too). Time strictly decreases at
 * least every second step, so the walk ends by construction.
 * Returns 0, -EINVAL for an empty interval, -ENOENT for an unknown thread,
 * -ENOMEM or -EIO (a SQLite error). */
int critpath_walk(sqlite3 *db, int64_t utid, int64_t start, int64_t end, struct critpath *path);

void critpath_free(struct critpath *path);

/* Replaces the rows of table critical_path (schema v1), or of a TEMP table
 * of that name when temp is non-zero (for a trace opened read-only).
 * Returns 0 or -EIO; the table is unchanged on failure. */
int critpath_store(sqlite3 *db, const struct critpath *path, int temp);

/* Computes the root's critical path and stores it in the file's table
 * (the recorder, when it finishes a trace). Returns 0, -ENOENT when the
 * trace has no finished root process, or another negative errno. */
int critpath_record(sqlite3 *db);

/* critical_path filled for the trace's root: the stored table when the
 * recorder wrote one, else computed now into a TEMP table of that name
 * (which hides the stored one for this connection).
 * Returns 0, or a negative errno from critpath_root/walk/store. */
int critpath_ensure(sqlite3 *db);

#endif
