/*
 * weft-itest-retitle - children forked without exec retitle themselves,
 * both ways servers do: the first overwrites its argv area as setproctitle
 * does ("retitle: worker one", as ps then shows it), the second names
 * itself with prctl(PR_SET_NAME, "renamed-two"). The parent waits for both
 * and prints "done".
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_a_moment(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	/* the argv area: from argv[0] to the end of the last argument */
	char *area = argv[0];
	size_t size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - area);
	pid_t first = fork();
	if (first == 0) {
		memset(area, 0, size);
		snprintf(area, size, "%s", "retitle: worker one");
		pause_a_moment();
		_exit(0);
	}
	pid_t second = fork();
	if (second == 0) {
		prctl(PR_SET_NAME, "renamed-two");
		pause_a_moment();
		_exit(0);
	}
	waitpid(first, NULL, 0);
	waitpid(second, NULL, 0);
	puts("done");
	return 0;
}
