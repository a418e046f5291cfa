/*
 * tracedb_bound.c — what a bounded recording (collect_bound.c) asks of the
 * trace: its size so far, and dropping its oldest span rows in whole
 * chunks. Span rows are only ever appended, so their rowids grow with the
 * moment they were written: a chunk is a range of rowids, cut by
 * tracedb_chunk_mark, and dropping it is a rowid range delete in each
 * table (the freed pages are reused by the rows that follow, so the file
 * stops growing). Runs on the writer's thread, inside its transaction.
 */
#include <errno.h>
#include <stdio.h>

#include "tracedb.h"
#include "tracedb_internal.h"

static const char *const span_tables[4] = {"thread_state", "process_state", "sched_slice", "flow"};

/* The single integer sql answers, or -1. */
static int64_t one_int(sqlite3 *sql, const char *text)
{
	sqlite3_stmt *stmt = NULL;
	int64_t value = -1;
	if (sqlite3_prepare_v2(sql, text, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

int64_t tracedb_bytes(struct tracedb *db)
{
	sqlite3 *sql = tracedb_sqlite(db);
	int64_t pages = one_int(sql, "PRAGMA page_count");
	int64_t page_size = one_int(sql, "PRAGMA page_size");
	int64_t free_pages = one_int(sql, "PRAGMA freelist_count");
	if (pages < 0 || page_size <= 0 || free_pages < 0)
		return -EIO;
	/* free pages are reused before the file grows */
	return (pages - free_pages) * page_size;
}

int tracedb_chunk_mark(struct tracedb *db, int64_t ts, struct tracedb_chunk *chunk)
{
	char text[96];
	chunk->ts = ts;
	if (tracedb_flush_rows(db)) /* rows batched so far belong before ts */
		return -EIO;
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "SELECT coalesce(max(rowid), 0) FROM %s",
			 span_tables[i]);
		chunk->last_rowid[i] = one_int(tracedb_sqlite(db), text);
		if (chunk->last_rowid[i] < 0)
			return -EIO;
	}
	return 0;
}

int tracedb_chunk_drop(struct tracedb *db, const struct tracedb_chunk *chunk, int64_t *rows)
{
	sqlite3 *sql = tracedb_sqlite(db);
	char text[96];
	*rows = 0;
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "DELETE FROM %s WHERE rowid <= %lld", span_tables[i],
			 (long long)chunk->last_rowid[i]);
		if (sqlite3_exec(sql, text, NULL, NULL, NULL) != SQLITE_OK)
			return -EIO;
		*rows += sqlite3_changes(sql);
	}
	return 0;
}
