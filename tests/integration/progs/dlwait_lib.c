/*
 * dlwait_lib: a library stackwaits dlopens. dlwait_block() waits on a
 * condition variable until a thread it starts signals it (20 ms later).
 */
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dl_ready = PTHREAD_COND_INITIALIZER;
static int dl_done;

static void *dl_signaller(void *arg)
{
	(void)arg;
	usleep(20000);
	pthread_mutex_lock(&dl_lock);
	dl_done = 1;
	pthread_cond_signal(&dl_ready);
	pthread_mutex_unlock(&dl_lock);
	return NULL;
}

__attribute__((visibility("default"))) int dlwait_block(void)
{
	pthread_t thread;
	if (pthread_create(&thread, NULL, dl_signaller, NULL))
		return -1;
	pthread_mutex_lock(&dl_lock);
	while (!dl_done)
		pthread_cond_wait(&dl_ready, &dl_lock);
	pthread_mutex_unlock(&dl_lock);
	pthread_join(thread, NULL);
	return 7;
}
