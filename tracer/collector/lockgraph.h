/*
 * lockgraph.h — the order in which a program takes its locks, and the
 * cycles in it (lock-order inversions: deadlocks that could happen).
 *
 * An edge is "lock `to` was taken by a call that could block while lock
 * `from` was held", by one thread, with what else it held then. Edges are
 * kept per (from, to) pair, up to LOCKGRAPH_VARIANTS threads each (the
 * first edge each of them showed). A new edge may close cycles: paths
 * from `to` back to `from`, at most LOCKGRAPH_MAX_CYCLE locks long. A
 * cycle is reported when some choice of one edge per pair makes it a
 * possible deadlock:
 *   - no lock is held by every edge of it besides its own pair (a gate
 *     lock taken around all of them serializes the orders);
 *   - at every lock of the cycle, the edge that wants it and the edge
 *     that holds it are not both reads of a rwlock (readers do not block
 *     readers).
 * Each distinct cycle (the same locks in the same cyclic order) is
 * reported once. Memory is bounded: beyond LOCKGRAPH_MAX_EDGES edges new
 * ones are dropped and counted, and a search visits at most
 * LOCKGRAPH_SEARCH_VISITS pairs.
 *
 * Not thread-safe: the collector's model owns it.
 */
#ifndef WEFT_LOCKGRAPH_H
#define WEFT_LOCKGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCKGRAPH_MAX_CYCLE 8
#define LOCKGRAPH_MAX_HELD 15
#define LOCKGRAPH_VARIANTS 4
#define LOCKGRAPH_MAX_EDGES 100000
#define LOCKGRAPH_MAX_CYCLES 10000
#define LOCKGRAPH_SEARCH_VISITS 10000

struct lockgraph;

struct lockgraph_edge {
	int64_t from; /* object ids */
	int64_t to;
	int64_t utid;
	int64_t ts;
	bool from_read; /* from was held for reading (a rwlock) */
	bool to_read;	/* to was taken for reading */
	uint8_t held_count;
	int64_t held[LOCKGRAPH_MAX_HELD]; /* the other locks held then */
};

/* edges[i] goes from the cycle's lock i to its lock i + 1 (the last back
 * to lock 0): lock i is edges[i]->from. */
struct lockgraph_cycle {
	size_t count;
	const struct lockgraph_edge *edges[LOCKGRAPH_MAX_CYCLE];
};

/* An empty graph, or NULL when out of memory. */
struct lockgraph *lockgraph_new(void);
void lockgraph_free(struct lockgraph *graph);

/* Add edge (copied). Returns 1 when it is new (*stored: the graph's copy,
 * valid as long as the graph), 0 when its pair already has an edge of
 * that thread or LOCKGRAPH_VARIANTS of them (not stored), -ENOSPC when the
 * graph is full (dropped and counted), -ENOMEM. A pair of a lock with
 * itself is never stored (0). */
int lockgraph_add(struct lockgraph *graph, const struct lockgraph_edge *edge,
		  const struct lockgraph_edge **stored);

/* Report each cycle through the stored edge that is a possible deadlock
 * and was not reported before: fn(ctx, cycle) with edge first. Returns how
 * many were reported. */
size_t lockgraph_cycles(struct lockgraph *graph, const struct lockgraph_edge *edge,
			void (*fn)(void *ctx, const struct lockgraph_cycle *cycle), void *ctx);

/* Edges and cycles not kept because a bound was reached. */
int64_t lockgraph_dropped(const struct lockgraph *graph);

#endif
