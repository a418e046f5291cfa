/*
 * flowsum: per-object flow totals by time bucket, so that a window summary
 * reads whole buckets from memory and only its two edges from SQLite.
 *
 * Two classes of flows are summed: messages (pipe, socket), keyed by
 * ts_out, with count, bytes, writers and readers; hand-overs (unlock,
 * post, signal, barrier), keyed by ts_in, with the threads that handed
 * the object over (holders). Buckets are width ns wide from t0 (chosen on
 * the first load). Thread sets are 256-bit masks, so the sums serve only
 * traces whose flows name utids below 256, and only while they stay
 * under a memory cap (2^18 entries); flowsum_usable() says whether they
 * do (otherwise callers fall back to SQL over the whole window).
 *
 * Layout: one array of entries (object, class, bucket, totals) with an
 * open-addressing hash over (object, class, bucket) used while loading.
 * Not thread-safe: the owner serialises loading against reading.
 */
#ifndef WEFT_FLOWSUM_H
#define WEFT_FLOWSUM_H

#include <stddef.h>
#include <stdint.h>

#define FLOWSUM_MAX_UTID 256

enum flowsum_class { FLOWSUM_MESSAGE, FLOWSUM_HANDOVER };

struct flowsum_totals {
	uint64_t count;
	int64_t bytes;
	uint64_t out[FLOWSUM_MAX_UTID / 64]; /* writers / holders */
	uint64_t in[FLOWSUM_MAX_UTID / 64];  /* readers */
};

struct flowsum;

/* Buckets of width ns (> 0) from t0. NULL without memory. */
struct flowsum *flowsum_new(int64_t t0, int64_t width);
void flowsum_free(struct flowsum *f);

/* Adds one flow (kind as in the flow table; other kinds are ignored).
 * 0 or -ENOMEM (the sums are then unusable). */
int flowsum_add(struct flowsum *f, int64_t object_id, const char *kind, int64_t ts_out,
		int64_t ts_in, int64_t utid_out, int64_t utid_in, int64_t bytes);

/* True if every flow added so far fits the sums. */
int flowsum_usable(const struct flowsum *f);

/* The whole buckets inside [start, end): [*inner_start, *inner_end), or an
 * empty range (inner_start == inner_end) when there is none. */
void flowsum_inner(const struct flowsum *f, int64_t start, int64_t end, int64_t *inner_start,
		   int64_t *inner_end);

typedef int (*flowsum_fn)(void *ctx, int64_t object_id, enum flowsum_class cls,
			  const struct flowsum_totals *t);

/* Calls fn once per bucket entry inside [inner_start, inner_end) (as given
 * by flowsum_inner), in no particular order. */
int flowsum_each(const struct flowsum *f, int64_t inner_start, int64_t inner_end, flowsum_fn fn,
		 void *ctx);

/* Adds one flow to t (for the edges read from SQLite). */
void flowsum_totals_add(struct flowsum_totals *t, int64_t utid_out, int64_t utid_in, int64_t bytes);
void flowsum_totals_merge(struct flowsum_totals *into, const struct flowsum_totals *from);

#endif
