/*
 * weft-itest-static-threads - a statically linked program with threads:
 * nothing of libweft.so runs in it, so all the trace knows of it comes from
 * the kernel (perf switch and task records). Two threads named "spinner"
 * each spin on a CPU for about 100 ms and exit; the main thread joins them,
 * sleeps 20 ms and exits 4.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
	pthread_setname_np(pthread_self(), "spinner");
	volatile unsigned long n = 0;
	double until = now() + 0.1;
	while (now() < until)
		n++;
	return arg;
}

int main(void)
{
	pthread_t threads[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, spin, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	struct timespec nap = {0, 20 * 1000000L};
	nanosleep(&nap, NULL);
	printf("static threads done\n");
	return 4;
}
