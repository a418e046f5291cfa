/*
 * lockorder.h — the locks a thread holds, and the acquisition orders it has
 * shown (hot path).
 *
 * Each thread keeps, in its TLS (struct preload_thread), the locks it
 * holds in the order it took them (held[], at most LOCKORDER_HELD_MAX;
 * deeper nesting is counted in count but not tracked), and a fixed
 * open-addressing set of the (held, acquired) address pairs it has already
 * reported (pairs[], a 64-bit mix of the two addresses, 0 = empty). When a
 * lock is taken by a call that could block while other locks are held,
 * every (held, acquired) pair not in the set is added, and if any was new
 * one LOCK_ORDER record (event.h) says which lock was taken and which were
 * held. An acquisition by a try call (it cannot block) is pushed but
 * reports nothing. A full set records nothing more and counts what it
 * could not add (dropped, carried in the next LOCK_ORDER records). Nothing
 * here allocates, locks or makes a system call; on the uncontended path
 * with no other lock held, an acquisition is a store and an increment, a
 * release a compare and a decrement.
 *
 * Entries are the lock's address with flags in its low bits (pthread
 * locks are 8-byte aligned): LOCKORDER_READ for a read lock of a rwlock,
 * LOCKORDER_RWLOCK for any rwlock.
 */
#ifndef WEFT_PRELOAD_LOCKORDER_H
#define WEFT_PRELOAD_LOCKORDER_H

#include <stdint.h>

#define LOCKORDER_HELD_MAX 16u
#define LOCKORDER_PAIRS 256u /* power of two */
#define LOCKORDER_PROBES 8u

#define LOCKORDER_READ 1u
#define LOCKORDER_RWLOCK 2u
#define LOCKORDER_FLAGS 7u

struct lockorder {
	uintptr_t held[LOCKORDER_HELD_MAX]; /* oldest first: address | flags */
	uint32_t count;			    /* locks held (may exceed HELD_MAX) */
	uint32_t dropped;		    /* new pairs the full set could not add */
	uint64_t pairs[LOCKORDER_PAIRS];
};

/* Slow paths (lockorder.c). lockorder_nested: entry is being taken (by a
 * call that could block) while set->count > 0 locks are held: add its new
 * pairs and record them. lockorder_release_slow: lock is released and is
 * not the last one taken. */
void lockorder_nested(struct lockorder *set, uintptr_t entry, uint8_t call);
void lockorder_release_slow(struct lockorder *set, uintptr_t lock);

/* The calling thread took lock (flags: LOCKORDER_READ, LOCKORDER_RWLOCK)
 * with call (enum weft_call); may_block is 0 for a try call. */
static inline void lockorder_acquired(struct lockorder *set, const void *lock, unsigned flags,
				      uint8_t call, int may_block)
{
	uintptr_t entry = (uintptr_t)lock | flags;
	uint32_t n = set->count;
	if (__builtin_expect(n != 0, 0) && may_block)
		lockorder_nested(set, entry, call);
	if (n < LOCKORDER_HELD_MAX)
		set->held[n] = entry;
	set->count = n + 1;
}

/* The calling thread released lock. A lock it did not take while
 * recording is ignored. */
static inline void lockorder_released(struct lockorder *set, const void *lock)
{
	uint32_t n = set->count;
	if (__builtin_expect(n - 1 < LOCKORDER_HELD_MAX &&
				 (set->held[n - 1] & ~(uintptr_t)LOCKORDER_FLAGS) ==
				     (uintptr_t)lock,
			     1)) {
		set->count = n - 1;
		return;
	}
	if (n)
		lockorder_release_slow(set, (uintptr_t)lock);
}

#endif
