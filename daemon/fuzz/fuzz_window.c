/*
 * fuzz_window: libFuzzer target over a timeline request's window (start,
 * end, px: param_window) and what the timeline does with it on a track of
 * hostile spans (lod.c: query, time per state, each span; flowsum.c:
 * buckets). Built with ASan and UBSan that abort on the first report: an
 * overflow in any sum of times is a crash.
 *
 * Input layout: "START&END&PX" as the query string would carry them, then
 * a NUL, then spans as packed little-endian int64 pairs (ts, dur) with a
 * state byte each, appended in input order (out of order ones too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowsum.h"
#include "lod.h"
#include "param.h"

struct span_input {
	int64_t ts, dur;
	uint8_t state;
} __attribute__((packed));

static int count_entry(void *ctx, const struct lod_entry *e)
{
	(*(size_t *)ctx)++;
	return 0;
}

static int count_flow(void *ctx, int64_t object_id, enum flowsum_class cls,
		      const struct flowsum_totals *t)
{
	(*(size_t *)ctx)++;
	return 0;
}

/* Splits "a&b&c" into at most three NUL-terminated values (NULL when
 * absent). */
static void split(char *text, char *values[3])
{
	values[0] = values[1] = values[2] = NULL;
	for (int i = 0; i < 3 && text; i++) {
		values[i] = text;
		char *amp = strchr(text, '&');
		if (amp)
			*amp++ = 0;
		text = amp;
	}
}

static void run_track(const struct param_window *w, const uint8_t *data, size_t size)
{
	struct lod_track *t = lod_track_new();
	struct flowsum *f = flowsum_new(w->start, (w->end - w->start) / 64 + 1);
	if (!t || !f)
		abort();
	size_t n = size / sizeof(struct span_input);
	for (size_t i = 0; i < n && i < 4096; i++) {
		struct span_input s;
		memcpy(&s, data + i * sizeof(s), sizeof(s));
		lod_track_append(t, s.ts, s.dur, s.state % (LOD_STATE_COUNT + 1) - 1, -1,
				 (int64_t)i);
		/* flows at the same hostile times, as trace.c feeds them */
		if (s.ts >= -LOD_TS_MAX && s.ts <= LOD_TS_MAX)
			flowsum_add(f, (int64_t)i, "pipe", s.ts, s.ts, 1, 2, s.dur);
		if (i % 64 == 63)
			lod_track_seal(t);
	}
	lod_track_seal(t);
	size_t entries = 0;
	lod_track_query(t, w->start, w->end, w->px, count_entry, &entries);
	lod_track_each(t, w->start, w->end, count_entry, &entries);
	int64_t ns[LOD_STATE_COUNT];
	memset(ns, 0, sizeof(ns));
	lod_track_time(t, w->start, w->end, ns);
	int64_t inner_start, inner_end;
	flowsum_inner(f, w->start, w->end, &inner_start, &inner_end);
	flowsum_each(f, inner_start, inner_end, count_flow, &entries);
	flowsum_free(f);
	lod_track_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t text_len = nul ? (size_t)(nul - data) : size;
	if (text_len > 256)
		return 0;
	char text[257];
	memcpy(text, data, text_len);
	text[text_len] = 0;
	char *values[3];
	split(text, values);
	struct param_window w;
	char err[160];
	if (param_window(values[0], values[1], values[2], 1, &w, err, sizeof(err)) < 0)
		return 0;
	size_t rest = nul ? size - text_len - 1 : 0;
	run_track(&w, nul ? nul + 1 : data, rest);
	return 0;
}
