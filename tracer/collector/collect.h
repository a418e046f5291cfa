/*
 * collect.h — the collector: owns a ring file and a trace database, drains
 * the rings of every traced thread, and turns the records into the trace.
 * One module with two hosts: `weft record` (one recording) and weftd.
 *
 * Life of a collector:
 *   collect_open       create the ring file and the trace (status
 *                      'recording'); in COLLECT_PARENT mode, become a child
 *                      subreaper so every orphaned descendant is reaped here
 *   collect_set_root   (parent mode) the workload the host just forked
 *   collect_run        drain every ~2 ms until the workload is over (or
 *                      collect_stop), committing every ~150 ms
 *   collect_finish     final drain, end every process and thread, write
 *                      meta (end_ts, lost counts, status), create indexes,
 *                      remove the ring file
 *   collect_close
 * collect_poll runs one iteration of collect_run's loop, for hosts with a
 * loop of their own and for tests.
 *
 * With collect_watch_sched, the kernel's context switches of the workload
 * (tracer/sched, perf) are merged into the same queue; with
 * collect_watch_schedstat (when perf is not allowed), samples of every
 * traced thread's CPU counters every ~10 ms.
 *
 * Everything but collect_stop runs on one thread (the host's). Records of
 * different threads are put in timestamp order before they reach the model:
 * they are held back COLLECT_HOLD_NS so that a record published late by a
 * preempted writer still sorts into place, and never handed over before
 * every ring has been read past them (COLLECT_PUBLISH_NS).
 */
#ifndef WEFT_COLLECT_H
#define WEFT_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define COLLECT_DRAIN_NS (2 * 1000 * 1000ll)
/* collect_run: the drain thread's longest wait when the rings stay empty
 * (the interval doubles from COLLECT_DRAIN_NS after each empty round and
 * falls back at the first record), and the writer's wait between rounds. */
#define COLLECT_IDLE_NS (16 * 1000 * 1000ll)
#define COLLECT_WRITE_NS (10 * 1000 * 1000ll)
#define COLLECT_HOLD_NS (50 * 1000 * 1000ll)
/* How long a traced thread may take from a record's stamp to its
 * publication in the ring (it can be preempted in between): the writer
 * never hands the model records younger than the start of the latest full
 * drain round less this (the watermark, collect_write.c). */
#define COLLECT_PUBLISH_NS (2 * 1000 * 1000ll)
/* Per-thread ring size. The file is sparse: a thread's ring costs memory
 * only as far as it has written. 1 MiB holds ~32k records, ~100 ms of a
 * thread making transitions as fast as it can, so that a drain thread
 * starved by a loaded machine does not lose events. */
#define COLLECT_RING_BYTES (1024u * 1024u)

enum collect_mode {
	/* The host forks the workload: exit statuses come from reaping it and
	 * its orphans; the recording ends when no child is left. */
	COLLECT_PARENT = 0,
	/* The host is not a parent: the recording ends when attach_pid and
	 * every process that claimed a ring have gone. Stops (Suspended) are
	 * polled from /proc every ~10 ms. */
	COLLECT_ATTACH = 1,
};

struct collect_options {
	const char *db_path; /* the trace to create; must not exist */
	/* ring file; NULL: a memfd, named /proc/<pid>/fd/<fd> (nothing is
	 * left in /dev/shm if the collector is killed). Either way, ring files
	 * in /dev/shm whose collector is gone are removed first. */
	const char *shm_path;
	enum collect_mode mode;
	pid_t attach_pid;    /* COLLECT_ATTACH: the process to follow */
	uint32_t slot_count; /* 0: RING_DEFAULT_SLOTS */
	uint32_t ring_bytes; /* 0: COLLECT_RING_BYTES */
	const char *command; /* meta 'command', may be NULL */
	/* told what finishing the trace is doing when it takes a while
	 * (tracedb_on_progress); NULL: nobody */
	void (*progress)(void *ctx, const char *what, int64_t elapsed_ns);
	void *progress_ctx;
	/* a bounded recording (collect_bound.c); 0: no bound */
	int64_t keep_last_ns; /* keep the spans of the last this much */
	int64_t max_bytes;    /* stop adding events at this trace size */
	int64_t duration_ns;  /* record the first this much, then stop */
};

struct collect_summary {
	int64_t processes;
	int64_t threads;
	int64_t events;
	int64_t events_lost;
	int64_t threads_lost;
	int64_t rings_corrupt; /* drains that found a ring scribbled over (ring.h) */
	int64_t switches;      /* context switches read from perf */
	int64_t switches_lost; /* dropped by the kernel (perf ring full) */
	bool root_reaped;
	int root_status; /* raw wait status of the root, when reaped */
	/* Writing failed (disk full...): the trace holds what was committed
	 * until then, meta status 'incomplete' and incomplete_reason say so,
	 * and the records drained after it were counted, not written. */
	bool incomplete;
	char incomplete_reason[160];
	int64_t events_unwritten;
};

struct collect;

/* Create the ring file and the trace. Returns 0 and *out, or -errno
 * (-EEXIST: the trace or ring file exists; -EIO: SQLite, message in
 * errbuf) with nothing left behind. */
int collect_open(const struct collect_options *options, struct collect **out, char *errbuf,
		 size_t errlen);

/* The ring file's path, for WEFT_SHM. */
const char *collect_shm_path(const struct collect *collect);

/* Records handed to the model so far (writer side; after collect_run
 * returned, or between collect_poll calls). */
int64_t collect_events(const struct collect *collect);

/* The workload the host forked at fork_ts (CLOCK_MONOTONIC ns) to run
 * program name with command line cmdline (either may be NULL; copied). */
void collect_set_root(struct collect *collect, pid_t pid, int64_t fork_ts, const char *name,
		      const char *cmdline);

/* Take Running/Ready/Blocked from the kernel's context switches (perf) for
 * the task tree of pid, which must not have run anything yet: call it
 * between fork and exec (the host holds the child until this returns).
 * meta capture_mode becomes 'perf'. Returns 0, or -errno from
 * sched_perf_open (-EACCES/-EPERM: not permitted) and the recording stays
 * in 'calls' mode. */
int collect_watch_sched(struct collect *collect, pid_t pid);

/* Take Running/Ready from the CPU counters of every traced thread
 * (/proc/<pid>/task/<tid>/schedstat), sampled every ~10 ms: the fallback
 * when perf is not allowed. Call it before the workload runs our library.
 * meta capture_mode becomes 'schedstat', and sched_fallback_reason says
 * reason (why perf was not used; NULL: not written). Returns 0, -EBUSY
 * (perf or samples already on), or -errno when this kernel has no
 * schedstat (the recording stays in 'calls' mode). */
int collect_watch_schedstat(struct collect *collect, const char *reason);

/* One iteration: reap children (parent mode), drain every ring, free the
 * rings of threads that are gone, hand the records older than the hold
 * time to the model, commit when due. Returns 1 when the recording is
 * over, 0 when not (a failure to write makes the trace incomplete, see
 * collect_finish). */
int collect_poll(struct collect *collect);

/* collect_poll every COLLECT_DRAIN_NS until it says the recording is over
 * or collect_stop was called. A failure to write the trace does not end
 * it: the rings are drained (and what they held counted) until the
 * workload is over. Returns 0, or -EAGAIN when no thread could start. */
int collect_run(struct collect *collect);

/* Ask collect_run to return (async-signal-safe, any thread). */
void collect_stop(struct collect *collect);

/* Finish the trace (see above); status is meta 'status' ('complete' or
 * 'interrupted'), or 'incomplete' when writing failed during the recording
 * or now (summary->incomplete). Fills summary. Returns 0, or -EIO when
 * not even the last meta rows could be written (the trace then reads as
 * interrupted: tracedb_status). */
int collect_finish(struct collect *collect, const char *status, struct collect_summary *summary);

/* Release everything; removes the ring file if collect_finish did not. */
void collect_close(struct collect *collect);

/* CLOCK_MONOTONIC now, in ns. */
int64_t collect_now(void);

#endif
