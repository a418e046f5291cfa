/*
 * model_kernel.c — what only the kernel shows the model: perf task
 * records (a task forked, exited, renamed) for every task of the tree,
 * whether it runs our code or not; context switches (Running, Ready,
 * sched_slice rows); and, without perf, schedstat samples.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "model_internal.h"
#include "span.h"
#include "table.h"

/* A switch-in record is written when the context switch has finished; the
 * switch-out record of the task that left the CPU marks the moment the
 * CPU changed hands (where the kernel's sched_switch tracepoint is). When
 * the two are this close, the incoming thread runs from the switch-out:
 * the switch itself is not counted as time off the CPU. */
#define SWITCH_HANDOVER_NS 30000

/* The live process pid, or for the workload's root (which may run no code
 * of ours), a new untraced one. NULL when the trace does not know pid. */
static struct process *kernel_process(struct model *model, uint32_t pid, int64_t ts)
{
	struct process *p = model_live_process(model, pid);
	if (p || pid != model->root_pid || model->root_fork_ts < 0 || !pid)
		return p;
	p = model_process_create(model, pid, -1, NULL, 0,
				 model->root_fork_ts <= ts ? model->root_fork_ts : ts);
	if (!p)
		return NULL;
	model->root_fork_ts = -1; /* the first incarnation only */
	model_set_cmdline(p, model->root_cmdline);
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
	model_process_end(model, p, ts);
	if (!model->error && table_put(model->exited, p->pid, 0, p))
		model_fail(model, -ENOMEM);
}

/* A thread of p that none of our records announced (yet), New from ts. */
static struct thread *kernel_thread(struct model *model, struct process *p, uint32_t tid,
				    int64_t ts, const char *name)
{
	struct thread *t = model_thread_create(model, p, tid, ts);
	if (!t)
		return NULL;
	t->from_kernel = true;
	if (name && name[0] && strcmp(name, t->name) != 0) {
		snprintf(t->name, sizeof t->name, "%s", name);
		model_thread_write(model, t, false);
	}
	return t;
}

int model_task_fork(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, uint32_t ppid,
		    uint32_t ptid)
{
	struct process *parent = model_live_process(model, ppid);
	struct thread *creator = parent ? thread_in(model, parent, ptid) : NULL;
	if (pid == tid) { /* a new process: live from now on, untraced until it says */
		struct process *old = model_live_process(model, pid);
		if (old && !old->token && old->exit_ts >= 0) /* pid reused */
			model_process_end(model, old, old->exit_ts);
		else if (old)
			return model->error;
		table_remove(model->exited, pid, 0); /* its status never came */
		struct pending_fork *fork = table_get(model->forks, pid, 0);
		if (fork) /* our FORK record came first */
			parent = fork->parent;
		if (!parent)
			return model->error;
		struct process *p = model_process_create(model, pid, ppid, parent, 0, ts);
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
				model_set_cmdline(p, fork->exec_path);
			}
			table_remove(model->forks, pid, 0);
			free(fork);
		}
		kernel_thread(model, p, pid, ts, NULL);
		return model->error;
	}
	struct process *p = model_live_process(model, pid);
	if (!p || thread_in(model, p, tid))
		return model->error;
	kernel_thread(model, p, tid, ts, creator ? creator->name : NULL);
	return model->error;
}

int model_task_exit(struct model *model, int64_t ts, uint32_t pid, uint32_t tid)
{
	struct process *p = model_live_process(model, pid);
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
		model_thread_finish_row(model, t, ts);
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
		model_process_write(model, p, false);
	}
	if (t && !t->ended && (t->from_kernel || !p->token)) {
		snprintf(t->name, sizeof t->name, "%s", t->is_main && !p->token ? p->name : comm);
		model_thread_write(model, t, false);
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
		model_fork_flow(model, p);
	}
	if (!t->has_sched) {
		t->has_sched = true;
		model_thread_write(model, t, false);
	}
	bool cpu_known = cpu >= 0 && cpu < MODEL_MAX_CPUS;
	if (out) {
		model_slice_end(model, t, ts, preempt ? "Ready" : "Blocked");
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
		model_slice_end(model, t, ts, NULL); /* a switch-out we never saw */
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
	struct process *p = model_live_process(model, pid);
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
		model_thread_write(model, t, false);
	}
	return model->error;
}
