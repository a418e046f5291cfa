/*
 * weft-itest-deadlock3 - three threads in a ring of timed lock waits: a
 * deadlock of three that a timeout breaks.
 *
 * Threads "ring-0", "ring-1" and "ring-2" each lock their own mutex, meet
 * at a barrier, then ask with pthread_mutex_timedlock for the next one's
 * mutex (ring-2 for ring-0's). ring-0 gives up after 200 ms, the others
 * after 2 s; once ring-0 has given up it releases its mutex, so ring-2
 * gets it, releases both, and ring-1 follows. Prints each thread's result
 * (fixed lines).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mutexes[3] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
				     PTHREAD_MUTEX_INITIALIZER};
static pthread_barrier_t all_hold_one;
static int results[3];

static void *member(void *arg)
{
	int me = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "ring-%d", me);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&mutexes[me]);
	pthread_barrier_wait(&all_hold_one);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	long wait_ms = me == 0 ? 200 : 2000;
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	results[me] = pthread_mutex_timedlock(&mutexes[(me + 1) % 3], &until);
	if (results[me] == 0)
		pthread_mutex_unlock(&mutexes[(me + 1) % 3]);
	pthread_mutex_unlock(&mutexes[me]);
	return NULL;
}

int main(void)
{
	pthread_barrier_init(&all_hold_one, NULL, 3);
	pthread_t threads[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&threads[i], NULL, member, (void *)i);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 3; i++)
		printf("ring-%d: %s\n", i, results[i] ? strerror(results[i]) : "taken");
	return 0;
}
