/*
 * preload.h — the state libweft.so keeps inside a traced process.
 *
 * Process-wide state is one struct, preload_proc, owned by life.c: the
 * mapped ring file and this process incarnation's token. It is written
 * once at start (constructor, or the first wrapper if a library
 * constructor ran first) and in a fork child before the child does
 * anything else; wrappers only read it.
 *
 * Per-thread state is preload_self, in initial-exec TLS so that reading it
 * never allocates or takes a lock:
 *   writer   the thread's claimed ring slot (writer.slot NULL: the thread
 *            records nothing: not attached, no slot free, or ended);
 *   busy     raised while weft's own code runs and around every append to
 *            the ring; every wrapper then calls the real function and
 *            records nothing (re-entry guard, signal-handler guard);
 *   in_fork  raised around the real fork(): the atfork handlers of the
 *            program run then and must not write into the parent's ring;
 *   seen     the thread went through start-up (claimed, or found it
 *            cannot); an unseen thread claims lazily on its first wrapper;
 *   wait_*   the recorded wait in progress (preload_wait_enter);
 *   locks    the locks it holds and the lock orders it has shown
 *            (lockorder.h).
 *
 * preload_recorder() is the gate every wrapper passes: it returns the
 * thread state when the call should be recorded, NULL when the wrapper must
 * be a plain pass-through.
 *
 * Signal handlers: once the process has started (preload_init ran), the
 * wrappers are async-signal-safe: they touch only this thread's TLS and
 * ring (lock-free, no allocation) and the real function. A handler that
 * interrupts a recorded wait (preload_wait_enter) or an append
 * (preload_write_begin) records nothing.
 */
#ifndef WEFT_PRELOAD_PRELOAD_H
#define WEFT_PRELOAD_PRELOAD_H

#include <errno.h>
#include <stdint.h>

#include "emit.h"
#include "lockorder.h"
#include "ring.h"
#include "stacks.h"

#define WEFT_EXPORT __attribute__((visibility("default")))

struct preload_process {
	struct ring_map map;
	uint64_t token;
	uint32_t pid;
	uint32_t ppid;
	int attached;		/* map is valid: record */
	_Atomic uint32_t slots; /* threads of this image holding a slot */
};

struct preload_thread {
	struct ring_writer writer;
	uint32_t tid;
	uint32_t busy;
	uint8_t in_fork;
	uint8_t seen;
	uintptr_t wait_frame; /* see preload_wait_enter */
	uint64_t wait_object;
	uint64_t wait_ns; /* duration of the last recorded wait */
	uint8_t wait_reason;
	uint8_t wait_call;
	uint64_t fork_ts; /* start of the fork call in progress, or 0 */
	/* vfork: how many are under way in this thread, whose TLS the child
	 * borrows (wrap_proc.c); the child leaves here the path it execs, for
	 * the parent's FORK */
	uint8_t in_vfork;
	char vfork_exec[WEFT_PAYLOAD_MAX];
	struct lockorder locks; /* the locks it holds (lockorder.h) */
};

extern struct preload_process preload_proc;
extern __thread struct preload_thread preload_self __attribute__((tls_model("initial-exec")));

/* Slow path of preload_recorder: start the process (if its constructor has
 * not run yet) and claim a slot for the calling thread. Returns the thread
 * state if it now records, else NULL. Not the hot path: once per thread. */
struct preload_thread *preload_thread_adopt(void);

static inline struct preload_thread *preload_recorder(void)
{
	struct preload_thread *self = &preload_self;
	if (__builtin_expect(self->busy | self->in_fork, 0))
		return NULL;
	if (__builtin_expect(self->writer.slot != NULL, 1))
		return self;
	if (self->seen)
		return NULL;
	return preload_thread_adopt();
}

/* Record one transition of the calling thread now (t from
 * preload_recorder). Nothing is written if the thread lost its slot. */
/* Every append to the thread's ring happens between these two: a signal
 * handler that interrupts the append finds the thread busy, and its
 * wrapped calls pass through instead of appending to the same ring at the
 * same head. */
static inline void preload_write_begin(struct preload_thread *t)
{
	t->busy++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void preload_write_end(struct preload_thread *t)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy--;
}

static inline void preload_emit_at(struct preload_thread *t, uint64_t ts, uint16_t type,
				   uint8_t reason, uint8_t call, uint64_t a, uint64_t b)
{
	if (t->writer.slot) {
		preload_write_begin(t);
		emit_record(&t->writer, type, reason, call, ts, a, b);
		preload_write_end(t);
	}
}

static inline void preload_emit(struct preload_thread *t, uint16_t type, uint8_t reason,
				uint8_t call, uint64_t a, uint64_t b)
{
	preload_emit_at(t, emit_now(), type, reason, call, a, b);
}

/*
 * Waits do not nest within one thread (event.h). A signal handler that
 * runs while the thread is blocked in a recorded call (the self-pipe
 * trick: write() from a handler while the thread sits in poll) must not
 * record, nor race the thread's own ring write. wait_frame holds the frame
 * address of the wrapper that is waiting, 0 when none. A wrapper deeper on
 * the same stack is such a handler: it passes through. One at the same
 * depth or above finds a wait the program left with siglongjmp from a
 * handler: that wait is closed now (BLOCK_END, b = -EINTR, at the time it
 * is noticed) and recording goes on. (After such a siglongjmp, wrappers
 * called from deeper than the abandoned wait record nothing until one is
 * called from its depth or above; a signal handler on an alternate stack
 * above the thread's stack records its waits.) A child forked inside a
 * wait (from a signal handler that interrupted it, as a server's master
 * starts workers) is not in that wait: preload_fork_child clears
 * wait_frame, so the child records its own waits, and the copy of the
 * parent's wait that the child may return into ends without a record.
 * Returns 1 when the wrapper may record its wait, 0 when it must not.
 */
static inline int preload_wait_enter(struct preload_thread *t, uintptr_t frame, uint8_t reason,
				     uint8_t call, uint64_t object)
{
	if (__builtin_expect(t->wait_frame != 0, 0)) {
		if (frame < t->wait_frame)
			return 0;
		preload_emit(t, WEFT_EV_BLOCK_END, t->wait_reason, t->wait_call, t->wait_object,
			     (uint64_t) - (int64_t)EINTR);
	}
	t->wait_frame = frame;
	t->wait_reason = reason;
	t->wait_call = call;
	t->wait_object = object;
	return 1;
}

/*
 * The shape of every recorded blocking call: BLOCK_BEGIN, the real call,
 * BLOCK_END with the result, errno as the real call left it.
 * PRELOAD_BLOCKING_ERRNO is for calls returning -1 and setting errno
 * (BLOCK_END b = result or -errno); PRELOAD_BLOCKING_CODE for calls
 * returning an error number (pthread_*, clock_nanosleep: b = -error, 0 on
 * success, PTHREAD_BARRIER_SERIAL_THREAD included). Afterwards t->wait_ns
 * holds how long the call took (UINT64_MAX when it was not recorded).
 * extra (a lock's owner, read from the lock) is read before the
 * BLOCK_BEGIN stamp: the owner it names held the lock at or before that
 * time, never only after it. PRELOAD_BLOCKING_READY also names the a of
 * the BLOCK_END, evaluated after the call (result_ holds its result): the
 * readiness waits say there which fd became ready (event.h).
 */
#define PRELOAD_BLOCKING(t, reason, call, object, extra, result_type, expr, end_value)             \
	PRELOAD_BLOCKING_READY(t, reason, call, object, extra, result_type, expr, end_value,       \
			       (uint64_t)(object))

#define PRELOAD_BLOCKING_READY(t, reason, call, object, extra, result_type, expr, end_value,       \
			       end_object)                                                         \
	({                                                                                         \
		uintptr_t frame_ = (uintptr_t)__builtin_frame_address(0);                          \
		result_type result_;                                                               \
		if (!preload_wait_enter(t, frame_, reason, call, (uint64_t)(object))) {            \
			result_ = (expr);                                                          \
			(t)->wait_ns = UINT64_MAX;                                                 \
		} else {                                                                           \
			uint64_t extra_ = (uint64_t)(extra); /* read before the stamp           */ \
			if (stacks_mode)                                                           \
				stacks_record(t, STACKS_WAIT,                                      \
					      (uintptr_t)__builtin_return_address(0));             \
			uint64_t begin_ = emit_now();                                              \
			preload_emit_at(t, begin_, WEFT_EV_BLOCK_BEGIN, reason, call,              \
					(uint64_t)(object), extra_);                               \
			result_ = (expr);                                                          \
			int errno_ = errno;                                                        \
			(t)->wait_ns = UINT64_MAX;                                                 \
			if ((t)->wait_frame == frame_) { /* else a fork child's copy */            \
				uint64_t end_ = emit_now();                                        \
				preload_emit_at(t, end_, WEFT_EV_BLOCK_END, reason, call,          \
						(uint64_t)(end_object), (uint64_t)(end_value));    \
				(t)->wait_frame = 0;                                               \
				(t)->wait_ns = end_ - begin_;                                      \
			}                                                                          \
			errno = errno_;                                                            \
		}                                                                                  \
		result_;                                                                           \
	})

#define PRELOAD_BLOCKING_ERRNO(t, reason, call, object, extra, expr)                               \
	PRELOAD_BLOCKING(t, reason, call, object, extra, __typeof__(expr), expr,                   \
			 (int64_t)result_ < 0 ? -(int64_t)errno_ : (int64_t)result_)

#define PRELOAD_BLOCKING_CODE(t, reason, call, object, extra, expr)                                \
	PRELOAD_BLOCKING(t, reason, call, object, extra, int, expr,                                \
			 result_ > 0 ? -(int64_t)result_ : 0)

/* --- life.c: process and thread life (not the hot path) ------------- */

/* Start recording a thread created by the pthread_create wrapper: claim a
 * slot, write THREAD_START (a = creator tid, b = create_ts). */
void preload_thread_begin(uint32_t creator_tid, uint64_t create_ts);

/* Write THREAD_EXIT and release the calling thread's slot (if any). A
 * recorded wait still open (the thread was cancelled in it, or called
 * pthread_exit from a handler inside it) is closed first: BLOCK_END with
 * b = -ECANCELED. */
void preload_thread_end(void);

/* In a fork child, before anything else may record: forget the parent's
 * slot, take a new token, claim, write PROC_START (origin FORK, b =
 * fork_ts) and THREAD_START. */
void preload_fork_child(uint64_t fork_ts);

/* The tid of the calling thread (cached in TLS once known). */
uint32_t preload_tid(void);

#endif
