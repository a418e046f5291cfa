/*
 * test_preload_early.c — libweft.so in a program whose library
 * constructor starts a thread and contends a mutex before libweft.so's
 * constructor has run: the first wrapper call starts the recording, once,
 * and nothing of the early activity is lost. Runs test_preload_early_prog
 * under LD_PRELOAD with WEFT_SHM on a ring file of its own.
 */
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
#define MAX_RECORDS 64

struct early {
	char path[64];
	struct ring_map map;
	pid_t pid;
	int status;
	size_t count;
	struct weft_event events[MAX_RECORDS];
	uint32_t slots[MAX_RECORDS];
};

static void collect(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct early *e = ctx;
	if (e->count < MAX_RECORDS) {
		e->events[e->count] = *event;
		e->slots[e->count++] = slot_index;
	}
}

static int run_program(void **state)
{
	struct early *e = calloc(1, sizeof *e);
	snprintf(e->path, sizeof e->path, "/dev/shm/weft-test-early-%d", (int)getpid());
	unlink(e->path);
	if (ring_file_create(e->path, SLOTS, 16384, &e->map))
		return -1;
	e->pid = fork();
	if (e->pid == 0) {
		setenv("WEFT_SHM", e->path, 1);
		setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		execl(WEFT_TEST_EARLY_PROG, WEFT_TEST_EARLY_PROG, (char *)NULL);
		_exit(127);
	}
	if (e->pid < 0 || waitpid(e->pid, &e->status, 0) != e->pid)
		return -1;
	for (uint32_t i = 0; i < SLOTS; i++)
		ring_drain(&e->map, i, collect, e);
	*state = e;
	return 0;
}

static int remove_ring(void **state)
{
	struct early *e = *state;
	ring_file_unmap(&e->map);
	unlink(e->path);
	free(e);
	return 0;
}

static size_t count_type(const struct early *e, uint16_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < e->count; i++)
		n += e->events[i].type == type;
	return n;
}

static void program_runs_as_without_the_tracer(void **state)
{
	struct early *e = *state;
	assert_true(WIFEXITED(e->status));
	assert_int_equal(WEXITSTATUS(e->status), 0);
}

static void process_starts_once_and_first(void **state)
{
	struct early *e = *state;
	assert_int_equal(count_type(e, WEFT_EV_PROC_START), 1);
	assert_int_equal(e->events[0].type, WEFT_EV_PROC_START);
	assert_int_equal(e->map.slots[e->slots[0]].pid, (uint32_t)e->pid);
}

/* The same program when the ring file cannot be attached: it runs
 * untraced, and libweft.so's start-up (a failed open) leaves errno as the
 * early constructor had it. */
static void program_runs_untraced_when_the_ring_file_is_missing(void **state)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("WEFT_SHM", "/dev/shm/weft-test-early-no-such-ring", 1);
		setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		execl(WEFT_TEST_EARLY_PROG, WEFT_TEST_EARLY_PROG, (char *)NULL);
		_exit(127);
	}
	int status = -1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void constructor_thread_is_recorded_with_its_wait(void **state)
{
	struct early *e = *state;
	size_t start = e->count;
	for (size_t i = 0; i < e->count; i++)
		if (e->events[i].type == WEFT_EV_THREAD_START && e->events[i].a != 0)
			start = i;
	assert_true(start < e->count);
	assert_int_equal(e->events[start].a, (uint64_t)e->pid);
	uint32_t slot = e->slots[start];
	int blocked = 0, exited = 0;
	for (size_t i = start; i < e->count; i++) {
		if (e->slots[i] != slot)
			continue;
		if (e->events[i].type == WEFT_EV_BLOCK_BEGIN &&
		    e->events[i].reason == WEFT_REASON_MUTEX)
			blocked = e->events[i].b == (uint64_t)e->pid;
		exited |= e->events[i].type == WEFT_EV_THREAD_EXIT;
	}
	assert_true(blocked);
	assert_true(exited);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(program_runs_as_without_the_tracer),
	    cmocka_unit_test(process_starts_once_and_first),
	    cmocka_unit_test(program_runs_untraced_when_the_ring_file_is_missing),
	    cmocka_unit_test(constructor_thread_is_recorded_with_its_wait),
	};
	return cmocka_run_group_tests(tests, run_program, remove_ring);
}
