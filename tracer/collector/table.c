/*
 * table.c — the hash table of table.h. An entry is empty when value is
 * NULL and tombstone is 0; a removed entry keeps tombstone 1 so probes
 * continue past it. Capacity is a power of two.
 */
#include "table.h"

#include <errno.h>
#include <stdlib.h>

struct entry {
	uint64_t k1;
	uint64_t k2;
	void *value;
	int tombstone;
};

struct table {
	struct entry *entries;
	size_t capacity;
	size_t count; /* live entries */
	size_t used;  /* live entries + tombstones */
};

static uint64_t hash(uint64_t k1, uint64_t k2)
{
	uint64_t h = k1 * 0x9E3779B97F4A7C15ull ^ (k2 + 0x632BE59BD9B4E019ull);
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 29;
	return h;
}

struct table *table_new(void)
{
	struct table *table = calloc(1, sizeof *table);
	if (!table)
		return NULL;
	table->capacity = 64;
	table->entries = calloc(table->capacity, sizeof *table->entries);
	if (!table->entries) {
		free(table);
		return NULL;
	}
	return table;
}

void table_free(struct table *table)
{
	if (!table)
		return;
	free(table->entries);
	free(table);
}

static struct entry *find(const struct table *table, uint64_t k1, uint64_t k2)
{
	size_t mask = table->capacity - 1;
	for (size_t i = hash(k1, k2) & mask;; i = (i + 1) & mask) {
		struct entry *entry = &table->entries[i];
		if (!entry->value && !entry->tombstone)
			return NULL;
		if (entry->value && entry->k1 == k1 && entry->k2 == k2)
			return entry;
	}
}

void *table_get(const struct table *table, uint64_t k1, uint64_t k2)
{
	struct entry *entry = find(table, k1, k2);
	return entry ? entry->value : NULL;
}

static void insert_fresh(struct table *table, uint64_t k1, uint64_t k2, void *value)
{
	size_t mask = table->capacity - 1;
	size_t i = hash(k1, k2) & mask;
	while (table->entries[i].value || table->entries[i].tombstone)
		i = (i + 1) & mask;
	table->entries[i] = (struct entry){k1, k2, value, 0};
	table->count++;
	table->used++;
}

static int grow(struct table *table)
{
	struct entry *old = table->entries;
	size_t old_capacity = table->capacity;
	size_t capacity = table->count * 4 > old_capacity ? old_capacity * 2 : old_capacity;
	struct entry *entries = calloc(capacity, sizeof *entries);
	if (!entries)
		return -ENOMEM;
	table->entries = entries;
	table->capacity = capacity;
	table->count = 0;
	table->used = 0;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].value)
			insert_fresh(table, old[i].k1, old[i].k2, old[i].value);
	free(old);
	return 0;
}

int table_put(struct table *table, uint64_t k1, uint64_t k2, void *value)
{
	struct entry *entry = find(table, k1, k2);
	if (entry) {
		entry->value = value;
		return 0;
	}
	if ((table->used + 1) * 2 > table->capacity && grow(table))
		return -ENOMEM;
	insert_fresh(table, k1, k2, value);
	return 0;
}

void table_remove(struct table *table, uint64_t k1, uint64_t k2)
{
	struct entry *entry = find(table, k1, k2);
	if (!entry)
		return;
	entry->value = NULL;
	entry->tombstone = 1;
	table->count--;
}

size_t table_count(const struct table *table)
{
	return table->count;
}

void table_each(const struct table *table, void (*visit)(void *ctx, void *value), void *ctx)
{
	for (size_t i = 0; i < table->capacity; i++)
		if (table->entries[i].value)
			visit(ctx, table->entries[i].value);
}
