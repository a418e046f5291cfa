/*
 * route_flame: GET /api/traces/{id}/flame[?start=NS&end=NS][&utid=N|&upid=N][&limit=N]
 *
 * Blocked time aggregated by stack, for an off-CPU flame graph: every
 * Blocked span overlapping the window (whole trace by default; clipped to
 * it) of the thread or process asked for (all by default) is charged to its
 * callsite_id, and callsites are merged by frame name along their path
 * from the outermost frame (two call sites of the same function under the
 * same callers are one node).
 *
 * The answer: "nodes", a tree as a flat array in depth-first order (each
 * node's "parent" is an index before it; node 0 is the root "all", parent
 * null), each node {name, parent, depth, self_ns, total_ns, other_ns,
 * module, file, line, callsite_ids}: total_ns = self_ns + other_ns + the
 * totals of its children; callsite_ids lists at most FLAME_NODE_CALLSITES
 * of the callsites merged into the node ("callsites_cut": true beyond).
 * Only the `limit` nodes (default FLAME_LIMIT_DEFAULT, at most
 * FLAME_LIMIT_MAX) of largest total are kept; the time of the others is
 * summed into their kept ancestor's other_ns, and "truncated" is true.
 * "by_callsite" lists the FLAME_TOP_CALLSITES call sites (innermost
 * frames) with the most blocked time; tree=0 answers only that (no nodes:
 * the area summary's cheaper question). "blocked_ns" is all Blocked time in
 * the window, "no_stack_ns" the part of it without a stack. A trace without
 * stack tables answers {"stacks": false} with no nodes. Queries that
 * outlast FLAME_DEADLINE_MS are cut: 503.
 *
 * With under=ID,ID,... (the callsite_ids of a node) the answer is instead
 * the Blocked spans of the same window and thread or process whose stack
 * passes through one of those callsites (the callsite or a descendant):
 * {"spans": [[utid, ts, dur, callsite_id], ...] in time order, at most
 * `limit` (default FLAME_SPANS_DEFAULT, at most FLAME_SPANS_MAX), then
 * "truncated": true}: what the dashboard highlights on the timeline.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "param.h"
#include "route.h"
#include "stackdb.h"
#include "trace.h"

#define FLAME_LIMIT_DEFAULT 500
#define FLAME_LIMIT_MAX 5000
#define FLAME_MAX_ROWS 200000
#define FLAME_NODE_CALLSITES 64
#define FLAME_TOP_CALLSITES 50
#define FLAME_DEADLINE_MS 10000
#define FLAME_SPANS_DEFAULT 10000
#define FLAME_SPANS_MAX 100000

struct flame_node {
	char *name, *module, *file;
	int64_t line; /* -1: unknown */
	int64_t parent, depth, self, total, other;
	int64_t cs[FLAME_NODE_CALLSITES];
	int ncs, cs_cut;
	int64_t keep; /* index in the answer, -1 when cut */
};

struct flame {
	struct flame_node *nodes;
	size_t count, cap;
	bool incomplete; /* more than FLAME_MAX_ROWS callsites */
};

struct flame_query {
	int64_t start, end, who;
	const char *filter; /* "" or a clause on utid naming ?4 */
	bool windowed;
	bool no_tree;	/* tree=0 */
	int64_t *under; /* the callsites of under=, NULL when absent */
	size_t nunder;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int past_deadline(void *deadline)
{
	return now_ms() > *(int64_t *)deadline;
}

static void flame_free(struct flame *f)
{
	for (size_t i = 0; i < f->count; i++) {
		free(f->nodes[i].name);
		free(f->nodes[i].module);
		free(f->nodes[i].file);
	}
	free(f->nodes);
}

static char *dup_col(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	return s ? strdup((const char *)s) : NULL;
}

/* Appends a node; returns its index or -ENOMEM. */
static int64_t add_node(struct flame *f, sqlite3_stmt *stmt, int64_t parent, int64_t depth)
{
	if (f->count == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct flame_node *n = realloc(f->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		f->nodes = n;
		f->cap = cap;
	}
	struct flame_node *n = &f->nodes[f->count];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->depth = depth;
	n->line = -1;
	if (stmt) {
		n->name = dup_col(stmt, 4);
		n->module = dup_col(stmt, 5);
		n->file = dup_col(stmt, 6);
		if (sqlite3_column_type(stmt, 7) != SQLITE_NULL)
			n->line = sqlite3_column_int64(stmt, 7);
		if (!n->name)
			return -ENOMEM;
	} else if (!(n->name = strdup("all"))) {
		return -ENOMEM;
	}
	return (int64_t)f->count++;
}

#define FLAME_W_CTE                                                                                \
	"w(cs, n, ns) AS (SELECT callsite_id, COUNT(*), SUM(MIN(ts + dur, ?2) - MAX(ts, ?1)) "     \
	"FROM thread_state WHERE state = 'Blocked' AND callsite_id IS NOT NULL AND ts < ?2 "       \
	"AND ts + dur > ?1 %s GROUP BY callsite_id)"

/* Prepares fmt with q's filter in place of its %s (fmt's other % are
 * doubled) and binds ?1 ?2 (the window) and ?4 (the thread or process). */
static int prepare(sqlite3 *db, const char *fmt, const struct flame_query *q, sqlite3_stmt **stmt)
{
	char sql[2048];
	snprintf(sql, sizeof sql, fmt, q->filter);
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(*stmt, 1, q->start);
	sqlite3_bind_int64(*stmt, 2, q->end);
	if (q->filter[0])
		sqlite3_bind_int64(*stmt, 4, q->who);
	return 0;
}

/* Reads the callsites with blocked time and their ancestors, in the order
 * of their paths of names, into f (node 0: the root). */
static int load(sqlite3 *db, const struct flame_query *q, struct flame *f)
{
	static const char fmt[] =
	    "WITH RECURSIVE " FLAME_W_CTE ", "
	    "anc(cs) AS (SELECT cs FROM w UNION SELECT c.parent_id FROM anc JOIN stack_callsite c "
	    "ON c.callsite_id = anc.cs WHERE c.parent_id IS NOT NULL), "
	    "named(cs, parent, name, module, file, line) AS (SELECT c.callsite_id, c.parent_id, "
	    "replace(replace(" STACKDB_FRAME_NAME_FMT ", char(1), char(2)), char(0), ''), m.path, "
	    "f.file, f.line FROM anc JOIN stack_callsite c ON c.callsite_id = anc.cs "
	    "JOIN stack_frame f ON f.frame_id = c.frame_id "
	    "LEFT JOIN stack_module m ON m.module_id = f.module_id), "
	    "p(cs, path, level) AS (SELECT cs, name, 0 FROM named WHERE parent IS NULL "
	    "UNION ALL SELECT n.cs, p.path || char(1) || n.name, p.level + 1 FROM p "
	    "JOIN named n ON n.parent = p.cs WHERE p.level < ?3) "
	    "SELECT p.path, p.level, p.cs, COALESCE(w.ns, 0), n.name, n.module, n.file, n.line "
	    "FROM p JOIN named n ON n.cs = p.cs LEFT JOIN w ON w.cs = p.cs "
	    "ORDER BY p.path, p.cs LIMIT ?5";
	sqlite3_stmt *stmt = NULL;
	int64_t chain[STACKDB_MAX_FRAMES] = {0}; /* the nodes of the current path by level */
	char *prev = NULL;
	int rc = prepare(db, fmt, q, &stmt), step;
	if (rc)
		goto out;
	sqlite3_bind_int(stmt, 3, STACKDB_MAX_FRAMES - 1);
	sqlite3_bind_int(stmt, 5, FLAME_MAX_ROWS + 1);
	rc = add_node(f, NULL, -1, 0) < 0 ? -ENOMEM : 0;
	size_t rows = 0;
	while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (++rows > FLAME_MAX_ROWS) {
			f->incomplete = true;
			break;
		}
		const char *path = (const char *)sqlite3_column_text(stmt, 0);
		int64_t level = sqlite3_column_int64(stmt, 1);
		if (!path || level < 0 || level >= STACKDB_MAX_FRAMES)
			continue;
		int64_t idx;
		if (prev && strcmp(prev, path) == 0) {
			idx = chain[level];
		} else {
			idx = add_node(f, stmt, level ? chain[level - 1] : 0, level + 1);
			if (idx < 0) {
				rc = -ENOMEM;
				break;
			}
			chain[level] = idx;
			free(prev);
			if (!(prev = strdup(path))) {
				rc = -ENOMEM;
				break;
			}
		}
		struct flame_node *n = &f->nodes[idx];
		n->self += sqlite3_column_int64(stmt, 3);
		if (n->ncs < FLAME_NODE_CALLSITES)
			n->cs[n->ncs++] = sqlite3_column_int64(stmt, 2);
		else
			n->cs_cut = 1;
	}
	if (!rc && !f->incomplete && step != SQLITE_DONE)
		rc = -EIO;
out:
	free(prev);
	sqlite3_finalize(stmt);
	return rc;
}

static int by_total(const void *a, const void *b, void *nodes)
{
	const struct flame_node *n = nodes;
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	if (n[x].total != n[y].total)
		return n[x].total > n[y].total ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Sums the totals and keeps the limit nodes of largest total (a parent's
 * total is at least its child's, and it comes first on a tie, so the kept
 * nodes form a tree). Returns whether some were cut, or -ENOMEM. */
static int cut(struct flame *f, int64_t limit)
{
	for (size_t i = f->count; i-- > 0;) {
		struct flame_node *n = &f->nodes[i];
		n->total += n->self;
		if (n->parent >= 0)
			f->nodes[n->parent].total += n->total;
	}
	if (f->count == 0 || (int64_t)f->count <= limit) {
		for (size_t i = 0; i < f->count; i++)
			f->nodes[i].keep = (int64_t)i;
		return 0;
	}
	int64_t *order = malloc(f->count * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < f->count; i++) {
		order[i] = (int64_t)i;
		f->nodes[i].keep = -1;
	}
	qsort_r(order, f->count, sizeof(*order), by_total, f->nodes);
	for (int64_t i = 0; i < limit; i++)
		f->nodes[order[i]].keep = 0;
	free(order);
	int64_t next = 0;
	for (size_t i = 0; i < f->count; i++) {
		struct flame_node *n = &f->nodes[i];
		if (n->keep == 0)
			n->keep = next++;
		else if (n->parent >= 0 && f->nodes[n->parent].keep >= 0)
			f->nodes[n->parent].other += n->total;
	}
	return 1;
}

static void json_str_or_null(struct json *j, const char *s)
{
	s ? json_str(j, s) : json_null(j);
}

static void json_nodes(struct json *j, const struct flame *f)
{
	json_key(j, "nodes");
	json_arr_begin(j);
	for (size_t i = 0; i < f->count; i++) {
		const struct flame_node *n = &f->nodes[i];
		if (n->keep < 0)
			continue;
		json_obj_begin(j);
		json_key(j, "name");
		json_str(j, n->name);
		json_key(j, "parent");
		n->parent >= 0 ? json_i64(j, f->nodes[n->parent].keep) : json_null(j);
		json_key(j, "depth");
		json_i64(j, n->depth);
		json_key(j, "self_ns");
		json_i64(j, n->self);
		json_key(j, "total_ns");
		json_i64(j, n->total);
		json_key(j, "other_ns");
		json_i64(j, n->other);
		json_key(j, "module");
		json_str_or_null(j, n->module);
		json_key(j, "file");
		json_str_or_null(j, n->file);
		json_key(j, "line");
		n->line >= 0 ? json_i64(j, n->line) : json_null(j);
		json_key(j, "callsite_ids");
		json_arr_begin(j);
		for (int c = 0; c < n->ncs; c++)
			json_i64(j, n->cs[c]);
		json_arr_end(j);
		json_key(j, "callsites_cut");
		json_bool(j, n->cs_cut);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* "by_callsite": the call sites with the most blocked time. */
static int json_by_callsite(sqlite3 *db, const struct flame_query *q, struct json *j)
{
	static const char fmt[] =
	    "WITH " FLAME_W_CTE " SELECT w.cs, w.n, w.ns, " STACKDB_FRAME_NAME_FMT ", f.file, "
	    "f.line, m.path FROM w JOIN stack_callsite c ON c.callsite_id = w.cs "
	    "JOIN stack_frame f ON f.frame_id = c.frame_id "
	    "LEFT JOIN stack_module m ON m.module_id = f.module_id "
	    "ORDER BY w.ns DESC, w.cs LIMIT ?3";
	static const char *const keys[] = {"callsite_id", "waits", "blocked_ns", "name",
					   "file",	  "line",  "module"};
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, fmt, q, &stmt), step = SQLITE_DONE;
	if (rc)
		return rc;
	sqlite3_bind_int(stmt, 3, FLAME_TOP_CALLSITES);
	json_key(j, "by_callsite");
	json_arr_begin(j);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_obj_begin(j);
		for (int c = 0; c < 7; c++) {
			json_key(j, keys[c]);
			if (sqlite3_column_type(stmt, c) == SQLITE_NULL)
				json_null(j);
			else if (c == 3 || c == 4 || c == 6)
				json_str(j, (const char *)sqlite3_column_text(stmt, c));
			else
				json_i64(j, sqlite3_column_int64(stmt, c));
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	sqlite3_finalize(stmt);
	return step == SQLITE_DONE ? 0 : -EIO;
}

/* "blocked_ns" and "no_stack_ns" of the window. */
static int json_blocked(sqlite3 *db, const struct flame_query *q, struct json *j)
{
	static const char fmt[] =
	    "SELECT COALESCE(SUM(MIN(ts + dur, ?2) - MAX(ts, ?1)), 0), COALESCE(SUM(CASE WHEN "
	    "callsite_id IS NULL THEN MIN(ts + dur, ?2) - MAX(ts, ?1) END), 0) FROM thread_state "
	    "WHERE state = 'Blocked' AND ts < ?2 AND ts + dur > ?1 %s";
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, fmt, q, &stmt);
	if (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
		json_key(j, "blocked_ns");
		json_i64(j, sqlite3_column_int64(stmt, 0));
		json_key(j, "no_stack_ns");
		json_i64(j, sqlite3_column_int64(stmt, 1));
	} else {
		rc = -EIO;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* The spans under q->under (see the head of the file). */
static int spans_under(sqlite3 *db, const struct flame_query *q, int64_t limit, struct json *j)
{
	static const char fmt[] =
	    "WITH RECURSIVE down(cs, level) AS (SELECT value, 0 FROM json_each(?3) UNION "
	    "SELECT c.callsite_id, down.level + 1 FROM down JOIN stack_callsite c ON c.parent_id "
	    "= down.cs WHERE down.level < 255) "
	    "SELECT utid, ts, dur, callsite_id FROM thread_state WHERE state = 'Blocked' AND "
	    "callsite_id IN (SELECT cs FROM down) AND ts < ?2 AND ts + dur > ?1 %s "
	    "ORDER BY ts, utid LIMIT ?5";
	struct json ids;
	json_init(&ids);
	json_arr_begin(&ids);
	for (size_t i = 0; i < q->nunder; i++)
		json_i64(&ids, q->under[i]);
	json_arr_end(&ids);
	size_t len = 0;
	char *text = json_take(&ids, &len);
	json_free(&ids);
	if (!text)
		return -ENOMEM;
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, fmt, q, &stmt), step = SQLITE_DONE;
	int64_t rows = 0;
	if (rc)
		goto out;
	sqlite3_bind_text(stmt, 3, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, limit + 1);
	json_obj_begin(j);
	json_key(j, "spans");
	json_arr_begin(j);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW && rows++ < limit) {
		json_arr_begin(j);
		for (int c = 0; c < 4; c++)
			json_i64(j, sqlite3_column_int64(stmt, c));
		json_arr_end(j);
	}
	json_arr_end(j);
	json_key(j, "truncated");
	json_bool(j, rows > limit);
	json_obj_end(j);
	rc = step == SQLITE_DONE || step == SQLITE_ROW ? 0 : -EIO;
out:
	sqlite3_finalize(stmt);
	free(text);
	return rc;
}

static int answer(sqlite3 *db, const struct flame_query *q, int64_t limit, struct json *j)
{
	struct flame f = {0};
	json_obj_begin(j);
	json_key(j, "stacks");
	json_bool(j, true);
	json_key(j, "start");
	q->windowed ? json_i64(j, q->start) : json_null(j);
	json_key(j, "end");
	q->windowed ? json_i64(j, q->end) : json_null(j);
	int rc = json_blocked(db, q, j);
	if (!rc && !q->no_tree)
		rc = load(db, q, &f);
	int truncated = rc ? 0 : cut(&f, limit);
	if (truncated < 0)
		rc = truncated;
	if (!rc) {
		json_key(j, "truncated");
		json_bool(j, truncated > 0 || f.incomplete);
		json_nodes(j, &f);
		rc = json_by_callsite(db, q, j);
	}
	json_obj_end(j);
	flame_free(&f);
	return rc;
}

/* Parses the window, the thread or process and the limit. */
static int parse(struct request *req, struct flame_query *q, int64_t *limit, char *err,
		 size_t errlen)
{
	const char *start = req_arg(req, "start"), *end = req_arg(req, "end");
	const char *utid = req_arg(req, "utid"), *upid = req_arg(req, "upid");
	q->start = -PARAM_TS_MAX;
	q->end = PARAM_TS_MAX;
	q->filter = "";
	if (start || end) {
		struct param_window w;
		if (param_window(start, end, NULL, 0, &w, err, errlen))
			return -EINVAL;
		q->start = w.start;
		q->end = w.end;
		q->windowed = true;
	}
	if (utid && upid) {
		snprintf(err, errlen, "give utid or upid, not both");
		return -EINVAL;
	}
	if (utid || upid) {
		if (param_required_i64(utid ? "utid" : "upid", utid ? utid : upid, &q->who, err,
				       errlen))
			return -EINVAL;
		q->filter = utid ? "AND utid = ?4"
				 : "AND utid IN (SELECT utid FROM thread WHERE upid = ?4)";
	}
	const char *tree = req_arg(req, "tree");
	if (tree && strcmp(tree, "0") != 0 && strcmp(tree, "1") != 0) {
		snprintf(err, errlen, "tree must be 0 or 1");
		return -EINVAL;
	}
	q->no_tree = tree && tree[0] == '0';
	const char *under = req_arg(req, "under");
	if (under &&
	    (param_id_list("under", under, &q->under, &q->nunder, err, errlen) || !q->nunder)) {
		if (!q->nunder)
			snprintf(err, errlen, "under must list callsite ids");
		return -EINVAL;
	}
	if (under)
		return param_limit(req_arg(req, "limit"), FLAME_SPANS_DEFAULT, FLAME_SPANS_MAX,
				   limit, err, errlen);
	return param_limit(req_arg(req, "limit"), FLAME_LIMIT_DEFAULT, FLAME_LIMIT_MAX, limit, err,
			   errlen);
}

enum MHD_Result route_flame(struct request *req)
{
	struct flame_query q = {0};
	int64_t limit = 0;
	char err[160];
	if (parse(req, &q, &limit, err, sizeof err)) {
		free(q.under);
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	sqlite3 *db = trace_acquire(req->trace);
	if (!db) {
		free(q.under);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	}
	struct json j;
	json_init(&j);
	int rc = 0;
	int64_t deadline = now_ms() + FLAME_DEADLINE_MS;
	if (!stackdb_available(db)) {
		json_obj_begin(&j);
		json_key(&j, "stacks");
		json_bool(&j, false);
		json_key(&j, q.under ? "spans" : "nodes");
		json_arr_begin(&j);
		json_arr_end(&j);
		json_obj_end(&j);
	} else {
		sqlite3_progress_handler(db, 10000, past_deadline, &deadline);
		rc = q.under ? spans_under(db, &q, limit, &j) : answer(db, &q, limit, &j);
		sqlite3_progress_handler(db, 0, NULL, NULL);
	}
	trace_release(req->trace, db);
	free(q.under);
	if (!rc)
		return reply_json(req, MHD_HTTP_OK, &j);
	json_free(&j);
	if (rc == -EIO && now_ms() > deadline)
		return reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the flame graph took longer than %d ms", FLAME_DEADLINE_MS);
	return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the stacks: %s",
			   rc == -ENOMEM ? "out of memory" : "query failed");
}
