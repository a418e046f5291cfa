/*
 * cmdline.h — the text a process reports about itself: argv from
 * /proc/self/cmdline packed as a PROC_START payload, and the thread name
 * from /proc/self/comm. Pure functions over bytes (testable), plus readers
 * that use only raw system calls (usable from a constructor or a fork
 * child; they never go through libweft.so's own wrappers).
 */
#ifndef WEFT_PRELOAD_CMDLINE_H
#define WEFT_PRELOAD_CMDLINE_H

#include <stddef.h>

/* Pack the raw bytes of /proc/self/cmdline (arguments separated by NUL,
 * the last NUL possibly missing) into out: each argument NUL-terminated,
 * at most out_size bytes in all. An argument that does not fit is cut and
 * still NUL-terminated; arguments after it are left out. Returns the bytes
 * written (0 when raw is empty or out_size is 0). */
size_t cmdline_pack(const char *raw, size_t raw_len, char *out, size_t out_size);

/* Turn the raw content of /proc/self/comm ("name\n") into a C string of at
 * most 15 characters in out (out_size >= 1). Returns the length. */
size_t cmdline_comm(const char *raw, size_t raw_len, char *out, size_t out_size);

/* Read up to size bytes of the file at path. Returns the byte count, or
 * -errno. Raw system calls only. */
long cmdline_read_file(const char *path, char *buffer, size_t size);

#endif
