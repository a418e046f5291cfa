/*
 * stackdb: see stackdb.h.
 */
#include "stackdb.h"

#include <errno.h>

bool stackdb_available(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	bool ok = false;
	if (sqlite3_prepare_v2(
		db,
		"SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
		"name IN ('stack_module', 'stack_frame', 'stack_callsite')) = 3 AND "
		"(SELECT COUNT(*) FROM pragma_table_info('thread_state') WHERE name "
		"IN ('callsite_id', 'waker_callsite_id')) = 2",
		-1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		ok = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return ok;
}

static void json_text_or_null(struct json *j, sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	if (s)
		json_strn(j, (const char *)s, (size_t)sqlite3_column_bytes(stmt, col));
	else
		json_null(j);
}

static void json_int_or_null(struct json *j, sqlite3_stmt *stmt, int col)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		json_null(j);
	else
		json_i64(j, sqlite3_column_int64(stmt, col));
}

int stackdb_frames(sqlite3 *db, int64_t callsite, struct json *j)
{
	static const char *const cols[] = {"callsite_id", "depth",  "function", "file",
					   "line",	  "module", "build_id", "rel_pc"};
	sqlite3_stmt *stmt = NULL;
	int rc = -EIO, step, rows = 0;
	if (sqlite3_prepare_v2(
		db,
		"WITH RECURSIVE up(cs, level) AS (SELECT ?1, 0 UNION ALL SELECT c.parent_id, "
		"up.level + 1 FROM up JOIN stack_callsite c ON c.callsite_id = up.cs WHERE "
		"c.parent_id IS NOT NULL AND up.level < ?2) "
		"SELECT c.callsite_id, c.depth, f.function, f.file, f.line, m.path, m.build_id, "
		"f.rel_pc FROM up JOIN stack_callsite c ON c.callsite_id = up.cs "
		"JOIN stack_frame f ON f.frame_id = c.frame_id "
		"LEFT JOIN stack_module m ON m.module_id = f.module_id ORDER BY up.level",
		-1, &stmt, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(stmt, 1, callsite);
	sqlite3_bind_int(stmt, 2, STACKDB_MAX_FRAMES - 1);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (rows++ == 0)
			json_arr_begin(j);
		json_obj_begin(j);
		for (int c = 0; c < 8; c++) {
			json_key(j, cols[c]);
			if (c == 2 || c == 3 || c == 5 || c == 6)
				json_text_or_null(j, stmt, c);
			else
				json_int_or_null(j, stmt, c);
		}
		json_obj_end(j);
	}
	if (step != SQLITE_DONE)
		goto out; /* a half-written array: the caller drops the writer */
	if (rows)
		json_arr_end(j);
	rc = rows ? 0 : -ENOENT;
out:
	sqlite3_finalize(stmt);
	return rc;
}
