/*
 * weft-itest-killself - records a little, then dies by SIGKILL.
 *
 * A thread ("holder") holds a mutex for 100 ms while the main thread blocks
 * on it (a Blocked 'mutex' span in the trace); then the main thread sends
 * itself SIGKILL. The integration tests check that the recorder exits 137,
 * that the process row says exit_signal 9, and that the Blocked span
 * recorded before the kill is in the trace.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t taken;

static void *holder_main(void *arg)
{
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&lock);
	sem_post(&taken);
	struct timespec hold = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
	nanosleep(&hold, NULL);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	sem_init(&taken, 0, 0);
	pthread_t holder;
	if (pthread_create(&holder, NULL, holder_main, NULL) != 0)
		return 1;
	sem_wait(&taken);
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	pthread_join(holder, NULL);
	printf("about to die\n");
	fflush(stdout);
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}
