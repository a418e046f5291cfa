/*
 * weft/collector.h — the collector's public header: what a program that
 * starts collectors (`weft record --attach`, spawned by weftd's collecting
 * role) may ask about them without knowing their shared-memory format.
 * It lives outside tracer/ so that daemon/ never includes a tracer header;
 * the library behind it is weft_collector (tracer/collector/collector.c).
 */
#ifndef WEFT_COLLECTOR_H
#define WEFT_COLLECTOR_H

#include <stdbool.h>

/* Whether the collector started for the ring file at shm_path has created
 * it completely, so that a traced program can attach to it now. Never
 * modifies the file. */
bool collector_ring_ready(const char *shm_path);

#endif
