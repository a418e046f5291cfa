/*
 * overview.h — a coarse summary of every track of a trace (each thread's,
 * each process's and each CPU's spans), built while the spans are written
 * (the recorder's builder, tracer/collector/overview_build.h) and stored
 * in the trace (table track_overview, schema/001_schema.sql), so that a
 * reader can draw a zoomed-out timeline at once, before it has read the
 * millions of rows the exact timeline comes from. This file is the stored
 * form: what the builder encodes with, and what readers (weftd) decode
 * and query.
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
 * timeline of weftd answers it.
 *
 * Stored, a bucket takes 1 to about 12 bytes (the builder's memory:
 * overview_build.h).
 *
 * States, reasons and kinds are numbered as names.h numbers them (the
 * API's "states" and "reasons" tables); overview_state_names and the
 * other overview_*_names / overview_*_index below are that one table.
 *
 * A decoded track is read-only and may be queried from many threads at
 * once.
 */
#ifndef WEFT_OVERVIEW_H
#define WEFT_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define OVERVIEW_BUCKETS 4096
#define OVERVIEW_MIN_WIDTH ((int64_t)1 << 14) /* 16.4 us */
#define OVERVIEW_STATE_COUNT NAMES_STATE_COUNT
#define OVERVIEW_REASON_COUNT NAMES_REASON_COUNT
/* Track ids the stored form has room for: 0..OVERVIEW_MAX_ID - 1. */
#define OVERVIEW_MAX_ID ((int64_t)1 << 22)

enum overview_kind { OVERVIEW_THREAD, OVERVIEW_PROCESS, OVERVIEW_CPU, OVERVIEW_KIND_COUNT };

_Static_assert(OVERVIEW_KIND_COUNT == NAMES_KIND_COUNT, "track kinds are names_kinds");

/* names.h's tables, in the order the stored form numbers them in:
 * names_states, names_reasons, names_kinds (track_overview.kind). */
extern const char *const *const overview_state_names;
extern const char *const *const overview_reason_names;
extern const char *const *const overview_kind_names;

/* names_state_index, names_reason_index, names_kind_index. */
int overview_state_index(const char *name);
int overview_reason_index(const char *name);
int overview_kind_index(const char *name);

/* ---- the stored form (writers) ----------------------------------------- */

#define OVERVIEW_SLOTS 6      /* states a bucket sums: New..Suspended */
#define OVERVIEW_NO_STATE 7   /* a span's unknown state */
#define OVERVIEW_MAX_SHIFT 61 /* widest bucket: 2^61 ns */

/* The shift of the unit a bucket of width 1 << shift holds its ns in:
 * buckets up to 2^31 ns wide keep ns, wider ones 2^(shift - 31) ns, so
 * that a tiling track's sums fit 32 bits. */
static inline int overview_held_shift(int shift)
{
	return shift > 31 ? shift - 31 : 0;
}

/* A bucket as a writer holds it (40 bytes). */
struct overview_bucket {
	uint32_t ns[OVERVIEW_SLOTS]; /* in units of 1 << overview_held_shift, saturated */
	uint32_t starts;	     /* spans that begin in it */
	int32_t top_object;
	int64_t top; /* dur << 3 | state of the longest short span; -1: none */
};

/* A span kept whole (also the decoded form of one). */
struct overview_span {
	int64_t ts, dur;
	int32_t object;
	uint8_t state; /* 0..6, OVERVIEW_NO_STATE */
	int8_t reason; /* -1..11 */
};

/* Worst case of one encoded bucket (mask, 6 + 1 + 2 varints, state byte)
 * and of one encoded span. */
#define OVERVIEW_BUCKET_BYTES_MAX (1 + 9 * 10 + 1)
#define OVERVIEW_SPAN_BYTES_MAX (3 * 10 + 1 + 5)

/* Encodes n buckets of width 1 << shift into out (room for n *
 * OVERVIEW_BUCKET_BYTES_MAX), with their tops when with_top (CPU
 * tracks): track_overview.buckets. Returns the bytes written. */
size_t overview_encode_buckets(const struct overview_bucket *buckets, size_t n, int shift,
			       int with_top, unsigned char *out);

/* Encodes n whole spans of a track that starts at start into out (room
 * for n * OVERVIEW_SPAN_BYTES_MAX), in ts order (sorts spans in place):
 * track_overview.long_spans. Returns the bytes written. */
size_t overview_encode_spans(struct overview_span *spans, size_t n, int64_t start,
			     unsigned char *out);

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
