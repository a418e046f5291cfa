/*
 * test_collect_util.h — helpers shared by the collector tests: reading a
 * trace back with SQL, temp paths, and writing records into a ring the way
 * libweft.so does.
 */
#ifndef WEFT_TEST_COLLECT_UTIL_H
#define WEFT_TEST_COLLECT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event.h"
#include "ring.h"

/* A fresh path in $TMPDIR (or /tmp) for a trace; nothing exists there. */
static inline void temp_db_path(char *out, size_t cap, const char *name)
{
	const char *dir = getenv("TMPDIR");
	snprintf(out, cap, "%s/weft-test-%s-%d.db", dir && *dir ? dir : "/tmp", name,
		 (int)getpid());
	char side[600];
	unlink(out);
	snprintf(side, sizeof side, "%s-wal", out);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", out);
	unlink(side);
}

static inline void remove_db(const char *path)
{
	char side[600];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* The first column of the first row of sql on the trace at path, as an
 * integer; -999 when there is no row, -998 for NULL. Fails the test on an
 * SQL error. */
static inline long long sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	long long value = -999;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "sql error: %s in %s\n", sqlite3_errmsg(db), sql);
		abort();
	}
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -998
								    : sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

/* Same, as text copied into out ("" when no row or NULL). */
static inline const char *sql_text(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	out[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "sql error: %s in %s\n", sqlite3_errmsg(db), sql);
		abort();
	}
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out;
}

/* Append one record as the preload library would. */
static inline int put(struct ring_writer *writer, unsigned type, unsigned reason, unsigned call,
		      uint64_t ts, uint64_t a, uint64_t b, const void *payload, uint32_t len)
{
	struct weft_event event = {.type = (uint16_t)type,
				   .reason = (uint8_t)reason,
				   .call = (uint8_t)call,
				   .ts = ts,
				   .a = a,
				   .b = b};
	return ring_write(writer, &event, payload, len);
}

#endif
