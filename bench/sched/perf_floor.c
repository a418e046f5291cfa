/*
 * perf_floor - what the kernel charges a context switch for each part of
 * the perf setup weft uses, with no collector, no SQLite and no preload:
 * it forks CMD held on a pipe, opens one perf event per CPU on it as
 * VARIANT says, lets it run, and empties the rings every 2 ms (moving
 * data_tail, reading nothing) until it exits.
 *
 *   perf_floor VARIANT -- CMD [ARGS...]
 *
 * VARIANT:
 *   none        no event (the baseline)
 *   event       an inherited dummy event per CPU, no switch records: the
 *               cost of the task having a perf context at all
 *   switch      + context_switch=1, as weft opens it (sample_id_all with
 *               TID, TIME, CPU; CLOCK_MONOTONIC)
 *   switch-noid context_switch=1 without sample_id_all: records with no
 *               time or thread (useless; shows what the id fields cost)
 *   cpu-wide    one event per CPU for every task (pid -1; needs
 *               CAP_PERFMON or perf_event_paranoid <= 0), switch records
 *               with sample_id_all: the design weft could use as root
 * Exits with CMD's exit status; 2 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 256
#define RING_PAGES 64

/* One perf event (and its ring) per CPU for pid, set up as variant says.
 * Returns 0, or -1 with the error printed. */
static int open_rings(const char *variant, pid_t pid, long cpus,
		      struct perf_event_mmap_page *rings[MAX_CPUS])
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (long cpu = 0; cpu < cpus; cpu++) {
		struct perf_event_attr attr;
		memset(&attr, 0, sizeof attr);
		attr.size = sizeof attr;
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_DUMMY;
		attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
		attr.context_switch = strcmp(variant, "event") != 0;
		attr.sample_id_all = strcmp(variant, "switch-noid") != 0;
		attr.exclude_kernel = 1;
		attr.exclude_hv = 1;
		attr.use_clockid = 1;
		attr.clockid = CLOCK_MONOTONIC;
		int wide = !strcmp(variant, "cpu-wide");
		attr.inherit = !wide;
		long fd = syscall(SYS_perf_event_open, &attr, wide ? -1 : pid, (int)cpu, -1,
				  PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "perf_floor: perf_event_open (%s): %s\n", variant,
				strerror(errno));
			return -1;
		}
		void *map = mmap(NULL, (RING_PAGES + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED,
				 (int)fd, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "perf_floor: mmap: %s\n", strerror(errno));
			return -1;
		}
		rings[cpu] = map;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr,
			"usage: perf_floor none|event|switch|switch-noid|cpu-wide -- CMD...\n");
		return 2;
	}
	const char *variant = argv[1];
	int known = !strcmp(variant, "none") || !strcmp(variant, "event") ||
		    !strcmp(variant, "switch") || !strcmp(variant, "switch-noid") ||
		    !strcmp(variant, "cpu-wide");
	if (!known) {
		fprintf(stderr, "perf_floor: unknown variant '%s'\n", variant);
		return 2;
	}
	int go[2];
	if (pipe(go) < 0)
		return 2;
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		close(go[0]);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	close(go[0]);
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	if (cpus < 1 || cpus > MAX_CPUS)
		cpus = 1;
	struct perf_event_mmap_page *rings[MAX_CPUS] = {0};
	if (strcmp(variant, "none") != 0 && open_rings(variant, pid, cpus, rings)) {
		kill(pid, SIGKILL);
		return 2;
	}
	if (write(go[1], "g", 1) != 1)
		return 2;
	close(go[1]);
	int status;
	for (;;) {
		struct timespec pause = {0, 2000000};
		nanosleep(&pause, NULL);
		for (long cpu = 0; cpu < cpus; cpu++) {
			if (!rings[cpu])
				continue;
			__u64 head = __atomic_load_n(&rings[cpu]->data_head, __ATOMIC_ACQUIRE);
			__atomic_store_n(&rings[cpu]->data_tail, head, __ATOMIC_RELEASE);
		}
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid)
			break;
		if (done < 0)
			return 2;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
