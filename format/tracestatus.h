/*
 * tracestatus.h — is a trace still being recorded, and what status should
 * a reader show for it. The recorder holds an exclusive flock(2) on the
 * trace file for the whole recording (tracer/collector/tracedb.c takes it
 * before SQLite writes a page); the kernel drops it when the recorder
 * exits, however it dies. A trace whose meta status still says
 * 'recording' while nobody holds that lock was interrupted: its recorder
 * died (kill -9, a crash) without finishing it. The recorder (weft query,
 * weft record --force) and the daemon (the trace list, the live view)
 * both ask here, so they always agree.
 */
#ifndef WEFT_TRACESTATUS_H
#define WEFT_TRACESTATUS_H

#include <stddef.h>

/* The pid of the process recording the trace at path right now (holding
 * its recording lock, seen in /proc/locks), 0 when none is (finished, or
 * its recorder died), or -errno (path cannot be stat'ed, no /proc/locks).
 * Opens neither the trace nor any file beside it, so a reader holding
 * SQLite connections to it may call it at any time. Locks held in another
 * pid namespace are not seen (reads as 0). */
int tracestatus_recorder_pid(const char *path);

/* The status to show for the trace at path whose meta status is
 * meta_status: "interrupted" for "recording" with no recorder alive (and
 * /proc/locks readable), else meta_status itself. */
const char *tracestatus_resolve(const char *path, const char *meta_status);

/* Reads meta status of the trace at path (its own read-only connection)
 * and resolves it (tracestatus_resolve) into out. Returns 0, or -ENOENT
 * (cannot be opened), -EIO (no meta status). */
int tracestatus_read(const char *path, char *out, size_t cap);

#endif
