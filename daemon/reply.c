/*
 * reply: how a handler answers (see route.h): the query parameters it
 * reads and the responses it queues, each with the headers every weftd
 * response carries (reply_response). The route table (routes.c) and the
 * HTTP glue (server.c) both sit on top of this file; it calls neither.
 */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "route.h"

const char *req_arg(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

enum MHD_Result reply_response(struct request *req, unsigned status, struct MHD_Response *resp,
			       const char *mime)
{
	if (!resp)
		return MHD_NO;
	if (mime)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	/* The dashboard is files of its own origin only: no inline script,
	 * no framing by another page, no referrer leaving with a link. */
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	char cookie[160];
	if (req->set_cookie && gate_set_cookie(req->server->gate, cookie, sizeof(cookie)) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (strncmp(req->path, "/api/", 5) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result rc = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result reply_bytes(struct request *req, unsigned status, const char *mime,
			    const void *data, size_t len, int persistent)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, (void *)data, persistent ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
	return reply_response(req, status, resp, mime);
}

enum MHD_Result reply_buffer(struct request *req, unsigned status, const char *mime, void *data,
			     size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer_with_free_callback(len, data, free);
	if (!resp)
		free(data);
	return reply_response(req, status, resp, mime);
}

enum MHD_Result reply_json(struct request *req, unsigned status, struct json *j)
{
	size_t len;
	char *text = json_take(j, &len);
	if (!text)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return reply_buffer(req, status, "application/json", text, len);
}

enum MHD_Result reply_error(struct request *req, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "error");
	json_str(&j, msg);
	json_obj_end(&j);
	size_t len;
	char *text = json_take(&j, &len);
	if (!text)
		return reply_bytes(req, status, "application/json", "{\"error\":\"out of memory\"}",
				   25, 1);
	return reply_buffer(req, status, "application/json", text, len);
}
