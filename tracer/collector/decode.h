/*
 * decode.h — reading the fields of ring records (event.h) into what the
 * trace stores: argv payloads into a name and a command line, wait
 * statuses into exit code or signal, BLOCK_BEGIN objects into object rows.
 * Pure functions, no state; every output is bounded by the caller's buffer
 * and NUL-terminated. Records come from other processes: nothing here
 * trusts a length or a terminator it has not checked.
 */
#ifndef WEFT_DECODE_H
#define WEFT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* The payload of event: *len bytes after the header (0 when none). */
const uint8_t *decode_payload(const struct weft_event *event, size_t *len);

/* A NUL-terminated string payload (THREAD_NAME, EXEC) copied into out,
 * truncated to fit; an unterminated payload is cut at its end. Returns the
 * length copied. */
size_t decode_string(const struct weft_event *event, char *out, size_t cap);

/* argv (each NUL-terminated) of a PROC_START payload joined with single
 * spaces into cmdline, and the basename of argv[0] into name. Either output
 * may be NULL. Returns the number of arguments found. */
int decode_argv(const uint8_t *payload, size_t len, char *cmdline, size_t cmdline_cap, char *name,
		size_t name_cap);

/* The part of path after the last '/'. */
const char *decode_basename(const char *path);

/* A raw wait status: *exit_code (WEXITSTATUS) or *exit_signal (WTERMSIG);
 * the other is set to -1. Returns 0, or -EINVAL when status says neither
 * exited nor killed (stopped/continued), outputs then -1. */
int decode_wait_status(int status, int *exit_code, int *exit_signal);

/* What a BLOCK_BEGIN waits on, as an object row: kind ('mutex', 'fd',
 * 'thread', ...) and the address it is keyed by (object address, fd,
 * tid, pid). Returns NULL when the wait has no object (sleep, a == 0). */
const char *decode_object(unsigned reason, uint64_t a, uint64_t b, uint64_t *address);

/* The label of an object: 'mutex 0x7f12..', 'fd 3', 'thread 123'. */
void decode_object_label(const char *kind, uint64_t address, char *out, size_t cap);

#endif
