/*
 * sqlguard: runs user-supplied SQL against a trace without letting it write,
 * escape or run forever.
 *
 * Layers, each sufficient for writes on its own:
 *   1. the connection is opened SQLITE_OPEN_READONLY by the caller;
 *   2. an authorizer allows only reading: SELECT, READ, recursive CTEs,
 *      functions other than load_extension/readfile/writefile/edit/
 *      fts3_tokenizer, and a few introspection pragmas (table_info and
 *      friends); it denies ATTACH, DETACH, every write, DDL, transactions,
 *      and every other pragma;
 *   3. exactly one statement: anything but whitespace or comments after the
 *      first statement is refused;
 *   4. a progress handler interrupts the query after its time budget (the
 *      caller may also sqlite3_interrupt it from another thread: see
 *      sqlpool.h);
 *   5. no value longer than SQLGUARD_VALUE_MAX bytes (zeroblob(1e9),
 *      printf('%.*c', ...), group_concat: "string or blob too big") and no
 *      LIKE/GLOB pattern over SQLGUARD_PATTERN_MAX;
 *   6. at most `limit` rows and about SQLGUARD_RESULT_MAX bytes of JSON are
 *      answered; "truncated" and "note" say where it stopped.
 * SQLite's own heap is capped for the whole process by weftd
 * (sqlite3_hard_heap_limit64, WEFTD_SQLITE_HEAP_MAX): a query that needs
 * more fails with "out of memory" instead of growing weftd.
 * The authorizer and progress handler are installed on the connection for
 * the duration of one call and removed before it returns, so the same
 * connection can then serve the daemon's own queries. One connection must
 * not run two guarded queries at once (the daemon gives each request its
 * own connection).
 */
#ifndef WEFT_SQLGUARD_H
#define WEFT_SQLGUARD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define SQLGUARD_BUDGET_MS 5000
#define SQLGUARD_LIMIT_DEFAULT 1000
#define SQLGUARD_LIMIT_MAX 100000
#define SQLGUARD_VALUE_MAX (1 << 20)
#define SQLGUARD_PATTERN_MAX 1000
#define SQLGUARD_RESULT_MAX (16 << 20)

/* Runs sql under the guard with a budget of budget_ms and writes the
 * result object {"columns", "rows", "row_count", "truncated", "note"
 * (present when truncated: "result truncated at N rows" or "... at N
 * bytes"), "elapsed_ms"} to out. Returns 0, or -EPERM/-EINVAL (refused), -EINTR
 * (budget exceeded: "query interrupted after N ms"), -EIO (SQLite error)
 * with the message in err; out then holds nothing useful. */
int sqlguard_run(sqlite3 *db, const char *sql, int64_t limit, int budget_ms, struct json *out,
		 char *err, size_t errlen);

#endif
