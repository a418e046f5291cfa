/*
 * overview.c — see overview.h. The builder, the stored form and the
 * viewport query.
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
 * Stored form, one track_overview row per track (integers little-endian
 * LEB128 varints; a "unit" is max(1, bucket_ns >> 12) ns):
 *   buckets     bucket_count buckets, each a mask byte then the fields
 *               its bits announce, in this order:
 *                 bits 0-5  ns in state 0..5 (New..Suspended), in units
 *                           (rounded; at least 1 when there was any);
 *                 bit 6     spans that begin in the bucket;
 *                 bit 7     its longest short span (written for CPU
 *                           tracks, where it names the thread): a state
 *                           byte (7: unknown), dur in units, object + 1.
 *   long_spans  the spans kept whole, in ts order: ts - the previous one's
 *               ts (the first: - start_ts), dur, a byte state | (reason +
 *               1) << 3 (state 7: unknown), object + 1 (0: none).
 *
 * Decoded (readers), a bucket takes 24 bytes: ns and the top's dur in
 * units as uint16 (saturated: only overlapping CPU slices can pass 4096
 * units), starts, the top's state and object.
 */
#include "overview.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 6	      /* states spans can be in: New..Suspended */
#define NO_STATE 7    /* unknown state */
#define NO_TOP 0xFF   /* a decoded bucket without a top */
#define UNIT_SHIFT 12 /* a unit is 1/4096 of a bucket */
#define MAX_SHIFT 61  /* widest bucket: 2^61 ns */
#define MIN_CAP 16    /* buckets allocated at first */
#define SHRINK_MIN 64 /* tracks smaller than this are not made coarser */
#define DECODE_MAX_BUCKETS ((int64_t)1 << 20)

const char *const overview_state_names[OVERVIEW_STATE_COUNT] = {
    "New", "Running", "Ready", "Blocked", "Waiting", "Suspended", "Terminated",
};

const char *const overview_reason_names[OVERVIEW_REASON_COUNT] = {
    "mutex", "rwlock", "cond", "sem",  "barrier", "join",
    "sleep", "io",     "poll", "wait", "futex",	  "other",
};

const char *const overview_kind_names[OVERVIEW_KIND_COUNT] = {"thread", "process", "cpu"};

static int index_of(const char *const *names, int count, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < count; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int overview_state_index(const char *name)
{
	return index_of(overview_state_names, OVERVIEW_STATE_COUNT, name);
}

int overview_reason_index(const char *name)
{
	return index_of(overview_reason_names, OVERVIEW_REASON_COUNT, name);
}

int overview_kind_index(const char *name)
{
	return index_of(overview_kind_names, OVERVIEW_KIND_COUNT, name);
}

/* ---- building ----------------------------------------------------------- */

struct bucket {
	uint32_t ns[SLOTS]; /* in units of 1 << ns_shift(track), saturated */
	uint32_t starts;
	int32_t top_object;
	int64_t top; /* dur << 3 | state of the longest short span; -1: none */
};		     /* 40 bytes */

#define NS_BITS 31 /* buckets up to 2^31 ns wide keep ns */

/* A span kept whole (also the decoded form of one). */
struct whole {
	int64_t ts, dur;
	int32_t object;
	uint8_t state; /* 0..6, NO_STATE */
	int8_t reason; /* -1..11 */
};

struct track {
	int64_t start, end, spans;
	int shift;
	int64_t first; /* absolute index of buckets[0] */
	size_t n, cap;
	struct bucket *buckets;
	struct whole *wholes;
	size_t nwholes, wholes_cap;
};

struct overview {
	struct track **tracks[OVERVIEW_KIND_COUNT]; /* by id; NULL: none */
	size_t ntracks[OVERVIEW_KIND_COUNT];
	size_t bytes, budget;
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
	return sizeof(*t) + t->cap * sizeof(struct bucket) + t->wholes_cap * sizeof(struct whole);
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

static void clear_buckets(struct bucket *b, size_t count)
{
	for (size_t i = 0; i < count; i++)
		b[i] = (struct bucket){.top = -1, .top_object = -1};
}

/* The unit (a shift) of a track's bucket sums at a bucket width of 1 << shift. */
static int ns_shift(int shift)
{
	return shift > NS_BITS ? shift - NS_BITS : 0;
}

static uint32_t add32(uint32_t a, uint64_t b)
{
	return b > UINT32_MAX - a ? UINT32_MAX : a + (uint32_t)b;
}

static void put(struct bucket *b, int state, int64_t ns, int unit_shift, int64_t key,
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
	struct bucket *b = &t->buckets[abs - t->first];
	if (b->starts < UINT32_MAX)
		b->starts++;
	int64_t key = dur << 3 | state;
	int unit = ns_shift(t->shift);
	put(b, state, (e < hi ? e : hi) - ts, unit, key, object);
	if (e > hi)
		put(b + 1, state, e - hi, unit, key, object);
}

static void merge(struct bucket *into, const struct bucket *b)
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
		if (d != prev)
			t->buckets[d] = t->buckets[k]; /* d <= k */
		else
			merge(&t->buckets[d], &t->buckets[k]);
		prev = d;
	}
	t->first = first;
	t->n = n;
	t->shift++;
	if (ns_shift(t->shift) > ns_shift(t->shift - 1))
		for (size_t k = 0; k < n; k++)
			for (int s = 0; s < SLOTS; s++)
				t->buckets[k].ns[s] =
				    (uint32_t)(((uint64_t)t->buckets[k].ns[s] + 1) >> 1);
	size_t keep = 0;
	for (size_t i = 0; i < t->nwholes; i++) {
		struct whole w = t->wholes[i];
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
		struct bucket *b = realloc(t->buckets, cap * sizeof(*b));
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
	return 0;
}

static int keep_whole(struct overview *ov, struct track *t, struct whole w)
{
	if (t->nwholes == t->wholes_cap) {
		size_t cap = t->wholes_cap ? 2 * t->wholes_cap : MIN_CAP;
		struct whole *p = realloc(t->wholes, cap * sizeof(*p));
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
		struct bucket *b = realloc(t->buckets, cap * sizeof(*b));
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
		struct whole *w = realloc(t->wholes, cap * sizeof(*w));
		if (w) {
			ov->bytes -= (t->wholes_cap - cap) * sizeof(*w);
			t->wholes = w;
			t->wholes_cap = cap;
		}
	}
}

/* Over budget: makes the largest tracks coarser until under it (or until
 * every track is too small to gain from it). */
static void shrink(struct overview *ov)
{
	while (ov->bytes > ov->budget) {
		struct track *largest = NULL;
		for (int k = 0; k < OVERVIEW_KIND_COUNT; k++)
			for (size_t i = 0; i < ov->ntracks[k]; i++) {
				struct track *t = ov->tracks[k][i];
				if (t && t->n >= SHRINK_MIN && t->shift < MAX_SHIFT &&
				    (!largest || track_bytes(t) > track_bytes(largest)))
					largest = t;
			}
		if (!largest)
			return;
		coarsen(largest);
		trim(ov, largest);
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
		struct whole w = {.ts = ts,
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
	if (ov->bytes > ov->budget)
		shrink(ov);
	return 0;
fail:
	ov->failed = 1;
	return -ENOMEM;
}

/* ---- the stored form ------------------------------------------------------ */

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* Reads a varint from [*p, end); 0, or -1 when truncated or too long. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		unsigned char c = *(*p)++;
		x |= (uint64_t)(c & 0x7F) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int64_t unit_of(int shift)
{
	return shift > UNIT_SHIFT ? INT64_C(1) << (shift - UNIT_SHIFT) : 1;
}

/* ns in units, rounded, at least 1 when ns > 0. */
static uint64_t to_units(int64_t ns, int64_t unit)
{
	if (ns <= 0)
		return 0;
	uint64_t u = (uint64_t)(ns + unit / 2) / (uint64_t)unit;
	return u ? u : 1;
}

/* Worst case of one encoded bucket: mask, 6 + 1 + 2 varints, state byte. */
#define BUCKET_MAX (1 + 9 * 10 + 1)
#define WHOLE_MAX (3 * 10 + 1 + 5)

static size_t encode_buckets(const struct track *t, int with_top, unsigned char *out)
{
	int64_t unit = unit_of(t->shift);
	int held = ns_shift(t->shift);
	unsigned char *p = out;
	for (size_t k = 0; k < t->n; k++) {
		const struct bucket *b = &t->buckets[k];
		unsigned char *mask = p++;
		*mask = 0;
		for (int s = 0; s < SLOTS; s++) {
			uint64_t u = to_units((int64_t)b->ns[s] << held, unit);
			if (u) {
				*mask |= (unsigned char)(1u << s);
				p = put_varint(p, u);
			}
		}
		if (b->starts) {
			*mask |= 1u << 6;
			p = put_varint(p, b->starts);
		}
		if (with_top && b->top >= 0) {
			*mask |= 1u << 7;
			*p++ = (unsigned char)(b->top & 7);
			p = put_varint(p, (uint64_t)((b->top >> 3) / unit));
			p = put_varint(p, (uint64_t)((int64_t)b->top_object + 1));
		}
	}
	return (size_t)(p - out);
}

static int by_ts(const void *a, const void *b)
{
	const struct whole *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->dur < y->dur ? -1 : x->dur > y->dur;
}

/* Encodes the wholes in ts order (sorts them in place). */
static size_t encode_wholes(struct whole *w, size_t n, int64_t start, unsigned char *out)
{
	qsort(w, n, sizeof(*w), by_ts);
	unsigned char *p = out;
	int64_t prev = start;
	for (size_t i = 0; i < n; i++) {
		p = put_varint(p, (uint64_t)(w[i].ts - prev));
		p = put_varint(p, (uint64_t)w[i].dur);
		*p++ = (unsigned char)(w[i].state | (w[i].reason + 1) << 3);
		p = put_varint(p, (uint64_t)((int64_t)w[i].object + 1));
		prev = w[i].ts;
	}
	return (size_t)(p - out);
}

int overview_write(const struct overview *ov, sqlite3 *db)
{
	if (ov->failed)
		return -ENOMEM;
	sqlite3_stmt *stmt = NULL;
	unsigned char *buf = NULL, *wbuf = NULL;
	struct whole *sorted = NULL;
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
			buf = malloc(t->n * BUCKET_MAX + 1);
			wbuf = malloc(t->nwholes * WHOLE_MAX + 1);
			sorted = malloc((t->nwholes + 1) * sizeof(*sorted));
			if (!buf || !wbuf || !sorted)
				goto err;
			if (t->nwholes)
				memcpy(sorted, t->wholes, t->nwholes * sizeof(*sorted));
			size_t len = encode_buckets(t, k == OVERVIEW_CPU, buf);
			size_t wlen = encode_wholes(sorted, t->nwholes, t->start, wbuf);
			rc = -EIO;
			sqlite3_bind_text(stmt, 1, overview_kind_names[k], -1, SQLITE_STATIC);
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

/* ---- reading ------------------------------------------------------------ */

struct cell {
	uint16_t ns[SLOTS]; /* units */
	uint16_t top_dur;   /* units */
	uint32_t starts;
	int32_t top_object;
	uint8_t top_state; /* 0..7, NO_TOP: no top */
};			   /* 24 bytes */

struct overview_track {
	enum overview_kind kind;
	int64_t id, start, end, spans;
	int shift;
	int64_t first;
	size_t n, nwholes;
	struct cell *cells;
	struct whole *wholes;
};

static uint16_t saturate16(uint64_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static int decode_buckets(struct overview_track *t, const unsigned char *p,
			  const unsigned char *end)
{
	for (size_t k = 0; k < t->n; k++) {
		struct cell *c = &t->cells[k];
		*c = (struct cell){.top_object = -1, .top_state = NO_TOP};
		if (p >= end)
			return -1;
		unsigned mask = *p++;
		uint64_t v;
		for (int s = 0; s < SLOTS; s++)
			if (mask & (1u << s)) {
				if (get_varint(&p, end, &v) < 0)
					return -1;
				c->ns[s] = saturate16(v);
			}
		if (mask & (1u << 6)) {
			if (get_varint(&p, end, &v) < 0)
				return -1;
			c->starts = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		}
		if (mask & (1u << 7)) {
			if (p >= end)
				return -1;
			c->top_state = *p++ & 7;
			if (get_varint(&p, end, &v) < 0)
				return -1;
			c->top_dur = saturate16(v);
			if (get_varint(&p, end, &v) < 0 || v > (uint64_t)INT32_MAX + 1)
				return -1;
			c->top_object = (int32_t)((int64_t)v - 1);
		}
	}
	return p == end ? 0 : -1;
}

static int decode_wholes(struct overview_track *t, const unsigned char *p, const unsigned char *end)
{
	size_t cap = 0;
	int64_t prev = t->start;
	while (p < end) {
		uint64_t delta, dur, object;
		if (get_varint(&p, end, &delta) < 0 || get_varint(&p, end, &dur) < 0 || p >= end)
			return -1;
		unsigned packed = *p++;
		if (get_varint(&p, end, &object) < 0 || object > (uint64_t)INT32_MAX + 1 ||
		    delta > (uint64_t)(INT64_MAX - prev) || dur > (uint64_t)INT64_MAX / 2 ||
		    (packed >> 3) > OVERVIEW_REASON_COUNT)
			return -1;
		if (t->nwholes == cap) {
			cap = cap ? 2 * cap : MIN_CAP;
			struct whole *w = realloc(t->wholes, cap * sizeof(*w));
			if (!w)
				return -1;
			t->wholes = w;
		}
		prev += (int64_t)delta;
		t->wholes[t->nwholes++] =
		    (struct whole){.ts = prev,
				   .dur = (int64_t)dur,
				   .object = (int32_t)((int64_t)object - 1),
				   .state = (uint8_t)(packed & 7),
				   .reason = (int8_t)((int)(packed >> 3) - 1)};
	}
	return 0;
}

struct overview_track *overview_track_decode(const char *kind, int64_t id, int64_t start_ts,
					     int64_t end_ts, int64_t spans, int64_t bucket_ns,
					     int64_t first_bucket, int64_t bucket_count,
					     const void *buckets, size_t buckets_len,
					     const void *long_spans, size_t long_spans_len)
{
	int k = overview_kind_index(kind);
	if (k < 0 || bucket_ns < 1 || (bucket_ns & (bucket_ns - 1)) || start_ts < 0 ||
	    end_ts < start_ts || spans < 0 || first_bucket < 0 || bucket_count < 0 ||
	    bucket_count > DECODE_MAX_BUCKETS)
		return NULL;
	int shift = __builtin_ctzll((uint64_t)bucket_ns);
	if (shift > MAX_SHIFT || first_bucket > (INT64_MAX >> shift) - bucket_count - 1)
		return NULL;
	struct overview_track *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct overview_track){.kind = (enum overview_kind)k,
				     .id = id,
				     .start = start_ts,
				     .end = end_ts,
				     .spans = spans,
				     .shift = shift,
				     .first = first_bucket,
				     .n = (size_t)bucket_count};
	t->cells = malloc((t->n + 1) * sizeof(*t->cells));
	const unsigned char *b = buckets ? buckets : (const unsigned char *)"";
	const unsigned char *w = long_spans ? long_spans : (const unsigned char *)"";
	if (!t->cells || decode_buckets(t, b, b + buckets_len) < 0 ||
	    decode_wholes(t, w, w + long_spans_len) < 0) {
		overview_track_free(t);
		return NULL;
	}
	return t;
}

void overview_track_free(struct overview_track *t)
{
	if (!t)
		return;
	free(t->cells);
	free(t->wholes);
	free(t);
}

enum overview_kind overview_track_kind(const struct overview_track *t)
{
	return t->kind;
}

int64_t overview_track_id(const struct overview_track *t)
{
	return t->id;
}

int64_t overview_track_start(const struct overview_track *t)
{
	return t->start;
}

int64_t overview_track_end(const struct overview_track *t)
{
	return t->end;
}

int64_t overview_track_spans(const struct overview_track *t)
{
	return t->spans;
}

int64_t overview_track_width(const struct overview_track *t)
{
	return INT64_C(1) << t->shift;
}

size_t overview_track_bytes(const struct overview_track *t)
{
	return sizeof(*t) + (t->n + 1) * sizeof(*t->cells) + t->nwholes * sizeof(*t->wholes);
}

static inline int64_t whole_end(const struct whole *w)
{
	return w->ts + w->dur;
}

static inline int cell_empty(const struct cell *c)
{
	if (c->starts || c->top_state != NO_TOP)
		return 0;
	for (int s = 0; s < SLOTS; s++)
		if (c->ns[s])
			return 0;
	return 1;
}

/* The first whole span that may overlap pos: the first with ts >= pos,
 * or the one before it when that one is still going at pos. */
static size_t first_whole(const struct overview_track *t, int64_t pos)
{
	size_t lo = 0, hi = t->nwholes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->wholes[mid].ts < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0 && whole_end(&t->wholes[lo - 1]) > pos)
		lo--;
	return lo;
}

int overview_track_query(const struct overview_track *t, int64_t start, int64_t end, int64_t px,
			 overview_emit_fn emit, void *ctx)
{
	if (end <= start || px < 1 || t->spans == 0)
		return 0;
	int64_t P = (end - start) / px > 0 ? (end - start) / px : 1;
	int64_t pos = start > t->start ? start : t->start;
	int64_t stop = end < t->end ? end : t->end;
	const int shift = t->shift;
	const int64_t unit = unit_of(shift);
	int group_shift = shift;
	while (group_shift < MAX_SHIFT && (INT64_C(1) << (group_shift + 1)) <= P)
		group_shift++;
	const int64_t group = INT64_C(1) << group_shift;
	const struct whole *W = t->wholes;
	const size_t nw = t->nwholes;
	size_t li = first_whole(t, pos);
	struct overview_entry e;
	while (pos < stop) {
		while (li < nw && whole_end(&W[li]) <= pos)
			li++;
		if (li < nw && W[li].ts <= pos && W[li].dur >= P) {
			/* a span of a pixel or more: exactly */
			e = (struct overview_entry){.ts = W[li].ts,
						    .dur = W[li].dur,
						    .state =
							W[li].state == NO_STATE ? -1 : W[li].state,
						    .reason = W[li].reason,
						    .object = W[li].object,
						    .n = 1,
						    .top_state = -1,
						    .top_object = -1};
			int rc = emit(ctx, &e);
			if (rc)
				return rc;
			pos = whole_end(&W[li]);
			li++;
			continue;
		}
		/* a run: to the first boundary a pixel or more on of the
		 * widest power-of-two groups of buckets no wider than a pixel
		 * (so runs are 1 to 2 pixels long, as the exact timeline's),
		 * or to where the next exact span begins */
		int64_t r1 = ((pos + P + group - 1) >> group_shift) << group_shift;
		for (size_t j = li; j < nw && W[j].ts < r1; j++)
			if (W[j].ts > pos && W[j].dur >= P) {
				r1 = W[j].ts;
				break;
			}
		if (r1 > t->end)
			r1 = t->end;
		e = (struct overview_entry){.run = 1, .top_state = -1, .top_object = -1};
		int64_t top_dur = -1;
		uint64_t n = 0;
		int any = 0;
		int64_t k0 = (pos >> shift) - t->first, k1 = ((r1 - 1) >> shift) - t->first;
		if (k0 < 0)
			k0 = 0;
		if (k1 > (int64_t)t->n - 1)
			k1 = (int64_t)t->n - 1;
		for (int64_t k = k0; k <= k1; k++) {
			const struct cell *c = &t->cells[k];
			if (cell_empty(c))
				continue;
			any = 1;
			for (int s = 0; s < SLOTS; s++)
				e.mix[s] += (int64_t)c->ns[s] * unit;
			n += c->starts;
			if (c->top_state != NO_TOP && (int64_t)c->top_dur * unit > top_dur) {
				top_dur = (int64_t)c->top_dur * unit;
				e.top_state = c->top_state == NO_STATE ? -1 : c->top_state;
				e.top_object = c->top_object;
			}
		}
		for (size_t j = li; j < nw && W[j].ts < r1; j++) {
			int64_t a = W[j].ts > pos ? W[j].ts : pos;
			int64_t b = whole_end(&W[j]) < r1 ? whole_end(&W[j]) : r1;
			if (b <= a || W[j].dur >= P)
				continue;
			any = 1;
			if (W[j].state < SLOTS)
				e.mix[W[j].state] += b - a;
			n += W[j].ts >= pos;
			if (W[j].dur > top_dur) {
				top_dur = W[j].dur;
				e.top_state = W[j].state == NO_STATE ? -1 : W[j].state;
				e.top_object = W[j].object;
			}
		}
		if (!any) {
			/* nothing here (an idle CPU): on to the next content */
			int64_t next = INT64_MAX;
			for (int64_t k = k1 + 1 > k0 ? k1 + 1 : k0; k < (int64_t)t->n; k++)
				if (!cell_empty(&t->cells[k])) {
					next = (t->first + k) << shift;
					break;
				}
			if (li < nw && W[li].ts < next)
				next = W[li].ts;
			pos = next > r1 ? next : r1;
			continue;
		}
		int64_t best = 0;
		e.state = e.top_state;
		for (int s = 0; s < OVERVIEW_STATE_COUNT; s++)
			if (e.mix[s] > best) {
				best = e.mix[s];
				e.state = s;
			}
		e.ts = pos;
		e.dur = r1 - pos;
		e.reason = -1;
		e.object = -1;
		e.n = n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
		int rc = emit(ctx, &e);
		if (rc)
			return rc;
		pos = r1;
	}
	return 0;
}
