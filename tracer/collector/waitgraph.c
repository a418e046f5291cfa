/*
 * waitgraph.c — the wait-for graph of waitgraph.h.
 *
 * One `struct wait` per waiting thread, in a table keyed (utid, 0); a
 * thread waits for at most one lock at a time, so each node has at most one
 * outgoing edge and a cycle is found by walking holders from the new
 * waiter.
 */
#include "waitgraph.h"

#include <errno.h>
#include <stdlib.h>

#include "table.h"

struct wait {
	int64_t utid;
	int64_t object_id;
	int64_t holder_utid;
	int64_t ts;
	int64_t deadlock_id; /* 0: not part of a reported cycle */
};

struct waitgraph {
	struct table *waits;
};

struct waitgraph *waitgraph_new(void)
{
	struct waitgraph *graph = calloc(1, sizeof *graph);
	if (!graph)
		return NULL;
	graph->waits = table_new();
	if (!graph->waits) {
		free(graph);
		return NULL;
	}
	return graph;
}

static void free_wait(void *ctx, void *value)
{
	(void)ctx;
	free(value);
}

void waitgraph_free(struct waitgraph *graph)
{
	if (!graph)
		return;
	table_each(graph->waits, free_wait, NULL);
	table_free(graph->waits);
	free(graph);
}

static struct wait *wait_of(const struct waitgraph *graph, int64_t utid)
{
	return table_get(graph->waits, (uint64_t)utid, 0);
}

/* Follow holders from start's wait; fill cycle when they lead back to
 * start. Returns 1 (cycle) or 0. */
static int find_cycle(const struct waitgraph *graph, const struct wait *start,
		      struct waitgraph_cycle *cycle)
{
	const struct wait *at = start;
	size_t count = 0;
	while (count < WAITGRAPH_MAX_CYCLE) {
		cycle->members[count++] = (struct waitgraph_member){
		    .utid = at->utid,
		    .object_id = at->object_id,
		    .holder_utid = at->holder_utid,
		    .wait_ts = at->ts,
		};
		if (at->holder_utid == start->utid) {
			cycle->count = count;
			return 1;
		}
		at = wait_of(graph, at->holder_utid);
		if (!at || at->holder_utid < 0)
			return 0; /* the chain ends at a thread that can go on */
	}
	return 0; /* too long, or a cycle that start is not part of */
}

int waitgraph_begin(struct waitgraph *graph, int64_t utid, int64_t object_id, int64_t holder_utid,
		    int64_t ts, struct waitgraph_cycle *cycle)
{
	struct wait *wait = wait_of(graph, utid);
	if (!wait) {
		wait = malloc(sizeof *wait);
		if (!wait || table_put(graph->waits, (uint64_t)utid, 0, wait)) {
			free(wait);
			return -ENOMEM;
		}
	}
	*wait = (struct wait){utid, object_id, holder_utid, ts, 0};
	if (holder_utid < 0)
		return 0;
	/* holder_utid == utid: relocking a lock one holds, a cycle of one. */
	return find_cycle(graph, wait, cycle);
}

int waitgraph_holder(struct waitgraph *graph, int64_t utid, int64_t holder_utid,
		     struct waitgraph_cycle *cycle, int64_t *mark)
{
	struct wait *wait = wait_of(graph, utid);
	*mark = 0;
	if (!wait)
		return -ENOENT;
	if (wait->holder_utid == holder_utid)
		return 0;
	*mark = wait->deadlock_id;
	wait->deadlock_id = 0;
	wait->holder_utid = holder_utid;
	if (holder_utid < 0)
		return 0;
	return find_cycle(graph, wait, cycle);
}

static void unmark_one(void *ctx, void *value)
{
	struct wait *wait = value;
	if (wait->deadlock_id == *(const int64_t *)ctx)
		wait->deadlock_id = 0;
}

void waitgraph_unmark(struct waitgraph *graph, int64_t mark)
{
	if (mark)
		table_each(graph->waits, unmark_one, &mark);
}

int waitgraph_waits(const struct waitgraph *graph, int64_t utid)
{
	return wait_of(graph, utid) != NULL;
}

void waitgraph_mark(struct waitgraph *graph, const struct waitgraph_cycle *cycle,
		    int64_t deadlock_id)
{
	for (size_t i = 0; i < cycle->count; i++) {
		struct wait *wait = wait_of(graph, cycle->members[i].utid);
		if (wait)
			wait->deadlock_id = deadlock_id;
	}
}

int64_t waitgraph_end(struct waitgraph *graph, int64_t utid)
{
	if (!table_count(graph->waits))
		return 0; /* the usual case: nobody waits for a held lock */
	struct wait *wait = wait_of(graph, utid);
	if (!wait)
		return 0;
	int64_t deadlock_id = wait->deadlock_id;
	table_remove(graph->waits, (uint64_t)utid, 0);
	free(wait);
	return deadlock_id;
}

size_t waitgraph_count(const struct waitgraph *graph)
{
	return table_count(graph->waits);
}
