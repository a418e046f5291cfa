/*
 * route: the table of what weftd answers, and what a handler gets.
 *
 * Each endpoint is one const struct route (designated initializers) in the
 * table of routes.c: the methods it takes, its path pattern, and its
 * handler. A pattern is a path whose "*" segments match exactly one
 * non-empty segment; the first "*" of an /api/traces/ route is the trace
 * id, resolved before the handler runs (unknown id: 404). A path that
 * matches some route but not with this method gets 405; no route at all,
 * 404. Handlers run on MHD's worker threads, get everything through the
 * request (never globals), and must queue exactly one response through
 * the reply_* helpers (which return the MHD result to hand back).
 */
#ifndef WEFT_ROUTE_H
#define WEFT_ROUTE_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>

#include "json.h"

struct trace;
struct trace_set;
struct live;
struct gate;
struct sqlpool;

/* What a handler keeps across a suspension of its connection (it is
 * called again once resumed): released when the request ends. */
struct request_keep {
	void *state; /* NULL until the handler keeps something */
	void (*release)(void *state);
};

/* What every handler can reach: owned by main, passed as MHD's cls. */
struct server {
	struct gate *gate; /* who may ask (gate.h) */
	struct trace_set *traces;
	struct live *live;
	struct sqlpool *sql; /* the SQL console's threads */
	int sql_budget_ms;
	atomic_uint http_messages; /* libmicrohttpd's, logged so far (server.c) */
};

struct request {
	struct server *server;
	struct MHD_Connection *conn;
	const char *method, *path;
	struct trace *trace;  /* for /api/traces/{id}/... */
	const char *wildcard; /* the segment matched by "*" in other routes */
	const char *body;     /* NUL-terminated; NULL when none */
	size_t body_len;
	int set_cookie; /* the response sets the access token's cookie */
	struct request_keep *keep;
};

enum route_method { ROUTE_GET = 1, ROUTE_POST = 2, ROUTE_HEAD = 4 };

typedef enum MHD_Result (*route_handler_fn)(struct request *req);

struct route {
	unsigned methods;
	const char *pattern;
	int trace; /* 1: the first "*" names a trace */
	route_handler_fn handle;
};

/* Finds the route for method/path and runs it; queues 404/405 itself.
 * path must be NUL-terminated and already percent-decoded by MHD. */
enum MHD_Result route_dispatch(struct request *req);

/* The value of query parameter name, or NULL. */
const char *req_arg(struct request *req, const char *name);

/* Queue a response; each returns MHD's result. */
enum MHD_Result reply_json(struct request *req, unsigned status, struct json *j);
enum MHD_Result reply_error(struct request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends len bytes of data (copied unless persistent). */
enum MHD_Result reply_bytes(struct request *req, unsigned status, const char *mime,
			    const void *data, size_t len, int persistent);
/* Sends a malloc'd buffer, which the response frees. */
enum MHD_Result reply_buffer(struct request *req, unsigned status, const char *mime, void *data,
			     size_t len);
/* Queues resp with the common headers, and destroys the reference. */
enum MHD_Result reply_response(struct request *req, unsigned status, struct MHD_Response *resp,
			       const char *mime);

/* The handlers (one file each, routes.c lists them). */
enum MHD_Result route_static(struct request *req);
enum MHD_Result route_trace_list(struct request *req);
enum MHD_Result route_trace_overview(struct request *req);
enum MHD_Result route_objects(struct request *req);
enum MHD_Result route_flows(struct request *req);
enum MHD_Result route_span(struct request *req);
enum MHD_Result route_schema(struct request *req);
enum MHD_Result route_timeline(struct request *req);
enum MHD_Result route_summary(struct request *req);
enum MHD_Result route_sql(struct request *req);
enum MHD_Result route_live(struct request *req);
enum MHD_Result route_events(struct request *req);
enum MHD_Result route_export(struct request *req);
enum MHD_Result route_critpath(struct request *req);
/* GET /api/diff?a=ID&b=ID: two runs compared (route_diff.c). */
enum MHD_Result route_diff(struct request *req);
enum MHD_Result route_stack(struct request *req);
enum MHD_Result route_flame(struct request *req);

#endif
