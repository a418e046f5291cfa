/*
 * weft-demo-deadlock - two threads take two mutexes in opposite order: a
 * deadlock that resolves itself because both use pthread_mutex_timedlock.
 *
 *   weft-demo-deadlock
 *
 * Thread "alice" locks lock 1, thread "bob" locks lock 2; they meet at a
 * barrier so both hold their first lock. Then alice wants lock 2 (gives up
 * after 200 ms) and bob wants lock 1 (gives up after 600 ms). For 200 ms
 * each waits for a lock the other holds: a cycle in the wait-for graph.
 * Alice times out first and releases lock 1, so bob gets it.
 *
 * What to see in the timeline: alice and bob both Blocked 'mutex' from the
 * same moment, each naming the other as holder (a deadlock view shows the
 * cycle alice -> lock 2 -> bob -> lock 1 -> alice); alice's wait ends by
 * timeout (no arrow), bob's ends with an unlock -> acquire arrow from
 * alice. About 0.2 s; prints fixed lines.
 */
#include "demo.h"

#include <pthread.h>

static pthread_mutex_t lock1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

struct person {
	const char *name;
	pthread_mutex_t *first, *second;
	const char *first_name, *second_name;
	long patience_ms;
	int result; /* pthread_mutex_timedlock's result on the second lock */
};

static void *person_main(void *arg)
{
	struct person *me = arg;
	pthread_setname_np(pthread_self(), me->name);
	pthread_mutex_lock(me->first);
	pthread_barrier_wait(&both_hold_one);

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (me->patience_ms % 1000) * 1000000L;
	deadline.tv_sec += me->patience_ms / 1000 + deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	me->result = pthread_mutex_timedlock(me->second, &deadline);
	if (me->result == 0)
		pthread_mutex_unlock(me->second);
	pthread_mutex_unlock(me->first);
	return NULL;
}

int main(void)
{
	struct person alice = {"alice", &lock1, &lock2, "lock 1", "lock 2", 200, -1};
	struct person bob = {"bob", &lock2, &lock1, "lock 2", "lock 1", 600, -1};
	pthread_barrier_init(&both_hold_one, NULL, 2);

	pthread_t a = 0, b = 0;
	int err = pthread_create(&a, NULL, person_main, &alice);
	if (!err)
		err = pthread_create(&b, NULL, person_main, &bob);
	if (err)
		demo_die("pthread_create", err);
	pthread_join(a, NULL);
	pthread_join(b, NULL);

	const struct person *who[] = {&alice, &bob};
	for (int i = 0; i < 2; i++)
		printf("%s held %s and wanted %s: %s\n", who[i]->name, who[i]->first_name,
		       who[i]->second_name,
		       who[i]->result == 0	     ? "got it"
		       : who[i]->result == ETIMEDOUT ? "gave up (timed out)"
						     : strerror(who[i]->result));
	return alice.result == ETIMEDOUT && bob.result == 0 ? 0 : 1;
}
