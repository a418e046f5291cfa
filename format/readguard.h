/*
 * readguard.h — the rules that keep user SQL on a trace to reading, shared
 * by weftd's SQL console (daemon/sqlguard.c) and `weft query`:
 *   - an authorizer (readguard_authorize, with a struct readguard as its
 *     user data) allows SELECT, reads, recursive CTEs, functions other than
 *     load_extension/readfile/writefile/edit/fts3_tokenizer/sqlite_dbpage
 *     and the pragmas that only describe the schema; it denies ATTACH,
 *     DETACH, every write, DDL, transactions and every other pragma, and
 *     remembers the first thing it refused (SQLite only says "not
 *     authorized");
 *   - a statement must also start like a read (readguard_starts_like_a_read:
 *     SELECT, WITH, VALUES, PRAGMA, EXPLAIN), so VACUUM INTO and REINDEX,
 *     which SQLite calls read-only, are refused.
 * The connection itself is opened read-only by the caller.
 */
#ifndef WEFT_READGUARD_H
#define WEFT_READGUARD_H

struct readguard {
	char refused[96]; /* the first thing refused, "" when none */
};

/* SQLite's authorizer callback (sqlite3_set_authorizer); data is a struct
 * readguard. Returns SQLITE_OK or SQLITE_DENY. */
int readguard_authorize(void *data, int action, const char *arg1, const char *arg2,
			const char *dbname, const char *trigger);

/* s past whitespace and SQL comments. */
const char *readguard_skip_space(const char *s);

/* 1 when sql (after space and comments) starts with a reading keyword. */
int readguard_starts_like_a_read(const char *sql);

#endif
