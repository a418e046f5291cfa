/*
 * weft-itest-filewaits FILE - waits that are neither locks nor streams: it
 * writes 8 MiB to FILE with pwrite, reads it back with pread, makes it
 * durable with fdatasync and fsync, then sits in sigsuspend until a child
 * sends it SIGUSR1 100 ms later, as a server's master waits for signals.
 * Prints "synced" and "signalled".
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int signo)
{
	(void)signo;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	static char block[1 << 20];
	memset(block, 'w', sizeof block);
	for (int i = 0; i < 8; i++)
		if (pwrite(fd, block, sizeof block, (off_t)i * (off_t)sizeof block) != sizeof block)
			return 1;
	if (pread(fd, block, sizeof block, 0) != sizeof block || fdatasync(fd) || fsync(fd))
		return 1;
	close(fd);
	puts("synced");
	fflush(stdout);

	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	struct sigaction action = {0};
	action.sa_handler = on_usr1;
	sigaction(SIGUSR1, &action, NULL);
	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigsuspend(&old);
	waitpid(child, NULL, 0);
	puts("signalled");
	return 0;
}
