/*
 * weft-itest-condqueue - producers and consumers on one mutex and one
 * condition variable, as fast as they can.
 *
 *   weft-itest-condqueue [PRODUCERS [CONSUMERS [SIGNALS]]]   (2 3 400000)
 *
 * Each producer ("producer-N") adds SIGNALS / PRODUCERS items to a shared
 * count, one at a time: lock, count++, pthread_cond_signal, unlock. Each
 * consumer ("consumer-N") locks, waits on the condition variable while the
 * count is 0, takes one item, unlocks. When the producers are done the
 * main thread broadcasts so that the consumers leave. Every wait is a
 * pthread_cond_wait that gives up the mutex and takes it again inside
 * libc, and every busy moment is a mutex contended by up to five threads.
 * Prints "consumed N" (N = SIGNALS rounded down to a multiple of
 * PRODUCERS), which does not depend on scheduling.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_THREADS = 64 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static long count, consumed, per_producer;
static int producing = 1;

static void *producer(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "producer-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	for (long i = 0; i < per_producer; i++) {
		pthread_mutex_lock(&lock);
		count++;
		pthread_cond_signal(&nonempty);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "consumer-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&lock);
	for (;;) {
		while (count == 0 && producing)
			pthread_cond_wait(&nonempty, &lock);
		if (count == 0)
			break;
		count--;
		consumed++;
		pthread_mutex_unlock(&lock);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int producers = argc > 1 ? atoi(argv[1]) : 2;
	int consumers = argc > 2 ? atoi(argv[2]) : 3;
	long signals = argc > 3 ? atol(argv[3]) : 400000;
	if (producers < 1 || consumers < 1 || producers + consumers > MAX_THREADS || signals < 0) {
		fprintf(stderr, "usage: weft-itest-condqueue [PRODUCERS [CONSUMERS [SIGNALS]]]\n");
		return 2;
	}
	per_producer = signals / producers;
	pthread_t made[MAX_THREADS], taken[MAX_THREADS];
	for (int i = 0; i < consumers; i++)
		pthread_create(&taken[i], NULL, consumer, (void *)(long)i);
	for (int i = 0; i < producers; i++)
		pthread_create(&made[i], NULL, producer, (void *)(long)i);
	for (int i = 0; i < producers; i++)
		pthread_join(made[i], NULL);
	pthread_mutex_lock(&lock);
	producing = 0;
	pthread_cond_broadcast(&nonempty);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < consumers; i++)
		pthread_join(taken[i], NULL);
	printf("consumed %ld\n", consumed);
	return 0;
}
