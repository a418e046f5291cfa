/*
 * fdscan.h — visiting every open file descriptor of the process below a
 * limit, asked of the kernel with raw system calls (ppoll; /proc/self/fd
 * if that fails). No allocation, no stdio; usable in a constructor. Used
 * at the start of each process image.
 */
#ifndef WEFT_PRELOAD_FDSCAN_H
#define WEFT_PRELOAD_FDSCAN_H

/* Call visit(fd, ctx) for every open fd below limit, in increasing order.
 * Returns 0, or -errno when the fds cannot be listed. */
int fdscan_each(int limit, void (*visit)(int fd, void *ctx), void *ctx);

#endif
