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
 *
 * Sampled mode: the thread's track emits into `pending` (spans since the
 * last sample, in order, tiling [previous sample, open span start)) instead
 * of the process's callback; span_thread_sample cuts the open span at the
 * sample, splits the pending 'calls' Running spans and sends the result
 * through `out`, a one-span merge stage in front of the real callback (a
 * Ready at the end of one interval and at the start of the next are one
 * span). Split pieces stay in `pending` SPAN_SAMPLE_WINDOW_NS more: the
 * kernel counts a wait for a CPU only when it ends, so a later sample may
 * turn their tentative Blocked 'other' into Ready (pending_repay).
 * `pending` is flushed as it is when it grows past PENDING_MAX (no samples
 * arrive) and when the thread ends.
 */
#include "span.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "names.h"

struct track {
	span_emit_fn emit;
	void *ctx;
	struct span open;
	struct span held;
	bool has_open;
	bool has_held;
};

/* A span of a sampled thread waiting in `pending`; tentative: Blocked
 * 'other' that a later sample may turn into Ready. */
struct piece {
	struct span span;
	bool tentative;
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
	bool suspended; /* this thread alone stopped (a ptrace stop) */
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
	/* sampled mode */
	bool sampled;
	span_emit_fn out_emit; /* the process's callback */
	void *out_ctx;
	struct piece *pending;
	size_t pending_count;
	size_t pending_cap;
	size_t split_count; /* pending[0, split_count) are split pieces */
	struct span out;
	bool has_out;
};

#define PENDING_MAX 65536

struct span_process {
	struct track track;
	struct span_thread *threads;
	int64_t upid;
	unsigned live[SPAN_SUSPENDED + 1]; /* live threads per state */
	bool started;
	bool suspended;
	bool ended;
};

/* The states are numbered one past the format's table (names.h). */
_Static_assert(SPAN_NEW == 1 && SPAN_SUSPENDED == 6 && SPAN_SUSPENDED <= NAMES_STATE_COUNT,
	       "enum span_state follows names_states");

const char *span_state_name(enum span_state state)
{
	return state >= SPAN_NEW && state <= SPAN_SUSPENDED ? names_states[state - 1] : NULL;
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
	/* spans leave a track in order, never overlapping */
	assert(!track->has_held || track->held.ts + track->held.dur <= closed.ts);
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
	assert(!track->has_held || track->held.ts + track->held.dur <= track->open.ts);
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
	if (process->live[SPAN_SUSPENDED])
		return SPAN_SUSPENDED; /* every live thread stopped one by one */
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

static void thread_update(struct span_thread *thread, int64_t ts);

void span_process_suspend(struct span_process *process, int64_t ts, bool suspended)
{
	process->suspended = suspended;
	/* Its threads are stopped with it (a group stop stops them all). */
	for (struct span_thread *thread = process->threads; thread; thread = thread->next)
		thread_update(thread, ts);
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
		free(thread->pending);
		free(thread);
		thread = next;
	}
	free(process);
}

void span_thread_release(struct span_thread *thread)
{
	assert(thread->ended);
	struct span_thread **link = &thread->process->threads;
	while (*link && *link != thread)
		link = &(*link)->next;
	if (*link)
		*link = thread->next;
	free(thread->pending);
	free(thread);
}

/* --- thread ------------------------------------------------------------- */

static struct span thread_derive(const struct span_thread *thread)
{
	struct span next = span_of(false, thread->utid, SPAN_RUNNING);
	bool blocked;

	if (!thread->started)
		return span_of(false, thread->utid, SPAN_NEW);
	if (thread->suspended || thread->process->suspended)
		return span_of(false, thread->utid, SPAN_SUSPENDED);
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

void span_thread_call_holder(struct span_thread *thread, int64_t holder_id)
{
	if (thread->in_call)
		thread->call_holder = holder_id;
}

void span_thread_call_end(struct span_thread *thread, int64_t ts)
{
	thread->in_call = false;
	thread->started = true;
	thread_update(thread, ts);
}

int64_t span_thread_woken_by(struct span_thread *thread, int64_t waker_id, int64_t since)
{
	struct track *track = &thread->track;
	if (track->has_open && track->open.state == SPAN_BLOCKED) {
		track->open.waker_id = waker_id;
	} else if (track->has_held && track->held.state == SPAN_BLOCKED &&
		   track->held.ts + track->held.dur >= since) {
		track->held.waker_id = waker_id;
		return track->held.ts + track->held.dur;
	}
	return -1;
}

void span_thread_suspend(struct span_thread *thread, int64_t ts, bool suspended)
{
	thread->suspended = suspended;
	thread_update(thread, ts);
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

/* --- sampled mode ------------------------------------------------------ */

/* The merge stage in front of the process's callback. */
static void out_put(struct span_thread *thread, const struct span *span)
{
	if (span->dur <= 0)
		return;
	if (thread->has_out && same_span(&thread->out, span) &&
	    thread->out.ts + thread->out.dur == span->ts &&
	    thread->out.waker_id == span->waker_id) {
		thread->out.dur += span->dur;
		return;
	}
	assert(!thread->has_out || thread->out.ts + thread->out.dur <= span->ts);
	if (thread->has_out)
		thread->out_emit(thread->out_ctx, &thread->out);
	thread->out = *span;
	thread->has_out = true;
}

static void out_flush(struct span_thread *thread)
{
	if (thread->has_out)
		thread->out_emit(thread->out_ctx, &thread->out);
	thread->has_out = false;
}

static bool is_calls_running(const struct span *span)
{
	return span->state == SPAN_RUNNING && span->cpu < 0;
}

/* Room for more pieces in `pending`. Returns false when the thread has
 * gone PENDING_MAX pieces without a sample, or out of memory. */
static bool pending_reserve(struct span_thread *thread, size_t more)
{
	if (thread->pending_count + more <= thread->pending_cap)
		return true;
	size_t cap = thread->pending_cap ? thread->pending_cap : 64;
	while (cap < thread->pending_count + more)
		cap *= 2;
	if (cap > PENDING_MAX)
		return false;
	struct piece *grown = realloc(thread->pending, cap * sizeof *grown);
	if (!grown)
		return false;
	thread->pending = grown;
	thread->pending_cap = cap;
	return true;
}

/* Send the first count pieces on and drop them from `pending`. */
static void pending_emit_first(struct span_thread *thread, size_t count)
{
	for (size_t i = 0; i < count; i++)
		out_put(thread, &thread->pending[i].span);
	memmove(thread->pending, thread->pending + count,
		(thread->pending_count - count) * sizeof *thread->pending);
	thread->pending_count -= count;
	thread->split_count = thread->split_count > count ? thread->split_count - count : 0;
}

/* The pieces since the last sample (from split_count on): divide their
 * 'calls' Running time into run_ns Running and ready_ns Ready (each capped
 * by what there is; each span in proportion, Running first), the rest
 * Blocked 'other', tentatively. Returns the Ready time that did not fit. */
static int64_t pending_split(struct span_thread *thread, int64_t run_ns, int64_t ready_ns)
{
	size_t first = thread->split_count, raw = thread->pending_count - first;
	int64_t outside = 0;
	for (size_t i = first; i < thread->pending_count; i++)
		if (is_calls_running(&thread->pending[i].span))
			outside += thread->pending[i].span.dur;
	if (run_ns > outside)
		run_ns = outside;
	int64_t debt = ready_ns > outside - run_ns ? ready_ns - (outside - run_ns) : 0;
	ready_ns -= debt;
	if (!pending_reserve(thread, 2 * raw)) /* each span may become three */
		return 0;
	/* Move the raw spans to the end, then write the pieces in place. */
	memmove(thread->pending + first + 2 * raw, thread->pending + first,
		raw * sizeof *thread->pending);
	size_t at = first;
	int64_t seen = 0, run_given = 0, ready_given = 0;
	for (size_t i = 0; i < raw; i++) {
		struct span span = thread->pending[first + 2 * raw + i].span;
		if (!is_calls_running(&span)) {
			thread->pending[at++] = (struct piece){span, false};
			continue;
		}
		/* Cumulative proportions: rounding loses no nanosecond. When
		 * every such span is empty (outside 0), run_ns and ready_ns
		 * are 0 too and there is nothing to share. */
		seen += span.dur;
		int64_t run_to = outside ? (int64_t)((__int128)run_ns * seen / outside) : 0;
		int64_t ready_to = outside ? (int64_t)((__int128)ready_ns * seen / outside) : 0;
		int64_t run = run_to - run_given, ready = ready_to - ready_given;
		if (run > span.dur) /* rounding: never past the span's end */
			run = span.dur;
		if (ready > span.dur - run)
			ready = span.dur - run;
		assert(run >= 0 && ready >= 0 && run + ready <= span.dur);
		run_given += run;
		ready_given += ready;
		struct span piece = span;
		piece.dur = run;
		thread->pending[at++] = (struct piece){piece, false};
		piece.ts += run;
		piece.state = SPAN_READY;
		piece.dur = ready;
		thread->pending[at++] = (struct piece){piece, false};
		piece.ts += ready;
		piece.state = SPAN_BLOCKED;
		piece.reason = WEFT_REASON_OTHER;
		piece.dur = span.dur - run - ready;
		thread->pending[at++] = (struct piece){piece, true};
	}
	assert(run_given <= run_ns && ready_given <= ready_ns);
	thread->pending_count = at;
	thread->split_count = at;
	return debt;
}

/* The kernel adds a wait to run_delay only when the wait ends: Ready time
 * reported now may have been spent in earlier intervals, where it showed as
 * Blocked 'other'. Turn tentative 'other' time into Ready, latest first,
 * up to debt. */
static void pending_repay(struct span_thread *thread, int64_t debt)
{
	for (size_t i = thread->split_count; i-- > 0 && debt > 0;) {
		struct piece *piece = &thread->pending[i];
		if (!piece->tentative || piece->span.dur <= 0)
			continue;
		int64_t take = piece->span.dur < debt ? piece->span.dur : debt;
		debt -= take;
		if (take == piece->span.dur) {
			piece->span.state = SPAN_READY;
			piece->span.reason = WEFT_REASON_NONE;
			piece->tentative = false;
			continue;
		}
		if (!pending_reserve(thread, 1))
			return;
		piece = &thread->pending[i];
		memmove(piece + 2, piece + 1, (thread->pending_count - i - 1) * sizeof *piece);
		thread->pending_count++;
		thread->split_count++;
		piece->span.dur -= take;
		piece[1] = (struct piece){piece->span, false};
		piece[1].span.ts += piece->span.dur;
		piece[1].span.dur = take;
		piece[1].span.state = SPAN_READY;
		piece[1].span.reason = WEFT_REASON_NONE;
	}
}

/* The track's callback in sampled mode. */
static void pending_emit(void *ctx, const struct span *span)
{
	struct span_thread *thread = ctx;
	if (!pending_reserve(thread, 1)) {
		/* no sample for a long time, or no memory: send it all unsplit */
		pending_emit_first(thread, thread->pending_count);
		out_put(thread, span);
		return;
	}
	thread->pending[thread->pending_count++] = (struct piece){*span, false};
}

int span_thread_use_samples(struct span_thread *thread)
{
	if (thread->sampled)
		return 0;
	if (!pending_reserve(thread, 64))
		return -ENOMEM;
	thread->sampled = true;
	thread->out_emit = thread->track.emit;
	thread->out_ctx = thread->track.ctx;
	/* Spans the track closed already are still held there: they go to
	 * `pending` like every later one. */
	thread->track.emit = pending_emit;
	thread->track.ctx = thread;
	return 0;
}

void span_thread_sample(struct span_thread *thread, int64_t ts, int64_t run_ns, int64_t ready_ns)
{
	if (!thread->sampled || thread->ended)
		return;
	struct track *track = &thread->track;
	if (track->has_open) {
		/* Cut the open span at the sample: its first part belongs to
		 * this interval. */
		struct span same = track->open;
		if (ts < same.ts)
			ts = same.ts;
		track_close(track, ts);
		if (track->has_held)
			track->emit(track->ctx, &track->held);
		track->has_held = false;
		track->open = same;
		track->open.ts = ts;
		track->has_open = true;
	}
	int64_t debt = pending_split(thread, run_ns < 0 ? 0 : run_ns, ready_ns < 0 ? 0 : ready_ns);
	pending_repay(thread, debt);
	/* Pieces older than the repayment window are final. */
	size_t final = 0;
	while (final < thread->split_count &&
	       thread->pending[final].span.ts + thread->pending[final].span.dur <=
		   ts - SPAN_SAMPLE_WINDOW_NS)
		final++;
	pending_emit_first(thread, final);
}

void span_thread_end(struct span_thread *thread, int64_t ts)
{
	if (thread->ended)
		return;
	if (thread->track.has_open && ts < thread->track.open.ts)
		ts = thread->track.open.ts;
	track_end(&thread->track, ts);
	if (thread->sampled) {
		pending_emit_first(thread, thread->pending_count);
		out_flush(thread);
	}
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
