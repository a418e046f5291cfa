/*
 * routes: the route table and the dispatcher (see route.h). The table is
 * scanned in order; the first route whose pattern and method match wins.
 */
#include "route.h"

#include <string.h>

#include "trace.h"

static const struct route routes[] = {
    {.methods = ROUTE_GET, .pattern = "/api/traces", .handle = route_trace_list},
    {.methods = ROUTE_GET, .pattern = "/api/events", .handle = route_events},
    {.methods = ROUTE_GET, .pattern = "/api/diff", .handle = route_diff},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*", .trace = 1, .handle = route_trace_overview},
    {.methods = ROUTE_GET,
     .pattern = "/api/traces/*/timeline",
     .trace = 1,
     .handle = route_timeline},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/span", .trace = 1, .handle = route_span},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/flows", .trace = 1, .handle = route_flows},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/objects", .trace = 1, .handle = route_objects},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/summary", .trace = 1, .handle = route_summary},
    {.methods = ROUTE_GET | ROUTE_POST,
     .pattern = "/api/traces/*/sql",
     .trace = 1,
     .handle = route_sql},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/schema", .trace = 1, .handle = route_schema},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/live", .trace = 1, .handle = route_live},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/export", .trace = 1, .handle = route_export},
    {.methods = ROUTE_GET,
     .pattern = "/api/traces/*/critical_path",
     .trace = 1,
     .handle = route_critpath},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/stack", .trace = 1, .handle = route_stack},
    {.methods = ROUTE_GET, .pattern = "/api/traces/*/flame", .trace = 1, .handle = route_flame},
    /* everything else outside /api/ is the embedded dashboard */
    {.methods = ROUTE_GET | ROUTE_HEAD, .pattern = "/**", .handle = route_static},
};

/* Matches path against pattern; stores the first wildcard segment (copied
 * into seg, at most segsz-1 bytes). The catch-all pattern matches
 * everything outside /api/. */
static int match(const char *pattern, const char *path, char *seg, size_t segsz)
{
	seg[0] = 0;
	if (strcmp(pattern, "/**") == 0)
		return strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0;
	int have_seg = 0;
	while (*pattern && *path) {
		if (*pattern == '*') {
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);
			if (len == 0 || len >= segsz)
				return 0;
			if (!have_seg) {
				memcpy(seg, path, len);
				seg[len] = 0;
				have_seg = 1;
			}
			path += len;
			pattern++;
		} else if (*pattern == *path) {
			pattern++;
			path++;
		} else {
			return 0;
		}
	}
	return *pattern == 0 && *path == 0;
}

static unsigned method_bit(const char *method)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return ROUTE_GET;
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return ROUTE_POST;
	if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return ROUTE_HEAD | ROUTE_GET;
	return 0;
}

enum MHD_Result route_dispatch(struct request *req)
{
	char seg[256];
	unsigned want = method_bit(req->method);
	int path_matched = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		if (!match(r->pattern, req->path, seg, sizeof(seg)))
			continue;
		if (!(r->methods & want)) {
			path_matched = 1;
			continue;
		}
		if (r->trace) {
			req->trace = trace_set_find(req->server->traces, seg);
			if (!req->trace)
				return reply_error(req, MHD_HTTP_NOT_FOUND, "no trace named \"%s\"",
						   seg);
		}
		req->wildcard = seg;
		return r->handle(req);
	}
	if (path_matched)
		return reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed here",
				   req->method);
	return reply_error(req, MHD_HTTP_NOT_FOUND, "no such path");
}
