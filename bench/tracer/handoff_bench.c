/*
 * handoff_bench - cost of a recorded transition: two threads hand a token
 * back and forth through two semaphores, so every handoff blocks one thread
 * and wakes the other (a Blocked span, a wake-up, a context switch).
 *
 *   handoff_bench [ROUND_TRIPS]   (default 20000)
 *
 * Both threads are pinned to one CPU (the first allowed), so each handoff
 * is one context switch and the figure does not depend on CPU idle states.
 * Prints "ns_per_handoff N.N" (wall time / (2 * ROUND_TRIPS)). Traced minus
 * untraced is what weft adds per blocking transition.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static sem_t ping, pong;
static long round_trips;

static void *partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < round_trips; i++) {
		sem_wait(&ping);
		sem_post(&pong);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	round_trips = argc > 1 ? atol(argv[1]) : 20000;
	cpu_set_t cpus;
	sched_getaffinity(0, sizeof cpus, &cpus);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &cpus)) {
			CPU_ZERO(&cpus);
			CPU_SET(c, &cpus);
			sched_setaffinity(0, sizeof cpus, &cpus);
			break;
		}
	sem_init(&ping, 0, 0);
	sem_init(&pong, 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, partner, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < round_trips; i++) {
		sem_post(&ping);
		sem_wait(&pong);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_per_handoff %.1f\n", ns / (2.0 * round_trips));
	return 0;
}
