/*
 * route_static: the embedded dashboard. "/" is index.html, "/NAME" the
 * asset NAME; the lookup is in the compiled-in table only (no file system
 * access, so no path can escape). Until web/index.html exists, "/" says
 * that the dashboard is not built.
 */
#include <string.h>

#include "route.h"
#include "web_asset.h"

static const char placeholder[] =
    "<!doctype html>\n<meta charset=\"utf-8\">\n<title>weftd</title>\n"
    "<h1>weftd</h1>\n<p>The dashboard is not built into this weftd (web/index.html was "
    "missing at build time). The API is served under <a href=\"/api/traces\">/api/</a>.</p>\n";

enum MHD_Result route_static(struct request *req)
{
	const char *name = req->path[0] == '/' ? req->path + 1 : req->path;
	if (!*name)
		name = "index.html";
	for (size_t i = 0; i < web_asset_count; i++)
		if (strcmp(web_assets[i].name, name) == 0)
			return reply_bytes(req, MHD_HTTP_OK, web_assets[i].mime, web_assets[i].data,
					   web_assets[i].size, 1);
	if (strcmp(name, "index.html") == 0)
		return reply_bytes(req, MHD_HTTP_OK, "text/html; charset=utf-8", placeholder,
				   sizeof(placeholder) - 1, 1);
	return reply_error(req, MHD_HTTP_NOT_FOUND, "no such path");
}
