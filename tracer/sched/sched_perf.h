/*
 * sched_perf.h — the kernel's context switches of a task tree, from perf.
 *
 * One perf event per CPU (PERF_COUNT_SW_DUMMY with context_switch=1,
 * CLOCK_MONOTONIC timestamps, exclude_kernel=1 so an unprivileged user may
 * open it), bound to one task with inherit=1: every thread and process that
 * task creates afterwards is covered from its first instruction, the way
 * `perf record -- CMD` covers a command. Events are opened and read by the
 * collector; the traced program neither opens nor reads anything.
 *
 * Open the events on the workload's first task before it runs anything
 * (the recorder holds its forked child until they are open), so nothing is
 * missed. Opened on a running process, only that thread and its future
 * descendants are covered.
 */
#ifndef WEFT_SCHED_PERF_H
#define WEFT_SCHED_PERF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sched_perf;

/* What a record says (kind), about thread tid of process pid at ts:
 *   SCHED_SWITCH  out = 0: the thread starts running on cpu. out = 1: it
 *                 stops; preempt = 1 if it was still runnable (the kernel
 *                 took the CPU away: the thread is Ready), 0 if it gave
 *                 the CPU up (Blocked).
 *   SCHED_FORK    the task was created by thread ptid of process ppid (a
 *                 new process when pid == tid, else a new thread of pid).
 *   SCHED_EXIT    the task exited.
 *   SCHED_COMM    the task's name (comm) is now `comm`: set by exec (exec
 *                 = 1) or by prctl/pthread_setname_np.
 * The task records (attr.task, attr.comm) cover every task of the tree,
 * also those that never run libweft.so: static binaries, threads made
 * with a raw clone(). */
enum sched_kind { SCHED_SWITCH = 0, SCHED_FORK, SCHED_EXIT, SCHED_COMM };

struct sched_switch {
	uint64_t ts;
	uint32_t pid;
	uint32_t tid;
	uint32_t cpu;
	uint8_t out;
	uint8_t preempt;
	uint8_t kind; /* enum sched_kind */
	uint8_t exec;
	uint32_t ppid; /* SCHED_FORK */
	uint32_t ptid;
	char comm[16]; /* SCHED_COMM, NUL-terminated */
};

typedef void (*sched_switch_fn)(void *ctx, const struct sched_switch *sw);

/* Open one inherited context-switch event per online CPU on task pid, each
 * with a ring of ring_pages data pages (a power of two; 0 = default 64).
 * Returns 0 and *out, or -errno with nothing left open: -EACCES/-EPERM when
 * perf_event_paranoid or seccomp forbids it, -ENOSYS without perf,
 * -ENOMEM/-EPERM when the locked-memory limit is reached. */
int sched_perf_open(pid_t pid, unsigned ring_pages, struct sched_perf **out);

/* Read every record the kernel has written and deliver them (switches and
 * task records), in
 * timestamp order across CPUs, to fn. Switches newer than the moment of
 * this call minus a short hold-back (1 ms) are kept for the next drain so
 * that a switch still being written on another CPU cannot arrive out of
 * order. final = 1 delivers everything (call it after the workload ended).
 * Returns the number of switches delivered. */
size_t sched_perf_drain(struct sched_perf *perf, int final, sched_switch_fn fn, void *ctx);

/* Fill fds (up to max) with one POLLIN entry per CPU ring: poll() finds
 * one readable when its ring is half full, so a reader that waits long
 * between drains is woken before a burst of switches can fill it.
 * Returns how many were filled. */
struct pollfd;
size_t sched_perf_pollfds(const struct sched_perf *perf, struct pollfd *fds, size_t max);

/* Records the kernel dropped because a ring was full (PERF_RECORD_LOST). */
uint64_t sched_perf_lost(const struct sched_perf *perf);

/* Close the events and free everything. NULL is a no-op. */
void sched_perf_close(struct sched_perf *perf);

/* CPU time counters of one thread from /proc/<pid>/task/<tid>/schedstat:
 * time on CPU, time runnable but waiting for a CPU, and timeslices run.
 * The fallback when perf is not allowed. Returns 0, or -errno (-ENOENT once
 * the thread is gone). */
int sched_schedstat_read(pid_t pid, pid_t tid, uint64_t *run_ns, uint64_t *wait_ns,
			 uint64_t *slices);

#endif
