/*
 * model_exit.c — how the model's processes end, as the collector sees
 * them: exit status from the best source that reported it (reap, a traced
 * parent's wait, the process's own PROC_EXIT), processes that only a reap
 * or a FORK record names (untraced), stops and continues, processes gone
 * in attach mode, and the end of the recording (model_finish).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "model_internal.h"
#include "stackdb.h"
#include "span.h"
#include "table.h"

void model_exit_status(struct process *p, enum status_source source, int status)
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
struct process *model_exit_process(struct model *model, uint32_t pid, int64_t ts,
				   struct process *reaper, const struct model_proc_info *info)
{
	struct process *p = model_live_process(model, pid);
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
		p = model_process_create(model, pid, fork->ppid, parent, 0, fork->fork_ts);
		if (p && fork->exec_path[0]) { /* its name, at its end (model_process_end) */
			snprintf(p->exec_path, sizeof p->exec_path, "%s", fork->exec_path);
			model_set_cmdline(p, fork->exec_path);
		}
		table_remove(model->forks, pid, 0);
		free(fork);
	} else {
		int64_t start = info && info->start_ts >= 0 ? info->start_ts : ts;
		if (pid == model->root_pid && model->root_fork_ts >= 0)
			start = model->root_fork_ts;
		int64_t ppid = reaper ? reaper->pid : info ? info->ppid : -1;
		p = model_process_create(
		    model, pid, ppid, reaper ? reaper : model_live_process(model, ppid), 0, start);
	}
	if (!p)
		return NULL;
	if (info && info->name[0])
		snprintf(p->name, sizeof p->name, "%s", info->name);
	if (pid == model->root_pid && !p->cmdline) {
		model_set_cmdline(p, model->root_cmdline);
		if (model->root_name[0]) /* argv[0], not the kernel's 15-byte comm */
			snprintf(p->name, sizeof p->name, "%s", model->root_name);
	}
	/* Untraced: alive from its start, its activity unknown; no New span. */
	span_process_start(p->spans, p->start_ts);
	return p;
}

int model_suspend(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, bool suspended)
{
	struct process *p = model_live_process(model, pid);
	if (!p)
		return model->error;
	if (tid) {
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->tid == tid && !t->ended)
				span_thread_suspend(t->spans, ts, suspended);
	} else {
		span_process_suspend(p->spans, ts, suspended);
	}
	if (ts > p->last_ts)
		p->last_ts = ts;
	return model->error;
}

int model_reaped(struct model *model, int64_t ts, uint32_t pid, int status,
		 const struct model_proc_info *info)
{
	struct process *p = model_exit_process(model, pid, ts, NULL, info);
	if (!p)
		return model->error;
	model_exit_status(p, STATUS_REAPED, status);
	if (p->ended)
		model_process_write(model, p, false);
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
	model_process_end(model, p, ts);
	return model->error;
}

int model_gone(struct model *model, int64_t ts, uint32_t pid)
{
	struct process *p = model_live_process(model, pid);
	if (p)
		model_process_end(model, p, p->exit_ts >= 0 ? p->exit_ts : p->last_ts);
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
		struct process *p = model_exit_process(model, list.pids[i], ts, NULL, NULL);
		if (p)
			model_process_end(model, p, ts);
	}
	free(list.pids);
	for (struct process *p = model->processes; p; p = p->next)
		if (!p->ended)
			model_process_end(model, p, p->exit_ts >= 0 ? p->exit_ts : ts);
	model_lock_finish(model);
	if (model->stacks && !model->error) {
		const char *mode = getenv("WEFT_STACKS"); /* weft record's --stacks */
		model_fail(model, stackdb_finish(model->stacks, mode && *mode ? mode : "full",
						 tracedb_tells_progress(model->db)));
	}
	return model->error;
}