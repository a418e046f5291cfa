/*
 * table.h — a hash table from a pair of 64-bit keys to a pointer, for the
 * collector's lookups (thread by (token, tid), process by token or pid,
 * object by (upid, address)...).
 *
 * Open addressing with linear probing and tombstones; grows at 1/2 load
 * (counting tombstones). Values are borrowed, never freed by the table.
 * Not thread-safe.
 */
#ifndef WEFT_TABLE_H
#define WEFT_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct table;

/* An empty table, or NULL when out of memory. */
struct table *table_new(void);
void table_free(struct table *table);

/* The value stored under (k1, k2), or NULL. */
void *table_get(const struct table *table, uint64_t k1, uint64_t k2);
/* Store value (not NULL) under (k1, k2), replacing any. Returns 0 or
 * -ENOMEM with the table unchanged. */
int table_put(struct table *table, uint64_t k1, uint64_t k2, void *value);
/* Remove (k1, k2) if present. */
void table_remove(struct table *table, uint64_t k1, uint64_t k2);
size_t table_count(const struct table *table);

/* Visit every entry; visit must not change the table. */
void table_each(const struct table *table, void (*visit)(void *ctx, void *value), void *ctx);

#endif
