/*
 * test_preload_calls_prog.c — calls every kind of wrapped function in the
 * ways that fail, time out or return early, and checks each result and
 * errno against what the C library documents. test_preload_calls runs it
 * with and without libweft.so: it must exit 0 both ways. On the first
 * failed check it prints the line and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHECK(condition)                                                                           \
	do {                                                                                       \
		if (!(condition)) {                                                                \
			fprintf(stderr, "%s:%d: %s (errno %d)\n", __FILE__, __LINE__, #condition,  \
				errno);                                                            \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static struct timespec in_ms(long ms, clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t read_held = PTHREAD_RWLOCK_INITIALIZER;
static sem_t release;

static void *hold_locks(void *unused)
{
	pthread_mutex_lock(&held);
	pthread_rwlock_rdlock(&read_held);
	sem_wait(&release);
	pthread_rwlock_unlock(&read_held);
	pthread_mutex_unlock(&held);
	return unused;
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int number)
{
	usr1_seen++;
}

int main(void)
{
	/* Handlers installed through sigaction and signal: results, previous
	 * handlers and errno pass through (the first install makes libweft.so
	 * resolve every real function), and the handler runs. */
	struct sigaction action = {.sa_handler = on_usr1}, previous;
	sigemptyset(&action.sa_mask);
	errno = ERANGE;
	CHECK(sigaction(SIGUSR1, &action, &previous) == 0 && errno == ERANGE);
	CHECK(previous.sa_handler == SIG_DFL);
	CHECK(raise(SIGUSR1) == 0 && usr1_seen == 1);
	CHECK(signal(SIGUSR1, SIG_IGN) == on_usr1 && errno == ERANGE);
	CHECK(raise(SIGUSR1) == 0 && usr1_seen == 1);
	CHECK(signal(SIGUSR1, on_usr1) == SIG_IGN);
	CHECK(raise(SIGUSR1) == 0 && usr1_seen == 2);
	CHECK(sigaction(SIGUSR1, NULL, &previous) == 0 && previous.sa_handler == on_usr1);
	CHECK(sigaction(SIGKILL, &action, NULL) == -1 && errno == EINVAL);
	CHECK(signal(-1, SIG_IGN) == SIG_ERR && errno == EINVAL);

	/* Locks held by another thread: the timed forms time out. */
	sem_init(&release, 0, 0);
	pthread_t holder;
	CHECK(pthread_create(&holder, NULL, hold_locks, NULL) == 0);
	while (pthread_mutex_trylock(&held) == 0)
		pthread_mutex_unlock(&held), usleep(1000);
	struct timespec soon = in_ms(5, CLOCK_REALTIME);
	CHECK(pthread_mutex_timedlock(&held, &soon) == ETIMEDOUT);
	soon = in_ms(5, CLOCK_MONOTONIC);
	CHECK(pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &soon) == ETIMEDOUT);
	soon = in_ms(5, CLOCK_REALTIME);
	CHECK(pthread_rwlock_timedwrlock(&read_held, &soon) == ETIMEDOUT);
	soon = in_ms(5, CLOCK_MONOTONIC);
	CHECK(pthread_rwlock_clockwrlock(&read_held, CLOCK_MONOTONIC, &soon) == ETIMEDOUT);
	CHECK(pthread_rwlock_rdlock(&read_held) == 0); /* readers share */
	CHECK(pthread_rwlock_unlock(&read_held) == 0);
	sem_post(&release);
	CHECK(pthread_join(holder, NULL) == 0);
	CHECK(pthread_join(pthread_self(), NULL) == EDEADLK);

	/* An error-checking mutex relocked by its owner. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t checked;
	pthread_mutex_init(&checked, &attr);
	CHECK(pthread_mutex_lock(&checked) == 0);
	CHECK(pthread_mutex_lock(&checked) == EDEADLK);
	CHECK(pthread_mutex_unlock(&checked) == 0);

	/* Semaphores: errno untouched on success, ETIMEDOUT, EINVAL. */
	sem_t sem;
	sem_init(&sem, 0, 1);
	errno = 1234;
	CHECK(sem_wait(&sem) == 0 && errno == 1234);
	soon = in_ms(5, CLOCK_REALTIME);
	CHECK(sem_timedwait(&sem, &soon) == -1 && errno == ETIMEDOUT);
	struct timespec bad = {0, 2000000000L};
	CHECK(sem_timedwait(&sem, &bad) == -1 && errno == EINVAL);

	/* Conditions and barriers. */
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mutex);
	soon = in_ms(2, CLOCK_REALTIME);
	CHECK(pthread_cond_timedwait(&cond, &mutex, &soon) == ETIMEDOUT);
	soon = in_ms(2, CLOCK_MONOTONIC);
	CHECK(pthread_cond_clockwait(&cond, &mutex, CLOCK_MONOTONIC, &soon) == ETIMEDOUT);
	pthread_mutex_unlock(&mutex);
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, 1);
	CHECK(pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD);

	/* Sleeps. */
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
	CHECK(nanosleep(&bad, NULL) == -1 && errno == EINVAL);
	CHECK(usleep(100) == 0);
	CHECK(sleep(0) == 0);

	/* I/O. */
	char byte;
	CHECK(read(-1, &byte, 1) == -1 && errno == EBADF);
	CHECK(write(-1, &byte, 1) == -1 && errno == EBADF);
	CHECK(recv(0, &byte, 1, MSG_DONTWAIT) == -1 && errno == ENOTSOCK);
	int fds[2];
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "x", 1) == 1);
	struct pollfd readable = {fds[0], POLLIN, 0};
	CHECK(poll(&readable, 1, 0) == 1);
	CHECK(poll(&readable, 1, 100) == 1);
	CHECK(read(fds[0], &byte, 1) == 1 && byte == 'x');
	CHECK(poll(&readable, 1, 1) == 0);
	struct timeval zero = {0, 0};
	fd_set set;
	FD_ZERO(&set);
	FD_SET(fds[0], &set);
	CHECK(select(fds[0] + 1, &set, NULL, NULL, &zero) == 0);
	CHECK(dup2(fds[0], 50) == 50);
	CHECK(close(50) == 0);
	CHECK(close(50) == -1 && errno == EBADF);
	CHECK(dup(-1) == -1 && errno == EBADF);

	/* Children: spawn, system, wait3, waitid, wait with none left. */
	pid_t child;
	char *true_argv[] = {"true", NULL};
	CHECK(posix_spawnp(&child, "true", NULL, NULL, true_argv, environ) == 0);
	int status = -1;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status));
	CHECK(system("exit 3") == 3 << 8);
	if ((child = fork()) == 0)
		_exit(3);
	struct rusage usage;
	CHECK(wait3(&status, 0, &usage) == child && WEXITSTATUS(status) == 3);
	if ((child = fork()) == 0) {
		pause();
		_exit(0);
	}
	siginfo_t info;
	memset(&info, 0, sizeof info);
	CHECK(waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG) == 0 && info.si_pid == 0);
	CHECK(kill(child, 0) == 0);
	CHECK(kill(child, SIGKILL) == 0);
	CHECK(waitid(P_PID, (id_t)child, &info, WEXITED) == 0 && info.si_code == CLD_KILLED);
	CHECK(waitpid(-1, NULL, 0) == -1 && errno == ECHILD);
	CHECK(wait(NULL) == -1 && errno == ECHILD);

	/* A fork child sees errno as the parent left it, also when libweft.so
	 * checks an fd that was closed behind its back (a raw close). */
	int stale[2];
	CHECK(pipe(stale) == 0);
	CHECK(syscall(SYS_close, stale[0]) == 0 && syscall(SYS_close, stale[1]) == 0);
	errno = ERANGE;
	if ((child = fork()) == 0)
		_exit(errno == ERANGE ? 0 : 1);
	CHECK(child > 0 && errno == ERANGE);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status));

	/* exec that fails comes back with errno intact. */
	char *missing_argv[] = {"missing", NULL};
	CHECK(execve("/nonexistent/program", missing_argv, environ) == -1 && errno == ENOENT);
	CHECK(execlp("/nonexistent/program", "missing", (char *)NULL) == -1 && errno == ENOENT);

	/* Names, signals, raw system calls. */
	char name[16] = "";
	CHECK(prctl(PR_SET_NAME, "renamed", 0, 0, 0) == 0);
	CHECK(prctl(PR_GET_NAME, name, 0, 0, 0) == 0 && !strcmp(name, "renamed"));
	CHECK(pthread_setname_np(pthread_self(), "renamed-again") == 0);
	CHECK(pthread_setname_np(pthread_self(), "a-name-that-is-far-too-long") == ERANGE);
	CHECK(syscall(SYS_getpid) == getpid());
	CHECK(raise(0) == 0);
	return 0;
}
