/*
 * wrap_wake.c — the calls that wake other threads (hot path): a mutex
 * unlock with waiters, a condition signal or broadcast with waiters, a
 * semaphore post with waiters. Each writes its wake-up record (event.h:
 * UNLOCK a = mutex; COND_SIGNAL a = cond, b = 1 for broadcast; SEM_POST
 * a = sem) just before the real call, so that the collector can draw the
 * edge from the waker to the thread whose BLOCK_END follows. Without
 * waiters (the common case) nothing is written: the check is a load of
 * glibc's own lock word (owner.h).
 */
#include <pthread.h>
#include <semaphore.h>

#include "owner.h"
#include "preload.h"
#include "real.h"

WEFT_EXPORT int pthread_mutex_unlock(pthread_mutex_t *mutex)
{
	struct preload_thread *t = preload_recorder();
	if (t && owner_mutex_has_waiters(mutex))
		preload_emit(t, WEFT_EV_UNLOCK, WEFT_REASON_MUTEX, 0, (uintptr_t)mutex, 0);
	return REAL(pthread_mutex_unlock)(mutex);
}

WEFT_EXPORT int pthread_cond_signal(pthread_cond_t *cond)
{
	struct preload_thread *t = preload_recorder();
	if (t && owner_cond_has_waiters(cond))
		preload_emit(t, WEFT_EV_COND_SIGNAL, WEFT_REASON_COND, 0, (uintptr_t)cond, 0);
	return REAL(pthread_cond_signal)(cond);
}

WEFT_EXPORT int pthread_cond_broadcast(pthread_cond_t *cond)
{
	struct preload_thread *t = preload_recorder();
	if (t && owner_cond_has_waiters(cond))
		preload_emit(t, WEFT_EV_COND_SIGNAL, WEFT_REASON_COND, 0, (uintptr_t)cond, 1);
	return REAL(pthread_cond_broadcast)(cond);
}

WEFT_EXPORT int sem_post(sem_t *sem)
{
	struct preload_thread *t = preload_recorder();
	if (t && owner_sem_has_waiters(sem))
		preload_emit(t, WEFT_EV_SEM_POST, WEFT_REASON_SEM, 0, (uintptr_t)sem, 0);
	return REAL(sem_post)(sem);
}
