/*
 * wrap_sleep.c — wrappers for the sleeps (hot path). A sleep always
 * blocks: BLOCK_BEGIN (reason sleep, b = the requested duration in ns,
 * 0 for an absolute deadline) and BLOCK_END around the real call.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"
#include "real.h"

static inline uint64_t timespec_ns(const struct timespec *ts)
{
	return ts ? (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec : 0;
}

WEFT_EXPORT unsigned int sleep(unsigned int seconds)
{
	struct preload_thread *t = preload_recorder();
	if (!t || seconds == 0)
		return REAL(sleep)(seconds);
	/* sleep() cannot fail; it returns the seconds left (a long here so
	 * that the result reads as non-negative without a warning). */
	return (unsigned int)PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SLEEP, WEFT_CALL_SLEEP, 0,
						    (uint64_t)seconds * 1000000000u,
						    (long)REAL(sleep)(seconds));
}

WEFT_EXPORT int usleep(useconds_t usec)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(usleep)(usec);
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SLEEP, WEFT_CALL_USLEEP, 0,
				      (uint64_t)usec * 1000u, REAL(usleep)(usec));
}

WEFT_EXPORT int nanosleep(const struct timespec *request, struct timespec *remain)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(nanosleep)(request, remain);
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SLEEP, WEFT_CALL_NANOSLEEP, 0,
				      timespec_ns(request), REAL(nanosleep)(request, remain));
}

WEFT_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request,
				struct timespec *remain)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(clock_nanosleep)(clock, flags, request, remain);
	/* Returns an error number, like the pthread calls. */
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_SLEEP, WEFT_CALL_CLOCK_NANOSLEEP, 0,
				     (flags & TIMER_ABSTIME) ? 0 : timespec_ns(request),
				     REAL(clock_nanosleep)(clock, flags, request, remain));
}
