/*
 * route_stack: GET /api/traces/{id}/stack?callsite=N
 *              GET /api/traces/{id}/stack?utid=N&ts=NS
 *
 * The first form answers one callsite's stack: {"callsite_id", "frames"},
 * frames innermost first (stackdb_frames), at most STACKDB_MAX_FRAMES. An
 * unknown callsite, or a trace without stack tables, is 404.
 *
 * The second form answers the stacks of the thread span of utid that
 * covers ts (ts <= NS < ts + dur), what the details panel shows beside a
 * Blocked span: "blocked" (its callsite_id), "waker" (its
 * waker_callsite_id) and "holder": the stack of the holder's acquire when
 * it is known, i.e. the holder's latest Blocked span on the same object
 * that ended by the time this wait began and has a stack. Each is
 * {"callsite_id", "frames"} or null. A trace without stack tables answers
 * {"stacks": false} (no stack UI, not an error); no such span is 404.
 * Both forms run on the trace's read-only connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "param.h"
#include "route.h"
#include "stackdb.h"
#include "trace.h"

/* Writes key: {"callsite_id", "frames"} or null when callsite is < 0 or
 * unknown. Returns 0 or -EIO. */
static int json_stack(sqlite3 *db, struct json *j, const char *key, int64_t callsite)
{
	json_key(j, key);
	if (callsite < 0) {
		json_null(j);
		return 0;
	}
	struct json frames;
	json_init(&frames);
	int rc = stackdb_frames(db, callsite, &frames);
	size_t len = 0;
	char *text = rc ? NULL : json_take(&frames, &len);
	json_free(&frames);
	if (rc == -ENOENT || (!rc && !text)) {
		json_null(j);
		return rc == -ENOENT ? 0 : -EIO;
	}
	if (rc)
		return rc;
	json_obj_begin(j);
	json_key(j, "callsite_id");
	json_i64(j, callsite);
	json_key(j, "frames");
	json_raw(j, text, len);
	json_obj_end(j);
	free(text);
	return 0;
}

static int64_t column_or(sqlite3_stmt *stmt, int col, int64_t dflt)
{
	return sqlite3_column_type(stmt, col) == SQLITE_NULL ? dflt
							     : sqlite3_column_int64(stmt, col);
}

/* The three stacks of the span of utid at ts. Returns 0, -ENOENT or -EIO. */
static int span_stacks(sqlite3 *db, int64_t utid, int64_t ts, struct json *j)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(
		db,
		"SELECT s.ts, s.state, s.callsite_id, s.waker_callsite_id, "
		"(SELECT h.callsite_id FROM thread_state h WHERE h.utid = s.holder_utid AND "
		"h.object_id = s.object_id AND h.state = 'Blocked' AND h.callsite_id IS NOT NULL "
		"AND h.ts + h.dur <= s.ts ORDER BY h.ts DESC LIMIT 1) "
		"FROM thread_state s WHERE s.utid = ?1 AND s.ts <= ?2 AND s.ts + s.dur > ?2 "
		"ORDER BY s.ts DESC LIMIT 1",
		-1, &stmt, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(stmt, 1, utid);
	sqlite3_bind_int64(stmt, 2, ts);
	int step = sqlite3_step(stmt);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? -ENOENT : -EIO;
		goto out;
	}
	json_obj_begin(j);
	json_key(j, "stacks");
	json_bool(j, true);
	json_key(j, "utid");
	json_i64(j, utid);
	json_key(j, "ts");
	json_i64(j, sqlite3_column_int64(stmt, 0));
	json_key(j, "state");
	const unsigned char *state = sqlite3_column_text(stmt, 1);
	state ? json_str(j, (const char *)state) : json_null(j);
	rc = json_stack(db, j, "blocked", column_or(stmt, 2, -1));
	if (!rc)
		rc = json_stack(db, j, "waker", column_or(stmt, 3, -1));
	if (!rc)
		rc = json_stack(db, j, "holder", column_or(stmt, 4, -1));
	json_obj_end(j);
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Parses the form of the request: *callsite >= 0, or *utid and *ts. */
static int parse(struct request *req, int64_t *callsite, int64_t *utid, int64_t *ts, char *err,
		 size_t errlen)
{
	const char *cs = req_arg(req, "callsite");
	if (cs && (req_arg(req, "utid") || req_arg(req, "ts"))) {
		snprintf(err, errlen, "give either callsite or utid and ts");
		return -EINVAL;
	}
	if (cs) {
		if (param_i64(cs, callsite) || *callsite < 0) {
			snprintf(err, errlen, "callsite must be a non-negative integer");
			return -EINVAL;
		}
		return 0;
	}
	*callsite = -1;
	if (!req_arg(req, "utid") && !req_arg(req, "ts")) {
		snprintf(err, errlen, "give callsite, or utid and ts");
		return -EINVAL;
	}
	if (param_required_i64("utid", req_arg(req, "utid"), utid, err, errlen) ||
	    param_required_i64("ts", req_arg(req, "ts"), ts, err, errlen))
		return -EINVAL;
	return 0;
}

enum MHD_Result route_stack(struct request *req)
{
	int64_t callsite = -1, utid = 0, ts = 0;
	char err[128];
	if (parse(req, &callsite, &utid, &ts, err, sizeof err))
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	sqlite3 *db = trace_acquire(req->trace);
	if (!db)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	struct json j;
	json_init(&j);
	int rc = 0;
	int have = stackdb_available(db);
	if (!have && callsite >= 0) {
		rc = -ENOENT;
	} else if (!have) {
		json_obj_begin(&j);
		json_key(&j, "stacks");
		json_bool(&j, false);
		json_obj_end(&j);
	} else if (callsite >= 0) {
		json_obj_begin(&j);
		json_key(&j, "callsite_id");
		json_i64(&j, callsite);
		json_key(&j, "frames");
		rc = stackdb_frames(db, callsite, &j);
		json_obj_end(&j);
	} else {
		rc = span_stacks(db, utid, ts, &j);
	}
	trace_release(req->trace, db);
	if (rc) {
		json_free(&j);
		if (rc == -ENOENT && callsite >= 0)
			return reply_error(req, MHD_HTTP_NOT_FOUND,
					   have ? "no callsite %lld" : "the trace has no stacks",
					   (long long)callsite);
		if (rc == -ENOENT)
			return reply_error(req, MHD_HTTP_NOT_FOUND, "no span of utid %lld at %lld",
					   (long long)utid, (long long)ts);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the stacks");
	}
	return reply_json(req, MHD_HTTP_OK, &j);
}
