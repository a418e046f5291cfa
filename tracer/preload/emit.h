/*
 * emit.h — building records into a thread's ring (hot path).
 *
 * Each function fills one struct weft_event as event.h specifies for its
 * type and appends it with ring_write. They take the writer explicitly, so
 * they work on any ring (the tests drive them on a ring file they created);
 * the wrappers pass the calling thread's writer (preload.h).
 *
 * Hot-path rules hold for everything here: no locks, no allocation, no
 * stdio, no system call (clock_gettime(CLOCK_MONOTONIC) is answered by the
 * vDSO), a full ring drops the record and counts it (ring_write). errno is
 * left untouched.
 */
#ifndef WEFT_PRELOAD_EMIT_H
#define WEFT_PRELOAD_EMIT_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "ring.h"

/* CLOCK_MONOTONIC now, in ns. */
static inline uint64_t emit_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Append a record of type with the given fields at ts. Returns 0, or
 * -ENOSPC when the ring was full (dropped and counted). */
static inline int emit_record(struct ring_writer *writer, uint16_t type, uint8_t reason,
			      uint8_t call, uint64_t ts, uint64_t a, uint64_t b)
{
	struct weft_event event = {
	    .type = type, .reason = reason, .call = call, .ts = ts, .a = a, .b = b};
	return ring_write(writer, &event, NULL, 0);
}

/* Same with a payload of len bytes (at most WEFT_PAYLOAD_MAX; longer
 * payloads are cut to that length). */
static inline int emit_record_payload(struct ring_writer *writer, uint16_t type, uint8_t reason,
				      uint8_t call, uint64_t ts, uint64_t a, uint64_t b,
				      const void *payload, uint32_t len)
{
	struct weft_event event = {
	    .type = type, .reason = reason, .call = call, .ts = ts, .a = a, .b = b};
	if (len > WEFT_PAYLOAD_MAX)
		len = WEFT_PAYLOAD_MAX;
	return ring_write(writer, &event, payload, len);
}

/* A NUL-terminated string as payload, cut to max_bytes - 1 characters and
 * always carried with its terminating NUL. */
static inline int emit_record_string(struct ring_writer *writer, uint16_t type, uint8_t reason,
				     uint8_t call, uint64_t ts, uint64_t a, uint64_t b,
				     const char *text, uint32_t max_bytes)
{
	uint32_t len = 0;
	if (max_bytes > WEFT_PAYLOAD_MAX)
		max_bytes = WEFT_PAYLOAD_MAX;
	if (!max_bytes)
		max_bytes = 1;
	if (text)
		while (len + 1 < max_bytes && text[len])
			len++;
	char buffer[len + 1]; /* as long as the text: the copy adds the NUL */
	if (len)
		memcpy(buffer, text, len);
	buffer[len] = '\0';
	return emit_record_payload(writer, type, reason, call, ts, a, b, buffer, len + 1);
}

/* BLOCK_BEGIN: the thread is about to wait in call on object (b: extra). */
static inline int emit_block_begin(struct ring_writer *writer, uint64_t ts, uint8_t reason,
				   uint8_t call, uint64_t object, uint64_t extra)
{
	return emit_record(writer, WEFT_EV_BLOCK_BEGIN, reason, call, ts, object, extra);
}

/* BLOCK_END closing the BLOCK_BEGIN with the same reason/call/object;
 * result is the call's return value, or -errno. */
static inline int emit_block_end(struct ring_writer *writer, uint64_t ts, uint8_t reason,
				 uint8_t call, uint64_t object, int64_t result)
{
	return emit_record(writer, WEFT_EV_BLOCK_END, reason, call, ts, object, (uint64_t)result);
}

/* THREAD_NAME for tid: name, at most 16 bytes with its NUL. */
static inline int emit_thread_name(struct ring_writer *writer, uint64_t ts, uint32_t tid,
				   const char *name)
{
	return emit_record_string(writer, WEFT_EV_THREAD_NAME, 0, 0, ts, tid, 0, name, 16);
}

#endif
