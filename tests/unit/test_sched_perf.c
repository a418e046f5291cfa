/*
 * test_sched_perf.c — context switches of a real child process tree, read
 * with sched_perf: opened before the child runs, they cover the child and
 * the thread it starts, voluntary sleeps show as switch-outs without
 * PREEMPT, and every thread's switches alternate in and out in time order.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sched_perf.h"

#define MAX_TIDS 8

struct seen {
	pid_t pid;
	uint32_t tids[MAX_TIDS];
	int last_out[MAX_TIDS];
	unsigned tid_count;
	unsigned voluntary_outs;
	unsigned switches;
	uint64_t last_ts;
	int in_order;
	int alternate;
	uint32_t forked[MAX_TIDS]; /* SCHED_FORK of threads of pid made by pid */
	unsigned forked_count;
	uint32_t exited[MAX_TIDS]; /* SCHED_EXIT of threads of pid */
	unsigned exited_count;
	uint32_t sleeper; /* the thread SCHED_COMM named "sleeper" */
};

static int listed(const uint32_t *tids, unsigned count, uint32_t tid)
{
	for (unsigned i = 0; i < count; i++)
		if (tids[i] == tid)
			return 1;
	return 0;
}

static void on_switch(void *ctx, const struct sched_switch *sw)
{
	struct seen *seen = ctx;
	if (sw->pid != (uint32_t)seen->pid)
		return;
	if (sw->ts < seen->last_ts)
		seen->in_order = 0;
	seen->last_ts = sw->ts;
	if (sw->kind == SCHED_FORK && sw->tid != sw->pid && sw->ptid == sw->pid &&
	    seen->forked_count < MAX_TIDS)
		seen->forked[seen->forked_count++] = sw->tid;
	else if (sw->kind == SCHED_EXIT && sw->tid != sw->pid && seen->exited_count < MAX_TIDS)
		seen->exited[seen->exited_count++] = sw->tid;
	else if (sw->kind == SCHED_COMM && strcmp(sw->comm, "sleeper") == 0)
		seen->sleeper = sw->tid;
	if (sw->kind != SCHED_SWITCH)
		return;
	seen->switches++;
	unsigned i;
	for (i = 0; i < seen->tid_count && seen->tids[i] != sw->tid; i++)
		;
	if (i == seen->tid_count && i < MAX_TIDS) {
		seen->tids[seen->tid_count++] = sw->tid;
		seen->last_out[i] = !sw->out; /* first record may be either */
	}
	if (i < MAX_TIDS) {
		if (seen->last_out[i] == sw->out)
			seen->alternate = 0;
		seen->last_out[i] = sw->out;
	}
	if (sw->out && !sw->preempt)
		seen->voluntary_outs++;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sleeper");
	for (int i = 0; i < 3; i++) {
		struct timespec ten_ms = {0, 10000000};
		nanosleep(&ten_ms, NULL);
	}
	return NULL;
}

/* The child waits for a byte on `go`, then sleeps 5 x 10 ms and runs a
 * thread that sleeps 3 x 10 ms. */
static pid_t start_held_child(int *go_fd)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char byte;
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(2);
		for (int i = 0; i < 5; i++) {
			struct timespec ten_ms = {0, 10000000};
			nanosleep(&ten_ms, NULL);
		}
		pthread_t thread;
		pthread_create(&thread, NULL, sleeper, NULL);
		pthread_join(thread, NULL);
		_exit(0);
	}
	close(go[0]);
	*go_fd = go[1];
	return pid;
}

static void switches_of_a_child_and_its_thread_arrive_in_order(void **state)
{
	(void)state;
	int go;
	pid_t pid = start_held_child(&go);
	struct sched_perf *perf = NULL;
	int error = sched_perf_open(pid, 0, &perf);
	if (error == -EACCES || error == -EPERM || error == -ENOSYS || error == -ENOENT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		skip(); /* the kernel offers no perf events here */
	}
	assert_int_equal(error, 0);
	assert_int_equal(write(go, "x", 1), 1);
	close(go);

	struct seen seen = {.pid = pid, .in_order = 1, .alternate = 1};
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		sched_perf_drain(perf, 0, on_switch, &seen);
		usleep(2000);
	}
	sched_perf_drain(perf, 1, on_switch, &seen);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_true(seen.in_order);
	assert_true(seen.alternate);
	/* the child and its thread (a sanitizer runtime may add one of its own) */
	assert_true(seen.tid_count >= 2);
	/* the kernel's account of the thread: made by the child, named, gone */
	assert_int_not_equal(seen.sleeper, 0);
	assert_true(listed(seen.forked, seen.forked_count, seen.sleeper));
	assert_true(listed(seen.exited, seen.exited_count, seen.sleeper));
	assert_true(seen.voluntary_outs >= 8); /* 5 + 3 sleeps, plus join, exit */
	assert_int_equal(sched_perf_lost(perf), 0);
	sched_perf_close(perf);
}

static void schedstat_of_the_calling_thread_counts_its_cpu_time(void **state)
{
	(void)state;
	uint64_t run0, wait0, slices0, run1, wait1, slices1;
	assert_int_equal(sched_schedstat_read(getpid(), getpid(), &run0, &wait0, &slices0), 0);
	volatile uint64_t x = 1;
	for (int i = 0; i < 20000000; i++)
		x = x * 6364136223846793005ull + 1;
	assert_int_equal(sched_schedstat_read(getpid(), getpid(), &run1, &wait1, &slices1), 0);
	assert_true(run1 > run0);
	assert_true(slices1 >= slices0);
}

static void schedstat_of_a_missing_thread_is_enoent(void **state)
{
	(void)state;
	uint64_t run, wait, slices;
	assert_int_equal(sched_schedstat_read(getpid(), 0x7ffffff0, &run, &wait, &slices), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(switches_of_a_child_and_its_thread_arrive_in_order),
	    cmocka_unit_test(schedstat_of_the_calling_thread_counts_its_cpu_time),
	    cmocka_unit_test(schedstat_of_a_missing_thread_is_enoent),
	};
	return cmocka_run_group_tests_name("sched_perf", tests, NULL, NULL);
}
