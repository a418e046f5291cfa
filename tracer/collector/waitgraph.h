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
 * Holders are what the trace says held the lock: the owner field of the
 * lock when a wait began, then whoever the trace shows taking or
 * releasing it (waitgraph_holder, model_lock.c). A cycle found is only a
 * candidate to its caller: a holder can release a lock in a way no record
 * shows in time, so the model reports a deadlock only once its cycle has
 * stood for a while (model_lock.c). Marks tie the waits of a cycle to the
 * caller's candidate or deadlock.
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

/* utid begins waiting at ts for object_id, held by holder_utid (-1: not
 * known, no edge). The thread's previous wait, if any, is replaced.
 * Returns 1 when this wait closes a cycle (written to cycle, this thread
 * first), 0 when not, -ENOMEM (the wait is not recorded). */
int waitgraph_begin(struct waitgraph *graph, int64_t utid, int64_t object_id, int64_t holder_utid,
		    int64_t ts, struct waitgraph_cycle *cycle);

/* The lock utid waits for is held by holder_utid from now on (-1: not
 * known). *mark receives the mark the wait had (0: none), which the wait
 * loses when the holder changes: a cycle through it is broken. Returns 1
 * when the wait now closes a cycle (written to cycle), 0 when not,
 * -ENOENT when utid does not wait. */
int waitgraph_holder(struct waitgraph *graph, int64_t utid, int64_t holder_utid,
		     struct waitgraph_cycle *cycle, int64_t *mark);

/* Every member of cycle carries mark (a deadlock id, or any other
 * nonzero value the caller chooses) from now on. */
void waitgraph_mark(struct waitgraph *graph, const struct waitgraph_cycle *cycle,
		    int64_t deadlock_id);

/* Every wait marked mark loses it. */
void waitgraph_unmark(struct waitgraph *graph, int64_t mark);

/* Whether utid waits right now. */
int waitgraph_waits(const struct waitgraph *graph, int64_t utid);

/* utid's wait (if any) is over. Returns the mark it carried, or 0 when
 * none. */
int64_t waitgraph_end(struct waitgraph *graph, int64_t utid);

/* How many threads wait right now. */
size_t waitgraph_count(const struct waitgraph *graph);

#endif
