/*
 * route_timeline: GET /api/traces/{id}/timeline, the viewport query.
 * Answers from the trace's in-memory timeline (lod.h): the cost depends on
 * px and the number of tracks, not on the trace's size. JSON or the
 * binary layout of docs/API.md ("WFT1", then per track a 12-byte header
 * and 32-byte entries, little-endian).
 *
 * A zoomed-out answer holds up to px entries per track for hundreds of
 * tracks, so formatting is what it costs: the whole answer, JSON or
 * binary, is written straight into one buffer set aside up front from the
 * bound on its entries (only the pages written get touched), numbers by a
 * two-digits-at-a-time formatter, no printf; the buffer becomes the
 * response as is.
 *
 * Before the trace's timeline is first loaded (seconds, for a big trace),
 * a JSON request whose buckets the trace's summary (coarse.h) can give at
 * two pixels or finer is answered from the summary instead, marked
 * "coarse": true, while the load goes on in the background; the page asks
 * again until an answer is exact. Finer requests, and binary ones, wait
 * for the load as always.
 */
#include <endian.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coarse.h"
#include "lod.h"
#include "overview.h"
#include "param.h"
#include "route.h"
#include "trace.h"

enum kind { KIND_THREAD, KIND_PROCESS, KIND_CPU };

/* The summary's kind of each. */
static const enum overview_kind overview_kinds[3] = {OVERVIEW_THREAD, OVERVIEW_PROCESS,
						     OVERVIEW_CPU};

_Static_assert(LOD_STATE_COUNT == OVERVIEW_STATE_COUNT, "one states table");

struct bin {
	unsigned char *buf;
	size_t len, cap;
	int failed;
};

/* Makes room for n more bytes without counting them; NULL on failure. */
static unsigned char *bin_room(struct bin *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->buf, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->buf = p;
		b->cap = cap;
	}
	return b->buf + b->len;
}

/* Room for n more bytes, taken: the buffer's length grows by n. */
static void *bin_grow(struct bin *b, size_t n)
{
	unsigned char *at = bin_room(b, n);
	if (at)
		b->len += n;
	return at;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

struct out {
	enum kind kind;
	struct bin *text; /* JSON: the track's array, or */
	struct bin *b;	  /* binary */
	uint32_t count;
	int run; /* the entry is a run of the summary (mix and top set) */
};

static const char digit_pairs[201] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

/* Writes v in decimal at p (at most 20 bytes); returns the end. */
static char *put_i64(char *p, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		*p++ = '-';
	static const uint64_t pow10[19] = {10ULL,
					   100ULL,
					   1000ULL,
					   10000ULL,
					   100000ULL,
					   1000000ULL,
					   10000000ULL,
					   100000000ULL,
					   1000000000ULL,
					   10000000000ULL,
					   100000000000ULL,
					   1000000000000ULL,
					   10000000000000ULL,
					   100000000000000ULL,
					   1000000000000000ULL,
					   10000000000000000ULL,
					   100000000000000000ULL,
					   1000000000000000000ULL,
					   10000000000000000000ULL};
	int len = 1;
	while (len < 20 && u >= pow10[len - 1])
		len++;
	char *end = p + len, *q = end;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		q -= 2;
		memcpy(q, digit_pairs + 2 * r, 2);
	}
	if (u >= 10) {
		q -= 2;
		memcpy(q, digit_pairs + 2 * u, 2);
	} else {
		*--q = (char)('0' + u);
	}
	return end;
}

/* The longest entry: 6 + LOD_STATE_COUNT numbers of at most 20 bytes, and
 * punctuation. */
#define ENTRY_MAX (24 * (6 + LOD_STATE_COUNT))

/* One entry as a JSON array, appended to the track's array. */
static int emit_json(void *ctx, const struct lod_entry *e)
{
	struct out *o = ctx;
	char *buf = (char *)bin_room(o->text, ENTRY_MAX);
	if (!buf)
		return -ENOMEM;
	char *p = buf;
	int bucket = e->n > 1 || o->run;
	if (o->count++)
		*p++ = ',';
	*p++ = '[';
	p = put_i64(p, e->ts);
	*p++ = ',';
	p = put_i64(p, e->dur);
	*p++ = ',';
	if (o->kind == KIND_CPU) {
		p = put_i64(p, bucket ? e->top_object : e->object);
		*p++ = ',';
		p = put_i64(p, bucket ? e->top_state : e->state);
		*p++ = ',';
		p = put_i64(p, e->n);
	} else {
		p = put_i64(p, e->state);
		*p++ = ',';
		p = put_i64(p, e->reason);
		*p++ = ',';
		if (e->object < 0) {
			memcpy(p, "null", 4);
			p += 4;
		} else {
			p = put_i64(p, e->object);
		}
		*p++ = ',';
		p = put_i64(p, e->n);
		if (bucket) {
			*p++ = ',';
			*p++ = '[';
			for (int s = 0; s < LOD_STATE_COUNT; s++) {
				if (s)
					*p++ = ',';
				p = put_i64(p, e->mix[s]);
			}
			*p++ = ']';
		}
	}
	*p++ = ']';
	o->text->len += (size_t)(p - buf);
	return 0;
}

static int emit_bin(void *ctx, const struct lod_entry *e)
{
	struct out *o = ctx;
	unsigned char *p = bin_grow(o->b, 32);
	if (!p)
		return -ENOMEM;
	int bucket = e->n > 1 || o->run;
	int state = e->state;
	int64_t object = e->object;
	if (o->kind == KIND_CPU && bucket) {
		state = e->top_state;
		object = e->top_object;
	}
	put_u64(p, (uint64_t)e->ts);
	put_u64(p + 8, (uint64_t)e->dur);
	uint16_t st = htole16((uint16_t)(state < 0 ? 0xFFFF : state));
	uint16_t rs = htole16((uint16_t)(int16_t)(o->kind == KIND_CPU ? -1 : e->reason));
	memcpy(p + 16, &st, 2);
	memcpy(p + 18, &rs, 2);
	put_u32(p + 20, e->n);
	put_u64(p + 24, (uint64_t)object);
	o->count++;
	return 0;
}

/* An entry of the summary, written as the exact timeline's are. */
static int emit_coarse(void *ctx, const struct overview_entry *oe)
{
	struct out *o = ctx;
	struct lod_entry e = {.ts = oe->ts,
			      .dur = oe->dur,
			      .state = oe->state,
			      .reason = oe->reason,
			      .object = oe->object,
			      .n = oe->n,
			      .top_state = oe->top_state,
			      .top_object = oe->top_object};
	memcpy(e.mix, oe->mix, sizeof(e.mix));
	o->run = oe->run;
	return o->text ? emit_json(o, &e) : emit_bin(o, &e);
}

struct query {
	const struct coarse *coarse; /* answer from the summary, or */
	const struct param_window *w;
	struct bin *text; /* JSON: the whole answer, or */
	struct bin *b;	  /* binary */
	uint32_t tracks;
	int first_track; /* JSON: no comma before the next track */
};

/* Appends n bytes of JSON text. */
static int put_text(struct bin *text, const char *s, size_t n)
{
	unsigned char *p = bin_grow(text, n);
	if (!p)
		return -ENOMEM;
	memcpy(p, s, n);
	return 0;
}

/* Appends "key":v (with the comma that separates it from a previous
 * member when comma is set). */
static int put_member(struct bin *text, int comma, const char *key, int64_t v)
{
	unsigned char *p = bin_room(text, strlen(key) + 32);
	if (!p)
		return -ENOMEM;
	char *q = (char *)p;
	if (comma)
		*q++ = ',';
	*q++ = '"';
	memcpy(q, key, strlen(key));
	q += strlen(key);
	*q++ = '"';
	*q++ = ':';
	q = put_i64(q, v);
	text->len += (size_t)(q - (char *)p);
	return 0;
}

/* The entries of one track: from the summary when the query has one. */
static int query_track(struct query *q, struct out *o, int64_t id, const struct lod_track *t)
{
	if (q->coarse) {
		const struct overview_track *ot =
		    coarse_track(q->coarse, overview_kinds[o->kind], id);
		return ot ? overview_track_query(ot, q->w->start, q->w->end, q->w->px, emit_coarse,
						 o)
			  : 0;
	}
	return t ? lod_track_query(t, q->w->start, q->w->end, q->w->px,
				   q->text ? emit_json : emit_bin, o)
		 : 0;
}

static int one_track(struct query *q, enum kind kind, int64_t id, const struct lod_track *t)
{
	struct out o = {.kind = kind, .text = q->text, .b = q->b};
	if (q->text) {
		/* "id":[entries] */
		char head[40], *p = head;
		if (!q->first_track)
			*p++ = ',';
		q->first_track = 0;
		*p++ = '"';
		p = put_i64(p, id);
		*p++ = '"';
		*p++ = ':';
		*p++ = '[';
		int rc = put_text(q->text, head, (size_t)(p - head));
		if (rc < 0)
			return rc;
		rc = query_track(q, &o, id, t);
		return rc ? rc : put_text(q->text, "]", 1);
	}
	size_t at = q->b->len;
	unsigned char *h = bin_grow(q->b, 12);
	if (!h)
		return -ENOMEM;
	memset(h, 0, 12);
	h[0] = (unsigned char)kind;
	put_u32(h + 4, (uint32_t)id);
	int rc = query_track(q, &o, id, t);
	if (rc == 0 && !q->b->failed)
		put_u32(q->b->buf + at + 8, o.count);
	q->tracks++;
	return rc;
}

/* All tracks of one kind, or those listed. */
static int tracks_of(struct query *q, enum kind kind, const char *key,
		     struct lod_track *const *tracks, size_t ntracks, const int64_t *ids,
		     size_t nids, int all)
{
	if (!all && !ids)
		return 0;
	int rc = 0;
	if (q->text) {
		char head[32];
		int n = snprintf(head, sizeof(head), ",\"%s\":{", key);
		if ((rc = put_text(q->text, head, (size_t)n)) < 0)
			return rc;
		q->first_track = 1;
	}
	if (all && q->coarse) {
		enum overview_kind ok = overview_kinds[kind];
		for (size_t id = 0; id < coarse_count(q->coarse, ok) && rc == 0; id++)
			if (coarse_track(q->coarse, ok, (int64_t)id))
				rc = one_track(q, kind, (int64_t)id, NULL);
	} else if (all) {
		for (size_t id = 0; id < ntracks && rc == 0; id++)
			if (tracks[id])
				rc = one_track(q, kind, (int64_t)id, tracks[id]);
	} else {
		for (size_t i = 0; i < nids && rc == 0; i++) {
			int64_t id = ids[i];
			const struct lod_track *t =
			    !q->coarse && id >= 0 && (size_t)id < ntracks ? tracks[id] : NULL;
			rc = one_track(q, kind, id, t);
		}
	}
	if (q->text && rc == 0)
		rc = put_text(q->text, "}", 1);
	return rc;
}

/* Bytes to set aside for the answer: its entries are bounded by the
 * pixels (at most 2 px + 4 a track) and by the spans; a JSON entry takes
 * about 70 bytes. Only what is written gets touched. */
static size_t answer_estimate(const struct trace_timeline *tl, const struct param_window *w,
			      int binary)
{
	size_t total = 0, per_track = 2 * (size_t)w->px + 4;
	struct lod_track *const *kinds[3] = {tl->threads, tl->processes, tl->cpus};
	size_t counts[3] = {tl->nthreads, tl->nprocesses, tl->ncpus};
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++)
			if (kinds[k][i]) {
				size_t spans = lod_track_spans(kinds[k][i]);
				total += (spans < per_track ? spans : per_track) + 1;
			}
	size_t bytes = total * (binary ? 32 : 72) + 4096;
	return bytes < ((size_t)64 << 20) ? bytes : (size_t)64 << 20;
}

/* The same bound for an answer from the summary. */
static size_t coarse_estimate(const struct coarse *c, const struct param_window *w)
{
	size_t tracks = 0, per_track = 2 * (size_t)w->px + 4;
	for (int k = 0; k < 3; k++)
		for (size_t id = 0; id < coarse_count(c, overview_kinds[k]); id++)
			tracks += coarse_track(c, overview_kinds[k], (int64_t)id) != NULL;
	size_t bytes = tracks * (per_track + 1) * 72 + 4096;
	return bytes < ((size_t)64 << 20) ? bytes : (size_t)64 << 20;
}

/* Whether the summary answers the window for every track asked for. */
static int coarse_answers(const struct coarse *c, const struct param_window *w,
			  int64_t *const ids[3], const size_t nids[3], int all)
{
	int64_t ns_per_px = (w->end - w->start) / w->px > 0 ? (w->end - w->start) / w->px : 1;
	for (int k = 0; k < 3; k++)
		if ((all || ids[k]) &&
		    !coarse_serves(c, overview_kinds[k], all ? NULL : ids[k], nids[k], ns_per_px))
			return 0;
	return 1;
}

/* The id lists (utids, upids, cpus) of the request into ids/nids (NULL, 0
 * when absent). 0, or -EINVAL/-ENOMEM with err and nothing allocated. */
static int read_ids(struct request *req, int64_t *ids[3], size_t nids[3], char *err, size_t errlen)
{
	static const char *const list_names[3] = {"utids", "upids", "cpus"};
	for (int k = 0; k < 3; k++) {
		int rc = param_id_list(list_names[k], req_arg(req, list_names[k]), &ids[k],
				       &nids[k], err, errlen);
		if (rc < 0) {
			for (int i = 0; i < k; i++)
				free(ids[i]);
			return rc;
		}
	}
	return 0;
}

/* Takes what answers the window: the exact timeline (*tl), or, for JSON
 * before the first load is done, the summary when it answers this window
 * (*coarse). 0 with one of them held (release: trace_coarse_done or
 * trace_timeline_done), or -errno with nothing held. */
static int take_source(struct request *req, const struct param_window *w, int binary,
		       int64_t *const ids[3], const size_t nids[3], int all,
		       const struct trace_timeline **tl, const struct coarse **coarse)
{
	*coarse = NULL;
	int rc = binary ? trace_timeline_read(req->trace, tl) : trace_timeline_try(req->trace, tl);
	/* the summary's reader (overview.h) is asked only about windows
	 * within the trace's time range (lod.h): its sums stay in int64 */
	if (rc == -EAGAIN && (w->start < -LOD_TS_MAX || w->end > LOD_TS_MAX))
		rc = trace_timeline_read(req->trace, tl);
	if (rc != -EAGAIN)
		return rc;
	rc = trace_coarse_read(req->trace, coarse);
	if (rc == 0 && !coarse_answers(*coarse, w, ids, nids, all)) {
		trace_coarse_done(req->trace);
		*coarse = NULL;
		rc = -ENOENT;
	}
	return rc < 0 ? trace_timeline_read(req->trace, tl) : 0;
}

/* The start of the answer: the binary header, or the JSON members
 * before the tracks. */
static void write_head(struct bin *b, const struct param_window *w, int binary, int coarse)
{
	if (binary) {
		unsigned char *h = bin_grow(b, 8);
		if (h)
			memcpy(h, "WFT1", 4);
		return;
	}
	put_text(b, "{", 1);
	put_member(b, 0, "start", w->start);
	put_member(b, 1, "end", w->end);
	put_member(b, 1, "px", w->px);
	put_member(b, 1, "ns_per_px",
		   (w->end - w->start) / w->px > 0 ? (w->end - w->start) / w->px : 1);
	if (coarse)
		put_text(b, ",\"coarse\":true", 14);
	else
		put_text(b, ",\"coarse\":false", 15);
}

enum MHD_Result route_timeline(struct request *req)
{
	char err[160];
	struct param_window w;
	int64_t *ids[3] = {NULL, NULL, NULL};
	size_t nids[3] = {0, 0, 0};
	if (param_window(req_arg(req, "start"), req_arg(req, "end"), req_arg(req, "px"), 1, &w, err,
			 sizeof(err)) < 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	const char *format = req_arg(req, "format");
	int binary = format && strcmp(format, "bin") == 0;
	if (format && !binary && strcmp(format, "json") != 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "format must be json or bin");
	if (read_ids(req, ids, nids, err, sizeof(err)) < 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	int all = !ids[0] && !ids[1] && !ids[2];
	const struct trace_timeline *tl = NULL;
	const struct coarse *coarse = NULL;
	int rc = take_source(req, &w, binary, ids, nids, all, &tl, &coarse);
	if (rc < 0) {
		for (int k = 0; k < 3; k++)
			free(ids[k]);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot load the timeline: %s", strerror(-rc));
	}
	static const struct trace_timeline none = {0};
	if (coarse)
		tl = &none;
	struct bin b = {0};
	struct query q = {
	    .coarse = coarse, .w = &w, .text = binary ? NULL : &b, .b = binary ? &b : NULL};
	size_t room = !all     ? 65536
		      : coarse ? coarse_estimate(coarse, &w)
			       : answer_estimate(tl, &w, binary);
	if (!bin_room(&b, room))
		b.failed = 0; /* no room set aside: grow as it comes */
	write_head(&b, &w, binary, coarse != NULL);
	rc = tracks_of(&q, KIND_THREAD, "threads", tl->threads, tl->nthreads, ids[0], nids[0], all);
	if (rc == 0)
		rc = tracks_of(&q, KIND_PROCESS, "processes", tl->processes, tl->nprocesses, ids[1],
			       nids[1], all);
	if (rc == 0)
		rc = tracks_of(&q, KIND_CPU, "cpus", tl->cpus, tl->ncpus, ids[2], nids[2], all);
	if (coarse)
		trace_coarse_done(req->trace);
	else
		trace_timeline_done(req->trace);
	for (int k = 0; k < 3; k++)
		free(ids[k]);
	if (rc == 0 && !binary)
		rc = put_text(&b, "}", 1);
	if (rc < 0 || b.failed) {
		free(b.buf);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	if (binary) {
		put_u32(b.buf + 4, q.tracks);
		return reply_buffer(req, MHD_HTTP_OK, "application/octet-stream", b.buf, b.len);
	}
	return reply_buffer(req, MHD_HTTP_OK, "application/json", b.buf, b.len);
}
