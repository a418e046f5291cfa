/*
 * test_preload_workload.c — the program test_preload_capture runs under
 * LD_PRELOAD=libweft.so. Each step makes one transition happen for
 * certain, so the test can assert on the records:
 *   1. a thread "holder" takes a mutex and keeps it 50 ms; the main thread
 *      waits until it holds it, then locks it (a contended lock whose owner
 *      is the holder);
 *   2. the main thread joins the holder;
 *   3. it forks a child that exits with status 7 and waits for it;
 *   4. it replaces its image with itself, argument "exec-image", which
 *      exits 0 at once.
 * Exit status 0 when every step behaved as without the tracer.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t holding;

static void *hold(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&lock);
	sem_post(&holding);
	struct timespec pause = {0, 50 * 1000 * 1000};
	nanosleep(&pause, NULL);
	pthread_mutex_unlock(&lock);
	return (void *)42;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec-image"))
		return 0;

	sem_init(&holding, 0, 0);
	pthread_t holder;
	if (pthread_create(&holder, NULL, hold, NULL))
		return 1;
	sem_wait(&holding);
	if (pthread_mutex_lock(&lock))
		return 2;
	pthread_mutex_unlock(&lock);
	void *result = NULL;
	if (pthread_join(holder, &result) || result != (void *)42)
		return 3;

	pid_t child = fork();
	if (child < 0)
		return 4;
	if (child == 0)
		_exit(7);
	int status = 0;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return 5;

	execl("/proc/self/exe", argv[0], "exec-image", (char *)NULL);
	return 6;
}
