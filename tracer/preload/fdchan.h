/*
 * fdchan.h — which of the process's file descriptors are pipes or
 * sockets, told to the ring as FD_CHANNEL records (event.h) so that the
 * collector can tell that ls's fd 1 and grep's fd 0 are the two ends of
 * one pipe, and which socket a send or a recv went through.
 *
 * Process-wide state: a bitmap of the fds below FDCHAN_MAX last recorded
 * as pipes. Wrappers update it with atomic bit operations (any thread);
 * a fork child inherits it together with the fds it describes.
 *
 * Limits: fds at or above FDCHAN_MAX are not described. Pipes glibc makes
 * or closes internally (popen, fclose) are not seen; fdchan_note after
 * the next dup or the next image's scan corrects what is left stale.
 */
#ifndef WEFT_PRELOAD_FDCHAN_H
#define WEFT_PRELOAD_FDCHAN_H

#include <stdint.h>

#include "ring.h"

#define FDCHAN_MAX 1024

/* Record what fd refers to now: FD_CHANNEL (b = inode; reason 1 for a
 * pipe or FIFO, 2 for a socket) when it is one; FD_CHANNEL with b = 0
 * when it was recorded as one and is not any more; nothing otherwise.
 * One fstat. Returns the fd's st_mode (0 when fstat failed or fd is out
 * of range). */
unsigned fdchan_note(struct ring_writer *writer, int fd);

/* fd is being closed: FD_CHANNEL with b = 0 if it was recorded as a pipe.
 * No system call. */
void fdchan_closed(struct ring_writer *writer, int fd);

/* A new process image: forget everything, then record every pipe among
 * the open fds (listed by fdscan.h with raw system calls). Each open
 * fd below FDCHAN_MAX is also handed to also(fd, st_mode, ctx) unless
 * also is NULL (st_mode as fdchan_note returns it), so that one pass over
 * the directory serves every start-up scan. */
void fdchan_scan(struct ring_writer *writer, void (*also)(int fd, unsigned mode, void *ctx),
		 void *ctx);

/* A fork child: record again, in the child's ring, the pipes the parent
 * had recorded (each checked with fstat). */
void fdchan_inherit(struct ring_writer *writer);

#endif
