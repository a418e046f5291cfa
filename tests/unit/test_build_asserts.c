/*
 * test_build_asserts.c — the project's assert()s are compiled in where the
 * tests run: a build that defines NDEBUG for its own code (CMake's default
 * RelWithDebInfo flags do) would check no invariant while the tests pass.
 * This file is compiled with the same flags as the rest of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_ndebug_is_not_defined(void **state)
{
#ifdef NDEBUG
	fail_msg("NDEBUG is defined: assert() checks nothing in this build");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ndebug_is_not_defined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
