/*
 * overview_build.c — the builder of overview_build.h; the stored form it
 * writes is format/overview.h's.
 *
 * Builder, per track: buckets[0..n) cover the absolute buckets
 * first..first+n-1 of width 1 << shift, and always the track's whole
 * extent [start, end); n <= OVERVIEW_BUCKETS. A span shorter than the
 * width (a "short" span) overlaps at most two buckets and is summed into
 * them: ns[state] gets its overlap with each (in ns while buckets are at
 * most 2^31 ns wide, past that in units of 2^(shift - 31) ns, so that a
 * tiling track's sums fit 32 bits), starts counts it in the bucket it
 * begins in, top keeps the longest (dur << 3 | state, so keys compare by
 * dur) with its object. A span of the width or more is kept
 * whole in wholes[], unsorted until written. Doubling the width maps
 * absolute bucket k to k >> 1, merging in place (the destination index
 * never passes the source), then moves the wholes now shorter than a
 * bucket into the buckets. For a track whose spans tile it, wholes hold
 * at most n spans (each covers a bucket's width); for others (CPU slices
 * of a synthetic trace may overlap) more than 2 * OVERVIEW_BUCKETS of them
 * double the width too.
 *
 */
#include "overview_build.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS OVERVIEW_SLOTS
#define NO_STATE OVERVIEW_NO_STATE
#define MAX_SHIFT OVERVIEW_MAX_SHIFT
#define MIN_CAP 16    /* buckets allocated at first */
#define SHRINK_MIN 64 /* tracks smaller than this are not made coarser */

struct track {
	int64_t start, end, spans;
	int shift;
	int64_t first; /* absolute index of buckets[0] */
	size_t n, cap;
	struct overview_bucket *buckets;
	struct overview_span *wholes;
	size_t nwholes, wholes_cap;
};

struct overview {
	struct track **tracks[OVERVIEW_KIND_COUNT]; /* by id; NULL: none */
	size_t ntracks[OVERVIEW_KIND_COUNT];
	size_t bytes, budget;
	/* bytes when shrink last found no track it could make coarser: many
	 * small tracks cost what they cost; look again only once bytes have
	 * grown by a sixteenth of the budget past it, so that each span added
	 * does not walk every track (quadratic on a build's 20,000 processes). */
	size_t unshrinkable;
	int failed;
};

struct overview *overview_new(size_t budget)
{
	struct overview *ov = calloc(1, sizeof(*ov));
	if (ov) {
		ov->budget = budget ? budget : OVERVIEW_BUDGET;
		ov->bytes = sizeof(*ov);
	}
	return ov;
}

void overview_free(struct overview *ov)
{
	if (!ov)
		return;
	for (int k = 0; k < OVERVIEW_KIND_COUNT; k++) {
		for (size_t i = 0; i < ov->ntracks[k]; i++) {
			struct track *t = ov->tracks[k][i];
			if (t) {
				free(t->buckets);
				free(t->wholes);
				free(t);
			}
		}
		free(ov->tracks[k]);
	}
	free(ov);
}

size_t overview_bytes(const struct overview *ov)
{
	return ov->bytes;
}

static size_t track_bytes(const struct track *t)
{
	return sizeof(*t) + t->cap * sizeof(struct overview_bucket) +
	       t->wholes_cap * sizeof(struct overview_span);
}

static struct track *track_for(struct overview *ov, enum overview_kind kind, int64_t id)
{
	size_t *n = &ov->ntracks[kind];
	if ((size_t)id >= *n) {
		size_t cap = *n ? *n : 16;
		while (cap <= (size_t)id)
			cap *= 2;
		struct track **p = realloc(ov->tracks[kind], cap * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + *n, 0, (cap - *n) * sizeof(*p));
		ov->bytes += (cap - *n) * sizeof(*p);
		ov->tracks[kind] = p;
		*n = cap;
	}
	struct track *t = ov->tracks[kind][id];
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->shift = __builtin_ctzll((uint64_t)OVERVIEW_MIN_WIDTH);
		ov->tracks[kind][id] = t;
		ov->bytes += sizeof(*t);
	}
	return t;
}

static void clear_buckets(struct overview_bucket *b, size_t count)
{
	for (size_t i = 0; i < count; i++)
		b[i] = (struct overview_bucket){.top = -1, .top_object = -1};
}

static uint32_t add32(uint32_t a, uint64_t b)
{
	return b > UINT32_MAX - a ? UINT32_MAX : a + (uint32_t)b;
}

static void put(struct overview_bucket *b, int state, int64_t ns, int unit_shift, int64_t key,
		int32_t object)
{
	if (state < SLOTS)
		b->ns[state] =
		    add32(b->ns[state],
			  ((uint64_t)ns + ((UINT64_C(1) << unit_shift) >> 1)) >> unit_shift);
	if (key > b->top) {
		b->top = key;
		b->top_object = object;
	}
}

/* Sums a span shorter than a bucket into the one or two it overlaps
 * (covered by the track's range). */
static void add_short(struct track *t, int64_t ts, int64_t dur, int state, int32_t object)
{
	int64_t abs = ts >> t->shift, hi = (abs + 1) << t->shift, e = ts + dur;
	/* cover() made the track's buckets span [ts, ts + dur) */
	assert(abs >= t->first && abs - t->first < (int64_t)t->n);
	assert(e <= hi || abs + 1 - t->first < (int64_t)t->n);
	struct overview_bucket *b = &t->buckets[abs - t->first];
	if (b->starts < UINT32_MAX)
		b->starts++;
	int64_t key = dur << 3 | state;
	int unit = overview_held_shift(t->shift);
	put(b, state, (e < hi ? e : hi) - ts, unit, key, object);
	if (e > hi)
		put(b + 1, state, e - hi, unit, key, object);
}

static void merge(struct overview_bucket *into, const struct overview_bucket *b)
{
	for (int s = 0; s < SLOTS; s++)
		into->ns[s] = add32(into->ns[s], b->ns[s]);
	into->starts = add32(into->starts, b->starts);
	if (b->top > into->top) {
		into->top = b->top;
		into->top_object = b->top_object;
	}
}

/* Doubles the track's bucket width. */
static void coarsen(struct track *t)
{
	int64_t first = t->first >> 1;
	size_t n = t->n ? (size_t)(((t->first + (int64_t)t->n - 1) >> 1) - first + 1) : 0;
	size_t prev = SIZE_MAX;
	for (size_t k = 0; k < t->n; k++) {
		size_t d = (size_t)(((t->first + (int64_t)k) >> 1) - first);
		assert(d <= k); /* merging in place never overtakes the source */
		if (d != prev)
			t->buckets[d] = t->buckets[k];
		else
			merge(&t->buckets[d], &t->buckets[k]);
		prev = d;
	}
	t->first = first;
	t->n = n;
	t->shift++;
	if (overview_held_shift(t->shift) > overview_held_shift(t->shift - 1))
		for (size_t k = 0; k < n; k++)
			for (int s = 0; s < SLOTS; s++)
				t->buckets[k].ns[s] =
				    (uint32_t)(((uint64_t)t->buckets[k].ns[s] + 1) >> 1);
	size_t keep = 0;
	for (size_t i = 0; i < t->nwholes; i++) {
		struct overview_span w = t->wholes[i];
		if (w.dur >= (INT64_C(1) << t->shift))
			t->wholes[keep++] = w;
		else
			add_short(t, w.ts, w.dur, w.state, w.object);
	}
	t->nwholes = keep;
}

/* Makes the track's buckets cover [a, e) as well, doubling their width as
 * long as that would take more than OVERVIEW_BUCKETS. 0 or -ENOMEM (the
 * track then still covers what it covered). */
static int cover(struct overview *ov, struct track *t, int64_t a, int64_t e)
{
	int64_t lo, hi;
	for (;;) {
		int64_t ka = a >> t->shift, kb = (e > a ? e - 1 : a) >> t->shift;
		lo = t->n && t->first < ka ? t->first : ka;
		hi = t->n && t->first + (int64_t)t->n - 1 > kb ? t->first + (int64_t)t->n - 1 : kb;
		if (hi - lo < OVERVIEW_BUCKETS || t->shift >= MAX_SHIFT)
			break;
		coarsen(t);
	}
	size_t size = (size_t)(hi - lo + 1);
	if (size > t->cap) {
		/* a quarter more than needed: tracks grow a bucket at a time */
		size_t cap = size + size / 4 > MIN_CAP ? size + size / 4 : MIN_CAP;
		if (cap > OVERVIEW_BUCKETS)
			cap = OVERVIEW_BUCKETS;
		struct overview_bucket *b = realloc(t->buckets, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		ov->bytes += (cap - t->cap) * sizeof(*b);
		t->buckets = b;
		t->cap = cap;
	}
	if (t->n == 0) {
		clear_buckets(t->buckets, size);
		t->first = lo;
		t->n = size;
		return 0;
	}
	if (lo < t->first) {
		size_t d = (size_t)(t->first - lo);
		memmove(t->buckets + d, t->buckets, t->n * sizeof(*t->buckets));
		clear_buckets(t->buckets, d);
		t->first = lo;
		t->n += d;
	}
	if ((size_t)(hi - t->first + 1) > t->n) {
		size_t n = (size_t)(hi - t->first + 1);
		clear_buckets(t->buckets + t->n, n - t->n);
		t->n = n;
	}
	assert(t->n <= t->cap && t->first <= lo && t->first + (int64_t)t->n - 1 >= hi);
	return 0;
}

static int keep_whole(struct overview *ov, struct track *t, struct overview_span w)
{
	if (t->nwholes == t->wholes_cap) {
		size_t cap = t->wholes_cap ? 2 * t->wholes_cap : MIN_CAP;
		struct overview_span *p = realloc(t->wholes, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		ov->bytes += (cap - t->wholes_cap) * sizeof(*p);
		t->wholes = p;
		t->wholes_cap = cap;
	}
	t->wholes[t->nwholes++] = w;
	return 0;
}

/* Gives back the spare capacity of a track that was made coarser. */
static void trim(struct overview *ov, struct track *t)
{
	size_t cap = t->cap;
	while (cap / 2 >= t->n && cap / 2 >= MIN_CAP)
		cap /= 2;
	if (cap < t->cap) {
		struct overview_bucket *b = realloc(t->buckets, cap * sizeof(*b));
		if (b) {
			ov->bytes -= (t->cap - cap) * sizeof(*b);
			t->buckets = b;
			t->cap = cap;
		}
	}
	cap = t->wholes_cap;
	while (cap / 2 >= t->nwholes && cap / 2 >= MIN_CAP)
		cap /= 2;
	if (cap < t->wholes_cap) {
		struct overview_span *w = realloc(t->wholes, cap * sizeof(*w));
		if (w) {
			ov->bytes -= (t->wholes_cap - cap) * sizeof(*w);
			t->wholes = w;
			t->wholes_cap = cap;
		}
	}
}

/* Over budget: makes the largest tracks coarser until an eighth under it
 * (so that the next call is an eighth of the budget of new spans away),
 * or until every track is too small to gain from it. Each pass over the
 * tracks makes coarser every track at least half the size of the largest,
 * so a trace of many tracks of a like size (a build's processes) takes a
 * few passes, not one per track. */
static void shrink(struct overview *ov)
{
	size_t target = ov->budget - ov->budget / 8;
	while (ov->bytes > target) {
		size_t largest = 0;
		for (int k = 0; k < OVERVIEW_KIND_COUNT; k++)
			for (size_t i = 0; i < ov->ntracks[k]; i++) {
				struct track *t = ov->tracks[k][i];
				if (t && t->n >= SHRINK_MIN && t->shift < MAX_SHIFT &&
				    track_bytes(t) > largest)
					largest = track_bytes(t);
			}
		if (!largest) {
			ov->unshrinkable = ov->bytes;
			return;
		}
		for (int k = 0; k < OVERVIEW_KIND_COUNT && ov->bytes > target; k++)
			for (size_t i = 0; i < ov->ntracks[k] && ov->bytes > target; i++) {
				struct track *t = ov->tracks[k][i];
				if (t && t->n >= SHRINK_MIN && t->shift < MAX_SHIFT &&
				    track_bytes(t) >= largest / 2) {
					coarsen(t);
					trim(ov, t);
				}
			}
	}
}

int overview_add(struct overview *ov, enum overview_kind kind, int64_t id, int64_t ts, int64_t dur,
		 int state, int reason, int64_t object)
{
	if (ov->failed)
		return -ENOMEM;
	if ((unsigned)kind >= OVERVIEW_KIND_COUNT || id < 0 || id >= OVERVIEW_MAX_ID)
		return 0;
	if (ts < 0)
		ts = 0;
	if (dur < 0)
		dur = 0;
	if (dur > (INT64_C(1) << 59) - 1 - ts)
		dur = (INT64_C(1) << 59) - 1 - ts > 0 ? (INT64_C(1) << 59) - 1 - ts : 0;
	if (state < 0 || state >= OVERVIEW_STATE_COUNT)
		state = NO_STATE;
	if (reason < -1 || reason >= OVERVIEW_REASON_COUNT)
		reason = -1;
	int32_t obj = object < 0 || object > INT32_MAX ? -1 : (int32_t)object;
	struct track *t = track_for(ov, kind, id);
	if (!t || cover(ov, t, ts, ts + dur) < 0)
		goto fail;
	if (t->spans == 0 || ts < t->start)
		t->start = ts;
	if (t->spans == 0 || ts + dur > t->end)
		t->end = ts + dur;
	t->spans++;
	if (dur >= (INT64_C(1) << t->shift)) {
		struct overview_span w = {.ts = ts,
					  .dur = dur,
					  .object = obj,
					  .state = (uint8_t)state,
					  .reason = (int8_t)reason};
		if (keep_whole(ov, t, w) < 0)
			goto fail;
		while (t->nwholes > 2 * OVERVIEW_BUCKETS && t->shift < MAX_SHIFT)
			coarsen(t);
	} else {
		add_short(t, ts, dur, state, obj);
	}
	if (ov->bytes > ov->budget && ov->bytes > ov->unshrinkable + ov->budget / 16)
		shrink(ov);
	return 0;
fail:
	ov->failed = 1;
	return -ENOMEM;
}

int overview_write(const struct overview *ov, sqlite3 *db)
{
	if (ov->failed)
		return -ENOMEM;
	sqlite3_stmt *stmt = NULL;
	unsigned char *buf = NULL, *wbuf = NULL;
	struct overview_span *sorted = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO track_overview(kind, id, start_ts, end_ts, spans, "
			       "bucket_ns, first_bucket, bucket_count, buckets, long_spans) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			       -1, &stmt, NULL) != SQLITE_OK)
		goto err;
	for (int k = 0; k < OVERVIEW_KIND_COUNT; k++)
		for (size_t id = 0; id < ov->ntracks[k]; id++) {
			const struct track *t = ov->tracks[k][id];
			if (!t || t->spans == 0)
				continue;
			rc = -ENOMEM;
			free(buf);
			free(wbuf);
			free(sorted);
			buf = malloc(t->n * OVERVIEW_BUCKET_BYTES_MAX + 1);
			wbuf = malloc(t->nwholes * OVERVIEW_SPAN_BYTES_MAX + 1);
			sorted = malloc((t->nwholes + 1) * sizeof(*sorted));
			if (!buf || !wbuf || !sorted)
				goto err;
			if (t->nwholes)
				memcpy(sorted, t->wholes, t->nwholes * sizeof(*sorted));
			size_t len = overview_encode_buckets(t->buckets, t->n, t->shift,
							     k == OVERVIEW_CPU, buf);
			size_t wlen = overview_encode_spans(sorted, t->nwholes, t->start, wbuf);
			rc = -EIO;
			sqlite3_bind_text(stmt, 1, names_kinds[k], -1, SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 2, (int64_t)id);
			sqlite3_bind_int64(stmt, 3, t->start);
			sqlite3_bind_int64(stmt, 4, t->end);
			sqlite3_bind_int64(stmt, 5, t->spans);
			sqlite3_bind_int64(stmt, 6, INT64_C(1) << t->shift);
			sqlite3_bind_int64(stmt, 7, t->first);
			sqlite3_bind_int64(stmt, 8, (int64_t)t->n);
			sqlite3_bind_blob(stmt, 9, buf, (int)len, SQLITE_STATIC);
			sqlite3_bind_blob(stmt, 10, wbuf, (int)wlen, SQLITE_STATIC);
			int step = sqlite3_step(stmt);
			sqlite3_reset(stmt);
			if (step != SQLITE_DONE)
				goto err;
		}
	rc = 0;
err:
	sqlite3_finalize(stmt);
	free(buf);
	free(wbuf);
	free(sorted);
	return rc;
}
