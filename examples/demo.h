/*
 * demo.h - small helpers shared by the demo workloads in examples/.
 *
 * Every demo is a plain pthreads program that a person records with
 * `weft record` and looks at in the timeline. The helpers here only keep
 * the demos short: a CPU-bound loop whose result is deterministic (so the
 * programs print the same thing on every run) and a millisecond sleep that
 * goes through nanosleep (a Blocked 'sleep' span in the trace).
 */
#ifndef WEFT_DEMO_H
#define WEFT_DEMO_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Runs `iterations` steps of xorshift64 starting from `seed` and returns the
 * final state: pure CPU work, about 1.4 ns a step on the project's machines,
 * that the compiler keeps even when the caller ignores the result. */
static inline uint64_t demo_spin(uint64_t seed, uint64_t iterations)
{
	uint64_t x = seed ? seed : 88172645463325252ull;
	for (uint64_t i = 0; i < iterations; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		__asm__ volatile("" : "+r"(x)); /* keep the work even if unused */
	}
	return x;
}

/* Sleeps `ms` milliseconds with nanosleep, resuming after signals. */
static inline void demo_sleep_ms(long ms)
{
	struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&left, &left) == -1 && errno == EINTR) {
	}
}

/* Prints `what: strerror(err)` to stderr and exits with status 1. */
static inline void demo_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err));
	exit(1);
}

#endif
