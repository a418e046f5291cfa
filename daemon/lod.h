/*
 * lod: the in-memory timeline of a trace, answered at any zoom level
 * without scanning the trace.
 *
 * A track is the span sequence of one thread, one process or one CPU.
 * Spans are kept in compact parallel arrays (5 bytes a span, and 4 more
 * for each span with an object): start ts (a 32-bit offset from its block
 * of 256 spans' int64 base), one byte packing the state index (3 bits) and
 * reason index + 1 (4 bits), and the object (int32: object_id for threads,
 * utid for CPUs) kept sparse: a bit per span says it has one, and the
 * objects of a block are stored densely from a per-block start. A span ends where the next begins
 * (thread and process spans tile their track); a gap in the input (idle CPU, missing data) becomes
 * an internal idle span that is never returned. The last span ends at the track's end.
 *
 * Over the spans sits a mipmap: level 0 cuts the track's extent into
 * buckets of W0 ns (a power of two chosen so there is a bucket per 16 to
 * 32 spans); level k+1 merges 8 buckets of level k. A bucket (64 bytes)
 * holds the ns spent in each state, its longest span's duration, state and
 * object, and the index of its first span. A viewport query walks spans from the one containing
 * `start`: spans of at least one pixel come back exactly (n = 1); runs of shorter spans come back
 * merged into one entry of one to two pixels whose time per state, longest span and end come from
 * the coarsest level with buckets no wider than a pixel (level 0 still when its buckets are up to
 * two pixels wide: entries then span up to three), or from the spans
 * themselves when even level 0 is coarser. So
 * a zoomed-out query costs O(entries returned * 16) bucket reads plus one
 * search per track, whatever the trace's size.
 *
 * Thread safety: none inside; the owner serialises appends and seals
 * against queries (the daemon uses a rwlock per trace).
 */
#ifndef WEFT_LOD_H
#define WEFT_LOD_H

#include <stddef.h>
#include <stdint.h>

#include "overview.h"

/* Indexes into the API's "states" table. */
enum lod_state {
	LOD_NEW,
	LOD_RUNNING,
	LOD_READY,
	LOD_BLOCKED,
	LOD_WAITING,
	LOD_SUSPENDED,
	LOD_TERMINATED,
	LOD_STATE_COUNT
};
/* State and reason names and their indexes: overview.h's, shared with
 * the recorder's track summaries (overview_state_names[LOD_RUNNING] is
 * "Running", ...). */
_Static_assert(LOD_STATE_COUNT == OVERVIEW_STATE_COUNT, "one list of states");

struct lod_track;

/* One answer of a viewport query. For n == 1 the fields are the span's
 * own (for a CPU track state holds the slice's end_state and object its
 * utid). For n > 1, state is the state with the most time, mix[] the ns
 * per state index, reason and object -1, and top_state/top_object those of
 * the longest span in the run (a CPU bucket is named by its longest
 * slice). */
struct lod_entry {
	int64_t ts, dur;
	int state;	/* -1: unknown */
	int reason;	/* -1: none */
	int64_t object; /* -1: none */
	uint32_t n;
	int64_t mix[LOD_STATE_COUNT];
	int top_state;
	int64_t top_object;
};

typedef int (*lod_emit_fn)(void *ctx, const struct lod_entry *entry);

/* An empty track, or NULL without memory. */
struct lod_track *lod_track_new(void);
void lod_track_free(struct lod_track *t);

/* No span starts or ends beyond +-LOD_TS_MAX ns (2^60, PARAM_TS_MAX):
 * then no sum a query makes of times, widths and buckets can overflow. */
#define LOD_TS_MAX ((int64_t)1 << 60)

/* Appends the span [ts, ts+dur). A span starting beyond +-LOD_TS_MAX is
 * dropped (a trace's own data is not trusted) and one ending beyond it is
 * cut there. Spans in ts order go straight into the
 * arrays; from the first one that is not, spans are set aside and merged
 * (sorted) by the next lod_track_seal, and queries see them only then.
 * state: -1..6, reason: -1..11, object: -1 or 0..INT32_MAX. Returns 0 or
 * -ENOMEM (the track is then unchanged). The mipmap is stale until
 * lod_track_seal. */
int lod_track_append(struct lod_track *t, int64_t ts, int64_t dur, int state, int reason,
		     int64_t object);

/* Rebuilds the mipmap after appends and trims spare capacity. 0 or
 * -ENOMEM (queries then fall back to reading spans). */
int lod_track_seal(struct lod_track *t);
/* The same for a track that grows on (a trace still being recorded): the
 * spare capacity stays for the next appends, and the mipmap has room to
 * grow, so that the next seal after appends in order redoes only the
 * buckets the new spans reach, not the whole track. */
int lod_track_seal_growing(struct lod_track *t);

/* Number of spans (idle gaps included) and the track's extent. */
size_t lod_track_spans(const struct lod_track *t);
int64_t lod_track_start(const struct lod_track *t);
int64_t lod_track_end(const struct lod_track *t);
/* Bytes of memory the track holds. */
size_t lod_track_bytes(const struct lod_track *t);

/* Calls emit for each entry overlapping [start, end) at a resolution of
 * px pixels, in ts order. Returns 0, or the first non-zero value emit
 * returned. */
int lod_track_query(const struct lod_track *t, int64_t start, int64_t end, int64_t px,
		    lod_emit_fn emit, void *ctx);

/* Adds the ns each state covers inside [start, end) to ns[] (exact: the
 * mipmap for whole buckets, the spans at both edges). */
void lod_track_time(const struct lod_track *t, int64_t start, int64_t end,
		    int64_t ns[LOD_STATE_COUNT]);

/* Calls fn for every real span overlapping [start, end), exactly (n = 1),
 * in ts order. Returns 0 or the first non-zero value fn returned. */
int lod_track_each(const struct lod_track *t, int64_t start, int64_t end, lod_emit_fn fn,
		   void *ctx);

/* The same for the real spans in one state only (lod_state), reading one
 * byte per span of the others: how the window summary finds waits without
 * decoding every span. Returns 0 or the first non-zero value fn returned. */
int lod_track_each_state(const struct lod_track *t, int64_t start, int64_t end, int state,
			 lod_emit_fn fn, void *ctx);

#endif
