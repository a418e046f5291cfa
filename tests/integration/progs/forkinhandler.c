/*
 * weft-itest-forkinhandler - a child forked inside a signal handler that
 * interrupted a wait, as a server's master process starts its workers (the
 * PostgreSQL postmaster forks from SIGUSR1 while it sits in select()).
 *
 * The main thread sits in select() on a pipe nobody writes; a SIGALRM
 * 50 ms later runs a handler that forks. The child, still inside the
 * handler, sleeps 100 ms (nanosleep), reads from a pipe its own grandchild
 * writes to after 50 ms, and leaves with _exit(0) without returning from the
 * handler. The parent's select() ends with EINTR; it waits for the child
 * and prints "child 0".
 */
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;

static void child_main(void)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int fds[2];
	if (pipe(fds) != 0)
		_exit(2);
	pid_t writer = fork();
	if (writer == 0) {
		struct timespec late = {0, 50 * 1000 * 1000};
		nanosleep(&late, NULL);
		if (write(fds[1], "x", 1) != 1)
			_exit(3);
		_exit(0);
	}
	char byte;
	if (read(fds[0], &byte, 1) != 1)
		_exit(4);
	waitpid(writer, NULL, 0);
	_exit(0);
}

static void on_alarm(int signo)
{
	(void)signo;
	pid_t pid = fork();
	if (pid == 0)
		child_main();
	child_pid = pid;
}

int main(void)
{
	int idle[2];
	if (pipe(idle) != 0)
		return 1;
	struct sigaction action = {0};
	action.sa_handler = on_alarm;
	sigaction(SIGALRM, &action, NULL);
	struct itimerval timer = {.it_value = {0, 50 * 1000}};
	setitimer(ITIMER_REAL, &timer, NULL);
	fd_set readable;
	FD_ZERO(&readable);
	FD_SET(idle[0], &readable);
	select(idle[0] + 1, &readable, NULL, NULL, NULL); /* EINTR */
	int status = -1;
	waitpid(child_pid, &status, 0);
	printf("child %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
