/* The SQL guard (daemon/sqlguard.c) on a connection that COULD write (an
 * in-memory database): everything but reading is refused by the guard
 * itself, and the data is unchanged afterwards. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sqlguard.h"

static int setup(void **state)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE thread(utid INTEGER PRIMARY KEY, name TEXT);"
				      "INSERT INTO thread VALUES (1, 'main'), (2, 'worker');"
				      "CREATE VIEW v AS SELECT name FROM thread;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	sqlite3_close(*state);
	return 0;
}

static int run(sqlite3 *db, const char *sql, char *err, char **out)
{
	struct json j;
	json_init(&j);
	int rc = sqlguard_run(db, sql, 1000, 2000, &j, err, 256);
	char *text = json_take(&j, NULL);
	if (out)
		*out = text;
	else
		free(text);
	return rc;
}

static int count_threads(sqlite3 *db)
{
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM thread", -1, &s, NULL);
	sqlite3_step(s);
	int n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void select_returns_columns_and_rows(void **state)
{
	char err[256], *out;
	assert_int_equal(run(*state, "SELECT utid, name FROM thread ORDER BY utid", err, &out), 0);
	assert_non_null(strstr(out, "\"columns\":[\"utid\",\"name\"]"));
	assert_non_null(strstr(out, "\"rows\":[[1,\"main\"],[2,\"worker\"]]"));
	assert_non_null(strstr(out, "\"row_count\":2"));
	assert_non_null(strstr(out, "\"truncated\":false"));
	free(out);
}

static void recursive_ctes_views_and_functions_are_allowed(void **state)
{
	char err[256];
	assert_int_equal(run(*state,
			     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
			     "WHERE x < 10) SELECT sum(x), upper('a'), json_array(1) FROM c",
			     err, NULL),
			 0);
	assert_int_equal(run(*state, "SELECT * FROM v", err, NULL), 0);
	assert_int_equal(run(*state, "  SELECT 1; -- a comment\n /* another */ ;", err, NULL), 0);
}

static void writes_are_refused_and_change_nothing(void **state)
{
	const char *writes[] = {
	    "INSERT INTO thread VALUES (3, 'x')",
	    "UPDATE thread SET name = 'x'",
	    "DELETE FROM thread",
	    "REPLACE INTO thread VALUES (1, 'x')",
	    "DROP TABLE thread",
	    "DROP VIEW v",
	    "CREATE TABLE t(x)",
	    "CREATE TEMP TABLE t(x)",
	    "CREATE INDEX i ON thread(name)",
	    "ALTER TABLE thread ADD COLUMN y",
	    "BEGIN",
	    "SAVEPOINT s",
	    "VACUUM",
	    "REINDEX",
	    "ANALYZE",
	    "WITH c AS (SELECT 1) INSERT INTO thread SELECT 9, 'x' FROM c",
	};
	char err[256];
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		int rc = run(*state, writes[i], err, NULL);
		assert_true(rc == -EPERM || rc == -EINVAL);
		assert_non_null(strstr(err, "not authorized") ? err : strstr(err, "only"));
	}
	assert_int_equal(count_threads(*state), 2);
}

static void attach_and_detach_are_refused(void **state)
{
	char err[256];
	assert_int_equal(run(*state, "ATTACH DATABASE ':memory:' AS other", err, NULL), -EPERM);
	assert_non_null(strstr(err, "ATTACH"));
	assert_int_equal(run(*state, "DETACH DATABASE main", err, NULL), -EPERM);
}

static void pragmas_are_refused_except_introspection(void **state)
{
	char err[256];
	assert_int_equal(run(*state, "PRAGMA journal_mode = DELETE", err, NULL), -EPERM);
	assert_non_null(strstr(err, "PRAGMA journal_mode"));
	assert_int_equal(run(*state, "PRAGMA user_version = 7", err, NULL), -EPERM);
	assert_int_equal(run(*state, "PRAGMA writable_schema = ON", err, NULL), -EPERM);
	assert_int_equal(run(*state, "PRAGMA table_info(thread)", err, NULL), 0);
	assert_int_equal(run(*state, "SELECT name FROM pragma_table_info('thread')", err, NULL), 0);
	assert_int_equal(run(*state, "PRAGMA user_version", err, NULL), 0);
}

static void load_extension_is_refused(void **state)
{
	char err[256];
	assert_int_equal(run(*state, "SELECT load_extension('/tmp/evil.so')", err, NULL), -EPERM);
	assert_non_null(strstr(err, "load_extension"));
}

static void trailing_statements_are_refused(void **state)
{
	char err[256];
	assert_int_equal(run(*state, "SELECT 1; DELETE FROM thread", err, NULL), -EINVAL);
	assert_non_null(strstr(err, "only one statement"));
	assert_int_equal(run(*state, "SELECT 1; SELECT 2", err, NULL), -EINVAL);
	assert_int_equal(count_threads(*state), 2);
}

static void empty_and_broken_sql_give_sqlite_messages(void **state)
{
	char err[256];
	assert_int_equal(run(*state, "   ", err, NULL), -EINVAL);
	assert_int_equal(run(*state, "SELEC 1", err, NULL), -EINVAL);
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(run(*state, "SELECT nope FROM thread", err, NULL), -EINVAL);
	assert_non_null(strstr(err, "no such column"));
}

static void rows_stop_at_the_limit(void **state)
{
	struct json j;
	char err[256];
	json_init(&j);
	assert_int_equal(
	    sqlguard_run(*state,
			 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM "
			 "c) SELECT x FROM c",
			 5, 2000, &j, err, sizeof(err)),
	    0);
	char *out = json_take(&j, NULL);
	assert_non_null(strstr(out, "\"rows\":[[1],[2],[3],[4],[5]]"));
	assert_non_null(strstr(out, "\"truncated\":true"));
	free(out);
}

static void long_queries_are_interrupted(void **state)
{
	struct json j;
	char err[256];
	json_init(&j);
	assert_int_equal(
	    sqlguard_run(*state,
			 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM "
			 "c) SELECT count(*) FROM c",
			 10, 100, &j, err, sizeof(err)),
	    -EINTR);
	assert_string_equal(err, "query interrupted after 100 ms");
	json_free(&j);
	/* the guard is gone afterwards: the connection works normally */
	assert_int_equal(sqlite3_exec(*state, "CREATE TABLE after_guard(x)", NULL, NULL, NULL),
			 SQLITE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(select_returns_columns_and_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(recursive_ctes_views_and_functions_are_allowed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(writes_are_refused_and_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(attach_and_detach_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(pragmas_are_refused_except_introspection, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(load_extension_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(trailing_statements_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_and_broken_sql_give_sqlite_messages, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rows_stop_at_the_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(long_queries_are_interrupted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
