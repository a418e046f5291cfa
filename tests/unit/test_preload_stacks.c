/*
 * test_preload_stacks.c — the parts of stacks.c that need no ring: the
 * stack id, the lock-free dedupe table (alone and raced by threads) and
 * the unwinder wrapper (depth, order, truncation at the limit).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "preload.h"
#include "stacks.h"

/* stacks.c reads the thread's state through these (life.c's). */
__thread struct preload_thread preload_self __attribute__((tls_model("initial-exec")));
struct preload_process preload_proc;

static void same_pcs_same_id_other_pcs_other_id(void **state)
{
	(void)state;
	uintptr_t a[3] = {0x1000, 0x2000, 0x3000}, b[3] = {0x1000, 0x2000, 0x3001};
	assert_int_equal(stacks_hash(a, 3), stacks_hash(a, 3));
	assert_int_not_equal(stacks_hash(a, 3), stacks_hash(b, 3));
	assert_int_not_equal(stacks_hash(a, 3), stacks_hash(a, 2));
	assert_int_not_equal(stacks_hash(a, 0), 0);
}

static void an_id_is_new_once(void **state)
{
	(void)state;
	stacks_seen_clear();
	assert_int_equal(stacks_seen_insert(42), 1);
	assert_int_equal(stacks_seen_insert(42), 0);
	assert_int_equal(stacks_seen_insert(43), 1);
	stacks_seen_clear();
	assert_int_equal(stacks_seen_insert(42), 1);
}

static void a_full_table_says_so_and_forgets_nothing(void **state)
{
	(void)state;
	stacks_seen_clear();
	uint64_t id = 1;
	int full = 0;
	for (; id < 100000 && !full; id++)
		full = stacks_seen_insert(id * 0x9e3779b97f4a7c15ull) < 0;
	assert_true(full);
	/* every id it took is still known */
	for (uint64_t known = 1; known + 1 < id; known++)
		assert_int_equal(stacks_seen_insert(known * 0x9e3779b97f4a7c15ull), 0);
	stacks_seen_clear();
}

#define RACERS 4
#define RACE_IDS 2000
static int race_new[RACERS][RACE_IDS];

static void *racer(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int i = 0; i < RACE_IDS; i++)
		race_new[me][i] = stacks_seen_insert((uint64_t)i * 7919 + 1);
	return NULL;
}

static void racing_threads_define_each_id_once(void **state)
{
	(void)state;
	stacks_seen_clear();
	pthread_t threads[RACERS];
	for (int t = 0; t < RACERS; t++)
		pthread_create(&threads[t], NULL, racer, (void *)(intptr_t)t);
	for (int t = 0; t < RACERS; t++)
		pthread_join(threads[t], NULL);
	for (int i = 0; i < RACE_IDS; i++) {
		int defined = 0;
		for (int t = 0; t < RACERS; t++) {
			assert_true(race_new[t][i] >= 0);
			defined += race_new[t][i];
		}
		assert_int_equal(defined, 1);
	}
	stacks_seen_clear();
}

static uintptr_t unwound[STACKS_MAX_FRAMES];
static unsigned unwound_depth;
static int unwound_truncated;

static __attribute__((noinline)) void unwind_here(void)
{
	unwound_depth = stacks_unwind(unwound, STACKS_MAX_FRAMES, &unwound_truncated);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void nest(int levels)
{
	volatile char frame[16];
	frame[0] = (char)levels;
	if (levels > 0)
		nest(levels - 1);
	else
		unwind_here();
	__asm__ volatile("" ::: "memory");
	(void)frame[0];
}

/* Whether pc lies in fn's body (the first 512 bytes are enough here). */
static int inside(uintptr_t pc, void (*fn)(int))
{
	return pc > (uintptr_t)fn && pc < (uintptr_t)fn + 512;
}

/* The index of the first frame in nest (the unwinder's own frames and
 * unwind_here come before it: stacks_unwind, and under ASan its
 * backtrace interceptor; no libweft range is known here to leave them
 * out). */
static unsigned first_nest(void)
{
	unsigned i = 0;
	while (i < unwound_depth && !inside(unwound[i], nest))
		i++;
	return i;
}

static void the_unwinder_finds_the_callers_innermost_first(void **state)
{
	(void)state;
	nest(3);
	assert_false(unwound_truncated);
	unsigned first = first_nest();
	assert_true(first >= 1 && first <= 4);
	assert_true(unwound_depth >= first + 4);
	/* nest x4, innermost first, then its callers outside nest */
	for (unsigned i = first; i < first + 4; i++)
		assert_true(inside(unwound[i], nest));
	assert_false(inside(unwound[first + 4], nest));
}

static void a_deep_stack_is_cut_at_the_limit_and_says_so(void **state)
{
	(void)state;
	nest(STACKS_MAX_FRAMES + 8);
	assert_int_equal(unwound_depth, STACKS_MAX_FRAMES);
	assert_true(unwound_truncated);
	unsigned first = first_nest();
	assert_true(first <= 4);
	for (unsigned i = first; i < STACKS_MAX_FRAMES; i++)
		assert_true(inside(unwound[i], nest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_pcs_same_id_other_pcs_other_id),
	    cmocka_unit_test(an_id_is_new_once),
	    cmocka_unit_test(a_full_table_says_so_and_forgets_nothing),
	    cmocka_unit_test(racing_threads_define_each_id_once),
	    cmocka_unit_test(the_unwinder_finds_the_callers_innermost_first),
	    cmocka_unit_test(a_deep_stack_is_cut_at_the_limit_and_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
