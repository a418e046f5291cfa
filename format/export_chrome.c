/*
 * export_chrome: see export_chrome.h. Output goes through a 64 KiB buffer
 * flushed to the caller's write function; each event is formatted with
 * the json writer into it. Rows are read in rowid order (no sort: the
 * format does not need sorted events, and traces can be large).
 *
 * Stacks (when the trace has schema v1's stack tables): every callsite is
 * an entry of the top-level "stackFrames" dictionary, keyed by its id as a
 * string, {"name": function (else module+0xrel_pc, else 0xrel_pc),
 * "category": the module's path or "[unknown]", "parent": its parent's id};
 * a state span with a callsite carries it as "sf" (the stack it waited
 * at) and its waker's callsite as "esf" (the stack that ended it), as
 * Chrome's trace event format has for complete events.
 */
#include "export_chrome.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FLUSH_AT (64 * 1024)

struct out {
	export_write_fn write;
	void *ctx;
	struct json j;
	int rc;
};

static void flush(struct out *o, int force)
{
	if (o->rc || (!force && o->j.len < FLUSH_AT))
		return;
	if (json_failed(&o->j)) {
		o->rc = -ENOMEM;
		return;
	}
	if (o->j.len) {
		o->rc = o->write(o->ctx, o->j.buf, o->j.len);
		o->j.len = 0;
	}
}

/* Writes ns as microseconds with three decimals (exact). */
static void write_us(struct json *j, int64_t ns)
{
	char tmp[32];
	int neg = ns < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	int n = snprintf(tmp, sizeof(tmp), "%s%llu.%03llu", neg ? "-" : "",
			 (unsigned long long)(u / 1000), (unsigned long long)(u % 1000));
	json_raw(j, tmp, (size_t)n);
}

static int step_rows(struct out *o, sqlite3 *db, const char *sql,
		     void (*row)(struct out *o, sqlite3_stmt *stmt))
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	int rc;
	while (!o->rc && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		row(o, stmt);
		flush(o, 0);
	}
	sqlite3_finalize(stmt);
	if (o->rc)
		return o->rc;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static void text_or_null(struct json *j, sqlite3_stmt *stmt, int col)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		json_null(j);
	else
		json_str(j, (const char *)sqlite3_column_text(stmt, col));
}

/* Part of the begin of every event: {"ph": ph, "pid": .., "tid": .. */
static void event_head(struct json *j, const char *ph, sqlite3_stmt *stmt, int pid_col, int tid_col)
{
	json_obj_begin(j);
	json_key(j, "ph");
	json_str(j, ph);
	json_key(j, "pid");
	json_i64(j, sqlite3_column_int64(stmt, pid_col));
	json_key(j, "tid");
	json_i64(j, sqlite3_column_int64(stmt, tid_col));
}

/* A name metadata event ("process_name" or "thread_name"): pid in column
 * 0, tid in tid_col, the name in name_col. */
static void name_row(struct out *o, sqlite3_stmt *stmt, const char *what, int tid_col, int name_col)
{
	event_head(&o->j, "M", stmt, 0, tid_col);
	json_key(&o->j, "name");
	json_str(&o->j, what);
	json_key(&o->j, "args");
	json_obj_begin(&o->j);
	json_key(&o->j, "name");
	text_or_null(&o->j, stmt, name_col);
	json_obj_end(&o->j);
	json_obj_end(&o->j);
}

static void process_row(struct out *o, sqlite3_stmt *stmt)
{
	name_row(o, stmt, "process_name", 0, 1);
}

static void thread_row(struct out *o, sqlite3_stmt *stmt)
{
	name_row(o, stmt, "thread_name", 1, 2);
}

/* Whether the trace has the stack tables and thread_state's callsite
 * columns. */
static int has_stacks(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int ok = 0;
	if (sqlite3_prepare_v2(
		db,
		"SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
		"name IN ('stack_module', 'stack_frame', 'stack_callsite')) = 3 AND "
		"(SELECT COUNT(*) FROM pragma_table_info('thread_state') WHERE name "
		"IN ('callsite_id', 'waker_callsite_id')) = 2",
		-1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		ok = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return ok;
}

/* callsite_id, parent_id, name, category: one entry of "stackFrames". */
static void frame_row(struct out *o, sqlite3_stmt *stmt)
{
	struct json *j = &o->j;
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(stmt, 0));
	json_key(j, id);
	json_obj_begin(j);
	json_key(j, "name");
	text_or_null(j, stmt, 2);
	json_key(j, "category");
	text_or_null(j, stmt, 3);
	if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
		snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(stmt, 1));
		json_key(j, "parent");
		json_str(j, id);
	}
	json_obj_end(j);
}

/* pid, tid, ts, dur, state, reason, object_id, label, callsite_id,
 * waker_callsite_id */
static void state_row(struct out *o, sqlite3_stmt *stmt)
{
	struct json *j = &o->j;
	event_head(j, "X", stmt, 0, 1);
	json_key(j, "ts");
	write_us(j, sqlite3_column_int64(stmt, 2));
	json_key(j, "dur");
	write_us(j, sqlite3_column_int64(stmt, 3));
	json_key(j, "name");
	text_or_null(j, stmt, 4);
	json_key(j, "cat");
	json_str(j, "state");
	if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
		json_key(j, "sf");
		json_i64(j, sqlite3_column_int64(stmt, 8));
	}
	if (sqlite3_column_type(stmt, 9) != SQLITE_NULL) {
		json_key(j, "esf");
		json_i64(j, sqlite3_column_int64(stmt, 9));
	}
	json_key(j, "args");
	json_obj_begin(j);
	if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
		json_key(j, "reason");
		text_or_null(j, stmt, 5);
	}
	if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
		json_key(j, "object_id");
		json_i64(j, sqlite3_column_int64(stmt, 6));
		json_key(j, "object");
		text_or_null(j, stmt, 7);
	}
	json_obj_end(j);
	json_obj_end(j);
}

/* rowid, pid_out, tid_out, ts_out, pid_in, tid_in, ts_in, kind, bytes */
static void flow_row(struct out *o, sqlite3_stmt *stmt)
{
	struct json *j = &o->j;
	event_head(j, "s", stmt, 1, 2);
	json_key(j, "ts");
	write_us(j, sqlite3_column_int64(stmt, 3));
	json_key(j, "id");
	json_i64(j, sqlite3_column_int64(stmt, 0));
	json_key(j, "name");
	text_or_null(j, stmt, 7);
	json_key(j, "cat");
	json_str(j, "flow");
	if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
		json_key(j, "args");
		json_obj_begin(j);
		json_key(j, "bytes");
		json_i64(j, sqlite3_column_int64(stmt, 8));
		json_obj_end(j);
	}
	json_obj_end(j);
	event_head(j, "f", stmt, 4, 5);
	json_key(j, "ts");
	write_us(j, sqlite3_column_int64(stmt, 6));
	json_key(j, "id");
	json_i64(j, sqlite3_column_int64(stmt, 0));
	json_key(j, "name");
	text_or_null(j, stmt, 7);
	json_key(j, "cat");
	json_str(j, "flow");
	json_key(j, "bp");
	json_str(j, "e");
	json_obj_end(j);
}

static void meta_row(struct out *o, sqlite3_stmt *stmt)
{
	json_key(&o->j, (const char *)sqlite3_column_text(stmt, 0));
	text_or_null(&o->j, stmt, 1);
}

int export_chrome_json(sqlite3 *db, export_write_fn write, void *ctx)
{
	struct out o = {.write = write, .ctx = ctx};
	json_init(&o.j);
	int rc = 0;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one snapshot */
	int stacks = has_stacks(db);
	json_obj_begin(&o.j);
	json_key(&o.j, "traceEvents");
	json_arr_begin(&o.j);
	if (!rc)
		rc = step_rows(&o, db, "SELECT pid, name FROM process ORDER BY upid", process_row);
	if (!rc)
		rc = step_rows(&o, db,
			       "SELECT p.pid, t.tid, t.name FROM thread t "
			       "JOIN process p ON p.upid = t.upid ORDER BY t.utid",
			       thread_row);
	if (!rc)
		rc = step_rows(&o, db,
			       stacks ? "SELECT p.pid, t.tid, s.ts, s.dur, s.state, s.reason, "
					"s.object_id, o.label, s.callsite_id, s.waker_callsite_id "
					"FROM thread_state s JOIN thread t ON t.utid = s.utid "
					"JOIN process p ON p.upid = t.upid "
					"LEFT JOIN object o ON o.object_id = s.object_id"
				      : "SELECT p.pid, t.tid, s.ts, s.dur, s.state, s.reason, "
					"s.object_id, o.label, NULL, NULL "
					"FROM thread_state s JOIN thread t ON t.utid = s.utid "
					"JOIN process p ON p.upid = t.upid "
					"LEFT JOIN object o ON o.object_id = s.object_id",
			       state_row);
	if (!rc)
		rc = step_rows(&o, db,
			       "SELECT f.rowid, po.pid, tout.tid, f.ts_out, pi.pid, tin.tid, "
			       "f.ts_in, f.kind, f.bytes FROM flow f "
			       "JOIN thread tout ON tout.utid = f.utid_out "
			       "JOIN process po ON po.upid = tout.upid "
			       "JOIN thread tin ON tin.utid = f.utid_in "
			       "JOIN process pi ON pi.upid = tin.upid",
			       flow_row);
	json_arr_end(&o.j);
	if (!rc && stacks) {
		json_key(&o.j, "stackFrames");
		json_obj_begin(&o.j);
		rc = step_rows(&o, db,
			       "SELECT c.callsite_id, c.parent_id, COALESCE(f.function, "
			       "replace(m.path, rtrim(m.path, replace(m.path, '/', '')), '') || "
			       "printf('+0x%llx', f.rel_pc), printf('0x%llx', f.rel_pc)), "
			       "COALESCE(m.path, '[unknown]') FROM stack_callsite c "
			       "JOIN stack_frame f ON f.frame_id = c.frame_id "
			       "LEFT JOIN stack_module m ON m.module_id = f.module_id",
			       frame_row);
		json_obj_end(&o.j);
	}
	json_key(&o.j, "displayTimeUnit");
	json_str(&o.j, "ns");
	json_key(&o.j, "metadata");
	json_obj_begin(&o.j);
	if (!rc)
		rc = step_rows(&o, db,
			       "SELECT key, value FROM meta WHERE key IS NOT NULL ORDER BY key",
			       meta_row);
	json_obj_end(&o.j);
	json_obj_end(&o.j);
	if (!rc) {
		flush(&o, 1);
		rc = o.rc;
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	json_free(&o.j);
	return rc;
}
