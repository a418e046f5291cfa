/* The collector socket's request line and trace names (daemon/handshake.c):
 * what weftd accepts from a preloaded program, and the file names it gives
 * the recordings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handshake.h"

static int parse(const char *line, struct handshake_request *req)
{
	return handshake_parse(line, strlen(line), req);
}

static void a_well_formed_line_gives_pid_and_comm(void **state)
{
	struct handshake_request req;
	assert_int_equal(parse("weft 1 4242 grep\n", &req), 0);
	assert_int_equal(req.version, 1);
	assert_int_equal(req.pid, 4242);
	assert_string_equal(req.comm, "grep");
	/* the newline is optional for the parser (the socket reads up to it) */
	assert_int_equal(parse("weft 1 7 sh", &req), 0);
	assert_string_equal(req.comm, "sh");
}

static void comm_is_made_safe_for_a_file_name(void **state)
{
	struct handshake_request req;
	assert_int_equal(parse("weft 1 10 kworker/0:1 x\n", &req), 0);
	assert_string_equal(req.comm, "kworker_0_1_x");
	assert_int_equal(parse("weft 1 10 ../../etc\n", &req), 0);
	assert_null(strchr(req.comm, '/'));
	assert_int_not_equal(req.comm[0], '.');
	/* at most 15 bytes, as the kernel's comm */
	assert_int_equal(parse("weft 1 10 abcdefghijklmnopqrstuvwxyz\n", &req), 0);
	assert_string_equal(req.comm, "abcdefghijklmno");
}

static void another_version_is_told_apart_from_garbage(void **state)
{
	struct handshake_request req;
	assert_int_equal(parse("weft 2 10 sh\n", &req), -EPROTONOSUPPORT);
	assert_int_equal(parse("weft 12 10 sh\n", &req), -EPROTONOSUPPORT);
}

static void malformed_lines_are_refused(void **state)
{
	struct handshake_request req;
	const char *bad[] = {"",
			     "\n",
			     "weft\n",
			     "weft 1\n",
			     "weft 1 10\n",
			     "weft 1 10 \n",
			     "WEFT 1 10 sh\n",
			     "weft  1 10 sh\n",
			     "weft 1 0 sh\n",
			     "weft 1 -5 sh\n",
			     "weft 1 010 sh\n",
			     "weft 1 99999999999 sh\n",
			     "weft x 10 sh\n",
			     "weft 1 10x sh\n",
			     "weft 1 10 sh\nmore\n",
			     "GET / HTTP/1.1\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &req);
		if (rc != -EINVAL)
			fail_msg("accepted or misread \"%s\": %d", bad[i], rc);
	}
	char nul[] = "weft 1 10 s\0h\n";
	assert_int_equal(handshake_parse(nul, sizeof(nul) - 1, &req), -EINVAL);
}

static void a_line_longer_than_the_limit_is_refused(void **state)
{
	struct handshake_request req;
	char line[HANDSHAKE_LINE_MAX + 8];
	memset(line, 'a', sizeof(line));
	memcpy(line, "weft 1 10 ", 10);
	line[HANDSHAKE_LINE_MAX - 1] = '\n';
	assert_int_equal(handshake_parse(line, HANDSHAKE_LINE_MAX, &req), 0);
	line[HANDSHAKE_LINE_MAX - 1] = 'a';
	line[HANDSHAKE_LINE_MAX] = '\n';
	assert_int_equal(handshake_parse(line, HANDSHAKE_LINE_MAX + 1, &req), -EINVAL);
}

static void trace_names_carry_comm_pid_and_utc_time(void **state)
{
	struct handshake_request req;
	assert_int_equal(parse("weft 1 321 seq\n", &req), 0);
	char name[64];
	/* 2024-03-05 06:07:08 UTC */
	assert_int_equal(handshake_trace_name(&req, 1709618828, 1, name, sizeof(name)),
			 (int)strlen("seq-321-20240305-060708.db"));
	assert_string_equal(name, "seq-321-20240305-060708.db");
	handshake_trace_name(&req, 1709618828, 3, name, sizeof(name));
	assert_string_equal(name, "seq-321-20240305-060708-3.db");
	assert_int_equal(handshake_trace_name(&req, 1709618828, 1, name, 10), -ENAMETOOLONG);
	assert_string_equal(name, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_well_formed_line_gives_pid_and_comm),
	    cmocka_unit_test(comm_is_made_safe_for_a_file_name),
	    cmocka_unit_test(another_version_is_told_apart_from_garbage),
	    cmocka_unit_test(malformed_lines_are_refused),
	    cmocka_unit_test(a_line_longer_than_the_limit_is_refused),
	    cmocka_unit_test(trace_names_carry_comm_pid_and_utc_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
