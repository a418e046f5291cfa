/*
 * facts.c — reads what `weft report` and `weft diff` show from one trace.
 * Every list is one SQL statement over the trace's tables and views (the
 * match keys of facts.h are made in SQL with window functions), read into a
 * fact_list by the one loop read_list().
 */
#include "facts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "critpath.h"

/* Match keys of threads and of the objects somebody waited on, as TEMP
 * views the statements below join. */
static const char keys_sql[] =
    "CREATE TEMP VIEW IF NOT EXISTS facts_thread AS "
    "SELECT t.utid, COALESCE(p.name, '?') || '/' || COALESCE(t.name, '?') || '#' || "
    "  row_number() OVER (PARTITION BY p.name, t.name ORDER BY t.start_ts, t.utid) AS key, "
    "  COALESCE(t.name, t.tid) || ' (pid ' || p.pid || ')' AS label "
    "FROM thread t JOIN process p ON p.upid = t.upid;"
    "CREATE TEMP VIEW IF NOT EXISTS facts_object AS "
    "SELECT object_id, kind || '#' || row_number() OVER (PARTITION BY kind ORDER BY first, "
    "  object_id) AS key, label "
    "FROM (SELECT s.object_id, o.kind, o.label, MIN(s.ts) AS first FROM thread_state s "
    "      JOIN object o USING (object_id) WHERE s.state = 'Blocked' GROUP BY s.object_id);";

/* Each statement gives key, label, ns, count; sorted largest first. */
static const char path_state_sql[] =
    "SELECT COALESCE(state, 'unknown') || COALESCE(' ' || reason, ''), NULL, SUM(dur), COUNT(*) "
    "FROM critical_path GROUP BY 1 ORDER BY 3 DESC, 1";
static const char path_thread_sql[] =
    "SELECT k.key, k.label, SUM(c.dur), COUNT(*) FROM critical_path c "
    "JOIN temp.facts_thread k USING (utid) GROUP BY c.utid ORDER BY 3 DESC, 1";
/* critical_path_object's sums, over whichever critical_path this
 * connection sees (a view of the file would read the file's table only). */
static const char path_object_sql[] =
    "SELECT COALESCE(k.key, o.kind || '@' || o.object_id), o.label || ' (' || o.kind || ')', "
    "  SUM(c.dur), SUM(CASE WHEN c.object_id = o.object_id THEN c.dur ELSE 0 END) "
    "FROM critical_path c JOIN object o ON o.object_id = COALESCE(c.object_id, c.via_object_id) "
    "LEFT JOIN temp.facts_object k ON k.object_id = o.object_id "
    "GROUP BY o.object_id ORDER BY 3 DESC, 1";
static const char waits_sql[] =
    "SELECT k.key, k.label, SUM(s.dur), COUNT(*) FROM thread_state s "
    "JOIN temp.facts_object k USING (object_id) WHERE s.state = 'Blocked' "
    "GROUP BY s.object_id ORDER BY 3 DESC, 1";
static const char thread_time_sql[] =
    "SELECT k.key || ' ' || s.state || COALESCE(' ' || s.reason, ''), "
    "  k.label || ' ' || s.state || COALESCE(' ' || s.reason, ''), SUM(s.dur), COUNT(*) "
    "FROM thread_state s JOIN temp.facts_thread k USING (utid) "
    "GROUP BY s.utid, s.state, s.reason ORDER BY 3 DESC, 1";
static const char failures_sql[] =
    "SELECT pid, name || ' (pid ' || pid || '): ' || CASE WHEN exit_signal IS NOT NULL "
    "  THEN 'killed by signal ' || exit_signal ELSE 'exit ' || exit_code END, "
    "  end_ts - start_ts, 1 FROM process "
    "WHERE exit_code <> 0 OR exit_signal IS NOT NULL ORDER BY start_ts LIMIT 50";
static const char holders_sql[] =
    "SELECT k.key, COALESCE(c.holders, ''), c.total_wait, c.waits FROM lock_contention c "
    "JOIN temp.facts_object k USING (object_id) ORDER BY 3 DESC, 1";

static char *dup_text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	return strdup(text ? (const char *)text : "");
}

static void free_list(struct fact_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].key);
		free(list->items[i].label);
	}
	free(list->items);
	*list = (struct fact_list){0};
}

/* Runs sql and appends its rows to list. Returns 0, -ENOMEM or -EIO. */
static int read_list(sqlite3 *db, const char *sql, struct fact_list *list)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (list->count == cap) {
			cap = cap ? cap * 2 : 16;
			struct fact *grown = realloc(list->items, cap * sizeof *grown);
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			list->items = grown;
		}
		struct fact *fact = &list->items[list->count];
		fact->key = dup_text(stmt, 0);
		fact->label = dup_text(stmt, 1);
		fact->ns = sqlite3_column_int64(stmt, 2);
		fact->count = sqlite3_column_int64(stmt, 3);
		list->count++;
		if (!fact->key || !fact->label) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* The first column of sql's first row as text (a copy) or integer. */
static int read_value(sqlite3 *db, const char *sql, char **text, int64_t *number)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (text && !(*text = dup_text(stmt, 0)))
			rc = -ENOMEM;
		else if (number)
			*number = sqlite3_column_int64(stmt, 0);
		rc = rc == -ENOMEM ? rc : 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
		if (text)
			*text = strdup("");
	} else {
		rc = -EIO;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int read_numbers(sqlite3 *db, struct facts *f)
{
	struct {
		const char *sql;
		char **text;
		int64_t *number;
	} values[] = {
	    {"SELECT value FROM meta WHERE key = 'command'", &f->command, NULL},
	    {"SELECT value FROM meta WHERE key = 'status'", &f->status, NULL},
	    {"SELECT value FROM meta WHERE key = 'exit_status'", &f->exit_status, NULL},
	    {"SELECT value FROM meta WHERE key = 'capture_mode'", &f->capture_mode, NULL},
	    {"SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'events_lost'", NULL,
	     &f->events_lost},
	    {"SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'threads_lost'", NULL,
	     &f->threads_lost},
	    {"SELECT COALESCE(SUM(dur), 0) FROM critical_path", NULL, &f->wall_ns},
	    {"SELECT COALESCE(SUM(dur), 0) FROM thread_state WHERE state = 'Running'", NULL,
	     &f->cpu_ns},
	    {"SELECT COUNT(*) FROM process", NULL, &f->processes},
	    {"SELECT COUNT(*) FROM thread", NULL, &f->threads},
	    {"SELECT COUNT(DISTINCT cpu) FROM sched_slice", NULL, &f->cpus},
	    {"SELECT COUNT(*) FROM deadlock", NULL, &f->deadlocks},
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int rc = read_value(db, values[i].sql, values[i].text, values[i].number);
		if (rc)
			return rc;
	}
	return 0;
}

int facts_load(sqlite3 *db, struct facts *facts)
{
	*facts = (struct facts){0};
	int rc = critpath_ensure(db);
	if (!rc && sqlite3_exec(db, keys_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = -EIO;
	if (!rc)
		rc = read_numbers(db, facts);
	struct {
		const char *sql;
		struct fact_list *list;
	} lists[] = {
	    {path_state_sql, &facts->path_state},   {path_thread_sql, &facts->path_thread},
	    {path_object_sql, &facts->path_object}, {waits_sql, &facts->waits},
	    {thread_time_sql, &facts->thread_time}, {failures_sql, &facts->failures},
	    {holders_sql, &facts->holders},
	};
	for (size_t i = 0; !rc && i < sizeof lists / sizeof lists[0]; i++)
		rc = read_list(db, lists[i].sql, lists[i].list);
	if (rc)
		facts_free(facts);
	return rc;
}

void facts_free(struct facts *facts)
{
	free(facts->command);
	free(facts->status);
	free(facts->exit_status);
	free(facts->capture_mode);
	struct fact_list *lists[] = {&facts->path_state, &facts->path_thread, &facts->path_object,
				     &facts->waits,	 &facts->thread_time, &facts->failures,
				     &facts->holders};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		free_list(lists[i]);
	*facts = (struct facts){0};
}

const struct fact *facts_find(const struct fact_list *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++)
		if (!strcmp(list->items[i].key, key))
			return &list->items[i];
	return NULL;
}

char *facts_format_ns(char *out, size_t cap, int64_t ns)
{
	double abs_ns = ns < 0 ? -(double)ns : (double)ns;
	if (abs_ns >= 1e9)
		snprintf(out, cap, "%.3f s", (double)ns / 1e9);
	else if (abs_ns >= 1e6)
		snprintf(out, cap, "%.1f ms", (double)ns / 1e6);
	else if (abs_ns >= 1e3)
		snprintf(out, cap, "%.0f us", (double)ns / 1e3);
	else
		snprintf(out, cap, "%lld ns", (long long)ns);
	return out;
}
