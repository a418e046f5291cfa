/*
 * weft-itest-lockkinds - one contended wait on each kind of lock, with a
 * holder the trace must name.
 *
 * Each scenario runs two threads, "K-hold" and "K-wait" (K below): the
 * holder takes the lock, both meet at a barrier, the holder keeps the
 * lock HOLD_MS while the waiter asks for it (so the waiter waits, for
 * certain), then releases it. Scenarios run one after the other.
 *   plain   default mutex, pthread_mutex_lock
 *   recur   recursive mutex the holder took twice
 *   check   error-checking mutex: the holder's relock fails with EDEADLK
 *           at once (no wait, no deadlock)
 *   robust  robust mutex whose holder ends without unlocking: the waiter
 *           gets EOWNERDEAD
 *   timed   pthread_mutex_timedlock that gets the lock
 *   expire  pthread_mutex_timedlock that gives up (ETIMEDOUT)
 *   try     a holder that took the lock with pthread_mutex_trylock
 *   wrheld  rwlock held by a writer, the waiter reads
 *   rdheld  rwlock held by a reader, the waiter writes (no holder named)
 *   cond    the holder ("cond-hold") takes the mutex while "cond-sleep"
 *           waits on a condition variable with it (pthread_cond_wait gave
 *           it up); after the signal cond-sleep holds it again HOLD_MS
 *           while "cond-late" waits for it (cond-wait may get it before
 *           or after cond-sleep).
 * Prints one line per scenario with results that do not depend on
 * scheduling.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HOLD_MS 40

static pthread_barrier_t meet, meet_again;
static pthread_mutex_t mutex;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static const char *scenario;
static int wait_result;

static void pause_ms(int ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static void name_self(const char *role)
{
	char name[16];
	snprintf(name, sizeof name, "%s-%s", scenario, role);
	pthread_setname_np(pthread_self(), name);
}

static void *hold(void *arg)
{
	(void)arg;
	name_self("hold");
	if (!strcmp(scenario, "wrheld"))
		pthread_rwlock_wrlock(&rwlock);
	else if (!strcmp(scenario, "rdheld"))
		pthread_rwlock_rdlock(&rwlock);
	else if (!strcmp(scenario, "try"))
		pthread_mutex_trylock(&mutex);
	else
		pthread_mutex_lock(&mutex);
	if (!strcmp(scenario, "recur"))
		pthread_mutex_lock(&mutex);
	if (!strcmp(scenario, "check") && pthread_mutex_lock(&mutex) != EDEADLK)
		printf("check: relock did not fail\n");
	pthread_barrier_wait(&meet);
	pause_ms(HOLD_MS);
	if (!strcmp(scenario, "robust"))
		return NULL; /* ends holding it */
	if (!strcmp(scenario, "wrheld") || !strcmp(scenario, "rdheld")) {
		pthread_rwlock_unlock(&rwlock);
		return NULL;
	}
	if (!strcmp(scenario, "recur"))
		pthread_mutex_unlock(&mutex);
	pthread_mutex_unlock(&mutex);
	return NULL;
}

static void *wait_for_it(void *arg)
{
	(void)arg;
	name_self("wait");
	pthread_barrier_wait(&meet);
	pause_ms(5); /* the holder is surely holding */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	if (!strcmp(scenario, "wrheld")) {
		wait_result = pthread_rwlock_rdlock(&rwlock);
		pthread_rwlock_unlock(&rwlock);
		return NULL;
	}
	if (!strcmp(scenario, "rdheld")) {
		wait_result = pthread_rwlock_wrlock(&rwlock);
		pthread_rwlock_unlock(&rwlock);
		return NULL;
	}
	if (!strcmp(scenario, "timed") || !strcmp(scenario, "expire")) {
		until.tv_sec += !strcmp(scenario, "timed") ? 5 : 0;
		until.tv_nsec += !strcmp(scenario, "timed") ? 0 : 10 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		wait_result = pthread_mutex_timedlock(&mutex, &until);
	} else {
		wait_result = pthread_mutex_lock(&mutex);
	}
	if (wait_result == EOWNERDEAD)
		pthread_mutex_consistent(&mutex);
	if (wait_result == 0 || wait_result == EOWNERDEAD)
		pthread_mutex_unlock(&mutex);
	return NULL;
}

static void run(const char *name, int type, int robust)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, type);
	if (robust)
		pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	scenario = name;
	pthread_barrier_init(&meet, NULL, 2);
	pthread_t holder, waiter;
	pthread_create(&holder, NULL, hold, NULL);
	pthread_create(&waiter, NULL, wait_for_it, NULL);
	pthread_join(holder, NULL);
	pthread_join(waiter, NULL);
	pthread_barrier_destroy(&meet);
	pthread_mutex_destroy(&mutex);
	printf("%s: %s\n", name, wait_result ? strerror(wait_result) : "taken");
}

/* --- cond: the mutex is given up while waiting, taken back after ------ */

static pthread_mutex_t cond_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int signalled, sleeping;

static void *cond_sleep(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cond-sleep");
	pthread_mutex_lock(&cond_mutex);
	sleeping = 1;
	while (!signalled)
		pthread_cond_wait(&cond, &cond_mutex);
	pthread_barrier_wait(&meet_again); /* holding it again */
	pause_ms(HOLD_MS);
	pthread_mutex_unlock(&cond_mutex);
	return NULL;
}

static void *cond_hold(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cond-hold");
	for (;;) { /* until cond-sleep waits, having given the mutex up */
		pthread_mutex_lock(&cond_mutex);
		if (sleeping)
			break;
		pthread_mutex_unlock(&cond_mutex);
		pause_ms(1);
	}
	pthread_barrier_wait(&meet); /* cond-wait asks for it now */
	pause_ms(HOLD_MS);
	signalled = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_mutex);
	return NULL;
}

static void *cond_wait_for_it(void *arg)
{
	const char *name = arg;
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(strcmp(name, "cond-late") ? &meet : &meet_again);
	pause_ms(5);
	pthread_mutex_lock(&cond_mutex);
	pthread_mutex_unlock(&cond_mutex);
	return NULL;
}

static void run_cond(void)
{
	pthread_barrier_init(&meet, NULL, 2);
	pthread_barrier_init(&meet_again, NULL, 2);
	pthread_t sleeper, holder, waiter, late;
	pthread_create(&sleeper, NULL, cond_sleep, NULL);
	pthread_create(&holder, NULL, cond_hold, NULL);
	pthread_create(&waiter, NULL, cond_wait_for_it, "cond-wait");
	pthread_create(&late, NULL, cond_wait_for_it, "cond-late");
	pthread_join(holder, NULL);
	pthread_join(waiter, NULL);
	pthread_join(sleeper, NULL);
	pthread_join(late, NULL);
	pthread_barrier_destroy(&meet);
	pthread_barrier_destroy(&meet_again);
	printf("cond: taken\n");
}

int main(void)
{
	run("plain", PTHREAD_MUTEX_DEFAULT, 0);
	run("recur", PTHREAD_MUTEX_RECURSIVE, 0);
	run("check", PTHREAD_MUTEX_ERRORCHECK, 0);
	run("robust", PTHREAD_MUTEX_DEFAULT, 1);
	run("timed", PTHREAD_MUTEX_DEFAULT, 0);
	run("expire", PTHREAD_MUTEX_DEFAULT, 0);
	run("try", PTHREAD_MUTEX_DEFAULT, 0);
	run("wrheld", PTHREAD_MUTEX_DEFAULT, 0);
	run("rdheld", PTHREAD_MUTEX_DEFAULT, 0);
	run_cond();
	return 0;
}
