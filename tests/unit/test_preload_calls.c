/*
 * test_preload_calls.c — every wrapper passes arguments, results and errno
 * through unchanged: test_preload_calls_prog checks the documented result
 * of each call, run once plainly and once under libweft.so recording into
 * a ring file of this test; then the failed exec it made is in the ring
 * and its slot is back to ACTIVE.
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

#define SLOTS 16

/* shm: the ring file to record into; NULL: no libweft.so; "": libweft.so
 * preloaded with nothing to record into (no ring file, no weftd). */
static int run(const char *shm)
{
	pid_t pid = fork();
	if (pid == 0) {
		unsetenv("WEFT_OUT");
		unsetenv("WEFT_SOCKET");
		setenv("XDG_RUNTIME_DIR", "/nonexistent-weft-test", 1);
		if (shm && !*shm) {
			unsetenv("WEFT_SHM");
			setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		} else if (shm) {
			setenv("WEFT_SHM", shm, 1);
			setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		} else {
			unsetenv("WEFT_SHM");
			unsetenv("LD_PRELOAD");
		}
		execl(WEFT_TEST_CALLS_PROG, WEFT_TEST_CALLS_PROG, (char *)NULL);
		_exit(127);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	return status;
}

/* Preloaded but recording nothing: every wrapper is a pass-through that
 * resolves the real functions lazily (and all of them before a fork). */
static void calls_behave_as_documented_when_preloaded_but_not_recording(void **state)
{
	int status = run("");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void calls_behave_as_documented_without_the_tracer(void **state)
{
	int status = run(NULL);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

struct found {
	int exec_fail;
	int exec_fail_errno;
	uint32_t exec_fail_slot;
	int spawn_forks;
	int system_waits;
	int killed_results;
};

static void look(void *ctx, uint32_t slot, const struct weft_event *event)
{
	struct found *f = ctx;
	if (event->type == WEFT_EV_EXEC_FAIL) {
		f->exec_fail++;
		f->exec_fail_errno = (int)event->a;
		f->exec_fail_slot = slot;
	}
	if (event->type == WEFT_EV_FORK && event->call == WEFT_CALL_POSIX_SPAWN && event->a)
		f->spawn_forks++;
	if (event->type == WEFT_EV_BLOCK_END && event->call == WEFT_CALL_SYSTEM &&
	    event->b == 3 << 8)
		f->system_waits++;
	if (event->type == WEFT_EV_WAIT_RESULT && WIFSIGNALED((int)event->b) &&
	    WTERMSIG((int)event->b) == 9)
		f->killed_results++;
}

static void calls_behave_as_documented_under_the_tracer(void **state)
{
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/weft-test-calls-%d", (int)getpid());
	unlink(path);
	struct ring_map map;
	assert_int_equal(ring_file_create(path, SLOTS, 65536, &map), 0);
	int status = run(path);
	struct found found = {0};
	for (uint32_t i = 0; i < SLOTS; i++)
		ring_drain(&map, i, look, &found);
	uint32_t exec_state = atomic_load(&map.slots[found.exec_fail_slot].state);
	ring_file_unmap(&map);
	unlink(path);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(found.exec_fail, 2);
	assert_int_equal(found.exec_fail_errno, ENOENT);
	assert_int_equal(exec_state, RING_SLOT_ACTIVE);
	assert_int_equal(found.spawn_forks, 1);
	assert_int_equal(found.system_waits, 1);
	assert_int_equal(found.killed_results, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(calls_behave_as_documented_without_the_tracer),
	    cmocka_unit_test(calls_behave_as_documented_when_preloaded_but_not_recording),
	    cmocka_unit_test(calls_behave_as_documented_under_the_tracer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
