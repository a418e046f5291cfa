/*
 * mutex_bench - cost of an uncontended pthread_mutex_lock + unlock.
 *
 *   mutex_bench [ITERATIONS]      (default 20000000)
 *
 * Starts one idle thread first, so the process is multithreaded (as the
 * programs weft traces are), then times ITERATIONS lock+unlock pairs on one
 * mutex nobody else touches, five times, and prints the fastest as
 * "ns_per_op N.NN". Run it with and without LD_PRELOAD=libweft.so: an
 * uncontended lock is not a transition and should cost almost nothing more.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static sem_t stop;

static void *idle_thread(void *arg)
{
	(void)arg;
	sem_wait(&stop);
	return NULL;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 20000000L;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_t idle;
	sem_init(&stop, 0, 0);
	pthread_create(&idle, NULL, idle_thread, NULL);

	double best = 1e300;
	for (int round = 0; round < 5; round++) {
		double t0 = now_ns();
		for (long i = 0; i < iterations; i++) {
			pthread_mutex_lock(&lock);
			__asm__ volatile("" ::: "memory");
			pthread_mutex_unlock(&lock);
		}
		double per_op = (now_ns() - t0) / (double)iterations;
		if (per_op < best)
			best = per_op;
	}
	sem_post(&stop);
	pthread_join(idle, NULL);
	printf("ns_per_op %.2f\n", best);
	return 0;
}
