/*
 * tracedb.h — the SQLite writer of a trace (schema v1, schema/001_*.sql).
 *
 * One writer per database. The file is created with the embedded schema,
 * in WAL mode, so readers (weftd, weft query) can read it while it grows.
 * Rows go through prepared statements inside one big transaction that
 * tracedb_tick commits every TRACEDB_COMMIT_NS, so a reader sees the trace
 * grow in steps of about that much. The indexes are made with the tables
 * and grow with them, so that finishing a trace of hours takes a moment
 * (and a reader of a live trace finds them); tracedb_finish only adds what
 * a trace made without them lacks.
 *
 * Ids (upid, utid, object_id) are chosen by the caller. Not thread-safe:
 * one thread owns a tracedb.
 *
 * The recording lock: tracedb_create makes the file itself (O_EXCL) and
 * holds an exclusive flock(2) on it until tracedb_close, so that anyone can
 * tell a trace being written from one whose recorder died (meta status
 * still 'recording', no lock: interrupted) without a connection of its own
 * (tracedb_recorder_pid reads /proc/locks). flock locks are apart from the
 * POSIX locks SQLite takes: neither disturbs the other. (Closing the
 * lock's fd, in tracedb_close, drops every POSIX lock this process holds
 * on the file: a host that also reads the trace over SQLite in the same
 * process reopens those connections after tracedb_close.)
 *
 * A finished trace is one file: tracedb_close checkpoints the WAL into the
 * database and leaves WAL mode (journal_mode DELETE), so no -wal or -shm
 * stays beside it and it opens read-only anywhere, even when a reader had
 * it open (see tracedb_close).
 */
#ifndef WEFT_TRACEDB_H
#define WEFT_TRACEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
 * and meta status 'recording', take the recording lock and open the first
 * transaction. Returns 0 and *out, or -EEXIST, -errno of creating the file,
 * -EIO (SQLite error; message in errbuf when given) with nothing left open
 * (a partly created file is removed). */
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
/* A row of process_title: upid was retitled at ts (rare: prepared per
 * call). Returns 0 or -EIO. */
int tracedb_process_title(struct tracedb *db, int64_t upid, int64_t ts, const char *name,
			  const char *cmdline);

int tracedb_object_insert(struct tracedb *db, int64_t object_id, const char *kind, int64_t upid,
			  int64_t address, const char *label);
/* An epoll_watch row (op 'add' or 'del'; watched_object_id -1: none) and
 * a poll_ready row (object_id -1: none). 0 or -EIO. */
int tracedb_epoll_watch(struct tracedb *db, int64_t object_id, int64_t ts, const char *op,
			int64_t fd, int64_t watched_object_id);
int tracedb_poll_ready(struct tracedb *db, int64_t utid, int64_t ts, int64_t object_id,
		       int64_t ready);
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

/* What finishing a trace is doing (what: "indexing", ...), said once it
 * has taken TRACEDB_TELL_NS (elapsed_ns so far), once per step from then
 * on. Called on the thread that calls tracedb_finish/tracedb_close. */
typedef void (*tracedb_progress_fn)(void *ctx, const char *what, int64_t elapsed_ns);
#define TRACEDB_TELL_NS (1000 * 1000 * 1000ll)
/* How long tracedb_finish spends walking the critical path before leaving
 * it to readers (meta critical_path 'on demand'). */
#define TRACEDB_CRITPATH_NS (300 * 1000 * 1000ll)
void tracedb_on_progress(struct tracedb *db, tracedb_progress_fn fn, void *ctx);
/* Whether anyone listens to progress (weft record without -q): a long
 * step of its own may then say what it is doing on stderr. */
bool tracedb_tells_progress(const struct tracedb *db);

/* Commit, create the indexes and set meta status. Returns 0 or -EIO; the
 * database stays open (for more meta) until tracedb_close. After
 * tracedb_abandon it only sets the status. */
int tracedb_finish(struct tracedb *db, const char *status);

/* Give up writing rows after a write failed (disk full, I/O error): roll
 * back what was not committed, drop batched rows and the summary, and free
 * the room tracedb_create set aside on the trace's filesystem (256 KiB) so
 * that the last meta rows (tracedb_meta, then tracedb_finish with status
 * 'incomplete') can still be written. What was committed stays: the file
 * is a valid trace that ends at the last commit. */
void tracedb_abandon(struct tracedb *db);

/* Commit what is pending, make the file whole (checkpoint the WAL, leave
 * WAL mode), release the recording lock and close. When another
 * connection (a reader such as weftd) keeps the file in WAL mode through
 * TRACEDB_SEAL_WAIT_MS of retries, the trace is written whole into a new
 * file that is renamed over it (the reader keeps reading the old one until
 * it reopens). Returns 0, or -EIO (no room to checkpoint or copy: the file
 * stays with its -wal, both valid) or -EBUSY (the copy failed: every row
 * is in the file all the same, checkpointed, but it stays in WAL mode with
 * its -wal/-shm until that reader closes). NULL is a no-op (0). */
#define TRACEDB_SEAL_WAIT_MS 1000
int tracedb_close(struct tracedb *db);

/* --- bounded recordings (tracedb_bound.c) ------------------------------ */

/* What the trace takes on disk, its WAL checkpointed: its pages in use
 * (those of the open transaction included; not the track summary that
 * tracedb_finish adds). -EIO when SQLite cannot say. */
int64_t tracedb_bytes(struct tracedb *db);

/* A chunk boundary: the last row of each span table (thread_state,
 * process_state, sched_slice, flow) written so far, at ts. Rows are
 * appended, so a chunk is every row written between two boundaries. */
struct tracedb_chunk {
	int64_t ts;
	int64_t last_rowid[4];
};
int tracedb_chunk_mark(struct tracedb *db, int64_t ts, struct tracedb_chunk *chunk);
/* Delete every span row written up to the boundary (whole chunks: the
 * rows of processes, threads and objects stay). *rows: how many went.
 * Returns 0 or -EIO. */
int tracedb_chunk_drop(struct tracedb *db, const struct tracedb_chunk *chunk, int64_t *rows);

/* The pid of the process recording the trace at path right now (holding
 * its recording lock), 0 when none is (finished, or its recorder died:
 * a meta status 'recording' then means interrupted), or -errno (path
 * cannot be read). Opens neither the trace nor any file beside it, so a
 * reader holding SQLite connections to it may call it at any time. Locks
 * held in another pid namespace are not seen (reads as 0). */
int tracedb_recorder_pid(const char *path);

/* The status a reader should show for the trace at path, into out: meta
 * status as written ('complete', 'incomplete', ...), except 'recording'
 * with no recorder alive, which is 'interrupted'. Returns 0, or -errno
 * (-ENOENT, -EIO: not a readable weft trace). */
int tracedb_status(const char *path, char *out, size_t cap);

/* Make room for a new trace at path (weft record --force): nothing to do
 * when nothing is there; a regular file holding a weft trace (SQLite with
 * a meta schema_version) that is not being recorded is removed with its
 * -wal/-shm. Returns 0 (path free), or -errno with the reason for a human
 * in why and nothing touched: -ELOOP symbolic link, -EISDIR directory,
 * -EINVAL another kind of file (device, FIFO, socket), -EBUSY being
 * recorded, -EPROTO not a weft trace, -ESTALE replaced while checked, or
 * what lstat/unlink said. */
int tracedb_replace(const char *path, char *why, size_t cap);

/* The last SQLite error message of db, for the CLI. */
const char *tracedb_error(struct tracedb *db);

/* For the writers of other tables (stackdb.c): open the transaction the
 * trace's rows go into, if none is (0 or -EIO), and the SQLite handle. */
int tracedb_begin(struct tracedb *db);
struct sqlite3;
struct sqlite3 *tracedb_sqlite(struct tracedb *db);

#endif
