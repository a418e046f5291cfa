/*
 * model.h — the collector's picture of the traced processes and threads:
 * identity, life cycle and exit status, fed with decoded ring records in
 * timestamp order, written to the trace as it changes.
 *
 * Identity: a process incarnation is a ring token. PROC_START origin FORK
 * (or EXEC with an unknown token: posix_spawn, the first program) creates a
 * process; its parent is the process whose FORK record named the child pid,
 * else the live process with pid == ppid. PROC_START origin EXEC with a
 * known token is the same process with a new image (name, cmdline). A
 * thread is (token, tid): the main thread keeps its row across exec.
 *
 * Exit status, best source first: the collector reaping the process
 * (model_reaped), a traced parent's WAIT_RESULT, the PROC_EXIT record.
 * Processes that never wrote a record (static binaries, killed early) get
 * a row with traced = 0 when their parent's FORK record or a reap names
 * them. Threads of an ended process end with it.
 *
 * States come from the span builder (span.h): blocking calls from the
 * records, and, when the collector reads them, context switches
 * (model_switch), which also give sched_slice rows. Wake-up edges become
 * flow rows and the waker_utid of the Blocked span they end: pthread_create
 * -> first record, fork -> child's first record, unlock/signal/post -> the
 * wait on that object that ends after it, thread exit -> join, child exit
 * -> the parent's wait, and bytes written into a pipe -> the read that took
 * them out (FD_CHANNEL names each fd's pipe, IO_DONE the bytes; channel.h
 * matches them). A process stopped and continued (model_suspend) is
 * Suspended in between, and so is a thread stopped alone.
 *
 * Holders and deadlocks (model_lock.c): a lock wait names the thread that
 * holds the lock by the trace's own record, and changes holder when the
 * trace shows the lock change hands; lock waits that name their holder
 * are edges of a wait-for graph (waitgraph.h); a cycle that stands
 * MODEL_DEADLOCK_CONFIRM_NS is a deadlock row, committed at once, so that
 * a reader sees it while the program is stuck; the row's end is the first
 * of its waits to end.
 *
 * Single-threaded: the collector's loop owns the model.
 */
#ifndef WEFT_MODEL_H
#define WEFT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tracedb.h"

struct model;

/* Where a record came from: its ring slot's identity. */
struct model_source {
	uint64_t token;
	uint32_t pid;
	uint32_t tid;
	uint32_t ppid;
};

/* What the collector read from /proc/<pid>/stat of a zombie before
 * reaping it (start_ts < 0 when unreadable). */
struct model_proc_info {
	int64_t start_ts;
	int64_t ppid;
	char name[32];
};

struct model_stats {
	int64_t processes;
	int64_t threads;
	int64_t events;
	int64_t threads_held; /* thread entries in memory now (live, or ended lately) */
};

/* A model writing to db (borrowed). NULL when out of memory. */
struct model *model_new(struct tracedb *db);
void model_free(struct model *model);

/* The collector forked pid at fork_ts to run the workload (name and
 * cmdline may be NULL; copied): that process's life starts at fork_ts, and
 * its name and command line are known even if it never runs our library. */
void model_set_root(struct model *model, uint32_t pid, int64_t fork_ts, const char *name,
		    const char *cmdline);

/* Apply one record (with its payload after the header). Returns 0, or -EIO
 * when writing the trace failed, -ENOMEM. */
int model_event(struct model *model, const struct model_source *source,
		const struct weft_event *event);

/* A context switch of thread tid of process pid at ts (perf): switched in
 * on cpu (out false), or out, preempted (still runnable) or not. A thread
 * of a live process that the trace does not know yet (one that runs no
 * code of ours: a raw clone(), a static binary's) is made at its first
 * switch, when no model_task_fork made it earlier. Switches of processes
 * the trace does not know are ignored. Returns 0, -EIO or -ENOMEM. */
int model_switch(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, int cpu, bool out,
		 bool preempt);

/* The kernel's account of tasks (perf task and comm records), for every
 * task of the tree whether it runs our code or not:
 *   model_task_fork  task tid of process pid was created at ts by thread
 *                    ptid of process ppid (pid == tid: a new process);
 *   model_task_exit  it exited at ts (ends its thread row);
 *   model_task_comm  its name became comm (exec: set by an exec).
 * A new process of the tree that runs no code of ours is live from its
 * fork on, with threads and scheduler spans; one that does is joined to
 * its own records when they come. Names from comm go only to threads and
 * processes that have no name of their own records. Returns 0, -EIO or
 * -ENOMEM. */
int model_task_fork(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, uint32_t ppid,
		    uint32_t ptid);
int model_task_exit(struct model *model, int64_t ts, uint32_t pid, uint32_t tid);
int model_task_comm(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, const char *comm,
		    bool exec);

/* Threads created from now on take Running/Ready from model_sample
 * (sampled mode, span.h). Call it before the first record. */
void model_use_samples(struct model *model);

/* The CPU counters of thread tid of process pid read at ts: run_ns on a
 * CPU and wait_ns runnable, since the thread began (schedstat). The
 * difference from the previous sample becomes the thread's Running/Ready
 * time in between; its thread row says sched_source 'schedstat'. Samples
 * of threads the trace does not know, or of ended threads, are ignored.
 * Returns 0, -EIO or -ENOMEM. */
int model_sample(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, uint64_t run_ns,
		 uint64_t wait_ns);

/* How long a cycle of lock waits must stand before it is a deadlock
 * (model_lock.c): long beyond the moments a holder's release and a
 * waiter's acquisition take to show in their records. */
#define MODEL_DEADLOCK_CONFIRM_NS (10 * 1000 * 1000ll)

/* No record older than horizon is still to come (the collector's hold
 * has passed it): cycles of waits that have stood since
 * MODEL_DEADLOCK_CONFIRM_NS before it become deadlock rows, committed at
 * once. Returns 0, -EIO or -ENOMEM. */
int model_advance(struct model *model, int64_t horizon);

/* Rewrite table wait_now: the threads inside a blocking call right now.
 * Returns 0 or -EIO. */
int model_write_waits(struct model *model);

/* pid was stopped (suspended true) or continued at ts: its process and
 * its threads are Suspended in between. With tid non-zero, thread tid of
 * pid alone was (a ptrace stop); its process is Suspended only while all
 * its live threads are. Returns 0, -EIO or -ENOMEM. */
int model_suspend(struct model *model, int64_t ts, uint32_t pid, uint32_t tid, bool suspended);

/* The collector reaped pid at ts with wait status status. info may be
 * NULL. Returns 0, -EIO or -ENOMEM. */
int model_reaped(struct model *model, int64_t ts, uint32_t pid, int status,
		 const struct model_proc_info *info);

/* pid was found gone at ts without being reaped by the collector (attach
 * mode): it ends at its last record. Returns 0, -EIO or -ENOMEM. */
int model_gone(struct model *model, int64_t ts, uint32_t pid);

/* End every process and thread still live at ts, and turn FORK records
 * never matched into untraced processes. Returns 0, -EIO or -ENOMEM. */
int model_finish(struct model *model, int64_t ts);

void model_get_stats(const struct model *model, struct model_stats *stats);

/* How long after a thread's end (by the collector's horizon) its entry
 * stays in memory: records of it stamped before its end may still come
 * until the horizon passes them, and a join or a perf record of it a
 * little after. */
#define MODEL_RETIRE_NS (2 * 1000 * 1000 * 1000ll)

/* Free the entries of threads that ended MODEL_RETIRE_NS or more before
 * horizon (nothing older than horizon is to come): memory follows what is
 * live, not how long the recording ran. */
void model_retire(struct model *model, int64_t horizon);

/* The pids of processes not ended yet and of FORK records no child has
 * matched yet (a child that has not claimed its ring yet, or never will),
 * at most cap into pids. Returns how many there are (may exceed cap). */
size_t model_unfinished_pids(const struct model *model, uint32_t *pids, size_t cap);

#endif
