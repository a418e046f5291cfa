/*
 * test_collect_tracedb.c — the SQLite writer: a created trace has schema
 * v1 in WAL mode, rows appear to readers at each commit, unknown values are
 * NULL, the indexes are there from the start, finishing adds the status
 * and the tracks' summary
 * (track_overview), and an existing file is never overwritten.
 */
#include <errno.h>
#include <sqlite3.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "event.h"
#include "test_collect_util.h"
#include "tracedb.h"

static void created_trace_is_schema_v1_in_wal_mode_recording_and_indexed(void **state)
{
	char path[512], text[64];
	temp_db_path(path, sizeof path, "tracedb-create");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 1);
	assert_string_equal(sql_text(path, "PRAGMA journal_mode", text, sizeof text), "wal");
	assert_string_equal(
	    sql_text(path, "SELECT value FROM meta WHERE key = 'status'", text, sizeof text),
	    "recording");
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
				       "AND name = 'thread_state_utid_ts'"),
			 1); /* the indexes grow with the rows: finishing is quick */
	tracedb_close(db);
	remove_db(path);
}

static void rows_become_visible_at_each_commit(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "tracedb-commit");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	struct tracedb_process process = {.upid = 1,
					  .pid = 42,
					  .ppid = 1,
					  .parent_upid = -1,
					  .name = "sh",
					  .start_ts = 100,
					  .end_ts = -1,
					  .exit_code = -1,
					  .exit_signal = -1,
					  .traced = 1};
	assert_int_equal(tracedb_process_insert(db, &process), 0);
	/* Not committed yet: a reader does not see it. */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process"), 0);
	assert_int_equal(tracedb_tick(db, INT64_MAX / 2), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process"), 1);
	assert_int_equal(sql_int(path, "SELECT end_ts FROM process"), -998); /* NULL */
	assert_int_equal(sql_int(path, "SELECT exit_code FROM process"), -998);
	assert_int_equal(sql_int(path, "SELECT parent_upid FROM process"), -998);

	process.end_ts = 900;
	process.exit_signal = 9;
	assert_int_equal(tracedb_process_update(db, &process), 0);
	tracedb_close(db); /* commits */
	assert_int_equal(sql_int(path, "SELECT end_ts FROM process WHERE upid = 1"), 900);
	assert_int_equal(sql_int(path, "SELECT exit_signal FROM process WHERE upid = 1"), 9);
	remove_db(path);
}

/* Spans, process spans and CPU slices are written in batches of rows:
 * every row is there, in order, with its values and NULLs, at each commit
 * (a full batch or not), and not before. */
static void batched_rows_are_all_written_in_order_at_each_commit(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "tracedb-batch");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	int64_t ts = 1000;
	for (int round = 0; round < 2; round++) {
		int count = round ? 70 : 33; /* one full batch and some; two and some */
		for (int i = 0; i < count; i++, ts += 10) {
			struct span thread = {.id = 1 + i % 3,
					      .ts = ts,
					      .dur = 10,
					      .state = i % 2 ? SPAN_BLOCKED : SPAN_RUNNING,
					      .reason = WEFT_REASON_MUTEX,
					      .object_id = i % 2 ? 5 : -1,
					      .holder_id = -1,
					      .cpu = i % 2 ? -1 : 1,
					      .waker_id = -1};
			struct span process = {.is_process = true,
					       .id = 1,
					       .ts = ts,
					       .dur = 10,
					       .state = SPAN_RUNNING};
			assert_int_equal(tracedb_span(db, &thread), 0);
			assert_int_equal(tracedb_span(db, &process), 0);
			assert_int_equal(
			    tracedb_sched_slice(db, 1, ts, 10, 1 + i % 3, i % 2 ? "Blocked" : NULL),
			    0);
		}
		assert_int_equal(sql_int(path, "SELECT count(*) FROM thread_state"),
				 round ? 33 : 0);
		assert_int_equal(tracedb_commit(db), 0);
		int total = round ? 103 : 33;
		char sql[256];
		assert_int_equal(sql_int(path, "SELECT count(*) FROM thread_state"), total);
		assert_int_equal(sql_int(path, "SELECT count(*) FROM process_state"), total);
		assert_int_equal(sql_int(path, "SELECT count(*) FROM sched_slice"), total);
		/* in the order written: ts grows with rowid */
		assert_int_equal(sql_int(path,
					 "SELECT count(*) FROM thread_state a JOIN thread_state "
					 "b ON b.rowid = a.rowid + 1 WHERE b.ts != a.ts + 10"),
				 0);
		snprintf(sql, sizeof sql, "SELECT max(ts) FROM sched_slice");
		assert_int_equal(sql_int(path, sql), ts - 10);
	}
	assert_int_equal(sql_int(path, "SELECT count(*) FROM thread_state WHERE state = 'Blocked' "
				       "AND reason = 'mutex' AND object_id = 5 AND cpu IS NULL"),
			 51);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM thread_state WHERE state = 'Running' "
				       "AND reason IS NULL AND object_id IS NULL AND cpu = 1"),
			 52);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sched_slice WHERE end_state IS NULL"),
			 52);
	tracedb_close(db);
	remove_db(path);
}

static void spans_objects_and_threads_are_written_as_given(void **state)
{
	char path[512], text[64];
	temp_db_path(path, sizeof path, "tracedb-spans");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	struct tracedb_process process = {.upid = 1,
					  .pid = 42,
					  .ppid = -1,
					  .parent_upid = -1,
					  .start_ts = 0,
					  .end_ts = 100,
					  .exit_code = 0,
					  .exit_signal = -1,
					  .traced = 1};
	struct tracedb_thread thread = {.utid = 1,
					.tid = 42,
					.upid = 1,
					.name = "main",
					.start_ts = 0,
					.end_ts = 100,
					.is_main = 1};
	assert_int_equal(tracedb_process_insert(db, &process), 0);
	assert_int_equal(tracedb_thread_insert(db, &thread), 0);
	assert_int_equal(tracedb_object_insert(db, 7, "mutex", 1, 0xabc, "mutex 0xabc"), 0);
	struct span blocked = {.id = 1,
			       .ts = 10,
			       .dur = 20,
			       .state = SPAN_BLOCKED,
			       .reason = WEFT_REASON_MUTEX,
			       .object_id = 7,
			       .holder_id = 1,
			       .cpu = -1};
	struct span waiting = {.is_process = true,
			       .id = 1,
			       .ts = 10,
			       .dur = 20,
			       .state = SPAN_WAITING,
			       .object_id = -1,
			       .holder_id = -1,
			       .cpu = -1};
	assert_int_equal(tracedb_span(db, &blocked), 0);
	assert_int_equal(tracedb_span(db, &waiting), 0);
	assert_int_equal(tracedb_finish(db, "complete"), 0);
	tracedb_close(db);

	assert_string_equal(sql_text(path, "SELECT reason FROM thread_state", text, sizeof text),
			    "mutex");
	assert_string_equal(sql_text(path, "SELECT state FROM thread_state", text, sizeof text),
			    "Blocked");
	assert_int_equal(sql_int(path, "SELECT holder_utid FROM thread_state"), 1);
	assert_int_equal(sql_int(path, "SELECT cpu FROM thread_state"), -998);
	assert_string_equal(sql_text(path, "SELECT state FROM process_state", text, sizeof text),
			    "Waiting");
	assert_string_equal(sql_text(path, "SELECT label FROM lock_contention", text, sizeof text),
			    "mutex 0xabc");
	assert_string_equal(sql_text(path, "SELECT sched_source FROM thread", text, sizeof text),
			    "calls");
	assert_string_equal(
	    sql_text(path, "SELECT value FROM meta WHERE key = 'status'", text, sizeof text),
	    "complete");
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
				       "AND name = 'thread_state_utid_ts'"),
			 1);
	remove_db(path);
}

static void finishing_writes_a_summary_of_every_track(void **state)
{
	char path[512], text[64];
	temp_db_path(path, sizeof path, "tracedb-overview");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	for (int i = 0; i < 100; i++) {
		struct span running = {.id = 3,
				       .ts = 1000000 + i * 2000,
				       .dur = 1000,
				       .state = SPAN_RUNNING,
				       .object_id = -1,
				       .holder_id = -1,
				       .cpu = 1};
		struct span blocked = running;
		blocked.ts += 1000;
		blocked.state = SPAN_BLOCKED;
		blocked.reason = WEFT_REASON_SLEEP;
		assert_int_equal(tracedb_span(db, &running), 0);
		assert_int_equal(tracedb_span(db, &blocked), 0);
		assert_int_equal(tracedb_sched_slice(db, 1, running.ts, running.dur, 3, "Blocked"),
				 0);
	}
	struct span process = {.is_process = true,
			       .id = 2,
			       .ts = 1000000,
			       .dur = 200000,
			       .state = SPAN_RUNNING,
			       .object_id = -1,
			       .holder_id = -1,
			       .cpu = -1};
	assert_int_equal(tracedb_span(db, &process), 0);
	/* before the end, readers find the table empty */
	assert_int_equal(tracedb_commit(db), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM track_overview"), 0);
	assert_int_equal(tracedb_finish(db, "complete"), 0);
	tracedb_close(db);

	assert_int_equal(sql_int(path, "SELECT count(*) FROM track_overview"), 3);
	assert_int_equal(
	    sql_int(path, "SELECT spans FROM track_overview WHERE kind = 'thread' AND id = 3"),
	    200);
	assert_int_equal(
	    sql_int(path, "SELECT spans FROM track_overview WHERE kind = 'cpu' AND id = 1"), 100);
	assert_int_equal(
	    sql_int(path, "SELECT start_ts FROM track_overview WHERE kind = 'process' AND id = 2"),
	    1000000);
	assert_int_equal(
	    sql_int(path, "SELECT end_ts FROM track_overview WHERE kind = 'thread' AND id = 3"),
	    1000000 + 99 * 2000 + 2000);
	assert_string_equal(sql_text(path,
				     "SELECT group_concat(kind, ',') FROM "
				     "(SELECT kind FROM track_overview ORDER BY kind)",
				     text, sizeof text),
			    "cpu,process,thread");
	remove_db(path);
}

static void existing_file_is_never_overwritten(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "tracedb-exists");
	FILE *file = fopen(path, "w");
	fputs("precious", file);
	fclose(file);
	struct tracedb *db = NULL;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), -EEXIST);
	assert_null(db);
	file = fopen(path, "r");
	char text[16] = "";
	assert_non_null(fgets(text, sizeof text, file));
	fclose(file);
	assert_string_equal(text, "precious");
	remove_db(path);
}

static int exists(const char *path, const char *suffix)
{
	char side[600];
	snprintf(side, sizeof side, "%s%s", path, suffix);
	return access(side, F_OK) == 0;
}

/* While it is written the trace holds its recording lock; once closed it
 * is one file: no -wal, no -shm, out of WAL mode, every row in it. */
static void a_closed_trace_is_one_file_in_rollback_mode(void **state)
{
	char path[512], text[64];
	temp_db_path(path, sizeof path, "tracedb-sealed");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	assert_int_equal(tracedb_recorder_pid(path), getpid());
	assert_int_equal(tracedb_status(path, text, sizeof text), 0);
	assert_string_equal(text, "recording");
	assert_int_equal(tracedb_meta(db, "probe", "kept"), 0);
	assert_int_equal(tracedb_finish(db, "complete"), 0);
	assert_int_equal(tracedb_close(db), 0);
	assert_int_equal(tracedb_recorder_pid(path), 0);
	assert_false(exists(path, "-wal"));
	assert_false(exists(path, "-shm"));
	assert_string_equal(sql_text(path, "PRAGMA journal_mode", text, sizeof text), "delete");
	assert_string_equal(
	    sql_text(path, "SELECT value FROM meta WHERE key = 'probe'", text, sizeof text),
	    "kept");
	remove_db(path);
}

/* A reader that keeps the file open (weftd) cannot stop it from being one
 * file: the trace is written whole into a new file renamed over it, and
 * the reader goes on reading the rows it had. */
static void a_reader_holding_the_trace_open_still_gets_one_file(void **state)
{
	char path[512], text[64];
	temp_db_path(path, sizeof path, "tracedb-reader");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	assert_int_equal(tracedb_meta(db, "probe", "kept"), 0);
	assert_int_equal(tracedb_finish(db, "complete"), 0);
	sqlite3 *reader;
	assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(reader, "SELECT count(*) FROM meta", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(tracedb_close(db), 0);
	assert_false(exists(path, "-wal"));
	assert_false(exists(path, "-shm"));
	assert_string_equal(sql_text(path, "PRAGMA journal_mode", text, sizeof text), "delete");
	assert_string_equal(
	    sql_text(path, "SELECT value FROM meta WHERE key = 'probe'", text, sizeof text),
	    "kept");
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(reader, "SELECT value FROM meta WHERE key = 'probe'",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "kept");
	sqlite3_finalize(stmt);
	sqlite3_close(reader);
	remove_db(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(created_trace_is_schema_v1_in_wal_mode_recording_and_indexed),
	    cmocka_unit_test(rows_become_visible_at_each_commit),
	    cmocka_unit_test(batched_rows_are_all_written_in_order_at_each_commit),
	    cmocka_unit_test(spans_objects_and_threads_are_written_as_given),
	    cmocka_unit_test(finishing_writes_a_summary_of_every_track),
	    cmocka_unit_test(existing_file_is_never_overwritten),
	    cmocka_unit_test(a_closed_trace_is_one_file_in_rollback_mode),
	    cmocka_unit_test(a_reader_holding_the_trace_open_still_gets_one_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
