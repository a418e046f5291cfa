/*
 * model_lock.c — who holds each lock, the waits for locks, and deadlocks
 * (model_internal.h).
 *
 * Holders, by the trace's own record, in timestamp order (the collector
 * hands records over sorted by time behind its hold, collect.h). A lock
 * (mutex or rwlock object) has at most one known holder:
 *   - a BLOCK_BEGIN names the owner the lock's owner field held just
 *     before the wait's stamp (preload.h): that thread holds it from then
 *     on. If the trace still shows that thread waiting for the same lock,
 *     its wait is over (it took the lock; its BLOCK_END stamp is merely
 *     later than the waiter's BEGIN stamp): its Blocked span ends here and
 *     it leaves the wait-for graph. An owner field of 0 (or a thread the
 *     trace does not know) leaves the holder unknown.
 *   - a wait for a mutex or for writing that ends with the lock taken
 *     (BLOCK_END result 0 or EOWNERDEAD) makes the waiter the holder; one
 *     for reading makes it unknown (readers are not named: glibc does not
 *     keep them, docs/LOCKS.md);
 *   - an UNLOCK record (a release with waiters) frees it: nobody holds it
 *     until the next record says who took it (its waiters' spans go on
 *     naming the thread that released it, which wakes one of them);
 *   - a condition wait gives its mutex up when it begins (BLOCK_BEGIN b =
 *     the mutex) and holds it again when it ends (successfully or by a
 *     timeout: pthread_cond_wait relocks in both cases); the release is
 *     an "unlock" wake-up of the mutex, as an UNLOCK record would be.
 * Every thread waiting for a lock names its current holder: a new holder
 * cuts the waiter's Blocked span there (span_thread_call_holder), and
 * moves its edge in the wait-for graph as a release does.
 *
 * Deadlocks: a cycle in the wait-for graph (waitgraph.h) is a candidate;
 * it becomes a deadlock row only once it has stood MODEL_DEADLOCK_CONFIRM_NS
 * with none of its waits over and none of its holders changed, by the
 * records (model_event) or by the collector's horizon (model_advance: no
 * record older than it is still to come). The row keeps the moment the
 * cycle closed; it is written and committed at once then, so that a
 * reader sees a program stuck right now. Candidates carry negative marks
 * in the graph, deadlocks their (positive) id; the deadlock ends when the
 * first of its waits does.
 *
 * Lock orders: a LOCK_ORDER record (event.h) says which lock a thread
 * took while holding which others; each (held, taken) pair becomes an
 * edge of the lock-order graph (lockgraph.h) with the other locks held as
 * its gates, a lock_order_edge row when the graph keeps it, and the
 * cycles it closes lock_order_cycle rows. meta lock_orders_dropped counts
 * the orders the threads' sets or the graph could not keep.
 *
 * Single-threaded: the model's owner calls everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "lockgraph.h"
#include "model_internal.h"
#include "span.h"
#include "table.h"
#include "tracedb.h"
#include "waitgraph.h"

struct lock_state {
	int64_t holder;		 /* utid, or -1: free, readers, or not known */
	struct thread **waiters; /* threads in a recorded wait for it */
	size_t count;
	size_t cap;
};

struct model_candidate {
	int64_t mark; /* < 0, its waits carry it */
	int64_t ts;   /* when the cycle closed */
	struct waitgraph_cycle cycle;
};

static bool is_lock(unsigned reason)
{
	return reason == WEFT_REASON_MUTEX || reason == WEFT_REASON_RWLOCK;
}

static struct lock_state *lock_of(struct model *model, int64_t object_id)
{
	if (object_id < 0)
		return NULL;
	struct lock_state *lock = table_get(model->locks, (uint64_t)object_id, 0);
	if (lock)
		return lock;
	lock = calloc(1, sizeof *lock);
	if (!lock || table_put(model->locks, (uint64_t)object_id, 0, lock)) {
		free(lock);
		model_fail(model, -ENOMEM);
		return NULL;
	}
	lock->holder = -1;
	return lock;
}

/* The object row of the mutex (reason MUTEX) or rwlock at address in p. */
static int64_t lock_object(struct model *model, struct process *p, unsigned reason,
			   uint64_t address)
{
	struct weft_event event = {.reason = (uint8_t)reason, .a = address};
	return model_ipc_object_for(model, p, &event);
}

/* --- deadlock candidates ---------------------------------------------- */

static void candidate_drop(struct model *model, size_t i)
{
	waitgraph_unmark(model->waits, model->candidates[i].mark);
	model->candidates[i] = model->candidates[--model->candidate_count];
}

/* A cycle closed at ts: a candidate from now on. */
static void candidate_add(struct model *model, int64_t ts, const struct waitgraph_cycle *cycle)
{
	if (model->candidate_count == model->candidate_cap) {
		size_t cap = model->candidate_cap ? model->candidate_cap * 2 : 4;
		struct model_candidate *grown = realloc(model->candidates, cap * sizeof *grown);
		if (!grown) {
			model_fail(model, -ENOMEM);
			return;
		}
		model->candidates = grown;
		model->candidate_cap = cap;
	}
	struct model_candidate *c = &model->candidates[model->candidate_count++];
	c->mark = -(model->next_candidate_mark++);
	c->ts = ts;
	c->cycle = *cycle;
	waitgraph_mark(model->waits, cycle, c->mark);
}

/* The wait or holder change that took mark away: a candidate is dropped,
 * a deadlock ends at ts. */
static void mark_lost(struct model *model, int64_t mark, int64_t ts)
{
	if (mark > 0) {
		waitgraph_unmark(model->waits, mark);
		model_fail(model, tracedb_deadlock_end(model->db, mark, ts));
		return;
	}
	for (size_t i = 0; i < model->candidate_count; i++)
		if (model->candidates[i].mark == mark) {
			candidate_drop(model, i);
			return;
		}
}

int model_advance(struct model *model, int64_t horizon)
{
	bool written = false;
	for (size_t i = 0; i < model->candidate_count;) {
		struct model_candidate *c = &model->candidates[i];
		if (horizon < c->ts || horizon - c->ts < MODEL_DEADLOCK_CONFIRM_NS) {
			i++;
			continue;
		}
		int64_t deadlock_id = model->next_deadlock_id++;
		waitgraph_unmark(model->waits, c->mark);
		waitgraph_mark(model->waits, &c->cycle, deadlock_id);
		model_fail(model, tracedb_deadlock(model->db, deadlock_id, c->ts, c->cycle.members,
						   c->cycle.count));
		model->candidates[i] = model->candidates[--model->candidate_count];
		written = true;
	}
	if (written && !model->error)
		model_write_waits(model);
	if (written && !model->error)
		model_fail(model, tracedb_commit(model->db));
	return model->error;
}

/* --- holders ----------------------------------------------------------- */

static void waiter_remove(struct lock_state *lock, struct thread *t)
{
	for (size_t i = 0; i < lock->count; i++)
		if (lock->waiters[i] == t) {
			lock->waiters[i] = lock->waiters[--lock->count];
			return;
		}
}

/* w's wait for a lock now waits for holder (from ts): its edge in the
 * wait-for graph moves; with show, its Blocked span names holder too. */
static void waiter_holder(struct model *model, struct thread *w, int64_t holder, int64_t ts,
			  bool show)
{
	if (show && w->call_holder != holder) {
		w->call_holder = holder;
		span_thread_call_holder(w->spans, ts, holder);
	}
	struct waitgraph_cycle cycle;
	int64_t mark;
	int rc = waitgraph_holder(model->waits, w->utid, holder, &cycle, &mark);
	if (mark)
		mark_lost(model, mark, ts);
	if (rc > 0)
		candidate_add(model, ts, &cycle);
}

/* lock is held by holder (-1: nobody known) from ts. */
static void set_holder(struct model *model, struct lock_state *lock, int64_t holder, int64_t ts)
{
	lock->holder = holder;
	for (size_t i = 0; i < lock->count; i++)
		waiter_holder(model, lock->waiters[i], holder, ts, true);
}

/* lock was released at ts: nobody holds it until a record says who took
 * it. Its waiters wait for nobody in the wait-for graph; their spans keep
 * naming the thread that released it (the one they were waiting for, and
 * whose release wakes one of them) until the next holder is known. */
static void released(struct model *model, struct lock_state *lock, int64_t ts)
{
	lock->holder = -1;
	for (size_t i = 0; i < lock->count; i++)
		waiter_holder(model, lock->waiters[i], -1, ts, false);
}

/* t's lock wait, if any, is over at ts: out of the wait-for graph. */
static void graph_leave(struct model *model, struct thread *t, int64_t ts)
{
	int64_t mark = waitgraph_end(model->waits, t->utid);
	if (mark)
		mark_lost(model, mark, ts);
}

/* t took the lock it was recorded waiting for, before its BLOCK_END says
 * so (another waiter's BLOCK_BEGIN named it the owner at ts). */
static void took_early(struct model *model, struct lock_state *lock, struct thread *t, int64_t ts)
{
	waiter_remove(lock, t);
	t->call_lock = false;
	span_thread_call_end(t->spans, ts);
	graph_leave(model, t, ts);
}

/* t's lock or condition wait, if any, is over for the holders: it leaves
 * its lock's waiters (a record lost can leave a call open). */
static void call_over(struct model *model, struct thread *t)
{
	if (t->call_lock) {
		struct lock_state *lock = table_get(model->locks, (uint64_t)t->call_object, 0);
		if (lock)
			waiter_remove(lock, t);
		t->call_lock = false;
	}
	t->call_mutex = 0;
}

int64_t model_lock_holder_named(struct model *model, struct process *p, struct thread *t,
				const struct weft_event *event, int64_t object_id)
{
	call_over(model, t);
	if (!is_lock(event->reason))
		return -1;
	struct lock_state *lock = lock_of(model, object_id);
	if (!lock)
		return -1;
	struct thread *owner =
	    event->b ? table_get(model->threads, p->token, (uint32_t)event->b) : NULL;
	int64_t ts = (int64_t)event->ts;
	if (owner && owner->call_lock && owner->call_object == object_id)
		took_early(model, lock, owner, ts);
	set_holder(model, lock, owner && !owner->ended ? owner->utid : -1, ts);
	return lock->holder;
}

void model_lock_wait_begin(struct model *model, struct process *p, struct thread *t,
			   const struct weft_event *event, int64_t object_id, int64_t holder)
{
	int64_t ts = (int64_t)event->ts;
	graph_leave(model, t, ts); /* a new call: the previous wait is over */
	t->call_read =
	    event->call == WEFT_CALL_RWLOCK_RDLOCK || event->call == WEFT_CALL_RWLOCK_TIMEDRDLOCK;
	if (event->reason == WEFT_REASON_COND && event->b) {
		/* pthread_cond_wait gives its mutex up: an unlock */
		int64_t mutex = lock_object(model, p, WEFT_REASON_MUTEX, event->b);
		struct lock_state *lock = lock_of(model, mutex);
		if (lock) {
			t->call_mutex = mutex;
			struct weft_event unlock = {.type = WEFT_EV_UNLOCK,
						    .reason = WEFT_REASON_MUTEX,
						    .ts = event->ts,
						    .a = event->b};
			model_ipc_note_wake(model, p, t, &unlock, "unlock");
			released(model, lock, ts);
		}
		return;
	}
	if (!is_lock(event->reason))
		return;
	struct lock_state *lock = lock_of(model, object_id);
	if (!lock)
		return;
	if (lock->count == lock->cap) {
		size_t cap = lock->cap ? lock->cap * 2 : 4;
		struct thread **grown = realloc(lock->waiters, cap * sizeof *grown);
		if (!grown) {
			model_fail(model, -ENOMEM);
			return;
		}
		lock->waiters = grown;
		lock->cap = cap;
	}
	lock->waiters[lock->count++] = t;
	t->call_lock = true;
	struct waitgraph_cycle cycle;
	int rc = waitgraph_begin(model->waits, t->utid, object_id, holder, ts, &cycle);
	if (rc < 0)
		model_fail(model, rc);
	else if (rc > 0)
		candidate_add(model, ts, &cycle);
}

void model_lock_wait_end(struct model *model, struct thread *t, int64_t ts, int64_t result)
{
	graph_leave(model, t, ts);
	bool taken = result == 0 || result == -EOWNERDEAD;
	if (t->call_lock) {
		struct lock_state *lock = lock_of(model, t->call_object);
		t->call_lock = false;
		if (lock) {
			waiter_remove(lock, t);
			if (taken)
				set_holder(model, lock, t->call_read ? -1 : t->utid, ts);
		}
	}
	if (t->call_mutex > 0) { /* the condition wait took its mutex back */
		struct lock_state *lock = lock_of(model, t->call_mutex);
		if (lock && (taken || result == -ETIMEDOUT))
			set_holder(model, lock, t->utid, ts);
		t->call_mutex = 0;
	}
}

void model_lock_thread_end(struct model *model, struct thread *t, int64_t ts)
{
	call_over(model, t);
	graph_leave(model, t, ts);
}

void model_lock_unlock(struct model *model, struct process *p, struct thread *t,
		       const struct weft_event *event)
{
	(void)t;
	int64_t object_id = lock_object(model, p, event->reason, event->a);
	struct lock_state *lock = lock_of(model, object_id);
	if (lock)
		released(model, lock, (int64_t)event->ts);
}

/* --- lock orders -------------------------------------------------------- */

static void write_cycle(void *ctx, const struct lockgraph_cycle *cycle)
{
	struct model *model = ctx;
	int64_t cycle_id = model->next_lock_cycle_id++;
	for (size_t i = 0; i < cycle->count; i++) {
		const struct lockgraph_edge *edge = cycle->edges[i];
		model_fail(model, tracedb_lock_order_cycle(model->db, cycle_id, (int64_t)i,
							   edge->from, edge->utid, edge->ts));
	}
}

/* The other locks an edge's thread held, comma-separated, into out. */
static void held_text(const struct lockgraph_edge *edge, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (uint8_t i = 0; i < edge->held_count && used < cap; i++) {
		int n = snprintf(out + used, cap - used, "%s%lld", i ? "," : "",
				 (long long)edge->held[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* One (held -> taken) order of t: a lock_order_edge row when the graph
 * keeps it, and the cycles it closes. */
static void order_edge(struct model *model, const struct lockgraph_edge *edge)
{
	const struct lockgraph_edge *stored;
	int rc = lockgraph_add(model->lock_orders, edge, &stored);
	if (rc == -ENOMEM)
		model_fail(model, rc);
	if (rc <= 0)
		return;
	char held[LOCKGRAPH_MAX_HELD * 21];
	held_text(stored, held, sizeof held);
	struct tracedb_lock_order row = {
	    .from_object_id = stored->from,
	    .to_object_id = stored->to,
	    .utid = stored->utid,
	    .ts = stored->ts,
	    .from_read = stored->from_read,
	    .to_read = stored->to_read,
	    .held = held,
	};
	model_fail(model, tracedb_lock_order_edge(model->db, &row));
	lockgraph_cycles(model->lock_orders, stored, write_cycle, model);
}

/* An entry of a LOCK_ORDER record (address | flags, event.h): its object
 * and whether it was taken for reading. */
static int64_t entry_object(struct model *model, struct process *p, uint64_t entry, bool *read)
{
	*read = entry & 1;
	unsigned reason = entry & 2 ? WEFT_REASON_RWLOCK : WEFT_REASON_MUTEX;
	return lock_object(model, p, reason, entry & ~(uint64_t)7);
}

void model_lock_order(struct model *model, struct process *p, struct thread *t,
		      const struct weft_event *event)
{
	if (event->b > t->lock_orders_unseen) { /* how many its full set could not add */
		model->lock_orders_unseen += (int64_t)(event->b - t->lock_orders_unseen);
		t->lock_orders_unseen = event->b;
	}
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	size_t count = len / sizeof(uint64_t);
	if (count > LOCKGRAPH_MAX_HELD + 1)
		count = LOCKGRAPH_MAX_HELD + 1;
	if (!count)
		return;
	struct lockgraph_edge edge = {.utid = t->utid, .ts = (int64_t)event->ts};
	edge.to = entry_object(model, p, event->a, &edge.to_read);
	int64_t held[LOCKGRAPH_MAX_HELD + 1];
	bool read[LOCKGRAPH_MAX_HELD + 1];
	for (size_t i = 0; i < count; i++) {
		uint64_t entry;
		memcpy(&entry, payload + i * sizeof entry, sizeof entry);
		held[i] = entry_object(model, p, entry, &read[i]);
	}
	for (size_t i = 0; i < count && edge.to >= 0; i++) {
		if (held[i] < 0 || held[i] == edge.to)
			continue;
		edge.from = held[i];
		edge.from_read = read[i];
		edge.held_count = 0;
		for (size_t j = 0; j < count; j++)
			if (j != i && held[j] >= 0 && held[j] != edge.to &&
			    edge.held_count < LOCKGRAPH_MAX_HELD)
				edge.held[edge.held_count++] = held[j];
		order_edge(model, &edge);
	}
}

void model_lock_finish(struct model *model)
{
	model_fail(model, tracedb_meta_int(model->db, "lock_orders_dropped",
					   model->lock_orders_unseen +
					       lockgraph_dropped(model->lock_orders)));
}

/* --- life -------------------------------------------------------------- */

static void free_lock(void *ctx, void *value)
{
	(void)ctx;
	struct lock_state *lock = value;
	free(lock->waiters);
	free(lock);
}

void model_lock_free(struct model *model)
{
	if (model->locks) {
		table_each(model->locks, free_lock, NULL);
		table_free(model->locks);
	}
	free(model->candidates);
	lockgraph_free(model->lock_orders);
}
