/*
 * weft-demo-family - a process family: process life cycles, exit codes and
 * a kill, with the parent waiting for every child.
 *
 *   weft-demo-family
 *
 * The parent forks four children:
 *   child 0 "sleeper"  sleeps 100 ms, exits 0
 *   child 1 "worker"   computes ~100 ms, exits 1
 *   child 2 "mixed"    sleeps 50 ms, computes ~50 ms, exits 2
 *   child 3 "victim"   waits forever in pause(); the parent kills it with
 *                      SIGKILL after 150 ms
 * then reaps them with wait() in whatever order they end and prints one
 * line per child, in child order.
 *
 * What to see in the timeline: five processes, fork arrows from the parent,
 * each child New -> Running/Waiting -> Terminated; process rows with
 * exit_code 0, 1, 2 and, for the victim, exit_signal 9 and no exit code;
 * the parent Waiting (Blocked 'wait') between reaps, with child-exit ->
 * waitpid arrows. About 0.2 s; the output is the same on every run.
 */
#include "demo.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHILDREN = 4 };

static const char *const child_name[CHILDREN] = {"sleeper", "worker", "mixed", "victim"};

static void child_main(int index)
{
	switch (index) {
	case 0:
		demo_sleep_ms(100);
		_exit(0);
	case 1:
		demo_spin(1, 70000000);
		_exit(1);
	case 2:
		demo_sleep_ms(50);
		demo_spin(2, 35000000);
		_exit(2);
	default:
		for (;;)
			pause();
	}
}

int main(void)
{
	pid_t pid[CHILDREN];
	int status[CHILDREN] = {0};

	fflush(stdout);
	for (int i = 0; i < CHILDREN; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			demo_die("fork", errno);
		if (pid[i] == 0)
			child_main(i);
	}

	demo_sleep_ms(150);
	kill(pid[3], SIGKILL);

	for (int reaped = 0; reaped < CHILDREN;) {
		int st;
		pid_t who = wait(&st);
		if (who < 0) {
			if (errno == EINTR)
				continue;
			demo_die("wait", errno);
		}
		for (int i = 0; i < CHILDREN; i++)
			if (pid[i] == who) {
				status[i] = st;
				reaped++;
			}
	}

	for (int i = 0; i < CHILDREN; i++) {
		if (WIFEXITED(status[i]))
			printf("child %d (%s) exited with status %d\n", i, child_name[i],
			       WEXITSTATUS(status[i]));
		else if (WIFSIGNALED(status[i]))
			printf("child %d (%s) was killed by signal %d\n", i, child_name[i],
			       WTERMSIG(status[i]));
	}
	return 0;
}
