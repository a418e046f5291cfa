/*
 * tracedb.h — the SQLite writer of a trace (schema v1, schema/001_*.sql).
 *
 * One writer per database. The file is created with the embedded schema,
 * in WAL mode, so readers (weftd, weft query) can read it while it grows.
 * Rows go through prepared statements inside one big transaction that
 * tracedb_tick commits every TRACEDB_COMMIT_NS, so a reader sees the trace
 * grow in steps of about that much. Indexes are created only by
 * tracedb_finish (inserting into indexed tables is twice as slow).
 *
 * Ids (upid, utid, object_id) are chosen by the caller. Not thread-safe:
 * one thread owns a tracedb.
 */
#ifndef WEFT_TRACEDB_H
#define WEFT_TRACEDB_H

#include <stddef.h>
#include <stdint.h>

#include "span.h"
#include "waitgraph.h"

#define TRACEDB_COMMIT_NS (150 * 1000 * 1000ll)

struct tracedb;

/* What a process row holds. Strings may be NULL; ints < 0 or flagged
 * unknown are written as NULL (see the has_ fields). */
struct tracedb_process {
	int64_t upid;
	int64_t pid;
	int64_t ppid;	     /* -1: unknown */
	int64_t parent_upid; /* -1: not in the trace */
	const char *name;
	const char *cmdline;
	int64_t start_ts;
	int64_t end_ts;	 /* -1: not ended */
	int exit_code;	 /* -1: none */
	int exit_signal; /* -1: none */
	int traced;
};

struct tracedb_thread {
	int64_t utid;
	int64_t tid;
	int64_t upid;
	const char *name;
	int64_t start_ts;
	int64_t end_ts; /* -1: not ended */
	int is_main;
	const char *sched_source; /* 'perf', 'schedstat' or NULL: 'calls' */
};

/* Create the trace file at path (which must not exist), with the schema
 * and meta status 'recording', and open the first transaction. Returns 0
 * and *out, or -EEXIST, -EIO (SQLite error; message in errbuf when given)
 * with nothing left open (a partly created file is removed). */
int tracedb_create(const char *path, struct tracedb **out, char *errbuf, size_t errlen);

/* Each returns 0 or -EIO. Rows become visible to readers at the next
 * commit. */
int tracedb_meta(struct tracedb *db, const char *key, const char *value);
int tracedb_meta_int(struct tracedb *db, const char *key, int64_t value);
int tracedb_process_insert(struct tracedb *db, const struct tracedb_process *process);
/* Rewrite the row with process->upid (name, cmdline, end, exit status...). */
int tracedb_process_update(struct tracedb *db, const struct tracedb_process *process);
int tracedb_thread_insert(struct tracedb *db, const struct tracedb_thread *thread);
int tracedb_thread_update(struct tracedb *db, const struct tracedb_thread *thread);
int tracedb_object_insert(struct tracedb *db, int64_t object_id, const char *kind, int64_t upid,
			  int64_t address, const char *label);
/* A thread_state (span->is_process false) or process_state row. Rows of
 * thread_state, process_state and sched_slice are written in batches, all
 * of them by the next commit; their text values must be static strings
 * (span_state_name, weft_reason_name, string literals). */
int tracedb_span(struct tracedb *db, const struct span *span);
/* A flow row: utid_out's action at ts_out woke or started utid_in at
 * ts_in. object_id and bytes < 0 are written as NULL. */
int tracedb_flow(struct tracedb *db, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		 int64_t utid_in, const char *kind, int64_t object_id, int64_t bytes);
/* A sched_slice row: utid ran on cpu during [ts, ts + dur); end_state
 * 'Ready', 'Blocked', 'Terminated' or NULL. */
int tracedb_sched_slice(struct tracedb *db, int cpu, int64_t ts, int64_t dur, int64_t utid,
			const char *end_state);

/* Deadlock deadlock_id: found at ts, its members in cycle order (count of
 * them). utids and object_ids are written comma-separated into the
 * deadlock row, and one deadlock_member row per member. */
int tracedb_deadlock(struct tracedb *db, int64_t deadlock_id, int64_t ts,
		     const struct waitgraph_member *members, size_t count);
/* Deadlock deadlock_id was over at end_ts (kept when already set). */
int tracedb_deadlock_end(struct tracedb *db, int64_t deadlock_id, int64_t end_ts);

/* A lock_order_edge row (schema): held is the other locks' object ids,
 * comma-separated ("" or NULL: none). */
struct tracedb_lock_order {
	int64_t from_object_id;
	int64_t to_object_id;
	int64_t utid;
	int64_t ts;
	int from_read;
	int to_read;
	const char *held;
};
int tracedb_lock_order_edge(struct tracedb *db, const struct tracedb_lock_order *edge);
/* One member of lock order cycle cycle_id: object_id is held while utid
 * takes the next member's lock at ts. */
int tracedb_lock_order_cycle(struct tracedb *db, int64_t cycle_id, int64_t position,
			     int64_t object_id, int64_t utid, int64_t ts);

/* Empty table wait_now, and add a row to it: utid has been waiting since
 * ts (reason: enum weft_reason; object_id, holder_utid < 0: unknown). */
int tracedb_wait_now_clear(struct tracedb *db);
int tracedb_wait_now(struct tracedb *db, int64_t utid, int64_t ts, unsigned reason,
		     int64_t object_id, int64_t holder_utid);

/* Whether tracedb_tick at now_ns would commit. */
int tracedb_due(const struct tracedb *db, int64_t now_ns);

/* Commit now (readers see everything written so far) and open the next
 * transaction. Returns 0 or -EIO. */
int tracedb_commit(struct tracedb *db);

/* Commit when the transaction has been open TRACEDB_COMMIT_NS or more at
 * now_ns (CLOCK_MONOTONIC), and open the next. Returns 0 or -EIO. */
int tracedb_tick(struct tracedb *db, int64_t now_ns);

/* Commit, create the indexes and set meta status. Returns 0 or -EIO; the
 * database stays open (for more meta) until tracedb_close. */
int tracedb_finish(struct tracedb *db, const char *status);

/* Commit what is pending and close. NULL is a no-op. */
void tracedb_close(struct tracedb *db);

/* The last SQLite error message of db, for the CLI. */
const char *tracedb_error(struct tracedb *db);

#endif
