/*
 * model.c — processes, threads and objects of model.h.
 *
 * Every process and thread ever seen stays in memory until model_free
 * (lists `processes`, and each process's `threads`), so late records of an
 * ended process can still be attributed. Lookups:
 *   by_token     (token, 0)       -> process (traced incarnations)
 *   live_by_pid  (pid, 0)         -> the live process with that pid
 *   threads      (token, tid)     -> thread
 *   objects      (upid*16+reason, address) -> object_id
 *   forks        (pid, 0)         -> FORK record not yet matched by a child
 *   wakes        (upid*16+reason, address) -> the latest unlock/signal/post
 *                                   on that object (for flows and wakers)
 *   fd_channels  (upid, fd)       -> the pipe inode fd refers to (+ channels,
 *                                   which match written and read bytes)
 *   objects also holds pipes, keyed (PIPE_KEY, inode): shared by processes.
 * A row is inserted when a process/thread appears and rewritten when its
 * name, end or exit status changes. `error` keeps the first write failure;
 * every entry point returns it.
 */
#include "model.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "decode.h"
#include "span.h"
#include "table.h"
#include "waitgraph.h"

enum status_source {
	STATUS_NONE = 0,
	STATUS_PROC_EXIT,
	STATUS_WAIT_RESULT,
	STATUS_REAPED,
};

struct thread;

struct process {
	int64_t upid;
	uint32_t pid;
	int64_t ppid;
	int64_t parent_upid;
	uint64_t token; /* 0: untraced */
	char name[64];
	char *cmdline;
	int64_t start_ts;
	int64_t end_ts;
	int64_t last_ts; /* latest record */
	int64_t exit_ts; /* PROC_EXIT record, or -1 */
	int exit_code;
	int exit_signal;
	enum status_source status_source;
	bool traced;
	bool ended;
	char exec_path[256]; /* EXEC not yet followed by a new image */
	int64_t first_ts;    /* its first record (PROC_START), or -1 */
	int64_t fork_utid;   /* the thread that forked it, -1 when unknown */
	int64_t fork_ts;     /* that thread's fork call */
	bool fork_flow_done;
	struct span_process *spans;
	struct thread *threads;
	struct process *next;
};

struct thread {
	int64_t utid;
	uint32_t tid;
	struct process *process;
	struct span_thread *spans;
	char name[64];
	int64_t start_ts;
	int64_t end_ts;
	bool is_main;
	bool ended;
	bool from_kernel;    /* made from perf records; none of ours named it */
	bool has_sched;	     /* switch records seen: sched_source 'perf' */
	bool has_samples;    /* schedstat samples seen: 'schedstat' */
	uint64_t sample_run; /* the counters at the latest sample */
	uint64_t sample_wait;
	int64_t slice_start; /* on a CPU since, or -1 */
	int slice_cpu;
	/* the blocking call in progress (or the last one) */
	unsigned call_reason;
	uint64_t call_address;
	uint64_t call_extra;
	int64_t call_object;
	int64_t call_begin_ts;
	int64_t call_end_ts;
	int64_t call_holder; /* utid holding the lock waited for, or -1 */
	struct thread *next;
};

struct pending_fork {
	uint32_t pid;
	struct process *parent; /* lives as long as the model */
	int64_t parent_utid;	/* the thread that forked */
	int64_t ppid;
	int64_t fork_ts;
	char exec_path[256]; /* what a vfork child or a spawn ran, or "" */
};

/* A switch-in record is written when the context switch has finished; the
 * switch-out record of the task that left the CPU marks the moment the
 * CPU changed hands (where the kernel's sched_switch tracepoint is). When
 * the two are this close, the incoming thread runs from the switch-out:
 * the switch itself is not counted as time off the CPU. */
#define SWITCH_HANDOVER_NS 30000
#define MODEL_MAX_CPUS 1024

struct model {
	struct tracedb *db;
	struct table *by_token;
	struct table *live_by_pid;
	struct table *exited; /* pid -> untraced process ended, its status to come */
	struct table *threads;
	struct table *objects;
	struct table *forks;
	struct table *wakes;
	struct table *fd_channels;
	struct table *pipe_holders; /* (ino, 0) -> struct pipe_holders */
	struct table *sockets;	    /* (ino, 0) -> struct socket_end */
	struct table *shared_keys;  /* (upid, address) -> struct shared_key */
	struct table *tcp_waiting;  /* (hash of "tcp L R", 0) -> struct socket_end */
	struct channels *channels;
	struct thread *io_reader; /* the thread whose read is being matched */
	struct waitgraph *waits;  /* lock waits in progress, for deadlocks */
	int64_t next_deadlock_id;
	bool samples; /* threads take Running/Ready from model_sample */
	struct process *processes;
	int64_t next_upid;
	int64_t next_utid;
	int64_t next_object_id;
	uint32_t root_pid;
	int64_t root_fork_ts;
	/* per CPU: the last switch-out seen there (0: none since the last
	 * switch-in), the moment the CPU changed hands */
	int64_t cpu_handover[MODEL_MAX_CPUS];
	char *root_cmdline;
	char root_name[64];
	struct model_stats stats;
	int error;
};

static void on_channel_flow(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out,
			    int64_t ts_in, int64_t utid_in, int64_t bytes);
static bool infer_pipe_writer(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
			      int64_t *utid_out, int64_t *ts_out);

static void emit_span(void *ctx, const struct span *span)
{
	struct model *model = ctx;
	if (tracedb_span(model->db, span) && !model->error)
		model->error = -EIO;
}

static void fail(struct model *model, int error)
{
	if (error && !model->error)
		model->error = error;
}

struct model *model_new(struct tracedb *db)
{
	struct model *model = calloc(1, sizeof *model);
	if (!model)
		return NULL;
	model->db = db;
	model->by_token = table_new();
	model->live_by_pid = table_new();
	model->exited = table_new();
	model->threads = table_new();
	model->objects = table_new();
	model->forks = table_new();
	model->wakes = table_new();
	model->fd_channels = table_new();
	model->channels = channel_new(on_channel_flow, model);
	model->pipe_holders = table_new();
	model->sockets = table_new();
	model->shared_keys = table_new();
	model->tcp_waiting = table_new();
	if (model->channels)
		channel_set_infer(model->channels, infer_pipe_writer);
	model->waits = waitgraph_new();
	model->next_deadlock_id = 1;
	model->next_upid = 1;
	model->next_utid = 1;
	model->next_object_id = 1;
	model->root_fork_ts = -1;
	if (!model->by_token || !model->live_by_pid || !model->exited || !model->threads ||
	    !model->objects || !model->forks || !model->wakes || !model->fd_channels ||
	    !model->channels || !model->waits || !model->pipe_holders || !model->sockets ||
	    !model->tcp_waiting || !model->shared_keys) {
		model_free(model);
		return NULL;
	}
	return model;
}

/* Free a table's malloc'd values (pending forks, wakes). */
static void free_value(void *ctx, void *value)
{
	free(value);
}

void model_free(struct model *model)
{
	if (!model)
		return;
	struct process *process = model->processes;
	while (process) {
		struct process *next = process->next;
		struct thread *thread = process->threads;
		while (thread) {
			struct thread *next_thread = thread->next;
			free(thread);
			thread = next_thread;
		}
		span_process_free(process->spans);
		free(process->cmdline);
		free(process);
		process = next;
	}
	if (model->forks)
		table_each(model->forks, free_value, NULL);
	if (model->wakes)
		table_each(model->wakes, free_value, NULL);
	table_free(model->wakes);
	table_free(model->fd_channels);
	if (model->pipe_holders) {
		table_each(model->pipe_holders, free_value, NULL);
		table_free(model->pipe_holders);
	}
	if (model->sockets) {
		table_each(model->sockets, free_value, NULL);
		table_free(model->sockets);
	}
	if (model->shared_keys) {
		table_each(model->shared_keys, free_value, NULL);
		table_free(model->shared_keys);
	}
	table_free(model->tcp_waiting); /* its values are owned by sockets */
	channel_free(model->channels);
	waitgraph_free(model->waits);
	table_free(model->by_token);
	table_free(model->live_by_pid);
	table_free(model->exited);
	table_free(model->threads);
	table_free(model->objects);
	table_free(model->forks);
	free(model->root_cmdline);
	free(model);
}

void model_set_root(struct model *model, uint32_t pid, int64_t fork_ts, const char *name,
		    const char *cmdline)
{
	snprintf(model->root_name, sizeof model->root_name, "%s", name ? name : "");
	model->root_pid = pid;
	model->root_fork_ts = fork_ts;
	free(model->root_cmdline);
	model->root_cmdline = cmdline ? strdup(cmdline) : NULL;
}

void model_get_stats(const struct model *model, struct model_stats *stats)
{
	*stats = model->stats;
}

/* --- rows ------------------------------------------------------------- */

static void process_row(const struct process *p, struct tracedb_process *row)
{
	*row = (struct tracedb_process){
	    .upid = p->upid,
	    .pid = p->pid,
	    .ppid = p->ppid,
	    .parent_upid = p->parent_upid,
	    .name = p->name[0] ? p->name : NULL,
	    .cmdline = p->cmdline,
	    .start_ts = p->start_ts,
	    .end_ts = p->ended ? p->end_ts : -1,
	    .exit_code = p->exit_code,
	    .exit_signal = p->exit_signal,
	    .traced = p->traced,
	};
}

static void process_write(struct model *model, struct process *p, bool insert)
{
	struct tracedb_process row;
	process_row(p, &row);
	fail(model, insert ? tracedb_process_insert(model->db, &row)
			   : tracedb_process_update(model->db, &row));
}

static void thread_write(struct model *model, struct thread *t, bool insert)
{
	struct tracedb_thread row = {
	    .utid = t->utid,
	    .tid = t->tid,
	    .upid = t->process->upid,
	    .name = t->name[0] ? t->name : NULL,
	    .start_ts = t->start_ts,
	    .end_ts = t->ended ? t->end_ts : -1,
	    .is_main = t->is_main,
	    .sched_source = t->has_sched     ? "perf"
			    : t->has_samples ? "schedstat"
					     : NULL,
	};
	fail(model, insert ? tracedb_thread_insert(model->db, &row)
			   : tracedb_thread_update(model->db, &row));
}

/* --- processes -------------------------------------------------------- */

static struct process *live_process(struct model *model, int64_t pid)
{
	return pid > 0 ? table_get(model->live_by_pid, (uint64_t)pid, 0) : NULL;
}

static void set_cmdline(struct process *p, const char *cmdline)
{
	free(p->cmdline);
	p->cmdline = cmdline ? strdup(cmdline) : NULL;
}

/* A new process row, New from start_ts. NULL (and model->error) on
 * failure. */
static struct process *process_create(struct model *model, uint32_t pid, int64_t ppid,
				      struct process *parent, uint64_t token, int64_t start_ts)
{
	struct process *p = calloc(1, sizeof *p);
	if (!p) {
		fail(model, -ENOMEM);
		return NULL;
	}
	p->upid = model->next_upid++;
	p->pid = pid;
	p->ppid = ppid;
	p->parent_upid = parent ? parent->upid : -1;
	p->token = token;
	p->traced = token != 0;
	p->start_ts = start_ts;
	p->last_ts = start_ts;
	p->exit_ts = -1;
	p->first_ts = -1;
	p->fork_utid = -1;
	p->exit_code = -1;
	p->exit_signal = -1;
	if (parent) {
		snprintf(p->name, sizeof p->name, "%s", parent->name);
		set_cmdline(p, parent->cmdline);
	}
	p->spans = span_process_new(emit_span, model, p->upid, start_ts);
	if (!p->spans || (token && table_put(model->by_token, token, 0, p)) ||
	    table_put(model->live_by_pid, pid, 0, p)) {
		span_process_free(p->spans);
		table_remove(model->by_token, token, 0);
		free(p->cmdline);
		free(p);
		fail(model, -ENOMEM);
		return NULL;
	}
	p->next = model->processes;
	model->processes = p;
	model->stats.processes++;
	process_write(model, p, true);
	return p;
}

/* Close the thread's CPU slice at ts, if it is on one. */
static void slice_end(struct model *model, struct thread *t, int64_t ts, const char *end_state)
{
	if (t->slice_start < 0)
		return;
	if (ts > t->slice_start)
		fail(model, tracedb_sched_slice(model->db, t->slice_cpu, t->slice_start,
						ts - t->slice_start, t->utid, end_state));
	t->slice_start = -1;
}

/* t's lock wait (if any) is over at ts: a deadlock it was part of ends. */
static void wait_end(struct model *model, struct thread *t, int64_t ts)
{
	int64_t deadlock_id = waitgraph_end(model->waits, t->utid);
	if (deadlock_id)
		fail(model, tracedb_deadlock_end(model->db, deadlock_id, ts));
}

/* t begins waiting at ts for object_id held by holder (-1: unknown); its
 * call_* fields say so already. When that closes a cycle of waits, the
 * deadlock and wait_now are written and committed at once, for readers of
 * a program that is stuck right now. */
static void wait_begin(struct model *model, struct thread *t, int64_t ts, int64_t object_id,
		       int64_t holder)
{
	wait_end(model, t, ts); /* a new call: the previous wait is over */
	if (holder < 0)
		return;
	struct waitgraph_cycle cycle;
	int rc = waitgraph_begin(model->waits, t->utid, object_id, holder, ts, &cycle);
	if (rc < 0) {
		fail(model, rc);
		return;
	}
	if (rc == 0)
		return;
	int64_t deadlock_id = model->next_deadlock_id++;
	waitgraph_mark(model->waits, &cycle, deadlock_id);
	fail(model, tracedb_deadlock(model->db, deadlock_id, ts, cycle.members, cycle.count));
	if (!model->error)
		model_write_waits(model); /* t's call is set: the cycle is in it */
	if (!model->error)
		fail(model, tracedb_commit(model->db));
}

static void thread_finish_row(struct model *model, struct thread *t, int64_t ts)
{
	if (t->ended)
		return;
	wait_end(model, t, ts);
	slice_end(model, t, ts, "Terminated");
	span_thread_end(t->spans, ts);
	t->ended = true;
	t->end_ts = span_thread_last_ts(t->spans);
	thread_write(model, t, false);
}

/* The process ends at ts: its threads, its spans, its row. */
static void process_end(struct model *model, struct process *p, int64_t ts)
{
	if (p->ended)
		return;
	/* Never before what is already known of it: its last record, and its
	 * threads' last transitions (a switch-out after its exit() call). */
	if (ts < p->last_ts)
		ts = p->last_ts;
	for (struct thread *t = p->threads; t; t = t->next)
		if (!t->ended && ts < span_thread_last_ts(t->spans))
			ts = span_thread_last_ts(t->spans);
	if (p->exec_path[0]) /* exec'd an image that never ran our library */
		snprintf(p->name, sizeof p->name, "%s", decode_basename(p->exec_path));
	for (struct thread *t = p->threads; t; t = t->next)
		thread_finish_row(model, t, ts);
	span_process_end(p->spans, ts);
	p->ended = true;
	p->end_ts = ts;
	if (live_process(model, p->pid) == p)
		table_remove(model->live_by_pid, p->pid, 0);
	process_write(model, p, false);
}

static void set_status(struct process *p, enum status_source source, int status)
{
	if (p->status_source >= source)
		return;
	int code, signal;
	if (decode_wait_status(status, &code, &signal))
		return;
	p->exit_code = code;
	p->exit_signal = signal;
	p->status_source = source;
}

/* The process that a reap/wait of pid ends: the live one, else an
 * untraced one made from a pending FORK record or from info. */
static struct process *process_for_exit(struct model *model, uint32_t pid, int64_t ts,
					struct process *reaper, const struct model_proc_info *info)
{
	struct process *p = live_process(model, pid);
	if (p)
		return p;
	p = table_get(model->exited, pid, 0);
	if (p) { /* ended at its exit (the kernel's record); now its status */
		table_remove(model->exited, pid, 0);
		return p;
	}
	struct pending_fork *fork = table_get(model->forks, pid, 0);
	if (fork) {
		struct process *parent = fork->parent;
		p = process_create(model, pid, fork->ppid, parent, 0, fork->fork_ts);
		if (p && fork->exec_path[0]) { /* its name, at its end (process_end) */
			snprintf(p->exec_path, sizeof p->exec_path, "%s", fork->exec_path);
			set_cmdline(p, fork->exec_path);
		}
		table_remove(model->forks, pid, 0);
		free(fork);
	} else {
		int64_t start = info && info->start_ts >= 0 ? info->start_ts : ts;
		if (pid == model->root_pid && model->root_fork_ts >= 0)
			start = model->root_fork_ts;
		int64_t ppid = reaper ? reaper->pid : info ? info->ppid : -1;
		p = process_create(model, pid, ppid, reaper ? reaper : live_process(model, ppid), 0,
				   start);
	}
	if (!p)
		return NULL;
	if (info && info->name[0])
		snprintf(p->name, sizeof p->name, "%s", info->name);
	if (pid == model->root_pid && !p->cmdline) {
		set_cmdline(p, model->root_cmdline);
		if (model->root_name[0]) /* argv[0], not the kernel's 15-byte comm */
			snprintf(p->name, sizeof p->name, "%s", model->root_name);
	}
	/* Untraced: alive from its start, its activity unknown; no New span. */
	span_process_start(p->spans, p->start_ts);
	return p;
}

/* --- threads ----------------------------------------------------------- */

static struct thread *thread_create(struct model *model, struct process *p, uint32_t tid,
				    int64_t created_ts)
{
	struct thread *t = calloc(1, sizeof *t);
	if (!t) {
		fail(model, -ENOMEM);
		return NULL;
	}
	t->utid = model->next_utid++;
	t->tid = tid;
	t->process = p;
	t->start_ts = created_ts;
	t->is_main = tid == p->pid;
	t->slice_start = -1;
	t->spans = span_thread_new(p->spans, t->utid, created_ts);
	if (!t->spans || (model->samples && span_thread_use_samples(t->spans)) ||
	    table_put(model->threads, p->token, tid, t)) {
		free(t);
		fail(model, -ENOMEM);
		return NULL;
	}
	if (t->is_main)
		snprintf(t->name, sizeof t->name, "%s", p->name);
	t->next = p->threads;
	p->threads = t;
	model->stats.threads++;
	thread_write(model, t, true);
	return t;
}

/* --- flows ------------------------------------------------------------- */

struct wake {
	int64_t ts;
	int64_t utid;
	const char *kind;
};

static void flow_bytes(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		       int64_t utid_in, const char *kind, int64_t object_id, int64_t bytes)
{
	if (utid_out == utid_in || ts_in < ts_out)
		return;
	fail(model,
	     tracedb_flow(model->db, ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes));
}

static void flow(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		 int64_t utid_in, const char *kind, int64_t object_id)
{
	flow_bytes(model, ts_out, utid_out, ts_in, utid_in, kind, object_id, -1);
}

/* The fork edge of p, once both its forking thread and its main thread are
 * known (the parent's FORK record and the child's first records come in
 * either order). */
static void fork_flow(struct model *model, struct process *p)
{
	if (p->fork_flow_done || p->fork_utid < 0 || p->first_ts < 0)
		return;
	struct thread *main = table_get(model->threads, p->token, p->pid);
	if (!main)
		return;
	p->fork_flow_done = true;
	flow(model, p->fork_ts, p->fork_utid, p->first_ts, main->utid, "fork", -1);
}

/* An unlock/signal/post by t on an object others may wait on. */
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

static void on_object_key(struct model *model, struct process *p, const struct weft_event *event)
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
			fail(model, -ENOMEM);
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

static void note_wake(struct model *model, struct process *p, struct thread *t,
		      const struct weft_event *event, const char *kind)
{
	uint64_t key, address;
	object_key(model, p, event->reason, event->a, &key, &address, NULL);
	struct wake *wake = table_get(model->wakes, key, address);
	if (!wake) {
		wake = malloc(sizeof *wake);
		if (!wake || table_put(model->wakes, key, address, wake)) {
			free(wake);
			fail(model, -ENOMEM);
			return;
		}
	}
	*wake = (struct wake){(int64_t)event->ts, t->utid, kind};
}

/* t's blocking call ended at ts with result: name who woke it. */
static void call_woken(struct model *model, struct process *p, struct thread *t, int64_t ts,
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
	{
		uint64_t key, address;
		object_key(model, p, t->call_reason, t->call_address, &key, &address, NULL);
		struct wake *wake = table_get(model->wakes, key, address);
		if (!wake || wake->ts < t->call_begin_ts || wake->ts > ts || wake->utid == t->utid)
			return;
		flow(model, wake->ts, wake->utid, ts, t->utid, wake->kind, t->call_object);
		span_thread_woken_by(t->spans, wake->utid);
		return;
	}
	case WEFT_REASON_JOIN: {
		struct thread *joined =
		    table_get(model->threads, p->token, (uint32_t)t->call_extra);
		if (!joined || !joined->ended)
			return;
		flow(model, joined->end_ts, joined->utid, ts, t->utid, "join", t->call_object);
		span_thread_woken_by(t->spans, joined->utid);
		return;
	}
	default:
		return;
	}
}

/* --- records ------------------------------------------------------------ */

static struct process *process_of(struct model *model, const struct model_source *source,
				  int64_t ts)
{
	struct process *p = table_get(model->by_token, source->token, 0);
	if (p)
		return p;
	/* A record before its PROC_START (lost): make the process now. */
	p = process_create(model, source->pid, source->ppid, live_process(model, source->ppid),
			   source->token, ts);
	if (p)
		span_process_start(p->spans, ts);
	return p;
}

static struct thread *thread_of(struct model *model, struct process *p,
				const struct model_source *source, int64_t ts)
{
	struct thread *t = table_get(model->threads, source->token, source->tid);
	if (t)
		return t;
	t = thread_create(model, p, source->tid, ts);
	if (t)
		span_thread_start(t->spans, ts);
	return t;
}

/* p, known so far from the kernel's records only (token 0), turns out to
 * run our code under token: its threads move to that token. Returns p, or
 * NULL (and model->error) when out of memory. */
static struct process *adopt_process(struct model *model, struct process *p, uint64_t token)
{
	if (table_put(model->by_token, token, 0, p)) {
		fail(model, -ENOMEM);
		return NULL;
	}
	for (struct thread *t = p->threads; t; t = t->next) {
		if (table_get(model->threads, 0, t->tid) == t)
			table_remove(model->threads, 0, t->tid);
		if (table_put(model->threads, token, t->tid, t)) {
			fail(model, -ENOMEM);
			return NULL;
		}
	}
	p->token = token;
	p->traced = true;
	process_write(model, p, false);
	return p;
}

static void on_proc_start(struct model *model, const struct model_source *source,
			  const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	struct process *p = table_get(model->by_token, source->token, 0);
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	char name[64], cmdline[4096];
	int argc = decode_argv(payload, len, cmdline, sizeof cmdline, name, sizeof name);
	struct process *known = p ? NULL : live_process(model, source->pid);

	if (known && !known->token) {
		/* Seen forked (perf) before its first record of ours. */
		p = adopt_process(model, known, source->token);
		if (!p)
			return;
		if (p->first_ts < 0)
			p->first_ts = ts;
	} else if (p && !p->ended) {
		/* A new image of a known process (exec): threads of the old
		 * image other than the caller died in the exec. */
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->tid != source->tid)
				thread_finish_row(model, t, ts);
		p->exec_path[0] = '\0';
	} else {
		struct pending_fork *fork = table_get(model->forks, source->pid, 0);
		struct process *parent = NULL;
		int64_t start = event->b && (int64_t)event->b <= ts ? (int64_t)event->b : ts;
		int64_t fork_utid = -1, fork_ts = 0;
		if (fork) {
			parent = fork->parent;
			if (fork->fork_ts <= ts)
				start = fork->fork_ts;
			fork_utid = fork->parent_utid;
			fork_ts = fork->fork_ts;
			table_remove(model->forks, source->pid, 0);
			free(fork);
		} else {
			parent = live_process(model, (int64_t)event->a);
		}
		if (source->pid == model->root_pid && model->root_fork_ts >= 0 &&
		    model->root_fork_ts <= ts) {
			start = model->root_fork_ts;
			model->root_fork_ts = -1; /* the first incarnation only */
		}
		p = process_create(model, source->pid, (int64_t)event->a, parent, source->token,
				   start);
		if (!p)
			return;
		p->first_ts = ts;
		p->fork_utid = fork_utid;
		p->fork_ts = fork_ts;
	}
	if (argc > 0) {
		snprintf(p->name, sizeof p->name, "%s", name);
		set_cmdline(p, cmdline);
		struct thread *main = table_get(model->threads, source->token, p->pid);
		if (main) {
			snprintf(main->name, sizeof main->name, "%s", name);
			thread_write(model, main, false);
		}
	}
	span_process_start(p->spans, ts);
	if (ts > p->last_ts)
		p->last_ts = ts;
	process_write(model, p, false);
}

static void on_thread_start(struct model *model, struct process *p,
			    const struct model_source *source, const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	struct thread *t = table_get(model->threads, source->token, source->tid);
	if (t && !t->from_kernel) {
		span_thread_start(t->spans, ts); /* the same main thread after exec */
		return;
	}
	if (!t) {
		int64_t created = ts;
		if (event->a == 0 && source->tid == p->pid)
			created = p->start_ts; /* a main thread starts with its process */
		else if (event->b && (int64_t)event->b <= ts)
			created = (int64_t)event->b;
		if (created < p->start_ts)
			created = p->start_ts;
		t = thread_create(model, p, source->tid, created);
		if (!t)
			return;
	}
	/* New, or made from perf at its clone: now it says who created it. */
	t->from_kernel = false;
	span_thread_start(t->spans, ts);
	struct thread *creator =
	    event->a ? table_get(model->threads, p->token, (uint32_t)event->a) : NULL;
	if (creator && event->b)
		flow(model, (int64_t)event->b, creator->utid, ts, t->utid, "create", -1);
	if (t->is_main)
		fork_flow(model, p);
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
	fail(model, tracedb_object_insert(model->db, id, "pipe", -1, (int64_t)ino, label));
	fail(model, table_put(model->objects, PIPE_KEY, ino, (void *)(intptr_t)id));
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
		fail(model, -ENOMEM);
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
		fail(model, channel_write(model->channels, end->peer, end->early[i].ts,
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

static void on_socket_peer(struct model *model, const struct weft_event *event)
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
	fail(model, table_put(model->tcp_waiting, label_hash(end->label), 0, end));
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
		fail(model,
		     tracedb_object_insert(model->db, id, "socket", -1, (int64_t)address, label));
		fail(model, table_put(model->objects, SOCKET_KEY, key, (void *)(intptr_t)id));
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

static void on_channel_flow(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out,
			    int64_t ts_in, int64_t utid_in, int64_t bytes)
{
	struct model *model = ctx;
	struct socket_end *end = socket_end(model, ino, false);
	if (end)
		flow_bytes(model, ts_out, utid_out, ts_in, utid_in, "socket",
			   socket_object(model, end), bytes);
	else
		flow_bytes(model, ts_out, utid_out, ts_in, utid_in, "pipe", pipe_object(model, ino),
			   bytes);
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
			fail(model, -ENOMEM);
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

static void on_fd_channel(struct model *model, struct process *p, const struct weft_event *event)
{
	uint64_t before = fd_channel(model, p, event->a);
	if (before == event->b)
		return;
	if (before && !socket_end(model, before, false))
		pipe_hold(model, before, p, -1);
	if (event->b) {
		fail(model, table_put(model->fd_channels, (uint64_t)p->upid, event->a,
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
static bool infer_pipe_writer(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
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

static void on_io_done(struct model *model, struct process *p, struct thread *t,
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
			fail(model, channel_write(model->channels, end->peer, (int64_t)event->ts,
						  t->utid, bytes));
		} else if (end->early_count < SOCKET_EARLY_SENDS) {
			end->early[end->early_count].ts = (int64_t)event->ts;
			end->early[end->early_count].utid = t->utid;
			end->early[end->early_count].bytes = bytes;
			end->early_count++;
		}
		return;
	}
	if (call_writes(event->call))
		fail(model,
		     channel_write(model->channels, ino, (int64_t)event->ts, t->utid, bytes));
	else if (call_reads(event->call)) {
		model->io_reader = t;
		fail(model, channel_read(model->channels, ino, (int64_t)event->ts, t->utid, bytes));
		model->io_reader = NULL;
	}
}

static int64_t object_for(struct model *model, struct process *p, const struct weft_event *event)
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
	else
		decode_object_label(kind, address, label, sizeof label);
	fail(model, tracedb_object_insert(model->db, id, kind, shared ? -1 : p->upid,
					  (int64_t)(shared ? shared->offset : address), label));
	fail(model, table_put(model->objects, key, slot, (void *)(intptr_t)id));
	return id;
}

static void on_fork(struct model *model, struct process *p, struct thread *t,
		    const struct weft_event *event)
{
	uint32_t child_pid = (uint32_t)event->a;
	int64_t fork_ts = event->b ? (int64_t)event->b : (int64_t)event->ts;
	struct process *child = live_process(model, child_pid);
	if (!child) /* a vfork child may have come and gone before this record */
		child = table_get(model->exited, child_pid, 0);
	char path[256];
	decode_string(event, path, sizeof path);
	if (child && child->parent_upid == p->upid) {
		/* known already: its PROC_START or the kernel's record came first */
		child->fork_utid = t->utid;
		child->fork_ts = fork_ts;
		if (!child->token && path[0]) { /* what a vfork child or a spawn runs */
			snprintf(child->name, sizeof child->name, "%s", decode_basename(path));
			set_cmdline(child, path);
			process_write(model, child, false);
			struct thread *main = table_get(model->threads, 0, child->pid);
			if (main && main->from_kernel) {
				snprintf(main->name, sizeof main->name, "%s", child->name);
				thread_write(model, main, false);
			}
		}
		fork_flow(model, child);
		return;
	}
	struct pending_fork *fork = table_get(model->forks, child_pid, 0);
	if (!fork) {
		fork = calloc(1, sizeof *fork);
		if (!fork || table_put(model->forks, child_pid, 0, fork)) {
			free(fork);
			fail(model, -ENOMEM);
			return;
		}
	}
	fork->pid = child_pid;
	fork->parent = p;
	fork->parent_utid = t->utid;
	fork->ppid = p->pid;
	fork->fork_ts = fork_ts;
	/* a vfork child's or a spawn's path: the name of a child that never
	 * runs our code, when the kernel's records do not name it */
	snprintf(fork->exec_path, sizeof fork->exec_path, "%s", path);
}

int model_event(struct model *model, const struct model_source *source,
		const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	model->stats.events++;
	if (event->type == WEFT_EV_PROC_START) {
		on_proc_start(model, source, event);
		return model->error;
	}
	struct process *p = process_of(model, source, ts);
	if (!p)
		return model->error;
	if (ts > p->last_ts)
		p->last_ts = ts;
	if (p->ended)
		return model->error; /* a straggler after the process's end */
	if (event->type == WEFT_EV_THREAD_START) {
		on_thread_start(model, p, source, event);
		return model->error;
	}
	struct thread *t = thread_of(model, p, source, ts);
	if (!t)
		return model->error;

	switch (event->type) {
	case WEFT_EV_THREAD_NAME: {
		struct thread *named = table_get(model->threads, source->token, (uint32_t)event->a);
		if (!named)
			named = t;
		decode_string(event, named->name, sizeof named->name);
		thread_write(model, named, false);
		if (named->is_main && named->name[0]) {
			snprintf(p->name, sizeof p->name, "%s", named->name);
			process_write(model, p, false);
		}
		break;
	}
	case WEFT_EV_THREAD_EXIT:
		thread_finish_row(model, t, ts);
		break;
	case WEFT_EV_PROC_EXIT:
		p->exit_ts = ts;
		set_status(p, STATUS_PROC_EXIT, (int)((event->a & 0xff) << 8));
		break;
	case WEFT_EV_BLOCK_BEGIN: {
		int64_t object_id = object_for(model, p, event);
		int64_t holder = -1;
		if ((event->reason == WEFT_REASON_MUTEX || event->reason == WEFT_REASON_RWLOCK) &&
		    event->b) {
			struct thread *owner =
			    table_get(model->threads, p->token, (uint32_t)event->b);
			if (owner)
				holder = owner->utid;
		}
		if (event->reason == WEFT_REASON_BARRIER) /* an arrival; the last one wakes */
			note_wake(model, p, t, event, "barrier");
		span_thread_call_begin(t->spans, ts, event->reason, object_id, holder);
		t->call_reason = event->reason;
		t->call_address = event->a;
		t->call_extra = event->b;
		t->call_object = object_id;
		t->call_begin_ts = ts;
		t->call_holder = holder;
		wait_begin(model, t, ts, object_id, holder);
		break;
	}
	case WEFT_EV_BLOCK_END:
		if (event->reason == WEFT_REASON_IO) /* b: bytes moved by a blocking read/write */
			on_io_done(model, p, t, event);
		call_woken(model, p, t, ts, event->b);
		span_thread_call_end(t->spans, ts);
		wait_end(model, t, ts);
		t->call_end_ts = ts;
		break;
	case WEFT_EV_UNLOCK:
		note_wake(model, p, t, event, "unlock");
		break;
	case WEFT_EV_COND_SIGNAL:
		note_wake(model, p, t, event, "signal");
		break;
	case WEFT_EV_SEM_POST:
		note_wake(model, p, t, event, "post");
		break;
	case WEFT_EV_FD_CHANNEL:
		on_fd_channel(model, p, event);
		break;
	case WEFT_EV_SOCKET_PEER:
		on_socket_peer(model, event);
		break;
	case WEFT_EV_OBJECT_KEY:
		on_object_key(model, p, event);
		break;
	case WEFT_EV_IO_DONE:
		on_io_done(model, p, t, event);
		break;
	case WEFT_EV_FORK:
		on_fork(model, p, t, event);
		break;
	case WEFT_EV_EXEC:
		decode_string(event, p->exec_path, sizeof p->exec_path);
		break;
	case WEFT_EV_EXEC_FAIL:
		p->exec_path[0] = '\0';
		break;
	case WEFT_EV_WAIT_RESULT: {
		struct process *child = process_for_exit(model, (uint32_t)event->a, ts, p, NULL);
		if (child) {
			set_status(child, STATUS_WAIT_RESULT, (int)event->b);
			if (child->ended)
				process_write(model, child, false);
			process_end(model, child, ts);
			struct thread *main = table_get(model->threads, child->token, child->pid);
			if (main && child->token) {
				/* Its exit call woke the parent's wait (ended just
				 * before this record), else this record. */
				int64_t out = child->exit_ts >= 0 ? child->exit_ts : child->end_ts;
				bool by_wait = t->call_reason == WEFT_REASON_WAIT &&
					       t->call_end_ts >= out && t->call_end_ts <= ts;
				flow(model, out, main->utid, by_wait ? t->call_end_ts : ts, t->utid,
				     "waitpid", -1);
				if (by_wait)
					span_thread_woken_by(t->spans, main->utid);
			}
		}
		break;
	}
	default:
		break; /* SIGNAL_SENT, wake-up edges: not yet used */
	}
	return model->error;
}

/* --- what only the kernel shows (perf task records) -------------------- */

/* The live process pid, or for the workload's root (which may run no code
 * of ours), a new untraced one. NULL when the trace does not know pid. */
static struct process *kernel_process(struct model *model, uint32_t pid, int64_t ts)
{
	struct process *p = live_process(model, pid);
	if (p || pid != model->root_pid || model->root_fork_ts < 0 || !pid)
		return p;
	p = process_create(model, pid, -1, NULL, 0,
			   model->root_fork_ts <= ts ? model->root_fork_ts : ts);
	if (!p)
		return NULL;
	model->root_fork_ts = -1; /* the first incarnation only */
	set_cmdline(p, model->root_cmdline);
	snprintf(p->name, sizeof p->name, "%s", model->root_name);
	return p;
}

/* Thread tid of p. Threads of untraced processes share token 0: one of an
 * earlier process whose tid was reused is not p's. */
static struct thread *thread_in(struct model *model, struct process *p, uint32_t tid)
{
	struct thread *t = table_get(model->threads, p->token, tid);
	return t && t->process == p ? t : NULL;
}

/* An untraced process whose leader exited (exit_ts) ends when its last
 * thread has: nothing of ours will report it otherwise when its parent is
 * untraced too. Its status comes with a later reap or wait (exited). */
static void untraced_exit(struct model *model, struct process *p, int64_t ts)
{
	if (p->token || p->ended || p->exit_ts < 0)
		return;
	for (struct thread *t = p->threads; t; t = t->next)
		if (!t->ended && !t->is_main)
			return;
	process_end(model, p, ts);
	if (!model->error && table_put(model->exited, p->pid, 0, p))
		fail(model, -ENOMEM);
}

/* A thread of p that none of our records announced (yet), New from ts. */
static struct thread *kernel_thread(struct model *model, struct process *p, uint32_t tid,
				    int64_t ts, const char *name)
{
	struct thread *t = thread_create(model, p, tid, ts);
	if (!t)
		return NULL;
	t->from_kernel = true;
	if (name && name[0] && strcmp(name, t->name) != 0) {
		snprintf(t->name, sizeof t->name, "%s", name);
		thread_write(model, t, false);
	}
	return t;
}

int model_task_fork(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, uint32_t ppid,
		    uint32_t ptid)
{
	struct process *parent = live_process(model, ppid);
	struct thread *creator = parent ? thread_in(model, parent, ptid) : NULL;
	if (pid == tid) { /* a new process: live from now on, untraced until it says */
		struct process *old = live_process(model, pid);
		if (old && !old->token && old->exit_ts >= 0) /* pid reused */
			process_end(model, old, old->exit_ts);
		else if (old)
			return model->error;
		table_remove(model->exited, pid, 0); /* its status never came */
		struct pending_fork *fork = table_get(model->forks, pid, 0);
		if (fork) /* our FORK record came first */
			parent = fork->parent;
		if (!parent)
			return model->error;
		struct process *p = process_create(model, pid, ppid, parent, 0, ts);
		if (!p)
			return model->error;
		p->fork_ts = ts;
		p->fork_utid = creator ? creator->utid : -1;
		if (fork) {
			p->fork_ts = fork->fork_ts;
			p->fork_utid = fork->parent_utid;
			if (fork->exec_path[0]) {
				snprintf(p->name, sizeof p->name, "%s",
					 decode_basename(fork->exec_path));
				set_cmdline(p, fork->exec_path);
			}
			table_remove(model->forks, pid, 0);
			free(fork);
		}
		kernel_thread(model, p, pid, ts, NULL);
		return model->error;
	}
	struct process *p = live_process(model, pid);
	if (!p || thread_in(model, p, tid))
		return model->error;
	kernel_thread(model, p, tid, ts, creator ? creator->name : NULL);
	return model->error;
}

int model_task_exit(struct model *model, int64_t ts, uint32_t pid, uint32_t tid)
{
	struct process *p = live_process(model, pid);
	if (!p)
		return model->error;
	if (pid == tid) {
		/* A traced process ends when it is reaped (or waited for), with
		 * its status; an untraced one when its last thread is gone. */
		if (!p->token && p->exit_ts < 0)
			p->exit_ts = ts;
		untraced_exit(model, p, ts);
		return model->error;
	}
	struct thread *t = thread_in(model, p, tid);
	if (t && !t->ended && ts >= t->start_ts)
		thread_finish_row(model, t, ts);
	untraced_exit(model, p, ts);
	return model->error;
}

int model_task_comm(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, const char *comm,
		    bool exec)
{
	struct process *p = kernel_process(model, pid, ts);
	if (!p || !comm[0])
		return model->error;
	struct thread *t = thread_in(model, p, tid);
	if (!p->token && tid == pid && !(exec && pid == model->root_pid && p->name[0])) {
		/* (the root's name is its argv[0], longer than a comm) */
		snprintf(p->name, sizeof p->name, "%s", comm);
		process_write(model, p, false);
	}
	if (t && !t->ended && (t->from_kernel || !p->token)) {
		snprintf(t->name, sizeof t->name, "%s", t->is_main && !p->token ? p->name : comm);
		thread_write(model, t, false);
	}
	return model->error;
}

int model_switch(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, int cpu, bool out,
		 bool preempt)
{
	struct process *p = kernel_process(model, pid, ts);
	if (!p)
		return model->error;
	struct thread *t = thread_in(model, p, tid);
	if (!t) /* a main thread starts with its process */
		t = kernel_thread(model, p, tid, tid == pid ? p->start_ts : ts,
				  tid == pid ? NULL : p->name);
	if (!t || t->ended)
		return model->error;
	if (!p->token && p->first_ts < 0) { /* an untraced process runs */
		p->first_ts = ts;
		span_process_start(p->spans, ts);
		fork_flow(model, p);
	}
	if (!t->has_sched) {
		t->has_sched = true;
		thread_write(model, t, false);
	}
	bool cpu_known = cpu >= 0 && cpu < MODEL_MAX_CPUS;
	if (out) {
		slice_end(model, t, ts, preempt ? "Ready" : "Blocked");
		span_thread_switch_out(t->spans, ts, preempt);
		if (cpu_known)
			model->cpu_handover[cpu] = ts;
	} else {
		if (cpu_known) {
			int64_t handover = model->cpu_handover[cpu];
			if (handover > 0 && handover <= ts && ts - handover <= SWITCH_HANDOVER_NS &&
			    handover > span_thread_last_ts(t->spans))
				ts = handover;
			model->cpu_handover[cpu] = 0;
		}
		slice_end(model, t, ts, NULL); /* a switch-out we never saw */
		t->slice_start = ts;
		t->slice_cpu = cpu;
		span_thread_switch_in(t->spans, ts, cpu);
	}
	return model->error;
}

void model_use_samples(struct model *model)
{
	model->samples = true;
}

int model_sample(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, uint64_t run_ns,
		 uint64_t wait_ns)
{
	struct process *p = live_process(model, pid);
	if (!p || !p->token || !model->samples)
		return model->error;
	struct thread *t = table_get(model->threads, p->token, tid);
	if (!t || t->ended || run_ns < t->sample_run || wait_ns < t->sample_wait)
		return model->error; /* unknown, over, or another thread's counters */
	span_thread_sample(t->spans, ts, (int64_t)(run_ns - t->sample_run),
			   (int64_t)(wait_ns - t->sample_wait));
	t->sample_run = run_ns;
	t->sample_wait = wait_ns;
	if (!t->has_samples) {
		t->has_samples = true;
		thread_write(model, t, false);
	}
	return model->error;
}

int model_write_waits(struct model *model)
{
	fail(model, tracedb_wait_now_clear(model->db));
	for (struct process *p = model->processes; p; p = p->next) {
		if (p->ended)
			continue;
		for (struct thread *t = p->threads; t; t = t->next)
			if (!t->ended && t->call_begin_ts > t->call_end_ts)
				fail(model, tracedb_wait_now(model->db, t->utid, t->call_begin_ts,
							     t->call_reason, t->call_object,
							     t->call_holder));
	}
	return model->error;
}

int model_suspend(struct model *model, int64_t ts, uint32_t pid, bool suspended)
{
	struct process *p = live_process(model, pid);
	if (p) {
		span_process_suspend(p->spans, ts, suspended);
		if (ts > p->last_ts)
			p->last_ts = ts;
	}
	return model->error;
}

int model_reaped(struct model *model, int64_t ts, uint32_t pid, int status,
		 const struct model_proc_info *info)
{
	struct process *p = process_for_exit(model, pid, ts, NULL, info);
	if (!p)
		return model->error;
	set_status(p, STATUS_REAPED, status);
	if (p->ended)
		process_write(model, p, false);
	/* With context switches, its threads' final switch-out is when it
	 * really ended; ts (the reap) is up to a drain interval later. */
	int64_t last_out = -1;
	bool all_out = p->threads != NULL;
	for (struct thread *t = p->threads; t; t = t->next) {
		if (t->ended)
			continue;
		if (!t->has_sched || t->slice_start >= 0)
			all_out = false; /* no switch data, or last seen on a CPU */
		else if (span_thread_last_ts(t->spans) > last_out)
			last_out = span_thread_last_ts(t->spans);
	}
	if (all_out && last_out >= 0 && last_out < ts)
		ts = last_out; /* process_end keeps it >= every record */
	process_end(model, p, ts);
	return model->error;
}

int model_gone(struct model *model, int64_t ts, uint32_t pid)
{
	struct process *p = live_process(model, pid);
	if (p)
		process_end(model, p, p->exit_ts >= 0 ? p->exit_ts : p->last_ts);
	return model->error;
}

struct pid_list {
	uint32_t *pids;
	size_t cap;
	size_t count;
};

static void list_pid(void *ctx, void *value)
{
	struct pid_list *list = ctx;
	if (list->count < list->cap)
		list->pids[list->count] = ((struct pending_fork *)value)->pid;
	list->count++;
}

size_t model_unfinished_pids(const struct model *model, uint32_t *pids, size_t cap)
{
	struct pid_list list = {pids, cap, 0};
	for (struct process *p = model->processes; p; p = p->next)
		if (!p->ended) {
			if (list.count < cap)
				pids[list.count] = p->pid;
			list.count++;
		}
	table_each(model->forks, list_pid, &list);
	return list.count;
}

struct fork_list {
	uint32_t *pids;
	size_t count;
};

static void list_fork(void *ctx, void *value)
{
	struct fork_list *list = ctx;
	list->pids[list->count++] = ((struct pending_fork *)value)->pid;
}

int model_finish(struct model *model, int64_t ts)
{
	/* FORK records nobody matched: children that never ran our code and
	 * whose end nobody reported. */
	struct fork_list list = {calloc(table_count(model->forks) + 1, sizeof(uint32_t)), 0};
	if (!list.pids)
		return -ENOMEM;
	table_each(model->forks, list_fork, &list);
	for (size_t i = 0; i < list.count; i++) {
		struct process *p = process_for_exit(model, list.pids[i], ts, NULL, NULL);
		if (p)
			process_end(model, p, ts);
	}
	free(list.pids);
	for (struct process *p = model->processes; p; p = p->next)
		if (!p->ended)
			process_end(model, p, p->exit_ts >= 0 ? p->exit_ts : ts);
	return model->error;
}
