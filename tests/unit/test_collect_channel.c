/*
 * test_collect_channel.c — matching the bytes written into a pipe with
 * the reads that took them out: in order, whatever order the records come
 * in, within a bounded backlog.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "channel.h"

struct flows {
	struct {
		uint64_t ino;
		int64_t ts_out, utid_out, ts_in, utid_in, bytes;
	} items[16];
	int count;
};

static void collect(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		    int64_t utid_in, int64_t bytes)
{
	struct flows *flows = ctx;
	assert_true(flows->count < 16);
	flows->items[flows->count].ino = ino;
	flows->items[flows->count].ts_out = ts_out;
	flows->items[flows->count].utid_out = utid_out;
	flows->items[flows->count].ts_in = ts_in;
	flows->items[flows->count].utid_in = utid_in;
	flows->items[flows->count].bytes = bytes;
	flows->count++;
}

static void a_read_flows_from_the_write_that_completed_it(void **state)
{
	struct flows flows = {0};
	struct channels *channels = channel_new(collect, &flows);
	assert_int_equal(channel_write(channels, 7, 100, 1, 100), 0);
	assert_int_equal(channel_write(channels, 7, 110, 1, 100), 0);
	assert_int_equal(channel_write(channels, 7, 120, 1, 100), 0);
	assert_int_equal(channel_read(channels, 7, 130, 2, 150), 0); /* first 1.5 writes */
	assert_int_equal(flows.count, 1);
	assert_int_equal(flows.items[0].ts_out, 110);
	assert_int_equal(flows.items[0].utid_out, 1);
	assert_int_equal(flows.items[0].ts_in, 130);
	assert_int_equal(flows.items[0].utid_in, 2);
	assert_int_equal(flows.items[0].bytes, 150);
	assert_int_equal(channel_read(channels, 7, 140, 2, 150), 0);
	assert_int_equal(flows.count, 2);
	assert_int_equal(flows.items[1].ts_out, 120);
	/* Nothing left: another channel's bytes do not count. */
	assert_int_equal(channel_write(channels, 8, 150, 3, 10), 0);
	assert_int_equal(channel_read(channels, 7, 160, 2, 10), 0);
	assert_int_equal(flows.count, 2);
	channel_free(channels);
}

static void a_read_seen_before_its_write_waits_for_it(void **state)
{
	struct flows flows = {0};
	struct channels *channels = channel_new(collect, &flows);
	assert_int_equal(channel_read(channels, 7, 100, 2, 64), 0);
	assert_int_equal(flows.count, 0);
	assert_int_equal(channel_write(channels, 7, 105, 1, 32), 0);
	assert_int_equal(flows.count, 0);
	assert_int_equal(channel_write(channels, 7, 106, 1, 64), 0);
	assert_int_equal(flows.count, 1);
	/* The write's record came after the read's: the edge still points
	 * forward in time. */
	assert_int_equal(flows.items[0].ts_out, 100);
	assert_int_equal(flows.items[0].ts_in, 100);
	assert_int_equal(flows.items[0].bytes, 64);
	assert_int_equal(channel_read(channels, 7, 110, 2, 32), 0); /* the rest of 106 */
	assert_int_equal(flows.count, 2);
	assert_int_equal(flows.items[1].ts_out, 106);
	channel_free(channels);
}

static void unread_writes_are_forgotten_beyond_the_backlog(void **state)
{
	struct flows flows = {0};
	struct channels *channels = channel_new(collect, &flows);
	for (int i = 0; i < CHANNEL_BACKLOG + 10; i++)
		assert_int_equal(channel_write(channels, 7, 100 + i, 1, 1), 0);
	/* The oldest 10 bytes were forgotten: the first read gets write 10. */
	assert_int_equal(channel_read(channels, 7, 1000, 2, 1), 0);
	assert_int_equal(flows.count, 1);
	assert_int_equal(flows.items[0].ts_out, 110);
	channel_free(channels);
}

/* An infer function that names thread 9 as the writer, 5 ns before the read. */
static bool infer_thread_9(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
			   int64_t *utid_out, int64_t *ts_out)
{
	int *calls = ctx;
	(void)ino;
	(void)utid_in;
	(*calls)++;
	*utid_out = 9;
	*ts_out = ts_in - 5;
	return true;
}

static int infer_calls;

static bool infer_counted(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
			  int64_t *utid_out, int64_t *ts_out)
{
	(void)ctx;
	return infer_thread_9(&infer_calls, ino, ts_in, utid_in, utid_out, ts_out);
}

static void reads_from_a_writer_never_seen_are_attributed_at_once(void **state)
{
	struct flows flows = {0};
	struct channels *channels = channel_new(collect, &flows);
	infer_calls = 0;
	channel_set_infer(channels, infer_counted);
	assert_int_equal(channel_read(channels, 7, 100, 2, 4096), 0);
	assert_int_equal(channel_read(channels, 7, 200, 2, 100), 0);
	assert_int_equal(infer_calls, 2);
	assert_int_equal(flows.count, 2);
	assert_int_equal(flows.items[0].utid_out, 9);
	assert_int_equal(flows.items[0].ts_out, 95);
	assert_int_equal(flows.items[0].bytes, 4096);
	assert_int_equal(flows.items[1].bytes, 100);
	channel_free(channels);
}

static void late_write_records_settle_attributed_bytes_then_match_exactly(void **state)
{
	struct flows flows = {0};
	struct channels *channels = channel_new(collect, &flows);
	infer_calls = 0;
	channel_set_infer(channels, infer_counted);
	/* A read seen just before the write record that fed it. */
	assert_int_equal(channel_read(channels, 7, 100, 2, 50), 0);
	assert_int_equal(channel_write(channels, 7, 101, 1, 80), 0); /* 50 settled, 30 left */
	assert_int_equal(channel_read(channels, 7, 110, 2, 30), 0);
	assert_int_equal(infer_calls, 1); /* writes seen: no more inference */
	assert_int_equal(flows.count, 2);
	assert_int_equal(flows.items[1].utid_out, 1);
	assert_int_equal(flows.items[1].ts_out, 101);
	assert_int_equal(flows.items[1].bytes, 30);
	/* Nothing is left over from the settled write. */
	assert_int_equal(channel_read(channels, 7, 120, 2, 10), 0);
	assert_int_equal(flows.count, 2);
	channel_free(channels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_read_flows_from_the_write_that_completed_it),
	    cmocka_unit_test(a_read_seen_before_its_write_waits_for_it),
	    cmocka_unit_test(unread_writes_are_forgotten_beyond_the_backlog),
	    cmocka_unit_test(reads_from_a_writer_never_seen_are_attributed_at_once),
	    cmocka_unit_test(late_write_records_settle_attributed_bytes_then_match_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
