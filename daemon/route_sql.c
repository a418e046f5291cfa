/*
 * route_sql: the SQL console. POST {"sql": "...", "limit": N} or
 * GET ?q=...&limit=N, run under sqlguard by the SQL pool (sqlpool.h)
 * while the connection waits suspended; this handler runs twice: once to
 * submit the job, once (resumed) to send its answer. Refusals and SQLite
 * errors: 422 with SQLite's message; the budget spent: 422 "query
 * interrupted after N ms"; the pool's queue full: 503.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "route.h"
#include "sqlguard.h"
#include "sqlpool.h"
#include "trace.h"

/* The SQL and the row limit of the request: 0, or -EINVAL/-ENOMEM with
 * the message in err. *sql is malloc'd. */
static int read_request(struct request *req, char **sql, int64_t *limit, char *err, size_t errlen)
{
	*limit = SQLGUARD_LIMIT_DEFAULT;
	if (strcmp(req->method, MHD_HTTP_METHOD_POST) == 0) {
		int rc = param_sql_body(req->body ? req->body : "", req->body_len, sql, limit, err,
					errlen);
		if (rc < 0)
			return rc;
		if (*limit < 1 || *limit > SQLGUARD_LIMIT_MAX) {
			free(*sql);
			snprintf(err, errlen, "limit must be between 1 and %d", SQLGUARD_LIMIT_MAX);
			return -EINVAL;
		}
		return 0;
	}
	const char *q = req_arg(req, "q");
	if (!q) {
		snprintf(err, errlen, "q is required");
		return -EINVAL;
	}
	if (param_limit(req_arg(req, "limit"), SQLGUARD_LIMIT_DEFAULT, SQLGUARD_LIMIT_MAX, limit,
			err, errlen) < 0)
		return -EINVAL;
	if (!(*sql = strdup(q))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The second call: the job's answer. */
static enum MHD_Result send_answer(struct request *req, struct sqlpool_job *job)
{
	char err[512], *text = NULL;
	size_t len = 0;
	int rc = sqlpool_job_result(job, &text, &len, err, sizeof(err));
	if (rc == 0)
		return reply_buffer(req, MHD_HTTP_OK, "application/json", text, len);
	return reply_error(
	    req, rc == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_UNPROCESSABLE_CONTENT,
	    "%s", err);
}

enum MHD_Result route_sql(struct request *req)
{
	if (req->keep->state)
		return send_answer(req, req->keep->state);
	char err[512];
	char *sql = NULL;
	int64_t limit;
	int rc = read_request(req, &sql, &limit, err, sizeof(err));
	if (rc < 0)
		return reply_error(
		    req, rc == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST,
		    "%s", err);
	struct sqlpool_job *job;
	rc = sqlpool_submit(req->server->sql, req->conn, req->trace, sql, limit,
			    req->server->sql_budget_ms, &job);
	free(sql);
	if (rc < 0) {
		if (rc == -EBUSY)
			return reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "the SQL console is busy (%d queries wait); try again",
					   SQLPOOL_QUEUE_MAX);
		return reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "%s",
				   rc == -ENOMEM ? "out of memory" : "weftd is stopping");
	}
	req->keep->state = job;
	req->keep->release = sqlpool_job_release;
	MHD_suspend_connection(req->conn);
	sqlpool_job_start(job);
	return MHD_YES;
}
