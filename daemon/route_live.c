/*
 * route_live: the two event streams (see live.h): one trace's updates,
 * and changes to the list of traces.
 */
#include "live.h"
#include "route.h"

static enum MHD_Result stream(struct request *req, struct trace *t)
{
	struct MHD_Response *resp = live_response(req->server->live, req->conn, t);
	if (!resp)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return reply_response(req, MHD_HTTP_OK, resp, "text/event-stream");
}

enum MHD_Result route_live(struct request *req)
{
	return stream(req, req->trace);
}

enum MHD_Result route_events(struct request *req)
{
	return stream(req, NULL);
}
