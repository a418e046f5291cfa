/*
 * factdiff.h — two runs' facts (facts.h) side by side: the union of two
 * lists by match key, each entry with its time in A and in B, sorted by
 * the size of the change (|B - A|, largest first; ties by key). Entries
 * present in one run only are the new and vanished ones. `weft diff` and
 * weftd's compare view (GET /api/diff) both use it, so they always agree.
 * Cost: O((n + m) log(n + m)) for lists of n and m entries.
 */
#ifndef WEFT_FACTDIFF_H
#define WEFT_FACTDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facts.h"

struct factdiff_change {
	const char *key, *label; /* borrowed from the fact lists (B's label when in B) */
	int64_t a, b;		 /* ns in A and in B (0 when absent) */
	int64_t id_a, id_b;	 /* the fact's id in A and in B (-1 when absent) */
	bool in_a, in_b;
};

struct factdiff {
	struct factdiff_change *items;
	size_t count;
};

/* The union of a and b by key into out, sorted by |B - A|. The changes
 * point into a and b, which must outlive out. Returns 0 or -ENOMEM (out
 * empty). */
int factdiff_compare(const struct fact_list *a, const struct fact_list *b, struct factdiff *out);

void factdiff_free(struct factdiff *diff);

#endif
