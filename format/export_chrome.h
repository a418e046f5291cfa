/*
 * export_chrome: a weft trace as a Chrome trace event JSON file, the
 * format ui.perfetto.dev and chrome://tracing open.
 *
 * What is written ({"traceEvents": [...], "displayTimeUnit": "ns",
 * "metadata": {meta table}}):
 *   - ph "M" process_name / thread_name events naming every process (pid)
 *     and thread (pid, tid) of the trace;
 *   - one ph "X" complete event per thread_state span on its thread's
 *     track, named by the state ("Running", "Blocked", ...), cat "state",
 *     args {"reason", "object" (label), "object_id"} when known;
 *   - one ph "s" / ph "f" pair per flow (same "id", cat "flow", name = the
 *     flow's kind, "bp": "e" on the "f" so it binds to the slice that
 *     starts at the wake-up), args {"bytes"} for pipes and sockets.
 * Timestamps are CLOCK_MONOTONIC microseconds with ns precision
 * (fractional "ts"/"dur"), pids and tids the kernel's.
 *
 * Used by `weft export FILE --format chrome-json` and by weftd's
 * /api/traces/{id}/export, so both give the same bytes.
 */
#ifndef WEFT_EXPORT_CHROME_H
#define WEFT_EXPORT_CHROME_H

#include <sqlite3.h>
#include <stddef.h>

/* Receives the output in pieces; returns 0, or -errno to stop the export
 * (which then returns that value). */
typedef int (*export_write_fn)(void *ctx, const char *buf, size_t n);

/* Writes db (a weft trace, schema v1, opened by the caller, read-only is
 * enough) as Chrome trace JSON through write(ctx, ...). Returns 0, or
 * -errno: -EIO if SQLite failed (sqlite3_errmsg(db) says why), -ENOMEM,
 * or what write returned. After a failure the output is incomplete. */
int export_chrome_json(sqlite3 *db, export_write_fn write, void *ctx);

#endif
