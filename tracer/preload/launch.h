/*
 * launch.h — finding a collector for a process that was given none
 * (WEFT_SHM unset): start one (WEFT_OUT set), or ask a running weftd.
 *
 * When WEFT_SHM is unset but WEFT_OUT names a trace file, the first traced
 * process runs `weft record --attach <pid> -o <WEFT_OUT> --ready-fd 3`
 * detached from itself (double fork, new session, stdio on /dev/null, no
 * other fd inherited but the write end of a pipe as fd 3,
 * LD_PRELOAD/WEFT_* removed from its environment), so the program never
 * sees it as a child. The collector answers on that pipe, "ok <ring
 * file>\n" once its ring file (a memfd, /proc/<pid>/fd/<fd>) and trace
 * exist, or "error <why>\n" (or nothing: it died), so a collector that
 * cannot start costs no wait. The process then attaches
 * and exports WEFT_SHM so that its children use the same collector. A
 * WEFT_OUT that cannot be used (it exists: another recording writes it;
 * its directory cannot be written; the collector refused) is told in one
 * line on stderr, WEFT_OUT is removed from the environment (descendants
 * do not try again) and the program runs untraced. The `weft` binary is
 * looked up as <dir of libweft.so>/../bin/weft, then $WEFT_BIN, then in
 * PATH.
 *
 * Without WEFT_OUT, the process asks weftd (daemon/collectd.h) when
 * WEFT_SOCKET names a socket or the default one exists
 * ($XDG_RUNTIME_DIR/weft/weftd.sock, else /tmp/weft-<uid>/weftd.sock, as
 * weftd chooses it): it connects (non-blocking), sends
 * "weft 1 <pid> <comm>\n", reads "ok <ring file>\n" or "error <reason>\n",
 * attaches that ring file and exports WEFT_SHM. The whole exchange is
 * bounded by LAUNCH_ASK_MS: a stuck or dead weftd costs the program at
 * most that, and then it runs untraced. Nothing is printed unless
 * WEFT_DEBUG is set; the socket is closed before returning; errno is kept.
 *
 * Runs from the library constructor (or the first wrapper), never on the
 * hot path; it allocates, and waits at most 2 s for a collector that
 * neither answers nor dies (1 s when asking weftd).
 */
#ifndef WEFT_PRELOAD_LAUNCH_H
#define WEFT_PRELOAD_LAUNCH_H

#include "ring.h"

/* The collector's fd for its answer (weft record --ready-fd). */
#define LAUNCH_READY_FD 3

/* Start a collector writing to out and attach its ring file into map.
 * Returns 0 (map attached, WEFT_SHM set), or -EEXIST (out exists), -ENOENT
 * (no weft binary), -EIO (the collector refused or died), -ETIMEDOUT (no
 * answer within 2 s), another -errno; after a failure nothing is attached,
 * one line on stderr said why, and WEFT_OUT is unset. errno is kept. */
int launch_collector(const char *out, struct ring_map *map);

#define LAUNCH_ASK_MS 1000

/* Ask weftd for a collector and attach its ring file into map. Returns 0
 * (map attached, WEFT_SHM set), -ENOENT when no socket is named and the
 * default one does not exist, -ECONNREFUSED when weftd refused or is not
 * there, -ETIMEDOUT past LAUNCH_ASK_MS, or another -errno; nothing is
 * attached and no fd is left open after a failure. */
int launch_ask_weftd(struct ring_map *map);

#endif
