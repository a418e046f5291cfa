/*
 * model_ipc.c — the model's objects and inter-process communication:
 * lock, condition variable and semaphore objects and their wake-ups
 * (the latest unlock/signal/post per object, matched to the wait it
 * ends), objects in memory several processes map, pipes and sockets
 * (which fd is which pipe or socket end, which processes hold a pipe,
 * which socket ends are peers) and the bytes written into one and read
 * out of the other (channel.h matches them into flows); lock waits
 * that name their holder, the wait-for graph and the deadlocks it finds
 * (waitgraph.h), and table wait_now.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "decode.h"
#include "model_internal.h"
#include "span.h"
#include "table.h"
#include "tracedb.h"
#include "waitgraph.h"

struct wake {
	int64_t ts;
	int64_t utid;
	const char *kind;
	int64_t callsite; /* the waker's stack (stackdb.h), or -1 */
};

/* --- process-shared objects ------------------------------------------
 * A mutex or semaphore in memory several processes map is one object for
 * all of them: OBJECT_KEY records say which mapping (device, inode) and
 * offset hold it, per process and address. Its object row and its
 * wake-ups are keyed by that instead of by process and address. */
struct shared_key {
	uint64_t device, inode, offset;
};

#define SHARED_KEY_BASE (UINT64_MAX - 64) /* - reason: never an upid * 16 */

static uint64_t shared_hash(const struct shared_key *key)
{
	uint64_t hash = 1469598103934665603ull;
	const uint64_t words[3] = {key->device, key->inode, key->offset};
	for (int i = 0; i < 3; i++)
		hash = (hash ^ words[i]) * 1099511628211ull;
	return hash;
}

void model_ipc_object_key(struct model *model, struct process *p, const struct weft_event *event)
{
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	if (!payload || len < 16)
		return;
	struct shared_key *key = table_get(model->shared_keys, (uint64_t)p->upid, event->a);
	if (!key) {
		key = malloc(sizeof *key);
		if (!key || table_put(model->shared_keys, (uint64_t)p->upid, event->a, key)) {
			free(key);
			model_fail(model, -ENOMEM);
			return;
		}
	}
	memcpy(&key->device, payload, 8);
	memcpy(&key->offset, payload + 8, 8);
	key->inode = event->b;
}

/* The key of object address of p in the wakes and objects tables. */
static void object_key(struct model *model, struct process *p, unsigned reason, uint64_t address,
		       uint64_t *k1, uint64_t *k2, const struct shared_key **shared)
{
	const struct shared_key *key = table_get(model->shared_keys, (uint64_t)p->upid, address);
	if (shared)
		*shared = key;
	if (key) {
		*k1 = SHARED_KEY_BASE - reason;
		*k2 = shared_hash(key);
	} else {
		*k1 = (uint64_t)p->upid * 16 + reason;
		*k2 = address;
	}
}

/* An unlock/signal/post by t on an object others may wait on. */
void model_ipc_note_wake(struct model *model, struct process *p, struct thread *t,
			 const struct weft_event *event, const char *kind)
{
	uint64_t key, address;
	object_key(model, p, event->reason, event->a, &key, &address, NULL);
	struct wake *wake = table_get(model->wakes, key, address);
	if (!wake) {
		wake = malloc(sizeof *wake);
		if (!wake || table_put(model->wakes, key, address, wake)) {
			free(wake);
			model_fail(model, -ENOMEM);
			return;
		}
	}
	*wake = (struct wake){(int64_t)event->ts, t->utid, kind, t->wake_callsite};
	t->wake_callsite = -1;
}

/* t's blocking call ended at ts with result: name who woke it. */
void model_ipc_call_woken(struct model *model, struct process *p, struct thread *t, int64_t ts,
			  uint64_t result)
{
	if (result != 0)
		return; /* timed out or failed: nobody woke it */
	switch (t->call_reason) {
	case WEFT_REASON_MUTEX:
	case WEFT_REASON_RWLOCK:
	case WEFT_REASON_COND:
	case WEFT_REASON_SEM:
	case WEFT_REASON_BARRIER: /* the last to arrive releases the others */
	case WEFT_REASON_FUTEX:	  /* a runtime's own lock: the FUTEX_WAKE before */
	{
		uint64_t key, address;
		object_key(model, p, t->call_reason, t->call_address, &key, &address, NULL);
		struct wake *wake = table_get(model->wakes, key, address);
		if (!wake || wake->ts < t->call_begin_ts || wake->ts > ts || wake->utid == t->utid)
			return;
		model->waker_callsite = wake->callsite;
		model_wake_flow(model, wake->ts, wake->utid, t, ts, wake->kind, t->call_object);
		model->waker_callsite = -1;
		return;
	}
	case WEFT_REASON_JOIN: {
		struct thread *joined =
		    table_get(model->threads, p->token, (uint32_t)t->call_extra);
		if (!joined || !joined->ended)
			return;
		model_wake_flow(model, joined->end_ts, joined->utid, t, ts, "join", t->call_object);
		return;
	}
	default:
		return;
	}
}
#define PIPE_KEY UINT64_MAX

/* The object row of pipe ino (shared by every process that has an end). */
static int64_t pipe_object(struct model *model, uint64_t ino)
{
	void *found = table_get(model->objects, PIPE_KEY, ino);
	if (found)
		return (int64_t)(intptr_t)found;
	int64_t id = model->next_object_id++;
	char label[64];
	snprintf(label, sizeof label, "pipe:[%llu]", (unsigned long long)ino);
	model_fail(model, tracedb_object_insert(model->db, id, "pipe", -1, (int64_t)ino, label));
	model_fail(model, table_put(model->objects, PIPE_KEY, ino, (void *)(intptr_t)id));
	return id;
}

/* --- sockets ------------------------------------------------------------
 * A socket's two ends have two inodes. What one end sends, the other
 * receives: sends on inode A go into the channel of A's peer, receives on
 * B come out of B's channel, so one channel per direction. Peers come from
 * SOCKET_PEER records: socketpair and Unix connections name the peer's
 * inode, TCP connections their addresses ("tcp LOCAL REMOTE"), paired here
 * with the other end's "tcp REMOTE LOCAL". One object per connection. */
#define SOCKET_EARLY_SENDS 8
struct socket_end {
	uint64_t ino;
	uint64_t peer;	   /* 0 until known */
	int64_t object_id; /* -1 until the connection has one */
	char label[96];	   /* "socketpair", "unix /path", "tcp L R" */
	/* sends seen before the peer was known, replayed when it is */
	struct {
		int64_t ts, utid, bytes;
	} early[SOCKET_EARLY_SENDS];
	unsigned early_count;
};

static struct socket_end *socket_end(struct model *model, uint64_t ino, bool create)
{
	struct socket_end *end = table_get(model->sockets, ino, 0);
	if (end || !create)
		return end;
	end = calloc(1, sizeof *end);
	if (!end || table_put(model->sockets, ino, 0, end)) {
		free(end);
		model_fail(model, -ENOMEM);
		return NULL;
	}
	end->ino = ino;
	end->object_id = -1;
	return end;
}

static uint64_t label_hash(const char *text)
{
	uint64_t hash = 1469598103934665603ull;
	for (; *text; text++)
		hash = (hash ^ (unsigned char)*text) * 1099511628211ull;
	return hash;
}

static void replay_early_sends(struct model *model, struct socket_end *end)
{
	for (unsigned i = 0; i < end->early_count; i++)
		model_fail(model, channel_write(model->channels, end->peer, end->early[i].ts,
						end->early[i].utid, end->early[i].bytes));
	end->early_count = 0;
}

static void socket_link(struct model *model, struct socket_end *a, struct socket_end *b)
{
	a->peer = b->ino;
	b->peer = a->ino;
	if (!b->label[0])
		snprintf(b->label, sizeof b->label, "%s", a->label);
	replay_early_sends(model, a);
	replay_early_sends(model, b);
}

void model_ipc_socket_peer(struct model *model, const struct weft_event *event)
{
	struct socket_end *end = socket_end(model, event->a, true);
	if (!end)
		return;
	decode_string(event, end->label, sizeof end->label);
	if (event->b) {
		struct socket_end *peer = socket_end(model, event->b, true);
		if (peer)
			socket_link(model, end, peer);
		return;
	}
	char local[48], remote[48];
	if (sscanf(end->label, "tcp %47s %47s", local, remote) != 2)
		return;
	char reversed[4 + 48 + 1 + 48];
	snprintf(reversed, sizeof reversed, "tcp %s %s", remote, local);
	struct socket_end *other = table_get(model->tcp_waiting, label_hash(reversed), 0);
	if (other && other != end && strcmp(other->label, reversed) == 0) {
		table_remove(model->tcp_waiting, label_hash(reversed), 0);
		socket_link(model, end, other);
		return;
	}
	model_fail(model, table_put(model->tcp_waiting, label_hash(end->label), 0, end));
}

/* The object of the connection socket end belongs to, or -1 while that
 * is not known yet (a socket not connected, or whose peer's record has
 * not come). A TCP connection is named by its two addresses, sorted, so
 * both ends find the same object before they are paired; other
 * connections by the smaller inode of their two ends. */
#define SOCKET_KEY (UINT64_MAX - 1)
static int64_t socket_object(struct model *model, struct socket_end *end)
{
	if (end->object_id >= 0)
		return end->object_id;
	struct socket_end *peer = end->peer ? socket_end(model, end->peer, false) : NULL;
	char local[48], remote[48], label[128];
	uint64_t key, address;
	if (sscanf(end->label, "tcp %47s %47s", local, remote) == 2) {
		const char *low = strcmp(local, remote) < 0 ? local : remote;
		const char *high = low == local ? remote : local;
		snprintf(label, sizeof label, "socket %s %s", low, high);
		key = label_hash(label);
		address = 0;
	} else if (peer) {
		address = peer->ino < end->ino ? peer->ino : end->ino;
		key = address;
		snprintf(label, sizeof label, "socket:[%llu] %s", (unsigned long long)address,
			 end->label[0] ? end->label : peer->label);
	} else {
		return -1;
	}
	void *found = table_get(model->objects, SOCKET_KEY, key);
	int64_t id = found ? (int64_t)(intptr_t)found : model->next_object_id++;
	if (!found) {
		model_fail(model, tracedb_object_insert(model->db, id, "socket", -1,
							(int64_t)address, label));
		model_fail(model, table_put(model->objects, SOCKET_KEY, key, (void *)(intptr_t)id));
	}
	end->object_id = id;
	if (peer)
		peer->object_id = id;
	return id;
}

/* The pipe inode fd of p refers to, or 0. */
static uint64_t fd_channel(struct model *model, struct process *p, uint64_t fd)
{
	return (uint64_t)(uintptr_t)table_get(model->fd_channels, (uint64_t)p->upid, fd);
}

void model_ipc_channel_flow(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out,
			    int64_t ts_in, int64_t utid_in, int64_t bytes)
{
	struct model *model = ctx;
	struct socket_end *end = socket_end(model, ino, false);
	if (end)
		model_flow_bytes(model, ts_out, utid_out, ts_in, utid_in, "socket",
				 socket_object(model, end), bytes);
	else
		model_flow_bytes(model, ts_out, utid_out, ts_in, utid_in, "pipe",
				 pipe_object(model, ino), bytes);
}

/* The processes holding a pipe open, with how many fds each: the writers
 * of a pipe whose writes are never seen are among them. */
#define PIPE_HOLDERS_MAX 8
struct pipe_holders {
	struct process *process[PIPE_HOLDERS_MAX];
	unsigned fds[PIPE_HOLDERS_MAX];
	unsigned count;
};

static void pipe_hold(struct model *model, uint64_t ino, struct process *p, int delta)
{
	struct pipe_holders *holders = table_get(model->pipe_holders, ino, 0);
	if (!holders) {
		if (delta < 0)
			return;
		holders = calloc(1, sizeof *holders);
		if (!holders || table_put(model->pipe_holders, ino, 0, holders)) {
			free(holders);
			model_fail(model, -ENOMEM);
			return;
		}
	}
	unsigned i;
	for (i = 0; i < holders->count && holders->process[i] != p; i++)
		;
	if (i == holders->count) {
		if (delta < 0 || i == PIPE_HOLDERS_MAX)
			return;
		holders->process[holders->count++] = p;
		holders->fds[i] = 0;
	}
	if (delta > 0) {
		holders->fds[i]++;
	} else if (holders->fds[i] && !--holders->fds[i]) {
		holders->count--;
		holders->process[i] = holders->process[holders->count];
		holders->fds[i] = holders->fds[holders->count];
	}
}

void model_ipc_fd_channel(struct model *model, struct process *p, const struct weft_event *event)
{
	uint64_t before = fd_channel(model, p, event->a);
	if (before == event->b)
		return;
	if (before && !socket_end(model, before, false))
		pipe_hold(model, before, p, -1);
	if (event->b) {
		model_fail(model, table_put(model->fd_channels, (uint64_t)p->upid, event->a,
					    (void *)(uintptr_t)event->b));
		if (event->reason == 2) /* a socket */
			socket_end(model, event->b, true);
		else
			pipe_hold(model, event->b, p, +1);
	} else {
		table_remove(model->fd_channels, (uint64_t)p->upid, event->a);
	}
}

/* channel_infer_fn: the bytes model->io_reader read from pipe ino came
 * from another process holding the pipe (a live one first). Their moment
 * is the writer's last time on a CPU: if it is running now, since it got
 * the CPU or since the reader began to wait, whichever is later; if it is
 * off the CPU, when it left it; if it has ended, its end. */
bool model_ipc_infer_pipe_writer(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
				 int64_t *utid_out, int64_t *ts_out)
{
	struct model *model = ctx;
	struct thread *reader = model->io_reader;
	struct pipe_holders *holders = table_get(model->pipe_holders, ino, 0);
	if (!reader || !holders || socket_end(model, ino, false))
		return false;
	struct process *writer = NULL;
	for (unsigned i = 0; i < holders->count; i++) {
		struct process *p = holders->process[i];
		if (p == reader->process)
			continue;
		if (!writer || (writer->ended && !p->ended))
			writer = p;
	}
	if (!writer)
		return false;
	struct thread *t = table_get(model->threads, writer->token, writer->pid);
	if (!t)
		return false;
	int64_t ts;
	int64_t waited_since = reader->call_begin_ts > 0 ? reader->call_begin_ts : ts_in;
	if (t->ended)
		ts = t->end_ts;
	else if (t->slice_start >= 0)
		ts = t->slice_start > waited_since ? t->slice_start : waited_since;
	else if (!t->has_sched && t->call_end_ts >= t->call_begin_ts)
		ts = span_thread_last_ts(t->spans) > waited_since ? span_thread_last_ts(t->spans)
								  : waited_since;
	else
		ts = span_thread_last_ts(t->spans);
	*utid_out = t->utid;
	*ts_out = ts < ts_in ? ts : ts_in;
	(void)utid_in;
	return true;
}

static bool call_writes(unsigned call)
{
	return call == WEFT_CALL_WRITE || call == WEFT_CALL_WRITEV || call == WEFT_CALL_SEND ||
	       call == WEFT_CALL_SENDTO || call == WEFT_CALL_SENDMSG;
}

static bool call_reads(unsigned call)
{
	return call == WEFT_CALL_READ || call == WEFT_CALL_READV || call == WEFT_CALL_RECV ||
	       call == WEFT_CALL_RECVFROM || call == WEFT_CALL_RECVMSG;
}

void model_ipc_io_done(struct model *model, struct process *p, struct thread *t,
		       const struct weft_event *event)
{
	uint64_t ino = fd_channel(model, p, event->a);
	int64_t bytes = (int64_t)event->b;
	if (!ino || bytes <= 0)
		return;
	struct socket_end *end = socket_end(model, ino, false);
	if (end && call_writes(event->call)) {
		/* what one end sends, its peer receives */
		if (end->peer) {
			model_fail(model, channel_write(model->channels, end->peer,
							(int64_t)event->ts, t->utid, bytes));
		} else if (end->early_count < SOCKET_EARLY_SENDS) {
			end->early[end->early_count].ts = (int64_t)event->ts;
			end->early[end->early_count].utid = t->utid;
			end->early[end->early_count].bytes = bytes;
			end->early_count++;
		}
		return;
	}
	if (call_writes(event->call))
		model_fail(model,
			   channel_write(model->channels, ino, (int64_t)event->ts, t->utid, bytes));
	else if (call_reads(event->call)) {
		model->io_reader = t;
		model_fail(model,
			   channel_read(model->channels, ino, (int64_t)event->ts, t->utid, bytes));
		model->io_reader = NULL;
	}
}

/* The object of (reason, a) in p: found, or made with label (NULL: the
 * kind and address). Returns its id, or -1 when there is none. */
static int64_t object_labelled(struct model *model, struct process *p,
			       const struct weft_event *event, const char *label_override)
{
	if (event->reason == WEFT_REASON_IO) {
		uint64_t ino = fd_channel(model, p, event->a);
		struct socket_end *end = ino ? socket_end(model, ino, false) : NULL;
		if (end) /* waiting on a socket: its connection */
			return socket_object(model, end);
		if (ino) /* waiting on a pipe: the pipe, not the fd number */
			return pipe_object(model, ino);
	}
	uint64_t address;
	const char *kind = decode_object(event->reason, event->a, event->b, &address);
	if (!kind)
		return -1;
	uint64_t key, slot;
	const struct shared_key *shared;
	object_key(model, p, event->reason, address, &key, &slot, &shared);
	void *found = table_get(model->objects, key, slot);
	if (found)
		return (int64_t)(intptr_t)found;
	int64_t id = model->next_object_id++;
	char label[96];
	if (shared) /* the same object in every process that maps it */
		snprintf(label, sizeof label, "%s shm:[%llu]+0x%llx", kind,
			 (unsigned long long)shared->inode, (unsigned long long)shared->offset);
	else if (label_override)
		snprintf(label, sizeof label, "%s", label_override);
	else
		decode_object_label(kind, address, label, sizeof label);
	model_fail(model,
		   tracedb_object_insert(model->db, id, kind, shared ? -1 : p->upid,
					 (int64_t)(shared ? shared->offset : address), label));
	model_fail(model, table_put(model->objects, key, slot, (void *)(intptr_t)id));
	return id;
}

#define SOCKET_INODE_KEY (UINT64_MAX - 3)
int64_t model_ipc_fd_object(struct model *model, struct process *p, uint64_t fd)
{
	uint64_t ino = fd_channel(model, p, fd);
	struct socket_end *end = ino ? socket_end(model, ino, false) : NULL;
	int64_t id = end ? socket_object(model, end) : -1;
	if (id >= 0 || !end) {
		struct weft_event event = {
		    .type = WEFT_EV_BLOCK_BEGIN, .reason = WEFT_REASON_IO, .a = fd};
		return id >= 0 ? id : object_labelled(model, p, &event, NULL);
	}
	/* a socket with no connection (yet): a listening socket, by inode */
	void *found = table_get(model->objects, SOCKET_INODE_KEY, ino);
	if (found)
		return (int64_t)(intptr_t)found;
	id = model->next_object_id++;
	char label[64];
	snprintf(label, sizeof label, "socket:[%llu]", (unsigned long long)ino);
	model_fail(model, tracedb_object_insert(model->db, id, "socket", -1, (int64_t)ino, label));
	model_fail(model, table_put(model->objects, SOCKET_INODE_KEY, ino, (void *)(intptr_t)id));
	return id;
}

int64_t model_ipc_object_for(struct model *model, struct process *p, const struct weft_event *event)
{
	return object_labelled(model, p, event, NULL);
}

void model_ipc_object_named(struct model *model, struct process *p, const struct weft_event *event)
{
	char name[64];
	if (event->reason == WEFT_REASON_IO || !decode_string(event, name, sizeof name) || !name[0])
		return;
	object_labelled(model, p, event, name);
}

/* --- wait_now ------------------------------------------------------- */

int model_write_waits(struct model *model)
{
	model_fail(model, tracedb_wait_now_clear(model->db));
	for (struct process *p = model->processes; p; p = p->next) {
		if (p->ended)
			continue;
		for (struct thread *t = p->threads; t; t = t->next)
			if (!t->ended && t->call_begin_ts > t->call_end_ts)
				model_fail(model, tracedb_wait_now(model->db, t->utid,
								   t->call_begin_ts, t->call_reason,
								   t->call_object, t->call_holder));
	}
	return model->error;
}
