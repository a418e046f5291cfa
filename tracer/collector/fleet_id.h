/*
 * fleet_id.h — the identity that lets traces from many hosts be loaded
 * into one store and lined up in time (see fleet_id.c for the meta keys).
 */
#ifndef WEFT_FLEET_ID_H
#define WEFT_FLEET_ID_H

#include <stddef.h>
#include <stdint.h>

struct tracedb;

/* Write trace_id, user, uid and the wall-clock anchor (start_wall_ns,
 * beside start_ts, a CLOCK_MONOTONIC time in ns) into db's meta. Returns 0
 * or the first tracedb_meta error (-errno); a row that failed is absent. */
int fleet_id_write(struct tracedb *db, int64_t start_ts);

/* A new trace id into buf: "<host>-<16 hex digits>", the digits from
 * getrandom (the host name cut to 64 bytes). Returns 0, or -errno when no
 * random bytes could be read (buf then holds ""). */
int fleet_id_make(const char *host, char *buf, size_t len);

#endif
