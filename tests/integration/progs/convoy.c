/*
 * weft-itest-convoy [HOLD_MS] - a lock convoy: three threads "worker-1..3"
 * take one mutex four times each and keep the CPU busy for HOLD_MS
 * (default 50) while they hold it, so the others queue behind it. The
 * main thread joins them. The critical path runs through each holder's
 * Running time and names the mutex. Prints "done".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_started;
static long hold_ms = 50;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker_main(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "worker-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&all_started);
	for (int i = 0; i < 4; i++) {
		pthread_mutex_lock(&queue_lock);
		long long until = now_ns() + hold_ms * 1000000LL;
		while (now_ns() < until)
			;
		pthread_mutex_unlock(&queue_lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		hold_ms = atol(argv[1]);
	pthread_t workers[3];
	pthread_barrier_init(&all_started, NULL, 3);
	for (long i = 0; i < 3; i++)
		pthread_create(&workers[i], NULL, worker_main, (void *)(i + 1));
	for (int i = 0; i < 3; i++)
		pthread_join(workers[i], NULL);
	puts("done");
	return 0;
}
