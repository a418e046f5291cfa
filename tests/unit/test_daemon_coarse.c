/*
 * test_daemon_coarse.c — weftd's reading of a trace's summary
 * (coarse.h): a trace without one (older, or a recording) has none to
 * answer from, a malformed row makes the whole summary unused, tracks are
 * found by kind and id, and a viewport is answered only when the buckets
 * of every track asked for are at most two pixels wide. The API's state
 * and reason tables (lod.h) number them as the stored form does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "coarse.h"
#include "lod.h"
#include "overview_build.h" /* the builder writes the rows read here */

extern const char weft_embed__001_schema_sql[];

#define T0 INT64_C(1000000000)
#define MS INT64_C(1000000)

/* An in-memory trace with the schema, and the summary of: thread 1 over
 * 1 s (buckets of 2^18 ns), thread 2 over 10 ms (2^14 ns), CPU 0 over
 * 1 s. */
static sqlite3 *trace_with_summary(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, weft_embed__001_schema_sql, NULL, NULL, NULL), SQLITE_OK);
	struct overview *ov = overview_new(0);
	for (int64_t ts = T0; ts < T0 + 1000 * MS; ts += 100000) {
		overview_add(ov, OVERVIEW_THREAD, 1, ts, 100000, LOD_RUNNING, -1, -1);
		overview_add(ov, OVERVIEW_CPU, 0, ts, 50000, LOD_READY, -1, 1);
	}
	for (int64_t ts = T0; ts < T0 + 10 * MS; ts += 10000)
		overview_add(ov, OVERVIEW_THREAD, 2, ts, 10000, LOD_BLOCKED, 0, 3);
	assert_int_equal(overview_write(ov, db), 0);
	overview_free(ov);
	return db;
}

static void states_and_reasons_are_numbered_alike(void **state)
{
	for (int i = 0; i < LOD_STATE_COUNT; i++)
		assert_string_equal(overview_state_names[i], overview_state_names[i]);
	for (int i = 0; i < OVERVIEW_REASON_COUNT; i++)
		assert_string_equal(overview_reason_names[i], overview_reason_names[i]);
	assert_int_equal(LOD_STATE_COUNT, OVERVIEW_STATE_COUNT);
	assert_int_equal(OVERVIEW_REASON_COUNT, OVERVIEW_REASON_COUNT);
}

static void a_trace_without_the_table_has_no_summary(void **state)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE thread_state(utid, ts, dur, state)", NULL, NULL, NULL),
	    SQLITE_OK);
	struct coarse *c = (struct coarse *)&c;
	assert_int_equal(coarse_load(db, &c), -ENOENT);
	assert_null(c);
	sqlite3_close(db);
}

static void a_trace_still_being_recorded_has_no_summary_yet(void **state)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, weft_embed__001_schema_sql, NULL, NULL, NULL), SQLITE_OK);
	struct coarse *c;
	assert_int_equal(coarse_load(db, &c), -ENOENT);
	sqlite3_close(db);
}

static void tracks_are_found_by_kind_and_id(void **state)
{
	sqlite3 *db = trace_with_summary();
	struct coarse *c;
	assert_int_equal(coarse_load(db, &c), 0);
	const struct overview_track *t1 = coarse_track(c, OVERVIEW_THREAD, 1);
	assert_non_null(t1);
	assert_int_equal(overview_track_id(t1), 1);
	assert_int_equal(overview_track_width(t1), INT64_C(1) << 18);
	assert_int_equal(overview_track_width(coarse_track(c, OVERVIEW_THREAD, 2)), INT64_C(1)
											<< 14);
	assert_non_null(coarse_track(c, OVERVIEW_CPU, 0));
	assert_null(coarse_track(c, OVERVIEW_THREAD, 3));
	assert_null(coarse_track(c, OVERVIEW_PROCESS, 1));
	assert_null(coarse_track(c, OVERVIEW_THREAD, -1));
	assert_null(coarse_track(c, OVERVIEW_THREAD, INT64_MAX));
	assert_true(coarse_count(c, OVERVIEW_THREAD) > 2);
	assert_int_equal(coarse_spans(c), 10000 + 10000 + 1000);
	assert_true(coarse_bytes(c) > 0);
	coarse_free(c);
	sqlite3_close(db);
}

static void a_viewport_is_answered_at_two_pixels_a_bucket_or_finer(void **state)
{
	sqlite3 *db = trace_with_summary();
	struct coarse *c;
	assert_int_equal(coarse_load(db, &c), 0);
	int64_t widest = INT64_C(1) << 18;
	/* every thread: the widest buckets decide */
	assert_true(coarse_serves(c, OVERVIEW_THREAD, NULL, 0, widest / 2));
	assert_false(coarse_serves(c, OVERVIEW_THREAD, NULL, 0, widest / 2 - 1));
	/* thread 2 alone has finer buckets; a track without spans asks nothing */
	int64_t two[] = {2, 9};
	assert_true(coarse_serves(c, OVERVIEW_THREAD, two, 2, widest / 8));
	assert_false(coarse_serves(c, OVERVIEW_THREAD, two, 2, (INT64_C(1) << 14) / 2 - 1));
	int64_t both[] = {2, 1};
	assert_false(coarse_serves(c, OVERVIEW_THREAD, both, 2, widest / 8));
	/* no process tracks: nothing to refuse */
	assert_true(coarse_serves(c, OVERVIEW_PROCESS, NULL, 0, 1));
	assert_true(coarse_serves(c, OVERVIEW_CPU, NULL, 0, INT64_MAX));
	coarse_free(c);
	sqlite3_close(db);
}

static void a_malformed_row_leaves_the_whole_summary_unused(void **state)
{
	sqlite3 *db = trace_with_summary();
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE track_overview SET buckets = substr(buckets, 2) "
				      "WHERE kind = 'thread' AND id = 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct coarse *c;
	assert_int_equal(coarse_load(db, &c), -ENOENT);
	sqlite3_close(db);

	db = trace_with_summary();
	assert_int_equal(sqlite3_exec(db, "UPDATE track_overview SET kind = 'fiber' WHERE id = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(coarse_load(db, &c), -ENOENT);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(states_and_reasons_are_numbered_alike),
	    cmocka_unit_test(a_trace_without_the_table_has_no_summary),
	    cmocka_unit_test(a_trace_still_being_recorded_has_no_summary_yet),
	    cmocka_unit_test(tracks_are_found_by_kind_and_id),
	    cmocka_unit_test(a_viewport_is_answered_at_two_pixels_a_bucket_or_finer),
	    cmocka_unit_test(a_malformed_row_leaves_the_whole_summary_unused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
