/*
 * test_preload_emit.c — the record builders of emit.h, writing into a ring
 * file created with ring_file_create and read back with ring_drain, as the
 * collector reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emit.h"
#include "ring.h"

#define MAX_SEEN 64

struct seen {
	size_t count;
	struct weft_event events[MAX_SEEN];
	char payloads[MAX_SEEN][WEFT_PAYLOAD_MAX];
	uint32_t payload_len[MAX_SEEN];
};

struct fixture {
	char path[64];
	struct ring_map map;
	struct ring_writer writer;
	struct seen seen;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/dev/shm/weft-test-emit-%d", (int)getpid());
	unlink(f->path);
	assert_int_equal(ring_file_create(f->path, 2, 8192, &f->map), 0);
	assert_int_equal(ring_claim(&f->map, 100, 101, 99, 5, &f->writer), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ring_file_unmap(&f->map);
	unlink(f->path);
	free(f);
	return 0;
}

static void collect(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct seen *seen = ctx;
	if (seen->count == MAX_SEEN)
		return;
	seen->events[seen->count] = *event;
	uint32_t len = event->size - WEFT_EVENT_HEADER_SIZE;
	memcpy(seen->payloads[seen->count], event + 1, len);
	seen->payload_len[seen->count] = len;
	seen->count++;
}

static struct seen *drain(struct fixture *f)
{
	f->seen.count = 0;
	ring_drain(&f->map, f->writer.index, collect, &f->seen);
	return &f->seen;
}

static void now_is_monotonic_nanoseconds(void **state)
{
	uint64_t first = emit_now();
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t second = emit_now();
	uint64_t reference = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	assert_true(first <= reference);
	assert_true(reference <= second);
}

static void block_begin_and_end_carry_every_field(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(emit_block_begin(&f->writer, 1000, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK,
					  0xdeadbeef, 4242),
			 0);
	assert_int_equal(emit_block_end(&f->writer, 2000, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK,
					0xdeadbeef, -110),
			 0);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, 2);
	struct weft_event *begin = &seen->events[0], *end = &seen->events[1];
	assert_int_equal(begin->type, WEFT_EV_BLOCK_BEGIN);
	assert_int_equal(begin->reason, WEFT_REASON_MUTEX);
	assert_int_equal(begin->call, WEFT_CALL_MUTEX_LOCK);
	assert_int_equal(begin->ts, 1000);
	assert_int_equal(begin->a, 0xdeadbeef);
	assert_int_equal(begin->b, 4242);
	assert_int_equal(begin->size, WEFT_EVENT_HEADER_SIZE);
	assert_int_equal(end->type, WEFT_EV_BLOCK_END);
	assert_int_equal(end->ts, 2000);
	assert_int_equal((int64_t)end->b, -110);
}

static void thread_name_is_cut_to_sixteen_bytes_with_nul(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(emit_thread_name(&f->writer, 5, 77, "a-rather-long-thread-name"), 0);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->events[0].type, WEFT_EV_THREAD_NAME);
	assert_int_equal(seen->events[0].a, 77);
	assert_int_equal(seen->events[0].size % 8, 0);
	assert_true(seen->payload_len[0] >= 16);
	assert_string_equal(seen->payloads[0], "a-rather-long-t");
}

static void short_string_is_carried_whole_with_its_nul(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(emit_record_string(&f->writer, WEFT_EV_EXEC, 0, 0, 3, 0, 0, "/bin/true",
					    WEFT_PAYLOAD_MAX),
			 0);
	assert_int_equal(
	    emit_record_string(&f->writer, WEFT_EV_EXEC, 0, 0, 4, 0, 0, NULL, WEFT_PAYLOAD_MAX), 0);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, 2);
	assert_int_equal(seen->events[0].size, WEFT_EVENT_HEADER_SIZE + 16);
	assert_string_equal(seen->payloads[0], "/bin/true");
	assert_string_equal(seen->payloads[1], "");
}

static void payload_record_keeps_argv_bytes(void **state)
{
	struct fixture *f = *state;
	const char argv[] = "prog\0--flag\0value";
	assert_int_equal(emit_record_payload(&f->writer, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, 9,
					     1234, 0, argv, sizeof argv),
			 0);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->events[0].reason, WEFT_ORIGIN_EXEC);
	assert_int_equal(seen->events[0].a, 1234);
	assert_memory_equal(seen->payloads[0], argv, sizeof argv);
}

static void payload_longer_than_the_maximum_is_cut(void **state)
{
	struct fixture *f = *state;
	static char big[WEFT_PAYLOAD_MAX + 100];
	memset(big, 'x', sizeof big);
	assert_int_equal(
	    emit_record_payload(&f->writer, WEFT_EV_EXEC, 0, 0, 1, 0, 0, big, sizeof big), 0);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->events[0].size, WEFT_EVENT_HEADER_SIZE + WEFT_PAYLOAD_MAX);
}

static void full_ring_drops_and_counts(void **state)
{
	struct fixture *f = *state;
	size_t written = 0;
	while (emit_record(&f->writer, WEFT_EV_SIGNAL_SENT, 0, 0, written, 1, 2) == 0)
		written++;
	assert_int_equal(written, 8192 / WEFT_EVENT_HEADER_SIZE);
	assert_int_equal(emit_record(&f->writer, WEFT_EV_SIGNAL_SENT, 0, 0, 0, 1, 2), -28);
	assert_int_equal(atomic_load(&f->writer.slot->dropped), 2);
	struct seen *seen = drain(f);
	assert_int_equal(seen->count, MAX_SEEN); /* collect keeps the first MAX_SEEN */
	/* Drained: room again. */
	assert_int_equal(emit_record(&f->writer, WEFT_EV_SIGNAL_SENT, 0, 0, 0, 1, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(now_is_monotonic_nanoseconds),
	    cmocka_unit_test_setup_teardown(block_begin_and_end_carry_every_field, setup, teardown),
	    cmocka_unit_test_setup_teardown(thread_name_is_cut_to_sixteen_bytes_with_nul, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(short_string_is_carried_whole_with_its_nul, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(payload_record_keeps_argv_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(payload_longer_than_the_maximum_is_cut, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(full_ring_drops_and_counts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
