/*
 * handshake: the one-line protocol between a preloaded program and weftd's
 * collector socket (collectd.h), as pure functions (no I/O) so that it can
 * be tested and fuzzed on its own.
 *
 *   program -> weftd   "weft 1 <pid> <comm>\n"
 *   weftd -> program   "ok <ring file path>\n"  |  "error <reason>\n"
 *
 * "weft" and the protocol version 1 come first; <pid> is the decimal
 * process id as the program sees it (informational: weftd follows the pid
 * the kernel reports for the peer, SO_PEERCRED); <comm> is the rest of the
 * line, the program's name as /proc/PID/comm has it (may hold spaces, at
 * most 15 bytes kept). A request line is at most HANDSHAKE_LINE_MAX bytes
 * including the newline; nothing follows it.
 */
#ifndef WEFT_HANDSHAKE_H
#define WEFT_HANDSHAKE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define HANDSHAKE_LINE_MAX 128
#define HANDSHAKE_VERSION 1

struct handshake_request {
	int version;
	pid_t pid;
	/* sanitised for a file name: [A-Za-z0-9._-] only, never empty, never
	 * starting with '.' */
	char comm[16];
};

/* Parses one request line (len bytes, with or without its '\n'). Returns 0
 * and fills req, -EPROTONOSUPPORT for a well-formed line of another
 * version, -EINVAL for anything else (req then undefined). */
int handshake_parse(const char *line, size_t len, struct handshake_request *req);

/* The trace file name for a program run: "<comm>-<pid>-<YYYYmmdd-HHMMSS>.db"
 * (UTC), or with "-<n>" before ".db" when n > 1 (to step past a name that
 * is taken). Returns the length, or -ENAMETOOLONG when it does not fit in
 * cap (out then holds an empty string if cap > 0). */
int handshake_trace_name(const struct handshake_request *req, time_t when, int n, char *out,
			 size_t cap);

#endif
