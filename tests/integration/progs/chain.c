/*
 * weft-itest-chain [DEPTH] [SLEEP_MS] - a parent waiting on a chain of
 * children: each process forks one child and waits for it, DEPTH (default
 * 3) levels down; the last one sleeps SLEEP_MS (default 200) and exits.
 * The critical path follows the waits down to the sleep. Each process
 * exits 0; the first prints "done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 3;
	long sleep_ms = argc > 2 ? atol(argv[2]) : 200;
	int level = 0;
	while (level < depth) {
		pid_t child = fork();
		if (child < 0)
			return 1;
		if (child > 0) {
			int status;
			waitpid(child, &status, 0);
			if (level == 0)
				puts("done");
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		}
		level++;
	}
	struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	return 0;
}
