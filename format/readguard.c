/*
 * readguard.c — see readguard.h.
 */
#include "readguard.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int readguard_authorize(void *data, int action, const char *arg1, const char *arg2,
			const char *dbname, const char *trigger)
{
	struct readguard *g = data;
	(void)dbname;
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

const char *readguard_skip_space(const char *s)
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

int readguard_starts_like_a_read(const char *sql)
{
	static const char *const keywords[] = {"SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN"};
	sql = readguard_skip_space(sql);
	for (size_t i = 0; i < COUNT(keywords); i++) {
		size_t n = strlen(keywords[i]);
		if (strncasecmp(sql, keywords[i], n) == 0 &&
		    !((sql[n] >= 'a' && sql[n] <= 'z') || (sql[n] >= 'A' && sql[n] <= 'Z') ||
		      (sql[n] >= '0' && sql[n] <= '9') || sql[n] == '_'))
			return 1;
	}
	return 0;
}
