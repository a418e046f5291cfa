/*
 * route_sql: the SQL console. POST {"sql": "...", "limit": N} or
 * GET ?q=...&limit=N, run under sqlguard on a connection of the request's
 * own. Refusals and SQLite errors: 422 with SQLite's message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "route.h"
#include "sqlguard.h"
#include "trace.h"

enum MHD_Result route_sql(struct request *req)
{
	char err[512];
	char *sql = NULL;
	int64_t limit = SQLGUARD_LIMIT_DEFAULT;
	if (strcmp(req->method, MHD_HTTP_METHOD_POST) == 0) {
		int rc = param_sql_body(req->body ? req->body : "", req->body_len, &sql, &limit,
					err, sizeof(err));
		if (rc < 0)
			return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
		if (limit < 1 || limit > SQLGUARD_LIMIT_MAX) {
			free(sql);
			return reply_error(req, MHD_HTTP_BAD_REQUEST,
					   "limit must be between 1 and %d", SQLGUARD_LIMIT_MAX);
		}
	} else {
		const char *q = req_arg(req, "q");
		if (!q)
			return reply_error(req, MHD_HTTP_BAD_REQUEST, "q is required");
		if (param_limit(req_arg(req, "limit"), SQLGUARD_LIMIT_DEFAULT, SQLGUARD_LIMIT_MAX,
				&limit, err, sizeof(err)) < 0)
			return reply_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
		sql = strdup(q);
		if (!sql)
			return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	sqlite3 *db = trace_acquire(req->trace);
	if (!db) {
		free(sql);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	}
	struct json j;
	json_init(&j);
	int rc = sqlguard_run(db, sql, limit, req->server->sql_budget_ms, &j, err, sizeof(err));
	free(sql);
	trace_release(req->trace, db);
	if (rc < 0) {
		json_free(&j);
		return reply_error(req,
				   rc == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR
						 : MHD_HTTP_UNPROCESSABLE_CONTENT,
				   "%s", err);
	}
	return reply_json(req, MHD_HTTP_OK, &j);
}
