/*
 * waitgraph.h — the wait-for graph of the threads waiting on a lock right
 * now, and the cycles in it (deadlocks).
 *
 * An edge is "thread W waits for object O, which thread H holds": a
 * BLOCK_BEGIN on a mutex or rwlock that names its owner. A wait that
 * begins closes a cycle when following holders from W (H, then what H
 * waits for and who holds that, ...) comes back to W: every thread of the
 * cycle waits for the next one, and none of them can go on. Only the wait
 * that closes a cycle can report it (a cycle exists from that moment on),
 * so checking the new edge is enough: O(length of the chain) per wait.
 *
 * Holders are what the owner field of the lock said when the wait began;
 * a wait whose holder has since released the lock may still stand in the
 * graph until it ends, which can only delay a cycle's report, never make
 * one up: a real cycle's holders cannot release.
 *
 * Not thread-safe: the collector's model owns it.
 */
#ifndef WEFT_WAITGRAPH_H
#define WEFT_WAITGRAPH_H

#include <stddef.h>
#include <stdint.h>

/* Longest cycle reported; longer ones are not looked for. */
#define WAITGRAPH_MAX_CYCLE 64

struct waitgraph;

/* One member of a cycle: utid waits (since wait_ts) for object_id, held by
 * holder_utid, the utid of the next member (the last member's holder is the
 * first member). */
struct waitgraph_member {
	int64_t utid;
	int64_t object_id;
	int64_t holder_utid;
	int64_t wait_ts;
};

struct waitgraph_cycle {
	size_t count;
	struct waitgraph_member members[WAITGRAPH_MAX_CYCLE];
};

/* An empty graph, or NULL when out of memory. */
struct waitgraph *waitgraph_new(void);
void waitgraph_free(struct waitgraph *graph);

/* utid begins waiting at ts for object_id, held by holder_utid. The
 * thread's previous wait, if any, is replaced. Returns 1 when this wait
 * closes a cycle (written to cycle, this thread first), 0 when not,
 * -ENOMEM (the wait is not recorded). */
int waitgraph_begin(struct waitgraph *graph, int64_t utid, int64_t object_id, int64_t holder_utid,
		    int64_t ts, struct waitgraph_cycle *cycle);

/* Every member of cycle belongs to deadlock deadlock_id from now on. */
void waitgraph_mark(struct waitgraph *graph, const struct waitgraph_cycle *cycle,
		    int64_t deadlock_id);

/* utid's wait (if any) is over. Returns the deadlock it was part of, or 0
 * when none. */
int64_t waitgraph_end(struct waitgraph *graph, int64_t utid);

/* How many threads wait right now. */
size_t waitgraph_count(const struct waitgraph *graph);

#endif
