/*
 * server: see server.h. Per request MHD calls the access handler several
 * times: the first call allocates a struct conn_body (or refuses a
 * Content-Length over the limit with 413 at once), later calls append the
 * body, and the last one (no more upload data) dispatches through the
 * route table. The body is freed when MHD reports the request completed.
 */
#include "server.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn_body {
	char *data;
	size_t len;
	int too_big;
};

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
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct request req = {.server = s, .conn = conn, .method = method, .path = url};
	struct conn_body *body = *con_cls;
	if (!body) {
		body = calloc(1, sizeof(*body));
		if (!body)
			return MHD_NO;
		*con_cls = body;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SERVER_BODY_MAX) {
			body->too_big = 1;
			return reply_error(&req, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body over %d bytes", SERVER_BODY_MAX);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!body->too_big && body->len + *upload_size <= SERVER_BODY_MAX) {
			char *p = realloc(body->data, body->len + *upload_size + 1);
			if (!p)
				return MHD_NO;
			memcpy(p + body->len, upload_data, *upload_size);
			body->data = p;
			body->len += *upload_size;
			p[body->len] = 0;
		} else {
			body->too_big = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (body->too_big)
		return reply_error(&req, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes",
				   SERVER_BODY_MAX);
	req.body = body->data;
	req.body_len = body->len;
	return route_dispatch(&req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct conn_body *body = *con_cls;
	if (body) {
		free(body->data);
		free(body);
		*con_cls = NULL;
	}
}

struct MHD_Daemon *server_start(struct server *s, const struct sockaddr_in *addr, unsigned threads,
				uint16_t *port)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
	if (!d)
		return NULL;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : 0;
	return d;
}
