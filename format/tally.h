/*
 * tally.h — sums by key in one pass: an open-addressing hash table from a
 * pair of int64 keys to a running sum, count and first timestamp. The
 * report reads a trace's spans once and tallies them by thread and state,
 * by object and by object and holder, instead of asking SQLite to sort
 * millions of rows for each GROUP BY.
 */
#ifndef WEFT_TALLY_H
#define WEFT_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally_entry {
	int64_t k1, k2;
	int64_t sum, count, first; /* first: the smallest ts added */
	int used;
};

struct tally {
	struct tally_entry *slots; /* capacity a power of two, half full at most */
	size_t capacity, count;
};

/* Adds value at ts under (k1, k2). Returns 0 or -ENOMEM (the tally keeps
 * what it had). */
int tally_add(struct tally *tally, int64_t k1, int64_t k2, int64_t value, int64_t ts);

/* Adds every entry of from (not packed) into into: sums and counts add
 * up, first is the smaller. Returns 0 or -ENOMEM (into then holds part
 * of from). */
int tally_merge(struct tally *into, const struct tally *from);

/* The entry of (k1, k2), or NULL. */
const struct tally_entry *tally_get(const struct tally *tally, int64_t k1, int64_t k2);

/* The used entries, packed at the front of slots in no order; returns
 * their count. The tally can then only be freed. */
size_t tally_pack(struct tally *tally);

void tally_free(struct tally *tally);

#endif
