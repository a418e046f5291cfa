/*
 * pshared - two processes share a mutex and a semaphore.
 *
 * The parent puts a process-shared mutex and semaphore in a shared
 * anonymous mapping and forks. The child takes the mutex, posts the
 * semaphore 50 ms later (the parent is waiting on it), holds the mutex
 * 150 ms more and lets it go. The parent, woken by the post, blocks on the
 * mutex until the child unlocks it. Prints "ok" and exits 0.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t mutex;
	sem_t held;
};

static void sleep_ms(long ms)
{
	struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&pause, NULL);
}

int main(void)
{
	struct shared *s =
	    mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return 1;
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (pthread_mutex_init(&s->mutex, &attr) || sem_init(&s->held, 1, 0))
		return 1;
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		pthread_mutex_lock(&s->mutex);
		sleep_ms(50);
		sem_post(&s->held);
		sleep_ms(150);
		pthread_mutex_unlock(&s->mutex);
		_exit(0);
	}
	sem_wait(&s->held);
	pthread_mutex_lock(&s->mutex);
	pthread_mutex_unlock(&s->mutex);
	int status;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	puts("ok");
	return 0;
}
