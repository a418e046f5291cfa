/*
 * query: every SQL statement weftd runs against a trace, in one place.
 *
 * Each function takes a connection the caller owns for the duration of the
 * call (the daemon gives each request its own read-only connection), and
 * prepares and finalizes its own statements, so no statement is ever
 * shared between threads. Functions that answer the API write one JSON
 * value into the caller's writer. Return values: 0, -ENOENT (no such row),
 * -ENOTSUP (not a weft trace), -EIO (SQLite failed; the connection's
 * sqlite3_errmsg says why).
 *
 * Traces may lack schema/001_indexes.sql while being recorded; every query
 * here stays correct without indexes (only slower).
 */
#ifndef WEFT_QUERY_H
#define WEFT_QUERY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define QUERY_SCHEMA_VERSION 1

/* Opens path read-only (WAL readers welcome) with a busy timeout. With
 * immutable set, as a file that cannot change (SQLite's immutable=1: no
 * locks, no -shm, so read-only directories and mounts work; only for a
 * finished trace with no -wal). 0, or -ENOENT / -ENAMETOOLONG / -EIO with
 * *db NULL. */
int query_open(const char *path, int immutable, sqlite3 **db);

/* Reads PRAGMA user_version into *version and checks the weft tables are
 * there: 0, -ENOTSUP (not a weft trace: missing tables, or not SQLite),
 * -EIO. A version above QUERY_SCHEMA_VERSION is returned as 0 with
 * *version set; the caller decides. */
int query_check_trace(sqlite3 *db, int *version);

struct query_status {
	char status[16]; /* meta.status, "" if absent */
	char command[512];
	int64_t start_ts, end_ts;   /* from meta, else from the data; 0 if none */
	int64_t start_wall_ns;	    /* meta start_wall_ns (ns since the epoch), 0 if none */
	int64_t processes, threads; /* rows of process and thread */
};

/* Fills st from meta (and, when the trace is still being written or meta
 * lacks the bounds, from the latest rows). */
int query_status(sqlite3 *db, struct query_status *st);

/* Writes the meta table as one JSON object. */
int query_meta(sqlite3 *db, struct json *j);

/* Writes the keys "processes", "threads", "cpus" and "lost" of the
 * overview into the object being written. */
int query_overview(sqlite3 *db, struct json *j);

enum query_track { QUERY_THREAD_STATE, QUERY_PROCESS_STATE, QUERY_SCHED_SLICE };

/* One row of thread_state (id = utid, object = object_id), process_state
 * (id = upid, reason NULL, object -1) or sched_slice (id = cpu, state =
 * end_state, object = utid). */
typedef int (*query_span_fn)(void *ctx, int64_t id, int64_t ts, int64_t dur, const char *state,
			     const char *reason, int64_t object);

/* Calls fn for each row of the table with rowid > after_rowid, in (id, ts)
 * order (the schema's indexes give that order without sorting), and stores
 * the highest rowid seen in *last_rowid. Stops at fn's
 * first non-zero return (returned as is). */
int query_load_spans(sqlite3 *db, enum query_track which, int64_t after_rowid, int64_t *last_rowid,
		     query_span_fn fn, void *ctx);

/* One row of track_overview (tracer/collector/overview.h). The strings and
 * blobs are SQLite's: valid until the callback returns. */
struct query_overview_row {
	const char *kind;
	int64_t id, start_ts, end_ts, spans, bucket_ns, first_bucket, bucket_count;
	const void *buckets, *long_spans;
	size_t buckets_len, long_spans_len;
};
typedef int (*query_overview_fn)(void *ctx, const struct query_overview_row *row);

/* Calls fn for each row of track_overview. -ENOENT, without calling it,
 * when the trace has no such table (written before it); stops at fn's
 * first non-zero return (returned as is). */
int query_track_overview(sqlite3 *db, query_overview_fn fn, void *ctx);

typedef int (*query_name_fn)(void *ctx, int64_t id, int64_t parent, const char *name);

/* One row of the flow table. */
typedef int (*query_flow_fn)(void *ctx, int64_t object_id, const char *kind, int64_t ts_out,
			     int64_t ts_in, int64_t utid_out, int64_t utid_in, int64_t bytes);

/* Calls fn for each flow with rowid > after_rowid (object_id -1 and bytes
 * 0 when NULL), and stores the last rowid seen in *last_rowid. */
int query_load_flows(sqlite3 *db, int64_t after_rowid, int64_t *last_rowid, query_flow_fn fn,
		     void *ctx);

/* Calls fn for each message flow (pipe, socket) leaving in [start, end)
 * when messages is set, else for each hand-over flow (unlock, post,
 * signal, barrier) arriving in [start, end); only flows naming an object. */
int query_flows_between(sqlite3 *db, int messages, int64_t start, int64_t end, query_flow_fn fn,
			void *ctx);

/* One row of the object table; the strings are SQLite's, valid until
 * the callback returns ("" for a NULL label). */
struct query_object {
	int64_t object_id;
	const char *kind, *label;
};
typedef int (*query_object_fn)(void *ctx, const struct query_object *object);

/* Calls fn for every object, in object_id order. */
int query_each_object(sqlite3 *db, query_object_fn fn, void *ctx);

/* Writes the details of utid's span containing ts (object, holder, waker,
 * flows). -ENOENT if there is none. */
int query_span(sqlite3 *db, int64_t utid, int64_t ts, struct json *j);

/* Writes {"flows": [...], "truncated": bool}: flows leaving or arriving in
 * [start, end), at most limit, only those touching one of utids when
 * nutids > 0. */
int query_flows(sqlite3 *db, int64_t start, int64_t end, const int64_t *utids, size_t nutids,
		int64_t limit, struct json *j);

/* Writes {"objects": [...]}. */
int query_objects(sqlite3 *db, struct json *j);

/* Calls fn(utid, upid, name) for each thread, in utid order. */
int query_threads(sqlite3 *db, query_name_fn fn, void *ctx);
/* Calls fn(upid, parent_upid or -1, name) for each process. */
int query_processes(sqlite3 *db, query_name_fn fn, void *ctx);

/* Calls fn for each lockable object (mutex, rwlock, sem, cond,
 * barrier), in object_id order. */
int query_lock_objects(sqlite3 *db, query_object_fn fn, void *ctx);

/* Calls fn(object_id, utid) once for each thread that handed an object
 * over to its waiters (unlock, post, signal, barrier flows) in [start,
 * end), ordered by object_id, then utid. */
typedef int (*query_holder_fn)(void *ctx, int64_t object_id, int64_t utid);
int query_holders(sqlite3 *db, int64_t start, int64_t end, query_holder_fn fn, void *ctx);

/* Writes the "traffic" array: per pipe/socket object, messages and bytes
 * of the flows leaving in [start, end), writers and readers. */
int query_traffic(sqlite3 *db, int64_t start, int64_t end, struct json *j);

/* One thread's last span when it is a wait on a lock with a known holder. */
struct query_wait {
	int64_t utid, ts, dur, object_id, holder_utid;
};

/* Fills a malloc'd array of the final waits (the last span of each thread
 * when Blocked with a holder): the raw material for deadlock detection. */
int query_final_waits(sqlite3 *db, struct query_wait **waits, size_t *count);

/* Writes the "deadlocks" array from the trace's deadlock tables (what the
 * recorder wrote, live, when a wait closed a cycle): each deadlock
 * overlapping [start, end) -- begun before end, and not ended by start
 * (end_ts NULL: it held to the end) -- in the order found, as {"ts",
 * "end_ts" (null while it held), "threads" (utids in cycle order: thread
 * i waits for object i, held by thread i + 1, the last by the first),
 * "objects" (object ids), "holders" (utids), "thread_names",
 * "object_labels" (the thread's name or tid, the object's label, as the
 * deadlocks view words them), "cycle" (the view's text)}. -ENOENT, with
 * nothing written, when the trace predates those tables. */
int query_deadlocks(sqlite3 *db, int64_t start, int64_t end, struct json *j);

/* Writes {"tables": [...], "examples": [...]}. */
int query_schema(sqlite3 *db, struct json *j);

#endif
