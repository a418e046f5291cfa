/*
 * wrap_wake.c — the calls that wake other threads (hot path): a mutex
 * unlock with waiters, a condition signal or broadcast with waiters, a
 * semaphore post with waiters. Each writes its wake-up record (event.h:
 * UNLOCK a = mutex; COND_SIGNAL a = cond, b = 1 for broadcast; SEM_POST
 * a = sem) just before the real call, so that the collector can draw the
 * edge from the waker to the thread whose BLOCK_END follows. Without
 * waiters (the common case) nothing is written: the check is a load of
 * glibc's own lock word (owner.h); a signal or broadcast whose waiters were
 * all signalled already (they have not left their wait yet) wakes nobody
 * and writes nothing either. A release also leaves the thread's held
 * locks (lockorder.h).
 */
#include <gnu/libc-version.h>
#include <pthread.h>
#include <semaphore.h>

#include "lockorder.h"
#include "owner.h"
#include "preload.h"
#include "shared.h"
#include "real.h"

/* Out of line, taking the thread state anew: the wrappers' path without
 * waiters keeps nothing live but the object. */
static __attribute__((noinline, cold)) void record_wake(uint16_t type, uint8_t reason,
							const void *object, uint64_t extra)
{
	if (stacks_mode)
		stacks_record(&preload_self, STACKS_WAKE, 0);
	preload_emit(&preload_self, type, reason, 0, (uintptr_t)object, extra);
}

static __attribute__((noinline, cold)) void record_unlock(const pthread_mutex_t *mutex)
{
	shared_note_mutex(&preload_self, mutex);
	record_wake(WEFT_EV_UNLOCK, WEFT_REASON_MUTEX, mutex, 0);
}

static __attribute__((noinline, cold)) void record_post(const sem_t *sem)
{
	shared_note_sem(&preload_self, sem);
	record_wake(WEFT_EV_SEM_POST, WEFT_REASON_SEM, sem, 0);
}

WEFT_EXPORT int pthread_mutex_unlock(pthread_mutex_t *mutex)
{
	struct preload_thread *t = preload_recorder();
	if (t) {
		lockorder_released(&t->locks, mutex);
		if (__builtin_expect(owner_mutex_has_waiters(mutex), 0))
			record_unlock(mutex);
	}
	return REAL(pthread_mutex_unlock)(mutex);
}

WEFT_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rwlock)
{
	struct preload_thread *t = preload_recorder();
	if (t)
		lockorder_released(&t->locks, rwlock);
	return REAL(pthread_rwlock_unlock)(rwlock);
}

/* glibc 2.25 to 2.40: owner_cond_would_wake can read cond's groups; other
 * versions are asked only whether cond has waiters. Decided once. */
static int cond_groups_known(void)
{
	static int known = -1;
	int value = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (__builtin_expect(value < 0, 0)) {
		const char *version = gnu_get_libc_version();
		unsigned major = 0, minor = 0;
		for (; *version >= '0' && *version <= '9'; version++)
			major = major * 10 + (unsigned)(*version - '0');
		if (*version == '.')
			for (version++; *version >= '0' && *version <= '9'; version++)
				minor = minor * 10 + (unsigned)(*version - '0');
		value = major == 2 && minor >= 25 && minor <= 40;
		__atomic_store_n(&known, value, __ATOMIC_RELAXED);
	}
	return value;
}

/* Whether a signal or broadcast on cond now wakes a thread: one that finds
 * every waiter signalled already (they have not yet left their wait)
 * changes nothing and is not recorded. */
static inline int cond_would_wake(const pthread_cond_t *cond)
{
	return owner_cond_has_waiters(cond) &&
	       (!cond_groups_known() || owner_cond_would_wake(cond));
}

WEFT_EXPORT int pthread_cond_signal(pthread_cond_t *cond)
{
	if (preload_recorder() && cond_would_wake(cond))
		record_wake(WEFT_EV_COND_SIGNAL, WEFT_REASON_COND, cond, 0);
	return REAL(pthread_cond_signal)(cond);
}

WEFT_EXPORT int pthread_cond_broadcast(pthread_cond_t *cond)
{
	if (preload_recorder() && cond_would_wake(cond))
		record_wake(WEFT_EV_COND_SIGNAL, WEFT_REASON_COND, cond, 1);
	return REAL(pthread_cond_broadcast)(cond);
}

WEFT_EXPORT int sem_post(sem_t *sem)
{
	if (preload_recorder() && owner_sem_has_waiters(sem))
		record_post(sem);
	return REAL(sem_post)(sem);
}
