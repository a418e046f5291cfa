/* The JSON writer (format/json.c): separators, escaping, invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static char *take(struct json *j)
{
	char *s = json_take(j, NULL);
	assert_non_null(s);
	return s;
}

static void nesting_places_commas_and_colons(void **state)
{
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_i64(&j, 1);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_i64(&j, -2);
	json_null(&j);
	json_bool(&j, true);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_key(&j, "c");
	json_obj_begin(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	char *s = take(&j);
	assert_string_equal(s, "{\"a\":1,\"b\":[-2,null,true,[]],\"c\":{}}");
	free(s);
}

static void integers_cover_the_int64_range(void **state)
{
	struct json j;
	json_init(&j);
	json_arr_begin(&j);
	json_i64(&j, INT64_MIN);
	json_i64(&j, INT64_MAX);
	json_i64(&j, 0);
	json_arr_end(&j);
	char *s = take(&j);
	assert_string_equal(s, "[-9223372036854775808,9223372036854775807,0]");
	free(s);
}

static void strings_escape_quotes_backslashes_and_controls(void **state)
{
	struct json j;
	json_init(&j);
	json_str(&j, "a\"b\\c\nd\te\x01\x7f");
	char *s = take(&j);
	assert_string_equal(s, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\"");
	free(s);
}

static void valid_utf8_passes_and_invalid_becomes_replacement(void **state)
{
	struct json j;
	json_init(&j);
	json_arr_begin(&j);
	json_str(&j, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_str(&j, "\xff\xc3");
	json_str(&j, "\xed\xa0\x80"); /* a UTF-16 surrogate encoded in UTF-8 */
	json_arr_end(&j);
	char *s = take(&j);
	assert_string_equal(s, "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"\\ufffd\\ufffd\","
			       "\"\\ufffd\\ufffd\\ufffd\"]");
	free(s);
}

static void strings_with_nul_keep_their_length(void **state)
{
	struct json j;
	json_init(&j);
	json_strn(&j, "a\0b", 3);
	size_t len;
	char *s = json_take(&j, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(s, "\"a\\u0000b\"", 10);
	free(s);
}

static void null_string_is_json_null(void **state)
{
	struct json j;
	json_init(&j);
	json_str(&j, NULL);
	char *s = take(&j);
	assert_string_equal(s, "null");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nesting_places_commas_and_colons),
	    cmocka_unit_test(integers_cover_the_int64_range),
	    cmocka_unit_test(strings_escape_quotes_backslashes_and_controls),
	    cmocka_unit_test(valid_utf8_passes_and_invalid_becomes_replacement),
	    cmocka_unit_test(strings_with_nul_keep_their_length),
	    cmocka_unit_test(null_string_is_json_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
