/*
 * overview.h — a coarse summary of every track of a trace (each thread's,
 * each process's and each CPU's spans), built while the spans are written
 * and stored in the trace (table track_overview, schema/001_schema.sql),
 * so that a reader can draw a zoomed-out timeline at once, before it has
 * read the millions of rows the exact timeline comes from.
 *
 * A track's summary cuts time into buckets of one width, a power of two
 * in ns, aligned to multiples of it (bucket k covers [k*w, (k+1)*w)): the
 * builder starts at OVERVIEW_MIN_WIDTH and doubles the width, merging
 * buckets pairwise, whenever the track's extent would need more than
 * OVERVIEW_BUCKETS of them. Spans shorter than a bucket are summed into
 * the buckets they overlap (ns per state, spans begun, and the longest
 * such span, which names a CPU's bucket by its thread); spans of a bucket
 * or longer are kept whole, exactly (at most about one per bucket when a
 * track's spans tile it). So a viewport of P ns per pixel with buckets no
 * wider than two pixels gets every span of a pixel or more exactly and
 * the shorter ones summed in runs of one to three pixels, as the exact
 * timeline of weftd (daemon/lod.h) answers it.
 *
 * Memory: 40 bytes a bucket (and a quarter more held for growth) plus 24
 * per whole span, at most about 200 KB a track; past the builder's budget
 * (OVERVIEW_BUDGET: some 240 tracks at full resolution) the largest tracks
 * are made coarser, so a recording of very many long-lived threads gets a
 * coarser summary rather than more memory. Stored, a bucket takes 1 to
 * about 12 bytes.
 *
 * Also here: the decoder and the viewport query of the stored form, for
 * readers (weftd). States and reasons are numbered as the API's "states"
 * and "reasons" tables (overview_state_names, overview_reason_names).
 *
 * Not thread-safe: one thread owns a builder; a decoded track is read-only
 * and may be queried from many threads at once.
 */
#ifndef WEFT_OVERVIEW_H
#define WEFT_OVERVIEW_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define OVERVIEW_BUCKETS 4096
#define OVERVIEW_MIN_WIDTH ((int64_t)1 << 14) /* 16.4 us */
#define OVERVIEW_BUDGET ((size_t)48 << 20)
#define OVERVIEW_STATE_COUNT 7
#define OVERVIEW_REASON_COUNT 12

enum overview_kind { OVERVIEW_THREAD, OVERVIEW_PROCESS, OVERVIEW_CPU, OVERVIEW_KIND_COUNT };

/* "New" "Running" "Ready" "Blocked" "Waiting" "Suspended" "Terminated" and
 * "mutex" ... "other": the order the stored form numbers them in. */
extern const char *const overview_state_names[OVERVIEW_STATE_COUNT];
extern const char *const overview_reason_names[OVERVIEW_REASON_COUNT];
/* "thread", "process", "cpu": track_overview.kind. */
extern const char *const overview_kind_names[OVERVIEW_KIND_COUNT];

/* Index of a name in the tables above; -1 if NULL or unknown. */
int overview_state_index(const char *name);
int overview_reason_index(const char *name);
int overview_kind_index(const char *name);

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
#define OVERVIEW_MAX_ID ((int64_t)1 << 22)
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

/* ---- reading ------------------------------------------------------------ */

struct overview_track;

/* Decodes one track_overview row. Returns the track, or NULL when out of
 * memory or when the row is malformed (unknown kind, bucket_ns not a power
 * of two, blobs that do not decode to bucket_count buckets). */
struct overview_track *overview_track_decode(const char *kind, int64_t id, int64_t start_ts,
					     int64_t end_ts, int64_t spans, int64_t bucket_ns,
					     int64_t first_bucket, int64_t bucket_count,
					     const void *buckets, size_t buckets_len,
					     const void *long_spans, size_t long_spans_len);
void overview_track_free(struct overview_track *t);

enum overview_kind overview_track_kind(const struct overview_track *t);
int64_t overview_track_id(const struct overview_track *t);
int64_t overview_track_start(const struct overview_track *t);
int64_t overview_track_end(const struct overview_track *t);
/* Rows the track summarizes. */
int64_t overview_track_spans(const struct overview_track *t);
/* Width of the track's buckets (ns). */
int64_t overview_track_width(const struct overview_track *t);
/* Bytes of memory the decoded track holds. */
size_t overview_track_bytes(const struct overview_track *t);

/* One answer of overview_track_query. run 0: one span, exactly (n = 1; for
 * a CPU, state is the slice's end_state and object its utid). run 1: the
 * spans of [ts, ts + dur) summed: mix[] the ns per state (to the
 * precision of the stored form, 1/4096 of a bucket), state the one with
 * the most time, reason and object -1, n the spans that begin in it (at
 * least 1), top_state and top_object those of its longest span. */
struct overview_entry {
	int64_t ts, dur;
	int state, reason;
	int64_t object;
	uint32_t n;
	int run;
	int64_t mix[OVERVIEW_STATE_COUNT];
	int top_state;
	int64_t top_object;
};

typedef int (*overview_emit_fn)(void *ctx, const struct overview_entry *entry);

/* Calls emit for each entry overlapping [start, end) at px pixels across
 * it, in ts order: spans of a pixel or more (and kept whole) exactly, the
 * rest in runs of one to two pixels (ending on a bucket boundary, or where
 * an exact span begins). Meant for buckets no wider than two pixels;
 * coarser buckets give wider runs. Returns 0 or the first
 * non-zero value emit returned. */
int overview_track_query(const struct overview_track *t, int64_t start, int64_t end, int64_t px,
			 overview_emit_fn emit, void *ctx);

#endif
