/*
 * flowsum: see flowsum.h. Entries live in one growing array; the hash
 * (power-of-two slots, linear probing, slot = entry index + 1) finds the
 * entry of (object, class, bucket) while loading.
 */
#include "flowsum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Past this many (object, class, bucket) entries (about 27 MB) the sums
 * stop being worth their memory: they are dropped and callers use SQL.
 * (A live trace whose buckets were sized when it was short can get here.) */
#define MAX_ENTRIES (1 << 18)

struct entry {
	int64_t object_id;
	int64_t bucket;
	enum flowsum_class cls;
	struct flowsum_totals t;
};

struct flowsum {
	int64_t t0, width;
	struct entry *entries;
	size_t n, cap;
	uint32_t *slots;
	size_t nslots;
	int unusable;
};

struct flowsum *flowsum_new(int64_t t0, int64_t width)
{
	struct flowsum *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->t0 = t0;
	f->width = width > 0 ? width : 1;
	return f;
}

void flowsum_free(struct flowsum *f)
{
	if (!f)
		return;
	free(f->entries);
	free(f->slots);
	free(f);
}

int flowsum_usable(const struct flowsum *f)
{
	return f && !f->unusable;
}

static uint64_t hash(int64_t object_id, int cls, int64_t bucket)
{
	uint64_t h = (uint64_t)object_id * 0x9E3779B97F4A7C15ULL;
	h ^= (uint64_t)bucket * 0xC2B2AE3D27D4EB4FULL + (uint64_t)cls;
	h ^= h >> 29;
	return h * 0xBF58476D1CE4E5B9ULL;
}

static int rehash(struct flowsum *f, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const struct entry *e = &f->entries[i];
		size_t s = hash(e->object_id, e->cls, e->bucket) & (nslots - 1);
		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = (uint32_t)(i + 1);
	}
	free(f->slots);
	f->slots = slots;
	f->nslots = nslots;
	return 0;
}

static struct entry *find_or_add(struct flowsum *f, int64_t object_id, enum flowsum_class cls,
				 int64_t bucket)
{
	if ((f->n + 1) * 2 > f->nslots && rehash(f, f->nslots ? f->nslots * 2 : 1024) < 0)
		return NULL;
	size_t s = hash(object_id, cls, bucket) & (f->nslots - 1);
	while (f->slots[s]) {
		struct entry *e = &f->entries[f->slots[s] - 1];
		if (e->object_id == object_id && e->cls == cls && e->bucket == bucket)
			return e;
		s = (s + 1) & (f->nslots - 1);
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct entry *p = realloc(f->entries, cap * sizeof(*p));
		if (!p)
			return NULL;
		f->entries = p;
		f->cap = cap;
	}
	struct entry *e = &f->entries[f->n];
	memset(e, 0, sizeof(*e));
	e->object_id = object_id;
	e->cls = cls;
	e->bucket = bucket;
	f->slots[s] = (uint32_t)++f->n;
	return e;
}

static int in_range(int64_t utid)
{
	return utid >= 0 && utid < FLOWSUM_MAX_UTID;
}

void flowsum_totals_add(struct flowsum_totals *t, int64_t utid_out, int64_t utid_in, int64_t bytes)
{
	t->count++;
	t->bytes += bytes > 0 ? bytes : 0;
	if (in_range(utid_out))
		t->out[utid_out / 64] |= 1ULL << (utid_out % 64);
	if (in_range(utid_in))
		t->in[utid_in / 64] |= 1ULL << (utid_in % 64);
}

void flowsum_totals_merge(struct flowsum_totals *into, const struct flowsum_totals *from)
{
	into->count += from->count;
	into->bytes += from->bytes;
	for (int i = 0; i < FLOWSUM_MAX_UTID / 64; i++) {
		into->out[i] |= from->out[i];
		into->in[i] |= from->in[i];
	}
}

int flowsum_add(struct flowsum *f, int64_t object_id, const char *kind, int64_t ts_out,
		int64_t ts_in, int64_t utid_out, int64_t utid_in, int64_t bytes)
{
	enum flowsum_class cls;
	int64_t ts;
	if (!kind || object_id < 0)
		return 0;
	if (!strcmp(kind, "pipe") || !strcmp(kind, "socket")) {
		cls = FLOWSUM_MESSAGE;
		ts = ts_out;
	} else if (!strcmp(kind, "unlock") || !strcmp(kind, "post") || !strcmp(kind, "signal") ||
		   !strcmp(kind, "barrier")) {
		cls = FLOWSUM_HANDOVER;
		ts = ts_in;
	} else {
		return 0;
	}
	if (f->unusable)
		return 0;
	if (!in_range(utid_out) || !in_range(utid_in) || ts < f->t0 || f->n >= MAX_ENTRIES) {
		f->unusable = 1;
		free(f->entries);
		free(f->slots);
		f->entries = NULL;
		f->slots = NULL;
		f->n = f->cap = f->nslots = 0;
		return 0;
	}
	struct entry *e = find_or_add(f, object_id, cls, (ts - f->t0) / f->width);
	if (!e) {
		f->unusable = 1;
		return -ENOMEM;
	}
	flowsum_totals_add(&e->t, utid_out, utid_in, bytes);
	return 0;
}

void flowsum_inner(const struct flowsum *f, int64_t start, int64_t end, int64_t *inner_start,
		   int64_t *inner_end)
{
	int64_t lo = start > f->t0 ? start : f->t0;
	int64_t b0 = (lo - f->t0 + f->width - 1) / f->width;
	int64_t b1 = end > f->t0 ? (end - f->t0) / f->width : 0;
	if (b1 <= b0) {
		*inner_start = *inner_end = start;
		return;
	}
	*inner_start = f->t0 + b0 * f->width;
	*inner_end = f->t0 + b1 * f->width;
}

int flowsum_each(const struct flowsum *f, int64_t inner_start, int64_t inner_end, flowsum_fn fn,
		 void *ctx)
{
	if (inner_end <= inner_start)
		return 0;
	int64_t b0 = (inner_start - f->t0) / f->width, b1 = (inner_end - f->t0) / f->width;
	for (size_t i = 0; i < f->n; i++) {
		const struct entry *e = &f->entries[i];
		if (e->bucket < b0 || e->bucket >= b1)
			continue;
		int rc = fn(ctx, e->object_id, e->cls, &e->t);
		if (rc)
			return rc;
	}
	return 0;
}
