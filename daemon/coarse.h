/*
 * coarse: the zoomed-out timeline of a trace, read from the summary the
 * recorder left in it (table track_overview, tracer/collector/overview.h)
 * rather than from its spans. Reading it takes milliseconds where loading
 * the spans of a big trace takes seconds, so weftd answers a zoomed-out
 * viewport from it until the exact timeline is loaded (trace.h,
 * route_timeline.c).
 *
 * Layout: per kind (thread, process, CPU), the decoded tracks by id, and
 * the widest bucket of each kind (so that a question about every track of
 * a kind costs nothing). Read-only once loaded: any number of threads may
 * query it at once.
 */
#ifndef WEFT_COARSE_H
#define WEFT_COARSE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "overview.h"

struct coarse;

/* Reads the summary of the trace open in db. 0 with *out; -ENOENT when
 * the trace has none (no table, no rows, or a row that does not decode:
 * a part of a summary is not used), -ENOMEM, -EIO. */
int coarse_load(sqlite3 *db, struct coarse **out);
void coarse_free(struct coarse *c);

/* Bytes of memory it holds. */
size_t coarse_bytes(const struct coarse *c);
/* Rows of the trace it summarizes (thread, process and CPU spans). */
int64_t coarse_spans(const struct coarse *c);

/* The track of that kind and id, or NULL (the trace has no spans there). */
const struct overview_track *coarse_track(const struct coarse *c, enum overview_kind kind,
					  int64_t id);
/* One past the highest id of that kind. */
size_t coarse_count(const struct coarse *c, enum overview_kind kind);

/* Whether the summary answers a viewport of ns_per_px ns per pixel for the
 * tracks of that kind listed in ids (ids NULL: every track of the kind):
 * when the buckets of each are at most two pixels wide (runs of 1 to 3
 * pixels, as the exact timeline's level-0 buckets give). */
int coarse_serves(const struct coarse *c, enum overview_kind kind, const int64_t *ids, size_t nids,
		  int64_t ns_per_px);

#endif
