/*
 * sockpeer.h — which socket is at the other end of a connection, told to
 * the ring once per connection as a SOCKET_PEER record (event.h), so that
 * the collector can match what one end sends with what the other end
 * receives. Not on the hot path: called when socketpair, connect or accept
 * has just succeeded. Each costs a few system calls (fstat, getsockname,
 * getpeername; a sock_diag netlink query for a Unix socket).
 */
#ifndef WEFT_PRELOAD_SOCKPEER_H
#define WEFT_PRELOAD_SOCKPEER_H

#include "ring.h"

/* fd has just been connected (connect) or accepted (accept). Writes
 * SOCKET_PEER for a Unix socket whose peer the kernel names, and for a
 * TCP socket (by addresses); nothing for anything else or on failure. */
void sockpeer_note(struct ring_writer *writer, int fd);

/* A non-blocking connect on fd is under way (EINPROGRESS): its peer is
 * told at the first data the socket moves (sockpeer_note_pending). */
void sockpeer_connecting(int fd);

/* Data moved on fd: if a non-blocking connect on it was under way, write
 * its SOCKET_PEER now. One bit test otherwise. */
void sockpeer_note_pending(struct ring_writer *writer, int fd);

/* fd0 and fd1 are the two ends socketpair just made. */
void sockpeer_pair(struct ring_writer *writer, int fd0, int fd1);

#endif
