/*
 * tally.c — see tally.h. Linear probing; the table doubles when half full,
 * so a probe sequence stays short and always ends at an unused slot.
 */
#include "tally.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

static uint64_t hash(int64_t k1, int64_t k2)
{
	uint64_t x = (uint64_t)k1 * 0x9e3779b97f4a7c15ull ^ (uint64_t)k2;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static struct tally_entry *find(struct tally_entry *slots, size_t capacity, int64_t k1, int64_t k2)
{
	size_t mask = capacity - 1;
	for (size_t i = hash(k1, k2) & mask;; i = (i + 1) & mask)
		if (!slots[i].used || (slots[i].k1 == k1 && slots[i].k2 == k2))
			return &slots[i];
}

static int grow(struct tally *tally)
{
	size_t capacity = tally->capacity ? tally->capacity * 2 : 64;
	struct tally_entry *slots = calloc(capacity, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < tally->capacity; i++)
		if (tally->slots[i].used)
			*find(slots, capacity, tally->slots[i].k1, tally->slots[i].k2) =
			    tally->slots[i];
	free(tally->slots);
	tally->slots = slots;
	tally->capacity = capacity;
	return 0;
}

static int add(struct tally *tally, int64_t k1, int64_t k2, int64_t sum, int64_t count,
	       int64_t first)
{
	if ((tally->count + 1) * 2 > tally->capacity && grow(tally))
		return -ENOMEM;
	struct tally_entry *entry = find(tally->slots, tally->capacity, k1, k2);
	if (!entry->used) {
		*entry = (struct tally_entry){.k1 = k1, .k2 = k2, .first = first, .used = 1};
		tally->count++;
	}
	entry->sum += sum;
	entry->count += count;
	if (first < entry->first)
		entry->first = first;
	return 0;
}

int tally_add(struct tally *tally, int64_t k1, int64_t k2, int64_t value, int64_t ts)
{
	return add(tally, k1, k2, value, 1, ts);
}

int tally_merge(struct tally *into, const struct tally *from)
{
	for (size_t i = 0; i < from->capacity; i++) {
		const struct tally_entry *e = &from->slots[i];
		if (e->used && add(into, e->k1, e->k2, e->sum, e->count, e->first))
			return -ENOMEM;
	}
	return 0;
}

const struct tally_entry *tally_get(const struct tally *tally, int64_t k1, int64_t k2)
{
	if (!tally->capacity)
		return NULL;
	const struct tally_entry *entry = find(tally->slots, tally->capacity, k1, k2);
	return entry->used ? entry : NULL;
}

size_t tally_pack(struct tally *tally)
{
	size_t packed = 0;
	for (size_t i = 0; i < tally->capacity; i++)
		if (tally->slots[i].used)
			tally->slots[packed++] = tally->slots[i];
	assert(packed == tally->count);
	return packed;
}

void tally_free(struct tally *tally)
{
	free(tally->slots);
	*tally = (struct tally){0};
}
