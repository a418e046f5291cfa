/*
 * owner.h — who holds a lock, read from glibc's own lock words (hot path).
 *
 * glibc keeps the owner's tid in pthread_mutex_t.__data.__owner for every
 * mutex kind it implements, and the writer's tid in
 * pthread_rwlock_t.__data.__cur_writer while a writer holds a rwlock. The
 * reads race with the owner's unlock by design: the value is a hint taken
 * just before the thread blocks (0 when it saw the lock free).
 * __data.__lock is 0 when free, 1 when held without waiters and above 1
 * for the plain kinds when threads wait; the PI and robust kinds keep the
 * owner's tid there and flag waiters with FUTEX_WAITERS (bit 31).
 * A condition variable counts its waiters in __data.__wrefs >> 3 (and
 * which of them a signal would still wake in its group counters), a
 * semaphore in the upper 32 bits of its 64-bit word (glibc >= 2.21 on
 * 64-bit targets). All of these are hints read without synchronisation:
 * they decide whether a wake-up record is worth writing, nothing else.
 */
#ifndef WEFT_PRELOAD_OWNER_H
#define WEFT_PRELOAD_OWNER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

static inline uint32_t owner_of_mutex(const pthread_mutex_t *mutex)
{
	return (uint32_t)__atomic_load_n(&mutex->__data.__owner, __ATOMIC_RELAXED);
}

static inline uint32_t owner_of_rwlock_writer(const pthread_rwlock_t *rwlock)
{
	return (uint32_t)__atomic_load_n(&rwlock->__data.__cur_writer, __ATOMIC_RELAXED);
}

#define OWNER_KIND_MASK 3u /* PTHREAD_MUTEX_KIND_MASK_NP */
#define OWNER_KIND_ERRORCHECK 2u

/* Nonzero for an error-checking mutex (robust or not): relocking it
 * returns EDEADLK at once. */
static inline int owner_mutex_errorcheck(const pthread_mutex_t *mutex)
{
	unsigned kind = (unsigned)__atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED);
	return (kind & OWNER_KIND_MASK) == OWNER_KIND_ERRORCHECK;
}

#define OWNER_KIND_ROBUST 16u
#define OWNER_KIND_PI 32u
#define OWNER_FUTEX_WAITERS 0x80000000u

/* Nonzero when threads wait for mutex (as far as its lock word says). */
static inline int owner_mutex_has_waiters(const pthread_mutex_t *mutex)
{
	unsigned kind = (unsigned)__atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED);
	unsigned word = (unsigned)__atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED);
	if (kind & (OWNER_KIND_ROBUST | OWNER_KIND_PI))
		return (word & OWNER_FUTEX_WAITERS) != 0;
	return word > 1;
}

/* Nonzero when threads wait on cond. */
static inline int owner_cond_has_waiters(const pthread_cond_t *cond)
{
	return (__atomic_load_n(&cond->__data.__wrefs, __ATOMIC_RELAXED) >> 3) != 0;
}

/*
 * Nonzero when a pthread_cond_signal (or broadcast) on cond now would wake
 * a waiter: glibc's own test (glibc 2.25 to 2.40, whose condition
 * variables keep their waiters in two groups). Waiters that were signalled
 * already but have not left pthread_cond_wait yet still count in __wrefs;
 * a signal finds none to wake unless G1 (the group being signalled) has
 * waiters not yet signalled (__g_size[g1]) or G2 has waiters at all: the
 * positions taken since G1 began (__wseq >> 1 beyond __g1_start >> 1 and
 * G1's original size, __g1_orig_size >> 2) less the cancelled ones, which
 * __g_size[g2] counts negatively. The caller of a signal usually holds the
 * mutex, so no waiter can arrive meanwhile; a concurrent signal or timeout
 * can still make the answer stale: it is a hint, like the others here.
 */
static inline int owner_cond_would_wake(const pthread_cond_t *cond)
{
	const struct __pthread_cond_s *c = &cond->__data;
	uint64_t wseq = __atomic_load_n(&c->__wseq.__value64, __ATOMIC_RELAXED);
	unsigned g1 = (unsigned)(wseq & 1) ^ 1u;
	if (__atomic_load_n(&c->__g_size[g1], __ATOMIC_RELAXED) != 0)
		return 1;
	uint64_t g1_start = __atomic_load_n(&c->__g1_start.__value64, __ATOMIC_RELAXED) >> 1;
	unsigned g1_size = __atomic_load_n(&c->__g1_orig_size, __ATOMIC_RELAXED) >> 2;
	unsigned g2_waiters = (unsigned)((wseq >> 1) - g1_start - g1_size) +
			      __atomic_load_n(&c->__g_size[g1 ^ 1u], __ATOMIC_RELAXED);
	return g2_waiters != 0;
}

/* Nonzero when threads wait on sem. */
static inline int owner_sem_has_waiters(const sem_t *sem)
{
	uint64_t word = __atomic_load_n((const uint64_t *)(const void *)sem, __ATOMIC_RELAXED);
	return (word >> 32) != 0;
}

#endif
