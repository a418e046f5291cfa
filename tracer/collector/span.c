/*
 * span.c — the span builder of span.h.
 *
 * Both threads and processes cut their spans with a `track`: the open span
 * (`open`, started at open.ts) and at most one closed span held back
 * (`held`) so that a later identical span can still be merged into it.
 * Invariant: held.ts + held.dur <= open.ts, and held differs from the span
 * emitted before it. A thread keeps a count in its process of how many live
 * threads are in each state, so the process's state is recomputed in O(1)
 * on every thread transition.
 */
#include "span.h"

#include <stdlib.h>

#include "event.h"

struct track {
	span_emit_fn emit;
	void *ctx;
	struct span open;
	struct span held;
	bool has_open;
	bool has_held;
};

enum sched_input {
	SCHED_ON_CPU,
	SCHED_PREEMPTED,
	SCHED_OFF_CPU,
};

struct span_thread {
	struct track track;
	struct span_process *process;
	struct span_thread *next; /* in the process's list */
	int64_t utid;
	int64_t last_ts;
	bool started;
	bool ended;
	/* interposed call in progress */
	bool in_call;
	unsigned call_reason;
	int64_t call_object;
	int64_t call_holder;
	/* scheduler input, once switch records exist for the thread */
	bool has_sched;
	enum sched_input sched;
	int cpu;
	enum span_state state; /* current effective state */
};

struct span_process {
	struct track track;
	struct span_thread *threads;
	int64_t upid;
	unsigned live[SPAN_SUSPENDED + 1]; /* live threads per state */
	bool started;
	bool suspended;
	bool ended;
};

static const char *const state_names[] = {
    [SPAN_NONE] = NULL,
    [SPAN_NEW] = "New",
    [SPAN_RUNNING] = "Running",
    [SPAN_READY] = "Ready",
    [SPAN_BLOCKED] = "Blocked",
    [SPAN_WAITING] = "Waiting",
    [SPAN_SUSPENDED] = "Suspended",
};

const char *span_state_name(enum span_state state)
{
	return state <= SPAN_SUSPENDED ? state_names[state] : NULL;
}

/* --- track ------------------------------------------------------------ */

static bool same_span(const struct span *a, const struct span *b)
{
	return a->state == b->state && a->reason == b->reason && a->object_id == b->object_id &&
	       a->holder_id == b->holder_id && a->cpu == b->cpu;
}

/* Close the open span at ts: drop it when empty, merge it into the held
 * span when identical and adjacent, else emit the held one and hold it. */
static void track_close(struct track *track, int64_t ts)
{
	struct span closed = track->open;
	track->has_open = false;
	closed.dur = ts - closed.ts;
	if (closed.dur <= 0)
		return;
	if (track->has_held && same_span(&track->held, &closed) &&
	    track->held.ts + track->held.dur == closed.ts) {
		track->held.dur += closed.dur;
		return;
	}
	if (track->has_held)
		track->emit(track->ctx, &track->held);
	track->held = closed;
	track->has_held = true;
}

/* Make `next` the open span from ts on (ts clamped to the open span's
 * start). No-op when it equals the open span. */
static void track_set(struct track *track, int64_t ts, const struct span *next)
{
	if (track->has_open) {
		if (ts < track->open.ts)
			ts = track->open.ts;
		if (same_span(&track->open, next))
			return;
		track_close(track, ts);
	} else if (track->has_held && ts < track->held.ts + track->held.dur) {
		ts = track->held.ts + track->held.dur;
	}
	if (track->has_held && same_span(&track->held, next) &&
	    track->held.ts + track->held.dur == ts) {
		track->open = track->held; /* reopen: the span in between was empty */
		track->has_held = false;
	} else {
		track->open = *next;
		track->open.ts = ts;
		track->open.dur = 0;
	}
	track->has_open = true;
}

static void track_end(struct track *track, int64_t ts)
{
	if (track->has_open) {
		if (ts < track->open.ts)
			ts = track->open.ts;
		track_close(track, ts);
	}
	if (track->has_held)
		track->emit(track->ctx, &track->held);
	track->has_held = false;
}

static struct span span_of(bool is_process, int64_t id, enum span_state state)
{
	return (struct span){.is_process = is_process,
			     .id = id,
			     .state = state,
			     .reason = WEFT_REASON_NONE,
			     .object_id = -1,
			     .holder_id = -1,
			     .cpu = -1,
			     .waker_id = -1};
}

/* --- process ------------------------------------------------------------ */

static enum span_state process_derive(const struct span_process *process)
{
	if (!process->started)
		return SPAN_NEW;
	if (process->suspended)
		return SPAN_SUSPENDED;
	if (process->live[SPAN_RUNNING])
		return SPAN_RUNNING;
	if (process->live[SPAN_READY] || process->live[SPAN_NEW])
		return SPAN_READY;
	if (process->live[SPAN_BLOCKED])
		return SPAN_WAITING;
	/* No live thread known (all ended before the process did, or an
	 * untraced process): keep the state, but a started process is no
	 * longer New. */
	if (process->track.has_open && process->track.open.state != SPAN_NEW)
		return process->track.open.state;
	return SPAN_RUNNING;
}

static void process_update(struct span_process *process, int64_t ts)
{
	if (process->ended)
		return;
	struct span next = span_of(true, process->upid, process_derive(process));
	track_set(&process->track, ts, &next);
}

struct span_process *span_process_new(span_emit_fn emit, void *ctx, int64_t upid, int64_t start_ts)
{
	struct span_process *process = calloc(1, sizeof *process);
	if (!process)
		return NULL;
	process->track.emit = emit;
	process->track.ctx = ctx;
	process->upid = upid;
	process_update(process, start_ts);
	return process;
}

void span_process_start(struct span_process *process, int64_t ts)
{
	if (process->started)
		return;
	process->started = true;
	process_update(process, ts);
}

void span_process_suspend(struct span_process *process, int64_t ts, bool suspended)
{
	process->suspended = suspended;
	process_update(process, ts);
}

void span_process_end(struct span_process *process, int64_t ts)
{
	if (process->ended)
		return;
	for (struct span_thread *thread = process->threads; thread; thread = thread->next)
		span_thread_end(thread, ts);
	process->ended = true;
	track_end(&process->track, ts);
}

void span_process_free(struct span_process *process)
{
	if (!process)
		return;
	struct span_thread *thread = process->threads;
	while (thread) {
		struct span_thread *next = thread->next;
		free(thread);
		thread = next;
	}
	free(process);
}

/* --- thread ------------------------------------------------------------- */

static struct span thread_derive(const struct span_thread *thread)
{
	struct span next = span_of(false, thread->utid, SPAN_RUNNING);
	bool blocked;

	if (!thread->started)
		return span_of(false, thread->utid, SPAN_NEW);
	if (!thread->has_sched) {
		blocked = thread->in_call;
	} else if (thread->sched == SCHED_ON_CPU) {
		next.cpu = thread->cpu;
		blocked = false;
	} else if (thread->sched == SCHED_PREEMPTED) {
		next.state = SPAN_READY;
		blocked = false;
	} else {
		blocked = true;
	}
	if (blocked) {
		next.state = SPAN_BLOCKED;
		if (thread->in_call) {
			next.reason = thread->call_reason;
			next.object_id = thread->call_object;
			next.holder_id = thread->call_holder;
		} else {
			next.reason = WEFT_REASON_OTHER;
		}
	}
	return next;
}

static void thread_update(struct span_thread *thread, int64_t ts)
{
	if (thread->ended)
		return;
	struct span next = thread_derive(thread);
	enum span_state before = thread->state;
	track_set(&thread->track, ts, &next);
	if (ts > thread->last_ts)
		thread->last_ts = ts;
	if (before != next.state) {
		struct span_process *process = thread->process;
		process->live[before]--;
		process->live[next.state]++;
		thread->state = next.state;
		process_update(process, ts);
	}
}

struct span_thread *span_thread_new(struct span_process *process, int64_t utid, int64_t created_ts)
{
	struct span_thread *thread = calloc(1, sizeof *thread);
	if (!thread)
		return NULL;
	thread->track.emit = process->track.emit;
	thread->track.ctx = process->track.ctx;
	thread->process = process;
	thread->utid = utid;
	thread->last_ts = created_ts;
	thread->state = SPAN_NEW;
	thread->cpu = -1;
	thread->next = process->threads;
	process->threads = thread;
	process->live[SPAN_NEW]++;
	struct span next = span_of(false, utid, SPAN_NEW);
	track_set(&thread->track, created_ts, &next);
	process_update(process, created_ts);
	return thread;
}

void span_thread_start(struct span_thread *thread, int64_t ts)
{
	if (thread->started)
		return;
	thread->started = true;
	thread_update(thread, ts);
}

void span_thread_call_begin(struct span_thread *thread, int64_t ts, unsigned reason,
			    int64_t object_id, int64_t holder_id)
{
	thread->in_call = true;
	thread->call_reason = reason;
	thread->call_object = object_id;
	thread->call_holder = holder_id;
	thread->started = true;
	thread_update(thread, ts);
}

void span_thread_call_end(struct span_thread *thread, int64_t ts)
{
	thread->in_call = false;
	thread->started = true;
	thread_update(thread, ts);
}

void span_thread_woken_by(struct span_thread *thread, int64_t waker_id)
{
	struct track *track = &thread->track;
	if (track->has_open && track->open.state == SPAN_BLOCKED)
		track->open.waker_id = waker_id;
	else if (track->has_held && track->held.state == SPAN_BLOCKED)
		track->held.waker_id = waker_id;
}

void span_thread_switch_in(struct span_thread *thread, int64_t ts, int cpu)
{
	thread->has_sched = true;
	thread->sched = SCHED_ON_CPU;
	thread->cpu = cpu;
	thread->started = true;
	thread_update(thread, ts);
}

void span_thread_switch_out(struct span_thread *thread, int64_t ts, bool preempted)
{
	thread->has_sched = true;
	thread->sched = preempted ? SCHED_PREEMPTED : SCHED_OFF_CPU;
	thread->started = true;
	thread_update(thread, ts);
}

void span_thread_end(struct span_thread *thread, int64_t ts)
{
	if (thread->ended)
		return;
	if (thread->track.has_open && ts < thread->track.open.ts)
		ts = thread->track.open.ts;
	track_end(&thread->track, ts);
	thread->ended = true;
	if (ts > thread->last_ts)
		thread->last_ts = ts;
	struct span_process *process = thread->process;
	process->live[thread->state]--;
	process_update(process, ts);
}

bool span_thread_ended(const struct span_thread *thread)
{
	return thread->ended;
}

int64_t span_thread_last_ts(const struct span_thread *thread)
{
	return thread->last_ts;
}
