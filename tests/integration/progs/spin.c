/*
 * weft-itest-spin [THREADS] [LOOPS] - THREADS threads (default 3) each
 * counting to LOOPS (default 300 million) while the main thread joins
 * them. Run on one CPU (taskset -c 0) there are more runnable threads than
 * CPUs: the critical path shows Ready time. Prints "done".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long loops = 300000000L;

static void *spin_main(void *arg)
{
	volatile long counter = 0;
	for (long i = 0; i < loops; i++)
		counter++;
	return arg;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 3;
	if (argc > 2)
		loops = atol(argv[2]);
	if (threads < 1 || threads > 64)
		return 2;
	pthread_t ids[64];
	for (int i = 0; i < threads; i++)
		pthread_create(&ids[i], NULL, spin_main, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(ids[i], NULL);
	puts("done");
	return 0;
}
