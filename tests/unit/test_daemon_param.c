/* Request parameter parsing (daemon/param.c): what weftd accepts and the
 * messages it gives for what it refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "param.h"

static void integers_parse_in_full_range(void **state)
{
	int64_t v;
	assert_int_equal(param_i64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(param_i64("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(param_i64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(param_i64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
}

static void integers_refuse_garbage_and_overflow(void **state)
{
	int64_t v;
	const char *bad[] = {"",
			     "-",
			     "+1",
			     " 1",
			     "1 ",
			     "1x",
			     "0x10",
			     "1.5",
			     "1e3",
			     "9223372036854775808",
			     "-9223372036854775809",
			     "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(param_i64(bad[i], &v), -EINVAL);
	assert_int_equal(param_i64(NULL, &v), -EINVAL);
}

static void window_needs_start_before_end(void **state)
{
	struct param_window w;
	char err[128];
	assert_int_equal(param_window("10", "20", "5", 1, &w, err, sizeof(err)), 0);
	assert_true(w.start == 10 && w.end == 20 && w.px == 5);
	assert_int_equal(param_window("20", "20", "5", 1, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "start must be less than end");
	assert_int_equal(param_window("abc", "20", NULL, 0, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "start must be an integer");
	assert_int_equal(param_window("1", NULL, NULL, 0, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "end is required");
}

static void window_beyond_the_time_range_is_refused(void **state)
{
	struct param_window w;
	char err[128];
	const char *min = "-9223372036854775808", *max = "9223372036854775807";
	assert_int_equal(param_window(min, max, "1", 1, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "start must be between -4611686018427387904 and 4611686018427387904");
	assert_int_equal(param_window("0", "4611686018427387905", "1", 1, &w, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "end must be between -4611686018427387904 and 4611686018427387904");
	assert_int_equal(param_window("-4611686018427387904", "4611686018427387904", "1", 1, &w,
				      err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the window must be at most 4611686018427387904 ns wide");
	/* the widest window allowed is fine, and so is its width */
	assert_int_equal(param_window("-1", "4611686018427387903", "1", 1, &w, err, sizeof(err)),
			 0);
	assert_true(w.end - w.start == (int64_t)1 << 62);
}

static void an_empty_window_is_allowed_only_where_asked(void **state)
{
	struct param_window w;
	char err[128];
	assert_int_equal(param_window_or_empty("0", "0", &w, err, sizeof(err)), 0);
	assert_true(w.start == 0 && w.end == 0 && w.px == 0);
	assert_int_equal(param_window_or_empty("5", "4", &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "start must be less than end");
	assert_int_equal(param_window("0", "0", NULL, 0, &w, err, sizeof(err)), -EINVAL);
}

static void px_must_be_in_range(void **state)
{
	struct param_window w;
	char err[128];
	assert_int_equal(param_window("0", "10", "0", 1, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "px must be between 1 and 10000");
	assert_int_equal(param_window("0", "10", "10001", 1, &w, err, sizeof(err)), -EINVAL);
	assert_int_equal(param_window("0", "10", "10000", 1, &w, err, sizeof(err)), 0);
	assert_int_equal(param_window("0", "10", NULL, 1, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "px is required");
}

static void id_lists_parse_and_refuse_empty_items(void **state)
{
	int64_t *ids;
	size_t n;
	char err[128];
	assert_int_equal(param_id_list("utids", "1,22,333", &ids, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_true(ids[0] == 1 && ids[1] == 22 && ids[2] == 333);
	free(ids);
	assert_int_equal(param_id_list("utids", NULL, &ids, &n, err, sizeof(err)), 0);
	assert_null(ids);
	assert_int_equal(n, 0);
	const char *bad[] = {"", ",", "1,", ",1", "1,,2", "a", "1;2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(param_id_list("utids", bad[i], &ids, &n, err, sizeof(err)),
				 -EINVAL);
		assert_null(ids);
	}
	assert_string_equal(err, "utids must be a comma-separated list of integers");
}

static void limit_defaults_and_bounds(void **state)
{
	int64_t v;
	char err[128];
	assert_int_equal(param_limit(NULL, 1000, 100000, &v, err, sizeof(err)), 0);
	assert_true(v == 1000);
	assert_int_equal(param_limit("100001", 1000, 100000, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(param_limit("0", 1000, 100000, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(param_limit("5", 1000, 100000, &v, err, sizeof(err)), 0);
	assert_true(v == 5);
}

static void sql_body_reads_sql_and_limit(void **state)
{
	char *sql;
	int64_t limit = 1000;
	char err[128];
	const char *body =
	    "{\"other\": [1, {\"x\": null}], \"sql\": \"SELECT \\\"a\\\"\\n\\u00e9\","
	    " \"limit\": 7}";
	assert_int_equal(param_sql_body(body, strlen(body), &sql, &limit, err, sizeof(err)), 0);
	assert_string_equal(sql, "SELECT \"a\"\n\xc3\xa9");
	assert_true(limit == 7);
	free(sql);
}

static void sql_body_may_be_plain_sql(void **state)
{
	char *sql;
	int64_t limit = 1000;
	char err[128];
	assert_int_equal(param_sql_body("SELECT 1", 8, &sql, &limit, err, sizeof(err)), 0);
	assert_string_equal(sql, "SELECT 1");
	assert_true(limit == 1000);
	free(sql);
}

static void sql_body_refuses_broken_json(void **state)
{
	char *sql;
	int64_t limit = 0;
	char err[128];
	const char *bad[] = {"{",
			     "{\"sql\": 1}",
			     "{\"sql\": \"x\"",
			     "{\"sql\": \"x\"} trailing",
			     "{\"limit\": 5}",
			     "{\"sql\": \"\\u0000\"}",
			     "{\"sql\": \"\\ud800\"}",
			     "{\"sql\": \"x\", \"limit\": \"5\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    param_sql_body(bad[i], strlen(bad[i]), &sql, &limit, err, sizeof(err)),
		    -EINVAL);
		assert_null(sql);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(integers_parse_in_full_range),
	    cmocka_unit_test(integers_refuse_garbage_and_overflow),
	    cmocka_unit_test(window_needs_start_before_end),
	    cmocka_unit_test(window_beyond_the_time_range_is_refused),
	    cmocka_unit_test(an_empty_window_is_allowed_only_where_asked),
	    cmocka_unit_test(px_must_be_in_range),
	    cmocka_unit_test(id_lists_parse_and_refuse_empty_items),
	    cmocka_unit_test(limit_defaults_and_bounds),
	    cmocka_unit_test(sql_body_reads_sql_and_limit),
	    cmocka_unit_test(sql_body_may_be_plain_sql),
	    cmocka_unit_test(sql_body_refuses_broken_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
