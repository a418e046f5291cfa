/*
 * owner.h — who holds a lock, read from glibc's own lock words (hot path).
 *
 * glibc keeps the owner's tid in pthread_mutex_t.__data.__owner for every
 * mutex kind it implements, and the writer's tid in
 * pthread_rwlock_t.__data.__cur_writer while a writer holds a rwlock. The
 * reads race with the owner's unlock by design: the value is a hint taken
 * just before the thread blocks (0 when it saw the lock free).
 * __data.__lock is 0 when free, 1 when held without waiters and above 1
 * (or with the high waiters bit for PI/robust kinds) when threads wait.
 */
#ifndef WEFT_PRELOAD_OWNER_H
#define WEFT_PRELOAD_OWNER_H

#include <pthread.h>
#include <stdint.h>

static inline uint32_t owner_of_mutex(const pthread_mutex_t *mutex)
{
	return (uint32_t)__atomic_load_n(&mutex->__data.__owner, __ATOMIC_RELAXED);
}

static inline uint32_t owner_of_rwlock_writer(const pthread_rwlock_t *rwlock)
{
	return (uint32_t)__atomic_load_n(&rwlock->__data.__cur_writer, __ATOMIC_RELAXED);
}

/* Nonzero when a normal (non-PI, non-robust) mutex has waiters. */
static inline int owner_mutex_has_waiters(const pthread_mutex_t *mutex)
{
	return __atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED) > 1;
}

#endif
