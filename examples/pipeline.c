/*
 * weft-demo-pipeline - message passing between processes: the seed's
 * `ls | grep`, built by hand.
 *
 *   weft-demo-pipeline [DIR [PATTERN]]     (defaults: /usr/share  a)
 *
 * The parent makes a pipe and forks two children: the first execs
 * `ls -R DIR` with its stdout on the pipe, the second execs
 * `grep -c PATTERN` with its stdin on the pipe. The parent closes its ends
 * and waits for both. grep's count is printed, then one line per child.
 *
 * What to see in the timeline: three processes (the parent, ls, grep) with
 * fork arrows from the parent; ls Running and writing, grep Blocked 'io'
 * reading the pipe, woken by ls's writes (pipe arrows with byte counts;
 * the message_traffic view has one row for the pipe); the parent Blocked
 * 'wait' until both exit. ls's writes block when the 64 KiB pipe is full,
 * so the two take turns. About 0.1 s; the output is the same on every run
 * over an unchanged DIR.
 */
#include "demo.h"

#include <sys/wait.h>
#include <unistd.h>

/* Forks a child that makes `in` its stdin and `out` its stdout (when not
 * -1), closes both pipe ends and execs argv. Returns the child's pid. */
static pid_t spawn(char *const argv[], int in, int out, const int pipe_fd[2])
{
	pid_t pid = fork();
	if (pid < 0)
		demo_die("fork", errno);
	if (pid > 0)
		return pid;
	if (in >= 0)
		dup2(in, STDIN_FILENO);
	if (out >= 0)
		dup2(out, STDOUT_FILENO);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	execvp(argv[0], argv);
	fprintf(stderr, "weft-demo-pipeline: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void report(const char *name, int status)
{
	if (WIFEXITED(status))
		printf("%s exited with status %d\n", name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s was killed by signal %d\n", name, WTERMSIG(status));
}

int main(int argc, char **argv)
{
	char *dir = argc > 1 ? argv[1] : "/usr/share";
	char *pattern = argc > 2 ? argv[2] : "a";
	int fd[2];
	if (pipe(fd) != 0)
		demo_die("pipe", errno);

	fflush(stdout);
	char *ls_argv[] = {"ls", "-R", dir, NULL};
	char *grep_argv[] = {"grep", "-c", pattern, NULL};
	pid_t ls = spawn(ls_argv, -1, fd[1], fd);
	pid_t grep = spawn(grep_argv, fd[0], -1, fd);
	close(fd[0]);
	close(fd[1]);

	int ls_status = 0, grep_status = 0;
	if (waitpid(ls, &ls_status, 0) < 0 || waitpid(grep, &grep_status, 0) < 0)
		demo_die("waitpid", errno);
	report("ls", ls_status);
	report("grep", grep_status);
	return WIFEXITED(grep_status) && WEXITSTATUS(grep_status) <= 1 ? 0 : 1;
}
