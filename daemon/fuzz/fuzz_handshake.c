/*
 * fuzz_handshake: libFuzzer target over the collector socket's request line
 * (handshake_parse) and the trace name made from it (handshake_trace_name).
 *
 * The input is the line as a peer sends it. Checked after every accepted
 * line (abort otherwise, which libFuzzer reports as a crash): the pid is
 * positive, comm is non-empty, at most 15 bytes of [A-Za-z0-9._-] and does
 * not start with '.'; the trace name has no '/', ends in ".db" and fits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handshake_request req;
	int rc = handshake_parse((const char *)data, size, &req);
	if (rc != 0) {
		if (rc != -EINVAL && rc != -EPROTONOSUPPORT)
			abort();
		return 0;
	}
	size_t len = strlen(req.comm);
	if (req.pid <= 0 || len == 0 || len > 15 || req.comm[0] == '.')
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = req.comm[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			abort();
	}
	char name[64];
	int n =
	    handshake_trace_name(&req, (time_t)size * 86400, (int)(size % 5), name, sizeof(name));
	if (n < 0 || strchr(name, '/') || (size_t)n != strlen(name) ||
	    strcmp(name + n - 3, ".db") != 0)
		abort();
	return 0;
}
