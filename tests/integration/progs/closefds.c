/*
 * weft-itest-closefds - a program that closes every descriptor above
 * stderr (as daemons and careful servers do), then uses threads, forks
 * and exits. It must behave the same traced and untraced: the tracer may
 * lose what it needed those descriptors for, never break the program.
 *
 * Prints what it did; exits 0 when the child exited 5 as expected.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("counter %ld\n", counter);
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		printf("child running\n");
		fflush(stdout);
		_exit(5);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return WIFEXITED(status) && WEXITSTATUS(status) == 5 ? 0 : 1;
}
