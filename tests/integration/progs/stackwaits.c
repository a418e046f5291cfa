/*
 * stackwaits: waits in places a stack must still be right.
 *   stackwaits signal      a 20 ms sleep inside a SIGUSR1 handler
 *                          (handler_sleeps), raised from main
 *   stackwaits fork        a forked child sleeps 20 ms in child_sleeps
 *   stackwaits dlopen LIB  dlopen LIB and call its dlwait_block(): a
 *                          condition wait that a thread of ours ends
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((noinline)) void handler_sleeps(int signo)
{
	(void)signo;
	usleep(20000);
}

static __attribute__((noinline)) int child_sleeps(void)
{
	usleep(20000);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "signal") == 0) {
		signal(SIGUSR1, handler_sleeps);
		raise(SIGUSR1);
		puts("signal done");
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_sleeps());
		int status = 0;
		waitpid(pid, &status, 0);
		puts("fork done");
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if (argc >= 3 && strcmp(argv[1], "dlopen") == 0) {
		void *lib = dlopen(argv[2], RTLD_NOW);
		if (!lib) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		int (*block)(void) = (int (*)(void))dlsym(lib, "dlwait_block");
		if (!block)
			return 1;
		printf("dlopen done %d\n", block());
		return 0;
	}
	fprintf(stderr, "usage: stackwaits signal|fork|dlopen LIB\n");
	return 2;
}
