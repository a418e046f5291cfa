/*
 * test_collect_lockgraph.c — the lock-order graph: a cycle of orders is
 * reported once, with one edge per member, unless a gate lock serializes
 * it or its locks are read locks that cannot block each other; a bound
 * drops and counts what it cannot keep.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lockgraph.h"

struct reports {
	int count;
	struct lockgraph_cycle last;
};

static void on_cycle(void *ctx, const struct lockgraph_cycle *cycle)
{
	struct reports *reports = ctx;
	reports->count++;
	reports->last = *cycle;
}

/* Add from -> to by utid (held: the other locks, ended by -1). Returns how
 * many cycles that reported. */
static int order(struct lockgraph *graph, struct reports *reports, int64_t from, int64_t to,
		 int64_t utid, bool from_read, bool to_read, const int64_t *held)
{
	struct lockgraph_edge edge = {.from = from,
				      .to = to,
				      .utid = utid,
				      .ts = 1000 + utid,
				      .from_read = from_read,
				      .to_read = to_read};
	for (; held && *held >= 0; held++)
		edge.held[edge.held_count++] = *held;
	const struct lockgraph_edge *stored;
	int rc = lockgraph_add(graph, &edge, &stored);
	if (rc <= 0)
		return rc;
	int before = reports->count;
	lockgraph_cycles(graph, stored, on_cycle, reports);
	return reports->count - before;
}

static void opposite_orders_of_two_threads_are_one_cycle_of_two(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	assert_int_equal(order(graph, &reports, 1, 2, 10, false, false, NULL), 0);
	assert_int_equal(order(graph, &reports, 2, 1, 11, false, false, NULL), 1);
	assert_int_equal(reports.last.count, 2);
	assert_int_equal(reports.last.edges[0]->from, 2);
	assert_int_equal(reports.last.edges[0]->utid, 11);
	assert_int_equal(reports.last.edges[1]->from, 1);
	assert_int_equal(reports.last.edges[1]->utid, 10);
	/* A third thread showing the same order again: the same cycle. */
	assert_int_equal(order(graph, &reports, 2, 1, 12, false, false, NULL), 0);
	/* The same thread showing a pair again is not a new edge. */
	assert_int_equal(order(graph, &reports, 1, 2, 10, false, false, NULL), 0);
	assert_int_equal(reports.count, 1);
	lockgraph_free(graph);
}

static void a_ring_of_three_is_one_cycle_of_three(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	order(graph, &reports, 1, 2, 10, false, false, NULL);
	order(graph, &reports, 2, 3, 11, false, false, NULL);
	assert_int_equal(order(graph, &reports, 3, 1, 12, false, false, NULL), 1);
	assert_int_equal(reports.last.count, 3);
	assert_int_equal(reports.last.edges[0]->from, 3);
	assert_int_equal(reports.last.edges[1]->from, 1);
	assert_int_equal(reports.last.edges[2]->from, 2);
	lockgraph_free(graph);
}

static void a_gate_lock_held_around_both_orders_serializes_them(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	const int64_t gate[] = {9, -1};
	assert_int_equal(order(graph, &reports, 1, 2, 10, false, false, gate), 0);
	assert_int_equal(order(graph, &reports, 2, 1, 11, false, false, gate), 0);
	/* A third thread takes the same order without the gate: now it can
	 * deadlock with the first. */
	assert_int_equal(order(graph, &reports, 2, 1, 12, false, false, NULL), 1);
	assert_int_equal(reports.last.edges[0]->utid, 12);
	lockgraph_free(graph);
}

static void read_locks_do_not_block_each_other(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	assert_int_equal(order(graph, &reports, 1, 2, 10, true, true, NULL), 0);
	assert_int_equal(order(graph, &reports, 2, 1, 11, true, true, NULL), 0);
	/* A writer of lock 1 holding lock 2 waits for the first reader, and
	 * that reader (wanting lock 2 for reading) waits for the writer. */
	assert_int_equal(order(graph, &reports, 2, 1, 12, false, false, NULL), 1);
	lockgraph_free(graph);
}

static void a_lock_taken_again_while_held_is_no_order(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	assert_int_equal(order(graph, &reports, 1, 1, 10, false, false, NULL), 0);
	assert_int_equal(reports.count, 0);
	lockgraph_free(graph);
}

static void a_million_pairs_stay_bounded_and_are_counted(void **state)
{
	(void)state;
	struct lockgraph *graph = lockgraph_new();
	struct reports reports = {0};
	int full = 0;
	for (int64_t i = 0; i < 1000000; i++)
		if (order(graph, &reports, i % 1000, 1000 + i, 1, false, false, NULL) == -ENOSPC)
			full++;
	assert_int_equal(full, 1000000 - LOCKGRAPH_MAX_EDGES);
	assert_int_equal(lockgraph_dropped(graph), 1000000 - LOCKGRAPH_MAX_EDGES);
	assert_int_equal(reports.count, 0);
	lockgraph_free(graph);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(opposite_orders_of_two_threads_are_one_cycle_of_two),
	    cmocka_unit_test(a_ring_of_three_is_one_cycle_of_three),
	    cmocka_unit_test(a_gate_lock_held_around_both_orders_serializes_them),
	    cmocka_unit_test(read_locks_do_not_block_each_other),
	    cmocka_unit_test(a_lock_taken_again_while_held_is_no_order),
	    cmocka_unit_test(a_million_pairs_stay_bounded_and_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
