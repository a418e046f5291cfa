/*
 * tracedb.c — the SQLite writer of tracedb.h.
 *
 * State: one connection, one prepared statement per row kind, and whether
 * a transaction is open (`in_txn`, begun at `txn_start_ns`). Every write
 * happens inside a transaction; tracedb_tick and tracedb_finish are the
 * only places that commit. synchronous=OFF: nothing is fsync'd (no more
 * than perf.data is). A killed recorder loses nothing it committed, since
 * the kernel has the pages; only a crash of the whole machine can lose or
 * damage a trace, and the syncs cost about 1.5 ms of every recording's
 * start and end, which short workloads notice. 16 KiB pages and a 32 MiB
 * cache: rows are appended, and bigger pages mean fewer B-tree splits
 * (about 10% faster inserts than the default 4 KiB).
 *
 * Every span and CPU slice written is also added to `overview`, the
 * tracks' coarse summary (overview.h), which tracedb_finish writes into
 * track_overview: a few ns a row, and a bounded amount of memory. A
 * failure there (out of memory) only leaves the trace without the
 * summary; readers cope.
 */
#include "tracedb.h"

#include "critpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event.h"
#include "overview_build.h"
#include "tracedb_internal.h"

extern const char weft_embed__001_schema_sql[];
extern const char weft_embed__001_indexes_sql[];

enum stmt_id {
	STMT_META,
	STMT_PROCESS_INSERT,
	STMT_PROCESS_UPDATE,
	STMT_THREAD_INSERT,
	STMT_THREAD_UPDATE,
	STMT_OBJECT,
	STMT_THREAD_STATE,
	STMT_PROCESS_STATE,
	STMT_SCHED_SLICE,
	STMT_FLOW,
	STMT_DEADLOCK,
	STMT_DEADLOCK_MEMBER,
	STMT_DEADLOCK_END,
	STMT_WAIT_NOW_CLEAR,
	STMT_WAIT_NOW,
	STMT_LOCK_ORDER_EDGE,
	STMT_LOCK_ORDER_CYCLE,
	STMT_EPOLL_WATCH,
	STMT_POLL_READY,
	STMT_COUNT,
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [STMT_PROCESS_INSERT] = "INSERT INTO process(upid, pid, ppid, parent_upid, name, cmdline, "
			    "start_ts, end_ts, exit_code, exit_signal, traced) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [STMT_PROCESS_UPDATE] = "UPDATE process SET pid = ?2, ppid = ?3, parent_upid = ?4, name = ?5, "
			    "cmdline = ?6, start_ts = ?7, end_ts = ?8, exit_code = ?9, "
			    "exit_signal = ?10, traced = ?11 WHERE upid = ?1",
    [STMT_THREAD_INSERT] = "INSERT INTO thread(utid, tid, upid, name, start_ts, end_ts, is_main, "
			   "sched_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [STMT_THREAD_UPDATE] = "UPDATE thread SET tid = ?2, upid = ?3, name = ?4, start_ts = ?5, "
			   "end_ts = ?6, is_main = ?7, sched_source = ?8 WHERE utid = ?1",
    [STMT_OBJECT] = "INSERT INTO object(object_id, kind, upid, address, label) "
		    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_THREAD_STATE] = "INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, "
			  "holder_utid, waker_utid, callsite_id, waker_callsite_id) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [STMT_PROCESS_STATE] = "INSERT INTO process_state(upid, ts, dur, state) "
			   "VALUES (?1, ?2, ?3, ?4)",
    [STMT_FLOW] = "INSERT INTO flow(ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes) "
		  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_SCHED_SLICE] = "INSERT INTO sched_slice(cpu, ts, dur, utid, end_state) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_DEADLOCK] = "INSERT INTO deadlock(deadlock_id, ts, utids, object_ids) "
		      "VALUES (?1, ?2, ?3, ?4)",
    [STMT_DEADLOCK_MEMBER] = "INSERT INTO deadlock_member(deadlock_id, position, utid, "
			     "object_id, holder_utid, wait_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [STMT_DEADLOCK_END] = "UPDATE deadlock SET end_ts = ?2 "
			  "WHERE deadlock_id = ?1 AND end_ts IS NULL",
    [STMT_WAIT_NOW_CLEAR] = "DELETE FROM wait_now",
    [STMT_WAIT_NOW] = "INSERT INTO wait_now(utid, ts, reason, object_id, holder_utid) "
		      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_LOCK_ORDER_EDGE] =
	"INSERT INTO lock_order_edge(from_object_id, to_object_id, utid, ts, "
	"from_mode, to_mode, held_object_ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_LOCK_ORDER_CYCLE] =
	"INSERT INTO lock_order_cycle(cycle_id, position, object_id, utid, ts) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_EPOLL_WATCH] = "INSERT INTO epoll_watch(object_id, ts, op, fd, watched_object_id) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_POLL_READY] = "INSERT INTO poll_ready(utid, ts, object_id, ready) "
			"VALUES (?1, ?2, ?3, ?4)",
};

/* The three tables that take a row per transition are written BATCH_ROWS
 * rows per statement: one multi-row INSERT costs SQLite about half as much
 * per row as a row each. Rows wait in `cells` until the batch is full or
 * the transaction commits (commit() flushes first), so readers see no
 * difference. Text cells point at static strings (state, reason names). */
#define BATCH_ROWS 32
#define BATCH_MAX_COLUMNS 11

enum batch_id { BATCH_THREAD_STATE, BATCH_PROCESS_STATE, BATCH_SCHED_SLICE, BATCH_COUNT };

static const struct {
	enum stmt_id one; /* the single-row statement, for the rest */
	const char *head; /* "INSERT ... VALUES " */
	int columns;
} batch_spec[BATCH_COUNT] = {
    [BATCH_THREAD_STATE] =
	{STMT_THREAD_STATE,
	 "INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, "
	 "holder_utid, waker_utid, callsite_id, waker_callsite_id) VALUES ",
	 11},
    [BATCH_PROCESS_STATE] = {STMT_PROCESS_STATE,
			     "INSERT INTO process_state(upid, ts, dur, state) VALUES ", 4},
    [BATCH_SCHED_SLICE] = {STMT_SCHED_SLICE,
			   "INSERT INTO sched_slice(cpu, ts, dur, utid, end_state) VALUES ", 5},
};

struct cell {
	bool is_null;
	const char *text; /* static; NULL for an integer */
	int64_t value;
};

struct batch {
	sqlite3_stmt *many; /* BATCH_ROWS rows */
	int rows;
	struct cell cells[BATCH_ROWS * BATCH_MAX_COLUMNS];
};

/* Room kept on the trace's filesystem so that a recording that fills it
 * can still say so: an unnamed file (O_TMPFILE) of this size, freed by
 * tracedb_abandon before it writes the last meta rows. */
#define RESERVE_BYTES (256 * 1024)

struct tracedb {
	sqlite3 *sql;
	int lock_fd;	/* the recording lock (flock LOCK_EX), -1: none */
	int reserve_fd; /* RESERVE_BYTES held on the trace's filesystem, or -1 */
	bool abandoned; /* tracedb_abandon: only meta from now on */
	char *path;	/* the trace's path, for tracedb_close's copy */
	sqlite3_stmt *stmt[STMT_COUNT];
	struct batch batch[BATCH_COUNT];
	int in_txn;
	int64_t txn_start_ns;
	struct overview *overview;	     /* NULL once it failed */
	int reason_index[WEFT_REASON_COUNT]; /* enum weft_reason -> overview's */
	/* finishing (tracedb_finish, tracedb_close): what it is doing, since
	 * when, whether the host was told, and when the optional critical
	 * path's walk must give up (0: never) */
	tracedb_progress_fn progress;
	void *progress_ctx;
	const char *phase;
	int64_t finish_start_ns;
	bool told;
	int64_t give_up_ns;
	bool gave_up;
};

static int64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

static int exec_sql(struct tracedb *db, const char *sql)
{
	return sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int begin(struct tracedb *db)
{
	if (db->in_txn)
		return 0;
	if (exec_sql(db, "BEGIN"))
		return -EIO;
	db->in_txn = 1;
	db->txn_start_ns = monotonic_ns();
	return 0;
}

int tracedb_begin(struct tracedb *db)
{
	return begin(db);
}

sqlite3 *tracedb_sqlite(struct tracedb *db)
{
	return db->sql;
}

/* Run a prepared statement once and reset it. */
static int step(struct tracedb *db, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt); /* every parameter is bound again before each step */
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static void bind_cells(sqlite3_stmt *stmt, int first, const struct cell *cells, int count)
{
	for (int i = 0; i < count; i++) {
		if (cells[i].is_null)
			sqlite3_bind_null(stmt, first + i);
		else if (cells[i].text)
			sqlite3_bind_text(stmt, first + i, cells[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(stmt, first + i, cells[i].value);
	}
}

/* Write the rows batch b holds: one statement when it is full, else a
 * statement a row. */
static int batch_flush(struct tracedb *db, enum batch_id b)
{
	struct batch *batch = &db->batch[b];
	int columns = batch_spec[b].columns, rc = 0;
	if (batch->rows == BATCH_ROWS && batch->many) {
		bind_cells(batch->many, 1, batch->cells, BATCH_ROWS * columns);
		rc = step(db, batch->many);
	} else {
		sqlite3_stmt *one = db->stmt[batch_spec[b].one];
		for (int r = 0; r < batch->rows && !rc; r++) {
			bind_cells(one, 1, batch->cells + r * columns, columns);
			rc = step(db, one);
		}
	}
	batch->rows = 0;
	return rc;
}

/* The cells of a new row of batch b (columns of them, to fill in), or NULL
 * when writing the full batch before it failed. */
static struct cell *batch_row(struct tracedb *db, enum batch_id b, int *rc)
{
	struct batch *batch = &db->batch[b];
	*rc = batch->rows == BATCH_ROWS ? batch_flush(db, b) : 0;
	if (*rc)
		return NULL;
	return batch->cells + batch->rows++ * batch_spec[b].columns;
}

static void cell_int(struct cell *cell, int64_t value, bool is_null)
{
	*cell = (struct cell){.is_null = is_null, .value = value};
}

static void cell_text(struct cell *cell, const char *text)
{
	*cell = (struct cell){.is_null = text == NULL, .text = text};
}

/* The columns thread_state and process_state share: id, ts, dur, state. */
static void span_cells(struct cell *row, const struct span *span, const char *state)
{
	cell_int(&row[0], span->id, false);
	cell_int(&row[1], span->ts, false);
	cell_int(&row[2], span->dur, false);
	cell_text(&row[3], state);
}

static int commit(struct tracedb *db)
{
	if (!db->in_txn)
		return 0;
	int rc = 0;
	for (int b = 0; b < BATCH_COUNT; b++)
		if (batch_flush(db, (enum batch_id)b))
			rc = -EIO;
	db->in_txn = 0;
	return exec_sql(db, "COMMIT") || rc ? -EIO : 0;
}

/* The multi-row INSERT of batch b. Returns 0 or -EIO. */
static int prepare_batch(struct tracedb *db, enum batch_id b)
{
	char sql[8192];
	size_t len = (size_t)snprintf(sql, sizeof sql, "%s", batch_spec[b].head);
	for (int r = 0; r < BATCH_ROWS && len < sizeof sql; r++) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(", r ? "," : "");
		for (int c = 0; c < batch_spec[b].columns && len < sizeof sql; c++)
			len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?", c ? "," : "");
		if (len < sizeof sql)
			len += (size_t)snprintf(sql + len, sizeof sql - len, ")");
	}
	if (len >= sizeof sql)
		return -EIO;
	return sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &db->batch[b].many,
				  NULL) == SQLITE_OK
		   ? 0
		   : -EIO;
}

static void bind_int_or_null(sqlite3_stmt *stmt, int index, int64_t value, int is_null)
{
	if (is_null)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_int64(stmt, index, value);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text)
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, index);
}

/* An unnamed file of RESERVE_BYTES in path's directory, or -1 (no
 * O_TMPFILE there, or no room: the trace goes without a reserve). */
static int make_reserve(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 && posix_fallocate(fd, 0, RESERVE_BYTES) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int tracedb_create(const char *path, struct tracedb **out, char *errbuf, size_t errlen)
{
	/* The file is ours from its first byte: made here (O_EXCL, no symlink
	 * followed) and locked before SQLite writes a page of it. */
	int lock_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		return -errno;
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int error = errno;
		close(lock_fd);
		unlink(path);
		return -error;
	}

	/* Allocation statistics cost a global mutex per allocation; the writer
	 * does not need them. Fails harmlessly once SQLite is initialised. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct tracedb *db = calloc(1, sizeof *db);
	if (!db) {
		close(lock_fd);
		unlink(path);
		return -ENOMEM;
	}
	db->lock_fd = lock_fd;
	db->reserve_fd = make_reserve(path);
	db->path = strdup(path);
	if (!db->path)
		goto err;
	db->overview = overview_new(0);
	for (unsigned r = 0; r < WEFT_REASON_COUNT; r++)
		db->reason_index[r] = overview_reason_index(weft_reason_name(r));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK)
		goto err;
	/* synchronous first: the switch to WAL writes, and would sync */
	if (exec_sql(db, "PRAGMA page_size=16384; PRAGMA synchronous=OFF; "
			 "PRAGMA journal_mode=WAL; PRAGMA cache_size=-32768;") ||
	    exec_sql(db, "BEGIN") || exec_sql(db, weft_embed__001_schema_sql) ||
	    exec_sql(db, weft_embed__001_indexes_sql))
		goto err;
	for (int i = 0; i < STMT_COUNT; i++)
		if (sqlite3_prepare_v3(db->sql, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &db->stmt[i], NULL) != SQLITE_OK)
			goto err;
	for (int b = 0; b < BATCH_COUNT; b++)
		if (prepare_batch(db, (enum batch_id)b))
			goto err;
	db->in_txn = 1;
	if (tracedb_meta(db, "schema_version", "1") || tracedb_meta(db, "status", "recording") ||
	    commit(db) || begin(db))
		goto err;
	*out = db;
	return 0;

err:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	for (int b = 0; b < BATCH_COUNT; b++)
		sqlite3_finalize(db->batch[b].many);
	sqlite3_close(db->sql);
	overview_free(db->overview);
	close(db->lock_fd);
	if (db->reserve_fd >= 0)
		close(db->reserve_fd);
	free(db->path);
	free(db);
	unlink(path);
	char side[4096];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	return -EIO;
}

int tracedb_meta(struct tracedb *db, const char *key, const char *value)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_META];
	bind_text(stmt, 1, key);
	bind_text(stmt, 2, value);
	return step(db, stmt);
}

int tracedb_meta_int(struct tracedb *db, const char *key, int64_t value)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", (long long)value);
	return tracedb_meta(db, key, text);
}

static int write_process(struct tracedb *db, sqlite3_stmt *stmt, const struct tracedb_process *p)
{
	if (begin(db))
		return -EIO;
	sqlite3_bind_int64(stmt, 1, p->upid);
	sqlite3_bind_int64(stmt, 2, p->pid);
	bind_int_or_null(stmt, 3, p->ppid, p->ppid < 0);
	bind_int_or_null(stmt, 4, p->parent_upid, p->parent_upid < 0);
	bind_text(stmt, 5, p->name);
	bind_text(stmt, 6, p->cmdline);
	sqlite3_bind_int64(stmt, 7, p->start_ts);
	bind_int_or_null(stmt, 8, p->end_ts, p->end_ts < 0);
	bind_int_or_null(stmt, 9, p->exit_code, p->exit_code < 0);
	bind_int_or_null(stmt, 10, p->exit_signal, p->exit_signal < 0);
	sqlite3_bind_int(stmt, 11, p->traced);
	return step(db, stmt);
}

int tracedb_process_insert(struct tracedb *db, const struct tracedb_process *process)
{
	return write_process(db, db->stmt[STMT_PROCESS_INSERT], process);
}

int tracedb_process_update(struct tracedb *db, const struct tracedb_process *process)
{
	return write_process(db, db->stmt[STMT_PROCESS_UPDATE], process);
}

static int write_thread(struct tracedb *db, sqlite3_stmt *stmt, const struct tracedb_thread *t)
{
	if (begin(db))
		return -EIO;
	sqlite3_bind_int64(stmt, 1, t->utid);
	sqlite3_bind_int64(stmt, 2, t->tid);
	sqlite3_bind_int64(stmt, 3, t->upid);
	bind_text(stmt, 4, t->name);
	sqlite3_bind_int64(stmt, 5, t->start_ts);
	bind_int_or_null(stmt, 6, t->end_ts, t->end_ts < 0);
	sqlite3_bind_int(stmt, 7, t->is_main);
	bind_text(stmt, 8, t->sched_source ? t->sched_source : "calls");
	return step(db, stmt);
}

int tracedb_thread_insert(struct tracedb *db, const struct tracedb_thread *thread)
{
	return write_thread(db, db->stmt[STMT_THREAD_INSERT], thread);
}

int tracedb_thread_update(struct tracedb *db, const struct tracedb_thread *thread)
{
	return write_thread(db, db->stmt[STMT_THREAD_UPDATE], thread);
}

int tracedb_process_title(struct tracedb *db, int64_t upid, int64_t ts, const char *name,
			  const char *cmdline)
{
	sqlite3_stmt *stmt = NULL;
	if (begin(db) || sqlite3_prepare_v2(db->sql,
					    "INSERT INTO process_title (upid, ts, name, cmdline) "
					    "VALUES (?, ?, ?, ?)",
					    -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, upid);
	sqlite3_bind_int64(stmt, 2, ts);
	bind_text(stmt, 3, name);
	bind_text(stmt, 4, cmdline);
	int rc = step(db, stmt);
	sqlite3_finalize(stmt);
	return rc;
}

int tracedb_object_insert(struct tracedb *db, int64_t object_id, const char *kind, int64_t upid,
			  int64_t address, const char *label)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_OBJECT];
	sqlite3_bind_int64(stmt, 1, object_id);
	bind_text(stmt, 2, kind);
	bind_int_or_null(stmt, 3, upid, upid < 0);
	sqlite3_bind_int64(stmt, 4, address);
	bind_text(stmt, 5, label);
	return step(db, stmt);
}

int tracedb_epoll_watch(struct tracedb *db, int64_t object_id, int64_t ts, const char *op,
			int64_t fd, int64_t watched_object_id)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_EPOLL_WATCH];
	sqlite3_bind_int64(stmt, 1, object_id);
	sqlite3_bind_int64(stmt, 2, ts);
	bind_text(stmt, 3, op);
	sqlite3_bind_int64(stmt, 4, fd);
	bind_int_or_null(stmt, 5, watched_object_id, watched_object_id < 0);
	return step(db, stmt);
}

int tracedb_poll_ready(struct tracedb *db, int64_t utid, int64_t ts, int64_t object_id,
		       int64_t ready)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_POLL_READY];
	sqlite3_bind_int64(stmt, 1, utid);
	sqlite3_bind_int64(stmt, 2, ts);
	bind_int_or_null(stmt, 3, object_id, object_id < 0);
	sqlite3_bind_int64(stmt, 4, ready);
	return step(db, stmt);
}

/* Adds a row to the overview; on failure the trace goes without one. */
static void summarize(struct tracedb *db, enum overview_kind kind, int64_t id, int64_t ts,
		      int64_t dur, int state, int reason, int64_t object)
{
	if (db->overview &&
	    overview_add(db->overview, kind, id, ts, dur, state, reason, object) < 0) {
		overview_free(db->overview);
		db->overview = NULL;
	}
}

int tracedb_span(struct tracedb *db, const struct span *span)
{
	if (begin(db))
		return -EIO;
	const char *state = span_state_name(span->state);
	/* enum span_state counts from SPAN_NEW = 1 in the API's order */
	int state_index = span->state >= SPAN_NEW ? (int)span->state - SPAN_NEW : -1;
	if (span->is_process) {
		summarize(db, OVERVIEW_PROCESS, span->id, span->ts, span->dur, state_index, -1, -1);
		int rc;
		struct cell *row = batch_row(db, BATCH_PROCESS_STATE, &rc);
		if (row)
			span_cells(row, span, state);
		return rc;
	}
	int reason_index = span->state == SPAN_BLOCKED && span->reason < WEFT_REASON_COUNT
			       ? db->reason_index[span->reason]
			       : -1;
	summarize(db, OVERVIEW_THREAD, span->id, span->ts, span->dur, state_index, reason_index,
		  span->object_id);
	int rc;
	struct cell *row = batch_row(db, BATCH_THREAD_STATE, &rc);
	if (!row)
		return rc;
	span_cells(row, span, state);
	cell_text(&row[4], span->state == SPAN_BLOCKED ? weft_reason_name(span->reason) : NULL);
	cell_int(&row[5], span->object_id, span->object_id < 0);
	cell_int(&row[6], span->cpu, span->cpu < 0);
	cell_int(&row[7], span->holder_id, span->holder_id < 0);
	cell_int(&row[8], span->waker_id, span->waker_id < 0);
	bool blocked = span->state == SPAN_BLOCKED;
	cell_int(&row[9], span->callsite_id, !blocked || span->callsite_id < 0);
	cell_int(&row[10], span->waker_callsite_id, !blocked || span->waker_callsite_id < 0);
	return 0;
}

int tracedb_sched_slice(struct tracedb *db, int cpu, int64_t ts, int64_t dur, int64_t utid,
			const char *end_state)
{
	if (begin(db))
		return -EIO;
	summarize(db, OVERVIEW_CPU, cpu, ts, dur, overview_state_index(end_state), -1, utid);
	int rc;
	struct cell *row = batch_row(db, BATCH_SCHED_SLICE, &rc);
	if (!row)
		return rc;
	cell_int(&row[0], cpu, false);
	cell_int(&row[1], ts, false);
	cell_int(&row[2], dur, false);
	cell_int(&row[3], utid, false);
	cell_text(&row[4], end_state);
	return 0;
}

int tracedb_flow(struct tracedb *db, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		 int64_t utid_in, const char *kind, int64_t object_id, int64_t bytes)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_FLOW];
	sqlite3_bind_int64(stmt, 1, ts_out);
	sqlite3_bind_int64(stmt, 2, utid_out);
	sqlite3_bind_int64(stmt, 3, ts_in);
	sqlite3_bind_int64(stmt, 4, utid_in);
	bind_text(stmt, 5, kind);
	bind_int_or_null(stmt, 6, object_id, object_id < 0);
	bind_int_or_null(stmt, 7, bytes, bytes < 0);
	return step(db, stmt);
}

/* The members' utids (or object ids), comma-separated, into out; an unknown
 * object leaves its place empty. */
static void join_ids(const struct waitgraph_member *members, size_t count, bool objects, char *out,
		     size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count && used < cap; i++) {
		int64_t id = objects ? members[i].object_id : members[i].utid;
		int n = id < 0 ? snprintf(out + used, cap - used, "%s", i ? "," : "")
			       : snprintf(out + used, cap - used, "%s%lld", i ? "," : "",
					  (long long)id);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int tracedb_deadlock(struct tracedb *db, int64_t deadlock_id, int64_t ts,
		     const struct waitgraph_member *members, size_t count)
{
	if (begin(db))
		return -EIO;
	char utids[WAITGRAPH_MAX_CYCLE * 21], objects[WAITGRAPH_MAX_CYCLE * 21];
	join_ids(members, count, false, utids, sizeof utids);
	join_ids(members, count, true, objects, sizeof objects);
	sqlite3_stmt *stmt = db->stmt[STMT_DEADLOCK];
	sqlite3_bind_int64(stmt, 1, deadlock_id);
	sqlite3_bind_int64(stmt, 2, ts);
	bind_text(stmt, 3, utids);
	bind_text(stmt, 4, objects);
	if (step(db, stmt))
		return -EIO;
	stmt = db->stmt[STMT_DEADLOCK_MEMBER];
	for (size_t i = 0; i < count; i++) {
		sqlite3_bind_int64(stmt, 1, deadlock_id);
		sqlite3_bind_int64(stmt, 2, (int64_t)i);
		sqlite3_bind_int64(stmt, 3, members[i].utid);
		bind_int_or_null(stmt, 4, members[i].object_id, members[i].object_id < 0);
		bind_int_or_null(stmt, 5, members[i].holder_utid, members[i].holder_utid < 0);
		sqlite3_bind_int64(stmt, 6, members[i].wait_ts);
		if (step(db, stmt))
			return -EIO;
	}
	return 0;
}

int tracedb_deadlock_end(struct tracedb *db, int64_t deadlock_id, int64_t end_ts)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_DEADLOCK_END];
	sqlite3_bind_int64(stmt, 1, deadlock_id);
	sqlite3_bind_int64(stmt, 2, end_ts);
	return step(db, stmt);
}

int tracedb_lock_order_edge(struct tracedb *db, const struct tracedb_lock_order *edge)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_LOCK_ORDER_EDGE];
	sqlite3_bind_int64(stmt, 1, edge->from_object_id);
	sqlite3_bind_int64(stmt, 2, edge->to_object_id);
	sqlite3_bind_int64(stmt, 3, edge->utid);
	sqlite3_bind_int64(stmt, 4, edge->ts);
	sqlite3_bind_text(stmt, 5, edge->from_read ? "read" : "write", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, edge->to_read ? "read" : "write", -1, SQLITE_STATIC);
	bind_text(stmt, 7, edge->held && edge->held[0] ? edge->held : NULL);
	return step(db, stmt);
}

int tracedb_lock_order_cycle(struct tracedb *db, int64_t cycle_id, int64_t position,
			     int64_t object_id, int64_t utid, int64_t ts)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_LOCK_ORDER_CYCLE];
	sqlite3_bind_int64(stmt, 1, cycle_id);
	sqlite3_bind_int64(stmt, 2, position);
	sqlite3_bind_int64(stmt, 3, object_id);
	sqlite3_bind_int64(stmt, 4, utid);
	sqlite3_bind_int64(stmt, 5, ts);
	return step(db, stmt);
}

int tracedb_wait_now_clear(struct tracedb *db)
{
	if (begin(db))
		return -EIO;
	return step(db, db->stmt[STMT_WAIT_NOW_CLEAR]);
}

int tracedb_wait_now(struct tracedb *db, int64_t utid, int64_t ts, unsigned reason,
		     int64_t object_id, int64_t holder_utid)
{
	if (begin(db))
		return -EIO;
	sqlite3_stmt *stmt = db->stmt[STMT_WAIT_NOW];
	sqlite3_bind_int64(stmt, 1, utid);
	sqlite3_bind_int64(stmt, 2, ts);
	bind_text(stmt, 3, weft_reason_name(reason));
	bind_int_or_null(stmt, 4, object_id, object_id < 0);
	bind_int_or_null(stmt, 5, holder_utid, holder_utid < 0);
	return step(db, stmt);
}

int tracedb_due(const struct tracedb *db, int64_t now_ns)
{
	return db->in_txn && now_ns - db->txn_start_ns >= TRACEDB_COMMIT_NS;
}

int tracedb_commit(struct tracedb *db)
{
	if (commit(db))
		return -EIO;
	return begin(db);
}

int tracedb_tick(struct tracedb *db, int64_t now_ns)
{
	if (!db->in_txn || now_ns - db->txn_start_ns < TRACEDB_COMMIT_NS)
		return 0;
	if (commit(db))
		return -EIO;
	return begin(db);
}

void tracedb_abandon(struct tracedb *db)
{
	for (int b = 0; b < BATCH_COUNT; b++)
		db->batch[b].rows = 0;
	if (db->in_txn) {
		exec_sql(db, "ROLLBACK"); /* fails when SQLite rolled back itself */
		db->in_txn = 0;
	}
	if (db->reserve_fd >= 0) {
		close(db->reserve_fd);
		db->reserve_fd = -1;
	}
	overview_free(db->overview); /* a summary of part of the rows would mislead */
	db->overview = NULL;
	db->abandoned = true;
}

bool tracedb_tells_progress(const struct tracedb *db)
{
	return db->progress != NULL;
}

void tracedb_on_progress(struct tracedb *db, tracedb_progress_fn fn, void *ctx)
{
	db->progress = fn;
	db->progress_ctx = ctx;
}

/* Tell the host what finishing is doing once it has taken
 * TRACEDB_TELL_NS (once per phase from then on). */
static void tell(struct tracedb *db, int64_t now)
{
	if (!db->progress || !db->phase || db->told || !db->finish_start_ns ||
	    now - db->finish_start_ns < TRACEDB_TELL_NS)
		return;
	db->told = true;
	db->progress(db->progress_ctx, db->phase, now - db->finish_start_ns);
}

/* SQLite's progress handler while finishing: tells, and interrupts the
 * statement running (1) once give_up_ns has passed. */
static int on_sqlite_progress(void *ctx)
{
	struct tracedb *db = ctx;
	int64_t now = monotonic_ns();
	tell(db, now);
	if (db->give_up_ns && now >= db->give_up_ns) {
		db->gave_up = true;
		return 1;
	}
	return 0;
}

static void set_phase(struct tracedb *db, const char *phase)
{
	if (!db->finish_start_ns) {
		db->finish_start_ns = monotonic_ns();
		sqlite3_progress_handler(db->sql, 100, on_sqlite_progress, db);
	}
	db->phase = phase;
	db->told = false;
	tell(db, monotonic_ns());
}

/* The root's critical path, stored in the trace when the walk takes no
 * more than TRACEDB_CRITPATH_NS; past that it is left to readers
 * (critpath_ensure walks it on demand), so that a long recording stops at
 * once. Returns 0 or -EIO. */
static int record_critical_path(struct tracedb *db)
{
	set_phase(db, "finding the critical path");
	if (exec_sql(db, "SAVEPOINT critical_path"))
		return -EIO;
	db->give_up_ns = monotonic_ns() + TRACEDB_CRITPATH_NS;
	db->gave_up = false;
	int rc = critpath_record(db->sql);
	db->give_up_ns = 0;
	if (db->gave_up) {
		/* interrupted: nothing of it stays; readers walk it */
		if (exec_sql(db, "ROLLBACK TO critical_path"))
			return -EIO;
		rc = tracedb_meta(db, "critical_path", "on demand");
	} else if (rc == -ENOENT) {
		rc = 0; /* no finished root process: no path, no failure */
	}
	if (exec_sql(db, "RELEASE critical_path"))
		return -EIO;
	return rc ? -EIO : 0;
}

int tracedb_finish(struct tracedb *db, const char *status)
{
	set_phase(db, "committing the last rows");
	if (commit(db) || begin(db))
		return -EIO;
	if (db->abandoned)
		return tracedb_meta(db, "status", status) || commit(db) ? -EIO : 0;
	/* the summary of what was written so far (a second finish, after more
	 * rows, rewrites it) */
	set_phase(db, "writing the track summary");
	if (db->overview &&
	    (exec_sql(db, "DELETE FROM track_overview") || overview_write(db->overview, db->sql))) {
		/* written in full or not at all: readers would trust a part */
		if (exec_sql(db, "DELETE FROM track_overview"))
			return -EIO;
	}
	/* made by tracedb_create and grown with the rows: a no-op unless the
	 * trace was made without them */
	set_phase(db, "indexing");
	if (exec_sql(db, weft_embed__001_indexes_sql))
		return -EIO;
	/* the critical path needs the indexes */
	if (record_critical_path(db))
		return -EIO;
	set_phase(db, "committing");
	if (tracedb_meta(db, "status", status) || commit(db))
		return -EIO;
	return 0;
}

/* tracedb_seal's wait for a reader: tell the host what finishing does. */
static void sealing(void *ctx)
{
	tell(ctx, monotonic_ns());
}

int tracedb_close(struct tracedb *db)
{
	if (!db)
		return 0;
	commit(db);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	for (int b = 0; b < BATCH_COUNT; b++)
		sqlite3_finalize(db->batch[b].many);
	set_phase(db, "moving the write-ahead log into the trace");
	int rc = tracedb_seal(db->sql, db->path, sealing, db);
	sqlite3_progress_handler(db->sql, 0, NULL, NULL);
	sqlite3_close(db->sql);
	if (db->lock_fd >= 0)
		close(db->lock_fd); /* after SQLite's: this process's POSIX locks go with it */
	if (db->reserve_fd >= 0)
		close(db->reserve_fd);
	overview_free(db->overview);
	free(db->path);
	free(db);
	return rc;
}

int tracedb_flush_rows(struct tracedb *db)
{
	int rc = 0;
	for (int b = 0; b < BATCH_COUNT; b++)
		if (batch_flush(db, (enum batch_id)b))
			rc = -EIO;
	return rc;
}

const char *tracedb_error(struct tracedb *db)
{
	return sqlite3_errmsg(db->sql);
}
