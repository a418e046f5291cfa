/*
 * model.c — processes and threads of model.h (model_internal.h says how
 * the model is split: objects and IPC in model_ipc.c, what only the
 * kernel shows in model_kernel.c).
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

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "decode.h"
#include "lockgraph.h"
#include "model_internal.h"
#include "span.h"
#include "stackdb.h"
#include "table.h"
#include "waitgraph.h"

static void emit_span(void *ctx, const struct span *span)
{
	struct model *model = ctx;
	if (tracedb_span(model->db, span) && !model->error)
		model->error = -EIO;
}

void model_fail(struct model *model, int error)
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
	model->channels = channel_new(model_ipc_channel_flow, model);
	model->pipe_holders = table_new();
	model->sockets = table_new();
	model->shared_keys = table_new();
	model->tcp_waiting = table_new();
	model->epoll_data = table_new();
	if (model->channels)
		channel_set_infer(model->channels, model_ipc_infer_pipe_writer);
	model->waits = waitgraph_new();
	model->next_deadlock_id = 1;
	model->locks = table_new();
	model->next_candidate_mark = 1;
	model->lock_orders = lockgraph_new();
	model->stacks = stackdb_new(db);
	model->waker_callsite = -1;
	model->next_lock_cycle_id = 1;
	model->next_upid = 1;
	model->next_utid = 1;
	model->next_object_id = 1;
	model->root_fork_ts = -1;
	if (!model->by_token || !model->live_by_pid || !model->exited || !model->threads ||
	    !model->objects || !model->forks || !model->wakes || !model->fd_channels ||
	    !model->channels || !model->waits || !model->pipe_holders || !model->sockets ||
	    !model->tcp_waiting || !model->epoll_data || !model->shared_keys || !model->locks ||
	    !model->lock_orders) {
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
	stackdb_free(model->stacks);
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
	table_free(model->epoll_data);	/* its values are fds, not pointers */
	channel_free(model->channels);
	model_lock_free(model);
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

void model_process_write(struct model *model, struct process *p, bool insert)
{
	struct tracedb_process row;
	process_row(p, &row);
	model_fail(model, insert ? tracedb_process_insert(model->db, &row)
				 : tracedb_process_update(model->db, &row));
}

void model_thread_write(struct model *model, struct thread *t, bool insert)
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
	model_fail(model, insert ? tracedb_thread_insert(model->db, &row)
				 : tracedb_thread_update(model->db, &row));
}

/* --- processes -------------------------------------------------------- */

struct process *model_live_process(struct model *model, int64_t pid)
{
	struct process *p = pid > 0 ? table_get(model->live_by_pid, (uint64_t)pid, 0) : NULL;
	assert(!p || (!p->ended && p->pid == (uint32_t)pid)); /* process_end takes it out */
	return p;
}

void model_set_cmdline(struct process *p, const char *cmdline)
{
	free(p->cmdline);
	p->cmdline = cmdline ? strdup(cmdline) : NULL;
}

/* A new process row, New from start_ts. NULL (and model->error) on
 * failure. */
struct process *model_process_create(struct model *model, uint32_t pid, int64_t ppid,
				     struct process *parent, uint64_t token, int64_t start_ts)
{
	struct process *p = calloc(1, sizeof *p);
	if (!p) {
		model_fail(model, -ENOMEM);
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
		model_set_cmdline(p, parent->cmdline);
	}
	p->spans = span_process_new(emit_span, model, p->upid, start_ts);
	if (!p->spans || (token && table_put(model->by_token, token, 0, p)) ||
	    table_put(model->live_by_pid, pid, 0, p)) {
		span_process_free(p->spans);
		table_remove(model->by_token, token, 0);
		free(p->cmdline);
		free(p);
		model_fail(model, -ENOMEM);
		return NULL;
	}
	p->next = model->processes;
	model->processes = p;
	model->stats.processes++;
	model_process_write(model, p, true);
	return p;
}

/* Close the thread's CPU slice at ts, if it is on one. */
void model_slice_end(struct model *model, struct thread *t, int64_t ts, const char *end_state)
{
	if (t->slice_start < 0)
		return;
	if (ts > t->slice_start)
		model_fail(model, tracedb_sched_slice(model->db, t->slice_cpu, t->slice_start,
						      ts - t->slice_start, t->utid, end_state));
	t->slice_start = -1;
}

void model_thread_finish_row(struct model *model, struct thread *t, int64_t ts)
{
	if (t->ended)
		return;
	model_lock_thread_end(model, t, ts);
	model_slice_end(model, t, ts, "Terminated");
	span_thread_end(t->spans, ts);
	t->ended = true;
	t->end_ts = span_thread_last_ts(t->spans);
	model_thread_write(model, t, false);
	model_retire_later(model, t);
}

/* The process ends at ts: its threads, its spans, its row. */
void model_process_end(struct model *model, struct process *p, int64_t ts)
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
	bool live = model_live_process(model, p->pid) == p;
	for (struct thread *t = p->threads; t; t = t->next)
		model_thread_finish_row(model, t, ts);
	span_process_end(p->spans, ts);
	assert(ts >= p->start_ts); /* last_ts starts at start_ts and only grows */
	p->ended = true;
	p->end_ts = ts;
	if (live)
		table_remove(model->live_by_pid, p->pid, 0);
	model_process_write(model, p, false);
}

/* --- threads ----------------------------------------------------------- */

struct thread *model_thread_create(struct model *model, struct process *p, uint32_t tid,
				   int64_t created_ts)
{
	struct thread *t = calloc(1, sizeof *t);
	if (!t) {
		model_fail(model, -ENOMEM);
		return NULL;
	}
	assert(!p->ended); /* threads of an ended process end with it */
	t->utid = model->next_utid++;
	t->tid = tid;
	t->process = p;
	t->start_ts = created_ts;
	t->is_main = tid == p->pid;
	t->slice_start = -1;
	t->wait_callsite = -1;
	t->wake_callsite = -1;
	t->spans = span_thread_new(p->spans, t->utid, created_ts);
	if (!t->spans || (model->samples && span_thread_use_samples(t->spans)) ||
	    table_put(model->threads, p->token, tid, t)) {
		free(t);
		model_fail(model, -ENOMEM);
		return NULL;
	}
	if (t->is_main)
		snprintf(t->name, sizeof t->name, "%s", p->name);
	t->next = p->threads;
	p->threads = t;
	model->stats.threads++;
	model->stats.threads_held++;
	model_thread_write(model, t, true);
	return t;
}

/* --- flows ------------------------------------------------------------- */

void model_flow_bytes(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		      int64_t utid_in, const char *kind, int64_t object_id, int64_t bytes)
{
	if (utid_out == utid_in || ts_in < ts_out)
		return;
	model_fail(model, tracedb_flow(model->db, ts_out, utid_out, ts_in, utid_in, kind, object_id,
				       bytes));
}

void model_flow(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		int64_t utid_in, const char *kind, int64_t object_id)
{
	model_flow_bytes(model, ts_out, utid_out, ts_in, utid_in, kind, object_id, -1);
}

#define WAKE_SKEW_NS 200000

void model_wake_flow(struct model *model, int64_t ts_out, int64_t utid_out, struct thread *t,
		     int64_t ts, const char *kind, int64_t object_id)
{
	/* A waker's record may be stamped when its call returned (a pipe
	 * write's IO_DONE), after the kernel already ran the thread it woke:
	 * a Blocked span that ended up to WAKE_SKEW_NS before the record is
	 * still the one it ended, and the wake happened no later than the
	 * switch-in. An older span is another wait's. */
	int64_t blocked_end = span_thread_woken_by(t->spans, utid_out, ts_out - WAKE_SKEW_NS);
	span_thread_waker_callsite(t->spans, model->waker_callsite);
	if (blocked_end < 0 || blocked_end > ts) {
		model_flow(model, ts_out, utid_out, ts, t->utid, kind, object_id);
		return;
	}
	if (ts_out > blocked_end)
		ts_out = blocked_end;
	model_flow(model, ts_out, utid_out, blocked_end, t->utid, kind, object_id);
}

/* The fork edge of p, once both its forking thread and its main thread are
 * known (the parent's FORK record and the child's first records come in
 * either order). */
void model_fork_flow(struct model *model, struct process *p)
{
	if (p->fork_flow_done || p->fork_utid < 0 || p->first_ts < 0)
		return;
	struct thread *main = table_get(model->threads, p->token, p->pid);
	if (!main)
		return;
	p->fork_flow_done = true;
	model_flow(model, p->fork_ts, p->fork_utid, p->first_ts, main->utid, "fork", -1);
}
/* --- records ------------------------------------------------------------ */

static struct process *process_of(struct model *model, const struct model_source *source,
				  int64_t ts)
{
	struct process *p = table_get(model->by_token, source->token, 0);
	if (p)
		return p;
	/* A record before its PROC_START (lost): make the process now. */
	p = model_process_create(model, source->pid, source->ppid,
				 model_live_process(model, source->ppid), source->token, ts);
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
	t = model_thread_create(model, p, source->tid, ts);
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
		model_fail(model, -ENOMEM);
		return NULL;
	}
	for (struct thread *t = p->threads; t; t = t->next) {
		if (table_get(model->threads, 0, t->tid) == t)
			table_remove(model->threads, 0, t->tid);
		if (table_put(model->threads, token, t->tid, t)) {
			model_fail(model, -ENOMEM);
			return NULL;
		}
	}
	p->token = token;
	p->traced = true;
	model_process_write(model, p, false);
	return p;
}

/* PROC_TITLE: a fork child's command line at its end, as ps shows it; the
 * first argument (an overwritten argv[0] holds the whole title) names it. */
static void model_process_retitle(struct model *model, struct process *p,
				  const struct weft_event *event)
{
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	char name[64], cmdline[4096];
	if (decode_argv(payload, len, cmdline, sizeof cmdline, name, sizeof name) <= 0 ||
	    (p->cmdline && !strcmp(p->cmdline, cmdline)))
		return;
	/* the title as written: trailing padding of the argv area dropped */
	size_t end = strlen(cmdline);
	while (end && cmdline[end - 1] == ' ')
		cmdline[--end] = '\0';
	snprintf(p->name, sizeof p->name, "%.*s", (int)strcspn(cmdline, "\t"), cmdline);
	model_set_cmdline(p, cmdline);
	model_process_write(model, p, false);
	model_fail(model, tracedb_process_title(model->db, p->upid, (int64_t)event->ts, p->name,
						p->cmdline));
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
	struct process *known = p ? NULL : model_live_process(model, source->pid);

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
				model_thread_finish_row(model, t, ts);
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
			parent = model_live_process(model, (int64_t)event->a);
		}
		if (source->pid == model->root_pid && model->root_fork_ts >= 0 &&
		    model->root_fork_ts <= ts) {
			start = model->root_fork_ts;
			model->root_fork_ts = -1; /* the first incarnation only */
		}
		p = model_process_create(model, source->pid, (int64_t)event->a, parent,
					 source->token, start);
		if (!p)
			return;
		p->first_ts = ts;
		p->fork_utid = fork_utid;
		p->fork_ts = fork_ts;
	}
	if (argc > 0) {
		snprintf(p->name, sizeof p->name, "%s", name);
		model_set_cmdline(p, cmdline);
		struct thread *main = table_get(model->threads, source->token, p->pid);
		if (main) {
			snprintf(main->name, sizeof main->name, "%s", name);
			model_thread_write(model, main, false);
		}
	}
	span_process_start(p->spans, ts);
	if (ts > p->last_ts)
		p->last_ts = ts;
	model_process_write(model, p, false);
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
		t = model_thread_create(model, p, source->tid, created);
		if (!t)
			return;
	}
	/* New, or made from perf at its clone: now it says who created it. */
	t->from_kernel = false;
	span_thread_start(t->spans, ts);
	struct thread *creator =
	    event->a ? table_get(model->threads, p->token, (uint32_t)event->a) : NULL;
	if (creator && event->b)
		model_flow(model, (int64_t)event->b, creator->utid, ts, t->utid, "create", -1);
	if (t->is_main)
		model_fork_flow(model, p);
}
static void on_fork(struct model *model, struct process *p, struct thread *t,
		    const struct weft_event *event)
{
	uint32_t child_pid = (uint32_t)event->a;
	int64_t fork_ts = event->b ? (int64_t)event->b : (int64_t)event->ts;
	struct process *child = model_live_process(model, child_pid);
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
			model_set_cmdline(child, path);
			model_process_write(model, child, false);
			struct thread *main = table_get(model->threads, 0, child->pid);
			if (main && main->from_kernel) {
				snprintf(main->name, sizeof main->name, "%s", child->name);
				model_thread_write(model, main, false);
			}
		}
		model_fork_flow(model, child);
		return;
	}
	struct pending_fork *fork = table_get(model->forks, child_pid, 0);
	if (!fork) {
		fork = calloc(1, sizeof *fork);
		if (!fork || table_put(model->forks, child_pid, 0, fork)) {
			free(fork);
			model_fail(model, -ENOMEM);
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

/* THREAD_NAME: thread a of the process (t when a is unknown) is named; a
 * main thread names its process. */
static void on_thread_name(struct model *model, struct process *p, struct thread *t,
			   const struct model_source *source, const struct weft_event *event)
{
	struct thread *named = table_get(model->threads, source->token, (uint32_t)event->a);
	if (!named)
		named = t;
	char name[sizeof named->name];
	decode_string(event, name, sizeof name);
	/* the kernel's cut (15 characters) of a longer name a runtime gave a
	 * thread other than the main one (a Java thread's, jvm.h) keeps the
	 * longer one; a main thread's is its process's, named as the kernel
	 * names it */
	if (!named->is_main && strlen(name) == 15 && strlen(named->name) > 15 &&
	    !strncmp(named->name, name, 15))
		return;
	memcpy(named->name, name, sizeof name);
	model_thread_write(model, named, false);
	if (named->is_main && named->name[0]) {
		/* the kernel's comm is the image's name cut to 15
		 * characters: a retitle only when it says more */
		bool retitled = strncmp(p->name, named->name, 15) != 0;
		snprintf(p->name, sizeof p->name, "%s", named->name);
		model_process_write(model, p, false);
		if (retitled)
			model_fail(model,
				   tracedb_process_title(model->db, p->upid, (int64_t)event->ts,
							 p->name, p->cmdline));
	}
}

/* BLOCK_BEGIN: t enters a blocking call on an object, held by its owner
 * when the record names one (mutex, rwlock writer). */
static void on_block_begin(struct model *model, struct process *p, struct thread *t,
			   const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	int64_t object_id = event->reason == WEFT_REASON_POLL
				? model_poll_object(model, p, event)
				: model_ipc_object_for(model, p, event);
	int64_t holder = model_lock_holder_named(model, p, t, event, object_id);
	if (event->reason == WEFT_REASON_FUTEX && event->b) { /* a PI futex's owner */
		struct thread *owner = table_get(model->threads, p->token, (uint32_t)event->b);
		if (owner)
			holder = owner->utid;
	}
	if (event->reason == WEFT_REASON_BARRIER) /* an arrival; the last one wakes */
		model_ipc_note_wake(model, p, t, event, "barrier");
	span_thread_call_callsite(t->spans, t->wait_callsite);
	span_thread_call_begin(t->spans, ts, event->reason, object_id, holder);
	if (t->wait_callsite >= 0 && model->stacks)
		model_fail(model,
			   stackdb_object_first_use(model->stacks, object_id, t->wait_callsite));
	t->wait_callsite = -1;
	t->call_reason = event->reason;
	t->call_address = event->a;
	t->call_extra = event->b;
	t->call_object = object_id;
	t->call_begin_ts = ts;
	t->call_holder = holder;
	model_lock_wait_begin(model, p, t, event, object_id, holder);
}

/* WAIT_RESULT: t's wait reaped child a with status b: the child ends, and
 * its exit woke t. */
static void on_wait_result(struct model *model, struct process *p, struct thread *t,
			   const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	struct process *child = model_exit_process(model, (uint32_t)event->a, ts, p, NULL);
	if (!child)
		return;
	model_exit_status(child, STATUS_WAIT_RESULT, (int)event->b);
	if (child->ended)
		model_process_write(model, child, false);
	model_process_end(model, child, ts);
	struct thread *main = table_get(model->threads, child->token, child->pid);
	if (!main || !child->token)
		return;
	/* Its exit call woke the parent's wait (ended just before this
	 * record), else this record. */
	int64_t out = child->exit_ts >= 0 ? child->exit_ts : child->end_ts;
	bool by_wait =
	    t->call_reason == WEFT_REASON_WAIT && t->call_end_ts >= out && t->call_end_ts <= ts;
	if (by_wait)
		model_wake_flow(model, out, main->utid, t, t->call_end_ts, "waitpid", -1);
	else
		model_flow(model, out, main->utid, ts, t->utid, "waitpid", -1);
}

/* STACK: where t is, for the wait or wake-up record that follows. */
static void on_stack(struct model *model, struct process *p, struct thread *t,
		     const struct weft_event *event)
{
	if (!model->stacks)
		return;
	int64_t callsite = stackdb_stack(model->stacks, p->upid, event);
	if (callsite < -1) {
		model_fail(model, (int)callsite);
		callsite = -1;
	}
	if (event->reason == 2) /* stacks.h: STACKS_WAKE */
		t->wake_callsite = callsite;
	else
		t->wait_callsite = callsite;
}

/* A record of thread t of live process p, other than PROC_START and
 * THREAD_START. */
static void on_record(struct model *model, struct process *p, struct thread *t,
		      const struct model_source *source, const struct weft_event *event)
{
	int64_t ts = (int64_t)event->ts;
	switch (event->type) {
	case WEFT_EV_THREAD_NAME:
		on_thread_name(model, p, t, source, event);
		break;
	case WEFT_EV_PROC_TITLE:
		model_process_retitle(model, p, event);
		break;
	case WEFT_EV_THREAD_EXIT:
		model_thread_finish_row(model, t, ts);
		break;
	case WEFT_EV_PROC_EXIT:
		p->exit_ts = ts;
		model_exit_status(p, STATUS_PROC_EXIT, (int)((event->a & 0xff) << 8));
		break;
	case WEFT_EV_BLOCK_BEGIN:
		on_block_begin(model, p, t, event);
		break;
	case WEFT_EV_BLOCK_END:
		if (event->reason == WEFT_REASON_IO) /* b: bytes moved by a blocking read/write */
			model_ipc_io_done(model, p, t, event);
		else if (event->reason == WEFT_REASON_POLL && (int64_t)event->b > 0)
			model_poll_ready(model, p, t, event);
		model_ipc_call_woken(model, p, t, ts, event->b);
		span_thread_call_end(t->spans, ts);
		model_lock_wait_end(model, t, ts, (int64_t)event->b);
		t->call_end_ts = ts;
		break;
	case WEFT_EV_UNLOCK:
		model_ipc_note_wake(model, p, t, event,
				    event->reason == WEFT_REASON_FUTEX ? "futex" : "unlock");
		model_lock_unlock(model, p, t, event);
		break;
	case WEFT_EV_COND_SIGNAL:
		model_ipc_note_wake(model, p, t, event, "signal");
		break;
	case WEFT_EV_LOCK_ORDER:
		model_lock_order(model, p, t, event);
		break;
	case WEFT_EV_SEM_POST:
		model_ipc_note_wake(model, p, t, event, "post");
		break;
	case WEFT_EV_OBJECT_NAME:
		model_ipc_object_named(model, p, event);
		break;
	case WEFT_EV_RUNTIME_NOTE: {
		char note[256], key[32];
		decode_string(event, note, sizeof note);
		snprintf(key, sizeof key, "runtime_note.%u", p->pid);
		model_fail(model, tracedb_meta(model->db, key, note));
		break;
	}
	case WEFT_EV_FD_CHANNEL:
		model_ipc_fd_channel(model, p, event);
		break;
	case WEFT_EV_SOCKET_PEER:
		model_ipc_socket_peer(model, event);
		break;
	case WEFT_EV_OBJECT_KEY:
		model_ipc_object_key(model, p, event);
		break;
	case WEFT_EV_IO_DONE:
		model_ipc_io_done(model, p, t, event);
		break;
	case WEFT_EV_EPOLL_CTL:
		model_poll_ctl(model, p, event);
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
	case WEFT_EV_WAIT_RESULT:
		on_wait_result(model, p, t, event);
		break;
	case WEFT_EV_STACK:
		on_stack(model, p, t, event);
		break;
	case WEFT_EV_MODULE:
		if (model->stacks)
			model_fail(model, stackdb_module(model->stacks, p->upid, event));
		break;
	default:
		break; /* SIGNAL_SENT, wake-up edges: not yet used */
	}
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
	on_record(model, p, t, source, event);
	return model->error;
}
