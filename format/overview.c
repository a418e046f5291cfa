/*
 * overview.c — the stored form of overview.h: its encoder (for writers)
 * and its decoder and viewport query (for readers).
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

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS OVERVIEW_SLOTS
#define NO_STATE OVERVIEW_NO_STATE
#define MAX_SHIFT OVERVIEW_MAX_SHIFT
#define NO_TOP 0xFF   /* a decoded bucket without a top */
#define UNIT_SHIFT 12 /* a unit is 1/4096 of a bucket */
#define MIN_CAP 16    /* spans allocated at first */
#define DECODE_MAX_BUCKETS ((int64_t)1 << 20)

const char *const *const overview_state_names = names_states;
const char *const *const overview_reason_names = names_reasons;
const char *const *const overview_kind_names = names_kinds;

int overview_state_index(const char *name)
{
	return names_state_index(name);
}

int overview_reason_index(const char *name)
{
	return names_reason_index(name);
}

int overview_kind_index(const char *name)
{
	return names_kind_index(name);
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

size_t overview_encode_buckets(const struct overview_bucket *buckets, size_t n, int shift,
			       int with_top, unsigned char *out)
{
	int64_t unit = unit_of(shift);
	int held = overview_held_shift(shift);
	unsigned char *p = out;
	for (size_t k = 0; k < n; k++) {
		const struct overview_bucket *b = &buckets[k];
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
	const struct overview_span *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->dur < y->dur ? -1 : x->dur > y->dur;
}

size_t overview_encode_spans(struct overview_span *w, size_t n, int64_t start, unsigned char *out)
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
	struct overview_span *wholes;
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
		    (packed >> 3) > NAMES_REASON_COUNT)
			return -1;
		if (t->nwholes == cap) {
			cap = cap ? 2 * cap : MIN_CAP;
			struct overview_span *w = realloc(t->wholes, cap * sizeof(*w));
			if (!w)
				return -1;
			t->wholes = w;
		}
		prev += (int64_t)delta;
		t->wholes[t->nwholes++] =
		    (struct overview_span){.ts = prev,
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
	int k = names_kind_index(kind);
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

static inline int64_t whole_end(const struct overview_span *w)
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

/* The entry of a span kept whole, exactly. */
static struct overview_entry exact_entry(const struct overview_span *w)
{
	return (struct overview_entry){.ts = w->ts,
				       .dur = w->dur,
				       .state = w->state == NO_STATE ? -1 : w->state,
				       .reason = w->reason,
				       .object = w->object,
				       .n = 1,
				       .top_state = -1,
				       .top_object = -1};
}

/* The buckets [*k0, *k1] that [pos, r1) overlaps, clamped to the track's
 * (*k0 > *k1: none). */
static void bucket_range(const struct overview_track *t, int64_t pos, int64_t r1, int64_t *k0,
			 int64_t *k1)
{
	*k0 = (pos >> t->shift) - t->first;
	*k1 = ((r1 - 1) >> t->shift) - t->first;
	if (*k0 < 0)
		*k0 = 0;
	if (*k1 > (int64_t)t->n - 1)
		*k1 = (int64_t)t->n - 1;
}

/* Sums into *e the run [pos, r1): its buckets and the whole spans from
 * index li on shorter than P that overlap it (mix, spans begun, the
 * longest span's state and object); then its state and extent. Returns 0
 * when the run holds nothing (*e is then not an entry). */
static int sum_run(const struct overview_track *t, int64_t pos, int64_t r1, size_t li, int64_t P,
		   struct overview_entry *e)
{
	const int64_t unit = unit_of(t->shift);
	const struct overview_span *W = t->wholes;
	*e = (struct overview_entry){.run = 1, .top_state = -1, .top_object = -1};
	int64_t top_dur = -1;
	uint64_t n = 0;
	int any = 0;
	int64_t k0, k1;
	bucket_range(t, pos, r1, &k0, &k1);
	for (int64_t k = k0; k <= k1; k++) {
		assert(k >= 0 && k < (int64_t)t->n);
		const struct cell *c = &t->cells[k];
		if (cell_empty(c))
			continue;
		any = 1;
		for (int s = 0; s < SLOTS; s++)
			e->mix[s] += (int64_t)c->ns[s] * unit;
		n += c->starts;
		if (c->top_state != NO_TOP && (int64_t)c->top_dur * unit > top_dur) {
			top_dur = (int64_t)c->top_dur * unit;
			e->top_state = c->top_state == NO_STATE ? -1 : c->top_state;
			e->top_object = c->top_object;
		}
	}
	for (size_t j = li; j < t->nwholes && W[j].ts < r1; j++) {
		int64_t a = W[j].ts > pos ? W[j].ts : pos;
		int64_t b = whole_end(&W[j]) < r1 ? whole_end(&W[j]) : r1;
		if (b <= a || W[j].dur >= P)
			continue;
		any = 1;
		if (W[j].state < SLOTS)
			e->mix[W[j].state] += b - a;
		n += W[j].ts >= pos;
		if (W[j].dur > top_dur) {
			top_dur = W[j].dur;
			e->top_state = W[j].state == NO_STATE ? -1 : W[j].state;
			e->top_object = W[j].object;
		}
	}
	int64_t best = 0;
	e->state = e->top_state;
	for (int s = 0; s < NAMES_STATE_COUNT; s++)
		if (e->mix[s] > best) {
			best = e->mix[s];
			e->state = s;
		}
	e->ts = pos;
	e->dur = r1 - pos;
	e->reason = -1;
	e->object = -1;
	e->n = n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return any;
}

/* After the empty run [pos, r1) (an idle CPU): where the next content
 * begins, a bucket with something in it or the whole span li. */
static int64_t next_content(const struct overview_track *t, int64_t pos, int64_t r1, size_t li)
{
	int64_t k0, k1, next = INT64_MAX;
	bucket_range(t, pos, r1, &k0, &k1);
	for (int64_t k = k1 + 1 > k0 ? k1 + 1 : k0; k < (int64_t)t->n; k++)
		if (!cell_empty(&t->cells[k])) {
			next = (t->first + k) << t->shift;
			break;
		}
	if (li < t->nwholes && t->wholes[li].ts < next)
		next = t->wholes[li].ts;
	return next > r1 ? next : r1;
}

int overview_track_query(const struct overview_track *t, int64_t start, int64_t end, int64_t px,
			 overview_emit_fn emit, void *ctx)
{
	if (end <= start || px < 1 || t->spans == 0)
		return 0;
	int64_t P = (end - start) / px > 0 ? (end - start) / px : 1;
	int64_t pos = start > t->start ? start : t->start;
	int64_t stop = end < t->end ? end : t->end;
	int group_shift = t->shift;
	while (group_shift < MAX_SHIFT && (INT64_C(1) << (group_shift + 1)) <= P)
		group_shift++;
	const int64_t group = INT64_C(1) << group_shift;
	const struct overview_span *W = t->wholes;
	const size_t nw = t->nwholes;
	size_t li = first_whole(t, pos);
	struct overview_entry e;
	while (pos < stop) {
		while (li < nw && whole_end(&W[li]) <= pos)
			li++;
		if (li < nw && W[li].ts <= pos && W[li].dur >= P) {
			/* a span of a pixel or more: exactly */
			e = exact_entry(&W[li]);
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
		if (!sum_run(t, pos, r1, li, P, &e)) {
			pos = next_content(t, pos, r1, li);
			continue;
		}
		int rc = emit(ctx, &e);
		if (rc)
			return rc;
		pos = r1;
	}
	return 0;
}
