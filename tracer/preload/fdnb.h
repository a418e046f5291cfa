/*
 * fdnb.h — which file descriptors are non-blocking (O_NONBLOCK), so that
 * the I/O wrappers can pass a call on one straight through: it cannot
 * wait, so it is no transition (an event loop's read that finds nothing
 * must cost almost nothing and leave nothing in the ring).
 *
 * Process-wide state: one bit per fd below FDNB_MAX, set and cleared with
 * atomic bit operations by the wrappers of the calls that make an fd or
 * change its flags (socket, accept4, pipe2, open*, fcntl F_SETFL, ioctl
 * FIONBIO, dup*, close), and at the start of each process image from
 * F_GETFL of every open fd. A fork child inherits it with the fds.
 * Whatever those wrappers cannot see (an eventfd, a flag set by another
 * process on a shared description) is learned: a recorded call on an fd
 * not marked that fails with EAGAIN at once (within FDNB_QUICK_NS) marks it.
 *
 * A vfork child runs in its parent's memory but has fds of its own: while
 * fdnb_paused is raised (in the thread that called vfork, whose TLS the
 * child borrows), fdnb_set changes nothing.
 *
 * A bit can go stale when glibc closes an fd internally (fclose) and the
 * number is reused without passing a wrapper: calls on it then go
 * unrecorded until the next wrapped open/dup/close of that number.
 */
#ifndef WEFT_PRELOAD_FDNB_H
#define WEFT_PRELOAD_FDNB_H

#include <stdint.h>

#define FDNB_MAX 1024
#define FDNB_QUICK_NS 100000u

extern uint64_t fdnb_bits[FDNB_MAX / 64];
extern __thread uint8_t fdnb_paused __attribute__((tls_model("initial-exec")));

/* Nonzero when fd is known to be non-blocking. Hot path: one load. */
static inline int fdnb_is(int fd)
{
	return (unsigned)fd < FDNB_MAX &&
	       ((__atomic_load_n(&fdnb_bits[fd / 64], __ATOMIC_RELAXED) >> (fd % 64)) & 1);
}

/* fd now is (nonzero) or is not non-blocking. Ignores fds out of range. */
void fdnb_set(int fd, int nonblocking);

/* to now shares from's open file description (dup): same flag. */
void fdnb_copy(int from, int to);

/* A new process image: forget everything, read F_GETFL of every open fd. */
void fdnb_scan(void);

/* The same in two steps, for a caller that lists the open fds itself:
 * forget everything, then learn each open fd (mode: its st_mode, 0 when
 * unknown). F_GETFL is skipped for regular files and directories, where
 * O_NONBLOCK changes nothing. */
void fdnb_forget_all(void);
void fdnb_learn(int fd, unsigned mode);

#endif
