/*
 * test_preload_early_lib.c — a shared library whose constructor starts a
 * thread and makes it wait on a mutex. The dynamic loader runs it before
 * libweft.so's own constructor (a needed library of the program is
 * initialised before a preloaded one that does not depend on it), so
 * libweft.so must start itself from inside its wrappers, leaving errno as
 * the caller had it.
 */
#include <pthread.h>
#include <unistd.h>

#include <errno.h>

static pthread_mutex_t early_lock = PTHREAD_MUTEX_INITIALIZER;
int early_value;
int early_errno_kept; /* libweft.so started from a wrapper left errno alone */

static void *early_thread(void *arg)
{
	pthread_mutex_lock(&early_lock);
	early_value++;
	pthread_mutex_unlock(&early_lock);
	return arg;
}

__attribute__((constructor)) static void start_early(void)
{
	pthread_t thread;
	errno = ERANGE;
	pthread_mutex_lock(&early_lock);
	early_errno_kept = errno == ERANGE;
	pthread_create(&thread, NULL, early_thread, NULL);
	/* Keep the lock until the thread waits for it (glibc's lock word goes
	 * above 1): up to 5 s. */
	for (int i = 0; i < 500 && __atomic_load_n(&early_lock.__data.__lock, __ATOMIC_RELAXED) < 2;
	     i++)
		usleep(10 * 1000);
	pthread_mutex_unlock(&early_lock);
	pthread_join(thread, NULL);
}
