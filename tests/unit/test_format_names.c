/*
 * test_format_names.c — the one table of state and reason names
 * (format/names.h) is what every part says: the recorder's span states and
 * ring reasons name themselves through it or agree with it entry by entry,
 * the overview numbers states as it does, and the dashboard's legend
 * (web/states.js) lists exactly its states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "names.h"
#include "overview.h"
#include "span.h"

static void test_names_are_the_design_names_in_order(void **state)
{
	static const char *const states[] = {"New",	"Running",   "Ready",	  "Blocked",
					     "Waiting", "Suspended", "Terminated"};
	static const char *const reasons[] = {"mutex",	 "rwlock", "cond",  "sem",
					      "barrier", "join",   "sleep", "io",
					      "poll",	 "wait",   "futex", "other",
					      "signal"};
	for (int i = 0; i < NAMES_STATE_COUNT; i++) {
		assert_string_equal(names_states[i], states[i]);
		assert_int_equal(names_state_index(states[i]), i);
	}
	for (int i = 0; i < NAMES_REASON_COUNT; i++) {
		assert_string_equal(names_reasons[i], reasons[i]);
		assert_int_equal(names_reason_index(reasons[i]), i);
	}
	assert_int_equal(names_kind_index("process"), 1);
	assert_int_equal(names_state_index("Sleeping"), -1);
	assert_int_equal(names_reason_index(NULL), -1);
}

static void test_span_states_are_named_by_the_table(void **state)
{
	assert_null(span_state_name(SPAN_NONE));
	for (int s = SPAN_NEW; s <= SPAN_SUSPENDED; s++)
		assert_ptr_equal(span_state_name((enum span_state)s), names_states[s - 1]);
}

static void test_ring_reasons_agree_with_the_table(void **state)
{
	assert_null(weft_reason_name(WEFT_REASON_NONE));
	assert_int_equal(WEFT_REASON_COUNT, NAMES_REASON_COUNT + 1);
	for (unsigned r = WEFT_REASON_MUTEX; r < WEFT_REASON_COUNT; r++)
		assert_string_equal(weft_reason_name(r), names_reasons[r - 1]);
}

static void test_overview_numbers_states_as_the_table(void **state)
{
	assert_ptr_equal(overview_state_names, names_states);
	assert_ptr_equal(overview_reason_names, names_reasons);
	assert_ptr_equal(overview_kind_names, names_kinds);
	assert_int_equal(OVERVIEW_STATE_COUNT, NAMES_STATE_COUNT);
	assert_int_equal(OVERVIEW_REASON_COUNT, NAMES_REASON_COUNT);
}

/* web/states.js: STATE_ORDER, the legend's states (in life-cycle order,
 * which is not the table's), must be the table's states, each once. */
static void test_dashboard_legend_lists_the_table_states(void **state)
{
	FILE *file = fopen(WEFT_WEB_DIR "/states.js", "r");
	assert_non_null(file);
	char line[1024];
	char *order = NULL;
	while (fgets(line, sizeof line, file))
		if ((order = strstr(line, "STATE_ORDER = [")))
			break;
	fclose(file);
	assert_non_null(order);
	int seen[NAMES_STATE_COUNT] = {0};
	int count = 0;
	for (char *quote = strchr(order, '\''); quote; quote = strchr(quote, '\'')) {
		char *end = strchr(quote + 1, '\'');
		assert_non_null(end);
		*end = '\0';
		int index = names_state_index(quote + 1);
		assert_true(index >= 0);
		seen[index]++;
		count++;
		quote = end + 1;
	}
	assert_int_equal(count, NAMES_STATE_COUNT);
	for (int i = 0; i < NAMES_STATE_COUNT; i++)
		assert_int_equal(seen[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_are_the_design_names_in_order),
	    cmocka_unit_test(test_span_states_are_named_by_the_table),
	    cmocka_unit_test(test_ring_reasons_agree_with_the_table),
	    cmocka_unit_test(test_overview_numbers_states_as_the_table),
	    cmocka_unit_test(test_dashboard_legend_lists_the_table_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
