/*
 * route_traces: the endpoints that describe traces and answer from SQLite
 * directly: the list, a trace's overview, objects, flows, one span's
 * details and the schema. Each borrows a connection of its own from the
 * trace's pool for the duration of the request.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lod.h"
#include "param.h"
#include "query.h"
#include "route.h"
#include "trace.h"

#define FLOWS_MAX 10000

/* "started": the recording's wall-clock start (meta start_wall_ns) as
 * "YYYY-MM-DD HH:MM:SS UTC", and "start_wall_ns"; null both when the trace
 * does not say. */
static void write_started(struct json *j, int64_t wall_ns)
{
	char text[64];
	time_t secs = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	bool known = wall_ns > 0 && gmtime_r(&secs, &tm) &&
		     strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0;
	json_key(j, "started");
	if (known)
		json_str(j, text);
	else
		json_null(j);
	json_key(j, "start_wall_ns");
	if (known)
		json_i64(j, wall_ns);
	else
		json_null(j);
}

static void write_trace_entry(struct json *j, struct trace *t, const struct trace_info *info)
{
	json_obj_begin(j);
	json_key(j, "id");
	json_str(j, trace_id(t));
	json_key(j, "file");
	json_str(j, trace_file(t));
	json_key(j, "bytes");
	json_i64(j, info->bytes);
	json_key(j, "status");
	json_str(j, info->status.status[0] ? info->status.status : "unknown");
	json_key(j, "start_ts");
	json_i64(j, info->status.start_ts);
	json_key(j, "end_ts");
	json_i64(j, info->status.end_ts);
	write_started(j, info->status.start_wall_ns);
	json_key(j, "command");
	json_str(j, info->status.command);
	json_key(j, "processes");
	json_i64(j, info->status.processes);
	json_key(j, "threads");
	json_i64(j, info->status.threads);
	json_obj_end(j);
}

/* A file that cannot be served: the fields of a trace, status "broken"
 * and why. id is null when no trace of that name is served. */
static void write_broken(struct json *j, const char *id, const char *file, int64_t bytes,
			 const char *error)
{
	json_obj_begin(j);
	json_key(j, "id");
	if (id)
		json_str(j, id);
	else
		json_null(j);
	json_key(j, "file");
	json_str(j, file);
	json_key(j, "bytes");
	json_i64(j, bytes);
	json_key(j, "status");
	json_str(j, "broken");
	json_key(j, "error");
	json_str(j, error);
	json_key(j, "start_ts");
	json_i64(j, 0);
	json_key(j, "end_ts");
	json_i64(j, 0);
	json_key(j, "command");
	json_str(j, "");
	json_key(j, "processes");
	json_i64(j, 0);
	json_key(j, "threads");
	json_i64(j, 0);
	json_obj_end(j);
}

static void write_skipped(void *ctx, const char *path, const char *error, int64_t bytes)
{
	const char *slash = strrchr(path, '/');
	write_broken(ctx, NULL, slash ? slash + 1 : path, bytes, error);
}

enum MHD_Result route_trace_list(struct request *req)
{
	trace_set_rescan(req->server->traces); /* new recordings show at once */
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "traces");
	json_arr_begin(&j);
	for (size_t i = 0;; i++) {
		struct trace *t = trace_set_at(req->server->traces, i);
		if (!t)
			break;
		struct trace_info info;
		int rc = trace_info(t, &info);
		if (rc < 0)
			write_broken(&j, trace_id(t), trace_file(t), 0, strerror(-rc));
		else
			write_trace_entry(&j, t, &info);
	}
	trace_set_each_broken(req->server->traces, write_skipped, &j);
	json_arr_end(&j);
	json_obj_end(&j);
	return reply_json(req, MHD_HTTP_OK, &j);
}

/* Replies 500 for a failed query on db, then releases db. */
static enum MHD_Result fail(struct request *req, sqlite3 *db, struct json *j)
{
	enum MHD_Result rc = reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
					 "cannot read the trace: %s", sqlite3_errmsg(db));
	json_free(j);
	trace_release(req->trace, db);
	return rc;
}

static enum MHD_Result no_db(struct request *req)
{
	return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace file");
}

static void write_names(struct json *j, const char *key, const char *const *names, int n)
{
	json_key(j, key);
	json_arr_begin(j);
	for (int i = 0; i < n; i++)
		json_str(j, names[i]);
	json_arr_end(j);
}

enum MHD_Result route_trace_overview(struct request *req)
{
	struct trace_info info;
	if (trace_info(req->trace, &info) < 0)
		return no_db(req);
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return no_db(req);
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "id");
	json_str(&j, trace_id(req->trace));
	json_key(&j, "file");
	json_str(&j, trace_file(req->trace));
	json_key(&j, "status");
	json_str(&j, info.status.status);
	json_key(&j, "meta");
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	int rc = query_meta(db, &j);
	json_key(&j, "start_ts");
	json_i64(&j, info.status.start_ts);
	json_key(&j, "end_ts");
	json_i64(&j, info.status.end_ts);
	if (rc == 0)
		rc = query_overview(db, &j);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc < 0)
		return fail(req, db, &j);
	write_names(&j, "states", overview_state_names, LOD_STATE_COUNT);
	write_names(&j, "reasons", overview_reason_names, OVERVIEW_REASON_COUNT);
	json_obj_end(&j);
	trace_release(req->trace, db);
	return reply_json(req, MHD_HTTP_OK, &j);
}

enum MHD_Result route_objects(struct request *req)
{
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return no_db(req);
	struct json j;
	json_init(&j);
	if (query_objects(db, &j) < 0)
		return fail(req, db, &j);
	trace_release(req->trace, db);
	return reply_json(req, MHD_HTTP_OK, &j);
}

enum MHD_Result route_flows(struct request *req)
{
	char err[160];
	struct param_window w;
	int64_t *utids;
	size_t nutids;
	if (param_window(req_arg(req, "start"), req_arg(req, "end"), NULL, 0, &w, err,
			 sizeof(err)) < 0 ||
	    param_id_list("utids", req_arg(req, "utids"), &utids, &nutids, err, sizeof(err)) < 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	sqlite3 *db = trace_acquire(req->trace);
	if (!db) {
		free(utids);
		return no_db(req);
	}
	struct json j;
	json_init(&j);
	int rc = query_flows(db, w.start, w.end, utids, nutids, FLOWS_MAX, &j);
	free(utids);
	if (rc < 0)
		return fail(req, db, &j);
	trace_release(req->trace, db);
	return reply_json(req, MHD_HTTP_OK, &j);
}

enum MHD_Result route_span(struct request *req)
{
	char err[160];
	int64_t utid, ts;
	if (param_required_i64("utid", req_arg(req, "utid"), &utid, err, sizeof(err)) < 0 ||
	    param_required_i64("ts", req_arg(req, "ts"), &ts, err, sizeof(err)) < 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return no_db(req);
	struct json j;
	json_init(&j);
	int rc = query_span(db, utid, ts, &j);
	if (rc == -ENOENT) {
		json_free(&j);
		trace_release(req->trace, db);
		return reply_error(req, MHD_HTTP_NOT_FOUND, "thread %lld has no span at %lld",
				   (long long)utid, (long long)ts);
	}
	if (rc < 0)
		return fail(req, db, &j);
	trace_release(req->trace, db);
	return reply_json(req, MHD_HTTP_OK, &j);
}

enum MHD_Result route_schema(struct request *req)
{
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return no_db(req);
	struct json j;
	json_init(&j);
	if (query_schema(db, &j) < 0)
		return fail(req, db, &j);
	trace_release(req->trace, db);
	return reply_json(req, MHD_HTTP_OK, &j);
}
