/*
 * test_preload_threads.c — every way a thread ends leaves its ring closed:
 * test_preload_threads_prog runs under libweft.so recording into a ring
 * file of this test; afterwards each of its four threads (the three it
 * creates and the main thread, which ends with pthread_exit) has written
 * THREAD_EXIT as its last record and released its slot (DONE), and the
 * wait the cancelled thread was in is closed (BLOCK_END, -ECANCELED).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring.h"

#define SLOTS 8
#define MAX_RECORDS 128

struct run {
	char path[64];
	struct ring_map map;
	int status;
	size_t count[SLOTS];
	struct weft_event events[SLOTS][MAX_RECORDS];
	char names[SLOTS][16];
};

static void collect(void *ctx, uint32_t slot, const struct weft_event *event)
{
	struct run *r = ctx;
	if (r->count[slot] < MAX_RECORDS)
		r->events[slot][r->count[slot]++] = *event;
	if (event->type == WEFT_EV_THREAD_NAME && event->size > WEFT_EVENT_HEADER_SIZE)
		snprintf(r->names[slot], sizeof r->names[slot], "%s", (const char *)(event + 1));
}

static int run_program(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	snprintf(r->path, sizeof r->path, "/dev/shm/weft-test-threads-%d", (int)getpid());
	unlink(r->path);
	if (ring_file_create(r->path, SLOTS, 16384, &r->map))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		setenv("WEFT_SHM", r->path, 1);
		setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		execl(WEFT_TEST_THREADS_PROG, WEFT_TEST_THREADS_PROG, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
		return -1;
	for (uint32_t i = 0; i < SLOTS; i++)
		ring_drain(&r->map, i, collect, r);
	*state = r;
	return 0;
}

static int remove_ring(void **state)
{
	struct run *r = *state;
	ring_file_unmap(&r->map);
	unlink(r->path);
	free(r);
	return 0;
}

/* The slot whose last THREAD_NAME is name; -1 if none. The main thread's
 * slot is the one that starts with PROC_START. */
static int slot_named(const struct run *r, const char *name)
{
	for (int i = 0; i < SLOTS; i++) {
		if (!name && r->count[i] && r->events[i][0].type == WEFT_EV_PROC_START)
			return i;
		if (name && !strcmp(r->names[i], name))
			return i;
	}
	return -1;
}

static void assert_ended(const struct run *r, int slot)
{
	assert_true(slot >= 0);
	size_t n = r->count[slot];
	assert_true(n > 0);
	assert_int_equal(r->events[slot][n - 1].type, WEFT_EV_THREAD_EXIT);
	assert_int_equal(atomic_load(&r->map.slots[slot].state), RING_SLOT_DONE);
}

static void program_ran_as_posix_says(void **state)
{
	struct run *r = *state;
	assert_true(WIFEXITED(r->status));
	assert_int_equal(WEXITSTATUS(r->status), 0);
}

static void returning_thread_ends_its_ring(void **state)
{
	assert_ended(*state, slot_named(*state, "returns"));
}

static void thread_calling_pthread_exit_ends_its_ring(void **state)
{
	assert_ended(*state, slot_named(*state, "exits"));
}

static void main_thread_calling_pthread_exit_ends_its_ring(void **state)
{
	assert_ended(*state, slot_named(*state, NULL));
}

static void cancelled_thread_closes_its_wait_then_ends(void **state)
{
	struct run *r = *state;
	int slot = slot_named(r, "cancelled");
	assert_ended(r, slot);
	size_t n = r->count[slot];
	const struct weft_event *end = NULL;
	for (size_t i = 0; i < n; i++)
		if (r->events[slot][i].type == WEFT_EV_BLOCK_END &&
		    r->events[slot][i].reason == WEFT_REASON_COND)
			end = &r->events[slot][i];
	assert_non_null(end);
	assert_int_equal((int64_t)end->b, -ECANCELED);
	int open = 0;
	for (size_t i = 0; i < n; i++)
		open += r->events[slot][i].type == WEFT_EV_BLOCK_BEGIN ? 1
			: r->events[slot][i].type == WEFT_EV_BLOCK_END ? -1
								       : 0;
	assert_int_equal(open, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(program_ran_as_posix_says),
	    cmocka_unit_test(returning_thread_ends_its_ring),
	    cmocka_unit_test(thread_calling_pthread_exit_ends_its_ring),
	    cmocka_unit_test(main_thread_calling_pthread_exit_ends_its_ring),
	    cmocka_unit_test(cancelled_thread_closes_its_wait_then_ends),
	};
	return cmocka_run_group_tests(tests, run_program, remove_ring);
}
