/*
 * route_critpath: GET /api/traces/{id}/critical_path[?utid=N[&start=NS&end=NS]]
 *
 * The critical path (format/critpath.h) walked now, on the trace's
 * read-only connection: by default of the recorded command (its root
 * process, from start to end), with utid of that thread from the end of
 * the window (default: its life) back to its start. The answer holds the
 * segments in time order, at most CRITPATH_MAX_SEGMENTS of them (then
 * "truncated": true; the totals still cover the whole path), and the time
 * by thread and by object. A walk that outlasts CRITPATH_DEADLINE_MS (a
 * trace still being recorded has no indexes yet) is cut: 503, try later.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "critpath.h"
#include "param.h"
#include "route.h"
#include "tally.h"
#include "trace.h"

#define CRITPATH_MAX_SEGMENTS 100000
#define CRITPATH_DEADLINE_MS 10000

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's progress handler: non-zero interrupts the statement. */
static int past_deadline(void *deadline)
{
	return now_ms() > *(int64_t *)deadline;
}

/* The interval of utid: its life, narrowed by start and end when given.
 * Returns 0, -ENOENT or -EINVAL (message in err). */
static int thread_window(sqlite3 *db, int64_t utid, const char *start, const char *end,
			 int64_t *from, int64_t *to, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -ENOENT;
	if (sqlite3_prepare_v2(db,
			       "SELECT start_ts, COALESCE(end_ts, (SELECT MAX(ts + dur) FROM "
			       "thread_state WHERE utid = ?1)) FROM thread WHERE utid = ?1",
			       -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, utid);
		if (sqlite3_step(stmt) == SQLITE_ROW &&
		    sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
			*from = sqlite3_column_int64(stmt, 0);
			*to = sqlite3_column_int64(stmt, 1);
			rc = 0;
		}
	}
	sqlite3_finalize(stmt);
	if (rc) {
		snprintf(err, errlen, "no thread with utid %lld", (long long)utid);
		return rc;
	}
	if ((start && param_i64(start, from)) || (end && param_i64(end, to)) || *from >= *to) {
		snprintf(err, errlen, "start and end must be integers with start < end");
		return -EINVAL;
	}
	return 0;
}

static void json_segment(struct json *j, const struct critpath_segment *seg)
{
	json_arr_begin(j);
	json_i64(j, seg->utid);
	json_i64(j, seg->ts);
	json_i64(j, seg->dur);
	seg->state[0] ? json_str(j, seg->state) : json_null(j);
	seg->reason[0] ? json_str(j, seg->reason) : json_null(j);
	seg->object_id ? json_i64(j, seg->object_id) : json_null(j);
	seg->via_object_id ? json_i64(j, seg->via_object_id) : json_null(j);
	seg->edge[0] ? json_str(j, seg->edge) : json_null(j);
	seg->next_utid ? json_i64(j, seg->next_utid) : json_null(j);
	json_arr_end(j);
}

/* Totals of path by thread and by object (blocked on it + led by it). */
static int json_totals(struct json *j, const struct critpath *path)
{
	struct tally threads = {0}, objects = {0}, blocked = {0};
	int rc = 0;
	for (size_t i = 0; !rc && i < path->count; i++) {
		const struct critpath_segment *seg = &path->segments[i];
		int64_t object = seg->object_id ? seg->object_id : seg->via_object_id;
		rc = tally_add(&threads, seg->utid, 0, seg->dur, seg->ts);
		if (!rc && object)
			rc = tally_add(&objects, object, 0, seg->dur, seg->ts);
		if (!rc && seg->object_id)
			rc = tally_add(&blocked, object, 0, seg->dur, seg->ts);
	}
	if (!rc) {
		json_key(j, "by_thread");
		json_arr_begin(j);
		for (size_t i = 0; i < threads.capacity; i++)
			if (threads.slots[i].used) {
				json_obj_begin(j);
				json_key(j, "utid");
				json_i64(j, threads.slots[i].k1);
				json_key(j, "ns");
				json_i64(j, threads.slots[i].sum);
				json_obj_end(j);
			}
		json_arr_end(j);
		json_key(j, "by_object");
		json_arr_begin(j);
		for (size_t i = 0; i < objects.capacity; i++)
			if (objects.slots[i].used) {
				const struct tally_entry *b =
				    tally_get(&blocked, objects.slots[i].k1, 0);
				json_obj_begin(j);
				json_key(j, "object_id");
				json_i64(j, objects.slots[i].k1);
				json_key(j, "ns");
				json_i64(j, objects.slots[i].sum);
				json_key(j, "blocked_ns");
				json_i64(j, b ? b->sum : 0);
				json_obj_end(j);
			}
		json_arr_end(j);
	}
	tally_free(&threads);
	tally_free(&objects);
	tally_free(&blocked);
	return rc;
}

static enum MHD_Result answer(struct request *req, const struct critpath *path)
{
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "utid");
	json_i64(&j, path->utid);
	json_key(&j, "start");
	json_i64(&j, path->start);
	json_key(&j, "end");
	json_i64(&j, path->end);
	json_key(&j, "truncated");
	json_bool(&j, path->count > CRITPATH_MAX_SEGMENTS);
	json_key(&j, "segments");
	json_arr_begin(&j);
	for (size_t i = 0; i < path->count && i < CRITPATH_MAX_SEGMENTS; i++)
		json_segment(&j, &path->segments[i]);
	json_arr_end(&j);
	int rc = json_totals(&j, path);
	json_obj_end(&j);
	if (rc) {
		json_free(&j);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	return reply_json(req, MHD_HTTP_OK, &j);
}

enum MHD_Result route_critpath(struct request *req)
{
	const char *utid_arg = req_arg(req, "utid");
	int64_t utid = 0, start = 0, end = 0;
	if (utid_arg && param_i64(utid_arg, &utid))
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "utid must be an integer");
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	char err[160] = "";
	int rc = utid_arg ? thread_window(db, utid, req_arg(req, "start"), req_arg(req, "end"),
					  &start, &end, err, sizeof err)
			  : critpath_root(db, &utid, &start, &end);
	if (rc == -ENOENT && !utid_arg)
		snprintf(err, sizeof err, "the trace has no finished process yet");
	struct critpath path = {0};
	int64_t deadline = now_ms() + CRITPATH_DEADLINE_MS;
	sqlite3_progress_handler(db, 10000, past_deadline, &deadline);
	if (!rc)
		rc = critpath_walk(db, utid, start, end, &path);
	if (rc == -EIO)
		snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
	bool late = rc == -EIO && now_ms() > deadline;
	sqlite3_progress_handler(db, 0, NULL, NULL);
	trace_release(req->trace, db);
	enum MHD_Result result;
	if (late)
		result = reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the critical path took longer than %d ms; try again once the "
				     "recording has finished",
				     CRITPATH_DEADLINE_MS);
	else if (rc == -ENOENT)
		result = reply_error(req, MHD_HTTP_NOT_FOUND, "%s", err);
	else if (rc == -EINVAL)
		result =
		    reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err[0] ? err : "empty window");
	else if (rc)
		result = reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "critical path: %s",
				     err[0] ? err : strerror(-rc));
	else
		result = answer(req, &path);
	critpath_free(&path);
	return result;
}
