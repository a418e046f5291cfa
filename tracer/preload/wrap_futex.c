/*
 * wrap_futex.c — futex waits made through syscall(2) (hot path), as
 * runtimes with their own locks do (Rust's std::sync::Mutex, for one).
 *
 * A FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI(2) or
 * FUTEX_WAIT_REQUEUE_PI records BLOCK_BEGIN/END (reason futex, a = the
 * futex word's address; for the PI locks b = the owner's tid, which the
 * kernel's PI protocol keeps in the word). A call that wakes waiters
 * (FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP on both words,
 * FUTEX_UNLOCK_PI) first records UNLOCK (reason futex, a = the word), so the
 * collector names the thread that released a runtime's own lock as the
 * waker of the wait it ended, as for pthread's. Runtimes make these calls
 * only when a waiter may sleep (Rust's std wakes only a contended word), so
 * the record costs nothing on their uncontended path. Every other system
 * call is passed through as is.
 * The six argument registers are forwarded whatever the call, as glibc's
 * own syscall() reads them.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"
#include "real.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

static inline int futex_waits(long op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return 1;
	default:
		return 0;
	}
}

static inline int futex_wakes(long op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_WAKE_OP:
	case FUTEX_UNLOCK_PI:
		return 1;
	default:
		return 0;
	}
}

static inline int futex_is_pi_lock(long op)
{
	return (op & FUTEX_CMD_MASK) == FUTEX_LOCK_PI || (op & FUTEX_CMD_MASK) == FUTEX_LOCK_PI2;
}

/* Out of line: the wake of a word (and of the second word of WAKE_OP). */
static __attribute__((noinline, cold)) void record_futex_wake(long op, long word, long word2)
{
	preload_emit(&preload_self, WEFT_EV_UNLOCK, WEFT_REASON_FUTEX, 0, (uintptr_t)word, 0);
	if ((op & FUTEX_CMD_MASK) == FUTEX_WAKE_OP && word2)
		preload_emit(&preload_self, WEFT_EV_UNLOCK, WEFT_REASON_FUTEX, 0, (uintptr_t)word2,
			     0);
}

WEFT_EXPORT long syscall(long number, ...)
{
	va_list args;
	va_start(args, number);
	long a1 = va_arg(args, long), a2 = va_arg(args, long), a3 = va_arg(args, long);
	long a4 = va_arg(args, long), a5 = va_arg(args, long), a6 = va_arg(args, long);
	va_end(args);
	struct preload_thread *t;
	if (number != SYS_futex || !(t = preload_recorder()))
		return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
	if (futex_wakes(a2)) {
		record_futex_wake(a2, a1, a5);
		return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
	}
	if (!futex_waits(a2))
		return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
	/* the word of a PI lock holds its owner's tid: the kernel faults on
	 * a word that cannot be read, so the caller's word is readable */
	uint64_t owner =
	    futex_is_pi_lock(a2) && a1
		? (__atomic_load_n((const uint32_t *)a1, __ATOMIC_RELAXED) & FUTEX_TID_MASK)
		: 0;
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_FUTEX, WEFT_CALL_FUTEX, (uintptr_t)a1, owner,
				      REAL(syscall)(number, a1, a2, a3, a4, a5, a6));
}
