/*
 * lod: see lod.h for the layout and the query. Invariants:
 *   - ts(i) = base[i / BLOCK] + offset[i] (or wide[i / BLOCK][i % BLOCK] for
 *     a block whose spans are 2^32 ns or more apart) is non-decreasing;
 *     span i covers [ts(i), ts(i+1)) and the last [ts(n-1), end);
 *   - packed[i] = state (0..6, 7 = idle) | (reason + 1) << 3;
 *   - bit i of has_object is set iff span i has an object; span i's object
 *     is objects[object_base[i / BLOCK] + set bits of the block before i]
 *     (words of has_object are zeroed as spans reach them, in put);
 *   - idle_before (only when the track has idle spans) counts, per block,
 *     the idle spans before the block's first span (the rest is counted in
 *     packed[] within the block), so runs can report how many real spans
 *     they hold at 4 bytes per 256 spans;
 *   - levels[k] has nbuckets[k] buckets of width w0 << (3k) from t0, all
 *     levels in one allocation that levels[0] owns; the mipmap is valid
 *     iff !dirty. A bucket keeps, besides its sums, the
 *     state and object of its longest span and the index of the first span
 *     starting at or after its start, so a zoomed-out query reads buckets
 *     and the spans at the runs' ends only: it never searches the spans.
 */
#include "lod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IDLE 7
#define SLOTS 6 /* states that can have spans: New..Suspended */
#define SPANS_PER_BUCKET 32
#define MAX_LEVELS 24
#define BLOCK_SHIFT 8
#define BLOCK (1u << BLOCK_SHIFT)

struct bucket {
	int64_t ns[SLOTS];
	int64_t top;	    /* the longest span overlapping the bucket: its
			     * dur << 3 | state (so keys compare by dur), or
			     * -1 when no span overlaps */
	uint32_t first;	    /* first span index with ts >= the bucket's start */
	int32_t top_object; /* of that longest span */
};			    /* 64 bytes: one cache line */

/* A span that arrived out of order, kept aside until the next seal. */
struct pending {
	int64_t ts, dur;
	int32_t object;
	uint8_t packed;
	uint32_t seq; /* arrival order: keeps the sort stable */
};

struct lod_track {
	struct pending *pending;
	size_t npending, pending_cap;
	int64_t *base;	  /* per block of BLOCK spans: the first span's ts */
	uint32_t *offset; /* ts - base of its block, or */
	int64_t **wide;	  /* per block: full ts when the block spans >= 2^32 ns */
	size_t nblocks, block_cap;
	/* objects, sparse: bit i of has_object says span i has one; the
	 * block's objects start at objects[object_base[block]] */
	uint64_t *has_object;  /* cap bits */
	uint32_t *object_base; /* per block */
	int32_t *objects;
	size_t nobjects, objects_cap;
	uint8_t *packed;
	uint32_t *idle_before; /* per block */
	size_t n, cap;
	int64_t end;
	int has_idle, dirty;
	int64_t t0, w0;
	int nlevels;
	struct bucket *levels[MAX_LEVELS];
	size_t nbuckets[MAX_LEVELS];
	/* what the buffer of levels has room for (level 0's buckets, levels),
	 * the spans the mipmap summed at the last seal, and idle_before's
	 * room (blocks + 1): a growing track's next seal redoes only the
	 * buckets its new spans reach */
	size_t cap0, sealed_n, idle_cap;
	int cap_levels;
};

struct lod_track *lod_track_new(void)
{
	struct lod_track *t = calloc(1, sizeof(*t));
	if (t)
		t->dirty = 1;
	return t;
}

static void free_levels(struct lod_track *t)
{
	if (t->cap_levels > 0)
		free(t->levels[0]); /* the one buffer of every level */
	t->nlevels = 0;
	t->cap_levels = 0;
	t->cap0 = 0;
	t->sealed_n = 0;
}

void lod_track_free(struct lod_track *t)
{
	if (!t)
		return;
	free_levels(t);
	free(t->idle_before);
	for (size_t b = 0; b < t->nblocks; b++)
		free(t->wide[b]);
	free(t->wide);
	free(t->base);
	free(t->offset);
	free(t->has_object);
	free(t->object_base);
	free(t->objects);
	free(t->packed);
	free(t->pending);
	free(t);
}

static int grow(struct lod_track *t, size_t need)
{
	if (need <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 64;
	while (cap < need)
		cap *= 2;
	uint32_t *offset = realloc(t->offset, cap * sizeof(*offset));
	if (!offset)
		return -ENOMEM;
	t->offset = offset;
	size_t blocks = (cap + BLOCK - 1) / BLOCK;
	if (blocks > t->block_cap) {
		int64_t *base = realloc(t->base, blocks * sizeof(*base));
		if (!base)
			return -ENOMEM;
		t->base = base;
		int64_t **wide = realloc(t->wide, blocks * sizeof(*wide));
		if (!wide)
			return -ENOMEM;
		t->wide = wide;
		uint32_t *object_base = realloc(t->object_base, blocks * sizeof(*object_base));
		if (!object_base)
			return -ENOMEM;
		t->object_base = object_base;
		t->block_cap = blocks;
	}
	uint64_t *has = realloc(t->has_object, (cap + 63) / 64 * sizeof(*has));
	if (!has)
		return -ENOMEM;
	t->has_object = has;
	uint8_t *packed = realloc(t->packed, cap);
	if (!packed)
		return -ENOMEM;
	t->packed = packed;
	t->cap = cap;
	return 0;
}

static inline int64_t ts_at(const struct lod_track *t, size_t i)
{
	size_t b = i >> BLOCK_SHIFT;
	return t->wide[b] ? t->wide[b][i & (BLOCK - 1)] : t->base[b] + t->offset[i];
}

/* Set bits of x (the portable builtin may be a library call). */
static inline unsigned bits(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* Index into objects[] of the first object at or after span i. */
static inline size_t object_rank(const struct lod_track *t, size_t i)
{
	const uint64_t *has = t->has_object;
	size_t word = i >> 6, k = t->object_base[i >> BLOCK_SHIFT];
	for (size_t w = (i >> BLOCK_SHIFT) * (BLOCK / 64); w < word; w++)
		k += bits(has[w]);
	return k + bits(has[word] & ((UINT64_C(1) << (i & 63)) - 1));
}

static inline int has_object(const struct lod_track *t, size_t i)
{
	return (t->has_object[i >> 6] >> (i & 63)) & 1;
}

/* Span i's object, or -1. */
static inline int32_t object_at(const struct lod_track *t, size_t i)
{
	/* a set bit implies objects (trim frees it only when there is none) */
	return has_object(t, i) && t->objects ? t->objects[object_rank(t, i)] : -1;
}

/* Appends one span (capacity reserved by grow). A block whose spans stop
 * fitting 32-bit offsets from its base gets a full-width copy. */
static int put(struct lod_track *t, int64_t ts, uint8_t packed, int32_t object)
{
	size_t i = t->n, b = i >> BLOCK_SHIFT;
	if (object >= 0 && t->nobjects == t->objects_cap) {
		size_t cap = t->objects_cap ? t->objects_cap * 2 : 64;
		int32_t *objects = realloc(t->objects, cap * sizeof(*objects));
		if (!objects)
			return -ENOMEM;
		t->objects = objects;
		t->objects_cap = cap;
	}
	if ((i & (BLOCK - 1)) == 0) {
		t->base[b] = ts;
		t->wide[b] = NULL;
		t->object_base[b] = (uint32_t)t->nobjects;
		t->nblocks = b + 1;
	}
	if (!t->wide[b] && (uint64_t)(ts - t->base[b]) > UINT32_MAX) {
		int64_t *wide = malloc(BLOCK * sizeof(*wide));
		if (!wide)
			return -ENOMEM;
		for (size_t k = b << BLOCK_SHIFT; k < i; k++)
			wide[k & (BLOCK - 1)] = t->base[b] + t->offset[k];
		t->wide[b] = wide;
	}
	if (t->wide[b])
		t->wide[b][i & (BLOCK - 1)] = ts;
	else
		t->offset[i] = (uint32_t)(ts - t->base[b]);
	if ((i & 63) == 0)
		t->has_object[i >> 6] = 0;
	if (object >= 0) {
		t->has_object[i >> 6] |= UINT64_C(1) << (i & 63);
		t->objects[t->nobjects++] = object;
	}
	t->packed[i] = packed;
	t->n++;
	return 0;
}

/* First index with ts[i] > v, searching [lo, n). */
static size_t upper_bound(const struct lod_track *t, size_t lo, int64_t v)
{
	size_t hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts_at(t, mid) <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First index with ts[i] >= v, searching [lo, n). */
static size_t lower_bound(const struct lod_track *t, size_t lo, int64_t v)
{
	size_t hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts_at(t, mid) < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Appends a span at or after the last one, filling a gap with idle. */
static int append_in_order(struct lod_track *t, int64_t ts, int64_t dur, uint8_t packed,
			   int32_t obj)
{
	if (t->n > 0 && ts > t->end) {
		if (put(t, t->end, IDLE, -1) < 0) /* a gap */
			return -ENOMEM;
		t->has_idle = 1;
	}
	if (put(t, ts, packed, obj) < 0)
		return -ENOMEM;
	if (ts + dur > t->end || t->n == 1)
		t->end = ts + dur;
	return 0;
}

int lod_track_append(struct lod_track *t, int64_t ts, int64_t dur, int state, int reason,
		     int64_t object)
{
	if (ts < -LOD_TS_MAX || ts > LOD_TS_MAX)
		return 0;
	if (dur < 0)
		dur = 0;
	if (dur > LOD_TS_MAX - ts) /* no overflow: ts >= -LOD_TS_MAX */
		dur = LOD_TS_MAX - ts;
	if (state < 0 || state >= LOD_STATE_COUNT)
		state = IDLE; /* unknown states are drawn as nothing */
	if (reason < -1 || reason >= OVERVIEW_REASON_COUNT)
		reason = -1;
	uint8_t packed = (uint8_t)(state | ((reason + 1) << 3));
	int32_t obj = object < 0 || object > INT32_MAX ? -1 : (int32_t)object;
	t->dirty = 1;
	if (t->npending == 0 && (t->n == 0 || ts >= ts_at(t, t->n - 1))) {
		if (grow(t, t->n + 2) < 0)
			return -ENOMEM;
		return append_in_order(t, ts, dur, packed, obj);
	}
	/* out of order: set aside, merged by the next seal */
	if (t->npending == t->pending_cap) {
		size_t cap = t->pending_cap ? t->pending_cap * 2 : 64;
		struct pending *p = realloc(t->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->pending = p;
		t->pending_cap = cap;
	}
	t->pending[t->npending] = (struct pending){
	    .ts = ts, .dur = dur, .object = obj, .packed = packed, .seq = (uint32_t)t->npending};
	t->npending++;
	return 0;
}

static int by_ts(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static inline int64_t span_end(const struct lod_track *t, size_t i);

/* Sorts the spans set aside together with the track's real spans and
 * rebuilds the arrays (gaps refilled). 0 or -ENOMEM (track unchanged). */
static int merge_pending(struct lod_track *t)
{
	size_t real = 0;
	for (size_t i = 0; i < t->n; i++)
		real += (t->packed[i] & 7) != IDLE;
	size_t total = real + t->npending;
	struct pending *all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if ((t->packed[i] & 7) != IDLE)
			all[k] = (struct pending){.ts = ts_at(t, i),
						  .dur = span_end(t, i) - ts_at(t, i),
						  .object = object_at(t, i),
						  .packed = t->packed[i],
						  .seq = (uint32_t)k},
			k++;
	for (size_t i = 0; i < t->npending; i++, k++) {
		all[k] = t->pending[i];
		all[k].seq = (uint32_t)k;
	}
	qsort(all, total, sizeof(*all), by_ts);
	free(t->pending);
	t->pending = NULL;
	t->npending = t->pending_cap = 0;
	for (size_t b = 0; b < t->nblocks; b++) {
		free(t->wide[b]);
		t->wide[b] = NULL;
	}
	t->nblocks = 0;
	t->nobjects = 0;
	t->n = 0;
	t->end = 0;
	t->has_idle = 0;
	if (grow(t, 2 * total + 2) < 0) {
		free(all);
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < total && rc == 0; i++)
		rc = append_in_order(t, all[i].ts, all[i].dur, all[i].packed, all[i].object);
	free(all);
	return rc;
}

static inline int64_t span_end(const struct lod_track *t, size_t i)
{
	return i + 1 < t->n ? ts_at(t, i + 1) : t->end;
}

static inline int span_state(const struct lod_track *t, size_t i)
{
	return t->packed[i] & 7;
}

/* Shrinks array p to count elements; a failure leaves it as it was (its
 * spare room is then only wasted). Evaluates to whether it shrank. */
#define SHRINK(p, count)                                                                           \
	({                                                                                         \
		__typeof__(p) shrunk_ = realloc((p), (count) * sizeof(*(p)));                      \
		if (shrunk_)                                                                       \
			(p) = shrunk_;                                                             \
		shrunk_ != NULL;                                                                   \
	})

/* Seal, step 1: gives back the spare capacity of the span, object and
 * block arrays (each group's capacity moves with its first array, so an
 * array left larger than it says is only wasted). */
static void trim(struct lod_track *t)
{
	if (t->n > 0 && t->n < t->cap && SHRINK(t->offset, t->n)) {
		t->cap = t->n;
		SHRINK(t->has_object, (t->n + 63) / 64);
		SHRINK(t->packed, t->n);
	}
	if (t->nobjects == 0) {
		free(t->objects);
		t->objects = NULL;
		t->objects_cap = 0;
	} else if (t->nobjects < t->objects_cap && SHRINK(t->objects, t->nobjects)) {
		t->objects_cap = t->nobjects;
	}
	if (t->nblocks > 0 && t->nblocks < t->block_cap && SHRINK(t->base, t->nblocks)) {
		t->block_cap = t->nblocks;
		SHRINK(t->wide, t->nblocks);
		SHRINK(t->object_base, t->nblocks);
	}
}

/* Seal, step 2: idle_before (lod.c's invariants), from the block of
 * span `from` on (the blocks before it are counted already). 0 or
 * -ENOMEM. */
static int count_idle(struct lod_track *t, size_t from)
{
	if (!t->has_idle) {
		free(t->idle_before); /* of spans merged away */
		t->idle_before = NULL;
		t->idle_cap = 0;
		return 0;
	}
	if (!t->idle_before) {
		from = 0;
		t->idle_cap = 0;
	}
	if (t->idle_cap < t->nblocks + 1) {
		size_t cap = t->idle_cap ? t->idle_cap : 16;
		while (cap < t->nblocks + 1)
			cap *= 2;
		uint32_t *grown = realloc(t->idle_before, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->idle_before = grown;
		t->idle_cap = cap;
	}
	uint32_t *idle = t->idle_before;
	if (!idle)
		return -ENOMEM;
	size_t first_block = from >> BLOCK_SHIFT;
	uint32_t c = first_block ? idle[first_block] : 0;
	for (size_t i = first_block << BLOCK_SHIFT; i < t->n; i++) {
		if ((i & (BLOCK - 1)) == 0)
			idle[i >> BLOCK_SHIFT] = c;
		c += span_state(t, i) == IDLE;
	}
	idle[t->nblocks] = c;
	return 0;
}

/* The levels of a mipmap with nb level-0 buckets: level 0 of nb buckets
 * and each next one an eighth (rounded up) while the last has more than 8.
 * Returns how many, their sizes in counts. */
static int level_counts(size_t nb, size_t counts[MAX_LEVELS])
{
	int n = 0;
	for (size_t k = nb;; k = (k + 7) / 8) {
		counts[n++] = k;
		if (k <= 8 || n == MAX_LEVELS)
			return n;
	}
}

/* Seal, step 3: one buffer for every level of a mipmap of up to cap0
 * level-0 buckets, used for nb of them; sets levels[], nbuckets[],
 * nlevels and the room. 0 or -ENOMEM. */
static int alloc_levels(struct lod_track *t, size_t nb, size_t cap0)
{
	size_t total = 0, caps[MAX_LEVELS];
	int n = level_counts(cap0, caps);
	for (int k = 0; k < n; k++)
		total += caps[k];
	/* at least one bucket: an empty track still owns a buffer */
	struct bucket *all = calloc(total ? total : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	t->levels[0] = all; /* owns the buffer (free_levels) */
	for (int k = 1; k < n; k++)
		t->levels[k] = t->levels[k - 1] + caps[k - 1];
	t->cap_levels = n;
	t->cap0 = cap0;
	t->nlevels = level_counts(nb, t->nbuckets);
	return 0;
}

/* Empties buckets [from, nbuckets) of level k. */
static void clear_buckets(struct lod_track *t, int k, size_t from)
{
	for (size_t i = from; i < t->nbuckets[k]; i++)
		t->levels[k][i] = (struct bucket){.top = -1, .top_object = -1};
}

/* Seal, step 4: level 0's first spans, sums per state and longest span,
 * for buckets k0 and after (those before hold no span that changed). */
static void fill_level0(struct lod_track *t, size_t k0)
{
	struct bucket *b = t->levels[0];
	size_t nb = t->nbuckets[0];
	int64_t w0 = t->w0;
	clear_buckets(t, 0, k0);
	for (size_t k = k0, i = k0 ? b[k0 - 1].first : 0; k < nb; k++) {
		int64_t lo = t->t0 + (int64_t)k * w0;
		while (i < t->n && ts_at(t, i) < lo)
			i++;
		b[k].first = (uint32_t)i;
	}
	/* from the span that covers bucket k0's start */
	size_t from = k0 && b[k0].first > 0 ? b[k0].first - 1 : 0;
	for (size_t i = from; i < t->n; i++) {
		int s = span_state(t, i);
		if (s == IDLE)
			continue;
		int64_t a = ts_at(t, i), e = span_end(t, i), dur = e - a;
		size_t first = (size_t)((a - t->t0) / w0);
		if (first >= nb)
			first = nb - 1;
		if (first < k0)
			first = k0;
		int64_t key = (dur < (INT64_C(1) << 59) ? dur : (INT64_C(1) << 59) - 1) << 3 | s;
		for (size_t k = first; k < nb; k++) {
			int64_t lo = t->t0 + (int64_t)k * w0, hi = lo + w0;
			if (lo >= e)
				break;
			int64_t ov = (e < hi ? e : hi) - (a > lo ? a : lo);
			if (s < SLOTS && ov > 0)
				b[k].ns[s] += ov;
			if (key > b[k].top) {
				b[k].top = key;
				b[k].top_object = object_at(t, i);
			}
		}
	}
}

/* Seal, step 5: each level k+1 bucket merges 8 of level k, from those
 * over level-0 bucket k0 on. */
static void merge_levels(struct lod_track *t, size_t k0)
{
	for (int level = 1; level < t->nlevels; level++) {
		const struct bucket *prev = t->levels[level - 1];
		struct bucket *cur = t->levels[level];
		size_t from = k0 >> (3 * level);
		clear_buckets(t, level, from);
		for (size_t k = from * 8; k < t->nbuckets[level - 1]; k++) {
			struct bucket *c = &cur[k / 8];
			if (k % 8 == 0)
				c->first = prev[k].first;
			for (int s = 0; s < SLOTS; s++)
				c->ns[s] += prev[k].ns[s];
			if (prev[k].top > c->top) {
				c->top = prev[k].top;
				c->top_object = prev[k].top_object;
			}
		}
	}
}

/* Seals t (lod_track_seal); trim_spare: give spare capacity back (a
 * track that will not grow again). */
static int seal(struct lod_track *t, int trim_spare)
{
	if (!t->dirty)
		return 0;
	size_t sealed = t->sealed_n;
	if (t->npending) {
		free_levels(t);
		sealed = 0;
		if (merge_pending(t) < 0)
			return -ENOMEM;
	}
	if (trim_spare)
		trim(t);
	if (count_idle(t, sealed ? sealed - 1 : 0) < 0)
		return -ENOMEM;
	t->dirty = 0;
	int64_t extent = t->n ? t->end - ts_at(t, 0) : 0;
	if (t->n < 2 * SPANS_PER_BUCKET || extent <= 0) {
		free_levels(t);
		return 0; /* small: queries read spans */
	}
	/* level 0: a power-of-two width giving SPANS_PER_BUCKET spans a bucket */
	int64_t want = extent / (int64_t)(t->n / SPANS_PER_BUCKET), w0 = 1;
	while (w0 < want)
		w0 <<= 1;
	size_t nb = (size_t)((extent + w0 - 1) / w0), counts[MAX_LEVELS];
	if (sealed && t->cap_levels && t->t0 == ts_at(t, 0) && t->w0 == w0 && nb <= t->cap0 &&
	    level_counts(nb, counts) <= t->cap_levels) {
		/* appended to since the last seal: the buckets from the one where
		 * the last span then summed starts (its end moved) */
		t->nlevels = level_counts(nb, t->nbuckets);
		size_t k0 = (size_t)((ts_at(t, sealed - 1) - t->t0) / w0);
		if (k0 >= nb)
			k0 = nb - 1;
		fill_level0(t, k0);
		merge_levels(t, k0);
	} else {
		free_levels(t);
		t->t0 = ts_at(t, 0);
		t->w0 = w0;
		/* a growing track gets room to grow into */
		if (alloc_levels(t, nb, trim_spare ? nb : 2 * nb) < 0)
			return -ENOMEM; /* queries then read spans */
		fill_level0(t, 0);
		merge_levels(t, 0);
	}
	t->sealed_n = t->n;
	return 0;
}

int lod_track_seal(struct lod_track *t)
{
	return seal(t, 1);
}

int lod_track_seal_growing(struct lod_track *t)
{
	return seal(t, 0);
}

size_t lod_track_spans(const struct lod_track *t)
{
	return t->n;
}

int64_t lod_track_start(const struct lod_track *t)
{
	return t->n ? ts_at(t, 0) : 0;
}

int64_t lod_track_end(const struct lod_track *t)
{
	return t->end;
}

size_t lod_track_bytes(const struct lod_track *t)
{
	size_t bytes = sizeof(*t) + t->cap * (sizeof(uint32_t) + 1) + (t->cap + 63) / 64 * 8 +
		       t->objects_cap * sizeof(int32_t) +
		       t->block_cap * (sizeof(int64_t) + sizeof(int64_t *) + sizeof(uint32_t));
	for (size_t b = 0; b < t->nblocks; b++)
		if (t->wide[b])
			bytes += BLOCK * sizeof(int64_t);
	bytes += t->idle_cap * sizeof(uint32_t);
	size_t caps[MAX_LEVELS];
	int levels = t->cap_levels ? level_counts(t->cap0, caps) : 0;
	for (int k = 0; k < levels; k++)
		bytes += caps[k] * sizeof(struct bucket);
	return bytes;
}

static void exact(const struct lod_track *t, size_t i, struct lod_entry *e)
{
	e->ts = ts_at(t, i);
	e->dur = span_end(t, i) - e->ts;
	e->state = span_state(t, i);
	e->reason = (t->packed[i] >> 3) - 1;
	e->object = object_at(t, i);
	e->n = 1;
}

/* Idle spans before index i (i <= n). */
static size_t idle_upto(const struct lod_track *t, size_t i)
{
	size_t b = i >> BLOCK_SHIFT, c = t->idle_before[b];
	for (size_t k = b << BLOCK_SHIFT; k < i; k++)
		c += span_state(t, k) == IDLE;
	return c;
}

static size_t real_spans(const struct lod_track *t, size_t from, size_t to)
{
	size_t n = to - from;
	if (t->idle_before)
		n -= idle_upto(t, to) - idle_upto(t, from);
	return n;
}

/* a + b, held at int64's ends: a window's pixel may be 2^62 ns wide. */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		r = b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The coarsest mipmap level whose buckets are at most a pixel P wide
 * (level 0 up to two pixels), or -1: read spans. */
static int pick_level(const struct lod_track *t, int64_t P)
{
	if (t->dirty)
		return -1;
	for (int k = t->nlevels - 1; k >= 0; k--)
		if ((t->w0 << (3 * k)) <= P)
			return k;
	/* Level-0 buckets up to two pixels wide still serve (runs then span
	 * one to three pixels): reading the ~32 spans under each bucket
	 * instead is what a fully zoomed-out view would cost otherwise. */
	return t->nlevels > 0 && t->w0 <= 2 * P ? 0 : -1;
}

/* The longest span of a run: from the spans (span, dur), or from the
 * buckets (dur, state, object). */
struct run_top {
	size_t span;
	int64_t dur;
	int state;
	int64_t object;
};

/* A run read from the spans: those from i (starting at a) shorter than
 * a pixel, up to a pixel on or the window's end. Adds their time to
 * e->mix; returns the first span after the run. */
static size_t run_of_spans(const struct lod_track *t, size_t i, int64_t a, int64_t P, int64_t end,
			   struct lod_entry *e, struct run_top *top)
{
	size_t next = i;
	int64_t cur = a, stop = sat_add(a, P) < end ? sat_add(a, P) : end;
	while (next < t->n && cur < stop) {
		int64_t after = span_end(t, next), d = after - cur;
		if (d >= P)
			break;
		int s = span_state(t, next);
		if (s != IDLE) {
			e->mix[s] += d;
			if (d > top->dur) {
				top->dur = d;
				top->span = next;
			}
		}
		next++;
		cur = after;
	}
	return next;
}

/* A run read from the buckets of level: it ends at the first bucket
 * boundary at least a pixel after its start (between 1 and 2 pixels
 * long), or before a long span closing it. Adds the buckets' time to
 * e->mix; returns the first span after the run. */
static size_t run_of_buckets(const struct lod_track *t, int level, size_t i, int64_t a, int64_t P,
			     int64_t end, struct lod_entry *e, struct run_top *top)
{
	int64_t w = t->w0 << (3 * level);
	size_t bi = (size_t)((a - t->t0) / w);
	size_t be = (size_t)(sat_add(sat_add(a - t->t0, P), w - 1) / w);
	int64_t r1 = sat_add(t->t0, (int64_t)be * w);
	const struct bucket *b = t->levels[level];
	size_t next;
	if (r1 < end && be < t->nbuckets[level]) {
		next = b[be].first; /* > i: ts(i) = a < r1 */
		/* the spans the next runs start at are read after this one's
		 * buckets: ask for them now */
		for (size_t k = be + 1; k <= be + 2 && k < t->nbuckets[level]; k++) {
			__builtin_prefetch(&t->offset[b[k].first]);
			__builtin_prefetch(&t->packed[b[k].first]);
		}
	} else {
		next = lower_bound(t, i + 1, r1 < end ? r1 : end);
	}
	while (next - 1 > i && span_end(t, next - 1) - ts_at(t, next - 1) >= P)
		next--; /* a long span closing the run is returned exactly */
	for (size_t k = bi; k < be && k < t->nbuckets[level]; k++) {
		for (int s = 0; s < SLOTS; s++)
			e->mix[s] += b[k].ns[s];
		if (b[k].top >= 0 && (b[k].top >> 3) > top->dur) {
			top->dur = b[k].top >> 3;
			top->state = (int)(b[k].top & 7);
			top->object = b[k].top_object;
		}
	}
	return next;
}

/* Makes e the entry of the run [i, next) starting at a: its dominant
 * state, extent, span count and longest span. */
static void close_run(const struct lod_track *t, size_t i, size_t next, int64_t a,
		      const struct run_top *top, int from_spans, struct lod_entry *e)
{
	int64_t best = -1;
	for (int s = 0; s < LOD_STATE_COUNT; s++)
		if (e->mix[s] > best) {
			best = e->mix[s];
			e->state = s;
		}
	e->ts = a;
	e->dur = span_end(t, next - 1) - a;
	e->reason = -1;
	e->object = -1;
	e->n = (uint32_t)real_spans(t, i, next);
	e->top_state = top->state;
	e->top_object = top->object;
	if (from_spans && top->dur >= 0) {
		e->top_state = span_state(t, top->span);
		e->top_object = object_at(t, top->span);
	}
}

int lod_track_query(const struct lod_track *t, int64_t start, int64_t end, int64_t px,
		    lod_emit_fn emit, void *ctx)
{
	if (t->n == 0 || end <= start || px < 1)
		return 0;
	int64_t P = (end - start) / px;
	if (P < 1)
		P = 1;
	int level = pick_level(t, P);
	size_t i = upper_bound(t, 0, start);
	i = i > 0 ? i - 1 : 0;
	struct lod_entry e;
	while (i < t->n && ts_at(t, i) < end) {
		if (span_end(t, i) <= start || span_state(t, i) == IDLE) {
			i++;
			continue;
		}
		int64_t a = ts_at(t, i);
		size_t next = i + 1;
		if (span_end(t, i) - a >= P) {
			exact(t, i, &e);
		} else {
			memset(&e, 0, sizeof(e));
			struct run_top top = {.span = i, .dur = -1, .state = -1, .object = -1};
			next = level < 0 ? run_of_spans(t, i, a, P, end, &e, &top)
					 : run_of_buckets(t, level, i, a, P, end, &e, &top);
			if (next - i <= 1) {
				exact(t, i, &e);
				next = i + 1;
			} else {
				close_run(t, i, next, a, &top, level < 0, &e);
			}
		}
		int rc = emit(ctx, &e);
		if (rc)
			return rc;
		i = next;
	}
	return 0;
}

/* Adds level-0 buckets [b0, b1) using the coarsest levels that fit. */
static void add_buckets(const struct lod_track *t, size_t b0, size_t b1, int64_t ns[])
{
	int k = 0;
	while (b0 < b1) {
		const struct bucket *b = t->levels[k];
		if (k + 1 >= t->nlevels) {
			for (; b0 < b1; b0++)
				for (int s = 0; s < SLOTS; s++)
					ns[s] += b[b0].ns[s];
			break;
		}
		for (; b0 < b1 && b0 % 8; b0++)
			for (int s = 0; s < SLOTS; s++)
				ns[s] += b[b0].ns[s];
		for (; b1 > b0 && b1 % 8; b1--)
			for (int s = 0; s < SLOTS; s++)
				ns[s] += b[b1 - 1].ns[s];
		b0 /= 8;
		b1 /= 8;
		k++;
	}
}

/* Adds the overlap of each span with [start, end) to ns[]. */
static void add_spans(const struct lod_track *t, int64_t start, int64_t end, int64_t ns[])
{
	size_t i = upper_bound(t, 0, start);
	for (i = i > 0 ? i - 1 : 0; i < t->n && ts_at(t, i) < end; i++) {
		int s = span_state(t, i);
		int64_t a = ts_at(t, i) > start ? ts_at(t, i) : start;
		int64_t e = span_end(t, i) < end ? span_end(t, i) : end;
		if (s != IDLE && e > a)
			ns[s] += e - a;
	}
}

void lod_track_time(const struct lod_track *t, int64_t start, int64_t end,
		    int64_t ns[LOD_STATE_COUNT])
{
	if (t->n == 0 || end <= start)
		return;
	if (t->dirty || t->nlevels == 0) {
		add_spans(t, start, end, ns);
		return;
	}
	int64_t lo = start > t->t0 ? start : t->t0;
	int64_t b_first = (lo - t->t0 + t->w0 - 1) / t->w0;
	int64_t b_last = (end - t->t0) / t->w0;
	if (b_last > (int64_t)t->nbuckets[0])
		b_last = (int64_t)t->nbuckets[0];
	if (b_first >= b_last) {
		add_spans(t, start, end, ns);
		return;
	}
	int64_t inner_start = t->t0 + b_first * t->w0, inner_end = t->t0 + b_last * t->w0;
	add_spans(t, start, inner_start, ns);
	add_buckets(t, (size_t)b_first, (size_t)b_last, ns);
	add_spans(t, inner_end, end, ns);
}

int lod_track_each(const struct lod_track *t, int64_t start, int64_t end, lod_emit_fn fn, void *ctx)
{
	if (t->n == 0)
		return 0;
	size_t i = upper_bound(t, 0, start);
	struct lod_entry e;
	for (i = i > 0 ? i - 1 : 0; i < t->n && ts_at(t, i) < end; i++) {
		if (span_state(t, i) == IDLE || span_end(t, i) <= start)
			continue;
		exact(t, i, &e);
		int rc = fn(ctx, &e);
		if (rc)
			return rc;
	}
	return 0;
}

int lod_track_each_state(const struct lod_track *t, int64_t start, int64_t end, int state,
			 lod_emit_fn fn, void *ctx)
{
	if (t->n == 0 || end <= start || state < 0 || state >= LOD_STATE_COUNT)
		return 0;
	size_t i = upper_bound(t, 0, start);
	i = i > 0 ? i - 1 : 0;
	size_t stop = lower_bound(t, i, end);
	if (i >= stop)
		return 0;
	struct lod_entry e = {.n = 1};
	size_t k = object_rank(t, i); /* objects[k]: the next object met */
	for (; i < stop; i++) {
		int match = (t->packed[i] & 7) == state, has = has_object(t, i);
		if (match) {
			e.ts = ts_at(t, i);
			e.dur = span_end(t, i) - e.ts;
			if (e.ts + e.dur > start) {
				e.state = state;
				e.reason = (t->packed[i] >> 3) - 1;
				e.object = has ? t->objects[k] : -1;
				int rc = fn(ctx, &e);
				if (rc)
					return rc;
			}
		}
		k += (size_t)has;
	}
	return 0;
}
