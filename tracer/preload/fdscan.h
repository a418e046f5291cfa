/*
 * fdscan.h — visiting every open file descriptor of the process, from
 * /proc/self/fd with raw system calls (no allocation, no stdio; usable in
 * a constructor). Used at the start of each process image.
 */
#ifndef WEFT_PRELOAD_FDSCAN_H
#define WEFT_PRELOAD_FDSCAN_H

/* Call visit(fd, ctx) for every open fd below limit (the directory's own
 * fd excluded). Returns 0, or -errno when /proc/self/fd cannot be read. */
int fdscan_each(int limit, void (*visit)(int fd, void *ctx), void *ctx);

#endif
