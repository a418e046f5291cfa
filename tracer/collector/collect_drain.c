/*
 * collect_drain.c — the collector's drain side (collect.c's head comment
 * numbers its steps): drains the rings into `drained`, reaps children and
 * reads their /proc entries, frees the slots of threads that are gone,
 * polls stops, reads perf's context switches or samples
 * schedstat, and hands each round to the writer through `staging`. Runs
 * on the drain thread in collect_run, on the host's thread otherwise. It
 * never waits for SQLite.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect_internal.h"

#define LIVENESS_NS (50 * 1000 * 1000ll)
#define SAMPLE_NS (10 * 1000 * 1000ll)
/* Parent mode polls stops less often than attach mode: waitid already
 * tells the stops of its children, the poll is for the processes that are
 * not (a pipeline's members are the shell's children), and a read of
 * /proc per process every 10 ms would cost a busy `make -j` dearly. */
#define STOP_POLL_PARENT_NS (50 * 1000 * 1000ll)
#define BACKLOG_MAX (2u * 1024 * 1024) /* records handed over, not yet taken */

static int64_t boottime_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* A new zeroed item at the end of the drain side's queue, or NULL (and
 * drain_error) when out of memory. */
static struct item *queue_push(struct collect *c)
{
	if (collect_queue_reserve(&c->drained, 1)) {
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

void collect_drain_slot(struct collect *c, uint32_t index)
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

void collect_drain_free_slot(struct collect *c, uint32_t index)
{
	c->events_lost += (int64_t)atomic_load(&c->map.slots[index].dropped);
	ring_slot_free(&c->map, index);
}

void collect_drain_on_switch(void *ctx, const struct sched_switch *sw)
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

void collect_drain_sample_close(struct sample_file *file)
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
			collect_drain_sample_close(file);
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
		collect_drain_sample_close(file); /* a thread of that tid that is gone: reopen */
	}
	return -ENOENT;
}

/* Drain side: the CPU counters of every thread that holds a ring. */
static void sample_threads(struct collect *c)
{
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC) {
			collect_drain_sample_close(&c->sample_files[i]);
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

void collect_drain_reap(struct collect *c)
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
		for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
			struct ring_slot *slot = &c->map.slots[i];
			uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
			if (state == RING_SLOT_FREE || slot->pid != (uint32_t)pid)
				continue;
			if (state != RING_SLOT_CLAIMING)
				collect_drain_slot(c, i);
			collect_drain_free_slot(c, i);
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

/* The state letter of /proc/<pid>/stat (tid 0) or of
 * /proc/<pid>/task/<tid>/stat, and its parent's pid into *ppid; 0 when
 * unreadable. */
static char proc_state(uint32_t pid, uint32_t tid, int *ppid)
{
	char path[64], text[512];
	if (tid)
		snprintf(path, sizeof path, "/proc/%u/task/%u/stat", pid, tid);
	else
		snprintf(path, sizeof path, "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *close_paren = strrchr(text, ')');
	if (!close_paren || close_paren[1] != ' ' || !close_paren[2] ||
	    sscanf(close_paren + 3, "%d", ppid) != 1)
		return 0;
	return close_paren[2];
}

static void queue_suspend(struct collect *c, uint32_t pid, uint32_t tid, bool stopped)
{
	struct item *item = queue_push(c);
	if (!item)
		return;
	item->kind = ITEM_SUSPEND;
	item->ts = collect_now();
	item->source.pid = pid;
	item->source.tid = tid;
	item->status = stopped;
}

/* Stops and continues of the processes that hold rings, polled (see the
 * top of the file); in parent mode, of those that are not our children
 * (watch_stops hears of those). A group stop shows as 'T' in the leader's
 * state ('t' when a debugger holds it: its threads are read one by one
 * then, below). */
static void poll_stops(struct collect *c)
{
	uint64_t round = ++c->stop_round;
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC)
			continue;
		uint32_t pid = slot->pid;
		uintptr_t known = (uintptr_t)table_get(c->stops, pid, 0);
		if (known >> 1 == round)
			continue; /* another thread of a process seen this round */
		int ppid = 0;
		char letter = proc_state(pid, 0, &ppid);
		if (!letter || (c->mode == COLLECT_PARENT && ppid == getpid()))
			continue;
		int stopped = letter == 'T';
		if (table_put(c->stops, pid, 0,
			      (void *)(uintptr_t)(round << 1 | (uintptr_t)stopped)))
			return;
		if ((int)(known & 1) == stopped)
			continue;
		if (!known && !stopped)
			continue; /* first look: running, as every process starts */
		queue_suspend(c, pid, 0, stopped);
	}
}

/* Threads stopped alone, by a debugger's ptrace stop ('t' in the thread's
 * own state; a group stop is poll_stops' and watch_stops'): at most
 * THREAD_STOP_BUDGET threads read per round, in turn, so that the cost of
 * a poll stays bounded however many threads there are. */
#define THREAD_STOP_BUDGET 64u

static void poll_thread_stops(struct collect *c)
{
	uint32_t count = ring_slot_bound(&c->map);
	for (uint32_t n = 0, read = 0; n < count && read < THREAD_STOP_BUDGET; n++) {
		uint32_t i = c->thread_stop_cursor++ % count;
		struct ring_slot *slot = &c->map.slots[i];
		struct thread_stop *seen = &c->thread_stops[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC)
			continue;
		uint32_t pid = slot->pid, tid = slot->tid;
		if (seen->tid != tid)
			*seen = (struct thread_stop){.tid = tid};
		int ppid = 0;
		char letter = proc_state(pid, tid, &ppid);
		read++;
		if (!letter)
			continue;
		bool stopped = letter == 't';
		if (stopped != seen->stopped) {
			seen->stopped = stopped;
			queue_suspend(c, pid, tid, stopped);
		}
	}
}

bool collect_pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* Free the slots of threads that are gone; in attach mode, report the
 * processes that are gone. */
static void check_liveness(struct collect *c)
{
	int64_t now = collect_now();
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
		struct ring_slot *slot = &c->map.slots[i];
		uint32_t state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state != RING_SLOT_ACTIVE && state != RING_SLOT_EXEC)
			continue;
		pid_t pid = (pid_t)slot->pid, tid = (pid_t)slot->tid;
		if (syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH)
			continue;
		collect_drain_slot(c, i);
		collect_drain_free_slot(c, i);
		if (c->mode == COLLECT_ATTACH && !collect_pid_alive(pid)) {
			struct item *item = queue_push(c);
			if (item) {
				item->kind = ITEM_GONE;
				item->ts = now;
				item->source.pid = (uint32_t)pid;
			}
		}
	}
	if (c->mode == COLLECT_ATTACH && !collect_pid_alive(c->attach_pid))
		c->target_gone = true;
}

static bool any_slot_in_use(struct collect *c)
{
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++)
		if (atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire) !=
		    RING_SLOT_FREE)
			return true;
	return false;
}

static void sweep(struct collect *c)
{
	for (uint32_t i = 0, n = ring_slot_bound(&c->map); i < n; i++) {
		uint32_t state = atomic_load_explicit(&c->map.slots[i].state, memory_order_acquire);
		if (state == RING_SLOT_FREE || state == RING_SLOT_CLAIMING)
			continue;
		collect_drain_slot(c, i);
		if (state == RING_SLOT_DONE)
			collect_drain_free_slot(c, i);
	}
}

/* Drain side: one round (see the top of the file). */
void collect_drain_step(struct collect *c)
{
	pthread_mutex_lock(&c->lock);
	size_t backlog = c->staging.count;
	pthread_mutex_unlock(&c->lock);
	if (backlog > BACKLOG_MAX)
		return; /* the writer is behind: the rings hold records meanwhile
			 * (and when full drop and count them), memory does not grow */
	int64_t round_start = collect_now(); /* every ring is read after it */
	if (c->mode == COLLECT_PARENT)
		collect_drain_reap(c);
	sweep(c);
	int64_t now = collect_now();
	if (now - c->last_liveness_ns >= LIVENESS_NS) {
		check_liveness(c);
		c->last_liveness_ns = now;
	}
	if (c->perf)
		sched_perf_drain(c->perf, 0, collect_drain_on_switch, c);
	if (c->stops && now - c->last_stop_poll_ns >=
			    (c->mode == COLLECT_PARENT ? STOP_POLL_PARENT_NS : SAMPLE_NS)) {
		poll_stops(c);
		poll_thread_stops(c);
		c->last_stop_poll_ns = now;
	}
	if (c->sample && now - c->last_sample_ns >= SAMPLE_NS) {
		sample_threads(c);
		c->last_sample_ns = now;
	}
	bool quiet =
	    c->mode == COLLECT_PARENT ? c->no_children : c->target_gone && !any_slot_in_use(c);
	pthread_mutex_lock(&c->lock);
	if (collect_queue_move(&c->staging, &c->drained))
		c->drain_error = -ENOMEM; /* kept in `drained` for the next round */
	c->staging_quiet = quiet && !c->drained.count;
	if (!c->drained.count) /* all of this round was handed over */
		c->staging_swept = round_start;
	if (c->drain_error && !c->staging_error)
		c->staging_error = c->drain_error;
	if (c->staging_quiet || c->staging_error)
		pthread_cond_signal(&c->handed);
	pthread_mutex_unlock(&c->lock);
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

void *collect_drain_main(void *arg)
{
	struct collect *c = arg;
	int64_t wait_ns = COLLECT_DRAIN_NS;
	while (!atomic_load(&c->stop_drain)) {
		uint64_t before = c->next_seq + (uint64_t)c->switches;
		collect_drain_step(c);
		if (c->next_seq + (uint64_t)c->switches != before)
			wait_ns = COLLECT_DRAIN_NS;
		else if (wait_ns < COLLECT_IDLE_NS)
			wait_ns *= 2;
		drain_wait(c, wait_ns);
	}
	return NULL;
}
