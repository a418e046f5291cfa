/*
 * schema.h — the SQL of the trace's schema (schema/*.sql), embedded at
 * build time (cmake/embed_text.cmake), for the programs that create
 * traces: the recorder, and tests and benchmarks that make their own.
 * NUL-terminated; run each with sqlite3_exec.
 */
#ifndef WEFT_SCHEMA_H
#define WEFT_SCHEMA_H

/* schema/001_schema.sql: every table and view of schema version 1. */
extern const char weft_embed__001_schema_sql[];
/* schema/001_indexes.sql: the indexes, created when a recording ends. */
extern const char weft_embed__001_indexes_sql[];

#endif
