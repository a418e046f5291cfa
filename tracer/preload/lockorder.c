/*
 * lockorder.c — the slow paths of lockorder.h: a lock taken while others
 * are held, a lock released out of order. Hot path rules hold: no
 * allocation, no lock, no system call; errno is left alone.
 */
#include "lockorder.h"

#include "emit.h"
#include "preload.h"

/* A 64-bit mix of two addresses, never 0. */
static uint64_t pair_key(uintptr_t from, uintptr_t to)
{
	uint64_t x = (uint64_t)from * 0x9e3779b97f4a7c15ull ^ (uint64_t)to;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return x ? x : 1;
}

/* 1 when key was added to the set, 0 when it was there already, -1 when
 * the set had no room for it. */
static int pair_add(struct lockorder *set, uint64_t key)
{
	uint32_t at = (uint32_t)key & (LOCKORDER_PAIRS - 1);
	for (uint32_t probe = 0; probe < LOCKORDER_PROBES; probe++) {
		uint64_t *slot = &set->pairs[(at + probe) & (LOCKORDER_PAIRS - 1)];
		if (*slot == key)
			return 0;
		if (!*slot) {
			*slot = key;
			return 1;
		}
	}
	return -1;
}

void lockorder_nested(struct lockorder *set, uintptr_t entry, uint8_t call)
{
	uintptr_t lock = entry & ~(uintptr_t)LOCKORDER_FLAGS;
	uint32_t held = set->count < LOCKORDER_HELD_MAX ? set->count : LOCKORDER_HELD_MAX;
	int fresh = 0;
	uint32_t dropped = set->dropped;
	for (uint32_t i = 0; i < held; i++) {
		uintptr_t from = set->held[i] & ~(uintptr_t)LOCKORDER_FLAGS;
		if (from == lock)
			continue; /* a recursive mutex taken again */
		int added = pair_add(set, pair_key(from, lock));
		if (added > 0)
			fresh = 1;
		else if (added < 0)
			set->dropped++;
	}
	/* A full set reports what it dropped now and then: at 1, 2, 4, ... */
	int report_drops = set->dropped != dropped && !(set->dropped & (set->dropped - 1));
	struct preload_thread *t = &preload_self;
	if ((!fresh && !report_drops) || !t->writer.slot)
		return;
	uint64_t payload[LOCKORDER_HELD_MAX];
	for (uint32_t i = 0; i < held; i++)
		payload[i] = fresh ? set->held[i] : 0;
	uint8_t reason = entry & LOCKORDER_RWLOCK ? WEFT_REASON_RWLOCK : WEFT_REASON_MUTEX;
	preload_write_begin(t);
	emit_record_payload(&t->writer, WEFT_EV_LOCK_ORDER, reason, call, emit_now(), entry,
			    set->dropped, payload, fresh ? held * (uint32_t)sizeof *payload : 0);
	preload_write_end(t);
}

void lockorder_release_slow(struct lockorder *set, uintptr_t lock)
{
	uint32_t n = set->count;
	uint32_t held = n < LOCKORDER_HELD_MAX ? n : LOCKORDER_HELD_MAX;
	for (uint32_t i = held; i-- > 0;) {
		if ((set->held[i] & ~(uintptr_t)LOCKORDER_FLAGS) != lock)
			continue;
		for (uint32_t j = i + 1; j < held; j++)
			set->held[j - 1] = set->held[j];
		/* one tracked entry fewer; an untracked one (beyond HELD_MAX)
		 * cannot move down into the freed place: it is forgotten */
		set->count = held - 1;
		return;
	}
	if (n > LOCKORDER_HELD_MAX)
		set->count = n - 1; /* one of the untracked ones */
}
