/*
 * sqlite_insert - the baseline for the collector's throughput: how many
 * rows per second SQLite itself takes on this machine, with nothing else
 * to do. It writes ROWS rows shaped like weft's thread_state (the same
 * columns, a prepared statement of BATCH rows, default 1; the same pragmas
 * as weft's writer: 16 KiB pages, WAL, synchronous=OFF, 32 MiB cache),
 * committing every 100 ms, into a new file DB, then creates the same index
 * weft creates at the end.
 *
 *   sqlite_insert DB ROWS [BATCH]
 *
 * Prints "rows N seconds S rows_per_s R".
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void must(sqlite3 *db, int rc)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlite_insert: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: sqlite_insert DB ROWS [BATCH]\n");
		return 2;
	}
	long rows = atol(argv[2]);
	int batch = argc == 4 ? atoi(argv[3]) : 1;
	if (batch < 1 || batch > 64 || rows % batch) {
		fprintf(stderr, "sqlite_insert: BATCH must be 1..64 and divide ROWS\n");
		return 2;
	}
	unlink(argv[1]);
	sqlite3 *db;
	must(db, sqlite3_open(argv[1], &db) == SQLITE_OK ? SQLITE_OK : SQLITE_ERROR);
	must(db,
	     sqlite3_exec(db,
			  "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; "
			  "PRAGMA synchronous=OFF; PRAGMA cache_size=-32768; "
			  "CREATE TABLE thread_state (utid INTEGER NOT NULL, ts INTEGER NOT NULL, "
			  "dur INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT, "
			  "object_id INTEGER, cpu INTEGER, waker_utid INTEGER, "
			  "holder_utid INTEGER);",
			  NULL, NULL, NULL));
	char sql[8192] = "INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, "
			 "waker_utid, holder_utid) VALUES ";
	for (int r = 0; r < batch; r++)
		strcat(sql, r ? ",(?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_stmt *insert;
	must(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, NULL));
	static const char *const states[] = {"Running", "Blocked"};
	double start = now_s(), commit = start;
	must(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL));
	for (long i = 0; i < rows; i++) {
		int o = (int)(i % batch) * 9;
		sqlite3_bind_int64(insert, o + 1, 1 + (i & 3));
		sqlite3_bind_int64(insert, o + 2, 1000000000ll + i * 500);
		sqlite3_bind_int64(insert, o + 3, 500);
		sqlite3_bind_text(insert, o + 4, states[i & 1], -1, SQLITE_STATIC);
		if (i & 1) {
			sqlite3_bind_text(insert, o + 5, "mutex", -1, SQLITE_STATIC);
			sqlite3_bind_int64(insert, o + 6, 1 + (i & 7));
		} else {
			sqlite3_bind_null(insert, o + 5);
			sqlite3_bind_null(insert, o + 6);
		}
		sqlite3_bind_null(insert, o + 7);
		sqlite3_bind_null(insert, o + 8);
		sqlite3_bind_null(insert, o + 9);
		if ((i + 1) % batch)
			continue;
		must(db, sqlite3_step(insert));
		sqlite3_reset(insert);
		if ((i & 1023) == 0 && now_s() - commit >= 0.1) {
			must(db, sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL));
			commit = now_s();
		}
	}
	must(db, sqlite3_exec(
		     db, "COMMIT; CREATE INDEX thread_state_utid_ts ON thread_state(utid, ts);",
		     NULL, NULL, NULL));
	sqlite3_finalize(insert);
	sqlite3_close(db);
	double seconds = now_s() - start;
	printf("rows %ld seconds %.3f rows_per_s %.0f\n", rows, seconds, (double)rows / seconds);
	unlink(argv[1]);
	return 0;
}
