/*
 * weft-itest-deadlock - a program that deadlocks for real and stays stuck
 * until it is killed.
 *
 * Thread "left" locks mutex A, thread "right" locks mutex B; once both
 * hold their first mutex (a barrier), left locks B and right locks A with
 * pthread_mutex_lock: neither can ever go on. The main thread prints its
 * pid and "stuck" on stdout (flushed) when both are about to wait, then
 * joins them, forever.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t mutex_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mutex_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

struct side {
	const char *name;
	pthread_mutex_t *first, *second;
};

static void *side_main(void *arg)
{
	const struct side *me = arg;
	pthread_setname_np(pthread_self(), me->name);
	pthread_mutex_lock(me->first);
	pthread_barrier_wait(&both_hold_one);
	pthread_mutex_lock(me->second); /* never returns */
	pthread_mutex_unlock(me->second);
	pthread_mutex_unlock(me->first);
	return NULL;
}

int main(void)
{
	static const struct side left = {"left", &mutex_a, &mutex_b};
	static const struct side right = {"right", &mutex_b, &mutex_a};
	pthread_barrier_init(&both_hold_one, NULL, 3);
	pthread_t threads[2];
	if (pthread_create(&threads[0], NULL, side_main, (void *)&left) ||
	    pthread_create(&threads[1], NULL, side_main, (void *)&right)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	pthread_barrier_wait(&both_hold_one);
	printf("%d stuck\n", (int)getpid());
	fflush(stdout);
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	return 0;
}
