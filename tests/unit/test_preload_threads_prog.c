/*
 * test_preload_threads_prog.c — threads that end every way a thread can:
 * one returns from its start routine, one calls pthread_exit, one is
 * cancelled while it waits on a condition variable (a recorded wait), and
 * last the main thread calls pthread_exit, so that the process ends when
 * its last thread does. Each created thread names itself first ("returns",
 * "exits", "cancelled") so that test_preload_threads can tell them apart.
 * Exits 0 when every step did what POSIX says.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int waiting;

static void fail(const char *what)
{
	fprintf(stderr, "test_preload_threads_prog: %s\n", what);
	exit(1);
}

static void *returns(void *arg)
{
	pthread_setname_np(pthread_self(), "returns");
	return arg;
}

static void *exits(void *arg)
{
	pthread_setname_np(pthread_self(), "exits");
	pthread_exit(arg);
}

static void unlock(void *unused)
{
	pthread_mutex_unlock(&lock);
}

static void *cancelled(void *arg)
{
	pthread_setname_np(pthread_self(), "cancelled");
	pthread_mutex_lock(&lock);
	pthread_cleanup_push(unlock, NULL);
	waiting = 1;
	for (;;)
		pthread_cond_wait(&never, &lock);
	pthread_cleanup_pop(1);
	return arg;
}

int main(void)
{
	pthread_t thread;
	void *result = NULL;
	if (pthread_create(&thread, NULL, returns, (void *)1) || pthread_join(thread, &result) ||
	    result != (void *)1)
		fail("a returning thread");
	if (pthread_create(&thread, NULL, exits, (void *)2) || pthread_join(thread, &result) ||
	    result != (void *)2)
		fail("a thread calling pthread_exit");
	if (pthread_create(&thread, NULL, cancelled, NULL))
		fail("pthread_create");
	for (int ready = 0; !ready; usleep(1000)) {
		pthread_mutex_lock(&lock);
		ready = waiting;
		pthread_mutex_unlock(&lock); /* the waiter is inside pthread_cond_wait now */
	}
	if (pthread_cancel(thread) || pthread_join(thread, &result) || result != PTHREAD_CANCELED)
		fail("a cancelled thread");
	pthread_exit(NULL);
}
