/*
 * sched_perf.c — reading context-switch records from per-CPU perf rings.
 *
 * Each CPU's event has its own ring (the kernel's perf mmap layout: one
 * control page, then 2^n data pages; data_head written by the kernel,
 * data_tail by us). Inherited child events write into their parent's ring,
 * so two rings on a two-CPU machine carry every switch of the whole tree.
 *
 * Records read here, with sample_type TID|TIME|CPU and sample_id_all:
 *   PERF_RECORD_SWITCH  header, then sample_id {u32 pid, tid; u64 time;
 *                       u32 cpu, res}; misc says OUT and OUT_PREEMPT.
 *   PERF_RECORD_FORK,   (attr.task) header, {u32 pid, ppid, tid, ptid;
 *   PERF_RECORD_EXIT    u64 time}, then sample_id.
 *   PERF_RECORD_COMM    (attr.comm) header, {u32 pid, tid; char comm[]
 *                       padded to 8 bytes}, then sample_id; misc has
 *                       COMM_EXEC when exec set it.
 *   PERF_RECORD_LOST    header, u64 id, u64 lost, then sample_id.
 *
 * Order: a ring is in time order; across rings it is not (a thread switched
 * out on CPU 0 may switch in on CPU 1 a microsecond later, and we read CPU
 * 1's ring after CPU 0's). Switches go into a pending array, are sorted by
 * time, and only those older than the drain's start minus HOLD_BACK_NS leave
 * it; the rest wait for the next drain. Single-threaded: the collector's
 * drain thread owns a struct sched_perf.
 */
#include "sched_perf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_RING_PAGES 64u
#define HOLD_BACK_NS 1000000ull

struct cpu_ring {
	int fd;
	unsigned cpu;
	struct perf_event_mmap_page *control;
	uint8_t *data;
	size_t data_size;
};

struct pending {
	struct sched_switch sw;
	uint64_t seq;
};

struct sched_perf {
	struct cpu_ring *rings;
	unsigned ring_count;
	size_t page_size;
	struct pending *pending;
	size_t pending_count;
	size_t pending_cap;
	uint64_t next_seq;
	uint64_t lost;
};

static uint64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static int open_event(pid_t pid, int cpu, size_t data_size)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
	attr.context_switch = 1;
	attr.task = 1;
	attr.comm = 1;
	attr.comm_exec = 1;
	attr.sample_id_all = 1;
	attr.inherit = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.watermark = 1; /* poll() says readable when a ring is half full */
	attr.wakeup_watermark = (uint32_t)(data_size / 2);
	long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

int sched_perf_open(pid_t pid, unsigned ring_pages, struct sched_perf **out)
{
	if (!ring_pages)
		ring_pages = DEFAULT_RING_PAGES;
	if (ring_pages & (ring_pages - 1))
		return -EINVAL;
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	if (cpus < 1)
		cpus = 1;

	struct sched_perf *perf = calloc(1, sizeof *perf);
	if (!perf)
		return -ENOMEM;
	perf->page_size = (size_t)sysconf(_SC_PAGESIZE);
	perf->rings = calloc((size_t)cpus, sizeof *perf->rings);
	if (!perf->rings) {
		free(perf);
		return -ENOMEM;
	}

	int error = 0;
	for (long cpu = 0; cpu < cpus; cpu++) {
		size_t data_size = (size_t)ring_pages * perf->page_size;
		int fd = open_event(pid, (int)cpu, data_size);
		if (fd == -ENODEV) /* CPU offline */
			continue;
		if (fd < 0) {
			error = fd;
			goto err;
		}
		void *map = mmap(NULL, data_size + perf->page_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			error = -errno;
			close(fd);
			goto err;
		}
		struct cpu_ring *ring = &perf->rings[perf->ring_count++];
		ring->fd = fd;
		ring->cpu = (unsigned)cpu;
		ring->control = map;
		ring->data = (uint8_t *)map + perf->page_size;
		ring->data_size = data_size;
	}
	if (!perf->ring_count) {
		error = -ENODEV;
		goto err;
	}
	*out = perf;
	return 0;

err:
	sched_perf_close(perf);
	return error;
}

size_t sched_perf_pollfds(const struct sched_perf *perf, struct pollfd *fds, size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; perf && i < perf->ring_count && n < max; i++)
		fds[n++] = (struct pollfd){.fd = perf->rings[i].fd, .events = POLLIN};
	return n;
}

static int push_pending(struct sched_perf *perf, const struct sched_switch *sw)
{
	if (perf->pending_count == perf->pending_cap) {
		size_t cap = perf->pending_cap ? perf->pending_cap * 2 : 4096;
		struct pending *grown = realloc(perf->pending, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		perf->pending = grown;
		perf->pending_cap = cap;
	}
	perf->pending[perf->pending_count].sw = *sw;
	perf->pending[perf->pending_count].seq = perf->next_seq++;
	perf->pending_count++;
	return 0;
}

/* Copy len bytes at ring offset `offset` (which may wrap) into out. */
static void ring_copy(const struct cpu_ring *ring, uint64_t offset, void *out, size_t len)
{
	size_t start = (size_t)(offset & (ring->data_size - 1));
	size_t first = ring->data_size - start;
	if (first >= len) {
		memcpy(out, ring->data + start, len);
	} else {
		memcpy(out, ring->data + start, first);
		memcpy((uint8_t *)out + first, ring->data, len - first);
	}
}

struct sample_id {
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
};

static void read_ring(struct sched_perf *perf, struct cpu_ring *ring)
{
	uint64_t head = __atomic_load_n(&ring->control->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = ring->control->data_tail;
	uint8_t record[256];

	while (tail < head) {
		struct perf_event_header header;
		ring_copy(ring, tail, &header, sizeof header);
		if (header.size < sizeof header || tail + header.size > head)
			break;
		size_t len = header.size < sizeof record ? header.size : sizeof record;
		ring_copy(ring, tail, record, len);

		if (header.type == PERF_RECORD_SWITCH &&
		    len >= sizeof header + sizeof(struct sample_id)) {
			struct sample_id id;
			memcpy(&id, record + sizeof header, sizeof id);
			struct sched_switch sw = {
			    .ts = id.time,
			    .pid = id.pid,
			    .tid = id.tid,
			    .cpu = id.cpu,
			    .out = (header.misc & PERF_RECORD_MISC_SWITCH_OUT) != 0,
			    .preempt = (header.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) != 0,
			};
			if (push_pending(perf, &sw) < 0)
				perf->lost++;
		} else if ((header.type == PERF_RECORD_FORK || header.type == PERF_RECORD_EXIT) &&
			   len >= sizeof header + 24) {
			uint32_t ids[4]; /* pid, ppid, tid, ptid */
			uint64_t time;
			memcpy(ids, record + sizeof header, sizeof ids);
			memcpy(&time, record + sizeof header + 16, sizeof time);
			struct sched_switch task = {
			    .ts = time,
			    .pid = ids[0],
			    .tid = ids[2],
			    .ppid = ids[1],
			    .ptid = ids[3],
			    .kind = header.type == PERF_RECORD_FORK ? SCHED_FORK : SCHED_EXIT,
			};
			if (push_pending(perf, &task) < 0)
				perf->lost++;
		} else if (header.type == PERF_RECORD_COMM &&
			   len >= sizeof header + 8 + sizeof(struct sample_id)) {
			/* the sample_id ends the record: its time is the rename's */
			struct sample_id id;
			memcpy(&id, record + len - sizeof id, sizeof id);
			struct sched_switch task = {
			    .ts = id.time,
			    .kind = SCHED_COMM,
			    .exec = (header.misc & PERF_RECORD_MISC_COMM_EXEC) != 0,
			};
			memcpy(&task.pid, record + sizeof header, 4);
			memcpy(&task.tid, record + sizeof header + 4, 4);
			size_t room = len - sizeof header - 8 - sizeof id;
			if (room > sizeof task.comm - 1)
				room = sizeof task.comm - 1;
			memcpy(task.comm, record + sizeof header + 8, room);
			task.comm[room] = '\0';
			if (push_pending(perf, &task) < 0)
				perf->lost++;
		} else if (header.type == PERF_RECORD_LOST && len >= sizeof header + 16) {
			uint64_t lost;
			memcpy(&lost, record + sizeof header + 8, sizeof lost);
			perf->lost += lost;
		}
		tail += header.size;
	}
	__atomic_store_n(&ring->control->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_time(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->sw.ts != y->sw.ts)
		return x->sw.ts < y->sw.ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t sched_perf_drain(struct sched_perf *perf, int final, sched_switch_fn fn, void *ctx)
{
	uint64_t started = monotonic_ns();
	for (unsigned i = 0; i < perf->ring_count; i++)
		read_ring(perf, &perf->rings[i]);
	if (!perf->pending_count)
		return 0;

	qsort(perf->pending, perf->pending_count, sizeof *perf->pending, by_time);
	uint64_t limit = final ? UINT64_MAX : started - HOLD_BACK_NS;
	size_t delivered = 0;
	while (delivered < perf->pending_count && perf->pending[delivered].sw.ts <= limit) {
		fn(ctx, &perf->pending[delivered].sw);
		delivered++;
	}
	memmove(perf->pending, perf->pending + delivered,
		(perf->pending_count - delivered) * sizeof *perf->pending);
	perf->pending_count -= delivered;
	return delivered;
}

uint64_t sched_perf_lost(const struct sched_perf *perf)
{
	return perf->lost;
}

void sched_perf_close(struct sched_perf *perf)
{
	if (!perf)
		return;
	for (unsigned i = 0; i < perf->ring_count; i++) {
		munmap(perf->rings[i].control, perf->rings[i].data_size + perf->page_size);
		close(perf->rings[i].fd);
	}
	free(perf->rings);
	free(perf->pending);
	free(perf);
}

int sched_schedstat_read(pid_t pid, pid_t tid, uint64_t *run_ns, uint64_t *wait_ns,
			 uint64_t *slices)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char text[128];
	ssize_t n = read(fd, text, sizeof text - 1);
	int error = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -error : -ENOENT;
	text[n] = '\0';
	uint64_t run, wait, count;
	if (sscanf(text, "%" SCNu64 " %" SCNu64 " %" SCNu64, &run, &wait, &count) != 3)
		return -EPROTO;
	*run_ns = run;
	*wait_ns = wait;
	*slices = count;
	return 0;
}
