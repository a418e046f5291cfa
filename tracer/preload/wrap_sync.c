/*
 * wrap_sync.c — wrappers for the pthread and semaphore waits (hot path).
 *
 * Only transitions are recorded. Locks try the non-blocking call first and
 * record BLOCK_BEGIN/END only when the thread must wait (a mutex names its
 * owner's tid in b); condition waits, barrier waits, and joins of threads
 * still alive always block and are always recorded. Every lock taken
 * (trylock too) joins the thread's held locks (lockorder.h), which a
 * release leaves (wrap_wake.c); a condition wait keeps its mutex there:
 * it gives it up and takes it back inside libc. Results and errno are
 * passed through unchanged.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "lockorder.h"
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

/* Whether a lock call's result leaves the lock held (a robust mutex whose
 * owner died is held too). */
static inline int lock_taken(int result)
{
	return result == 0 || result == EOWNERDEAD;
}

/* The shape of every lock wrapper: pass through when not recording; else
 * try the non-blocking form first, and only when it finds the lock busy
 * record the blocking call as a wait (owner: the holder's tid, a hint).
 * A lock the thread holds itself in a way the blocking call refuses at
 * once (self_refused: an error-checking mutex, a rwlock it writes) is no
 * wait: the call passes through. A lock taken joins the thread's held
 * locks (flags: lockorder.h). */
#define TRY_THEN_WAIT(try_call, reason, call, object, owner, self_refused, flags, blocking_call)   \
	({                                                                                         \
		struct preload_thread *t_ = preload_recorder();                                    \
		int result_;                                                                       \
		if (!t_)                                                                           \
			result_ = (blocking_call);                                                 \
		else {                                                                             \
			if ((result_ = (try_call)) == EBUSY) {                                     \
				uint32_t owner_ = (owner);                                         \
				if (owner_ && owner_ == t_->tid && (self_refused))                 \
					result_ = (blocking_call);                                 \
				else                                                               \
					result_ = PRELOAD_BLOCKING_CODE(t_, reason, call, object,  \
									owner_, blocking_call);    \
			}                                                                          \
			if (lock_taken(result_))                                                   \
				lockorder_acquired(&t_->locks, object, flags, call, 1);            \
		}                                                                                  \
		result_;                                                                           \
	})

/* --- mutexes --------------------------------------------------------- */

static SLOW_PATH int mutex_lock_blocking(pthread_mutex_t *mutex)
{
	struct preload_thread *t = &preload_self;
	uint32_t owner = owner_of_mutex(mutex);
	if (owner && owner == t->tid && owner_mutex_errorcheck(mutex))
		return REAL(pthread_mutex_lock)(mutex); /* EDEADLK at once: no wait */
	shared_note_mutex(t, mutex);
	int result = PRELOAD_BLOCKING_CODE(t, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK, mutex, owner,
					   REAL(pthread_mutex_lock)(mutex));
	if (lock_taken(result))
		lockorder_acquired(&t->locks, mutex, 0, WEFT_CALL_MUTEX_LOCK, 1);
	return result;
}

WEFT_EXPORT int pthread_mutex_lock(pthread_mutex_t *mutex)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_mutex_lock)(mutex);
	int result = REAL(pthread_mutex_trylock)(mutex);
	if (__builtin_expect(result == 0, 1)) {
		lockorder_acquired(&t->locks, mutex, 0, WEFT_CALL_MUTEX_LOCK, 1);
		return 0;
	}
	if (result != EBUSY) {
		if (result == EOWNERDEAD)
			lockorder_acquired(&t->locks, mutex, 0, WEFT_CALL_MUTEX_LOCK, 1);
		return result;
	}
	return mutex_lock_blocking(mutex);
}

WEFT_EXPORT int pthread_mutex_trylock(pthread_mutex_t *mutex)
{
	struct preload_thread *t = preload_recorder();
	int result = REAL(pthread_mutex_trylock)(mutex);
	if (t && lock_taken(result))
		lockorder_acquired(&t->locks, mutex, 0, WEFT_CALL_MUTEX_LOCK, 0);
	return result;
}

#define MUTEX_WAIT(call, blocking_call)                                                            \
	TRY_THEN_WAIT(REAL(pthread_mutex_trylock)(mutex), WEFT_REASON_MUTEX, call, mutex,          \
		      owner_of_mutex(mutex), owner_mutex_errorcheck(mutex), 0, blocking_call)

WEFT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *abstime)
{
	return MUTEX_WAIT(WEFT_CALL_MUTEX_TIMEDLOCK, REAL(pthread_mutex_timedlock)(mutex, abstime));
}

WEFT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *mutex, clockid_t clock,
					const struct timespec *abstime)
{
	return MUTEX_WAIT(WEFT_CALL_MUTEX_TIMEDLOCK,
			  REAL(pthread_mutex_clocklock)(mutex, clock, abstime));
}

/* --- rwlocks --------------------------------------------------------- */

/* A rwlock names its holder only while a writer holds it (owner.h): a
 * wait for readers names none. The writer itself is refused at once
 * (EDEADLK), for reading and for writing. */
#define RDLOCK(rwlock, call, blocking_call)                                                        \
	TRY_THEN_WAIT(REAL(pthread_rwlock_tryrdlock)(rwlock), WEFT_REASON_RWLOCK, call, rwlock,    \
		      owner_of_rwlock_writer(rwlock), 1, LOCKORDER_RWLOCK | LOCKORDER_READ,        \
		      blocking_call)
#define WRLOCK(rwlock, call, blocking_call)                                                        \
	TRY_THEN_WAIT(REAL(pthread_rwlock_trywrlock)(rwlock), WEFT_REASON_RWLOCK, call, rwlock,    \
		      owner_of_rwlock_writer(rwlock), 1, LOCKORDER_RWLOCK, blocking_call)

WEFT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rwlock)
{
	return RDLOCK(rwlock, WEFT_CALL_RWLOCK_RDLOCK, REAL(pthread_rwlock_rdlock)(rwlock));
}

WEFT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rwlock)
{
	return WRLOCK(rwlock, WEFT_CALL_RWLOCK_WRLOCK, REAL(pthread_rwlock_wrlock)(rwlock));
}

WEFT_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rwlock)
{
	struct preload_thread *t = preload_recorder();
	int result = REAL(pthread_rwlock_tryrdlock)(rwlock);
	if (t && result == 0)
		lockorder_acquired(&t->locks, rwlock, LOCKORDER_RWLOCK | LOCKORDER_READ,
				   WEFT_CALL_RWLOCK_RDLOCK, 0);
	return result;
}

WEFT_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rwlock)
{
	struct preload_thread *t = preload_recorder();
	int result = REAL(pthread_rwlock_trywrlock)(rwlock);
	if (t && result == 0)
		lockorder_acquired(&t->locks, rwlock, LOCKORDER_RWLOCK, WEFT_CALL_RWLOCK_WRLOCK, 0);
	return result;
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
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_WAIT, cond, mutex,
				     REAL(pthread_cond_wait)(cond, mutex));
}

WEFT_EXPORT int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
				       const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_cond_timedwait)(cond, mutex, abstime);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_TIMEDWAIT, cond, mutex,
				     REAL(pthread_cond_timedwait)(cond, mutex, abstime));
}

WEFT_EXPORT int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
				       clockid_t clock, const struct timespec *abstime)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_cond_clockwait)(cond, mutex, clock, abstime);
	return PRELOAD_BLOCKING_CODE(t, WEFT_REASON_COND, WEFT_CALL_COND_TIMEDWAIT, cond, mutex,
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
