/*
 * weft-itest-forknoexec - a process that forks without exec: the child
 * runs the parent's code (with the tracer already loaded and initialised
 * in the parent), starts a thread, and exits 7; the parent waits for it.
 * Exits 0 when the child's status was 7.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *child_thread(void *arg)
{
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
	nanosleep(&nap, NULL);
	return NULL;
}

int main(void)
{
	printf("parent before fork\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, child_thread, NULL);
		pthread_join(t, NULL);
		printf("child done\n");
		fflush(stdout);
		_exit(7);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
