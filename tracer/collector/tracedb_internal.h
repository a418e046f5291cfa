/*
 * tracedb_internal.h — what tracedb.c shares with the other parts of the
 * writer (tracedb_bound.c), not for users of tracedb.h.
 */
#ifndef WEFT_TRACEDB_INTERNAL_H
#define WEFT_TRACEDB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

struct tracedb;

/* The writer's connection (its transaction is open between commits). */
sqlite3 *tracedb_sqlite(struct tracedb *db);
/* Write the rows waiting in the batches now (they take their rowids).
 * 0 or -EIO. */
int tracedb_flush_rows(struct tracedb *db);

/* tracedb_seal.c: make the trace at path, open in sql (no transaction),
 * one file: checkpoint its WAL and leave WAL mode; when another connection
 * (a reader) keeps it in WAL mode, write it whole into a new file renamed
 * over it. waiting(ctx) is called while it waits for that reader. Returns
 * 0, -EIO (no room: the file stays with its -wal, both valid) or -EBUSY
 * (every row is in the file, which stays in WAL mode until the reader
 * closes it). */
int tracedb_seal(sqlite3 *sql, const char *path, void (*waiting)(void *ctx), void *ctx);

#endif
