/*
 * cmdline.h — the text a process reports about itself: argv packed as a
 * PROC_START payload, and the thread name (comm). At the start of an
 * image both come without a system call: argv as glibc hands it to
 * library constructors, the name from the path the image was exec'd by
 * (AT_EXECFN, which is what the kernel names the process after). The
 * /proc/self/cmdline and /proc/self/comm forms serve where those are not
 * at hand. Pure functions over bytes (testable), plus readers that use
 * only raw system calls (usable from a constructor or a fork child; they
 * never go through libweft.so's own wrappers).
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

/* The same packing from an argv array (argc entries): the bytes
 * cmdline_pack makes of the /proc/self/cmdline of a process started with
 * that argv. */
size_t cmdline_pack_argv(int argc, char *const argv[], char *out, size_t out_size);

/* The name the kernel gives a process image exec'd by path: its last
 * component, cut to 15 characters, into out (out_size >= 1). Returns the
 * length; 0 when path is NULL or names nothing certain: empty, ending in
 * '/', or a bare number (fexecve's /dev/fd/N, which kernels name
 * differently) — read /proc/self/comm then. */
size_t cmdline_comm_of_path(const char *path, char *out, size_t out_size);

/* Turn the raw content of /proc/self/comm ("name\n") into a C string of at
 * most 15 characters in out (out_size >= 1). Returns the length. */
size_t cmdline_comm(const char *raw, size_t raw_len, char *out, size_t out_size);

/* Read up to size bytes of the file at path. Returns the byte count, or
 * -errno. Raw system calls only. */
long cmdline_read_file(const char *path, char *buffer, size_t size);

#endif
