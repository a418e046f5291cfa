/*
 * stacks_bench: what the stacks of waits cost.
 *   stacks_bench cond N     two threads hand a turn back and forth N times
 *                           through a mutex and two condition variables
 *                           (each handoff: one blocking wait, one signal
 *                           that wakes it); prints ns per handoff
 *   stacks_bench pipe N     the same through two pipes (1-byte messages)
 *   stacks_bench unwind N   the unwinders from 12 frames deep, under a
 *                           libc frame (qsort's comparator): ns per stack
 *                           and frames found, for libunwind's
 *                           unw_backtrace, glibc's backtrace() and a
 *                           frame-pointer walk
 * Run cond and pipe under `weft record --stacks=full` and `--stacks=none`.
 */
#define UNW_LOCAL_ONLY
#include <execinfo.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn;
static long rounds;
static int pipes[2][2];

static void *cond_player(void *arg)
{
	int me = (int)(long)arg;
	for (long i = 0; i < rounds; i++) {
		pthread_mutex_lock(&lock);
		while (turn != me)
			pthread_cond_wait(&turn_changed[me], &lock);
		turn = !me;
		pthread_cond_signal(&turn_changed[!me]);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *pipe_player(void *arg)
{
	int me = (int)(long)arg;
	char byte = 0;
	for (long i = 0; i < rounds; i++) {
		if (me == 1 && read(pipes[0][0], &byte, 1) != 1)
			abort();
		if (write(pipes[me][1], &byte, 1) != 1)
			abort();
		if (me == 0 && read(pipes[1][0], &byte, 1) != 1)
			abort();
	}
	return NULL;
}

static int handoffs(void *(*player)(void *))
{
	pthread_t other;
	double start = now_ns();
	pthread_create(&other, NULL, player, (void *)1L);
	player((void *)0L);
	pthread_join(other, NULL);
	printf("%.0f ns per handoff\n", (now_ns() - start) / (double)(2 * rounds));
	return 0;
}

/* --- unwinders ---------------------------------------------------------- */

static int fp_walk(void **out, int max)
{
	void **frame = __builtin_frame_address(0);
	int n = 0;
	while (frame && n < max) {
		void *ret = frame[1];
		if (!ret)
			break;
		out[n++] = ret;
		void **next = frame[0];
		if (next <= frame || (char *)next - (char *)frame > (1 << 20))
			break;
		frame = next;
	}
	return n;
}

static int which, depth_found, pending;
static long iterations;
static double elapsed;

static void measure(void)
{
	void *pcs[64];
	double start = now_ns();
	for (long i = 0; i < iterations; i++) {
		if (which == 0)
			depth_found = unw_backtrace(pcs, 64);
		else if (which == 1)
			depth_found = backtrace(pcs, 64);
		else
			depth_found = fp_walk(pcs, 64);
	}
	elapsed = (now_ns() - start) / (double)iterations;
}

static int compare(const void *a, const void *b)
{
	if (pending) {
		pending = 0;
		measure();
	}
	return memcmp(a, b, 1);
}

static __attribute__((noinline)) int deep(int n)
{
	if (n == 0) {
		char items[2] = {1, 0};
		qsort(items, 2, 1, compare);
		return items[0];
	}
	volatile char frame[16]; /* a real frame per level */
	frame[0] = (char)n;
	return deep(n - 1) + frame[0];
}

static __attribute__((noinline)) void run_one(int kind)
{
	which = kind;
	pending = 1;
	deep(10);
}

static int unwinders(void)
{
	static const char *const names[3] = {"unw_backtrace (libunwind)", "backtrace (glibc)",
					     "frame-pointer walk"};
	for (int kind = 0; kind < 3; kind++) {
		run_one(kind); /* warm: first use allocates */
		double best = -1;
		int frames = 0;
		for (int round = 0; round < 5; round++) {
			run_one(kind);
			if (best < 0 || elapsed < best)
				best = elapsed;
			frames = depth_found;
		}
		printf("%-28s %8.0f ns per stack, %2d frames found\n", names[kind], best, frames);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: stacks_bench cond|pipe|unwind N\n");
		return 2;
	}
	rounds = iterations = atol(argv[2]);
	if (!strcmp(argv[1], "cond"))
		return handoffs(cond_player);
	if (!strcmp(argv[1], "pipe")) {
		if (pipe(pipes[0]) || pipe(pipes[1]))
			return 1;
		return handoffs(pipe_player);
	}
	if (!strcmp(argv[1], "unwind"))
		return unwinders();
	return 2;
}
