/*
 * channel.c — byte matching of channel.h.
 *
 * Per channel, two circular queues of at most CHANNEL_BACKLOG entries:
 * writes whose bytes nobody has read yet (`remaining` of each), and reads
 * still missing bytes (`remaining` of each). At most one of them is
 * non-empty at a time: a write first completes waiting reads, a read first
 * consumes waiting writes.
 */
#include "channel.h"

#include <errno.h>
#include <stdlib.h>

#include "table.h"

struct transfer {
	int64_t ts;
	int64_t utid;
	int64_t bytes;	   /* the call's byte count */
	int64_t remaining; /* not yet matched */
};

struct fifo {
	struct transfer items[CHANNEL_BACKLOG];
	unsigned head;
	unsigned count;
};

struct channel {
	struct fifo writes;
	struct fifo reads;
	bool writes_seen;
	int64_t inferred_bytes; /* read bytes attributed without a write record */
};

struct channels {
	struct table *by_ino;
	channel_flow_fn flow;
	channel_infer_fn infer;
	void *ctx;
};

static struct transfer *fifo_first(struct fifo *fifo)
{
	return fifo->count ? &fifo->items[fifo->head] : NULL;
}

static void fifo_pop(struct fifo *fifo)
{
	fifo->head = (fifo->head + 1) % CHANNEL_BACKLOG;
	fifo->count--;
}

static void fifo_push(struct fifo *fifo, struct transfer transfer)
{
	if (fifo->count == CHANNEL_BACKLOG)
		fifo_pop(fifo); /* forget the oldest */
	fifo->items[(fifo->head + fifo->count) % CHANNEL_BACKLOG] = transfer;
	fifo->count++;
}

struct channels *channel_new(channel_flow_fn flow, void *ctx)
{
	struct channels *channels = calloc(1, sizeof *channels);
	if (!channels)
		return NULL;
	channels->by_ino = table_new();
	if (!channels->by_ino) {
		free(channels);
		return NULL;
	}
	channels->flow = flow;
	channels->ctx = ctx;
	return channels;
}

void channel_set_infer(struct channels *channels, channel_infer_fn infer)
{
	channels->infer = infer;
}

static void free_channel(void *ctx, void *value)
{
	free(value);
}

void channel_free(struct channels *channels)
{
	if (!channels)
		return;
	table_each(channels->by_ino, free_channel, NULL);
	table_free(channels->by_ino);
	free(channels);
}

static struct channel *channel_get(struct channels *channels, uint64_t ino)
{
	struct channel *channel = table_get(channels->by_ino, ino, 0);
	if (channel)
		return channel;
	channel = calloc(1, sizeof *channel);
	if (!channel || table_put(channels->by_ino, ino, 0, channel)) {
		free(channel);
		return NULL;
	}
	return channel;
}

static void emit(struct channels *channels, uint64_t ino, const struct transfer *write,
		 const struct transfer *read)
{
	int64_t ts_out = write->ts < read->ts ? write->ts : read->ts;
	channels->flow(channels->ctx, ino, ts_out, write->utid, read->ts, read->utid, read->bytes);
}

int channel_write(struct channels *channels, uint64_t ino, int64_t ts, int64_t utid, int64_t bytes)
{
	struct channel *channel = channel_get(channels, ino);
	if (!channel)
		return -ENOMEM;
	channel->writes_seen = true;
	/* bytes already credited to reads by inference */
	int64_t settled = bytes < channel->inferred_bytes ? bytes : channel->inferred_bytes;
	channel->inferred_bytes -= settled;
	struct transfer write = {ts, utid, bytes, bytes - settled};
	struct transfer *read;
	while (write.remaining > 0 && (read = fifo_first(&channel->reads))) {
		int64_t take =
		    write.remaining < read->remaining ? write.remaining : read->remaining;
		write.remaining -= take;
		read->remaining -= take;
		if (read->remaining == 0) {
			emit(channels, ino, &write, read);
			fifo_pop(&channel->reads);
		}
	}
	if (write.remaining > 0)
		fifo_push(&channel->writes, write);
	return 0;
}

int channel_read(struct channels *channels, uint64_t ino, int64_t ts, int64_t utid, int64_t bytes)
{
	struct channel *channel = channel_get(channels, ino);
	if (!channel)
		return -ENOMEM;
	struct transfer read = {ts, utid, bytes, bytes};
	struct transfer *write;
	int64_t writer_utid, writer_ts;
	if (!channel->writes_seen && channels->infer &&
	    channels->infer(channels->ctx, ino, ts, utid, &writer_utid, &writer_ts)) {
		struct transfer inferred = {writer_ts, writer_utid, bytes, 0};
		channel->inferred_bytes += bytes;
		emit(channels, ino, &inferred, &read);
		return 0;
	}
	while (read.remaining > 0 && (write = fifo_first(&channel->writes))) {
		int64_t take =
		    read.remaining < write->remaining ? read.remaining : write->remaining;
		read.remaining -= take;
		write->remaining -= take;
		if (read.remaining == 0)
			emit(channels, ino, write, &read);
		if (write->remaining == 0)
			fifo_pop(&channel->writes);
	}
	if (read.remaining > 0)
		fifo_push(&channel->reads, read);
	return 0;
}
