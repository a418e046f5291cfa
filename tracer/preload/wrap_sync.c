/*
 * wrap_sync.c — wrappers for the pthread and semaphore waits (hot path).
 *
 * Only transitions are recorded. Locks try the non-blocking call first and
 * record BLOCK_BEGIN/END only when the thread must wait (a mutex names its
 * owner's tid in b); condition waits, barrier waits, and joins of threads
 * still alive always block and are always recorded. Results and errno are
 * passed through unchanged.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "owner.h"
#include "preload.h"
#include "shared.h"
#include "real.h"
#include "threadtid.h"

/* The recorded (slow) paths of the hottest wrappers live out of line, so
 * that their uncontended path saves no registers and sets up no frame:
 * they take the thread state anew rather than keep it live across the
 * non-blocking attempt. */
#define SLOW_PATH __attribute__((noinline, cold))

/* The shape of every lock wrapper: pass through when not recording; else
 * try the non-blocking form first, and only when it finds the lock busy
 * record the blocking call as a wait (owner: the holder's tid, a hint). */
#define TRY_THEN_WAIT(try_call, reason, call, object, owner, blocking_call)                        \
	({                                                                                         \
		struct preload_thread *t_ = preload_recorder();                                    \
		int result_;                                                                       \
		if (!t_)                                                                           \
			result_ = (blocking_call);                                                 \
		else if ((result_ = (try_call)) == EBUSY)                                          \
			result_ =                                                                  \
			    PRELOAD_BLOCKING_CODE(t_, reason, call, object, owner, blocking_call); \
		result_;                                                                           \
	})

/* --- mutexes --------------------------------------------------------- */

static SLOW_PATH int mutex_lock_blocking(pthread_mutex_t *mutex)
{
	struct preload_thread *t = &preload_self;
	shared_note_mutex(t, mutex);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK, mutex,
				     owner_of_mutex(mutex), REAL(pthread_mutex_lock)(mutex));
}

WEFT_EXPORT int pthread_mutex_lock(pthread_mutex_t *mutex)
{
	if (!preload_recorder())
		return REAL(pthread_mutex_lock)(mutex);
	int result = REAL(pthread_mutex_trylock)(mutex);
	if (__builtin_expect(result != EBUSY, 1))
		return result;
	return mutex_lock_blocking(mutex);
}

WEFT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *abstime)
{
	return TRY_THEN_WAIT(REAL(pthread_mutex_trylock)(mutex), WEFT_REASON_MUTEX,
			     WEFT_CALL_MUTEX_TIMEDLOCK, mutex, owner_of_mutex(mutex),
			     REAL(pthread_mutex_timedlock)(mutex, abstime));
}

WEFT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *mutex, clockid_t clock,
					const struct timespec *abstime)
{
	return TRY_THEN_WAIT(REAL(pthread_mutex_trylock)(mutex), WEFT_REASON_MUTEX,
			     WEFT_CALL_MUTEX_TIMEDLOCK, mutex, owner_of_mutex(mutex),
			     REAL(pthread_mutex_clocklock)(mutex, clock, abstime));
}

/* --- rwlocks --------------------------------------------------------- */

#define RDLOCK(rwlock, call, blocking_call)                                                        \
	TRY_THEN_WAIT(REAL(pthread_rwlock_tryrdlock)(rwlock), WEFT_REASON_RWLOCK, call, rwlock,    \
		      owner_of_rwlock_writer(rwlock), blocking_call)
#define WRLOCK(rwlock, call, blocking_call)                                                        \
	TRY_THEN_WAIT(REAL(pthread_rwlock_trywrlock)(rwlock), WEFT_REASON_RWLOCK, call, rwlock,    \
		      owner_of_rwlock_writer(rwlock), blocking_call)

WEFT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rwlock)
{
	return RDLOCK(rwlock, WEFT_CALL_RWLOCK_RDLOCK, REAL(pthread_rwlock_rdlock)(rwlock));
}

WEFT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rwlock)
{
	return WRLOCK(rwlock, WEFT_CALL_RWLOCK_WRLOCK, REAL(pthread_rwlock_wrlock)(rwlock));
}

WEFT_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rwlock, const struct timespec *abstime)
{
	return RDLOCK(rwlock, WEFT_CALL_RWLOCK_TIMEDRDLOCK,
		      REAL(pthread_rwlock_timedrdlock)(rwlock, abstime));
}

WEFT_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rwlock, const struct timespec *abstime)
{
	return WRLOCK(rwlock, WEFT_CALL_RWLOCK_TIMEDWRLOCK,
		      REAL(pthread_rwlock_timedwrlock)(rwlock, abstime));
}

WEFT_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rwlock, clockid_t clock,
					   const struct timespec *abstime)
{
	return RDLOCK(rwlock, WEFT_CALL_RWLOCK_TIMEDRDLOCK,
		      REAL(pthread_rwlock_clockrdlock)(rwlock, clock, abstime));
}

WEFT_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rwlock, clockid_t clock,
					   const struct timespec *abstime)
{
	return WRLOCK(rwlock, WEFT_CALL_RWLOCK_TIMEDWRLOCK,
		      REAL(pthread_rwlock_clockwrlock)(rwlock, clock, abstime));
}

/* --- condition variables and barriers -------------------------------- */

WEFT_EXPORT int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_cond_wait)(cond, mutex);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_WAIT, cond, 0,
				     REAL(pthread_cond_wait)(cond, mutex));
}

WEFT_EXPORT int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
				       const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_cond_timedwait)(cond, mutex, abstime);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_TIMEDWAIT, cond, 0,
				     REAL(pthread_cond_timedwait)(cond, mutex, abstime));
}

WEFT_EXPORT int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
				       clockid_t clock, const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_cond_clockwait)(cond, mutex, clock, abstime);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_TIMEDWAIT, cond, 0,
				     REAL(pthread_cond_clockwait)(cond, mutex, clock, abstime));
}

WEFT_EXPORT int pthread_barrier_wait(pthread_barrier_t *barrier)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_barrier_wait)(barrier);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_BARRIER, WEFT_CALL_BARRIER_WAIT, barrier, 0,
				     REAL(pthread_barrier_wait)(barrier));
}

/* --- semaphores ------------------------------------------------------ */

static SLOW_PATH int sem_wait_blocking(sem_t *sem)
{
	struct preload_thread *t = &preload_self;
	shared_note_sem(t, sem);
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SEM, WEFT_CALL_SEM_WAIT, sem, 0,
				      REAL(sem_wait)(sem));
}

/* Try first: 1 when sem was taken without waiting, -1 when it cannot be
 * (EINVAL: the waiting call would fail the same way), 0 when the caller
 * must wait (errno as it was). */
static inline int sem_taken(sem_t *sem)
{
	int saved = errno;
	if (__builtin_expect(REAL(sem_trywait)(sem) == 0, 1))
		return 1;
	if (errno != EAGAIN)
		return -1;
	errno = saved;
	return 0;
}

WEFT_EXPORT int sem_wait(sem_t *sem)
{
	if (!preload_recorder())
		return REAL(sem_wait)(sem);
	int taken = sem_taken(sem);
	if (taken)
		return taken > 0 ? 0 : -1;
	return sem_wait_blocking(sem);
}

WEFT_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(sem_timedwait)(sem, abstime);
	int taken = sem_taken(sem);
	if (taken)
		return taken > 0 ? 0 : -1;
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SEM, WEFT_CALL_SEM_TIMEDWAIT, sem, 0,
				      REAL(sem_timedwait)(sem, abstime));
}

WEFT_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(sem_clockwait)(sem, clock, abstime);
	int taken = sem_taken(sem);
	if (taken)
		return taken > 0 ? 0 : -1;
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SEM, WEFT_CALL_SEM_TIMEDWAIT, sem, 0,
				      REAL(sem_clockwait)(sem, clock, abstime));
}

/* --- joins ----------------------------------------------------------- */

WEFT_EXPORT int pthread_join(pthread_t thread, void **retval)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_join)(thread, retval);
	int result = REAL(pthread_tryjoin_np)(thread, retval);
	if (result == 0)
		return 0; /* it had ended: no wait */
	if (result != EBUSY)
		return REAL(pthread_join)(thread, retval); /* its own error, unrecorded */
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_JOIN, WEFT_CALL_JOIN, thread,
				     threadtid_of(thread), REAL(pthread_join)(thread, retval));
}

WEFT_EXPORT int pthread_timedjoin_np(pthread_t thread, void **retval,
				     const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_timedjoin_np)(thread, retval, abstime);
	int result = REAL(pthread_tryjoin_np)(thread, retval);
	if (result == 0)
		return 0;
	if (result != EBUSY)
		return REAL(pthread_timedjoin_np)(thread, retval, abstime);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_JOIN, WEFT_CALL_TIMEDJOIN, thread,
				     threadtid_of(thread),
				     REAL(pthread_timedjoin_np)(thread, retval, abstime));
}
