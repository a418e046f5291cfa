/*
 * weft-itest-vfork - vfork as shells use it: a child that execs a program
 * (/bin/echo), one that exits without exec (status 3), and one whose exec
 * fails (status 127). Between vfork and exec the first child closes and
 * dups fds, as a shell setting up a redirection does. After each child the
 * parent sleeps 20 ms, so its own recording can be seen to go on.
 * Exits 0 when every child's status was as expected.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int reap(pid_t pid, int expected)
{
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	printf("child %d exited %d\n", expected, code);
	fflush(stdout);
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
	nanosleep(&nap, NULL);
	return code != expected;
}

int main(void)
{
	volatile int bad = 0;
	printf("parent before vfork\n");
	fflush(stdout);
	int spare = open("/dev/null", O_RDONLY | O_NONBLOCK);

	pid_t pid = vfork();
	if (pid == 0) {
		close(spare);
		dup2(1, 2);
		char *argv[] = {"echo", "vforked child", NULL};
		execv("/bin/echo", argv);
		_exit(126);
	}
	bad |= reap(pid, 0);

	pid = vfork();
	if (pid == 0)
		_exit(3);
	bad |= reap(pid, 3);

	pid = vfork();
	if (pid == 0) {
		char *argv[] = {"missing", NULL};
		execv("/nonexistent/weft-itest-missing", argv);
		_exit(127);
	}
	bad |= reap(pid, 127);
	close(spare);
	return bad;
}
