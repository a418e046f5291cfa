/*
 * query: see query.h. Statements are prepared per call (preparing costs
 * microseconds; sharing prepared statements between request threads would
 * need locks). Helper write_row() turns any result row into a JSON object
 * keyed by column name, so the API's objects follow the schema's names.
 */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "file:PATH?immutable=1" with PATH's %, ? and # escaped, into out. */
static int immutable_uri(const char *path, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "file:");
	for (const char *p = path; *p; p++) {
		if (n + 4 >= cap)
			return -ENAMETOOLONG;
		if (*p == '%' || *p == '?' || *p == '#')
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", (unsigned char)*p);
		else
			out[n++] = *p;
	}
	if (n + sizeof("?immutable=1") > cap)
		return -ENAMETOOLONG;
	memcpy(out + n, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

int query_open(const char *path, int immutable, sqlite3 **db)
{
	*db = NULL;
	sqlite3 *h = NULL;
	char uri[3 * 4096 + 32];
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
	if (immutable) {
		int rc = immutable_uri(path, uri, sizeof(uri));
		if (rc < 0)
			return rc;
		path = uri;
		flags |= SQLITE_OPEN_URI;
	}
	int rc = sqlite3_open_v2(path, &h, flags, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(h);
		return rc == SQLITE_CANTOPEN ? -ENOENT : -EIO;
	}
	sqlite3_busy_timeout(h, 2000);
	sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	*db = h;
	return 0;
}

static int each_name(sqlite3 *db, const char *sql, query_name_fn fn, void *ctx);
static int each_name_stmt(sqlite3_stmt *stmt, query_name_fn fn, void *ctx);

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int done(sqlite3_stmt *stmt, int rc)
{
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW || rc == 0 ? 0 : -EIO;
}

/* The end of a loop over rows that hands each to a callback: the
 * callback's nonzero result (it stopped the loop), else done(). */
static int done_rows(sqlite3_stmt *stmt, int rc, int cb)
{
	if (cb) {
		sqlite3_finalize(stmt);
		return cb;
	}
	return done(stmt, rc);
}

static void write_column(struct json *j, sqlite3_stmt *stmt, int c)
{
	switch (sqlite3_column_type(stmt, c)) {
	case SQLITE_INTEGER:
		json_i64(j, sqlite3_column_int64(stmt, c));
		break;
	case SQLITE_FLOAT:
		json_double(j, sqlite3_column_double(stmt, c));
		break;
	case SQLITE_NULL:
		json_null(j);
		break;
	default:
		json_strn(j, (const char *)sqlite3_column_text(stmt, c),
			  (size_t)sqlite3_column_bytes(stmt, c));
	}
}

/* Writes the current row as an object keyed by column names. */
static void write_row(struct json *j, sqlite3_stmt *stmt)
{
	json_obj_begin(j);
	for (int c = 0; c < sqlite3_column_count(stmt); c++) {
		json_key(j, sqlite3_column_name(stmt, c));
		write_column(j, stmt, c);
	}
	json_obj_end(j);
}

/* Writes every row of sql (bound with up to 3 int64 args) as an array. */
static int write_rows(sqlite3 *db, struct json *j, const char *sql, int nargs, int64_t a, int64_t b,
		      int64_t c)
{
	sqlite3_stmt *stmt;
	if (prep(db, sql, &stmt) < 0)
		return -EIO;
	int64_t args[3] = {a, b, c};
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_int64(stmt, i + 1, args[i]);
	json_arr_begin(j);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		write_row(j, stmt);
	json_arr_end(j);
	return done(stmt, rc);
}

int query_check_trace(sqlite3 *db, int *version)
{
	sqlite3_stmt *stmt;
	*version = 0;
	if (prep(db, "PRAGMA user_version", &stmt) < 0)
		return sqlite3_errcode(db) == SQLITE_NOTADB ? -ENOTSUP : -EIO;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return sqlite3_errcode(db) == SQLITE_NOTADB ? -ENOTSUP : -EIO;
	if (*version > QUERY_SCHEMA_VERSION)
		return 0;
	if (prep(db,
		 "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
		 "('meta', 'process', 'thread', 'thread_state', 'process_state', 'sched_slice', "
		 "'object', 'flow')",
		 &stmt) < 0)
		return sqlite3_errcode(db) == SQLITE_NOTADB ? -ENOTSUP : -EIO;
	rc = sqlite3_step(stmt);
	int tables = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return -EIO;
	return tables == 8 && *version >= 1 ? 0 : -ENOTSUP;
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t fallback)
{
	sqlite3_stmt *stmt;
	int64_t v = fallback;
	if (prep(db, sql, &stmt) < 0)
		return fallback;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int query_status(sqlite3 *db, struct query_status *st)
{
	sqlite3_stmt *stmt;
	memset(st, 0, sizeof(*st));
	int have_start = 0, have_end = 0;
	if (prep(db,
		 "SELECT key, value FROM meta WHERE key IN ('status', 'command', 'start_ts', "
		 "'end_ts', 'start_wall_ns')",
		 &stmt) < 0)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);
		const char *value = (const char *)sqlite3_column_text(stmt, 1);
		if (!key || !value)
			continue;
		if (strcmp(key, "status") == 0)
			snprintf(st->status, sizeof(st->status), "%s", value);
		else if (strcmp(key, "command") == 0)
			snprintf(st->command, sizeof(st->command), "%s", value);
		else if (strcmp(key, "start_ts") == 0)
			st->start_ts = sqlite3_column_int64(stmt, 1), have_start = 1;
		else if (strcmp(key, "end_ts") == 0)
			st->end_ts = sqlite3_column_int64(stmt, 1), have_end = 1;
		else if (strcmp(key, "start_wall_ns") == 0)
			st->start_wall_ns = sqlite3_column_int64(stmt, 1);
	}
	if (done(stmt, rc) < 0)
		return -EIO;
	st->processes = scalar(db, "SELECT count(*) FROM process", 0);
	st->threads = scalar(db, "SELECT count(*) FROM thread", 0);
	if (!have_start)
		st->start_ts = scalar(db, "SELECT min(start_ts) FROM process", 0);
	if (!have_end || strcmp(st->status, "recording") == 0) {
		int64_t latest =
		    scalar(db,
			   "SELECT max(ts + dur) FROM (SELECT ts, dur FROM thread_state "
			   "ORDER BY rowid DESC LIMIT 256)",
			   0);
		int64_t ended = scalar(db, "SELECT max(end_ts) FROM process", 0);
		if (ended > latest)
			latest = ended;
		if (latest > st->end_ts)
			st->end_ts = latest;
	}
	return 0;
}

int query_meta(sqlite3 *db, struct json *j)
{
	sqlite3_stmt *stmt;
	if (prep(db, "SELECT key, value FROM meta ORDER BY key", &stmt) < 0)
		return -EIO;
	json_obj_begin(j);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);
		json_key(j, key ? key : "");
		json_strn(j, (const char *)sqlite3_column_text(stmt, 1),
			  (size_t)sqlite3_column_bytes(stmt, 1));
	}
	json_obj_end(j);
	return done(stmt, rc);
}

int query_overview(sqlite3 *db, struct json *j)
{
	json_key(j, "processes");
	if (write_rows(db, j,
		       "SELECT upid, pid, ppid, parent_upid, name, cmdline, start_ts, end_ts, "
		       "exit_code, exit_signal, traced FROM process ORDER BY upid",
		       0, 0, 0, 0) < 0)
		return -EIO;
	json_key(j, "threads");
	if (write_rows(db, j,
		       "SELECT utid, tid, upid, name, start_ts, end_ts, is_main FROM thread "
		       "ORDER BY utid",
		       0, 0, 0, 0) < 0)
		return -EIO;
	json_key(j, "cpus");
	/* With the (cpu, ts) index, the CPUs one index seek each (DISTINCT
	 * would read the whole index: 0.13 s for 5M slices); without it (a
	 * recording), one scan. */
	sqlite3_stmt *stmt;
	int indexed = scalar(db,
			     "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
			     "name = 'sched_slice_cpu_ts'",
			     0) > 0;
	if (prep(db,
		 indexed ? "WITH RECURSIVE c(cpu) AS (SELECT min(cpu) FROM sched_slice UNION ALL "
			   "SELECT (SELECT min(cpu) FROM sched_slice WHERE cpu > c.cpu) FROM c "
			   "WHERE c.cpu IS NOT NULL) SELECT cpu FROM c WHERE cpu IS NOT NULL"
			 : "SELECT DISTINCT cpu FROM sched_slice ORDER BY cpu",
		 &stmt) < 0)
		return -EIO;
	json_arr_begin(j);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_i64(j, sqlite3_column_int64(stmt, 0));
	json_arr_end(j);
	if (done(stmt, rc) < 0)
		return -EIO;
	json_key(j, "lost");
	json_obj_begin(j);
	json_key(j, "events");
	json_i64(
	    j, scalar(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'events_lost'", 0));
	json_key(j, "threads");
	json_i64(
	    j, scalar(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'threads_lost'", 0));
	json_obj_end(j);
	return 0;
}

int query_load_spans(sqlite3 *db, enum query_track which, int64_t after_rowid, int64_t *last_rowid,
		     query_span_fn fn, void *ctx)
{
	/* The whole table in track order reads the (id, ts) index when there is
	 * one; the rows added since a load (a trace still being recorded,
	 * whose indexes grow with it) are a rowid range, sorted: read through
	 * the index they would cost a scan of every row. */
	static const char *const sql[][2] = {
	    [QUERY_THREAD_STATE] =
		{"SELECT rowid, utid, ts, dur, state, reason, object_id "
		 "FROM thread_state WHERE rowid > ?1 ORDER BY utid, ts",
		 "SELECT rowid, utid, ts, dur, state, reason, object_id "
		 "FROM thread_state NOT INDEXED WHERE rowid > ?1 ORDER BY utid, ts"},
	    [QUERY_PROCESS_STATE] =
		{"SELECT rowid, upid, ts, dur, state, NULL, NULL "
		 "FROM process_state WHERE rowid > ?1 ORDER BY upid, ts",
		 "SELECT rowid, upid, ts, dur, state, NULL, NULL "
		 "FROM process_state NOT INDEXED WHERE rowid > ?1 ORDER BY upid, ts"},
	    [QUERY_SCHED_SLICE] =
		{"SELECT rowid, cpu, ts, dur, end_state, NULL, utid "
		 "FROM sched_slice WHERE rowid > ?1 ORDER BY cpu, ts",
		 "SELECT rowid, cpu, ts, dur, end_state, NULL, utid "
		 "FROM sched_slice NOT INDEXED WHERE rowid > ?1 ORDER BY cpu, ts"},
	};
	sqlite3_stmt *stmt;
	if (prep(db, sql[which][after_rowid > 0], &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, after_rowid);
	int rc, cb = 0;
	*last_rowid = after_rowid;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t rowid = sqlite3_column_int64(stmt, 0);
		if (rowid > *last_rowid)
			*last_rowid = rowid;
		int64_t object = sqlite3_column_type(stmt, 6) == SQLITE_NULL
				     ? -1
				     : sqlite3_column_int64(stmt, 6);
		cb = fn(ctx, sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2),
			sqlite3_column_int64(stmt, 3), (const char *)sqlite3_column_text(stmt, 4),
			(const char *)sqlite3_column_text(stmt, 5), object);
		if (cb)
			break;
	}
	return done_rows(stmt, rc, cb);
}

int query_track_overview(sqlite3 *db, query_overview_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db,
			       "SELECT kind, id, start_ts, end_ts, spans, bucket_ns, first_bucket, "
			       "bucket_count, buckets, long_spans FROM track_overview",
			       -1, &stmt, NULL) != SQLITE_OK) {
		/* the one way preparing this fails on a readable trace */
		return strstr(sqlite3_errmsg(db), "no such table") ? -ENOENT : -EIO;
	}
	int rc, cb = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct query_overview_row row;
		row.kind = (const char *)sqlite3_column_text(stmt, 0);
		row.id = sqlite3_column_int64(stmt, 1);
		row.start_ts = sqlite3_column_int64(stmt, 2);
		row.end_ts = sqlite3_column_int64(stmt, 3);
		row.spans = sqlite3_column_int64(stmt, 4);
		row.bucket_ns = sqlite3_column_int64(stmt, 5);
		row.first_bucket = sqlite3_column_int64(stmt, 6);
		row.bucket_count = sqlite3_column_int64(stmt, 7);
		/* the blob first, then its size (SQLite's order) */
		row.buckets = sqlite3_column_blob(stmt, 8);
		row.buckets_len = (size_t)sqlite3_column_bytes(stmt, 8);
		row.long_spans = sqlite3_column_blob(stmt, 9);
		row.long_spans_len = (size_t)sqlite3_column_bytes(stmt, 9);
		if ((cb = fn(ctx, &row)) != 0)
			break;
	}
	return done_rows(stmt, rc, cb);
}

static int each_flow(sqlite3_stmt *stmt, query_flow_fn fn, void *ctx, int64_t *last_rowid)
{
	int rc, cb = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (last_rowid)
			*last_rowid = sqlite3_column_int64(stmt, 7);
		cb = fn(ctx,
			sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -1
								    : sqlite3_column_int64(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1), sqlite3_column_int64(stmt, 2),
			sqlite3_column_int64(stmt, 3), sqlite3_column_int64(stmt, 4),
			sqlite3_column_int64(stmt, 5), sqlite3_column_int64(stmt, 6));
		if (cb)
			break;
	}
	return done_rows(stmt, rc, cb);
}

int query_load_flows(sqlite3 *db, int64_t after_rowid, int64_t *last_rowid, query_flow_fn fn,
		     void *ctx)
{
	sqlite3_stmt *stmt;
	if (prep(db,
		 "SELECT object_id, kind, ts_out, ts_in, utid_out, utid_in, coalesce(bytes, 0), "
		 "rowid FROM flow WHERE rowid > ?1 ORDER BY rowid",
		 &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, after_rowid);
	*last_rowid = after_rowid;
	return each_flow(stmt, fn, ctx, last_rowid);
}

int query_flows_between(sqlite3 *db, int messages, int64_t start, int64_t end, query_flow_fn fn,
			void *ctx)
{
	sqlite3_stmt *stmt;
	const char *sql =
	    messages ? "SELECT object_id, kind, ts_out, ts_in, utid_out, utid_in, "
		       "coalesce(bytes, 0), rowid FROM flow WHERE ts_out >= ?1 AND ts_out < ?2 "
		       "AND kind IN ('pipe', 'socket') AND object_id IS NOT NULL"
		     : "SELECT object_id, kind, ts_out, ts_in, utid_out, utid_in, "
		       "coalesce(bytes, 0), rowid FROM flow WHERE ts_in >= ?1 AND ts_in < ?2 "
		       "AND kind IN ('unlock', 'post', 'signal', 'barrier') "
		       "AND object_id IS NOT NULL";
	if (prep(db, sql, &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, start);
	sqlite3_bind_int64(stmt, 2, end);
	return each_flow(stmt, fn, ctx, NULL);
}

/* Calls fn for each row (object_id, kind, label) of sql. */
static int each_object(sqlite3 *db, const char *sql, query_object_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	if (prep(db, sql, &stmt) < 0)
		return -EIO;
	int rc, cb = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(stmt, 1);
		const char *label = (const char *)sqlite3_column_text(stmt, 2);
		struct query_object o = {.object_id = sqlite3_column_int64(stmt, 0),
					 .kind = kind ? kind : "",
					 .label = label ? label : ""};
		if ((cb = fn(ctx, &o)) != 0)
			break;
	}
	return done_rows(stmt, rc, cb);
}

int query_each_object(sqlite3 *db, query_object_fn fn, void *ctx)
{
	return each_object(db, "SELECT object_id, kind, label FROM object ORDER BY object_id", fn,
			   ctx);
}

/* Writes the thread utid as {"utid", "tid", "name"} or null. */
static int write_thread_ref(sqlite3 *db, struct json *j, sqlite3_stmt *row, int col)
{
	if (sqlite3_column_type(row, col) == SQLITE_NULL) {
		json_null(j);
		return 0;
	}
	sqlite3_stmt *stmt;
	if (prep(db, "SELECT utid, tid, name FROM thread WHERE utid = ?1", &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, sqlite3_column_int64(row, col));
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		write_row(j, stmt);
	else
		json_null(j);
	return done(stmt, rc);
}

int query_span(sqlite3 *db, int64_t utid, int64_t ts, struct json *j)
{
	sqlite3_stmt *span;
	if (prep(db,
		 "SELECT utid, ts, dur, state, reason, object_id, waker_utid, holder_utid "
		 "FROM thread_state WHERE utid = ?1 AND ts <= ?2 ORDER BY ts DESC LIMIT 1",
		 &span) < 0)
		return -EIO;
	sqlite3_bind_int64(span, 1, utid);
	sqlite3_bind_int64(span, 2, ts);
	int rc = sqlite3_step(span);
	if (rc != SQLITE_ROW) {
		done(span, rc);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	int64_t span_ts = sqlite3_column_int64(span, 1), dur = sqlite3_column_int64(span, 2);
	if (ts >= span_ts + dur && !(dur == 0 && ts == span_ts)) {
		sqlite3_finalize(span);
		return -ENOENT;
	}
	json_obj_begin(j);
	for (int c = 0; c < 5; c++) {
		json_key(j, sqlite3_column_name(span, c));
		write_column(j, span, c);
	}
	json_key(j, "object");
	if (sqlite3_column_type(span, 5) == SQLITE_NULL) {
		json_null(j);
	} else {
		sqlite3_stmt *obj;
		if (prep(db,
			 "SELECT object_id, kind, label, address, upid FROM object "
			 "WHERE object_id = ?1",
			 &obj) < 0)
			goto fail;
		sqlite3_bind_int64(obj, 1, sqlite3_column_int64(span, 5));
		rc = sqlite3_step(obj);
		if (rc == SQLITE_ROW)
			write_row(j, obj);
		else
			json_null(j);
		if (done(obj, rc) < 0)
			goto fail;
	}
	json_key(j, "holder");
	if (write_thread_ref(db, j, span, 7) < 0)
		goto fail;
	json_key(j, "waker");
	if (write_thread_ref(db, j, span, 6) < 0)
		goto fail;
	json_key(j, "flows");
	if (write_rows(db, j,
		       "SELECT ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes FROM flow "
		       "WHERE utid_in = ?1 AND ts_in >= ?2 AND ts_in <= ?3 "
		       "UNION "
		       "SELECT ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes FROM flow "
		       "WHERE utid_out = ?1 AND ts_out >= ?2 AND ts_out <= ?3 "
		       "ORDER BY ts_out",
		       3, utid, span_ts, span_ts + dur) < 0)
		goto fail;
	json_obj_end(j);
	sqlite3_finalize(span);
	return 0;
fail:
	sqlite3_finalize(span);
	return -EIO;
}

static int in_set(const int64_t *ids, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == v)
			return 1;
	return 0;
}

int query_flows(sqlite3 *db, int64_t start, int64_t end, const int64_t *utids, size_t nutids,
		int64_t limit, struct json *j)
{
	sqlite3_stmt *stmt;
	/* The flows arriving inside the window that left at most one window
	 * width before it, then those leaving inside it: two ranges of the
	 * flow_ts_out index, each cut at the limit inside SQLite (utids are
	 * matched there too), so a window over millions of flows reads a few
	 * thousand rows. An edge that left earlier than that is off the
	 * screen by more than its width and is not listed. */
	if (prep(db,
		 "SELECT ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes FROM ("
		 "SELECT * FROM (SELECT 0 AS part, * FROM flow WHERE ts_out >= ?1 - (?2 - ?1) "
		 "AND ts_out < ?1 AND ts_in >= ?1 AND ts_in < ?2 AND (?4 IS NULL "
		 "OR utid_out IN (SELECT value FROM json_each(?4)) "
		 "OR utid_in IN (SELECT value FROM json_each(?4))) ORDER BY ts_out LIMIT ?3) "
		 "UNION ALL "
		 "SELECT * FROM (SELECT 1 AS part, * FROM flow WHERE ts_out >= ?1 AND ts_out < ?2 "
		 "AND (?4 IS NULL OR utid_out IN (SELECT value FROM json_each(?4)) "
		 "OR utid_in IN (SELECT value FROM json_each(?4))) ORDER BY ts_out LIMIT ?3)) "
		 "ORDER BY part, ts_out",
		 &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, start);
	sqlite3_bind_int64(stmt, 2, end);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (nutids) { /* a JSON array for json_each */
		size_t size = nutids * 22 + 2, used = 0;
		char *list = malloc(size);
		if (!list) {
			sqlite3_finalize(stmt);
			return -ENOMEM;
		}
		list[used++] = '[';
		for (size_t i = 0; i < nutids; i++)
			used += (size_t)snprintf(list + used, size - used, "%s%lld", i ? "," : "",
						 (long long)utids[i]);
		list[used++] = ']';
		sqlite3_bind_text(stmt, 4, list, (int)used, free);
	}
	json_obj_begin(j);
	json_key(j, "flows");
	json_arr_begin(j);
	int64_t n = 0;
	int truncated = 0, rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (nutids && !in_set(utids, nutids, sqlite3_column_int64(stmt, 1)) &&
		    !in_set(utids, nutids, sqlite3_column_int64(stmt, 3)))
			continue;
		if (n == limit) {
			truncated = 1;
			break;
		}
		write_row(j, stmt);
		n++;
	}
	json_arr_end(j);
	json_key(j, "truncated");
	json_bool(j, truncated);
	json_obj_end(j);
	return done(stmt, rc);
}

int query_objects(sqlite3 *db, struct json *j)
{
	json_obj_begin(j);
	json_key(j, "objects");
	int rc = write_rows(db, j,
			    "SELECT object_id, kind, upid, address, label FROM object "
			    "ORDER BY object_id",
			    0, 0, 0, 0);
	json_obj_end(j);
	return rc;
}

static int each_name(sqlite3 *db, const char *sql, query_name_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	if (prep(db, sql, &stmt) < 0)
		return -EIO;
	return each_name_stmt(stmt, fn, ctx);
}

/* Calls fn for each row (id, parent or NULL, text) of the prepared stmt,
 * then finalizes it. Returns 0, fn's first nonzero answer, or -EIO. */
static int each_name_stmt(sqlite3_stmt *stmt, query_name_fn fn, void *ctx)
{
	int rc, cb = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t parent = sqlite3_column_type(stmt, 1) == SQLITE_NULL
				     ? -1
				     : sqlite3_column_int64(stmt, 1);
		cb = fn(ctx, sqlite3_column_int64(stmt, 0), parent,
			(const char *)sqlite3_column_text(stmt, 2));
		if (cb)
			break;
	}
	return done_rows(stmt, rc, cb);
}

int query_threads(sqlite3 *db, query_name_fn fn, void *ctx)
{
	return each_name(db, "SELECT utid, upid, name FROM thread ORDER BY utid", fn, ctx);
}

int query_processes(sqlite3 *db, query_name_fn fn, void *ctx)
{
	return each_name(db, "SELECT upid, parent_upid, name FROM process ORDER BY upid", fn, ctx);
}

int query_lock_objects(sqlite3 *db, query_object_fn fn, void *ctx)
{
	return each_object(db,
			   "SELECT object_id, kind, label FROM object "
			   "WHERE kind IN ('mutex', 'rwlock', 'sem', 'cond', 'barrier') "
			   "ORDER BY object_id",
			   fn, ctx);
}

int query_holders(sqlite3 *db, int64_t start, int64_t end, query_holder_fn fn, void *ctx)
{
	sqlite3_stmt *stmt;
	if (prep(db,
		 "SELECT DISTINCT object_id, utid_out FROM flow "
		 "WHERE ts_in >= ?1 AND ts_in < ?2 AND object_id IS NOT NULL "
		 "AND utid_out IS NOT NULL AND kind IN ('unlock', 'post', 'signal', 'barrier') "
		 "ORDER BY object_id, utid_out",
		 &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, start);
	sqlite3_bind_int64(stmt, 2, end);
	int rc, cb = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if ((cb = fn(ctx, sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1))) !=
		    0)
			break;
	return done_rows(stmt, rc, cb);
}

int query_traffic(sqlite3 *db, int64_t start, int64_t end, struct json *j)
{
	sqlite3_stmt *stmt;
	if (prep(db,
		 "SELECT f.object_id, o.label, o.kind, count(*), coalesce(sum(f.bytes), 0), "
		 "group_concat(DISTINCT f.utid_out), "
		 "(SELECT group_concat(DISTINCT utid_in) FROM flow g WHERE g.object_id = "
		 "f.object_id "
		 "AND g.ts_out >= ?1 AND g.ts_out < ?2) "
		 "FROM flow f JOIN object o USING (object_id) "
		 "WHERE f.ts_out >= ?1 AND f.ts_out < ?2 AND f.kind IN ('pipe', 'socket') "
		 "GROUP BY f.object_id ORDER BY 5 DESC, 1 LIMIT 1000",
		 &stmt) < 0)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, start);
	sqlite3_bind_int64(stmt, 2, end);
	json_arr_begin(j);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_obj_begin(j);
		json_key(j, "object_id");
		json_i64(j, sqlite3_column_int64(stmt, 0));
		json_key(j, "label");
		write_column(j, stmt, 1);
		json_key(j, "kind");
		write_column(j, stmt, 2);
		json_key(j, "messages");
		json_i64(j, sqlite3_column_int64(stmt, 3));
		json_key(j, "bytes");
		json_i64(j, sqlite3_column_int64(stmt, 4));
		json_key(j, "writers");
		json_id_csv(j, (const char *)sqlite3_column_text(stmt, 5));
		json_key(j, "readers");
		json_id_csv(j, (const char *)sqlite3_column_text(stmt, 6));
		json_obj_end(j);
	}
	json_arr_end(j);
	return done(stmt, rc);
}

int query_final_waits(sqlite3 *db, struct query_wait **waits, size_t *count)
{
	sqlite3_stmt *stmt;
	*waits = NULL;
	*count = 0;
	if (prep(db,
		 "SELECT s.utid, s.ts, s.dur, s.object_id, s.holder_utid FROM thread t "
		 "JOIN thread_state s ON s.rowid = (SELECT rowid FROM thread_state "
		 "WHERE utid = t.utid ORDER BY ts DESC LIMIT 1) "
		 "WHERE s.state = 'Blocked' AND s.holder_utid IS NOT NULL",
		 &stmt) < 0)
		return -EIO;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*count == cap) {
			cap = cap ? cap * 2 : 16;
			struct query_wait *p = realloc(*waits, cap * sizeof(*p));
			if (!p) {
				sqlite3_finalize(stmt);
				free(*waits);
				*waits = NULL;
				*count = 0;
				return -ENOMEM;
			}
			*waits = p;
		}
		struct query_wait *w = &(*waits)[(*count)++];
		w->utid = sqlite3_column_int64(stmt, 0);
		w->ts = sqlite3_column_int64(stmt, 1);
		w->dur = sqlite3_column_int64(stmt, 2);
		w->object_id = sqlite3_column_type(stmt, 3) == SQLITE_NULL
				   ? -1
				   : sqlite3_column_int64(stmt, 3);
		w->holder_utid = sqlite3_column_int64(stmt, 4);
	}
	return done(stmt, rc);
}

/* 1 if the trace has the deadlock tables and view, 0 if not, -EIO. */
static int has_deadlock_tables(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	if (prep(db,
		 "SELECT count(*) FROM sqlite_schema WHERE (type = 'table' AND name IN "
		 "('deadlock', 'deadlock_member')) OR (type = 'view' AND name = 'deadlocks')",
		 &stmt) < 0)
		return -EIO;
	int rc = sqlite3_step(stmt);
	int n = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	return n < 0 ? -EIO : n == 3;
}

/* Column c of every row of members (reset first) as a JSON array. */
static int write_member_column(struct json *j, sqlite3_stmt *members, int c)
{
	sqlite3_reset(members);
	json_arr_begin(j);
	int rc;
	while ((rc = sqlite3_step(members)) == SQLITE_ROW)
		write_column(j, members, c);
	json_arr_end(j);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int query_deadlocks(sqlite3 *db, int64_t start, int64_t end, struct json *j)
{
	int have = has_deadlock_tables(db);
	if (have <= 0)
		return have < 0 ? have : -ENOENT;
	sqlite3_stmt *found, *members;
	if (prep(db,
		 "SELECT d.deadlock_id, d.ts, d.end_ts, v.cycle FROM deadlock d "
		 "LEFT JOIN deadlocks v USING (deadlock_id) "
		 "WHERE d.ts < ?2 AND (d.end_ts IS NULL OR d.end_ts > ?1) ORDER BY d.deadlock_id",
		 &found) < 0)
		return -EIO;
	if (prep(db,
		 "SELECT m.utid, m.object_id, m.holder_utid, coalesce(t.name, t.tid, m.utid), "
		 "coalesce(o.label, 'object ' || m.object_id) FROM deadlock_member m "
		 "LEFT JOIN thread t ON t.utid = m.utid "
		 "LEFT JOIN object o ON o.object_id = m.object_id "
		 "WHERE m.deadlock_id = ?1 ORDER BY m.position",
		 &members) < 0) {
		sqlite3_finalize(found);
		return -EIO;
	}
	sqlite3_bind_int64(found, 1, start);
	sqlite3_bind_int64(found, 2, end);
	static const char *const keys[] = {"threads", "objects", "holders", "thread_names",
					   "object_labels"};
	json_arr_begin(j);
	int rc, failed = 0;
	while (!failed && (rc = sqlite3_step(found)) == SQLITE_ROW) {
		sqlite3_bind_int64(members, 1, sqlite3_column_int64(found, 0));
		json_obj_begin(j);
		json_key(j, "ts");
		write_column(j, found, 1);
		json_key(j, "end_ts");
		write_column(j, found, 2);
		for (int c = 0; c < 5 && !failed; c++) {
			json_key(j, keys[c]);
			failed = write_member_column(j, members, c) < 0;
		}
		json_key(j, "cycle");
		write_column(j, found, 3);
		json_obj_end(j);
	}
	json_arr_end(j);
	sqlite3_finalize(members);
	if (failed) {
		sqlite3_finalize(found);
		return -EIO;
	}
	return done(found, rc);
}

static const struct {
	const char *title, *sql;
} examples[] = {
    {"Time in each state per thread", "SELECT thread_name, state, reason, total_dur / 1e6 AS ms\n"
				      "FROM thread_state_time ORDER BY utid, total_dur DESC"},
    {"Most contended locks",
     "SELECT label, waits, total_wait / 1e6 AS total_ms, max_wait / 1e6 AS max_ms,\n"
     "       waiting_threads\nFROM lock_contention ORDER BY total_wait DESC LIMIT 20"},
    {"Who held the lock I waited for",
     "SELECT w.name AS waiter, h.name AS holder, o.label, s.dur / 1e6 AS ms\n"
     "FROM thread_state s JOIN thread w ON w.utid = s.utid\n"
     "JOIN thread h ON h.utid = s.holder_utid JOIN object o USING (object_id)\n"
     "ORDER BY s.dur DESC LIMIT 20"},
    {"Message traffic per channel",
     "SELECT label, kind, messages, bytes FROM message_traffic ORDER BY bytes DESC"},
    {"Time in each state per process", "SELECT process_name, pid, state, total_dur / 1e6 AS ms\n"
				       "FROM process_state_time ORDER BY upid, total_dur DESC"},
    {"Longest waits", "SELECT t.name, s.reason, s.ts, s.dur / 1e6 AS ms\n"
		      "FROM thread_state s JOIN thread t USING (utid)\n"
		      "WHERE s.state = 'Blocked' ORDER BY s.dur DESC LIMIT 20"},
    {"Process tree", "SELECT upid, pid, parent_upid, name, cmdline, exit_code, exit_signal\n"
		     "FROM process ORDER BY start_ts"},
    {"What ran on each CPU",
     "SELECT cpu, t.name, count(*) AS slices, sum(dur) / 1e6 AS ms\n"
     "FROM sched_slice JOIN thread t USING (utid) GROUP BY cpu, utid ORDER BY cpu, ms DESC"},
};

int query_schema(sqlite3 *db, struct json *j)
{
	sqlite3_stmt *tables, *cols;
	if (prep(db,
		 "SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table', 'view') "
		 "AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
		 &tables) < 0)
		return -EIO;
	if (prep(db, "SELECT name, type FROM pragma_table_info(?1)", &cols) < 0) {
		sqlite3_finalize(tables);
		return -EIO;
	}
	json_obj_begin(j);
	json_key(j, "tables");
	json_arr_begin(j);
	int rc;
	while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
		json_obj_begin(j);
		json_key(j, "name");
		write_column(j, tables, 0);
		json_key(j, "type");
		write_column(j, tables, 1);
		json_key(j, "columns");
		json_arr_begin(j);
		sqlite3_bind_text(cols, 1, (const char *)sqlite3_column_text(tables, 0), -1,
				  SQLITE_TRANSIENT);
		while (sqlite3_step(cols) == SQLITE_ROW)
			write_row(j, cols);
		sqlite3_reset(cols);
		json_arr_end(j);
		json_key(j, "sql");
		write_column(j, tables, 2);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "examples");
	json_arr_begin(j);
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		json_obj_begin(j);
		json_key(j, "title");
		json_str(j, examples[i].title);
		json_key(j, "sql");
		json_str(j, examples[i].sql);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	sqlite3_finalize(cols);
	return done(tables, rc);
}
