/*
 * span.h — the span builder: turns a thread's transitions into state spans
 * that tile its life, and derives its process's spans from its threads.
 *
 * A thread's state is computed from two independent inputs:
 *   - the interposed call in progress (span_thread_call_begin/_end), which
 *     says why a thread would be Blocked (reason, object, holder);
 *   - scheduler switch records (span_thread_switch_in/_out), which say
 *     whether it is on a CPU. Until a thread has received one, it is in
 *     'calls' mode: Running means "not inside a blocking call".
 * With switch records: switch-in = Running on cpu N; switch-out with
 * preempt = Ready; switch-out without = Blocked, annotated by the call in
 * progress ('other' when there is none). Adding the second source changes
 * only which input drives the state, not how spans are cut.
 *
 * Spans are emitted through a callback, never stored. Zero-length spans are
 * dropped, and consecutive identical spans are merged, so each emitted span
 * is maximal; one span is held back until the next differs (or the owner
 * ends) to make that possible. Timestamps that go backwards (events of
 * another thread sorted a little late) are clamped to the current span's
 * start, so the tiling never breaks.
 *
 * Sampled mode (span_thread_use_samples), for when only the kernel's CPU
 * counters can be read (/proc/.../schedstat, no perf): the thread's spans
 * are cut from its calls as in 'calls' mode but kept back until the next
 * sample (span_thread_sample) says how much of the interval since the
 * previous one the thread ran and how much it waited for a CPU. Then the
 * Blocked spans (inside a blocking call) stay as they are, and the time
 * outside calls is split: each such span becomes Running, then Ready, then
 * Blocked 'other', in the proportions of the interval (Running first, up
 * to the run time; Ready, up to the wait time; the rest the thread was off
 * the CPU without a call we saw). The kernel counts a wait for a CPU
 * when it ends, so Ready time a sample reports beyond its interval turns
 * the latest earlier 'other' time Ready (spans are kept back
 * SPAN_SAMPLE_WINDOW_NS for that). Spans after the last sample stay
 * 'calls' Running. The process's state is still derived from its threads' calls.
 *
 * Process spans: New from the process's start until span_process_start,
 * then Running if some live thread is Running, Ready if some is Ready (or
 * New) and none Running, Waiting if every live thread is Blocked,
 * Suspended while span_process_suspend holds. Not thread-safe: one owner
 * (the collector's model) calls everything.
 */
#ifndef WEFT_SPAN_H
#define WEFT_SPAN_H

#include <stdbool.h>
#include <stdint.h>

enum span_state {
	SPAN_NONE = 0,
	SPAN_NEW,
	SPAN_RUNNING,
	SPAN_READY,
	SPAN_BLOCKED,
	SPAN_WAITING,
	SPAN_SUSPENDED,
};

/* One emitted span. For a process span, only id/ts/dur/state are used and
 * the id fields are -1 ("not known"). */
struct span {
	bool is_process;
	int64_t id; /* utid or upid */
	int64_t ts;
	int64_t dur;
	enum span_state state;
	unsigned reason;   /* enum weft_reason, NONE unless Blocked */
	int64_t object_id; /* -1 when none */
	int64_t holder_id; /* utid holding the object, -1 when none */
	int cpu;	   /* -1 when not known */
	int64_t waker_id;  /* utid whose action ended this Blocked span, -1 */
};

typedef void (*span_emit_fn)(void *ctx, const struct span *span);

struct span_process;
struct span_thread;

/* The schema's string for a state ("Running", ...). */
const char *span_state_name(enum span_state state);

/* A process that is New from start_ts. Returns NULL when out of memory. */
struct span_process *span_process_new(span_emit_fn emit, void *ctx, int64_t upid, int64_t start_ts);
/* The process's first record: its New span ends at ts. */
void span_process_start(struct span_process *process, int64_t ts);
void span_process_suspend(struct span_process *process, int64_t ts, bool suspended);
/* End every live thread of the process at ts, then the process itself.
 * Emits the final spans. The process may not be used afterwards except by
 * span_process_free. */
void span_process_end(struct span_process *process, int64_t ts);
/* Free the process and every thread created in it. */
void span_process_free(struct span_process *process);

/* A thread of process, New from created_ts. Owned by the process. Returns
 * NULL when out of memory. */
struct span_thread *span_thread_new(struct span_process *process, int64_t utid, int64_t created_ts);
/* The thread's first record: New ends and it is Running at ts. */
void span_thread_start(struct span_thread *thread, int64_t ts);
/* The thread enters a blocking call (reason: enum weft_reason). */
void span_thread_call_begin(struct span_thread *thread, int64_t ts, unsigned reason,
			    int64_t object_id, int64_t holder_id);
void span_thread_call_end(struct span_thread *thread, int64_t ts);
/* The object of the call in progress is held by holder_id from now on
 * (-1: not known): Blocked spans that begin from now on name it; one open
 * now keeps the holder it began with (who held the object when it
 * began). No-op outside a call. */
void span_thread_call_holder(struct span_thread *thread, int64_t holder_id);
/* The thread's latest Blocked span (still open, or the last closed one
 * when the thread was switched in before its call returned) was ended by
 * waker_id's action at since. Call it before span_thread_call_end. Returns
 * where that span ends when it is closed already (its switch-in), -1 when
 * it is still open (it ends at the call's end) or there is none. A closed
 * span that ended before since was not ended by that action: it is left
 * as it is (-1). */
int64_t span_thread_woken_by(struct span_thread *thread, int64_t waker_id, int64_t since);
/* Scheduler switch records (perf). */
void span_thread_switch_in(struct span_thread *thread, int64_t ts, int cpu);
void span_thread_switch_out(struct span_thread *thread, int64_t ts, bool preempted);
/* The thread alone was stopped (suspended true: a ptrace stop) or
 * resumed at ts: Suspended in between, whatever it was doing. */
void span_thread_suspend(struct span_thread *thread, int64_t ts, bool suspended);
/* How long a sampled thread's spans are kept back after a sample, for
 * later samples to correct (span.c). */
#define SPAN_SAMPLE_WINDOW_NS (500 * 1000 * 1000ll)

/* Sampled mode from now on; call it right after span_thread_new. Returns 0
 * or -ENOMEM. */
int span_thread_use_samples(struct span_thread *thread);
/* A sample at ts: since the previous sample (or the thread's creation) the
 * thread ran run_ns and was runnable but not running ready_ns. Emits the
 * interval's spans. No-op unless in sampled mode. */
void span_thread_sample(struct span_thread *thread, int64_t ts, int64_t run_ns, int64_t ready_ns);
/* The thread ends at ts (Terminated from then on). Idempotent. */
void span_thread_end(struct span_thread *thread, int64_t ts);
bool span_thread_ended(const struct span_thread *thread);
/* Free an ended thread's builder (every span of it is out) and take it out
 * of its process's list. */
void span_thread_release(struct span_thread *thread);
/* The timestamp of the thread's latest transition (its current span's
 * start), or its end when ended. */
int64_t span_thread_last_ts(const struct span_thread *thread);

#endif
