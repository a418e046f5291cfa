/*
 * overview_build.h — the recorder's builder of the track overview
 * (format/overview.h says what it summarizes and how it is stored).
 *
 * A track's summary cuts time into buckets of one width, a power of two
 * in ns, aligned to multiples of it: the builder starts at
 * OVERVIEW_MIN_WIDTH and doubles the width, merging buckets pairwise,
 * whenever the track's extent would need more than OVERVIEW_BUCKETS of
 * them.
 *
 * Memory: 40 bytes a bucket (and a quarter more held for growth) plus 24
 * per whole span, at most about 200 KB a track; past the builder's budget
 * (OVERVIEW_BUDGET: some 240 tracks at full resolution) the largest tracks
 * are made coarser, so a recording of very many long-lived threads gets a
 * coarser summary rather than more memory.
 *
 * Not thread-safe: one thread owns a builder.
 */
#ifndef WEFT_OVERVIEW_BUILD_H
#define WEFT_OVERVIEW_BUILD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "overview.h"

#define OVERVIEW_BUDGET ((size_t)48 << 20)

/* ---- building ----------------------------------------------------------- */

struct overview;

/* An empty builder that keeps within budget bytes (0: OVERVIEW_BUDGET), or
 * NULL without memory. */
struct overview *overview_new(size_t budget);
void overview_free(struct overview *ov);

/* Adds the span [ts, ts + dur) of track (kind, id): a thread_state row
 * (id utid), process_state (upid) or sched_slice (cpu; state = its
 * end_state, object = its utid). state: 0..6 or -1 (unknown), reason:
 * -1..11, object: -1 (none) or 0..INT32_MAX. Spans may come in any order.
 * ids outside 0..OVERVIEW_MAX_ID are left out (readers skip them too);
 * negative ts are taken as 0. Returns 0 or -ENOMEM (the builder is then
 * unusable: overview_write writes nothing). */
int overview_add(struct overview *ov, enum overview_kind kind, int64_t id, int64_t ts, int64_t dur,
		 int state, int reason, int64_t object);

/* Inserts one track_overview row per track into db (the table must exist;
 * the caller owns the transaction). Returns 0, -ENOMEM, or -EIO (SQLite
 * failed: sqlite3_errmsg(db) says why; rows written so far stay in the
 * caller's transaction). A builder that failed writes nothing and returns
 * -ENOMEM. */
int overview_write(const struct overview *ov, sqlite3 *db);

/* Bytes the builder holds. */
size_t overview_bytes(const struct overview *ov);

#endif
