/*
 * coarse: see coarse.h. tracks[kind][id] is NULL where the trace has no
 * such track; widest[kind] is the widest bucket among the tracks of a
 * kind (0 when it has none).
 */
#include "coarse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

struct coarse {
	struct overview_track **tracks[OVERVIEW_KIND_COUNT];
	size_t ntracks[OVERVIEW_KIND_COUNT];
	int64_t widest[OVERVIEW_KIND_COUNT];
	size_t bytes;
	size_t rows;
	int64_t spans;
};

void coarse_free(struct coarse *c)
{
	if (!c)
		return;
	for (int k = 0; k < OVERVIEW_KIND_COUNT; k++) {
		for (size_t i = 0; i < c->ntracks[k]; i++)
			overview_track_free(c->tracks[k][i]);
		free(c->tracks[k]);
	}
	free(c);
}

/* Decodes one row into its place. 0, -ENOENT (a row that does not decode,
 * or a second row for one track), -ENOMEM. */
static int add_row(void *ctx, const struct query_overview_row *row)
{
	struct coarse *c = ctx;
	int kind = overview_kind_index(row->kind);
	if (kind < 0 || row->id < 0 || row->id >= OVERVIEW_MAX_ID)
		return -ENOENT;
	size_t *n = &c->ntracks[kind];
	if ((size_t)row->id >= *n) {
		size_t cap = *n ? *n : 16;
		while (cap <= (size_t)row->id)
			cap *= 2;
		struct overview_track **p = realloc(c->tracks[kind], cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + *n, 0, (cap - *n) * sizeof(*p));
		c->tracks[kind] = p;
		c->bytes += (cap - *n) * sizeof(*p);
		*n = cap;
	}
	if (c->tracks[kind][row->id])
		return -ENOENT;
	struct overview_track *t = overview_track_decode(
	    row->kind, row->id, row->start_ts, row->end_ts, row->spans, row->bucket_ns,
	    row->first_bucket, row->bucket_count, row->buckets, row->buckets_len, row->long_spans,
	    row->long_spans_len);
	if (!t)
		return -ENOENT; /* malformed (out of memory reads the same) */
	c->tracks[kind][row->id] = t;
	c->bytes += overview_track_bytes(t);
	c->spans += overview_track_spans(t);
	if (overview_track_width(t) > c->widest[kind])
		c->widest[kind] = overview_track_width(t);
	c->rows++;
	return 0;
}

int coarse_load(sqlite3 *db, struct coarse **out)
{
	*out = NULL;
	struct coarse *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bytes = sizeof(*c);
	int rc = query_track_overview(db, add_row, c);
	if (rc == 0 && c->rows == 0)
		rc = -ENOENT;
	if (rc < 0) {
		coarse_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

size_t coarse_bytes(const struct coarse *c)
{
	return c->bytes;
}

int64_t coarse_spans(const struct coarse *c)
{
	return c->spans;
}

const struct overview_track *coarse_track(const struct coarse *c, enum overview_kind kind,
					  int64_t id)
{
	if ((unsigned)kind >= OVERVIEW_KIND_COUNT || id < 0 || (size_t)id >= c->ntracks[kind])
		return NULL;
	return c->tracks[kind][id];
}

size_t coarse_count(const struct coarse *c, enum overview_kind kind)
{
	return (unsigned)kind < OVERVIEW_KIND_COUNT ? c->ntracks[kind] : 0;
}

int coarse_serves(const struct coarse *c, enum overview_kind kind, const int64_t *ids, size_t nids,
		  int64_t ns_per_px)
{
	if ((unsigned)kind >= OVERVIEW_KIND_COUNT)
		return 0;
	int64_t limit = ns_per_px > INT64_MAX / 2 ? INT64_MAX : 2 * ns_per_px;
	if (!ids)
		return c->widest[kind] <= limit;
	for (size_t i = 0; i < nids; i++) {
		const struct overview_track *t = coarse_track(c, kind, ids[i]);
		if (t && overview_track_width(t) > limit)
			return 0;
	}
	return 1;
}
