/*
 * weft-demo-lockhold - one thread holds a mutex for 200 ms while another
 * waits for it: "who holds it".
 *
 *   weft-demo-lockhold [HOLD_MS]          (default 200)
 *
 * The thread "holder" locks the mutex, tells "waiter" (a semaphore post)
 * and sleeps HOLD_MS with the lock held, then unlocks. "waiter" waits for
 * the semaphore, then calls pthread_mutex_lock and blocks until the holder
 * lets go.
 *
 * What to see in the timeline: waiter Blocked with reason 'mutex' for about
 * HOLD_MS, its holder_utid naming the holder thread (which is itself
 * Blocked 'sleep' at the same time), and an unlock -> acquire arrow from
 * holder to waiter when the wait ends. The integration tests use this
 * program. Prints two fixed lines.
 */
#include "demo.h"

#include <pthread.h>
#include <semaphore.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t lock_taken;
static long hold_ms = 200;

static void *holder_main(void *arg)
{
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&lock);
	sem_post(&lock_taken);
	demo_sleep_ms(hold_ms);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *waiter_main(void *arg)
{
	pthread_setname_np(pthread_self(), "waiter");
	while (sem_wait(&lock_taken) != 0) {
	}
	pthread_mutex_lock(&lock); /* blocks about hold_ms */
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		hold_ms = atol(argv[1]);
	if (hold_ms < 0 || hold_ms > 60000) {
		fprintf(stderr, "usage: weft-demo-lockhold [HOLD_MS 0..60000]\n");
		return 2;
	}
	sem_init(&lock_taken, 0, 0);

	pthread_t holder = 0, waiter = 0;
	int err = pthread_create(&holder, NULL, holder_main, NULL);
	if (!err)
		err = pthread_create(&waiter, NULL, waiter_main, NULL);
	if (err)
		demo_die("pthread_create", err);
	pthread_join(holder, NULL);
	pthread_join(waiter, NULL);
	printf("holder held the lock for %ld ms\n", hold_ms);
	printf("waiter got the lock after holder released it\n");
	return 0;
}
