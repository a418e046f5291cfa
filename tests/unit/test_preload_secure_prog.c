/*
 * test_preload_secure_prog.c — a program linked against libweft.so (so
 * that it loads even where LD_PRELOAD is ignored) that locks a mutex,
 * forks and waits, then exits 0. test_preload_secure runs it plainly and
 * as a set-group-ID image.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	int status = -1;
	return waitpid(child, &status, 0) == child && WIFEXITED(status) ? 0 : 1;
}
