/*
 * bench_preload.c — what libweft.so costs a traced program (a tool, not
 * installed; numbers go to stdout, one line per measurement).
 *
 *   weft-bench-preload [ITERATIONS]
 *
 * measures, each as the best of 3 rounds x 5 runs of ITERATIONS (default
 * 10^7), the rounds alternating the three:
 *   mutex/native     an uncontended pthread_mutex_lock + unlock pair, in a
 *                    process with a second (idle) thread, without libweft.so;
 *   mutex/preloaded  the same with LD_PRELOAD=libweft.so and WEFT_SHM set,
 *                    i.e. through the wrapper's trylock fast path;
 *   transition       one recorded transition: clock_gettime + ring_write of
 *                    a 32-byte record (the reader drains every 1024 records
 *                    so the ring never fills);
 *   clock            the timestamp alone (emit_now, clock_gettime), the
 *                    part of a transition that is not weft's own.
 * The two mutex lines run in child processes (this program re-executed
 * with "mutex-loop"); libweft.so is found at <dir of this program>/../lib.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emit.h"
#include "ring.h"

#define RUNS 5
#define ROUNDS 3

static double best_ns_per_op(double *runs)
{
	double best = runs[0];
	for (int i = 1; i < RUNS; i++)
		if (runs[i] < best)
			best = runs[i];
	return best;
}

static void *idle(void *arg)
{
	pause();
	return arg;
}

static int mutex_loop(long iterations)
{
	pthread_t thread;
	pthread_create(&thread, NULL, idle, NULL);
	pthread_detach(thread);
	pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
	double runs[RUNS];
	for (int run = 0; run < RUNS; run++) {
		uint64_t start = emit_now();
		for (long i = 0; i < iterations; i++) {
			pthread_mutex_lock(&mutex);
			__asm__ volatile("" ::: "memory");
			pthread_mutex_unlock(&mutex);
		}
		runs[run] = (double)(emit_now() - start) / (double)iterations;
	}
	printf("%.2f\n", best_ns_per_op(runs));
	return 0;
}

/* Run this program's mutex loop in a child; preload is NULL or the path of
 * libweft.so. Returns ns per pair, or a negative value on failure. */
static double run_child(const char *self, long iterations, const char *preload, const char *shm)
{
	int pipe_fds[2];
	if (pipe(pipe_fds))
		return -1;
	pid_t child = fork();
	if (child == 0) {
		dup2(pipe_fds[1], 1);
		close(pipe_fds[0]);
		if (preload) {
			setenv("LD_PRELOAD", preload, 1);
			setenv("WEFT_SHM", shm, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		char count[32];
		snprintf(count, sizeof count, "%ld", iterations);
		execl(self, self, "mutex-loop", count, (char *)NULL);
		_exit(127);
	}
	close(pipe_fds[1]);
	char text[64] = {0};
	ssize_t n = read(pipe_fds[0], text, sizeof text - 1);
	close(pipe_fds[0]);
	int status;
	waitpid(child, &status, 0);
	if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return strtod(text, NULL);
}

static double clock_cost(long iterations)
{
	double runs[RUNS];
	volatile uint64_t sink = 0;
	for (int run = 0; run < RUNS; run++) {
		uint64_t start = emit_now();
		for (long i = 0; i < iterations; i++)
			sink += emit_now();
		runs[run] = (double)(emit_now() - start) / (double)iterations;
	}
	(void)sink;
	return best_ns_per_op(runs);
}

static double transition_cost(const char *shm_path, long iterations)
{
	struct ring_map map;
	if (ring_file_attach(shm_path, &map))
		return -1;
	struct ring_writer writer;
	if (ring_claim(&map, (uint32_t)getpid(), (uint32_t)getpid(), 0, 1, &writer))
		return -1;
	uint64_t tail = 0;
	double runs[RUNS];
	for (int run = 0; run < RUNS; run++) {
		uint64_t start = emit_now();
		for (long i = 0; i < iterations; i++) {
			emit_record(&writer, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX,
				    WEFT_CALL_MUTEX_LOCK, emit_now(), (uint64_t)i, 0);
			if ((i & 1023) == 1023) {
				/* The reader's side, minimal: release the space. */
				tail = atomic_load(&writer.slot->head);
				atomic_store_explicit(&writer.slot->tail, tail,
						      memory_order_release);
			}
		}
		runs[run] = (double)(emit_now() - start) / (double)iterations;
	}
	uint64_t dropped = atomic_load(&writer.slot->dropped);
	ring_release(&writer);
	ring_file_unmap(&map);
	return dropped ? -1 : best_ns_per_op(runs);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "mutex-loop"))
		return mutex_loop(atol(argv[2]));
	long iterations = argc > 1 ? atol(argv[1]) : 10000000L;
	if (iterations <= 0) {
		fprintf(stderr, "usage: weft-bench-preload [ITERATIONS]\n");
		return 2;
	}

	char self[PATH_MAX], preload[PATH_MAX + 32];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0)
		return 1;
	self[len] = '\0';
	char *slash = strrchr(self, '/');
	snprintf(preload, sizeof preload, "%.*s/../lib/libweft.so", (int)(slash - self), self);
	if (access(preload, R_OK)) {
		fprintf(stderr, "weft-bench-preload: %s: %s\n", preload, strerror(errno));
		return 1;
	}

	char shm[64];
	snprintf(shm, sizeof shm, "/dev/shm/weft-bench-preload-%d", (int)getpid());
	struct ring_map map;
	int error = ring_file_create(shm, 64, RING_DEFAULT_BYTES, &map);
	if (error) {
		fprintf(stderr, "weft-bench-preload: %s: %s\n", shm, strerror(-error));
		return 1;
	}
	/* Alternate the two, keep the best of each: other load on the machine
	 * then hits both alike. */
	double native = -1, preloaded = -1, transition = -1, clock = -1;
	for (int round = 0; round < ROUNDS; round++) {
		double n = run_child(self, iterations, NULL, NULL);
		double p = run_child(self, iterations, preload, shm);
		double t = transition_cost(shm, iterations);
		double c = clock_cost(iterations);
		if (clock < 0 || c < clock)
			clock = c;
		if (n >= 0 && (native < 0 || n < native))
			native = n;
		if (p >= 0 && (preloaded < 0 || p < preloaded))
			preloaded = p;
		if (t >= 0 && (transition < 0 || t < transition))
			transition = t;
	}
	ring_file_unmap(&map);
	unlink(shm);
	printf("mutex/native     %8.2f ns per lock+unlock\n", native);
	printf("mutex/preloaded  %8.2f ns per lock+unlock\n", preloaded);
	printf("transition       %8.2f ns per recorded record (clock_gettime + ring_write)\n",
	       transition);
	printf("clock            %8.2f ns per clock_gettime alone\n", clock);
	return native < 0 || preloaded < 0 || transition < 0;
}
