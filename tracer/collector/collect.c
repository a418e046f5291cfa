/*
 * collect.c — the collector of collect.h.
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
 *   3b. in attach mode, every SAMPLE_NS, read the state of every process
 *      that holds a ring from /proc/<pid>/stat and queue a SUSPEND item
 *      when it changes between stopped ('T', 't') and not (the collector
 *      is not their parent: waitid cannot tell);
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
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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

#include "model.h"
#include "ring.h"
#include "sched_perf.h"
#include "table.h"
#include "tracedb.h"

#define LIVENESS_NS (50 * 1000 * 1000ll)
#define SAMPLE_NS (10 * 1000 * 1000ll)
#define COLLECT_PERF_PAGES 256u
#define BACKLOG_MAX (2u * 1024 * 1024) /* records handed over, not yet taken */

enum item_kind {
	ITEM_EVENT,
	ITEM_REAPED,
	ITEM_GONE,
	ITEM_SUSPEND, /* status: 1 stopped, 0 continued */
	ITEM_SWITCH,
	ITEM_SAMPLE,
	ITEM_TASK, /* perf task record: head.reason its enum sched_kind */
};

struct item {
	int64_t ts;
	uint64_t seq;
	enum item_kind kind;
	struct model_source source;
	struct weft_event head;
	uint8_t *full; /* the whole record when it has a payload */
	int status;    /* ITEM_REAPED; ITEM_SWITCH: cpu */
	bool out;      /* ITEM_SWITCH */
	bool preempt;  /* ITEM_SWITCH */
	struct model_proc_info info;
};

struct queue {
	struct item *items;
	size_t count;
	size_t cap;
};

struct collect {
	enum collect_mode mode;
	pid_t attach_pid;
	char shm_path[256];
	bool shm_unlinked;
	pid_t root_pid;
	int64_t start_ts;
	int wake_fd;	    /* eventfd: the drain thread must look at stop_drain */
	int root_pidfd;	    /* drain side: readable when the root exits, or -1 */
	bool ring_hup[256]; /* drain side: perf ring fds poll() reports hung up */

	/* drain side */
	struct ring_map map;
	struct sched_perf *perf;	  /* NULL in 'calls' mode */
	bool sample;			  /* 'schedstat' mode */
	struct sample_file *sample_files; /* per ring slot */
	struct table *stops;		  /* attach mode: pid -> round << 1 | stopped */
	uint64_t stop_round;
	int64_t last_stop_poll_ns;
	int64_t last_sample_ns;
	struct queue drained;
	uint64_t next_seq;
	int64_t last_liveness_ns;
	int64_t switches;
	int64_t events_lost;
	bool root_reaped;
	int root_status;
	bool no_children;
	bool target_gone;
	int drain_error;

	/* handed over under lock */
	pthread_mutex_t lock;
	pthread_cond_t handed; /* staging_quiet or staging_error was raised */
	struct queue staging;
	bool staging_quiet; /* the drain side saw the workload over */
	int staging_error;

	/* writer side */
	bool writer_quiet; /* write_step saw the workload over (attach: not all gone) */
	struct tracedb *db;
	struct model *model;
	struct queue pending; /* [pending_head, pending_sorted) in order, then new */
	size_t pending_head;  /* items before it were handed to the model */
	size_t pending_sorted;
	struct item *scratch; /* merge_pending's buffer */
	size_t scratch_cap;
	int error;

	atomic_int stop;       /* collect_stop */
	atomic_int stop_drain; /* collect_run: the drain thread must return */
};

int64_t collect_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

static int64_t boottime_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* --- queue ----------------------------------------------------------- */

static int queue_reserve(struct queue *q, size_t more)
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
static int queue_move(struct queue *to, struct queue *from)
{
	if (!from->count)
		return 0;
	if (queue_reserve(to, from->count))
		return -ENOMEM;
	memcpy(to->items + to->count, from->items, from->count * sizeof *from->items);
	to->count += from->count;
	from->count = 0;
	return 0;
}

static void queue_free(struct queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		free(q->items[i].full);
	free(q->items);
	*q = (struct queue){0};
}

/* A new zeroed item at the end of the drain side's queue, or NULL (and
 * drain_error) when out of memory. */
static struct item *queue_push(struct collect *c)
{
	if (queue_reserve(&c->drained, 1)) {
		c->drain_error = -ENOMEM;
		return NULL;
	}
	struct item *item = &c->drained.items[c->drained.count++];
	memset(item, 0, sizeof *item);
	item->seq = c->next_seq++;
	return item;
}

struct drain_ctx {
	struct collect *c;
	struct model_source source;
};

static void on_record(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct drain_ctx *drain = ctx;
	struct item *item = queue_push(drain->c);
	if (!item) {
		drain->c->events_lost++; /* out of memory: counted, not silent */
		return;
	}
	item->kind = ITEM_EVENT;
	item->ts = (int64_t)event->ts;
	item->source = drain->source;
	item->head = *event;
	if (event->size > WEFT_EVENT_HEADER_SIZE) {
		item->full = malloc(event->size);
		if (item->full)
			memcpy(item->full, event, event->size);
		else
			item->head.size = WEFT_EVENT_HEADER_SIZE; /* keep the header */
	}
}

static void drain_slot(struct collect *c, uint32_t index)
{
	struct ring_slot *slot = &c->map.slots[index];
	struct drain_ctx drain = {
	    .c = c,
	    .source = {.token = slot->token,
		       .pid = slot->pid,
		       .tid = slot->tid,
		       .ppid = slot->ppid},
	};
	ring_drain(&c->map, index, on_record, &drain);
}

static void free_slot(struct collect *c, uint32_t index)
{
	c->events_lost += (int64_t)atomic_load(&c->map.slots[index].dropped);
	ring_slot_free(&c->map, index);
}

static int compare_items(const void *left, const void *right)
{
	const struct item *a = left, *b = right;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Writer side: put the new items at the end of pending in order among the
 * held ones. Each item is sorted once, when it arrives, and merged with
 * the held items it overlaps in time (the last few milliseconds' worth, as
 * rings are drained in turn), not re-sorted with all of them every round.
 * Returns 0, or -ENOMEM when it had to sort all of them instead (slower,
 * the same order). */
static int merge_pending(struct collect *c)
{
	struct queue *q = &c->pending;
	struct item *held = q->items + c->pending_head;
	size_t n = c->pending_sorted - c->pending_head;
	struct item *fresh = q->items + c->pending_sorted;
	size_t m = q->count - c->pending_sorted;
	if (!m)
		return 0;
	qsort(fresh, m, sizeof *fresh, compare_items);
	c->pending_sorted = q->count;
	if (!n || compare_items(&held[n - 1], &fresh[0]) <= 0)
		return 0;
	size_t lo = 0, hi = n; /* first held item that sorts after fresh[0] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (compare_items(&held[mid], &fresh[0]) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = n - lo;
	if (k > c->scratch_cap) {
		struct item *grown = realloc(c->scratch, k * sizeof *grown);
		if (!grown) {
			qsort(held, n + m, sizeof *held, compare_items);
			return -ENOMEM;
		}
		c->scratch = grown;
		c->scratch_cap = k;
	}
	/* Merge scratch (held[lo, n)) and fresh into held[lo, n + m): the
	 * write position never passes the next fresh item to read. */
	memcpy(c->scratch, held + lo, k * sizeof *held);
	size_t i = 0, j = 0, w = lo;
	while (i < k && j < m)
		held[w++] =
		    compare_items(&fresh[j], &c->scratch[i]) < 0 ? fresh[j++] : c->scratch[i++];
	while (i < k)
		held[w++] = c->scratch[i++];
	return 0;
}

/* Writer side: a perf task record (on_switch) to the model. */
static int task_record(struct collect *c, const struct item *item)
{
	switch (item->head.reason) {
	case SCHED_FORK:
		return model_task_fork(c->model, item->ts, item->source.pid, item->source.tid,
				       item->source.ppid, (uint32_t)item->head.a);
	case SCHED_EXIT:
		return model_task_exit(c->model, item->ts, item->source.pid, item->source.tid);
	case SCHED_COMM:
		return model_task_comm(c->model, item->ts, item->source.pid, item->source.tid,
				       item->info.name, item->out);
	}
	return 0;
}

/* Writer side: hand the pending items up to horizon to the model. */
static void process_queue(struct collect *c, int64_t horizon)
{
	struct queue *q = &c->pending;
	merge_pending(c); /* out of memory, it sorted all of pending instead */
	size_t done = c->pending_head;
	for (; done < q->count && q->items[done].ts <= horizon; done++) {
		struct item *item = &q->items[done];
		int rc = 0;
		switch (item->kind) {
		case ITEM_EVENT:
			rc = model_event(c->model, &item->source,
					 item->full ? (const struct weft_event *)item->full
						    : &item->head);
			free(item->full);
			item->full = NULL; /* freed again with the queue otherwise */
			break;
		case ITEM_REAPED:
			rc = model_reaped(c->model, item->ts, item->source.pid, item->status,
					  &item->info);
			break;
		case ITEM_SUSPEND:
			rc = model_suspend(c->model, item->ts, item->source.pid, item->status);
			break;
		case ITEM_GONE:
			rc = model_gone(c->model, item->ts, item->source.pid);
			break;
		case ITEM_SAMPLE:
			rc = model_sample(c->model, item->ts, item->source.pid, item->source.tid,
					  item->head.a, item->head.b);
			break;
		case ITEM_SWITCH:
			rc = model_switch(c->model, item->ts, item->source.pid, item->source.tid,
					  item->status, item->out, item->preempt);
			break;
		case ITEM_TASK:
			rc = task_record(c, item);
			break;
		}
		if (rc && !c->error)
			c->error = rc;
	}
	c->pending_head = done;
	/* Move the held items down once they are the smaller part. */
	if (done == q->count || (done > 4096 && done * 2 > q->count)) {
		if (done < q->count)
			memmove(q->items, q->items + done, (q->count - done) * sizeof *q->items);
		q->count -= done;
		c->pending_sorted -= done;
		c->pending_head = 0;
	}
}

static void on_switch(void *ctx, const struct sched_switch *sw)
{
	struct collect *c = ctx;
	struct item *item = queue_push(c);
	if (!item)
		return;
	item->ts = (int64_t)sw->ts;
	item->source.pid = sw->pid;
	item->source.tid = sw->tid;
	if (sw->kind != SCHED_SWITCH) {
		item->kind = ITEM_TASK;
		item->head.reason = sw->kind;
		item->source.ppid = sw->ppid;
		item->head.a = sw->ptid;
		item->out = sw->exec;
		snprintf(item->info.name, sizeof item->info.name, "%s", sw->comm);
		return;
	}
	item->kind = ITEM_SWITCH;
	item->status = (int)sw->cpu;
	item->out = sw->out;
	item->preempt = sw->preempt;
	c->switches++;
}

/* One thread's schedstat file, kept open between samples (a pread of an
 * open /proc file costs a seventh of open + read + close). */
struct sample_file {
	int fd; /* -1: not open */
	uint32_t pid;
	uint32_t tid;
};

static void sample_file_close(struct sample_file *file)
{
	if (file->fd >= 0)
		close(file->fd);
	file->fd = -1;
}

/* Read run and wait time of (pid, tid) through file, opening it for that
 * thread when needed. Returns 0 or -errno (the thread is gone). */
static int sample_file_read(struct sample_file *file, uint32_t pid, uint32_t tid, uint64_t *run,
			    uint64_t *wait)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (file->fd < 0 || file->pid != pid || file->tid != tid) {
			sample_file_close(file);
			char path[64];
			snprintf(path, sizeof path, "/proc/%u/task/%u/schedstat", pid, tid);
			file->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (file->fd < 0)
				return -errno;
			file->pid = pid;
			file->tid = tid;
		}
		char text[128];
		ssize_t n = pread(file->fd, text, sizeof text - 1, 0);
		if (n > 0) {
			text[n] = '\0';
			unsigned long long run_ns, wait_ns;
			if (sscanf(text, "%llu %llu", &run_ns, &wait_ns) != 2)
				return -EPROTO;
			*run = run_ns;
			*wait = wait_ns;
			return 0;
		}
		sample_file_close(file); /* a thread of that tid that is gone: reopen */
	}
	return -ENOENT;
}

/* Drain side: the CPU counters of every thread that holds a ring. */
static void sample_threads(struct collect *c)
{
	for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC) {
			sample_file_close(&c->sample_files[i]);
			continue;
		}
		uint64_t run = 0, wait = 0;
		if (sample_file_read(&c->sample_files[i], slot->pid, slot->tid, &run, &wait))
			continue;
		struct item *item = queue_push(c);
		if (!item)
			return;
		item->kind = ITEM_SAMPLE;
		item->ts = collect_now();
		item->source.pid = slot->pid;
		item->source.tid = slot->tid;
		item->head.a = run;
		item->head.b = wait;
	}
}

/* --- processes ---------------------------------------------------------- */

/* Start time (CLOCK_MONOTONIC), ppid and comm of pid from /proc. */
static void read_proc_info(pid_t pid, struct model_proc_info *info)
{
	info->start_ts = -1;
	info->ppid = -1;
	info->name[0] = '\0';
	char path[64], text[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	char *open_paren = strchr(text, '(');
	char *close_paren = strrchr(text, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return;
	size_t len = (size_t)(close_paren - open_paren - 1);
	if (len >= sizeof info->name)
		len = sizeof info->name - 1;
	memcpy(info->name, open_paren + 1, len);
	info->name[len] = '\0';
	/* Fields after ')': state(3) ppid(4) ... starttime(22). */
	char *field = close_paren + 2;
	unsigned long long starttime = 0;
	int ppid = -1;
	int number = 3;
	for (char *save = NULL, *tok = strtok_r(field, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save), number++) {
		if (number == 4)
			ppid = atoi(tok);
		if (number == 22) {
			starttime = strtoull(tok, NULL, 10);
			break;
		}
	}
	info->ppid = ppid;
	long ticks = sysconf(_SC_CLK_TCK);
	if (starttime && ticks > 0) {
		int64_t boot_offset = boottime_ns() - collect_now();
		info->start_ts =
		    (int64_t)(starttime * (1000000000ull / (unsigned long long)ticks)) -
		    boot_offset;
	}
}

/* Children stopped (SIGSTOP, SIGTSTP, ...) or continued since the last
 * look: queue a SUSPEND item for each (the notification is consumed; as
 * their parent or subreaper nobody else waits for it). */
static void watch_stops(struct collect *c)
{
	for (;;) {
		siginfo_t info;
		memset(&info, 0, sizeof info);
		if (waitid(P_ALL, 0, &info, WSTOPPED | WCONTINUED | WNOHANG | __WALL) < 0 ||
		    !info.si_pid)
			return;
		if (info.si_code != CLD_STOPPED && info.si_code != CLD_CONTINUED)
			continue;
		struct item *item = queue_push(c);
		if (!item)
			return;
		item->kind = ITEM_SUSPEND;
		item->ts = collect_now();
		item->source.pid = (uint32_t)info.si_pid;
		item->status = info.si_code == CLD_STOPPED;
	}
}

static void reap_children(struct collect *c)
{
	watch_stops(c);
	for (;;) {
		siginfo_t info;
		memset(&info, 0, sizeof info);
		if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0) {
			if (errno == ECHILD)
				c->no_children = true;
			return;
		}
		pid_t pid = info.si_pid;
		if (!pid)
			return;
		struct item reaped = {.kind = ITEM_REAPED};
		read_proc_info(pid, &reaped.info);
		/* The zombie writes no more: take what its rings hold. */
		for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
			struct ring_slot *slot = &c->map.slots[i];
			uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
			if (state == RING_SLOT_FREE || slot->pid != (uint32_t)pid)
				continue;
			if (state != RING_SLOT_CLAIMING)
				drain_slot(c, i);
			free_slot(c, i);
		}
		int status = 0;
		if (waitpid(pid, &status, WNOHANG | __WALL) != pid)
			continue;
		struct item *item = queue_push(c);
		if (!item)
			return;
		uint64_t seq = item->seq;
		*item = reaped;
		item->seq = seq;
		item->ts = collect_now();
		item->source.pid = (uint32_t)pid;
		item->status = status;
		if (pid == c->root_pid) {
			c->root_reaped = true;
			c->root_status = status;
		}
	}
}

/* 1 when /proc/<pid>/stat says stopped ('T', 't'), 0 when not, -1 when
 * unreadable. */
static int proc_stopped(uint32_t pid)
{
	char path[64], text[512];
	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	char *close_paren = strrchr(text, ')');
	if (!close_paren || close_paren[1] != ' ')
		return -1;
	return close_paren[2] == 'T' || close_paren[2] == 't';
}

/* Attach mode: stops and continues of the processes that hold rings,
 * polled (see the top of the file). */
static void poll_stops(struct collect *c)
{
	uint64_t round = ++c->stop_round;
	for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC)
			continue;
		uint32_t pid = slot->pid;
		uintptr_t known = (uintptr_t)table_get(c->stops, pid, 0);
		if (known >> 1 == round)
			continue; /* another thread of a process seen this round */
		int stopped = proc_stopped(pid);
		if (stopped < 0)
			continue;
		if (table_put(c->stops, pid, 0,
			      (void *)(uintptr_t)(round << 1 | (uintptr_t)stopped)))
			return;
		if ((int)(known & 1) == stopped)
			continue;
		if (!known && !stopped)
			continue; /* first look: running, as every process starts */
		struct item *item = queue_push(c);
		if (!item)
			return;
		item->kind = ITEM_SUSPEND;
		item->ts = collect_now();
		item->source.pid = pid;
		item->status = stopped;
	}
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* Free the slots of threads that are gone; in attach mode, report the
 * processes that are gone. */
static void check_liveness(struct collect *c)
{
	int64_t now = collect_now();
	for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC)
			continue;
		pid_t pid = (pid_t)slot->pid, tid = (pid_t)slot->tid;
		if (syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH)
			continue;
		drain_slot(c, i);
		free_slot(c, i);
		if (c->mode == COLLECT_ATTACH && !pid_alive(pid)) {
			struct item *item = queue_push(c);
			if (item) {
				item->kind = ITEM_GONE;
				item->ts = now;
				item->source.pid = (uint32_t)pid;
			}
		}
	}
	if (c->mode == COLLECT_ATTACH && !pid_alive(c->attach_pid))
		c->target_gone = true;
}

static bool any_slot_in_use(struct collect *c)
{
	for (uint32_t i = 0; i < c->map.header->slot_count; i++)
		if (atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire) !=
		    RING_SLOT_FREE)
			return true;
	return false;
}

static void sweep(struct collect *c)
{
	for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
		uint32_t state = atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire);
		if (state == RING_SLOT_FREE || state == RING_SLOT_CLAIMING)
			continue;
		drain_slot(c, i);
		if (state == RING_SLOT_DONE)
			free_slot(c, i);
	}
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
	if (options->shm_path) {
		snprintf(c->shm_path, sizeof c->shm_path, "%s", options->shm_path);
	} else {
		unsigned random = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &random, sizeof random) != sizeof random)
				random = (unsigned)collect_now();
			close(fd);
		}
		snprintf(c->shm_path, sizeof c->shm_path, "/dev/shm/weft-%d-%08x", (int)getpid(),
			 random);
	}
	int rc = ring_file_create(
	    c->shm_path, options->slot_count ? options->slot_count : RING_DEFAULT_SLOTS,
	    options->ring_bytes ? options->ring_bytes : COLLECT_RING_BYTES, &c->map);
	if (rc) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "cannot create %s: %s", c->shm_path,
				 strerror(-rc));
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
	c->model = model_new(c->db);
	if (!c->model) {
		rc = -ENOMEM;
		goto err;
	}
	if (c->mode == COLLECT_PARENT && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		rc = -errno;
		goto err;
	}
	if (c->mode == COLLECT_ATTACH && !(c->stops = table_new())) {
		rc = -ENOMEM;
		goto err;
	}
	c->start_ts = collect_now();
	c->last_liveness_ns = c->start_ts;
	struct utsname names;
	if (uname(&names) == 0) {
		tracedb_meta(c->db, "host", names.nodename);
		tracedb_meta(c->db, "kernel", names.release);
	}
	if (options->command)
		tracedb_meta(c->db, "command", options->command);
	tracedb_meta_int(c->db, "start_ts", c->start_ts);
	tracedb_meta(c->db, "capture_mode", "calls");
	*out = c;
	return 0;

err:
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

/* Attach mode, the target gone and no ring in use: no writer is left, so
 * every queued record can go to the model; the recording is over when no
 * process it knows of (or saw forked) is still alive. Writer side. */
static int attach_done(struct collect *c)
{
	process_queue(c, INT64_MAX);
	size_t count = model_unfinished_pids(c->model, NULL, 0);
	uint32_t *pids = calloc(count + 1, sizeof *pids);
	if (!pids)
		return -ENOMEM;
	count = model_unfinished_pids(c->model, pids, count);
	int done = 1;
	for (size_t i = 0; i < count && done; i++)
		if (pid_alive((pid_t)pids[i]))
			done = 0;
	int64_t now = collect_now();
	for (size_t i = 0; i < count && done; i++)
		if (model_gone(c->model, now, pids[i]) && !c->error)
			c->error = -EIO;
	free(pids);
	return done;
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
	c->sample_files = calloc(c->map.header->slot_count, sizeof *c->sample_files);
	if (!c->sample_files)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->map.header->slot_count; i++)
		c->sample_files[i].fd = -1;
	c->sample = true;
	model_use_samples(c->model);
	if (tracedb_meta(c->db, "capture_mode", "schedstat") ||
	    (reason && tracedb_meta(c->db, "sched_fallback_reason", reason)))
		c->error = -EIO;
	return 0;
}

/* Drain side: one round (see the top of the file). */
static void drain_step(struct collect *c)
{
	pthread_mutex_lock(&c->lock);
	size_t backlog = c->staging.count;
	pthread_mutex_unlock(&c->lock);
	if (backlog > BACKLOG_MAX)
		return; /* the writer is behind: the rings hold records meanwhile
			 * (and when full drop and count them), memory does not grow */
	if (c->mode == COLLECT_PARENT)
		reap_children(c);
	sweep(c);
	int64_t now = collect_now();
	if (now - c->last_liveness_ns >= LIVENESS_NS) {
		check_liveness(c);
		c->last_liveness_ns = now;
	}
	if (c->perf)
		sched_perf_drain(c->perf, 0, on_switch, c);
	if (c->stops && now - c->last_stop_poll_ns >= SAMPLE_NS) {
		poll_stops(c);
		c->last_stop_poll_ns = now;
	}
	if (c->sample && now - c->last_sample_ns >= SAMPLE_NS) {
		sample_threads(c);
		c->last_sample_ns = now;
	}
	bool quiet =
	    c->mode == COLLECT_PARENT ? c->no_children : c->target_gone && !any_slot_in_use(c);
	pthread_mutex_lock(&c->lock);
	if (queue_move(&c->staging, &c->drained))
		c->drain_error = -ENOMEM; /* kept in `drained` for the next round */
	c->staging_quiet = quiet && !c->drained.count;
	if (c->drain_error && !c->staging_error)
		c->staging_error = c->drain_error;
	if (c->staging_quiet || c->staging_error)
		pthread_cond_signal(&c->handed);
	pthread_mutex_unlock(&c->lock);
}

/* Writer side: take what the drain side handed over, write what is older
 * than horizon. Returns 1 when the recording is over, 0 when not, or
 * -errno. */
static int write_step(struct collect *c, int64_t horizon)
{
	pthread_mutex_lock(&c->lock);
	int rc = queue_move(&c->pending, &c->staging);
	bool quiet = c->staging_quiet && !c->staging.count;
	if (c->staging_error && !c->error)
		c->error = c->staging_error;
	pthread_mutex_unlock(&c->lock);
	c->writer_quiet = quiet;
	if (rc && !c->error)
		c->error = rc;
	process_queue(c, horizon);
	int64_t now = collect_now();
	if (tracedb_due(c->db, now) && model_write_waits(c->model) && !c->error)
		c->error = -EIO;
	if (tracedb_tick(c->db, now) && !c->error)
		c->error = -EIO;
	if (c->error)
		return c->error;
	if (!quiet)
		return 0;
	return c->mode == COLLECT_PARENT ? 1 : attach_done(c);
}

int collect_poll(struct collect *c)
{
	drain_step(c);
	return write_step(c, collect_now() - COLLECT_HOLD_NS);
}

#define MAX_POLL_RINGS (sizeof((struct collect *)0)->ring_hup)

/* Drain side: wait up to wait_ns, less when the root exits, a perf ring
 * fills up or the thread is told to stop. */
static void drain_wait(struct collect *c, int64_t wait_ns)
{
	struct pollfd fds[2 + MAX_POLL_RINGS] = {{.fd = c->wake_fd, .events = POLLIN},
						 {.fd = c->root_pidfd, .events = POLLIN}};
	struct timespec pause = {wait_ns / 1000000000ll, wait_ns % 1000000000ll};
	if (c->wake_fd < 0) {
		nanosleep(&pause, NULL);
		return;
	}
	struct pollfd rings[MAX_POLL_RINGS];
	size_t ring_count = sched_perf_pollfds(c->perf, rings, MAX_POLL_RINGS);
	/* A ring whose tasks are all gone reports POLLHUP for good: it is
	 * still drained, but no longer waited on. fds[1] with fd -1 (the
	 * root seen gone) is ignored by poll. */
	size_t polled = 0, index[MAX_POLL_RINGS];
	for (size_t i = 0; i < ring_count; i++)
		if (!c->ring_hup[i]) {
			index[polled] = i;
			fds[2 + polled++] = rings[i];
		}
	if (ppoll(fds, 2 + polled, &pause, NULL) <= 0)
		return;
	for (size_t i = 0; i < polled; i++)
		if (fds[2 + i].revents & (POLLHUP | POLLERR | POLLNVAL))
			c->ring_hup[index[i]] = true;
	uint64_t count;
	if (fds[0].revents & POLLIN)
		(void)!read(c->wake_fd, &count, sizeof count);
	if (fds[1].revents) { /* stays readable: once is enough */
		close(c->root_pidfd);
		c->root_pidfd = -1;
	}
}

/* Writer side: wait up to COLLECT_WRITE_NS, less when the drain side sees
 * the workload over or fails (not again once write_step has seen it over:
 * in attach mode the wait for the last processes goes on at that pace). */
static void writer_wait(struct collect *c)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += COLLECT_WRITE_NS;
	while (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	if (c->writer_quiet || (!c->staging_quiet && !c->staging_error))
		pthread_cond_timedwait(&c->handed, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
}

static void *drain_main(void *arg)
{
	struct collect *c = arg;
	int64_t wait_ns = COLLECT_DRAIN_NS;
	while (!atomic_load(&c->stop_drain)) {
		uint64_t before = c->next_seq + (uint64_t)c->switches;
		drain_step(c);
		if (c->next_seq + (uint64_t)c->switches != before)
			wait_ns = COLLECT_DRAIN_NS;
		else if (wait_ns < COLLECT_IDLE_NS)
			wait_ns *= 2;
		drain_wait(c, wait_ns);
	}
	return NULL;
}

int collect_run(struct collect *c)
{
	pthread_t drainer;
	atomic_store(&c->stop_drain, 0);
	if (pthread_create(&drainer, NULL, drain_main, c) != 0)
		return -EAGAIN;
	int rc;
	for (;;) {
		rc = write_step(c, collect_now() - COLLECT_HOLD_NS);
		if (rc || atomic_load(&c->stop))
			break;
		writer_wait(c);
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

/* Runs on the host's thread with no drain thread running (collect_run has
 * joined it), so it acts as both sides. */
int collect_finish(struct collect *c, const char *status, struct collect_summary *summary)
{
	atomic_store(&c->map.header->closing, 1);
	if (c->mode == COLLECT_PARENT)
		reap_children(c);
	for (uint32_t i = 0; i < c->map.header->slot_count; i++) {
		uint32_t state = atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire);
		if (state == RING_SLOT_FREE)
			continue;
		if (state != RING_SLOT_CLAIMING)
			drain_slot(c, i);
		free_slot(c, i);
	}
	if (c->perf)
		sched_perf_drain(c->perf, 1, on_switch, c);
	int64_t end = collect_now();
	if (queue_move(&c->pending, &c->staging) || queue_move(&c->pending, &c->drained))
		c->error = -ENOMEM;
	if (c->staging_error && !c->error)
		c->error = c->staging_error;
	if (c->drain_error && !c->error)
		c->error = c->drain_error;
	process_queue(c, INT64_MAX);
	int rc = model_finish(c->model, end);
	if (!rc)
		rc = model_write_waits(c->model); /* nobody waits any more: empty */
	if (rc && !c->error)
		c->error = rc;

	struct model_stats stats;
	model_get_stats(c->model, &stats);
	int64_t threads_lost = (int64_t)atomic_load(&c->map.header->threads_lost);
	tracedb_meta_int(c->db, "end_ts", end);
	tracedb_meta_int(c->db, "events_lost", c->events_lost);
	tracedb_meta_int(c->db, "threads_lost", threads_lost);
	int64_t switches_lost = c->perf ? (int64_t)sched_perf_lost(c->perf) : 0;
	if (c->perf)
		tracedb_meta_int(c->db, "sched_events_lost", switches_lost);
	if (c->root_reaped) /* as a shell reports it */
		tracedb_meta_int(c->db, "exit_status",
				 WIFSIGNALED(c->root_status) ? 128 + WTERMSIG(c->root_status)
							     : WEXITSTATUS(c->root_status));
	if (!c->error && tracedb_finish(c->db, status))
		c->error = -EIO;
	if (summary) {
		*summary = (struct collect_summary){
		    .processes = stats.processes,
		    .threads = stats.threads,
		    .events = stats.events,
		    .events_lost = c->events_lost,
		    .threads_lost = threads_lost,
		    .switches = c->switches,
		    .switches_lost = switches_lost,
		    .root_reaped = c->root_reaped,
		    .root_status = c->root_status,
		};
	}
	unlink(c->shm_path);
	c->shm_unlinked = true;
	return c->error;
}

void collect_close(struct collect *c)
{
	if (!c)
		return;
	queue_free(&c->drained);
	queue_free(&c->staging);
	queue_free(&c->pending);
	free(c->scratch);
	close_waits(c);
	sched_perf_close(c->perf);
	for (uint32_t i = 0; c->sample_files && i < c->map.header->slot_count; i++)
		sample_file_close(&c->sample_files[i]);
	free(c->sample_files);
	table_free(c->stops);
	model_free(c->model);
	tracedb_close(c->db);
	ring_file_unmap(&c->map);
	if (!c->shm_unlinked)
		unlink(c->shm_path);
	free(c);
}
