/*
 * route_export: GET /api/traces/{id}/export?format=chrome-json. The export
 * is written to an anonymous temporary file (memory stays flat whatever
 * the trace's size) which MHD then sends from its descriptor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "export_chrome.h"
#include "route.h"
#include "trace.h"

static int write_file(void *ctx, const char *buf, size_t n)
{
	return fwrite(buf, 1, n, ctx) == n ? 0 : -EIO;
}

enum MHD_Result route_export(struct request *req)
{
	const char *format = req_arg(req, "format");
	if (format && strcmp(format, "chrome-json") != 0)
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "format must be chrome-json");
	FILE *tmp = tmpfile();
	if (!tmp)
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot create a temporary "
				   "file: %s",
				   strerror(errno));
	sqlite3 *db = trace_acquire(req->trace);
	if (!db) {
		fclose(tmp);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the trace");
	}
	int rc = export_chrome_json(db, write_file, tmp);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", rc == -EIO ? sqlite3_errmsg(db) : strerror(-rc));
	trace_release(req->trace, db);
	if (rc < 0 || fflush(tmp) != 0) {
		fclose(tmp);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "export failed: %s", msg);
	}
	long size = ftell(tmp);
	int fd = dup(fileno(tmp));
	fclose(tmp);
	if (fd < 0 || size < 0) {
		if (fd >= 0)
			close(fd);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "export failed");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64((uint64_t)size, fd, 0);
	if (!resp) {
		close(fd);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	char disposition[160];
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.json\"",
		 trace_id(req->trace));
	MHD_add_response_header(resp, "Content-Disposition", disposition);
	return reply_response(req, MHD_HTTP_OK, resp, "application/json");
}
