/*
 * sqlguard: see sqlguard.h. The authorizer's verdicts are recorded in a
 * struct guard on the caller's stack (the authorizer's user data) so that
 * the error message can say what was refused; SQLite itself only says
 * "not authorized".
 */
#include "sqlguard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct guard {
	char refused[96]; /* the first thing the authorizer refused */
};

#define REFUSE(g, ...)                                                                             \
	do {                                                                                       \
		if (!(g)->refused[0])                                                              \
			snprintf((g)->refused, sizeof((g)->refused), __VA_ARGS__);                 \
	} while (0)

static const char *const denied_functions[] = {
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage",
};

/* Pragmas that only describe the schema; allowed with any argument. */
static const char *const introspection_pragmas[] = {
    "table_info",    "table_xinfo", "table_list",	"index_list",
    "index_info",    "index_xinfo", "foreign_key_list", "collation_list",
    "function_list", "module_list", "pragma_list",
};

/* Pragmas that are harmless when only read (no argument). */
static const char *const readable_pragmas[] = {
    "user_version", "schema_version", "application_id", "page_count",
    "page_size",    "encoding",	      "freelist_count", "data_version",
};

static int in_list(const char *name, const char *const *list, size_t n)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *action_name(int action)
{
	switch (action) {
	case SQLITE_INSERT:
		return "INSERT";
	case SQLITE_UPDATE:
		return "UPDATE";
	case SQLITE_DELETE:
		return "DELETE";
	case SQLITE_ATTACH:
		return "ATTACH";
	case SQLITE_DETACH:
		return "DETACH";
	case SQLITE_TRANSACTION:
		return "transactions";
	case SQLITE_SAVEPOINT:
		return "SAVEPOINT";
	case SQLITE_ALTER_TABLE:
		return "ALTER TABLE";
	case SQLITE_REINDEX:
		return "REINDEX";
	case SQLITE_ANALYZE:
		return "ANALYZE";
	case SQLITE_CREATE_VTABLE:
	case SQLITE_CREATE_INDEX:
	case SQLITE_CREATE_TABLE:
	case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_CREATE_TRIGGER:
	case SQLITE_CREATE_VIEW:
		return "CREATE";
	case SQLITE_DROP_INDEX:
	case SQLITE_DROP_TABLE:
	case SQLITE_DROP_TEMP_INDEX:
	case SQLITE_DROP_TEMP_TABLE:
	case SQLITE_DROP_TEMP_TRIGGER:
	case SQLITE_DROP_TEMP_VIEW:
	case SQLITE_DROP_TRIGGER:
	case SQLITE_DROP_VIEW:
	case SQLITE_DROP_VTABLE:
		return "DROP";
	default:
		return "this statement";
	}
}

static int authorize(void *data, int action, const char *arg1, const char *arg2, const char *dbname,
		     const char *trigger)
{
	struct guard *g = data;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (in_list(arg2, denied_functions, COUNT(denied_functions))) {
			REFUSE(g, "function %s is not allowed", arg2);
			return SQLITE_DENY;
		}
		return SQLITE_OK;
	case SQLITE_UPDATE:
		/* SQLite itself asks this while setting up a table-valued pragma
		 * function (pragma_table_info) on a fresh connection; a user's
		 * UPDATE of sqlite_master is still refused by the checks after
		 * prepare (not a read, not read-only) and by the read-only
		 * connection. */
		if (arg1 && strcmp(arg1, "sqlite_master") == 0 && !trigger)
			return SQLITE_OK;
		REFUSE(g, "UPDATE is not allowed: the trace is read-only");
		return SQLITE_DENY;
	case SQLITE_PRAGMA:
		if (in_list(arg1, introspection_pragmas, COUNT(introspection_pragmas)))
			return SQLITE_OK;
		if (!arg2 && in_list(arg1, readable_pragmas, COUNT(readable_pragmas)))
			return SQLITE_OK;
		REFUSE(g, "PRAGMA %s is not allowed", arg1 ? arg1 : "");
		return SQLITE_DENY;
	default:
		REFUSE(g, "%s is not allowed: the trace is read-only", action_name(action));
		return SQLITE_DENY;
	}
}

/* Skips whitespace and SQL comments. */
static const char *skip_space_and_comments(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
			s++;
		if (s[0] == '-' && s[1] == '-') {
			const char *nl = strchr(s, '\n');
			if (!nl)
				return s + strlen(s);
			s = nl;
		} else if (s[0] == '/' && s[1] == '*') {
			const char *close = strstr(s + 2, "*/");
			if (!close)
				return s + strlen(s);
			s = close + 2;
		} else {
			return s;
		}
	}
}

/* Statements that read start with one of these keywords; anything else
 * (REINDEX, VACUUM, ...) is refused even if SQLite calls it read-only. */
static int starts_like_a_read(const char *sql)
{
	static const char *const keywords[] = {"SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN"};
	sql = skip_space_and_comments(sql);
	for (size_t i = 0; i < COUNT(keywords); i++) {
		size_t n = strlen(keywords[i]);
		if (strncasecmp(sql, keywords[i], n) == 0 &&
		    !((sql[n] >= 'a' && sql[n] <= 'z') || (sql[n] >= 'A' && sql[n] <= 'Z') ||
		      (sql[n] >= '0' && sql[n] <= '9') || sql[n] == '_'))
			return 1;
	}
	return 0;
}

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

static int prepare(sqlite3 *db, struct guard *g, const char *sql, sqlite3_stmt **out, char *err,
		   size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	*out = NULL;
	g->refused[0] = 0;
	sqlite3_set_authorizer(db, authorize, g);
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
	if (!sqlite3_stmt_readonly(stmt) || !starts_like_a_read(sql)) {
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
	struct guard g;
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
