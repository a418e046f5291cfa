/*
 * runtimes.h — objects of known language runtimes, named for the trace.
 *
 * A runtime's most contended objects are often locks of its own that the
 * trace would otherwise show by address only. When the process image is
 * one of these runtimes, OBJECT_NAME records (event.h) give them the names
 * a user knows:
 *   CPython 3.11   the GIL's condition variable and mutex (and the pair
 *                  that forces a switch), at fixed offsets inside the
 *                  exported _PyRuntime (the same in Debian's 3.11 build and
 *                  upstream's); other versions keep the GIL elsewhere and
 *                  are left unnamed.
 *   libuv          the thread pool's condition variable and mutex (node's
 *                  worker threads wait there for work), static in
 *                  threadpool.c: found in the .symtab of the object that
 *                  defines uv_version (the node binary keeps one; a
 *                  stripped libuv.so.1 does not, and stays unnamed).
 * Not the hot path: once per process image and once per fork child.
 */
#ifndef WEFT_PRELOAD_RUNTIMES_H
#define WEFT_PRELOAD_RUNTIMES_H

#include <stdint.h>

#include "ring.h"

/* Looks the runtime's objects up (dlsym: the constructor path only, never
 * a fork child) and writes their names into w at ts. */
void runtimes_find(struct ring_writer *w, uint64_t ts);

/* A fork child: the names found by runtimes_find, written again into the
 * child's ring (no lookup). */
void runtimes_rename(struct ring_writer *w, uint64_t ts);

#endif
