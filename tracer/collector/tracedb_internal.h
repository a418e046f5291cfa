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

#endif
