/*
 * weft-demo-cashiers - concurrency vs parallelism, the seed's cashiers.
 *
 *   weft-demo-cashiers --cashiers 1 [--lines 2] [--customers 5]
 *   weft-demo-cashiers --cashiers 2 [--lines 2] [--customers 5]
 *
 * Each line of customers is a thread ("line-0", "line-1", ...). Serving a
 * customer is pure CPU work (a fixed number of xorshift steps), so a line
 * wants a CPU all the time. A cashier is a CPU:
 *
 *   --cashiers 1  every line is pinned to the same CPU (sched_setaffinity).
 *                 The lines take turns: in the timeline one line is Running
 *                 while the others are Ready (runnable, waiting for the CPU),
 *                 alternating every few milliseconds - time slicing, i.e.
 *                 concurrency. The per-CPU view shows one busy CPU.
 *   --cashiers 2  line i is pinned to CPU i mod 2. With two lines both are
 *                 Running at the same time on two CPUs, with almost no
 *                 Ready time - parallelism. The run takes about half the
 *                 wall time of --cashiers 1.
 *
 * About 0.6 s of CPU in total with the defaults. The output (a checksum per
 * line) is the same on every run and for both modes.
 */
#include "demo.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

enum { MAX_LINES = 16, STEPS_PER_CUSTOMER = 40000000 };

struct line {
	pthread_t thread;
	int index;
	int customers;
	int cpu; /* CPU this line is pinned to */
	uint64_t checksum;
};

static void *serve_line(void *arg)
{
	struct line *line = arg;
	char name[16];
	snprintf(name, sizeof name, "line-%d", line->index);
	pthread_setname_np(pthread_self(), name);

	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(line->cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		demo_die("sched_setaffinity", errno);

	uint64_t sum = 0;
	for (int c = 0; c < line->customers; c++)
		sum ^= demo_spin((uint64_t)(line->index * 1000 + c + 1), STEPS_PER_CUSTOMER);
	line->checksum = sum;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: weft-demo-cashiers --cashiers 1|2 [--lines N] [--customers N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int cashiers = 1, lines = 2, customers = 5;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--cashiers") == 0)
			cashiers = atoi(argv[++i]);
		else if (strcmp(argv[i], "--lines") == 0)
			lines = atoi(argv[++i]);
		else if (strcmp(argv[i], "--customers") == 0)
			customers = atoi(argv[++i]);
		else
			usage();
	}
	if (cashiers < 1 || lines < 1 || lines > MAX_LINES || customers < 1)
		usage();

	/* The CPUs we may use, in order; cashier k is the k-th of them. */
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
		demo_die("sched_getaffinity", errno);
	int cpus[CPU_SETSIZE], ncpus = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[ncpus++] = c;
	if (cashiers > ncpus) {
		fprintf(stderr,
			"weft-demo-cashiers: only %d CPU(s) available, using %d cashier(s)\n",
			ncpus, ncpus);
		cashiers = ncpus;
	}

	if (cashiers == 1) { /* pin before creating: lines never start elsewhere */
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpus[0], &one);
		if (sched_setaffinity(0, sizeof one, &one) != 0)
			demo_die("sched_setaffinity", errno);
	}

	struct line line[MAX_LINES];
	for (int i = 0; i < lines; i++) {
		line[i] =
		    (struct line){.index = i, .customers = customers, .cpu = cpus[i % cashiers]};
		int err = pthread_create(&line[i].thread, NULL, serve_line, &line[i]);
		if (err)
			demo_die("pthread_create", err);
	}
	for (int i = 0; i < lines; i++)
		pthread_join(line[i].thread, NULL);

	for (int i = 0; i < lines; i++)
		printf("line-%d served %d customers, checksum %016llx\n", i, customers,
		       (unsigned long long)line[i].checksum);
	return 0;
}
