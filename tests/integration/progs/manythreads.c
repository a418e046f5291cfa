/*
 * manythreads - N threads (argv[1], default 4096) alive at once: each
 * starts, waits on a barrier until every one of them has started, and
 * ends. Small stacks, so that thousands fit. Prints "N threads" and exits
 * 0; exits 1 if a thread could not be created.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t all_started;

static void *wait_for_all(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&all_started);
	return NULL;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 4096;
	if (count <= 0)
		return 2;
	pthread_t *threads = calloc((size_t)count, sizeof *threads);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&all_started, NULL, (unsigned)count);
	for (int i = 0; i < count; i++)
		if (pthread_create(&threads[i], &attr, wait_for_all, NULL) != 0) {
			fprintf(stderr, "manythreads: thread %d could not be created\n", i);
			return 1;
		}
	for (int i = 0; i < count; i++)
		pthread_join(threads[i], NULL);
	printf("%d threads\n", count);
	free(threads);
	return 0;
}
