/*
 * collect.c — the collector of collect.h: its API, and the handover
 * queues between its two sides. The drain side is collect_drain.c, the
 * writer side collect_write.c; collect_internal.h holds what they share.
 *
 * Two sides, which collect_run runs on two threads (the drain thread and
 * the host's thread) and collect_poll runs one after the other:
 *
 * Drain side (drain_step, every COLLECT_DRAIN_NS), owns the ring map, the
 * perf events and the `drained` queue:
 *   1. (parent mode) reap every exited child: peek with WNOWAIT, read its
 *      /proc/<pid>/stat while it is a zombie, drain and free its rings (it
 *      can write no more), reap it, queue a REAPED item at the reap time;
 *   2. sweep the slots: drain every non-FREE slot; a slot seen DONE before
 *      its drain is freed after it (its writer has finished);
 *   3. every LIVENESS_NS, free the slots of threads that are gone without
 *      saying so (SIGKILL, exit_group), and in attach mode queue a GONE
 *      item for processes that have disappeared;
 *   3b. every SAMPLE_NS in attach mode (STOP_POLL_PARENT_NS in parent
 *      mode, for the processes that are not its children), read the state
 *      of every process that holds a ring from /proc/<pid>/stat and queue
 *      a SUSPEND item when it changes between stopped ('T') and not
 *      (the collector is not their parent: waitid cannot tell); and, in
 *      both modes, a bounded number of threads in turn, for a thread
 *      stopped alone by a debugger ('t': a SUSPEND item with its tid);
 *   4. read the context switches (perf), if watched; or, in 'schedstat'
 *      mode, every SAMPLE_NS read the CPU counters of every thread that
 *      holds a ring (ITEM_SAMPLE, the counters in head.a and head.b);
 *   5. hand the batch over: append it to `staging` under `lock`, with
 *      whether the workload looks over (`quiet`).
 * Writer side (write_step), owns the model, the trace and `pending`: take
 * `staging`, sort `pending` by (ts, arrival) and hand to the model every
 * item older than now - COLLECT_HOLD_NS (all of them when finishing).
 * Because the drain side never waits for SQLite (a commit, a WAL
 * checkpoint's fsync), rings keep being emptied while the trace is written.
 *
 * Waiting (collect_run): the drain thread waits in poll() on an eventfd
 * (collect_run rings it to stop the thread), on a pidfd of the workload's
 * root process (readable when it exits, so its reap and the last drain
 * follow at once) and on the perf rings (readable when half full). It
 * waits COLLECT_DRAIN_NS after a round that found records, twice as long
 * after each round that found none, up to COLLECT_IDLE_NS: an idle or
 * CPU-bound workload is not interrupted 500 times a second. The writer
 * waits up to COLLECT_WRITE_NS on `handed`, which the drain side signals
 * when it sees the workload over or fails. A recording of `true` thus ends
 * as soon as the workload does, not on the next tick.
 *
 * Slot identity (token, pid, tid) is copied into each queued record at
 * drain time, since a freed slot is reused by another thread. Fields marked
 * "drain side" are touched only by the drain thread while it runs, and by
 * the host after collect_run has joined it.
 *
 * Lost events: a slot's `dropped` is added to events_lost when the slot is
 * freed; at finish every slot is drained and freed.
 */
#include "collect.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect_internal.h"
#include "fleet_id.h"

#define COLLECT_PERF_PAGES 256u

int64_t collect_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* --- queue ----------------------------------------------------------- */

int collect_queue_reserve(struct queue *q, size_t more)
{
	if (q->count + more <= q->cap)
		return 0;
	size_t cap = q->cap ? q->cap : 4096;
	while (cap < q->count + more)
		cap *= 2;
	struct item *items = realloc(q->items, cap * sizeof *items);
	if (!items)
		return -ENOMEM;
	q->items = items;
	q->cap = cap;
	return 0;
}

/* Move every item of from to the end of to. Returns 0 or -ENOMEM (nothing
 * moved). */
int collect_queue_move(struct queue *to, struct queue *from)
{
	if (!from->count)
		return 0;
	if (collect_queue_reserve(to, from->count))
		return -ENOMEM;
	memcpy(to->items + to->count, from->items, from->count * sizeof *from->items);
	to->count += from->count;
	from->count = 0;
	collect_queue_trim(from);
	return 0;
}

void collect_queue_trim(struct queue *q)
{
	if (q->cap <= QUEUE_KEEP_ITEMS || q->count * 4 > q->cap)
		return;
	size_t cap = QUEUE_KEEP_ITEMS;
	while (cap < q->count * 2)
		cap *= 2;
	struct item *items = realloc(q->items, cap * sizeof *items);
	if (!items)
		return; /* keeps the bigger array: no harm */
	q->items = items;
	q->cap = cap;
}

void collect_queue_free(struct queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		free(q->items[i].full);
	free(q->items);
	*q = (struct queue){0};
}

/* --- API ---------------------------------------------------------------- */

static void close_waits(struct collect *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->handed);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	if (c->root_pidfd >= 0)
		close(c->root_pidfd);
}

/* The meta rows known when the recording starts (command may be NULL). */
static void write_start_meta(struct collect *c, const char *command)
{
	struct utsname names;
	if (uname(&names) == 0) {
		tracedb_meta(c->db, "host", names.nodename);
		tracedb_meta(c->db, "kernel", names.release);
	}
	if (command)
		tracedb_meta(c->db, "command", command);
	tracedb_meta_int(c->db, "start_ts", c->start_ts);
	fleet_id_write(c->db, c->start_ts);
	tracedb_meta(c->db, "capture_mode", "calls");
}

int collect_open(const struct collect_options *options, struct collect **out, char *errbuf,
		 size_t errlen)
{
	struct collect *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->mode = options->mode;
	c->attach_pid = options->attach_pid;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t cond_attr;
	pthread_condattr_init(&cond_attr);
	pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->handed, &cond_attr);
	pthread_condattr_destroy(&cond_attr);
	c->root_pid = -1;
	c->root_pidfd = -1;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ring_sweep_stale("/dev/shm"); /* what collectors killed with SIGKILL left */
	uint32_t slots = options->slot_count ? options->slot_count : RING_DEFAULT_SLOTS;
	uint32_t ring_bytes = options->ring_bytes ? options->ring_bytes : COLLECT_RING_BYTES;
	int rc;
	if (options->shm_path) {
		snprintf(c->shm_path, sizeof c->shm_path, "%s", options->shm_path);
		rc = ring_file_create(c->shm_path, slots, ring_bytes, &c->map);
	} else {
		rc = ring_memfd_create(slots, ring_bytes, &c->map, c->shm_path, sizeof c->shm_path);
		c->shm_unlinked = true; /* nothing to unlink: a memfd */
	}
	if (rc) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "cannot create the ring file %s: %s",
				 options->shm_path ? options->shm_path : "(memfd)", strerror(-rc));
		close_waits(c);
		free(c);
		return rc;
	}
	rc = tracedb_create(options->db_path, &c->db, errbuf, errlen);
	if (rc) {
		if (rc == -EEXIST && errbuf && errlen)
			snprintf(errbuf, errlen, "%s already exists", options->db_path);
		goto err;
	}
	tracedb_on_progress(c->db, options->progress, options->progress_ctx);
	c->keep_last_ns = options->keep_last_ns;
	c->max_bytes = options->max_bytes;
	c->duration_ns = options->duration_ns;
	if (c->keep_last_ns && tracedb_meta_int(c->db, "keep_last_ns", c->keep_last_ns))
		rc = -EIO;
	if (c->max_bytes && tracedb_meta_int(c->db, "max_size", c->max_bytes))
		rc = -EIO;
	if (c->duration_ns && tracedb_meta_int(c->db, "duration_ns", c->duration_ns))
		rc = -EIO;
	if (rc)
		goto err;
	c->model = model_new(c->db);
	if (!c->model) {
		rc = -ENOMEM;
		goto err;
	}
	if (c->mode == COLLECT_PARENT && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		rc = -errno;
		goto err;
	}
	/* both modes poll stops (collect_drain.c) */
	c->thread_stops = calloc(c->map.slot_count, sizeof *c->thread_stops);
	if (!(c->stops = table_new()) || !c->thread_stops) {
		rc = -ENOMEM;
		goto err;
	}
	c->start_ts = collect_now();
	c->last_liveness_ns = c->start_ts;
	write_start_meta(c, options->command);
	*out = c;
	return 0;

err:
	free(c->thread_stops);
	table_free(c->stops);
	model_free(c->model);
	if (c->db) {
		tracedb_close(c->db);
		unlink(options->db_path);
		char side[4096];
		snprintf(side, sizeof side, "%s-wal", options->db_path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", options->db_path);
		unlink(side);
	}
	ring_file_unmap(&c->map);
	if (!c->shm_unlinked)
		unlink(c->shm_path);
	close_waits(c);
	free(c);
	return rc;
}

const char *collect_shm_path(const struct collect *collect)
{
	return collect->shm_path;
}

int64_t collect_events(const struct collect *collect)
{
	struct model_stats stats;
	model_get_stats(collect->model, &stats);
	return stats.events;
}

void collect_set_root(struct collect *collect, pid_t pid, int64_t fork_ts, const char *name,
		      const char *cmdline)
{
	collect->root_pid = pid;
	if (collect->root_pidfd < 0)
		collect->root_pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1: poll on time */
	model_set_root(collect->model, (uint32_t)pid, fork_ts, name, cmdline);
}

int collect_watch_sched(struct collect *c, pid_t pid)
{
	if (c->perf)
		return -EBUSY;
	/* 1 MiB per CPU keeps up with a busy workload on a loaded machine; an
	 * unprivileged user may not lock that much: then the default size. */
	int rc = sched_perf_open(pid, COLLECT_PERF_PAGES, &c->perf);
	if (rc == -EPERM || rc == -ENOMEM || rc == -EINVAL)
		rc = sched_perf_open(pid, 0, &c->perf);
	if (rc)
		return rc;
	if (tracedb_meta(c->db, "capture_mode", "perf"))
		c->error = -EIO;
	return 0;
}

int collect_watch_schedstat(struct collect *c, const char *reason)
{
	if (c->perf || c->sample)
		return -EBUSY;
	uint64_t run, wait, slices; /* is there schedstat at all? */
	int rc = sched_schedstat_read(getpid(), getpid(), &run, &wait, &slices);
	if (rc)
		return rc;
	c->sample_files = calloc(c->map.slot_count, sizeof *c->sample_files);
	if (!c->sample_files)
		return -ENOMEM;
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++)
		c->sample_files[i].fd = -1;
	c->sample = true;
	model_use_samples(c->model);
	if (tracedb_meta(c->db, "capture_mode", "schedstat") ||
	    (reason && tracedb_meta(c->db, "sched_fallback_reason", reason)))
		c->error = -EIO;
	return 0;
}

int collect_poll(struct collect *c)
{
	collect_drain_step(c);
	return collect_write_step(c, collect_now() - COLLECT_HOLD_NS);
}

int collect_run(struct collect *c)
{
	pthread_t drainer;
	atomic_store(&c->stop_drain, 0);
	if (pthread_create(&drainer, NULL, collect_drain_main, c) != 0)
		return -EAGAIN;
	int rc;
	for (;;) {
		rc = collect_write_step(c, collect_now() - COLLECT_HOLD_NS);
		if (rc || atomic_load(&c->stop))
			break;
		collect_write_wait(c);
	}
	atomic_store(&c->stop_drain, 1);
	uint64_t one = 1;
	if (c->wake_fd >= 0)
		(void)!write(c->wake_fd, &one, sizeof one);
	pthread_join(drainer, NULL);
	return rc < 0 ? rc : 0;
}

void collect_stop(struct collect *collect)
{
	atomic_store(&collect->stop, 1);
}

/* meta rows of the end of the recording. Returns 0 or -EIO. */
static int write_end_meta(struct collect *c, int64_t end, int64_t threads_lost,
			  int64_t switches_lost)
{
	int rc = tracedb_meta_int(c->db, "end_ts", end) |
		 tracedb_meta_int(c->db, "events_lost", c->events_lost) |
		 tracedb_meta_int(c->db, "threads_lost", threads_lost) |
		 tracedb_meta_int(c->db, "events", collect_events(c));
	if (c->map.corrupt_rings) /* a program scribbled over its ring */
		rc |= tracedb_meta_int(c->db, "rings_corrupt", (int64_t)c->map.corrupt_rings);
	if (c->perf)
		rc |= tracedb_meta_int(c->db, "sched_events_lost", switches_lost);
	if (c->root_reaped) /* as a shell reports it */
		rc |= tracedb_meta_int(c->db, "exit_status",
				       WIFSIGNALED(c->root_status) ? 128 + WTERMSIG(c->root_status)
								   : WEXITSTATUS(c->root_status));
	return rc ? -EIO : 0;
}

/* Runs on the host's thread with no drain thread running (collect_run has
 * joined it), so it acts as both sides. A failure to write makes the
 * trace 'incomplete' (collect_write.c), not a failure of the recording. */
int collect_finish(struct collect *c, const char *status, struct collect_summary *summary)
{
	atomic_store(&c->map.header->closing, 1);
	if (c->mode == COLLECT_PARENT)
		collect_drain_reap(c);
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
		uint32_t state = atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire);
		if (state == RING_SLOT_FREE)
			continue;
		if (state != RING_SLOT_CLAIMING)
			collect_drain_slot(c, i);
		collect_drain_free_slot(c, i);
	}
	if (c->perf)
		sched_perf_drain(c->perf, 1, collect_drain_on_switch, c);
	int64_t end = collect_now();
	/* what the model holds as the workload ends: memory follows what is
	 * live (model_retire) */
	struct model_stats held;
	model_get_stats(c->model, &held);
	if (!c->write_failed && tracedb_meta_int(c->db, "threads_held", held.threads_held))
		collect_write_give_up(c, -EIO);
	if (collect_queue_move(&c->pending, &c->staging) ||
	    collect_queue_move(&c->pending, &c->drained))
		c->error = -ENOMEM;
	if (c->staging_error && !c->error)
		c->error = c->staging_error;
	if (c->drain_error && !c->error)
		c->error = c->drain_error;
	if (c->bound_stopped) /* finished at its cut already */
		collect_write_discard(c);
	else if (!c->write_failed && !c->error) {
		collect_write_queue(c, INT64_MAX);
		int rc = model_finish(c->model, end);
		if (!rc)
			rc = model_write_waits(c->model); /* nobody waits any more: empty */
		if (rc && !c->error)
			c->error = rc;
	}
	if (c->error)
		collect_write_give_up(c, c->error);
	int64_t threads_lost = (int64_t)atomic_load(&c->map.header->threads_lost);
	int64_t switches_lost = c->perf ? (int64_t)sched_perf_lost(c->perf) : 0;
	if (c->bound_stopped && !c->write_failed &&
	    tracedb_meta_int(c->db, "events_after_cut", c->events_unwritten))
		collect_write_give_up(c, -EIO);
	if (!c->write_failed &&
	    (write_end_meta(c, end, threads_lost, switches_lost) || tracedb_finish(c->db, status)))
		collect_write_give_up(c, -EIO);
	if (c->write_failed) { /* what was committed, and why it ends there */
		collect_write_discard(c);
		if (write_end_meta(c, end, threads_lost, switches_lost) ||
		    tracedb_meta(c->db, "incomplete_reason", c->fail_reason) ||
		    tracedb_meta_int(c->db, "incomplete_ts", c->fail_ts) ||
		    tracedb_meta_int(c->db, "events_unwritten", c->events_unwritten) ||
		    tracedb_finish(c->db, "incomplete"))
			c->error = -EIO;
	}
	struct model_stats stats;
	model_get_stats(c->model, &stats);
	if (summary) {
		*summary = (struct collect_summary){
		    .processes = stats.processes,
		    .threads = stats.threads,
		    .events = stats.events,
		    .events_lost = c->events_lost,
		    .threads_lost = threads_lost,
		    .rings_corrupt = (int64_t)c->map.corrupt_rings,
		    .switches = c->switches,
		    .switches_lost = switches_lost,
		    .root_reaped = c->root_reaped,
		    .root_status = c->root_status,
		    .incomplete = c->write_failed != 0,
		    .events_unwritten = c->events_unwritten,
		};
		snprintf(summary->incomplete_reason, sizeof summary->incomplete_reason, "%s",
			 c->fail_reason);
	}
	if (!c->shm_unlinked)
		unlink(c->shm_path);
	c->shm_unlinked = true;
	return c->error;
}

void collect_close(struct collect *c)
{
	if (!c)
		return;
	collect_queue_free(&c->drained);
	collect_queue_free(&c->staging);
	collect_queue_free(&c->pending);
	free(c->scratch);
	close_waits(c);
	sched_perf_close(c->perf);
	for (uint32_t i = 0; c->sample_files && i < c->map.slot_count; i++)
		collect_drain_sample_close(&c->sample_files[i]);
	free(c->sample_files);
	table_free(c->stops);
	free(c->thread_stops);
	model_free(c->model);
	tracedb_close(c->db);
	ring_file_unmap(&c->map);
	if (!c->shm_unlinked)
		unlink(c->shm_path);
	free(c);
}
