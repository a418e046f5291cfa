/*
 * route_summary: GET /api/traces/{id}/summary?start=&end=, what happened
 * inside a window (start == end: an empty one, as a trace with no events
 * yet asks for). Time per state per thread and process comes from the
 * in-memory timeline (exact, mipmap-assisted); lock contention from the
 * Blocked spans in memory; holders and message traffic from the flow sums
 * (flowsum.h: whole buckets from memory, the two edges of the window from
 * SQLite; all from SQLite when the sums cannot serve the trace);
 * deadlocks from the trace's deadlock tables (written by the recorder when
 * a wait closes a cycle), or, in traces older than those tables, from the
 * threads' final waits (a cycle of threads each blocked, to the end, on a
 * lock the next one holds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowsum.h"
#include "lod.h"
#include "param.h"
#include "query.h"
#include "route.h"
#include "trace.h"

#define CONTENTION_MAX 100
#define WAITERS_MAX 64

struct lock_stat {
	int64_t object_id;
	char *kind, *label;
	int64_t *holders; /* utids, ascending (from SQL), or */
	size_t nholders, holders_cap;
	const uint64_t *holders_mask; /* from the flow sums */
	int64_t waits, total, max;
	int64_t waiters[WAITERS_MAX];
	int nwaiters;
	int64_t last_waiter; /* threads are scanned one at a time */
};

struct summary {
	struct request *req;
	const struct trace_timeline *tl;
	const struct param_window *w;
	struct json *j;
	struct lock_stat *locks;
	size_t nlocks, cap;
	/* locks[lock_of[object_id] - 1] for object ids below nlock_of (ids
	 * count up from 1, so the table is small); 0: not a lock */
	uint32_t *lock_of;
	size_t nlock_of;
	int64_t utid; /* the thread being scanned */
};

static void write_ns(struct json *j, const int64_t ns[LOD_STATE_COUNT])
{
	json_key(j, "ns");
	json_obj_begin(j);
	for (int s = 0; s < LOD_STATE_COUNT; s++)
		if (ns[s] > 0) {
			json_key(j, overview_state_names[s]);
			json_i64(j, ns[s]);
		}
	json_obj_end(j);
}

static int any(const int64_t ns[LOD_STATE_COUNT])
{
	for (int s = 0; s < LOD_STATE_COUNT; s++)
		if (ns[s])
			return 1;
	return 0;
}

static int thread_entry(void *ctx, int64_t utid, int64_t upid, const char *name)
{
	struct summary *s = ctx;
	int64_t ns[LOD_STATE_COUNT] = {0};
	if (utid < 0 || (size_t)utid >= s->tl->nthreads || !s->tl->threads[utid])
		return 0;
	lod_track_time(s->tl->threads[utid], s->w->start, s->w->end, ns);
	if (!any(ns))
		return 0;
	json_obj_begin(s->j);
	json_key(s->j, "utid");
	json_i64(s->j, utid);
	json_key(s->j, "name");
	json_str(s->j, name);
	json_key(s->j, "upid");
	json_i64(s->j, upid);
	write_ns(s->j, ns);
	json_obj_end(s->j);
	return 0;
}

static int process_entry(void *ctx, int64_t upid, int64_t parent, const char *name)
{
	struct summary *s = ctx;
	int64_t ns[LOD_STATE_COUNT] = {0};
	if (upid < 0 || (size_t)upid >= s->tl->nprocesses || !s->tl->processes[upid])
		return 0;
	lod_track_time(s->tl->processes[upid], s->w->start, s->w->end, ns);
	if (!any(ns))
		return 0;
	json_obj_begin(s->j);
	json_key(s->j, "upid");
	json_i64(s->j, upid);
	json_key(s->j, "name");
	json_str(s->j, name);
	write_ns(s->j, ns);
	json_obj_end(s->j);
	return 0;
}

static int add_lock(void *ctx, const struct query_object *o)
{
	struct summary *s = ctx;
	if (s->nlocks == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct lock_stat *p = realloc(s->locks, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->locks = p;
		s->cap = cap;
	}
	struct lock_stat *l = &s->locks[s->nlocks];
	memset(l, 0, sizeof(*l));
	l->object_id = o->object_id;
	l->kind = strdup(o->kind);
	l->label = strdup(o->label);
	s->nlocks++; /* freed with the others even when a copy failed */
	if (!l->kind || !l->label)
		return -ENOMEM;
	return 0;
}

static struct lock_stat *find_lock(struct summary *s, int64_t object_id)
{
	size_t lo = 0, hi = s->nlocks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->locks[mid].object_id < object_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nlocks && s->locks[lo].object_id == object_id ? &s->locks[lo] : NULL;
}

/* Fills lock_of when the lock ids are small enough for a table (else
 * find_lock's binary search serves). */
#define LOCK_TABLE_MAX (1 << 20)
static void index_locks(struct summary *s)
{
	if (!s->nlocks || s->locks[s->nlocks - 1].object_id < 0 ||
	    s->locks[s->nlocks - 1].object_id >= LOCK_TABLE_MAX)
		return;
	s->nlock_of = (size_t)s->locks[s->nlocks - 1].object_id + 1;
	s->lock_of = calloc(s->nlock_of, sizeof(*s->lock_of));
	if (!s->lock_of) {
		s->nlock_of = 0;
		return;
	}
	for (size_t i = 0; i < s->nlocks; i++)
		if (s->locks[i].object_id >= 0)
			s->lock_of[s->locks[i].object_id] = (uint32_t)i + 1;
}

static int count_wait(void *ctx, const struct lod_entry *e)
{
	struct summary *s = ctx;
	if (e->state != LOD_BLOCKED || e->object < 0)
		return 0;
	struct lock_stat *l;
	if (s->lock_of)
		l = (size_t)e->object < s->nlock_of && s->lock_of[e->object]
			? &s->locks[s->lock_of[e->object] - 1]
			: NULL;
	else
		l = find_lock(s, e->object);
	if (!l)
		return 0;
	l->waits++;
	l->total += e->dur;
	if (e->dur > l->max)
		l->max = e->dur;
	if (l->last_waiter == s->utid && l->nwaiters > 0)
		return 0;
	l->last_waiter = s->utid;
	if (l->nwaiters < WAITERS_MAX)
		l->waiters[l->nwaiters++] = s->utid;
	return 0;
}

static int add_holder(void *ctx, int64_t object_id, int64_t utid)
{
	struct summary *s = ctx;
	struct lock_stat *l = find_lock(s, object_id);
	if (!l)
		return 0;
	if (l->nholders == l->holders_cap) {
		size_t cap = l->holders_cap ? 2 * l->holders_cap : 4;
		int64_t *p = realloc(l->holders, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->holders = p;
		l->holders_cap = cap;
	}
	l->holders[l->nholders++] = utid;
	return 0;
}

static int by_total_wait(const void *a, const void *b)
{
	const struct lock_stat *x = a, *y = b;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->object_id < y->object_id ? -1 : x->object_id > y->object_id;
}

/* Flow totals of the window per object, from the bucket sums plus the
 * two edges read from SQLite. */
struct object_flows {
	int64_t object_id;
	struct flowsum_totals msg, hand;
	char *kind, *label; /* NULL until labelled */
};

struct flow_table {
	struct object_flows *v;
	size_t n, cap;
	int failed;
};

static struct object_flows *flows_of(struct flow_table *ft, int64_t object_id, int create)
{
	size_t lo = 0, hi = ft->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ft->v[mid].object_id < object_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ft->n && ft->v[lo].object_id == object_id)
		return &ft->v[lo];
	if (!create)
		return NULL;
	if (ft->n == ft->cap) {
		size_t cap = ft->cap ? ft->cap * 2 : 64;
		struct object_flows *p = realloc(ft->v, cap * sizeof(*p));
		if (!p) {
			ft->failed = 1;
			return NULL;
		}
		ft->v = p;
		ft->cap = cap;
	}
	memmove(ft->v + lo + 1, ft->v + lo, (ft->n - lo) * sizeof(*ft->v));
	memset(&ft->v[lo], 0, sizeof(ft->v[lo]));
	ft->v[lo].object_id = object_id;
	ft->n++;
	return &ft->v[lo];
}

static int add_bucket(void *ctx, int64_t object_id, enum flowsum_class cls,
		      const struct flowsum_totals *t)
{
	struct object_flows *o = flows_of(ctx, object_id, 1);
	if (!o)
		return -ENOMEM;
	flowsum_totals_merge(cls == FLOWSUM_MESSAGE ? &o->msg : &o->hand, t);
	return 0;
}

static int add_edge_message(void *ctx, int64_t object_id, const char *kind, int64_t ts_out,
			    int64_t ts_in, int64_t utid_out, int64_t utid_in, int64_t bytes)
{
	struct object_flows *o = flows_of(ctx, object_id, 1);
	if (!o)
		return -ENOMEM;
	flowsum_totals_add(&o->msg, utid_out, utid_in, bytes);
	return 0;
}

static int add_edge_handover(void *ctx, int64_t object_id, const char *kind, int64_t ts_out,
			     int64_t ts_in, int64_t utid_out, int64_t utid_in, int64_t bytes)
{
	struct object_flows *o = flows_of(ctx, object_id, 1);
	if (!o)
		return -ENOMEM;
	flowsum_totals_add(&o->hand, utid_out, utid_in, 0);
	return 0;
}

static int label_object(void *ctx, const struct query_object *object)
{
	struct object_flows *o = flows_of(ctx, object->object_id, 0);
	if (!o || !o->msg.count || o->kind)
		return 0;
	o->kind = strdup(object->kind);
	o->label = strdup(object->label);
	return o->kind && o->label ? 0 : -ENOMEM;
}

static int window_flows(struct summary *s, sqlite3 *db, struct flow_table *ft)
{
	int64_t a, b;
	int rc;
	flowsum_inner(s->tl->flows, s->w->start, s->w->end, &a, &b);
	if (a < b && (rc = flowsum_each(s->tl->flows, a, b, add_bucket, ft)) != 0)
		return rc;
	int64_t edges[2][2] = {{s->w->start, a < b ? a : s->w->end},
			       {a < b ? b : s->w->end, s->w->end}};
	for (int e = 0; e < 2; e++) {
		if (edges[e][0] >= edges[e][1])
			continue;
		if ((rc = query_flows_between(db, 1, edges[e][0], edges[e][1], add_edge_message,
					      ft)) != 0 ||
		    (rc = query_flows_between(db, 0, edges[e][0], edges[e][1], add_edge_handover,
					      ft)) != 0)
			return rc;
	}
	if (ft->failed)
		return -ENOMEM;
	return query_each_object(db, label_object, ft);
}

static void write_mask(struct json *j, const uint64_t *mask)
{
	json_arr_begin(j);
	for (int u = 0; u < FLOWSUM_MAX_UTID; u++)
		if (mask[u / 64] & (1ULL << (u % 64)))
			json_i64(j, u);
	json_arr_end(j);
}

static int by_bytes(const void *a, const void *b)
{
	const struct object_flows *x = a, *y = b;
	if (x->msg.bytes != y->msg.bytes)
		return x->msg.bytes < y->msg.bytes ? 1 : -1;
	return x->object_id < y->object_id ? -1 : x->object_id > y->object_id;
}

static void write_traffic(struct json *j, struct flow_table *ft)
{
	if (ft->n > 1)
		qsort(ft->v, ft->n, sizeof(*ft->v), by_bytes);
	json_arr_begin(j);
	for (size_t i = 0, k = 0; i < ft->n && k < 1000; i++) {
		const struct object_flows *o = &ft->v[i];
		if (!o->msg.count)
			continue;
		json_obj_begin(j);
		json_key(j, "object_id");
		json_i64(j, o->object_id);
		json_key(j, "label");
		json_str(j, o->label ? o->label : "");
		json_key(j, "kind");
		json_str(j, o->kind ? o->kind : "");
		json_key(j, "messages");
		json_i64(j, (int64_t)o->msg.count);
		json_key(j, "bytes");
		json_i64(j, o->msg.bytes);
		json_key(j, "writers");
		write_mask(j, o->msg.out);
		json_key(j, "readers");
		write_mask(j, o->msg.in);
		json_obj_end(j);
		k++;
	}
	json_arr_end(j);
}

static void free_flow_table(struct flow_table *ft)
{
	for (size_t i = 0; i < ft->n; i++) {
		free(ft->v[i].kind);
		free(ft->v[i].label);
	}
	free(ft->v);
}

static int contention(struct summary *s, sqlite3 *db, struct flow_table *ft)
{
	int rc = query_lock_objects(db, add_lock, s);
	if (rc < 0)
		return rc;
	index_locks(s);
	for (size_t utid = 0; utid < s->tl->nthreads && s->nlocks; utid++) {
		if (!s->tl->threads[utid])
			continue;
		s->utid = (int64_t)utid;
		lod_track_each_state(s->tl->threads[utid], s->w->start, s->w->end, LOD_BLOCKED,
				     count_wait, s);
	}
	free(s->lock_of);
	s->lock_of = NULL;
	if (!ft) { /* no usable bucket sums: ask SQLite over the whole window */
		if (s->nlocks &&
		    (rc = query_holders(db, s->w->start, s->w->end, add_holder, s)) < 0)
			return rc;
	} else {
		for (size_t i = 0; i < s->nlocks; i++) {
			struct object_flows *o = flows_of(ft, s->locks[i].object_id, 0);
			s->locks[i].holders_mask = o ? o->hand.out : NULL;
		}
	}
	if (s->nlocks > 1)
		qsort(s->locks, s->nlocks, sizeof(*s->locks), by_total_wait);
	json_key(s->j, "contention");
	json_arr_begin(s->j);
	for (size_t i = 0; i < s->nlocks && i < CONTENTION_MAX; i++) {
		struct lock_stat *l = &s->locks[i];
		if (l->waits == 0)
			break;
		json_obj_begin(s->j);
		json_key(s->j, "object_id");
		json_i64(s->j, l->object_id);
		json_key(s->j, "label");
		json_str(s->j, l->label);
		json_key(s->j, "kind");
		json_str(s->j, l->kind);
		json_key(s->j, "waits");
		json_i64(s->j, l->waits);
		json_key(s->j, "total_wait");
		json_i64(s->j, l->total);
		json_key(s->j, "max_wait");
		json_i64(s->j, l->max);
		json_key(s->j, "waiters");
		json_arr_begin(s->j);
		for (int k = 0; k < l->nwaiters; k++)
			json_i64(s->j, l->waiters[k]);
		json_arr_end(s->j);
		json_key(s->j, "holders");
		if (l->holders_mask) {
			write_mask(s->j, l->holders_mask);
		} else {
			json_arr_begin(s->j);
			for (size_t k = 0; k < l->nholders; k++)
				json_i64(s->j, l->holders[k]);
			json_arr_end(s->j);
		}
		json_obj_end(s->j);
	}
	json_arr_end(s->j);
	return 0;
}

/* Where a wait ends: ts + dur, saturated (both come from the trace). */
static int64_t span_until(const struct query_wait *w)
{
	int64_t until;
	if (__builtin_add_overflow(w->ts, w->dur, &until))
		until = w->dur > 0 ? INT64_MAX : INT64_MIN;
	return until;
}

static const struct query_wait *wait_of(const struct query_wait *waits, size_t n, int64_t utid)
{
	for (size_t i = 0; i < n; i++)
		if (waits[i].utid == utid)
			return &waits[i];
	return NULL;
}

/* The deadlocks the recorder found (query_deadlocks). For a trace that
 * predates the deadlock tables, the threads' final waits: each thread has
 * at most one, so the wait-for graph is a functional graph: follow holders
 * from each wait; a walk that comes back to its start within n steps is a
 * cycle, reported once (from its lowest utid) if its threads were all
 * waiting at a common moment inside the window. */
static int deadlocks(struct summary *s, sqlite3 *db)
{
	json_key(s->j, "deadlocks");
	int rc = query_deadlocks(db, s->w->start, s->w->end, s->j);
	if (rc != -ENOENT)
		return rc;
	/* a trace older than the deadlock tables: its threads' final waits */
	struct query_wait *waits;
	size_t n;
	rc = query_final_waits(db, &waits, &n);
	if (rc < 0) {
		json_null(s->j);
		return rc;
	}
	json_arr_begin(s->j);
	for (size_t i = 0; i < n; i++) {
		const struct query_wait *w = &waits[i];
		int64_t lowest = w->utid, from = w->ts, until = span_until(w);
		size_t len = 1;
		const struct query_wait *cur = wait_of(waits, n, w->holder_utid);
		while (cur && cur->utid != w->utid && len <= n) {
			if (cur->utid < lowest)
				lowest = cur->utid;
			if (cur->ts > from)
				from = cur->ts;
			if (span_until(cur) < until)
				until = span_until(cur);
			cur = wait_of(waits, n, cur->holder_utid);
			len++;
		}
		if (!cur || cur->utid != w->utid || lowest != w->utid)
			continue;
		if (from > until || from >= s->w->end || until <= s->w->start)
			continue;
		json_obj_begin(s->j);
		json_key(s->j, "ts");
		json_i64(s->j, from);
		json_key(s->j, "threads");
		json_arr_begin(s->j);
		cur = w;
		for (size_t k = 0; k < len; k++, cur = wait_of(waits, n, cur->holder_utid))
			json_i64(s->j, cur->utid);
		json_arr_end(s->j);
		json_key(s->j, "objects");
		json_arr_begin(s->j);
		cur = w;
		for (size_t k = 0; k < len; k++, cur = wait_of(waits, n, cur->holder_utid))
			json_i64(s->j, cur->object_id);
		json_arr_end(s->j);
		json_obj_end(s->j);
	}
	json_arr_end(s->j);
	free(waits);
	return 0;
}

enum MHD_Result route_summary(struct request *req)
{
	char err[160];
	struct param_window w;
	if (param_window_or_empty(req_arg(req, "start"), req_arg(req, "end"), &w, err,
				  sizeof(err)) < 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	const struct trace_timeline *tl;
	int rc = trace_timeline_read(req->trace, &tl);
	if (rc < 0)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot load the timeline: %s", strerror(-rc));
	sqlite3 *db = trace_acquire(req->trace);
	if (!db) {
		trace_timeline_done(req->trace);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	}
	struct json j;
	json_init(&j);
	struct summary s = {.req = req, .tl = tl, .w = &w, .j = &j};
	json_obj_begin(&j);
	json_key(&j, "start");
	json_i64(&j, w.start);
	json_key(&j, "end");
	json_i64(&j, w.end);
	json_key(&j, "threads");
	json_arr_begin(&j);
	rc = query_threads(db, thread_entry, &s);
	json_arr_end(&j);
	json_key(&j, "processes");
	json_arr_begin(&j);
	if (rc == 0)
		rc = query_processes(db, process_entry, &s);
	json_arr_end(&j);
	struct flow_table ft = {0};
	int sums = flowsum_usable(tl->flows);
	if (rc == 0 && sums)
		rc = window_flows(&s, db, &ft);
	if (rc == 0)
		rc = contention(&s, db, sums ? &ft : NULL);
	if (rc == 0) {
		json_key(&j, "traffic");
		if (sums)
			write_traffic(&j, &ft);
		else
			rc = query_traffic(db, w.start, w.end, &j);
	}
	if (rc == 0)
		rc = deadlocks(&s, db);
	json_obj_end(&j);
	trace_timeline_done(req->trace);
	for (size_t i = 0; i < s.nlocks; i++) {
		free(s.locks[i].kind);
		free(s.locks[i].label);
		free(s.locks[i].holders);
	}
	free(s.locks);
	free_flow_table(&ft);
	enum MHD_Result result;
	if (rc < 0) {
		result =
		    reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the trace: %s",
				rc == -ENOMEM ? "out of memory" : sqlite3_errmsg(db));
		json_free(&j);
	} else {
		result = reply_json(req, MHD_HTTP_OK, &j);
	}
	trace_release(req->trace, db);
	return result;
}
