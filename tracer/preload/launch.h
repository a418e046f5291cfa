/*
 * launch.h — starting a collector for a process that found none.
 *
 * When WEFT_SHM is unset but WEFT_OUT names a trace file, the first traced
 * process runs `weft record --attach <pid> --shm <path> -o <WEFT_OUT>`
 * detached from itself (double fork, new session, stdio on /dev/null, no
 * other fd inherited, LD_PRELOAD/WEFT_* removed from its environment), so
 * the program never sees it as a child. It then waits for the ring file to
 * appear, attaches, and exports WEFT_SHM so that its children use the same
 * collector. The `weft` binary is looked up as <dir of libweft.so>/../bin/
 * weft, then $WEFT_BIN, then in PATH.
 *
 * Runs from the library constructor (or the first wrapper), never on the
 * hot path; it allocates and may take up to 2 s.
 */
#ifndef WEFT_PRELOAD_LAUNCH_H
#define WEFT_PRELOAD_LAUNCH_H

#include "ring.h"

/* Start a collector writing to out and attach its ring file into map.
 * Returns 0 (map attached, WEFT_SHM set), -ENOENT when no weft binary was
 * found, -ETIMEDOUT when the ring file did not appear within 2 s, or
 * another -errno; nothing is attached after a failure. */
int launch_collector(const char *out, struct ring_map *map);

#endif
