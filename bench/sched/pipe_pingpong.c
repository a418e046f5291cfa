/*
 * pipe_pingpong - context switches on demand: two threads hand one byte
 * back and forth through two pipes (write 1 byte, blocking read 1 byte).
 *
 *   pipe_pingpong pinned ROUND_TRIPS     both threads on one CPU
 *   pipe_pingpong unpinned ROUND_TRIPS   wherever the scheduler puts them
 *   pipe_pingpong paced RATE SECONDS     pinned, about RATE switches a
 *                                        second for SECONDS seconds
 *
 * Pinned (to the first allowed CPU), every handoff blocks the sender in
 * read() and switches straight to the woken partner: one context switch
 * per handoff, whatever the CPU idle states do. Unpinned, the threads
 * usually sit on two CPUs and each blocking read switches to the idle task
 * and back, so the switch count is measured rather than assumed.
 *
 * Paced mode splits time into 1 ms ticks; each tick does the round trips
 * due by then at RATE/2 round trips a second (RATE handoffs, so RATE
 * switches a second when pinned) and sleeps to the next tick (one more
 * switch, to idle). Ticks that overrun are made up by the next ones, so
 * the rate is reached whenever the machine can sustain it on average.
 *
 * Prints, one "key value" a line:
 *   handoffs        2 * round trips done
 *   switches        context switches of the process's threads during the
 *                   loop (getrusage RUSAGE_SELF, voluntary + involuntary)
 *   wall_ns         wall time of the loop (CLOCK_MONOTONIC)
 *   ns_per_handoff  wall_ns / handoffs
 *   ns_per_switch   wall_ns / switches
 *   switches_per_s  switches / wall time
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int to_partner[2], to_main[2];

static void die(const char *what)
{
	fprintf(stderr, "pipe_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put_byte(int fd)
{
	char c = 'x';
	if (write(fd, &c, 1) != 1)
		die("write");
}

static int get_byte(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);
	if (n < 0)
		die("read");
	return n == 1;
}

/* The partner echoes every byte until the main thread closes its pipe. */
static void *partner(void *arg)
{
	(void)arg;
	while (get_byte(to_partner[0]))
		put_byte(to_main[1]);
	return NULL;
}

static void pin_to_first_cpu(void)
{
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof cpus, &cpus) != 0)
		die("sched_getaffinity");
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &cpus)) {
			CPU_ZERO(&cpus);
			CPU_SET(c, &cpus);
			if (sched_setaffinity(0, sizeof cpus, &cpus) != 0)
				die("sched_setaffinity");
			return;
		}
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static long switches_so_far(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void round_trip(void)
{
	put_byte(to_partner[1]);
	if (!get_byte(to_main[0])) {
		errno = EPIPE;
		die("partner gone");
	}
}

/*
 * Returns the number of round trips done. Each 1 ms tick catches up with
 * the schedule (RATE/2 round trips per second since the start), then
 * sleeps to the next tick; ticks that overran are made up in the next ones.
 */
static long run_paced(double rate, double seconds)
{
	uint64_t start = now_ns();
	uint64_t end = start + (uint64_t)(seconds * 1e9);
	long done = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t t = start; t < end; t = now_ns()) {
		long due = (long)((double)(t - start) * rate / 2e9) + 1;
		while (done < due) {
			round_trip();
			done++;
		}
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return done;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int paced = strcmp(mode, "paced") == 0;
	if (argc < (paced ? 4 : 3) ||
	    (!paced && strcmp(mode, "pinned") != 0 && strcmp(mode, "unpinned") != 0)) {
		fprintf(stderr, "usage: pipe_pingpong pinned|unpinned ROUND_TRIPS\n"
				"       pipe_pingpong paced RATE SECONDS\n");
		return 2;
	}
	if (strcmp(mode, "unpinned") != 0)
		pin_to_first_cpu(); /* before the partner exists: it inherits */
	if (pipe(to_partner) != 0 || pipe(to_main) != 0)
		die("pipe");
	pthread_t t;
	if (pthread_create(&t, NULL, partner, NULL) != 0)
		die("pthread_create");
	round_trip(); /* the partner is running and blocked in read() */

	long s0 = switches_so_far();
	uint64_t t0 = now_ns();
	long trips = 0;
	if (paced) {
		trips = run_paced(atof(argv[2]), atof(argv[3]));
	} else {
		trips = atol(argv[2]);
		for (long i = 0; i < trips; i++)
			round_trip();
	}
	uint64_t wall = now_ns() - t0;
	long switches = switches_so_far() - s0;

	close(to_partner[1]);
	pthread_join(t, NULL);
	long handoffs = 2 * trips;
	printf("handoffs %ld\n", handoffs);
	printf("switches %ld\n", switches);
	printf("wall_ns %llu\n", (unsigned long long)wall);
	printf("ns_per_handoff %.1f\n", handoffs ? (double)wall / handoffs : 0.0);
	printf("ns_per_switch %.1f\n", switches ? (double)wall / switches : 0.0);
	printf("switches_per_s %.0f\n", wall ? switches * 1e9 / wall : 0.0);
	return 0;
}
