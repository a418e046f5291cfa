/*
 * test_ring.c — the shared-memory ring: claiming, writing, wrapping,
 * dropping when full, and one writer racing one reader.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring.h"

struct fixture {
	char path[64];
	struct ring_map map;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/dev/shm/weft-test-ring-%d", (int)getpid());
	unlink(f->path);
	assert_int_equal(ring_file_create(f->path, 4, 4096, &f->map), 0);
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

struct collected {
	size_t count;
	uint64_t last_ts;
	int in_order;
	uint64_t payload_bytes;
};

static void collect(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct collected *c = ctx;
	(void)slot_index;
	if (c->count && event->ts != c->last_ts + 1)
		c->in_order = 0;
	c->last_ts = event->ts;
	c->payload_bytes += event->size - WEFT_EVENT_HEADER_SIZE;
	c->count++;
}

static void attach_sees_what_create_wrote(void **state)
{
	struct fixture *f = *state;
	struct ring_map other;
	assert_int_equal(ring_file_attach(f->path, &other), 0);
	assert_int_equal(other.header->slot_count, 4);
	assert_int_equal(other.header->ring_bytes, 4096);
	ring_file_unmap(&other);
}

static void attach_rejects_a_file_that_is_not_a_ring(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/weft-test-notring-%d", (int)getpid());
	FILE *file = fopen(path, "w");
	for (int i = 0; i < 8192; i++)
		fputc('x', file);
	fclose(file);
	struct ring_map map;
	assert_int_equal(ring_file_attach(path, &map), -EPROTO);
	unlink(path);
}

static void claim_takes_each_slot_once_then_counts_the_lost_thread(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writers[5];
	for (int i = 0; i < 4; i++)
		assert_int_equal(ring_claim(&f->map, 1, 100 + i, 0, 1, &writers[i]), 0);
	assert_int_equal(ring_claim(&f->map, 1, 200, 0, 1, &writers[4]), -ENOSPC);
	assert_int_equal(atomic_load(&f->map.header->threads_lost), 1);
	ring_release(&writers[0]);
	ring_slot_free(&f->map, writers[0].index);
	assert_int_equal(ring_claim(&f->map, 1, 300, 0, 1, &writers[4]), 0);
}

static void records_come_back_in_order_across_wraps(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writer;
	struct collected c = {.in_order = 1};
	char payload[40] = "payload";
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
	for (uint64_t ts = 1; ts <= 1000; ts++) {
		struct weft_event event = {.type = WEFT_EV_BLOCK_BEGIN, .ts = ts};
		/* payloads of varying size make records end at odd places */
		assert_int_equal(ring_write(&writer, &event, payload, (uint32_t)(ts % 40)), 0);
		if (ts % 7 == 0)
			ring_drain(&f->map, writer.index, collect, &c);
	}
	ring_drain(&f->map, writer.index, collect, &c);
	assert_int_equal(c.count, 1000);
	assert_true(c.in_order);
	assert_int_equal(atomic_load(&writer.slot->dropped), 0);
}

static void a_full_ring_drops_and_counts_without_blocking(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writer;
	struct collected c = {.in_order = 1};
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
	int written = 0, dropped = 0;
	for (uint64_t ts = 1; ts <= 200; ts++) {
		struct weft_event event = {.type = WEFT_EV_BLOCK_END, .ts = ts};
		if (ring_write(&writer, &event, NULL, 0) == 0)
			written++;
		else
			dropped++;
	}
	assert_int_equal(written, 4096 / WEFT_EVENT_HEADER_SIZE);
	assert_int_equal(dropped, 200 - written);
	assert_int_equal(atomic_load(&writer.slot->dropped), dropped);
	assert_int_equal(ring_drain(&f->map, writer.index, collect, &c), (size_t)written);
}

struct last_payload {
	uint8_t bytes[64];
	uint32_t len;
};

static void keep_payload(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct last_payload *last = ctx;
	(void)slot_index;
	last->len = event->size - WEFT_EVENT_HEADER_SIZE;
	memcpy(last->bytes, (const uint8_t *)event + WEFT_EVENT_HEADER_SIZE, last->len);
}

static void a_payload_is_padded_with_zeros_whatever_the_ring_held(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writer;
	struct last_payload last = {0};
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
	memset(writer.data, 0xab, 4096); /* the bytes of records past */
	struct weft_event event = {.type = WEFT_EV_PROC_START, .ts = 1};
	assert_int_equal(ring_write(&writer, &event, "sh", 3), 0);
	assert_int_equal(ring_drain(&f->map, writer.index, keep_payload, &last), 1);
	assert_int_equal(last.len, 8); /* rounded up to 8 */
	assert_memory_equal(last.bytes, "sh\0\0\0\0\0\0", 8);
}

static void claims_take_the_lowest_free_slot_and_the_bound_follows(void **state)
{
	struct fixture *f = *state;
	struct ring_writer a, b, c;
	assert_int_equal(ring_slot_bound(&f->map), 0);
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &a), 0);
	assert_int_equal(ring_claim(&f->map, 1, 101, 0, 1, &b), 0);
	assert_int_equal(a.index, 0);
	assert_int_equal(b.index, 1);
	assert_int_equal(ring_slot_bound(&f->map), 2);
	ring_release(&a);
	ring_slot_free(&f->map, a.index);
	assert_int_equal(ring_claim(&f->map, 1, 102, 0, 1, &c), 0);
	assert_int_equal(c.index, 0); /* reused: the slots in use stay few */
	assert_int_equal(ring_slot_bound(&f->map), 2);
	/* A scribbled bound is clamped to the geometry the reader copied. */
	atomic_store(&f->map.header->slot_high, 1000000);
	assert_int_equal(ring_slot_bound(&f->map), 4);
}

static void a_new_image_adopts_the_token_of_the_image_it_replaces(void **state)
{
	struct fixture *f = *state;
	struct ring_writer one, two, three;
	/* pid 7, alone, execs: the new image finds its token by the hint. */
	assert_int_equal(ring_claim(&f->map, 7, 7, 1, 41, &one), 0);
	ring_exec_mark(&f->map, &one, 7, 1);
	assert_int_equal(ring_exec_adopt(&f->map, 7), 41);
	assert_int_equal(atomic_load(&one.slot->state), RING_SLOT_DONE);
	assert_int_equal(atomic_load(&f->map.header->exec_pending), 0);
	/* A pid that did not exec from a traced image: nothing to adopt. */
	assert_int_equal(ring_exec_adopt(&f->map, 8), 0);
	/* pid 9 with a second thread execs; pid 9 + RING_EXEC_HINTS overwrites
	 * the hint: the slots are read, and the other thread's slot is DONE. */
	assert_int_equal(ring_claim(&f->map, 9, 9, 1, 43, &two), 0);
	assert_int_equal(ring_claim(&f->map, 9, 10, 1, 43, &three), 0);
	ring_exec_mark(&f->map, &two, 9, 0);
	atomic_store(&f->map.header->exec_hint[9 % RING_EXEC_HINTS], 0);
	assert_int_equal(ring_exec_adopt(&f->map, 9), 43);
	assert_int_equal(atomic_load(&three.slot->state), RING_SLOT_DONE);
	/* An exec that failed is undone; a slot freed while EXEC (its image
	 * died in exec) no longer counts as pending. */
	ring_exec_mark(&f->map, &three, 9, 1);
	assert_int_equal(atomic_load(&f->map.header->exec_pending), 1);
	ring_exec_undo(&f->map, &three);
	assert_int_equal(atomic_load(&three.slot->state), RING_SLOT_ACTIVE);
	ring_exec_mark(&f->map, &three, 9, 1);
	ring_slot_free(&f->map, three.index);
	assert_int_equal(atomic_load(&f->map.header->exec_pending), 0);
	assert_int_equal(ring_exec_adopt(&f->map, 9), 0);
}

/* The workload owns the ring file's bytes: a program that scribbles over
 * the shared header's geometry changes nothing the reader uses. */
static void scribbled_geometry_is_not_believed(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writer;
	struct collected c = {.in_order = 1};
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
	assert_int_equal(ring_claim(&f->map, 1, 101, 0, 1, &writer), 0); /* slot 1 */
	for (uint64_t ts = 1; ts <= 20; ts++) {
		struct weft_event event = {.type = WEFT_EV_BLOCK_END, .ts = ts};
		assert_int_equal(ring_write(&writer, &event, NULL, 0), 0);
	}
	f->map.header->ring_bytes = 1u << 30;
	f->map.header->slot_count = 1u << 30;
	f->map.header->slots_offset = 1ull << 40;
	f->map.header->data_offset = 1ull << 40;
	assert_int_equal(ring_drain(&f->map, writer.index, collect, &c), 20);
	assert_true(c.in_order);
	assert_int_equal(ring_drain(&f->map, 1u << 20, collect, &c), 0); /* no such slot */
	assert_int_equal(f->map.corrupt_rings, 0);
}

/* A head that ring_write could not have left: the ring is dropped unread
 * and counted, and the next honest records are read again. */
static void a_scribbled_head_drops_the_ring_and_counts_it(void **state)
{
	struct fixture *f = *state;
	struct ring_writer writer;
	struct collected c = {.in_order = 1};
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
	struct weft_event event = {.type = WEFT_EV_BLOCK_END, .ts = 1};
	assert_int_equal(ring_write(&writer, &event, NULL, 0), 0);
	atomic_store(&writer.slot->head, UINT64_MAX - 7);
	assert_int_equal(ring_drain(&f->map, writer.index, collect, &c), 0);
	assert_int_equal(f->map.corrupt_rings, 1);
	/* behind the tail */
	atomic_store(&writer.slot->tail, 4096);
	atomic_store(&writer.slot->head, 64);
	assert_int_equal(ring_drain(&f->map, writer.index, collect, &c), 0);
	assert_int_equal(f->map.corrupt_rings, 2);
	assert_int_equal(c.count, 0);
	/* the writer starts over from where the reader is */
	atomic_store(&writer.slot->tail, 0);
	atomic_store(&writer.slot->head, 0);
	event.ts = 2;
	assert_int_equal(ring_write(&writer, &event, NULL, 0), 0);
	assert_int_equal(ring_drain(&f->map, writer.index, collect, &c), 1);
	assert_int_equal(c.last_ts, 2);
}

static void seen_size(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	(void)slot_index;
	uint32_t *sizes = ctx;
	sizes[sizes[0] + 1] = event->size;
	sizes[0]++;
}

/* Records whose size breaks the format (not a multiple of 8, past the
 * end of the ring, past head, bigger than any record) are never handed
 * out: what is left of the ring is dropped and counted. */
static void records_with_impossible_sizes_are_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	static const uint32_t bad[] = {0, 12, 96, 4096 + 8, 1u << 31, 4000};
	uint64_t corrupt = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ring_writer writer;
		uint32_t sizes[8] = {0};
		assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &writer), 0);
		for (uint64_t ts = 1; ts <= 3; ts++) {
			struct weft_event event = {.type = WEFT_EV_BLOCK_END, .ts = ts};
			assert_int_equal(ring_write(&writer, &event, NULL, 0), 0);
		}
		/* the second record's size is scribbled over */
		memcpy(writer.data + WEFT_EVENT_HEADER_SIZE, &bad[i], sizeof bad[i]);
		if (bad[i] == 4000) /* within the ring and head, bigger than a record */
			atomic_store(&writer.slot->head, 4064);
		assert_int_equal(ring_drain(&f->map, writer.index, seen_size, sizes), 1);
		assert_int_equal(sizes[1], WEFT_EVENT_HEADER_SIZE);
		assert_int_equal(f->map.corrupt_rings, ++corrupt);
		assert_int_equal(atomic_load(&writer.slot->tail), atomic_load(&writer.slot->head));
		ring_release(&writer);
		ring_slot_free(&f->map, writer.index);
	}
}

/* Ring files whose collector is gone (killed with SIGKILL) are removed by
 * the next collector; a live collector's stays. */
static void stale_ring_files_of_dead_collectors_are_swept(void **state)
{
	struct fixture *f = *state; /* its file: this live process's */
	char dead_path[64];
	snprintf(dead_path, sizeof dead_path, "/dev/shm/weft-test-dead-%d", (int)getpid());
	unlink(dead_path);
	struct ring_map dead;
	assert_int_equal(ring_file_create(dead_path, 1, 4096, &dead), 0);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	dead.header->collector_pid = (uint32_t)child; /* gone, reaped */
	ring_file_unmap(&dead);
	assert_true(ring_sweep_stale("/dev/shm") >= 1);
	assert_int_not_equal(access(dead_path, F_OK), 0);
	assert_int_equal(access(f->path, F_OK), 0);
}

/* A memfd ring has no name on disk; another process opens it by its
 * /proc path, as WEFT_SHM gives it. */
static void a_memfd_ring_is_attached_by_its_proc_path(void **state)
{
	(void)state;
	struct ring_map map, other;
	char path[64];
	assert_int_equal(ring_memfd_create(2, 4096, &map, path, sizeof path), 0);
	assert_non_null(strstr(path, "/proc/"));
	assert_int_equal(ring_file_attach(path, &other), 0);
	assert_int_equal(other.slot_count, 2);
	ring_file_unmap(&other);
	ring_file_unmap(&map);
	assert_int_not_equal(ring_file_attach(path, &other), 0); /* gone with its fd */
}

struct race {
	struct ring_writer writer;
	uint64_t records;
};

static void *write_many(void *arg)
{
	struct race *race = arg;
	uint64_t payload[2] = {0, 0};
	for (uint64_t ts = 1; ts <= race->records;) {
		struct weft_event event = {.type = WEFT_EV_BLOCK_BEGIN, .ts = ts};
		payload[0] = payload[1] = ts;
		if (ring_write(&race->writer, &event, payload, (uint32_t)(ts % 3) * 8) == 0)
			ts++;
	}
	return NULL;
}

static void one_writer_and_one_reader_race_without_loss(void **state)
{
	struct fixture *f = *state;
	struct race race = {.records = 200000};
	struct collected c = {.in_order = 1};
	assert_int_equal(ring_claim(&f->map, 1, 100, 0, 1, &race.writer), 0);
	pthread_t thread;
	pthread_create(&thread, NULL, write_many, &race);
	while (c.count < race.records)
		ring_drain(&f->map, race.writer.index, collect, &c);
	pthread_join(thread, NULL);
	assert_int_equal(c.count, race.records);
	assert_true(c.in_order);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(attach_sees_what_create_wrote, setup, teardown),
	    cmocka_unit_test(attach_rejects_a_file_that_is_not_a_ring),
	    cmocka_unit_test_setup_teardown(claim_takes_each_slot_once_then_counts_the_lost_thread,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(records_come_back_in_order_across_wraps, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_full_ring_drops_and_counts_without_blocking, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_payload_is_padded_with_zeros_whatever_the_ring_held,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(claims_take_the_lowest_free_slot_and_the_bound_follows,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(a_new_image_adopts_the_token_of_the_image_it_replaces,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(scribbled_geometry_is_not_believed, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_scribbled_head_drops_the_ring_and_counts_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(records_with_impossible_sizes_are_dropped_and_counted,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(stale_ring_files_of_dead_collectors_are_swept, setup,
					    teardown),
	    cmocka_unit_test(a_memfd_ring_is_attached_by_its_proc_path),
	    cmocka_unit_test_setup_teardown(one_writer_and_one_reader_race_without_loss, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
