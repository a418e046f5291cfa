/*
 * weft-itest-lockorder - lock orders that could deadlock, and orders that
 * could not, taken one thread at a time (so this run never deadlocks).
 *
 * Threads run one after the other, each taking its locks in order and
 * releasing them:
 *   "ab" A then B; "ba" B then A                       an inversion
 *   "cd" C then D; "de" D then E; "ec" E then C        a cycle of three
 *   "gate-xy" G, X, Y; "gate-yx" G, Y, X               serialized by G
 *   "try-pq" P then Q; "try-qp" Q, then trylock on P   a trylock cannot block
 *   "read-12" and "read-21": R1 and R2 read-locked, in opposite orders
 *   "self" S then T, later T then S                    an inversion of one
 *                                                      thread
 * Prints "done".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER,
		       c = PTHREAD_MUTEX_INITIALIZER, d = PTHREAD_MUTEX_INITIALIZER,
		       e = PTHREAD_MUTEX_INITIALIZER, g = PTHREAD_MUTEX_INITIALIZER,
		       x = PTHREAD_MUTEX_INITIALIZER, y = PTHREAD_MUTEX_INITIALIZER,
		       p = PTHREAD_MUTEX_INITIALIZER, q = PTHREAD_MUTEX_INITIALIZER,
		       s = PTHREAD_MUTEX_INITIALIZER, t = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t r1 = PTHREAD_RWLOCK_INITIALIZER, r2 = PTHREAD_RWLOCK_INITIALIZER;

struct order {
	const char *name;
	pthread_mutex_t *locks[3];
	int try_last; /* the last lock by trylock */
};

static void *take(void *arg)
{
	const struct order *order = arg;
	pthread_setname_np(pthread_self(), order->name);
	int n = 0;
	while (n < 3 && order->locks[n])
		n++;
	for (int i = 0; i < n; i++) {
		if (i == n - 1 && order->try_last)
			pthread_mutex_trylock(order->locks[i]);
		else
			pthread_mutex_lock(order->locks[i]);
	}
	for (int i = n; i-- > 0;)
		pthread_mutex_unlock(order->locks[i]);
	return NULL;
}

static void *read_both(void *arg)
{
	int reverse = !strcmp(arg, "read-21");
	pthread_setname_np(pthread_self(), arg);
	pthread_rwlock_rdlock(reverse ? &r2 : &r1);
	pthread_rwlock_rdlock(reverse ? &r1 : &r2);
	pthread_rwlock_unlock(reverse ? &r1 : &r2);
	pthread_rwlock_unlock(reverse ? &r2 : &r1);
	return NULL;
}

static void *both_ways(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "self");
	pthread_mutex_lock(&s);
	pthread_mutex_lock(&t);
	pthread_mutex_unlock(&t);
	pthread_mutex_unlock(&s);
	pthread_mutex_lock(&t);
	pthread_mutex_lock(&s);
	pthread_mutex_unlock(&s);
	pthread_mutex_unlock(&t);
	return NULL;
}

static void run(void *(*fn)(void *), void *arg)
{
	pthread_t thread;
	pthread_create(&thread, NULL, fn, arg);
	pthread_join(thread, NULL);
}

int main(void)
{
	static struct order orders[] = {
	    {"ab", {&a, &b}, 0},	  {"ba", {&b, &a}, 0},	   {"cd", {&c, &d}, 0},
	    {"de", {&d, &e}, 0},	  {"ec", {&e, &c}, 0},	   {"gate-xy", {&g, &x, &y}, 0},
	    {"gate-yx", {&g, &y, &x}, 0}, {"try-pq", {&p, &q}, 0}, {"try-qp", {&q, &p}, 1},
	};
	for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
		run(take, &orders[i]);
	run(read_both, "read-12");
	run(read_both, "read-21");
	run(both_ways, NULL);
	printf("done\n");
	return 0;
}
