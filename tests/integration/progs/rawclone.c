/*
 * weft-itest-rawclone - a thread made with a raw clone(), as language
 * runtimes make theirs: it never passes through pthread_create, so
 * libweft.so never sees it start. It names itself "rawthread" and spins
 * about 60 ms using system calls only (it has no TLS of its own), then
 * exits; the main thread waits for it and exits 0.
 */
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)

static volatile pid_t child_tid = 1;

static long now_ns(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int body(void *arg)
{
	syscall(SYS_prctl, PR_SET_NAME, "rawthread", 0, 0, 0);
	long until = now_ns() + 60 * 1000000L;
	while (now_ns() < until)
		;
	return arg ? 0 : 1;
}

int main(void)
{
	char *stack = malloc(STACK_SIZE);
	if (!stack)
		return 1;
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	pid_t tid = clone(body, stack + STACK_SIZE, flags, stack, &child_tid, NULL, &child_tid);
	if (tid < 0)
		return 1;
	/* The kernel clears child_tid and wakes this futex when it exits. */
	while (child_tid != 0)
		syscall(SYS_futex, &child_tid, FUTEX_WAIT, child_tid, NULL, NULL, 0);
	printf("raw clone thread %d done\n", (int)tid);
	return 0;
}
