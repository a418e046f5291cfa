/*
 * test_collect_span.c — the span builder: thread spans tile a thread's
 * life, identical neighbours merge, process states follow their threads,
 * and switch records refine 'calls' mode without changing how spans tile;
 * in sampled mode (schedstat), CPU counter deltas split the time outside
 * calls into Running, Ready and Blocked 'other'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "span.h"

struct spans {
	struct span items[256];
	int count;
};

static void collect(void *ctx, const struct span *span)
{
	struct spans *spans = ctx;
	assert_true(spans->count < 256);
	spans->items[spans->count++] = *span;
}

/* The spans of one owner, in time order. */
static int spans_of(const struct spans *all, bool is_process, int64_t id, struct span *out)
{
	int n = 0;
	for (int i = 0; i < all->count; i++)
		if (all->items[i].is_process == is_process && all->items[i].id == id)
			out[n++] = all->items[i];
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j].ts < out[j - 1].ts; j--) {
			struct span t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* The spans of the owner tile [start, end): no gap, no overlap, no empty
 * span, no two identical neighbours. Returns the count. */
static int assert_tiles(const struct spans *all, bool is_process, int64_t id, int64_t start,
			int64_t end, struct span *out)
{
	int n = spans_of(all, is_process, id, out);
	assert_true(n > 0);
	assert_int_equal(out[0].ts, start);
	for (int i = 0; i < n; i++) {
		assert_true(out[i].dur > 0);
		if (i) {
			assert_int_equal(out[i - 1].ts + out[i - 1].dur, out[i].ts);
			assert_false(out[i - 1].state == out[i].state &&
				     out[i - 1].reason == out[i].reason &&
				     out[i - 1].object_id == out[i].object_id &&
				     out[i - 1].cpu == out[i].cpu);
		}
	}
	assert_int_equal(out[n - 1].ts + out[n - 1].dur, end);
	return n;
}

static void thread_is_new_then_running_then_blocked_in_calls_mode(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 50);
	span_process_start(p, 60);
	struct span_thread *t = span_thread_new(p, 7, 100);
	span_thread_start(t, 150);
	span_thread_call_begin(t, 200, WEFT_REASON_MUTEX, 3, 9);
	span_thread_call_end(t, 300);
	span_thread_end(t, 400);
	span_process_end(p, 450);

	assert_int_equal(assert_tiles(&all, false, 7, 100, 400, s), 4);
	assert_int_equal(s[0].state, SPAN_NEW);
	assert_int_equal(s[1].state, SPAN_RUNNING);
	assert_int_equal(s[2].state, SPAN_BLOCKED);
	assert_int_equal(s[2].reason, WEFT_REASON_MUTEX);
	assert_int_equal(s[2].object_id, 3);
	assert_int_equal(s[2].holder_id, 9);
	assert_int_equal(s[2].ts, 200);
	assert_int_equal(s[2].dur, 100);
	assert_int_equal(s[3].state, SPAN_RUNNING);
	span_process_free(p);
}

static void identical_neighbours_merge_and_empty_spans_vanish(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *t = span_thread_new(p, 1, 0);
	span_thread_start(t, 0);
	/* A wait that ends at once is no transition. */
	span_thread_call_begin(t, 100, WEFT_REASON_SLEEP, -1, -1);
	span_thread_call_end(t, 100);
	/* Two waits on the same object back to back are one Blocked span. */
	span_thread_call_begin(t, 200, WEFT_REASON_SEM, 5, -1);
	span_thread_call_end(t, 300);
	span_thread_call_begin(t, 300, WEFT_REASON_SEM, 5, -1);
	span_thread_call_end(t, 400);
	/* A different object is a different span. */
	span_thread_call_begin(t, 400, WEFT_REASON_SEM, 6, -1);
	span_thread_call_end(t, 450);
	span_process_end(p, 500);

	assert_int_equal(assert_tiles(&all, false, 1, 0, 500, s), 4);
	assert_int_equal(s[0].state, SPAN_RUNNING);
	assert_int_equal(s[0].dur, 200);
	assert_int_equal(s[1].state, SPAN_BLOCKED);
	assert_int_equal(s[1].ts, 200);
	assert_int_equal(s[1].dur, 200);
	assert_int_equal(s[2].object_id, 6);
	assert_int_equal(s[3].state, SPAN_RUNNING);
	span_process_free(p);
}

static void process_is_waiting_only_when_every_live_thread_is_blocked(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 4, 0);
	struct span_thread *main = span_thread_new(p, 1, 0);
	span_process_start(p, 10);
	span_thread_start(main, 10);
	struct span_thread *worker = span_thread_new(p, 2, 20);
	span_thread_start(worker, 30);
	span_thread_call_begin(main, 40, WEFT_REASON_JOIN, -1, -1); /* worker still runs */
	span_thread_call_begin(worker, 50, WEFT_REASON_SLEEP, -1, -1);
	span_thread_call_end(worker, 70);
	span_thread_end(worker, 80);
	span_thread_call_end(main, 90);
	span_process_end(p, 100);

	/* New 0-10, Running 10-50 (one of the two runs), Waiting 50-70 (both
	 * blocked), Running 70-80, Waiting 80-90 (worker gone, main joins),
	 * Running 90-100. */
	int n = assert_tiles(&all, true, 4, 0, 100, s);
	assert_int_equal(n, 6);
	enum span_state expected[] = {SPAN_NEW,	    SPAN_RUNNING, SPAN_WAITING,
				      SPAN_RUNNING, SPAN_WAITING, SPAN_RUNNING};
	int64_t starts[] = {0, 10, 50, 70, 80, 90};
	for (int i = 0; i < n; i++) {
		assert_int_equal(s[i].state, expected[i]);
		assert_int_equal(s[i].ts, starts[i]);
	}
	span_process_free(p);
}

static void process_waits_again_after_running_thread_ends(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 4, 0);
	span_process_start(p, 0);
	struct span_thread *main = span_thread_new(p, 1, 0);
	span_thread_start(main, 0);
	struct span_thread *worker = span_thread_new(p, 2, 0);
	span_thread_start(worker, 0);
	span_thread_call_begin(main, 10, WEFT_REASON_JOIN, -1, -1);
	span_thread_end(worker, 20);
	span_thread_call_end(main, 30);
	span_process_end(p, 40);

	assert_int_equal(assert_tiles(&all, true, 4, 0, 40, s), 3);
	assert_int_equal(s[1].state, SPAN_WAITING);
	assert_int_equal(s[1].ts, 20);
	assert_int_equal(s[1].dur, 10);
	span_process_free(p);
}

static void switch_records_give_cpu_ready_and_blocked_other(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *t = span_thread_new(p, 1, 0);
	span_thread_start(t, 0);
	span_thread_switch_in(t, 10, 1);
	span_thread_switch_out(t, 20, true); /* preempted */
	span_thread_switch_in(t, 30, 0);
	span_thread_call_begin(t, 40, WEFT_REASON_MUTEX, 8, -1); /* still on cpu */
	span_thread_switch_out(t, 50, false);			 /* sleeps on the mutex */
	span_thread_switch_in(t, 60, 0);
	span_thread_call_end(t, 65);
	span_thread_switch_out(t, 70, false); /* page fault */
	span_thread_switch_in(t, 80, 0);
	span_process_end(p, 90);

	int n = assert_tiles(&all, false, 1, 0, 90, s);
	assert_int_equal(n, 8);
	assert_int_equal(s[0].state, SPAN_RUNNING); /* calls mode until the first switch */
	assert_int_equal(s[0].cpu, -1);
	assert_int_equal(s[1].state, SPAN_RUNNING);
	assert_int_equal(s[1].cpu, 1);
	assert_int_equal(s[2].state, SPAN_READY);
	assert_int_equal(s[3].state, SPAN_RUNNING);
	assert_int_equal(s[3].ts, 30);
	assert_int_equal(s[3].dur, 20); /* the call in progress does not cut it */
	assert_int_equal(s[4].state, SPAN_BLOCKED);
	assert_int_equal(s[4].reason, WEFT_REASON_MUTEX);
	assert_int_equal(s[4].object_id, 8);
	assert_int_equal(s[5].state, SPAN_RUNNING);
	assert_int_equal(s[5].ts, 60);
	assert_int_equal(s[6].state, SPAN_BLOCKED);
	assert_int_equal(s[6].reason, WEFT_REASON_OTHER);

	/* Ready thread, none running: the process is Ready. */
	struct span ps[64];
	int pn = spans_of(&all, true, 1, ps);
	bool saw_ready = false;
	for (int i = 0; i < pn; i++)
		if (ps[i].state == SPAN_READY && ps[i].ts == 20 && ps[i].dur == 10)
			saw_ready = true;
	assert_true(saw_ready);
	span_process_free(p);
}

static void late_timestamps_never_break_the_tiling(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *a = span_thread_new(p, 1, 0);
	span_thread_start(a, 0);
	span_thread_call_begin(a, 100, WEFT_REASON_IO, 2, -1);
	struct span_thread *b = span_thread_new(p, 2, 0);
	span_thread_start(b, 50);
	/* b's record sorted after a's later one: process clamps. */
	span_thread_call_begin(b, 90, WEFT_REASON_IO, 3, -1);
	span_thread_call_end(a, 80); /* earlier than a's open span: clamped */
	span_process_end(p, 200);

	assert_tiles(&all, false, 1, 0, 200, s);
	assert_tiles(&all, false, 2, 0, 200, s);
	assert_tiles(&all, true, 1, 0, 200, s);
	span_process_free(p);
}

static void ending_a_process_ends_its_threads_at_its_end(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 5);
	struct span_thread *t = span_thread_new(p, 3, 0);
	span_thread_start(t, 5);
	span_thread_call_begin(t, 10, WEFT_REASON_POLL, -1, -1);
	span_process_end(p, 30); /* SIGKILL while blocked: no THREAD_EXIT */
	assert_true(span_thread_ended(t));
	assert_int_equal(span_thread_last_ts(t), 30);
	int n = assert_tiles(&all, false, 3, 0, 30, s);
	assert_int_equal(s[n - 1].state, SPAN_BLOCKED);
	assert_int_equal(s[n - 1].reason, WEFT_REASON_POLL);
	assert_string_equal(span_state_name(SPAN_WAITING), "Waiting");
	span_process_free(p);
}

/* Expect span i of s to be [ts, ts + dur) in state (and reason). */
static void assert_span(const struct span *s, int64_t ts, int64_t dur, enum span_state state,
			unsigned reason)
{
	assert_int_equal(s->ts, ts);
	assert_int_equal(s->dur, dur);
	assert_int_equal(s->state, state);
	assert_int_equal(s->reason, reason);
}

static void sample_splits_time_outside_calls_running_then_ready_then_other(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *t = span_thread_new(p, 7, 0);
	assert_int_equal(span_thread_use_samples(t), 0);
	span_thread_start(t, 0);
	span_thread_call_begin(t, 40, WEFT_REASON_SLEEP, -1, -1);
	span_thread_call_end(t, 60);
	/* 80 ns outside the call: 30 ran, 20 waited for a CPU, 30 unknown. */
	span_thread_sample(t, 100, 30, 20);
	span_thread_end(t, 100);
	span_process_end(p, 100);

	int n = assert_tiles(&all, false, 7, 0, 100, s);
	assert_int_equal(n, 7);
	assert_span(&s[0], 0, 15, SPAN_RUNNING, WEFT_REASON_NONE);
	assert_span(&s[1], 15, 10, SPAN_READY, WEFT_REASON_NONE);
	assert_span(&s[2], 25, 15, SPAN_BLOCKED, WEFT_REASON_OTHER);
	assert_span(&s[3], 40, 20, SPAN_BLOCKED, WEFT_REASON_SLEEP);
	assert_span(&s[4], 60, 15, SPAN_RUNNING, WEFT_REASON_NONE);
	assert_span(&s[5], 75, 10, SPAN_READY, WEFT_REASON_NONE);
	assert_span(&s[6], 85, 15, SPAN_BLOCKED, WEFT_REASON_OTHER);
	span_process_free(p);
}

static void ready_time_reported_late_turns_earlier_other_time_ready(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *t = span_thread_new(p, 7, 0);
	assert_int_equal(span_thread_use_samples(t), 0);
	span_thread_start(t, 0);
	span_thread_sample(t, 100, 20, 0);   /* waiting since 20, not counted yet */
	span_thread_sample(t, 200, 10, 150); /* the wait ended at 110: 60 too many */
	span_thread_end(t, 200);
	span_process_end(p, 200);

	int n = assert_tiles(&all, false, 7, 0, 200, s);
	assert_int_equal(n, 5);
	assert_span(&s[0], 0, 20, SPAN_RUNNING, WEFT_REASON_NONE);
	assert_span(&s[1], 20, 20, SPAN_BLOCKED, WEFT_REASON_OTHER);
	assert_span(&s[2], 40, 60, SPAN_READY, WEFT_REASON_NONE);
	assert_span(&s[3], 100, 10, SPAN_RUNNING, WEFT_REASON_NONE);
	assert_span(&s[4], 110, 90, SPAN_READY, WEFT_REASON_NONE);
	span_process_free(p);
}

static void counters_beyond_the_interval_are_capped_and_the_tail_stays_running(void **state)
{
	struct spans all = {0};
	struct span s[64];
	struct span_process *p = span_process_new(collect, &all, 1, 0);
	span_process_start(p, 0);
	struct span_thread *t = span_thread_new(p, 7, 0);
	assert_int_equal(span_thread_use_samples(t), 0);
	span_thread_start(t, 0);
	span_thread_call_begin(t, 50, WEFT_REASON_IO, -1, -1);
	/* it ran 500 inside a 100 ns interval (a call that did not block) */
	span_thread_sample(t, 100, 500, 0);
	span_thread_call_end(t, 120);
	span_thread_end(t, 150); /* no sample after 100: 'calls' Running */
	span_process_end(p, 150);

	int n = assert_tiles(&all, false, 7, 0, 150, s);
	assert_int_equal(n, 3);
	assert_span(&s[0], 0, 50, SPAN_RUNNING, WEFT_REASON_NONE);
	assert_span(&s[1], 50, 70, SPAN_BLOCKED, WEFT_REASON_IO);
	assert_span(&s[2], 120, 30, SPAN_RUNNING, WEFT_REASON_NONE);
	span_process_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(thread_is_new_then_running_then_blocked_in_calls_mode),
	    cmocka_unit_test(identical_neighbours_merge_and_empty_spans_vanish),
	    cmocka_unit_test(process_is_waiting_only_when_every_live_thread_is_blocked),
	    cmocka_unit_test(process_waits_again_after_running_thread_ends),
	    cmocka_unit_test(switch_records_give_cpu_ready_and_blocked_other),
	    cmocka_unit_test(late_timestamps_never_break_the_tiling),
	    cmocka_unit_test(ending_a_process_ends_its_threads_at_its_end),
	    cmocka_unit_test(sample_splits_time_outside_calls_running_then_ready_then_other),
	    cmocka_unit_test(ready_time_reported_late_turns_earlier_other_time_ready),
	    cmocka_unit_test(counters_beyond_the_interval_are_capped_and_the_tail_stays_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
