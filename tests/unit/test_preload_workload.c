/*
 * test_preload_workload.c — the program test_preload_capture runs under
 * LD_PRELOAD=libweft.so. Each step makes one transition happen for
 * certain, so the test can assert on the records:
 *   1. a thread "holder" takes a mutex and keeps it until the main thread
 *      waits for it (a contended lock whose owner is the holder);
 *   2. the main thread joins the holder;
 *   3. it forks a child that exits with status 7 and waits for it;
 *   4. it waits in poll() on a pipe that a SIGALRM handler writes to (the
 *      handler's write() runs inside the recorded poll), again until the
 *      signal once came while poll waited;
 *   5. a SIGALRM handler leaves a blocking read() with siglongjmp, then the
 *      thread sleeps 1 ms;
 *   6. it waits 1 ms on a futex word of its own through syscall(2);
 *   7. it reads 3 times, finding nothing, from each of three non-blocking
 *      fds: a socketpair made SOCK_NONBLOCK, a pipe set O_NONBLOCK with
 *      fcntl, an eventfd made EFD_NONBLOCK; then passes 3 bytes through the
 *      socketpair;
 *   8. it moves its pipe's ends to fds 100 and 101 and closes both with
 *      close_range;
 *   9. it replaces its image with itself, argument "exec-image", which
 *      exits 0 at once.
 * Exit status 0 when every step behaved as without the tracer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int self_pipe[2];
static sigjmp_buf escape;

static void on_alarm_write(int signal)
{
	char byte = (char)signal;
	write(self_pipe[1], &byte, 1);
}

static void on_alarm_escape(int signal)
{
	siglongjmp(escape, signal);
}

static void alarm_soon(void (*handler)(int))
{
	signal(SIGALRM, handler);
	struct itimerval in_100ms = {{0, 0}, {0, 100 * 1000}};
	setitimer(ITIMER_REAL, &in_100ms, NULL);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t holding;

static void *hold(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&lock);
	sem_post(&holding);
	/* Keep the lock until the main thread waits for it (glibc's lock word
	 * goes above 1), however slow the machine: up to 5 s. */
	struct timespec pause = {0, 20 * 1000 * 1000};
	for (int i = 0; i < 250 && __atomic_load_n(&lock.__data.__lock, __ATOMIC_RELAXED) < 2; i++)
		nanosleep(&pause, NULL);
	pthread_mutex_unlock(&lock);
	return (void *)42;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec-image"))
		return 0;

	sem_init(&holding, 0, 0);
	pthread_t holder;
	if (pthread_create(&holder, NULL, hold, NULL))
		return 1;
	sem_wait(&holding);
	if (pthread_mutex_lock(&lock))
		return 2;
	pthread_mutex_unlock(&lock);
	void *result = NULL;
	if (pthread_join(holder, &result) || result != (void *)42)
		return 3;

	pid_t child = fork();
	if (child < 0)
		return 4;
	if (child == 0)
		_exit(7);
	int status = 0;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return 5;

	if (pipe(self_pipe))
		return 6;
	/* Until the alarm once interrupts the poll (it may come first on a
	 * loaded machine: then try again). */
	struct pollfd readable = {self_pipe[0], POLLIN, 0};
	int interrupted = 0;
	for (int attempt = 0; attempt < 20 && !interrupted; attempt++) {
		alarm_soon(on_alarm_write);
		int ready;
		while ((ready = poll(&readable, 1, 5000)) < 0)
			interrupted = 1; /* EINTR: the handler ran inside poll */
		char byte;
		if (ready != 1 || read(self_pipe[0], &byte, 1) != 1)
			return 7;
	}
	if (!interrupted)
		return 7;

	int never[2];
	if (pipe(never))
		return 8;
	if (!sigsetjmp(escape, 1)) {
		alarm_soon(on_alarm_escape);
		char byte;
		read(never[0], &byte, 1);
		return 9;
	}
	usleep(1000);

	static uint32_t futex_word;
	struct timespec one_ms = {0, 1000 * 1000};
	if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &one_ms, NULL, 0) != -1 ||
	    errno != ETIMEDOUT)
		return 10;

	int pair[2], nonblocking_pipe[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) || pipe(nonblocking_pipe) ||
	    fcntl(nonblocking_pipe[0], F_SETFL, O_NONBLOCK))
		return 11;
	int event = eventfd(0, EFD_NONBLOCK);
	uint64_t count;
	for (int i = 0; i < 3; i++)
		if (read(pair[0], &count, 1) != -1 || errno != EAGAIN ||
		    read(nonblocking_pipe[0], &count, 1) != -1 || errno != EAGAIN ||
		    read(event, &count, sizeof count) != -1 || errno != EAGAIN)
			return 12;
	char three[8];
	if (write(pair[1], "abc", 3) != 3 || read(pair[0], three, sizeof three) != 3)
		return 12;

	if (dup2(nonblocking_pipe[0], 100) != 100 || dup2(nonblocking_pipe[1], 101) != 101 ||
	    close_range(100, 101, 0))
		return 13;

	execl("/proc/self/exe", argv[0], "exec-image", (char *)NULL);
	return 14;
}
