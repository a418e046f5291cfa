/* What the served directory remembers about files that are not traces
 * (daemon/skipped.c): a file is tried again only when it changes, each
 * reason is news once, files being created are kept quiet, and files that
 * are gone are forgotten. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "skipped.h"

static char dir[] = "/tmp/weft-skipped-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void count(void *ctx, const char *path, const char *error, int64_t bytes)
{
	(*(int *)ctx)++;
}

static void a_file_is_tried_again_only_when_it_changes(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/junk.db", dir);
	write_file(path, "not sqlite");
	struct skipped *s = skipped_new();
	struct skipped_key key;
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_false(skipped_same(s, path, &key));
	assert_int_equal(skipped_put(s, path, &key, "is not a weft trace", 0), 1);
	assert_true(skipped_same(s, path, &key));
	/* the same reason again is no news; another one is */
	assert_int_equal(skipped_put(s, path, &key, "is not a weft trace", 0), 0);
	assert_int_equal(skipped_put(s, path, &key, "cannot open", 0), 1);
	write_file(path, "not sqlite either");
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_false(skipped_same(s, path, &key));
	int n = 0;
	skipped_each(s, count, &n);
	assert_int_equal(n, 1);
	skipped_remove(s, path);
	n = 0;
	skipped_each(s, count, &n);
	assert_int_equal(n, 0);
	unlink(path);
	skipped_free(s);
}

static void a_file_being_created_is_kept_quiet(void **state)
{
	char path[64], wal[72];
	snprintf(path, sizeof(path), "%s/rec.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	write_file(path, "");
	struct skipped *s = skipped_new();
	struct skipped_key key;
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_true(skipped_in_progress(path, &key)); /* empty */
	assert_int_equal(skipped_put(s, path, &key, "is not a weft trace", 1), 0);
	int n = 0;
	skipped_each(s, count, &n);
	assert_int_equal(n, 0);
	write_file(path, "some bytes");
	write_file(wal, "frames");
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_true(skipped_in_progress(path, &key)); /* a -wal beside it */
	unlink(wal);
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_false(skipped_in_progress(path, &key));
	/* once it stays broken, that is news */
	assert_int_equal(skipped_put(s, path, &key, "is not a weft trace", 0), 1);
	skipped_each(s, count, &n);
	assert_int_equal(n, 1);
	unlink(path);
	skipped_free(s);
}

static void files_that_are_gone_are_forgotten(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/gone.db", dir);
	write_file(path, "x");
	struct skipped *s = skipped_new();
	struct skipped_key key;
	assert_int_equal(skipped_key_of(path, &key), 0);
	assert_int_equal(skipped_put(s, path, &key, "is not a weft trace", 0), 1);
	unlink(path);
	assert_int_equal(skipped_key_of(path, &key), -ENOENT);
	skipped_prune(s);
	int n = 0;
	skipped_each(s, count, &n);
	assert_int_equal(n, 0);
	skipped_free(s);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_file_is_tried_again_only_when_it_changes),
	    cmocka_unit_test(a_file_being_created_is_kept_quiet),
	    cmocka_unit_test(files_that_are_gone_are_forgotten),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
