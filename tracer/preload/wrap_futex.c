/*
 * wrap_futex.c — futex waits made through syscall(2) (hot path), as
 * runtimes with their own locks do (Rust's std::sync::Mutex, for one).
 *
 * A FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI(2) or
 * FUTEX_WAIT_REQUEUE_PI records BLOCK_BEGIN/END (reason futex, a = the
 * futex word's address); every other system call is passed through as is.
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

WEFT_EXPORT long syscall(long number, ...)
{
	va_list args;
	va_start(args, number);
	long a1 = va_arg(args, long), a2 = va_arg(args, long), a3 = va_arg(args, long);
	long a4 = va_arg(args, long), a5 = va_arg(args, long), a6 = va_arg(args, long);
	va_end(args);
	struct preload_thread *t;
	if (number != SYS_futex || !futex_waits(a2) || !(t = preload_recorder()))
		return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_FUTEX, WEFT_CALL_FUTEX, (uintptr_t)a1, 0,
				      REAL(syscall)(number, a1, a2, a3, a4, a5, a6));
}
