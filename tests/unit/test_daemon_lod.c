/* The in-memory timeline (daemon/lod.c): exact spans when zoomed in,
 * merged buckets when zoomed out, answers bounded by px, exact time per
 * state over any window, idle gaps never reported. Reference answers are
 * computed from the input spans directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lod.h"

struct span {
	int64_t ts, dur;
	int state, reason;
	int64_t object;
};

struct collected {
	struct lod_entry *e;
	size_t n, cap;
};

static int collect(void *ctx, const struct lod_entry *e)
{
	struct collected *c = ctx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->e = realloc(c->e, c->cap * sizeof(*c->e));
		assert_non_null(c->e);
	}
	c->e[c->n++] = *e;
	return 0;
}

static uint64_t rng = 12345;
static int64_t rnd(int64_t lo, int64_t hi)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

/* n tiling spans from t0 with random durations and states. */
static struct span *make_spans(size_t n, int64_t t0)
{
	struct span *s = calloc(n, sizeof(*s));
	int64_t ts = t0;
	for (size_t i = 0; i < n; i++) {
		s[i].ts = ts;
		s[i].dur = rnd(1, 5000);
		s[i].state = (int)rnd(LOD_NEW, LOD_BLOCKED);
		s[i].reason =
		    s[i].state == LOD_BLOCKED ? (int)rnd(0, OVERVIEW_REASON_COUNT - 1) : -1;
		s[i].object = s[i].state == LOD_BLOCKED ? rnd(1, 50) : -1;
		ts += s[i].dur;
	}
	return s;
}

static struct lod_track *make_track(const struct span *s, size_t n)
{
	struct lod_track *t = lod_track_new();
	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    lod_track_append(t, s[i].ts, s[i].dur, s[i].state, s[i].reason, s[i].object),
		    0);
	assert_int_equal(lod_track_seal(t), 0);
	return t;
}

static size_t overlapping(const struct span *s, size_t n, int64_t start, int64_t end)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i].ts < end && s[i].ts + s[i].dur > start;
	return k;
}

static void zoomed_in_returns_every_span_exactly(void **state)
{
	struct span *s = make_spans(1000, 100);
	struct lod_track *t = make_track(s, 1000);
	int64_t start = s[10].ts + 1, end = s[20].ts + 1;
	struct collected c = {0};
	/* one ns per pixel: every span is at least a pixel wide */
	assert_int_equal(lod_track_query(t, start, end, end - start, collect, &c), 0);
	assert_int_equal(c.n, 11);
	for (size_t i = 0; i < c.n; i++) {
		const struct span *x = &s[10 + i];
		assert_int_equal(c.e[i].n, 1);
		assert_true(c.e[i].ts == x->ts && c.e[i].dur == x->dur);
		assert_int_equal(c.e[i].state, x->state);
		assert_int_equal(c.e[i].reason, x->reason);
		assert_true(c.e[i].object == x->object);
	}
	free(c.e);
	lod_track_free(t);
	free(s);
}

static void zoomed_out_merges_and_accounts_for_every_span(void **state)
{
	size_t n = 200000;
	struct span *s = make_spans(n, 0);
	struct lod_track *t = make_track(s, n);
	int64_t end = s[n - 1].ts + s[n - 1].dur;
	int64_t windows[][2] = {{0, end}, {end / 3, end / 2}, {12345, 12345 + end / 100}};
	int64_t pxs[] = {1, 7, 100, 1000, 10000};
	for (size_t w = 0; w < 3; w++)
		for (size_t p = 0; p < 5; p++) {
			struct collected c = {0};
			int64_t a = windows[w][0], b = windows[w][1], px = pxs[p];
			assert_int_equal(lod_track_query(t, a, b, px, collect, &c), 0);
			/* bounded by the pixels, not by the spans */
			assert_true(c.n <= (size_t)(2 * px + 4));
			uint64_t total = 0;
			for (size_t i = 0; i < c.n; i++) {
				total += c.e[i].n;
				if (i > 0)
					assert_true(c.e[i].ts >= c.e[i - 1].ts + c.e[i - 1].dur);
				if (c.e[i].n > 1) {
					int64_t best = 0;
					for (int k = 0; k < LOD_STATE_COUNT; k++)
						best = c.e[i].mix[k] > best ? c.e[i].mix[k] : best;
					assert_true(c.e[i].mix[c.e[i].state] == best);
					assert_int_equal(c.e[i].reason, -1);
				}
			}
			assert_int_equal(total, overlapping(s, n, a, b));
			free(c.e);
		}
	lod_track_free(t);
	free(s);
}

static void time_per_state_is_exact_for_any_window(void **state)
{
	size_t n = 50000;
	struct span *s = make_spans(n, 1000);
	struct lod_track *t = make_track(s, n);
	int64_t end = s[n - 1].ts + s[n - 1].dur;
	for (int round = 0; round < 200; round++) {
		int64_t a = rnd(0, end), b = rnd(0, end + 100);
		if (a >= b)
			continue;
		int64_t got[LOD_STATE_COUNT] = {0}, want[LOD_STATE_COUNT] = {0};
		lod_track_time(t, a, b, got);
		for (size_t i = 0; i < n; i++) {
			int64_t lo = s[i].ts > a ? s[i].ts : a;
			int64_t hi = s[i].ts + s[i].dur < b ? s[i].ts + s[i].dur : b;
			if (hi > lo)
				want[s[i].state] += hi - lo;
		}
		assert_memory_equal(got, want, sizeof(got));
	}
	lod_track_free(t);
	free(s);
}

/* The answers of two tracks over random windows are the same. */
static void assert_same_answers(const struct lod_track *once, const struct lod_track *grown,
				int64_t end, int rounds)
{
	for (int round = 0; round < rounds; round++) {
		int64_t a = rnd(0, end), b = rnd(0, end + 100), px = rnd(1, 3000);
		if (a >= b)
			continue;
		int64_t t1[LOD_STATE_COUNT] = {0}, t2[LOD_STATE_COUNT] = {0};
		lod_track_time(once, a, b, t1);
		lod_track_time(grown, a, b, t2);
		assert_memory_equal(t1, t2, sizeof(t1));
		struct collected c1 = {0}, c2 = {0};
		assert_int_equal(lod_track_query(once, a, b, px, collect, &c1), 0);
		assert_int_equal(lod_track_query(grown, a, b, px, collect, &c2), 0);
		assert_int_equal(c1.n, c2.n);
		for (size_t i = 0; i < c1.n; i++) {
			const struct lod_entry *x = &c1.e[i], *y = &c2.e[i];
			assert_true(x->ts == y->ts && x->dur == y->dur && x->n == y->n);
			assert_true(x->state == y->state && x->reason == y->reason &&
				    x->object == y->object);
			if (x->n > 1) { /* a merged run: its mix and longest span */
				assert_memory_equal(x->mix, y->mix, sizeof(x->mix));
				assert_true(x->top_state == y->top_state &&
					    x->top_object == y->top_object);
			}
		}
		free(c1.e);
		free(c2.e);
	}
}

/* A live trace's track: appended to in pieces, sealed (growing) after
 * each, some pieces with idle gaps. After every seal, every answer is the
 * one of the same spans appended at once and sealed. */
static void a_track_sealed_as_it_grows_answers_as_one_sealed_once(void **state)
{
	size_t n = 40000;
	struct span *s = make_spans(n, 1000);
	for (size_t i = 0; i < n; i += 97) /* gaps: idle spans inside the track */
		s[i].ts += 50;
	for (size_t i = 1; i < n; i++)
		if (s[i].ts < s[i - 1].ts + s[i - 1].dur)
			s[i].ts = s[i - 1].ts + s[i - 1].dur;
	struct lod_track *grown = lod_track_new();
	assert_non_null(grown);
	for (size_t i = 0, piece = 1; i < n; piece = piece * 3 % 2000 + 1) {
		for (size_t k = 0; k < piece && i < n; k++, i++)
			assert_int_equal(lod_track_append(grown, s[i].ts, s[i].dur, s[i].state,
							  s[i].reason, s[i].object),
					 0);
		assert_int_equal(lod_track_seal_growing(grown), 0);
		struct lod_track *once = make_track(s, i);
		assert_same_answers(once, grown, s[i - 1].ts + s[i - 1].dur, 20);
		lod_track_free(once);
	}
	lod_track_free(grown);
	free(s);
}

static void gaps_are_never_returned(void **state)
{
	/* a CPU: slices with idle time between them */
	struct lod_track *t = lod_track_new();
	assert_int_equal(lod_track_append(t, 100, 50, LOD_READY, -1, 7), 0);
	assert_int_equal(lod_track_append(t, 400, 100, LOD_BLOCKED, -1, 8), 0);
	assert_int_equal(lod_track_seal(t), 0);
	struct collected c = {0};
	assert_int_equal(lod_track_query(t, 0, 1000, 1000, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.e[0].ts == 100 && c.e[0].dur == 50 && c.e[0].object == 7);
	assert_true(c.e[1].ts == 400 && c.e[1].dur == 100 && c.e[1].object == 8);
	int64_t ns[LOD_STATE_COUNT] = {0};
	lod_track_time(t, 0, 1000, ns);
	assert_true(ns[LOD_READY] == 50 && ns[LOD_BLOCKED] == 100);
	free(c.e);
	lod_track_free(t);
}

static void spans_out_of_order_are_placed_by_time(void **state)
{
	struct lod_track *t = lod_track_new();
	assert_int_equal(lod_track_append(t, 0, 10, LOD_RUNNING, -1, -1), 0);
	assert_int_equal(lod_track_append(t, 20, 10, LOD_READY, -1, -1), 0);
	assert_int_equal(lod_track_append(t, 10, 10, LOD_BLOCKED, 0, 3), 0);
	assert_int_equal(lod_track_seal(t), 0);
	struct collected c = {0};
	assert_int_equal(lod_track_query(t, 0, 30, 30, collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.e[1].state, LOD_BLOCKED);
	assert_true(c.e[1].ts == 10 && c.e[1].dur == 10);
	free(c.e);
	lod_track_free(t);
}

static void spans_seconds_apart_keep_exact_timestamps(void **state)
{
	/* blocks of spans far more than 2^32 ns apart (long sleeps) */
	size_t n = 1000;
	struct span *s = make_spans(n, 1);
	int64_t ts = 1;
	for (size_t i = 0; i < n; i++) {
		if (i % 97 == 0)
			s[i].dur = 9000000000LL + (int64_t)i;
		s[i].ts = ts;
		ts += s[i].dur;
	}
	struct lod_track *t = make_track(s, n);
	struct collected c = {0};
	assert_int_equal(lod_track_query(t, 0, ts, ts, collect, &c), 0);
	assert_int_equal(c.n, n);
	for (size_t i = 0; i < n; i++)
		assert_true(c.e[i].ts == s[i].ts && c.e[i].dur == s[i].dur);
	int64_t got[LOD_STATE_COUNT] = {0}, want[LOD_STATE_COUNT] = {0};
	lod_track_time(t, s[50].ts + 7, s[900].ts + 3, got);
	for (size_t i = 50; i <= 900; i++) {
		int64_t lo = i == 50 ? s[i].ts + 7 : s[i].ts;
		int64_t hi = i == 900 ? s[i].ts + 3 : s[i].ts + s[i].dur;
		want[s[i].state] += hi - lo;
	}
	assert_memory_equal(got, want, sizeof(got));
	free(c.e);
	lod_track_free(t);
	free(s);
}

static void merged_entries_name_their_longest_span(void **state)
{
	/* short Running spans, and every 1000th a Blocked one at least four
	 * times longer than any other, each longer than the one before, on
	 * object 1000 + its number */
	size_t n = 100000;
	struct span *s = make_spans(n, 0);
	int64_t ts = 0;
	for (size_t i = 0; i < n; i++) {
		int special = i % 1000 == 500;
		s[i].ts = ts;
		s[i].dur = special ? 40 + (int64_t)(i / 1000) : rnd(1, 10);
		s[i].state = special ? LOD_BLOCKED : LOD_RUNNING;
		s[i].reason = special ? 0 : -1;
		s[i].object = special ? 1000 + (int64_t)(i / 1000) : -1;
		ts += s[i].dur;
	}
	struct lod_track *t = make_track(s, n);
	/* pixels of 60 to 40000 ns: spans only, level-0 buckets up to two
	 * pixels wide (w0 is 256 here), finer ones, coarser levels */
	int64_t pxs[] = {ts / 60, ts / 200, ts / 300, ts / 600, ts / 5000, ts / 40000};
	for (size_t p = 0; p < sizeof(pxs) / sizeof(pxs[0]); p++) {
		struct collected c = {0};
		assert_int_equal(lod_track_query(t, 0, ts, pxs[p], collect, &c), 0);
		size_t k = 500, named = 0;
		for (size_t i = 0; i < c.n; i++) {
			const struct lod_entry *e = &c.e[i];
			while (k < n && s[k].ts < e->ts)
				k += 1000;
			if (e->n < 2 || k >= n || s[k].ts + s[k].dur > e->ts + e->dur)
				continue; /* no special span inside this entry */
			/* the last one inside is the longest */
			while (k + 1000 < n && s[k + 1000].ts + s[k + 1000].dur <= e->ts + e->dur)
				k += 1000;
			assert_int_equal(e->top_state, LOD_BLOCKED);
			assert_true(e->top_object == s[k].object);
			named++;
		}
		assert_true(named > 0);
		free(c.e);
	}
	lod_track_free(t);
	free(s);
}

/* A CPU-like track: n slices of dur 1..50 with gaps of 0..30 between. */
static struct span *make_slices(size_t n)
{
	struct span *s = calloc(n, sizeof(*s));
	int64_t ts = 10;
	for (size_t i = 0; i < n; i++) {
		s[i].ts = ts;
		s[i].dur = rnd(1, 50);
		s[i].state = (int)rnd(LOD_RUNNING, LOD_BLOCKED);
		s[i].reason = -1;
		s[i].object = (int64_t)rnd(1, 9);
		ts += s[i].dur + rnd(0, 30);
	}
	return s;
}

static void runs_over_idle_gaps_count_only_real_spans(void **state)
{
	size_t n = 30000; /* ~200 blocks of 256 spans, idle ones among them */
	struct span *s = make_slices(n);
	struct lod_track *t = make_track(s, n);
	int64_t end = s[n - 1].ts + s[n - 1].dur;
	int64_t windows[][2] = {{0, end}, {end / 7, end / 3}, {s[300].ts + 1, s[9000].ts}};
	int64_t pxs[] = {3, 100, 1000, 5000};
	for (size_t w = 0; w < 3; w++)
		for (size_t p = 0; p < 4; p++) {
			struct collected c = {0};
			int64_t a = windows[w][0], b = windows[w][1];
			assert_int_equal(lod_track_query(t, a, b, pxs[p], collect, &c), 0);
			uint64_t total = 0;
			for (size_t i = 0; i < c.n; i++)
				total += c.e[i].n;
			assert_int_equal(total, overlapping(s, n, a, b));
			free(c.e);
		}
	lod_track_free(t);
	free(s);
}

static void spans_of_one_state_are_returned_exactly(void **state)
{
	size_t n = 20000;
	struct span *s = make_slices(n);
	struct lod_track *t = make_track(s, n);
	int64_t end = s[n - 1].ts + s[n - 1].dur;
	for (int round = 0; round < 20; round++) {
		int64_t a = rnd(0, end), b = rnd(0, end + 100);
		if (a >= b)
			continue;
		struct collected c = {0};
		assert_int_equal(lod_track_each_state(t, a, b, LOD_BLOCKED, collect, &c), 0);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i].state != LOD_BLOCKED || s[i].ts >= b || s[i].ts + s[i].dur <= a)
				continue;
			assert_true(k < c.n);
			assert_true(c.e[k].ts == s[i].ts && c.e[k].dur == s[i].dur);
			assert_true(c.e[k].object == s[i].object && c.e[k].n == 1);
			assert_int_equal(c.e[k].state, LOD_BLOCKED);
			k++;
		}
		assert_int_equal(k, c.n);
		free(c.e);
	}
	lod_track_free(t);
	free(s);
}

static void appends_after_a_seal_keep_every_object(void **state)
{
	/* a live trace: sealed, then appended to, some spans late */
	size_t n = 3000;
	struct span *s = make_spans(n, 5);
	for (size_t i = 0; i < n; i++)
		s[i].object = i % 3 == 0 ? -1 : (int64_t)(i * 7);
	struct lod_track *t = lod_track_new();
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		size_t k = i % 500 == 499 ? i - 1 : i % 500 == 498 ? i + 1 : i; /* swap pairs */
		assert_int_equal(
		    lod_track_append(t, s[k].ts, s[k].dur, s[k].state, s[k].reason, s[k].object),
		    0);
		if (i == 333 || i == 1700)
			assert_int_equal(lod_track_seal(t), 0);
	}
	assert_int_equal(lod_track_seal(t), 0);
	struct collected c = {0};
	assert_int_equal(lod_track_each(t, 0, INT64_MAX, collect, &c), 0);
	assert_int_equal(c.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(c.e[i].ts == s[i].ts && c.e[i].dur == s[i].dur);
		assert_true(c.e[i].object == s[i].object);
		assert_int_equal(c.e[i].state, s[i].state);
	}
	free(c.e);
	lod_track_free(t);
	free(s);
}

static void hostile_times_are_dropped_or_cut_and_wide_windows_stay_bounded(void **state)
{
	struct lod_track *t = lod_track_new();
	assert_non_null(t);
	assert_int_equal(lod_track_append(t, INT64_MIN, 10, LOD_RUNNING, -1, -1), 0);
	assert_int_equal(lod_track_append(t, 0, 100, LOD_RUNNING, -1, -1), 0);
	assert_int_equal(lod_track_append(t, 100, INT64_MAX, LOD_BLOCKED, 1, 7), 0);
	assert_int_equal(lod_track_append(t, INT64_MAX, INT64_MAX, LOD_READY, -1, -1), 0);
	assert_int_equal(lod_track_seal(t), 0);
	assert_int_equal(lod_track_spans(t), 2);
	assert_true(lod_track_end(t) == LOD_TS_MAX);
	for (int64_t px = 1; px <= 10000; px *= 10) {
		struct collected c = {0};
		assert_int_equal(lod_track_query(t, -1, ((int64_t)1 << 62) - 1, px, collect, &c),
				 0);
		assert_in_range(c.n, 1, 2);
		free(c.e);
	}
	int64_t ns[LOD_STATE_COUNT] = {0};
	lod_track_time(t, -LOD_TS_MAX, LOD_TS_MAX, ns);
	assert_true(ns[LOD_RUNNING] == 100);
	assert_true(ns[LOD_BLOCKED] == LOD_TS_MAX - 100);
	lod_track_free(t);
}

static void names_map_to_indexes(void **state)
{
	assert_int_equal(overview_state_index("Blocked"), LOD_BLOCKED);
	assert_int_equal(overview_state_index("Suspended"), LOD_SUSPENDED);
	assert_int_equal(overview_state_index("nonsense"), -1);
	assert_int_equal(overview_state_index(NULL), -1);
	assert_int_equal(overview_reason_index("mutex"), 0);
	assert_int_equal(overview_reason_index("other"), 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(zoomed_in_returns_every_span_exactly),
	    cmocka_unit_test(zoomed_out_merges_and_accounts_for_every_span),
	    cmocka_unit_test(time_per_state_is_exact_for_any_window),
	    cmocka_unit_test(gaps_are_never_returned),
	    cmocka_unit_test(spans_out_of_order_are_placed_by_time),
	    cmocka_unit_test(spans_seconds_apart_keep_exact_timestamps),
	    cmocka_unit_test(merged_entries_name_their_longest_span),
	    cmocka_unit_test(runs_over_idle_gaps_count_only_real_spans),
	    cmocka_unit_test(spans_of_one_state_are_returned_exactly),
	    cmocka_unit_test(appends_after_a_seal_keep_every_object),
	    cmocka_unit_test(a_track_sealed_as_it_grows_answers_as_one_sealed_once),
	    cmocka_unit_test(hostile_times_are_dropped_or_cut_and_wide_windows_stay_bounded),
	    cmocka_unit_test(names_map_to_indexes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
