/*
 * test_collect_decode.c — decoding record fields: argv payloads, string
 * payloads, wait statuses, and the objects a thread blocks on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "decode.h"

/* A record with payload, as the ring holds it (padded to 8 bytes). */
struct record {
	struct weft_event head;
	uint8_t payload[256];
};

static void make_record(struct record *record, unsigned type, const void *payload, size_t len)
{
	memset(record, 0, sizeof *record);
	record->head.type = (uint16_t)type;
	record->head.size = (uint32_t)((WEFT_EVENT_HEADER_SIZE + len + 7) & ~7u);
	memcpy(record->payload, payload, len);
}

static void argv_becomes_name_and_space_joined_cmdline(void **state)
{
	static const char argv[] = "/usr/bin/grep\0-c\0a b\0";
	struct record record;
	make_record(&record, WEFT_EV_PROC_START, argv, sizeof argv - 1);
	size_t len;
	const uint8_t *payload = decode_payload(&record.head, &len);
	char cmdline[64], name[16];
	assert_int_equal(decode_argv(payload, len, cmdline, sizeof cmdline, name, sizeof name), 3);
	assert_string_equal(name, "grep");
	assert_string_equal(cmdline, "/usr/bin/grep -c a b");
}

static void empty_arguments_are_kept_and_padding_is_not(void **state)
{
	static const char argv[] = "sh\0\0x\0"; /* sh "" x */
	struct record record;
	make_record(&record, WEFT_EV_PROC_START, argv, sizeof argv - 1);
	size_t len;
	const uint8_t *payload = decode_payload(&record.head, &len);
	char cmdline[64];
	assert_int_equal(decode_argv(payload, len, cmdline, sizeof cmdline, NULL, 0), 3);
	assert_string_equal(cmdline, "sh  x");
}

static void truncated_argv_is_cut_not_overrun(void **state)
{
	static const char argv[] = "prog\0aaaaaaaaaaaaaaaa"; /* no final NUL */
	char cmdline[12], name[3];
	assert_int_equal(decode_argv((const uint8_t *)argv, sizeof argv - 1, cmdline,
				     sizeof cmdline, name, sizeof name),
			 2);
	assert_string_equal(cmdline, "prog aaaaaa");
	assert_string_equal(name, "pr");
}

static void record_without_payload_decodes_to_nothing(void **state)
{
	struct weft_event event = {.size = WEFT_EVENT_HEADER_SIZE, .type = WEFT_EV_THREAD_NAME};
	size_t len = 99;
	assert_null(decode_payload(&event, &len));
	assert_int_equal(len, 0);
	char name[8] = "junk";
	assert_int_equal(decode_string(&event, name, sizeof name), 0);
	assert_string_equal(name, "");
}

static void thread_name_is_bounded_by_the_buffer(void **state)
{
	struct record record;
	make_record(&record, WEFT_EV_THREAD_NAME, "cashier-1\0", 10);
	char name[6];
	assert_int_equal(decode_string(&record.head, name, sizeof name), 5);
	assert_string_equal(name, "cashi");
}

static void wait_status_gives_code_or_signal(void **state)
{
	int code, signal;
	assert_int_equal(decode_wait_status(3 << 8, &code, &signal), 0);
	assert_int_equal(code, 3);
	assert_int_equal(signal, -1);
	assert_int_equal(decode_wait_status(SIGKILL, &code, &signal), 0);
	assert_int_equal(code, -1);
	assert_int_equal(signal, SIGKILL);
	assert_int_equal(decode_wait_status(0x137f, &code, &signal), -EINVAL); /* stopped */
}

static void blocking_objects_have_kinds_and_labels(void **state)
{
	uint64_t address;
	char label[64];
	assert_string_equal(decode_object(WEFT_REASON_MUTEX, 0x7f12a0, 42, &address), "mutex");
	assert_int_equal(address, 0x7f12a0);
	decode_object_label("mutex", address, label, sizeof label);
	assert_string_equal(label, "mutex 0x7f12a0");
	assert_string_equal(decode_object(WEFT_REASON_IO, 3, 0, &address), "fd");
	decode_object_label("fd", address, label, sizeof label);
	assert_string_equal(label, "fd 3");
	assert_string_equal(decode_object(WEFT_REASON_JOIN, 0x7f00, 1234, &address), "thread");
	assert_int_equal(address, 1234);
	assert_null(decode_object(WEFT_REASON_SLEEP, 0, 1000, &address));
	assert_null(decode_object(WEFT_REASON_COND, 0, 0, &address));
	assert_null(decode_object(WEFT_REASON_WAIT, (uint64_t)-1, 0, &address));
	assert_string_equal(decode_basename("/usr/bin/ls"), "ls");
	assert_string_equal(decode_basename("ls"), "ls");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(argv_becomes_name_and_space_joined_cmdline),
	    cmocka_unit_test(empty_arguments_are_kept_and_padding_is_not),
	    cmocka_unit_test(truncated_argv_is_cut_not_overrun),
	    cmocka_unit_test(record_without_payload_decodes_to_nothing),
	    cmocka_unit_test(thread_name_is_bounded_by_the_buffer),
	    cmocka_unit_test(wait_status_gives_code_or_signal),
	    cmocka_unit_test(blocking_objects_have_kinds_and_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
