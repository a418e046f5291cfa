/*
 * channel.h — message passing through pipes: matching the bytes written
 * into a channel (a pipe, named by its inode) with the reads that took
 * them out, to make write -> read flows.
 *
 * A pipe is a byte FIFO, so bytes are matched in order: a read of n bytes
 * consumes the oldest n unread written bytes, and its flow comes from the
 * write that supplied the last of them. Records of different processes
 * can arrive slightly out of order (each is written after its call
 * returned), so a read may be seen before the write that fed it: the read
 * then waits, and the write completes it. At most CHANNEL_BACKLOG writes
 * and reads wait per channel (an untraced reader or writer must not grow
 * memory without bound); older ones are forgotten.
 *
 * Writers that are never seen: a program that writes through stdio
 * (printf, fwrite: `seq`, `ls`) makes its write(2) calls inside glibc,
 * where no wrapper can see them. A read on a channel that has had no
 * write record yet is then attributed by the owner's infer function (the
 * other process holding the pipe, at the moment it last wrote as far as
 * the scheduler tells). If write records do arrive later, their first
 * bytes settle the reads already attributed, and matching goes on exactly.
 *
 * Not thread-safe: the collector's model owns it.
 */
#ifndef WEFT_CHANNEL_H
#define WEFT_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#define CHANNEL_BACKLOG 256

struct channels;

/* utid_out's write at ts_out fed utid_in's read of bytes at ts_in on the
 * channel ino. ts_out <= ts_in. */
typedef void (*channel_flow_fn)(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out,
				int64_t ts_in, int64_t utid_in, int64_t bytes);

/* Who fed utid_in's read at ts_in on channel ino, when no write was seen:
 * fill *utid_out and *ts_out (<= ts_in) and return true, or return false
 * (the read then waits for a write record like any other). */
typedef bool (*channel_infer_fn)(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
				 int64_t *utid_out, int64_t *ts_out);

/* An empty set of channels, or NULL when out of memory. */
struct channels *channel_new(channel_flow_fn flow, void *ctx);
void channel_free(struct channels *channels);
/* Attribute reads on channels without write records with infer (NULL: never). */
void channel_set_infer(struct channels *channels, channel_infer_fn infer);

/* bytes (> 0) went into / came out of channel ino. Each may call the flow
 * function for reads it completes. Return 0 or -ENOMEM (the bytes are then
 * not accounted). */
int channel_write(struct channels *channels, uint64_t ino, int64_t ts, int64_t utid, int64_t bytes);
int channel_read(struct channels *channels, uint64_t ino, int64_t ts, int64_t utid, int64_t bytes);

#endif
