/*
 * fuzz_request: libFuzzer target over what a client controls in a request:
 * the query-string parameters (param_*), the SQL body (param_sql_body) and
 * the SQL itself (sqlguard_run).
 *
 * Input layout: the first byte picks what to feed, the rest is the value.
 * The SQL guard runs against an in-memory copy of the weft schema that
 * could be written; after every query the fuzzer checks that nothing was:
 * the row counts and the schema must be exactly as before (abort
 * otherwise, which libFuzzer reports as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "param.h"
#include "sqlguard.h"

extern const char weft_embed__001_schema_sql[];

static sqlite3 *db;

static int64_t fingerprint(void)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM thread_state) * 1000003 + "
			       "(SELECT count(*) FROM meta) * 1009 + "
			       "(SELECT count(*) FROM sqlite_schema) + "
			       "(SELECT total(length(sql)) FROM sqlite_schema) * 7",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int64_t expected;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, weft_embed__001_schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(
		db,
		"INSERT INTO meta VALUES ('schema_version', '1');"
		"INSERT INTO process(upid, pid, name) VALUES (1, 10, 'sh');"
		"INSERT INTO thread(utid, tid, upid, name) VALUES (1, 10, 1, 'sh');"
		"INSERT INTO thread_state(utid, ts, dur, state) VALUES (1, 0, 5, 'Running');",
		NULL, NULL, NULL) != SQLITE_OK)
		abort();
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
	expected = fingerprint();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	char err[512];
	int64_t v, *ids;
	size_t n;
	struct param_window w;
	switch (data[0] % 5) {
	case 0:
		param_i64(text, &v);
		break;
	case 1: {
		/* "start end px" split on spaces */
		char *a = text, *b = strchr(a, ' '), *c = NULL;
		if (b) {
			*b++ = 0;
			c = strchr(b, ' ');
			if (c)
				*c++ = 0;
		}
		if (param_window(a, b, c, 1, &w, err, sizeof(err)) == 0 &&
		    (w.start >= w.end || w.px < 1 || w.px > PARAM_PX_MAX))
			abort();
		break;
	}
	case 2:
		if (param_id_list("utids", text, &ids, &n, err, sizeof(err)) == 0)
			free(ids);
		break;
	case 3: {
		char *sql;
		int64_t limit = 0;
		if (param_sql_body((const char *)data + 1, size - 1, &sql, &limit, err,
				   sizeof(err)) == 0) {
			if (strlen(sql) > size)
				abort();
			free(sql);
		}
		break;
	}
	default: {
		struct json j;
		json_init(&j);
		sqlguard_run(db, text, 100, 50, &j, err, sizeof(err));
		json_free(&j);
		if (fingerprint() != expected)
			abort(); /* the guard let a write through */
		break;
	}
	}
	free(text);
	return 0;
}
