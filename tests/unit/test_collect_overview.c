/*
 * test_collect_overview.c — the tracks' summary (overview.h): spans
 * shorter than a bucket come back summed per state, longer ones exactly;
 * the bucket width doubles as a track outgrows its buckets; the order
 * spans arrive in does not matter; CPU runs are named by their longest
 * slice, idle CPU time gives no entries; a builder over its budget makes
 * its largest tracks coarser; malformed rows do not decode. Each summary
 * goes through the stored form (an in-memory trace with the schema) and
 * back before it is asked anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "overview_build.h"

extern const char weft_embed__001_schema_sql[];

#define T0 INT64_C(1000000000)
#define US INT64_C(1000)
#define MS INT64_C(1000000)

enum { NEW, RUNNING, READY, BLOCKED, WAITING, SUSPENDED, TERMINATED };
enum { MUTEX, RWLOCK, COND, SEM, BARRIER, JOIN, SLEEP, IO };

/* A stored track: its columns and blobs, as a reader finds them. */
struct row {
	int64_t start, end, spans, bucket_ns, first, count;
	unsigned char *buckets, *long_spans;
	size_t buckets_len, long_spans_len;
};

static void row_free(struct row *r)
{
	free(r->buckets);
	free(r->long_spans);
}

static unsigned char *copy_blob(sqlite3_stmt *stmt, int c, size_t *len)
{
	const void *blob = sqlite3_column_blob(stmt, c);
	*len = (size_t)sqlite3_column_bytes(stmt, c);
	unsigned char *p = malloc(*len + 1);
	assert_non_null(p);
	if (*len)
		memcpy(p, blob, *len);
	return p;
}

/* Writes ov into a fresh in-memory trace; fills r with the row of (kind,
 * id). Returns 0, or -ENOENT when there is no such row. */
static int stored(const struct overview *ov, const char *kind, int64_t id, struct row *r)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, weft_embed__001_schema_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(overview_write(ov, db), 0);
	sqlite3_stmt *stmt;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT start_ts, end_ts, spans, bucket_ns, first_bucket, "
			       "bucket_count, buckets, long_spans FROM track_overview "
			       "WHERE kind = ?1 AND id = ?2",
			       -1, &stmt, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, id);
	int rc = -ENOENT;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		r->start = sqlite3_column_int64(stmt, 0);
		r->end = sqlite3_column_int64(stmt, 1);
		r->spans = sqlite3_column_int64(stmt, 2);
		r->bucket_ns = sqlite3_column_int64(stmt, 3);
		r->first = sqlite3_column_int64(stmt, 4);
		r->count = sqlite3_column_int64(stmt, 5);
		r->buckets = copy_blob(stmt, 6, &r->buckets_len);
		r->long_spans = copy_blob(stmt, 7, &r->long_spans_len);
		rc = 0;
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return rc;
}

static struct overview_track *decode(const char *kind, int64_t id, const struct row *r)
{
	return overview_track_decode(kind, id, r->start, r->end, r->spans, r->bucket_ns, r->first,
				     r->count, r->buckets, r->buckets_len, r->long_spans,
				     r->long_spans_len);
}

/* The stored and decoded track (kind, id) of ov; fails the test if none. */
static struct overview_track *read_back(const struct overview *ov, const char *kind, int64_t id)
{
	struct row r;
	assert_int_equal(stored(ov, kind, id, &r), 0);
	struct overview_track *t = decode(kind, id, &r);
	row_free(&r);
	assert_non_null(t);
	return t;
}

struct entries {
	struct overview_entry e[20000];
	size_t n;
};

static int collect(void *ctx, const struct overview_entry *e)
{
	struct entries *out = ctx;
	assert_true(out->n < sizeof(out->e) / sizeof(out->e[0]));
	out->e[out->n++] = *e;
	return 0;
}

static struct entries *query(const struct overview_track *t, int64_t start, int64_t end, int64_t px)
{
	struct entries *out = calloc(1, sizeof(*out));
	assert_non_null(out);
	assert_int_equal(overview_track_query(t, start, end, px, collect, out), 0);
	/* in ts order, without overlaps */
	for (size_t i = 1; i < out->n; i++)
		assert_true(out->e[i].ts >= out->e[i - 1].ts + out->e[i - 1].dur);
	return out;
}

/* ns per state over all entries: runs by their mix, exact spans whole. */
static void time_per_state(const struct entries *es, int64_t ns[OVERVIEW_STATE_COUNT])
{
	memset(ns, 0, OVERVIEW_STATE_COUNT * sizeof(*ns));
	for (size_t i = 0; i < es->n; i++) {
		const struct overview_entry *e = &es->e[i];
		if (e->run)
			for (int s = 0; s < OVERVIEW_STATE_COUNT; s++)
				ns[s] += e->mix[s];
		else if (e->state >= 0)
			ns[e->state] += e->dur;
	}
}

static void assert_near(int64_t got, int64_t want, double rel)
{
	double diff = (double)(got > want ? got - want : want - got);
	if (diff > rel * (double)want) {
		fail_msg("got %lld, want %lld (within %.2f%%)", (long long)got, (long long)want,
			 rel * 100);
	}
}

static void states_and_reasons_are_numbered_as_the_api_numbers_them(void **state)
{
	static const char *const states[] = {"New",	"Running",   "Ready",	  "Blocked",
					     "Waiting", "Suspended", "Terminated"};
	static const char *const reasons[] = {"mutex",	 "rwlock", "cond",  "sem",
					      "barrier", "join",   "sleep", "io",
					      "poll",	 "wait",   "futex", "other",
					      "signal"};
	for (int i = 0; i < OVERVIEW_STATE_COUNT; i++)
		assert_int_equal(overview_state_index(states[i]), i);
	for (int i = 0; i < OVERVIEW_REASON_COUNT; i++)
		assert_int_equal(overview_reason_index(reasons[i]), i);
	assert_int_equal(overview_state_index("Sleeping"), -1);
	assert_int_equal(overview_reason_index(NULL), -1);
	assert_int_equal(overview_kind_index("cpu"), OVERVIEW_CPU);
}

static void short_spans_come_back_summed_per_state(void **state)
{
	struct overview *ov = overview_new(0);
	/* 10 ms of Running 3 us, Blocked on a mutex 5 us */
	int64_t ts = T0;
	for (int i = 0; i < 1250; i++) {
		assert_int_equal(overview_add(ov, OVERVIEW_THREAD, 1, ts, 3 * US, RUNNING, -1, -1),
				 0);
		assert_int_equal(
		    overview_add(ov, OVERVIEW_THREAD, 1, ts + 3 * US, 5 * US, BLOCKED, MUTEX, 7),
		    0);
		ts += 8 * US;
	}
	struct overview_track *t = read_back(ov, "thread", 1);
	assert_int_equal(overview_track_start(t), T0);
	assert_int_equal(overview_track_end(t), T0 + 10 * MS);
	assert_int_equal(overview_track_width(t), OVERVIEW_MIN_WIDTH);
	/* 100 pixels of 100 us: every entry a run, mostly Blocked */
	struct entries *es = query(t, T0, T0 + 10 * MS, 100);
	assert_true(es->n >= 50 && es->n <= 100);
	uint64_t spans = 0;
	for (size_t i = 0; i < es->n; i++) {
		assert_int_equal(es->e[i].run, 1);
		assert_int_equal(es->e[i].state, BLOCKED);
		assert_int_equal(es->e[i].reason, -1);
		/* one to two pixels (the last cut at the track's end) */
		assert_true(es->e[i].dur <= 200 * US);
		assert_true(es->e[i].dur >= 100 * US || i == es->n - 1);
		spans += es->e[i].n;
	}
	assert_int_equal(spans, 2500);
	int64_t ns[OVERVIEW_STATE_COUNT];
	time_per_state(es, ns);
	assert_near(ns[RUNNING], 1250 * 3 * US, 0.005);
	assert_near(ns[BLOCKED], 1250 * 5 * US, 0.005);
	assert_int_equal(ns[READY], 0);
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void a_span_of_a_pixel_or_more_comes_back_exactly(void **state)
{
	struct overview *ov = overview_new(0);
	int64_t ts = T0;
	for (int i = 0; i < 1000; i++, ts += 10 * US)
		overview_add(ov, OVERVIEW_THREAD, 2, ts, 10 * US, i % 2 ? READY : RUNNING, -1, -1);
	int64_t join_at = ts;
	overview_add(ov, OVERVIEW_THREAD, 2, join_at, 50 * MS, BLOCKED, JOIN, 42);
	ts += 50 * MS;
	for (int i = 0; i < 1000; i++, ts += 10 * US)
		overview_add(ov, OVERVIEW_THREAD, 2, ts, 10 * US, RUNNING, -1, -1);
	struct overview_track *t = read_back(ov, "thread", 2);
	/* 70 ms over 700 px: 100 us a pixel */
	struct entries *es = query(t, T0, ts, 700);
	int found = 0;
	for (size_t i = 0; i < es->n; i++) {
		const struct overview_entry *e = &es->e[i];
		if (!e->run) {
			assert_int_equal(e->ts, join_at);
			assert_int_equal(e->dur, 50 * MS);
			assert_int_equal(e->state, BLOCKED);
			assert_int_equal(e->reason, JOIN);
			assert_int_equal(e->object, 42);
			assert_int_equal(e->n, 1);
			found++;
		} else {
			assert_true(e->ts + e->dur <= join_at || e->ts >= join_at + 50 * MS);
		}
	}
	assert_int_equal(found, 1);
	free(es);
	/* a window inside the long span: the span alone, with its own ts */
	es = query(t, join_at + 10 * MS, join_at + 20 * MS, 100);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->e[0].ts, join_at);
	assert_int_equal(es->e[0].run, 0);
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void the_width_doubles_as_a_track_outgrows_its_buckets(void **state)
{
	struct overview *ov = overview_new(0);
	/* 2 s of 20 us spans: 2 s / 4096 buckets needs 2^19 ns buckets */
	int64_t ts = T0;
	for (int i = 0; i < 100000; i++, ts += 20 * US)
		assert_int_equal(overview_add(ov, OVERVIEW_THREAD, 3, ts, 20 * US,
					      i % 3 == 0 ? RUNNING : BLOCKED, SLEEP, -1),
				 0);
	struct row r;
	assert_int_equal(stored(ov, "thread", 3, &r), 0);
	assert_int_equal(r.bucket_ns, INT64_C(1) << 19);
	assert_true(r.count > OVERVIEW_BUCKETS / 2 && r.count <= OVERVIEW_BUCKETS);
	assert_int_equal(r.first, T0 >> 19);
	assert_int_equal(r.spans, 100000);
	assert_int_equal(r.long_spans_len, 0);
	struct overview_track *t = decode("thread", 3, &r);
	row_free(&r);
	assert_non_null(t);
	struct entries *es = query(t, T0, ts, 1000);
	int64_t ns[OVERVIEW_STATE_COUNT];
	time_per_state(es, ns);
	assert_near(ns[RUNNING], 33334 * 20 * US, 0.002);
	assert_near(ns[BLOCKED], 66666 * 20 * US, 0.002);
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void spans_longer_than_a_bucket_stay_whole_as_the_width_doubles(void **state)
{
	struct overview *ov = overview_new(0);
	/* 1 ms spans over 2 s: whole at first, summed once buckets pass 1 ms */
	int64_t ts = T0;
	for (int i = 0; i < 2000; i++, ts += MS)
		overview_add(ov, OVERVIEW_THREAD, 4, ts, MS, i % 2 ? BLOCKED : RUNNING, IO, 5);
	overview_add(ov, OVERVIEW_THREAD, 4, ts, 3 * MS, SUSPENDED, -1, -1);
	ts += 3 * MS;
	struct overview_track *t = read_back(ov, "thread", 4);
	assert_int_equal(overview_track_width(t), INT64_C(1) << 19);
	/* at 2 ms a pixel, the 3 ms span is exact, the rest runs */
	struct entries *es = query(t, T0, ts, (ts - T0) / (2 * MS));
	const struct overview_entry *last = &es->e[es->n - 1];
	assert_int_equal(last->run, 0);
	assert_int_equal(last->state, SUSPENDED);
	assert_int_equal(last->dur, 3 * MS);
	int64_t ns[OVERVIEW_STATE_COUNT];
	time_per_state(es, ns);
	assert_near(ns[RUNNING], 1000 * MS, 0.002);
	assert_near(ns[BLOCKED], 1000 * MS, 0.002);
	free(es);
	/* at 0.5 ms a pixel, every 1 ms span is exact */
	es = query(t, T0 + 100 * MS, T0 + 200 * MS, 200);
	assert_int_equal(es->n, 100);
	for (size_t i = 0; i < es->n; i++) {
		assert_int_equal(es->e[i].run, 0);
		assert_int_equal(es->e[i].ts, T0 + (int64_t)(100 + i) * MS);
		assert_int_equal(es->e[i].state, i % 2 ? BLOCKED : RUNNING);
		assert_int_equal(es->e[i].reason, IO);
		assert_int_equal(es->e[i].object, 5);
	}
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void hours_long_tracks_keep_their_time_per_state(void **state)
{
	struct overview *ov = overview_new(0);
	/* 3 hours of 1 s Running, 2 s Blocked: buckets of 2^32 ns */
	int64_t ts = T0, s = 1000 * MS;
	for (int i = 0; i < 3600; i++, ts += 3 * s) {
		overview_add(ov, OVERVIEW_THREAD, 8, ts, s, RUNNING, -1, -1);
		overview_add(ov, OVERVIEW_THREAD, 8, ts + s, 2 * s, BLOCKED, SLEEP, -1);
	}
	struct overview_track *t = read_back(ov, "thread", 8);
	assert_int_equal(overview_track_width(t), INT64_C(1) << 32);
	struct entries *es = query(t, T0, ts, 500);
	int64_t ns[OVERVIEW_STATE_COUNT];
	time_per_state(es, ns);
	assert_near(ns[RUNNING], 3600 * s, 0.002);
	assert_near(ns[BLOCKED], 7200 * s, 0.002);
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void the_order_spans_arrive_in_does_not_matter(void **state)
{
	enum { N = 20000 };
	static int64_t ts[N], dur[N];
	int64_t at = T0;
	unsigned seed = 1;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		dur[i] = 1000 + (seed >> 8) % (i % 100 == 0 ? 5 * MS : 50 * US);
		ts[i] = at;
		at += dur[i];
	}
	struct overview *forward = overview_new(0), *backward = overview_new(0);
	for (int i = 0; i < N; i++) {
		overview_add(forward, OVERVIEW_THREAD, 5, ts[i], dur[i], i % 4, -1, i % 7);
		int k = N - 1 - i;
		overview_add(backward, OVERVIEW_THREAD, 5, ts[k], dur[k], k % 4, -1, k % 7);
	}
	struct row a, b;
	assert_int_equal(stored(forward, "thread", 5, &a), 0);
	assert_int_equal(stored(backward, "thread", 5, &b), 0);
	assert_int_equal(a.bucket_ns, b.bucket_ns);
	assert_int_equal(a.first, b.first);
	assert_int_equal(a.count, b.count);
	assert_int_equal(a.start, b.start);
	assert_int_equal(a.end, b.end);
	assert_int_equal(a.buckets_len, b.buckets_len);
	assert_memory_equal(a.buckets, b.buckets, a.buckets_len);
	assert_int_equal(a.long_spans_len, b.long_spans_len);
	assert_memory_equal(a.long_spans, b.long_spans, a.long_spans_len);
	row_free(&a);
	row_free(&b);
	overview_free(forward);
	overview_free(backward);
}

static void a_cpu_run_is_named_by_its_longest_slice(void **state)
{
	struct overview *ov = overview_new(0);
	int64_t ts = T0;
	for (int i = 0; i < 2000; i++) {
		overview_add(ov, OVERVIEW_CPU, 0, ts, 2 * US, READY, -1, 7);
		overview_add(ov, OVERVIEW_CPU, 0, ts + 2 * US, 6 * US, BLOCKED, -1, 9);
		ts += 10 * US; /* 2 us idle */
	}
	struct overview_track *t = read_back(ov, "cpu", 0);
	struct entries *es = query(t, T0, ts, 100);
	assert_true(es->n > 0);
	for (size_t i = 0; i < es->n; i++) {
		assert_int_equal(es->e[i].run, 1);
		assert_int_equal(es->e[i].top_object, 9);
		assert_int_equal(es->e[i].top_state, BLOCKED);
	}
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void idle_cpu_time_gives_no_entries(void **state)
{
	struct overview *ov = overview_new(0);
	for (int i = 0; i < 100; i++) {
		overview_add(ov, OVERVIEW_CPU, 1, T0 + i * 10 * US, 5 * US, READY, -1, 3);
		overview_add(ov, OVERVIEW_CPU, 1, T0 + 500 * MS + i * 10 * US, 5 * US, READY, -1,
			     4);
	}
	struct overview_track *t = read_back(ov, "cpu", 1);
	int64_t end = overview_track_end(t);
	struct entries *es = query(t, T0, end, 1000); /* 0.5 ms a pixel */
	assert_true(es->n >= 2);
	for (size_t i = 0; i < es->n; i++) {
		const struct overview_entry *e = &es->e[i];
		/* near the first ms or the ms after 500 ms, nothing between */
		int early = e->ts < T0 + 2 * MS, late = e->ts >= T0 + 499 * MS;
		assert_true(early || late);
		assert_int_equal(e->top_object, early ? 3 : 4);
	}
	free(es);
	overview_track_free(t);
	overview_free(ov);
}

static void over_its_budget_a_builder_makes_its_largest_tracks_coarser(void **state)
{
	size_t budget = 256 * 1024;
	struct overview *ov = overview_new(budget);
	/* 8 threads over 4 s: 8 x 3815 buckets of 40 bytes would be 1.2 MB */
	for (int u = 1; u <= 8; u++)
		for (int64_t ts = T0; ts < T0 + 4000 * MS; ts += 200 * US)
			assert_int_equal(overview_add(ov, OVERVIEW_THREAD, u, ts, 200 * US,
						      ts % 3 ? RUNNING : READY, -1, -1),
					 0);
	assert_true(overview_bytes(ov) <= budget);
	for (int u = 1; u <= 8; u++) {
		struct row r;
		assert_int_equal(stored(ov, "thread", u, &r), 0);
		assert_true(r.count < OVERVIEW_BUCKETS / 2);
		struct overview_track *t = decode("thread", u, &r);
		row_free(&r);
		assert_non_null(t);
		struct entries *es = query(t, T0, T0 + 4000 * MS, 100);
		int64_t ns[OVERVIEW_STATE_COUNT];
		time_per_state(es, ns);
		assert_near(ns[RUNNING] + ns[READY], 4000 * MS, 0.002);
		free(es);
		overview_track_free(t);
	}
	overview_free(ov);
}

static void ids_out_of_range_and_odd_values_are_taken_in_stride(void **state)
{
	struct overview *ov = overview_new(0);
	assert_int_equal(overview_add(ov, OVERVIEW_THREAD, -1, T0, US, RUNNING, -1, -1), 0);
	assert_int_equal(
	    overview_add(ov, OVERVIEW_THREAD, OVERVIEW_MAX_ID, T0, US, RUNNING, -1, -1), 0);
	/* negative ts from 0, unknown state and reason, no duration */
	assert_int_equal(overview_add(ov, OVERVIEW_PROCESS, 6, -5, 10, 99, 99, -7), 0);
	assert_int_equal(overview_add(ov, OVERVIEW_PROCESS, 6, 20, 0, RUNNING, -1, -1), 0);
	struct row r;
	assert_int_equal(stored(ov, "thread", OVERVIEW_MAX_ID, &r), -ENOENT);
	assert_int_equal(stored(ov, "process", 6, &r), 0);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.end, 20);
	assert_int_equal(r.spans, 2);
	row_free(&r);
	overview_free(ov);
}

static void malformed_rows_do_not_decode(void **state)
{
	struct overview *ov = overview_new(0);
	for (int i = 0; i < 100; i++)
		overview_add(ov, OVERVIEW_THREAD, 1, T0 + i * 100 * US, i % 10 ? 50 * US : 10 * MS,
			     RUNNING, -1, 3);
	struct row r;
	assert_int_equal(stored(ov, "thread", 1, &r), 0);
	assert_true(r.long_spans_len > 0);
	struct overview_track *t = decode("thread", 1, &r);
	assert_non_null(t);
	overview_track_free(t);
	struct row bad = r;
	assert_null(decode("fiber", 1, &bad));
	bad.bucket_ns = 3;
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.buckets_len--; /* truncated */
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.count++; /* a bucket missing */
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.count--; /* a byte left over */
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.long_spans_len--;
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.end = bad.start - 1;
	assert_null(decode("thread", 1, &bad));
	bad = r;
	bad.first = INT64_MAX / 2;
	assert_null(decode("thread", 1, &bad));
	row_free(&r);
	overview_free(ov);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(states_and_reasons_are_numbered_as_the_api_numbers_them),
	    cmocka_unit_test(short_spans_come_back_summed_per_state),
	    cmocka_unit_test(a_span_of_a_pixel_or_more_comes_back_exactly),
	    cmocka_unit_test(the_width_doubles_as_a_track_outgrows_its_buckets),
	    cmocka_unit_test(spans_longer_than_a_bucket_stay_whole_as_the_width_doubles),
	    cmocka_unit_test(hours_long_tracks_keep_their_time_per_state),
	    cmocka_unit_test(the_order_spans_arrive_in_does_not_matter),
	    cmocka_unit_test(a_cpu_run_is_named_by_its_longest_slice),
	    cmocka_unit_test(idle_cpu_time_gives_no_entries),
	    cmocka_unit_test(over_its_budget_a_builder_makes_its_largest_tracks_coarser),
	    cmocka_unit_test(ids_out_of_range_and_odd_values_are_taken_in_stride),
	    cmocka_unit_test(malformed_rows_do_not_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
