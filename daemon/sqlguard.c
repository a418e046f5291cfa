/*
 * sqlguard: see sqlguard.h. The authorizer's verdicts are recorded in a
 * struct readguard on the caller's stack (the authorizer's user data) so that
 * the error message can say what was refused; SQLite itself only says
 * "not authorized".
 */
#include "sqlguard.h"

#include "readguard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int only_space_or_comments(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' ||
		       *s == ';')
			s++;
		if (s[0] == '-' && s[1] == '-') {
			s = strchr(s, '\n');
			if (!s)
				return 1;
		} else if (s[0] == '/' && s[1] == '*') {
			s = strstr(s + 2, "*/");
			if (!s)
				return 1;
			s += 2;
		} else {
			return *s == 0;
		}
	}
}

static int prepare(sqlite3 *db, struct readguard *g, const char *sql, sqlite3_stmt **out, char *err,
		   size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	*out = NULL;
	g->refused[0] = 0;
	sqlite3_set_authorizer(db, readguard_authorize, g);
	int rc = sqlite3_prepare_v3(db, sql, -1, 0, &stmt, &tail);
	if (rc != SQLITE_OK) {
		if (g->refused[0])
			snprintf(err, errlen, "%s (%s)", sqlite3_errmsg(db), g->refused);
		else
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_set_authorizer(db, NULL, NULL);
		return rc == SQLITE_AUTH || g->refused[0] ? -EPERM : -EINVAL;
	}
	if (!stmt) {
		snprintf(err, errlen, "no SQL statement");
		sqlite3_set_authorizer(db, NULL, NULL);
		return -EINVAL;
	}
	if (tail && !only_space_or_comments(tail)) {
		snprintf(err, errlen, "only one statement is allowed (found more after \"%.40s\")",
			 sqlite3_sql(stmt));
		sqlite3_finalize(stmt);
		sqlite3_set_authorizer(db, NULL, NULL);
		return -EINVAL;
	}
	if (!sqlite3_stmt_readonly(stmt) || !readguard_starts_like_a_read(sql)) {
		snprintf(err, errlen, "only statements that read are allowed");
		sqlite3_finalize(stmt);
		sqlite3_set_authorizer(db, NULL, NULL);
		return -EPERM;
	}
	*out = stmt;
	return 0;
}

/* The connection's limits while a guarded query runs. */
struct limits {
	int length, pattern;
};

static void tighten(sqlite3 *db, struct limits *saved)
{
	saved->length = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, SQLGUARD_VALUE_MAX);
	saved->pattern = sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, SQLGUARD_PATTERN_MAX);
}

static void finish(sqlite3 *db, sqlite3_stmt *stmt, const struct limits *saved)
{
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, saved->length);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, saved->pattern);
	sqlite3_finalize(stmt);
	sqlite3_set_authorizer(db, NULL, NULL);
	sqlite3_progress_handler(db, 0, NULL, NULL);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct budget {
	double deadline_ms;
};

static int over_budget(void *data)
{
	const struct budget *b = data;
	return now_ms() > b->deadline_ms;
}

static void write_value(struct json *out, sqlite3_stmt *stmt, int col)
{
	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_INTEGER:
		json_i64(out, sqlite3_column_int64(stmt, col));
		break;
	case SQLITE_FLOAT:
		json_double(out, sqlite3_column_double(stmt, col));
		break;
	case SQLITE_TEXT:
		json_strn(out, (const char *)sqlite3_column_text(stmt, col),
			  (size_t)sqlite3_column_bytes(stmt, col));
		break;
	case SQLITE_BLOB: {
		char tmp[48];
		snprintf(tmp, sizeof(tmp), "<blob %d bytes>", sqlite3_column_bytes(stmt, col));
		json_str(out, tmp);
		break;
	}
	default:
		json_null(out);
	}
}

/* Writes the rows of stmt as arrays until limit rows or
 * SQLGUARD_RESULT_MAX bytes; *truncated says which stopped it (0: none,
 * 1: rows, 2: bytes). Returns sqlite3_step's last result. */
static int write_rows(sqlite3_stmt *stmt, int64_t limit, struct json *out, int64_t *rows,
		      int *truncated)
{
	int rc, ncol = sqlite3_column_count(stmt);
	*rows = 0;
	*truncated = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*rows == limit || out->len > SQLGUARD_RESULT_MAX) {
			*truncated = *rows == limit ? 1 : 2;
			break;
		}
		json_arr_begin(out);
		for (int c = 0; c < ncol; c++)
			write_value(out, stmt, c);
		json_arr_end(out);
		(*rows)++;
	}
	return rc;
}

/* The error of a step that failed, into err; returns -errno. */
static int step_error(sqlite3 *db, int rc, int budget_ms, char *err, size_t errlen)
{
	if (rc == SQLITE_INTERRUPT) {
		snprintf(err, errlen, "query interrupted after %d ms", budget_ms);
		return -EINTR;
	}
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	if (rc == SQLITE_NOMEM)
		snprintf(err, errlen, "out of memory: the query needs more than weftd gives SQL");
	return rc == SQLITE_AUTH ? -EPERM : -EIO;
}

int sqlguard_run(sqlite3 *db, const char *sql, int64_t limit, int budget_ms, struct json *out,
		 char *err, size_t errlen)
{
	struct readguard g;
	struct limits saved;
	sqlite3_stmt *stmt;
	double t0 = now_ms();
	tighten(db, &saved);
	int rc = prepare(db, &g, sql, &stmt, err, errlen);
	if (rc < 0) {
		finish(db, NULL, &saved);
		return rc;
	}
	struct budget b = {.deadline_ms = t0 + budget_ms};
	sqlite3_progress_handler(db, 1000, over_budget, &b);

	int ncol = sqlite3_column_count(stmt);
	json_obj_begin(out);
	json_key(out, "columns");
	json_arr_begin(out);
	for (int c = 0; c < ncol; c++)
		json_str(out, sqlite3_column_name(stmt, c));
	json_arr_end(out);
	json_key(out, "rows");
	json_arr_begin(out);
	int64_t rows;
	int truncated;
	rc = write_rows(stmt, limit, out, &rows, &truncated);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = step_error(db, rc, budget_ms, err, errlen);
		finish(db, stmt, &saved);
		return rc;
	}
	json_arr_end(out);
	json_key(out, "row_count");
	json_i64(out, rows);
	json_key(out, "truncated");
	json_bool(out, truncated);
	if (truncated) {
		char note[96];
		if (truncated == 1)
			snprintf(note, sizeof(note), "result truncated at %lld rows",
				 (long long)rows);
		else
			snprintf(note, sizeof(note), "result truncated at %zu bytes (%lld rows)",
				 out->len, (long long)rows);
		json_key(out, "note");
		json_str(out, note);
	}
	json_key(out, "elapsed_ms");
	char elapsed[32];
	int n = snprintf(elapsed, sizeof(elapsed), "%.3f", now_ms() - t0);
	json_raw(out, elapsed, (size_t)n);
	json_obj_end(out);
	finish(db, stmt, &saved);
	return 0;
}
