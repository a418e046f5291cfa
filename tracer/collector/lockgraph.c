/*
 * lockgraph.c — the lock-order graph of lockgraph.h.
 *
 * Layout: pairs (from, to) in a table keyed by the two object ids, each
 * with its edges (one per thread, at most LOCKGRAPH_VARIANTS); nodes
 * (from, 0) with the list of their pairs, for walking out of a lock.
 * Cycles reported are remembered by a hash of their locks in cyclic order
 * starting from the smallest id (table `reported`, key (hash, length)).
 * A search is a depth-first walk from the new edge's `to` over simple
 * paths back to its `from`; for each path, one edge per pair is chosen by
 * backtracking until the choice makes a possible deadlock.
 */
#include "lockgraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct pair {
	int64_t from, to;
	size_t count;
	struct lockgraph_edge *edges[LOCKGRAPH_VARIANTS];
};

struct node {
	struct pair **out;
	size_t count, cap;
};

struct lockgraph {
	struct table *pairs;
	struct table *nodes;
	struct table *reported;
	size_t edge_count;
	size_t cycle_count;
	int64_t dropped;
};

struct lockgraph *lockgraph_new(void)
{
	struct lockgraph *graph = calloc(1, sizeof *graph);
	if (!graph)
		return NULL;
	graph->pairs = table_new();
	graph->nodes = table_new();
	graph->reported = table_new();
	if (!graph->pairs || !graph->nodes || !graph->reported) {
		lockgraph_free(graph);
		return NULL;
	}
	return graph;
}

static void free_pair(void *ctx, void *value)
{
	(void)ctx;
	struct pair *pair = value;
	for (size_t i = 0; i < pair->count; i++)
		free(pair->edges[i]);
	free(pair);
}

static void free_node(void *ctx, void *value)
{
	(void)ctx;
	struct node *node = value;
	free(node->out);
	free(node);
}

void lockgraph_free(struct lockgraph *graph)
{
	if (!graph)
		return;
	if (graph->pairs)
		table_each(graph->pairs, free_pair, NULL);
	if (graph->nodes)
		table_each(graph->nodes, free_node, NULL);
	table_free(graph->pairs);
	table_free(graph->nodes);
	table_free(graph->reported); /* values are not pointers to memory */
	free(graph);
}

int64_t lockgraph_dropped(const struct lockgraph *graph)
{
	return graph->dropped;
}

/* The pair (from, to), made (and listed in from's node) when create. */
static struct pair *pair_of(struct lockgraph *graph, int64_t from, int64_t to, bool create)
{
	struct pair *pair = table_get(graph->pairs, (uint64_t)from, (uint64_t)to);
	if (pair || !create)
		return pair;
	struct node *node = table_get(graph->nodes, (uint64_t)from, 0);
	if (!node) {
		node = calloc(1, sizeof *node);
		if (!node || table_put(graph->nodes, (uint64_t)from, 0, node)) {
			free(node);
			return NULL;
		}
	}
	if (node->count == node->cap) {
		size_t cap = node->cap ? node->cap * 2 : 4;
		struct pair **grown = realloc(node->out, cap * sizeof *grown);
		if (!grown)
			return NULL;
		node->out = grown;
		node->cap = cap;
	}
	pair = calloc(1, sizeof *pair);
	if (!pair || table_put(graph->pairs, (uint64_t)from, (uint64_t)to, pair)) {
		free(pair);
		return NULL;
	}
	pair->from = from;
	pair->to = to;
	node->out[node->count++] = pair;
	return pair;
}

int lockgraph_add(struct lockgraph *graph, const struct lockgraph_edge *edge,
		  const struct lockgraph_edge **stored)
{
	*stored = NULL;
	if (edge->from == edge->to)
		return 0;
	struct pair *pair = table_get(graph->pairs, (uint64_t)edge->from, (uint64_t)edge->to);
	if (pair) {
		if (pair->count == LOCKGRAPH_VARIANTS)
			return 0;
		for (size_t i = 0; i < pair->count; i++)
			if (pair->edges[i]->utid == edge->utid)
				return 0;
	}
	if (graph->edge_count >= LOCKGRAPH_MAX_EDGES) {
		graph->dropped++;
		return -ENOSPC;
	}
	pair = pair_of(graph, edge->from, edge->to, true);
	struct lockgraph_edge *copy = pair ? malloc(sizeof *copy) : NULL;
	if (!copy)
		return -ENOMEM;
	*copy = *edge;
	if (copy->held_count > LOCKGRAPH_MAX_HELD)
		copy->held_count = LOCKGRAPH_MAX_HELD;
	pair->edges[pair->count++] = copy;
	graph->edge_count++;
	*stored = copy;
	return 1;
}

/* --- cycles ------------------------------------------------------------ */

struct search {
	struct lockgraph *graph;
	const struct lockgraph_edge *first;
	const struct pair *path[LOCKGRAPH_MAX_CYCLE]; /* path[0]: first's pair */
	size_t length;
	size_t visits;
	struct lockgraph_cycle cycle;
	void (*fn)(void *ctx, const struct lockgraph_cycle *cycle);
	void *ctx;
	size_t found;
};

static bool holds(const struct lockgraph_edge *edge, int64_t lock)
{
	for (uint8_t i = 0; i < edge->held_count; i++)
		if (edge->held[i] == lock)
			return true;
	return false;
}

/* Whether a lock held by every edge of the cycle (a gate) serializes it. */
static bool gated(const struct lockgraph_cycle *cycle)
{
	const struct lockgraph_edge *first = cycle->edges[0];
	for (uint8_t g = 0; g < first->held_count; g++) {
		bool everywhere = true;
		for (size_t i = 1; i < cycle->count && everywhere; i++)
			everywhere = holds(cycle->edges[i], first->held[g]);
		if (everywhere)
			return true;
	}
	return false;
}

/* Whether edge `wants` (taking its `to`) is blocked by edge `holder`
 * (holding that lock as its `from`): not when both are reads. */
static bool blocks(const struct lockgraph_edge *wants, const struct lockgraph_edge *holder)
{
	return !(wants->to_read && holder->from_read);
}

/* Choose edges for path[at..] (cycle.edges[0..at) chosen). Returns true
 * when a choice makes a possible deadlock (left in s->cycle). */
static bool choose(struct search *s, size_t at)
{
	if (at == s->length) {
		s->cycle.count = s->length;
		return blocks(s->cycle.edges[at - 1], s->cycle.edges[0]) && !gated(&s->cycle);
	}
	const struct pair *pair = s->path[at];
	for (size_t i = 0; i < pair->count; i++) {
		s->cycle.edges[at] = pair->edges[i];
		if (blocks(s->cycle.edges[at - 1], pair->edges[i]) && choose(s, at + 1))
			return true;
	}
	return false;
}

/* A hash of the path's locks in cyclic order from the smallest. */
static uint64_t cycle_hash(const struct search *s)
{
	size_t start = 0;
	for (size_t i = 1; i < s->length; i++)
		if (s->path[i]->from < s->path[start]->from)
			start = i;
	uint64_t hash = 1469598103934665603ull;
	for (size_t i = 0; i < s->length; i++) {
		uint64_t id = (uint64_t)s->path[(start + i) % s->length]->from;
		hash = (hash ^ id) * 1099511628211ull;
	}
	return hash ? hash : 1;
}

static void found(struct search *s)
{
	uint64_t hash = cycle_hash(s);
	if (table_get(s->graph->reported, hash, s->length))
		return;
	s->cycle.edges[0] = s->first;
	if (!choose(s, 1))
		return;
	if (s->graph->cycle_count >= LOCKGRAPH_MAX_CYCLES) {
		s->graph->dropped++;
		return;
	}
	if (table_put(s->graph->reported, hash, s->length, (void *)(uintptr_t)1))
		return; /* out of memory: not remembered, not reported */
	s->graph->cycle_count++;
	s->found++;
	s->fn(s->ctx, &s->cycle);
}

static bool on_path(const struct search *s, int64_t lock)
{
	for (size_t i = 0; i < s->length; i++)
		if (s->path[i]->from == lock)
			return true;
	return false;
}

/* Walk on from lock `at` (path[0, length) leads to it). */
static void walk(struct search *s, int64_t at)
{
	if (at == s->first->from) {
		found(s);
		return;
	}
	if (s->length == LOCKGRAPH_MAX_CYCLE || on_path(s, at))
		return;
	const struct node *node = table_get(s->graph->nodes, (uint64_t)at, 0);
	for (size_t i = 0; node && i < node->count; i++) {
		if (++s->visits > LOCKGRAPH_SEARCH_VISITS)
			return;
		s->path[s->length++] = node->out[i];
		walk(s, node->out[i]->to);
		s->length--;
	}
}

size_t lockgraph_cycles(struct lockgraph *graph, const struct lockgraph_edge *edge,
			void (*fn)(void *ctx, const struct lockgraph_cycle *cycle), void *ctx)
{
	const struct pair *pair = table_get(graph->pairs, (uint64_t)edge->from, (uint64_t)edge->to);
	if (!pair)
		return 0;
	struct search s = {.graph = graph, .first = edge, .fn = fn, .ctx = ctx};
	s.path[0] = pair;
	s.length = 1;
	walk(&s, edge->to);
	return s.found;
}
