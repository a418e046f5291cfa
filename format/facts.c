/*
 * facts.c — reads what `weft report` and `weft diff` show from one trace.
 *
 * The spans are read once, in table order, and tallied (tally.h) by thread
 * and state, by object and by object and holder: one scan whatever the
 * trace's size, where a GROUP BY per list would sort the spans again for
 * each. The critical path (small) is tallied the same way. Threads and
 * objects are then named: thread keys come from one SQL statement over the
 * thread table; an object's key ranks it among the objects of its kind by
 * its first wait, which the scan found.
 */
#include "facts.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "critpath.h"
#include "names.h"
#include "tally.h"

/* Below this many spans, one thread reads them all (a second connection
 * and thread cost more than they save). */
#define FACTS_SPLIT_ROWS 1000000

/* Match keys and labels of every thread (small: one row a thread). */
static const char threads_sql[] =
    "SELECT t.utid, COALESCE(p.name, '?') || '/' || COALESCE(t.name, '?') || '#' || "
    "  row_number() OVER (PARTITION BY p.name, t.name ORDER BY t.start_ts, t.utid), "
    "  COALESCE(t.name, t.tid) || ' (pid ' || p.pid || ')' "
    "FROM thread t JOIN process p ON p.upid = t.upid";
static const char failures_sql[] =
    "SELECT pid, name || ' (pid ' || pid || '): ' || CASE WHEN exit_signal IS NOT NULL "
    "  THEN 'killed by signal ' || exit_signal ELSE 'exit ' || exit_code END, "
    "  end_ts - start_ts, 1 FROM process "
    "WHERE exit_code <> 0 OR exit_signal IS NOT NULL ORDER BY start_ts LIMIT 50";

static const char deadlocks_sql[] =
    "SELECT 'deadlock ' || deadlock_id, COALESCE(cycle, threads, '?'), COALESCE(dur, -1), "
    "  thread_count FROM deadlocks ORDER BY ts, deadlock_id LIMIT 50";
static const char inversions_sql[] =
    "SELECT 'inversion ' || cycle_id, COALESCE(cycle, '?') || ' (threads ' || "
    "  COALESCE(threads, '?') || ')', ts, lock_count FROM lock_order_inversions "
    "ORDER BY cycle_id LIMIT 50";
_Static_assert(FACTS_MAX_CYCLES == 50, "the LIMIT of deadlocks_sql and inversions_sql");

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
		fact->id = -1;
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
	    {"SELECT COUNT(*) FROM process", NULL, &f->processes},
	    {"SELECT COUNT(*) FROM thread", NULL, &f->threads},
	    {"SELECT COUNT(*) FROM deadlock", NULL, &f->deadlocks},
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int rc = read_value(db, values[i].sql, values[i].text, values[i].number);
		if (rc)
			return rc;
	}
	return 0;
}

/* 1 when the trace has table name (lock_order_cycle came later in schema
 * v1: a trace written before it lacks it), 0 when not, -EIO. */
static int has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* The deadlocks and lock-order inversions, for the report to lead with. */
static int read_cycles(sqlite3 *db, struct facts *f)
{
	int rc = read_list(db, deadlocks_sql, &f->deadlock_list);
	int inversions = rc ? rc : has_table(db, "lock_order_cycle");
	if (inversions <= 0)
		return inversions;
	rc = read_value(db, "SELECT COUNT(DISTINCT cycle_id) FROM lock_order_cycle", NULL,
			&f->inversions);
	return rc ? rc : read_list(db, inversions_sql, &f->inversion_list);
}

/* --- naming threads and objects --------------------------------------- */

struct named {
	char *key, *label;
};

/* Keys and labels of threads and of the objects somebody waited on,
 * indexed through a tally whose sum is the index in names. */
struct naming {
	struct tally index;
	struct named *names;
	size_t count, cap;
};

static int naming_put(struct naming *naming, int64_t id, char *key, char *label)
{
	if (!key || !label)
		goto nomem;
	if (naming->count == naming->cap) {
		size_t cap = naming->cap ? naming->cap * 2 : 64;
		struct named *grown = realloc(naming->names, cap * sizeof *grown);
		if (!grown)
			goto nomem;
		naming->names = grown;
		naming->cap = cap;
	}
	if (tally_add(&naming->index, id, 0, (int64_t)naming->count, 0))
		goto nomem;
	naming->names[naming->count++] = (struct named){key, label};
	return 0;
nomem:
	free(key);
	free(label);
	return -ENOMEM;
}

static const struct named *naming_get(const struct naming *naming, int64_t id)
{
	const struct tally_entry *entry = tally_get(&naming->index, id, 0);
	return entry ? &naming->names[entry->sum] : NULL;
}

static void naming_free(struct naming *naming)
{
	for (size_t i = 0; i < naming->count; i++) {
		free(naming->names[i].key);
		free(naming->names[i].label);
	}
	free(naming->names);
	tally_free(&naming->index);
	*naming = (struct naming){0};
}

static int name_threads(sqlite3 *db, struct naming *threads)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, threads_sql, -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (naming_put(threads, sqlite3_column_int64(stmt, 0), dup_text(stmt, 1),
			       dup_text(stmt, 2)))
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -ENOMEM : -EIO;
}

struct waited {
	int64_t id, first;
	char *kind, *label;
};

static int by_kind_then_first(const void *x, const void *y)
{
	const struct waited *a = x, *b = y;
	int c = strcmp(a->kind, b->kind);
	if (c)
		return c;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Names the objects of waits (packed): "<kind>#<n>", n by first wait. */
static int name_objects(sqlite3 *db, const struct tally *waits, struct naming *objects)
{
	sqlite3_stmt *stmt = NULL;
	struct waited *list = calloc(waits->count + 1, sizeof *list);
	int rc = list ? 0 : -ENOMEM;
	if (!rc && sqlite3_prepare_v2(db, "SELECT kind, label FROM object WHERE object_id = ?", -1,
				      &stmt, NULL) != SQLITE_OK)
		rc = -EIO;
	for (size_t i = 0; !rc && i < waits->count; i++) {
		struct waited *w = &list[i];
		w->id = waits->slots[i].k1;
		w->first = waits->slots[i].first;
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, w->id);
		bool found = sqlite3_step(stmt) == SQLITE_ROW;
		w->kind = found ? dup_text(stmt, 0) : strdup("?");
		w->label = found ? dup_text(stmt, 1) : strdup("?");
		if (!w->kind || !w->label)
			rc = -ENOMEM;
	}
	if (!rc)
		qsort(list, waits->count, sizeof *list, by_kind_then_first);
	for (size_t i = 0, rank = 0; !rc && i < waits->count; i++) {
		rank = i && !strcmp(list[i].kind, list[i - 1].kind) ? rank + 1 : 1;
		char key[96];
		snprintf(key, sizeof key, "%s#%zu", list[i].kind, rank);
		rc = naming_put(objects, list[i].id, strdup(key), list[i].label);
		list[i].label = NULL; /* owned by objects now, or freed */
	}
	for (size_t i = 0; list && i < waits->count; i++) {
		free(list[i].kind);
		free(list[i].label);
	}
	free(list);
	sqlite3_finalize(stmt);
	return rc;
}

/* --- the scans --------------------------------------------------------- */

/* The code of a (state, reason) pair: 16 * (state index + 1) + reason
 * index + 1; 0 parts for unknown names. */
static int64_t state_code(sqlite3_stmt *stmt, int state_column)
{
	int state = names_state_index((const char *)sqlite3_column_text(stmt, state_column));
	int reason = names_reason_index((const char *)sqlite3_column_text(stmt, state_column + 1));
	return 16 * (state + 1) + reason + 1;
}

static void code_text(int64_t code, char *out, size_t cap)
{
	int state = (int)(code / 16) - 1, reason = (int)(code % 16) - 1;
	snprintf(out, cap, "%s%s%s", state >= 0 ? names_states[state] : "unknown",
		 reason >= 0 ? " " : "", reason >= 0 ? names_reasons[reason] : "");
}

struct scan {
	struct tally thread_state; /* (utid, code) */
	struct tally waits;	   /* (object_id, 0) of Blocked spans */
	struct tally holders;	   /* (object_id, holder_utid) */
	struct tally path_state;   /* (code, 0) */
	struct tally path_thread;  /* (utid, 0) */
	struct tally path_object;  /* (object_id, 0): blocked on it or led by it */
	struct tally path_blocked; /* (object_id, 0): blocked on it */
	int64_t cpu_ns;
};

static void scan_free(struct scan *scan)
{
	struct tally *all[] = {&scan->thread_state, &scan->waits,	&scan->holders,
			       &scan->path_state,   &scan->path_thread, &scan->path_object,
			       &scan->path_blocked};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		tally_free(all[i]);
}

/* The spans of thread_state with lo <= rowid <= hi, tallied into scan.
 * Returns 0, -ENOMEM or -EIO. */
static int scan_rows(sqlite3 *db, int64_t lo, int64_t hi, struct scan *scan)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT utid, state, reason, object_id, holder_utid, ts, dur "
			       "FROM thread_state WHERE rowid BETWEEN ?1 AND ?2",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, lo);
	sqlite3_bind_int64(stmt, 2, hi);
	const int64_t running = 16 * (names_state_index("Running") + 1);
	const int blocked = names_state_index("Blocked") + 1;
	int rc = 0, step;
	while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t utid = sqlite3_column_int64(stmt, 0), code = state_code(stmt, 1);
		int64_t ts = sqlite3_column_int64(stmt, 5), dur = sqlite3_column_int64(stmt, 6);
		rc = tally_add(&scan->thread_state, utid, code, dur, ts);
		if (code == running)
			scan->cpu_ns += dur;
		if (code / 16 != blocked || sqlite3_column_type(stmt, 3) == SQLITE_NULL)
			continue;
		int64_t object = sqlite3_column_int64(stmt, 3);
		if (!rc)
			rc = tally_add(&scan->waits, object, 0, dur, ts);
		if (!rc && sqlite3_column_type(stmt, 4) != SQLITE_NULL)
			rc = tally_add(&scan->holders, object, sqlite3_column_int64(stmt, 4), dur,
				       ts);
	}
	if (!rc && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_finalize(stmt);
	return rc;
}

/* The upper half of a split scan, on a connection of its own in a thread
 * of its own: nothing in it is shared with the caller's thread until it
 * has been joined. */
struct half {
	const char *path;
	int64_t lo, hi;
	struct scan scan;
	int rc;
};

static void *scan_half(void *arg)
{
	struct half *half = arg;
	sqlite3 *db = NULL;
	half->rc = -EIO;
	if (sqlite3_open_v2(half->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 1000);
		half->rc = scan_rows(db, half->lo, half->hi, &half->scan);
	}
	sqlite3_close(db);
	return NULL;
}

/* One pass over thread_state. A big trace in a file is read in two halves
 * by rowid at once (the upper on a second read-only connection, in a
 * thread), so two cores share the decoding of its rows; the tallies are
 * merged after. Returns 0, -ENOMEM or -EIO. */
static int scan_spans(sqlite3 *db, struct scan *scan)
{
	int64_t first = 0, last = 0;
	int rc = read_value(db, "SELECT COALESCE(MIN(rowid), 0) FROM thread_state", NULL, &first);
	if (!rc)
		rc =
		    read_value(db, "SELECT COALESCE(MAX(rowid), 0) FROM thread_state", NULL, &last);
	if (rc)
		return rc;
	const char *path = sqlite3_db_filename(db, "main");
	struct half half = {.path = path, .lo = first + (last - first) / 2 + 1, .hi = last};
	pthread_t thread;
	bool split = last - first >= FACTS_SPLIT_ROWS && path && path[0] &&
		     pthread_create(&thread, NULL, scan_half, &half) == 0;
	rc = scan_rows(db, first, split ? half.lo - 1 : last, scan);
	if (!split)
		return rc;
	pthread_join(thread, NULL);
	if (!rc && half.rc == -EIO) /* its connection failed: read it here */
		rc = scan_rows(db, half.lo, half.hi, scan);
	else if (!rc)
		rc = half.rc;
	struct tally *into[] = {&scan->thread_state, &scan->waits, &scan->holders};
	struct tally *from[] = {&half.scan.thread_state, &half.scan.waits, &half.scan.holders};
	for (size_t i = 0; !rc && half.rc == 0 && i < sizeof into / sizeof into[0]; i++)
		rc = tally_merge(into[i], from[i]);
	if (half.rc == 0)
		scan->cpu_ns += half.scan.cpu_ns;
	scan_free(&half.scan);
	return rc;
}

/* One pass over critical_path (the file's, or this connection's TEMP one). */
static int scan_path(sqlite3 *db, struct scan *scan)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT utid, state, reason, object_id, via_object_id, ts, dur "
			       "FROM critical_path",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -EIO;
	int rc = 0, step;
	while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(stmt, 5), dur = sqlite3_column_int64(stmt, 6);
		rc = tally_add(&scan->path_state, state_code(stmt, 1), 0, dur, ts);
		if (!rc)
			rc = tally_add(&scan->path_thread, sqlite3_column_int64(stmt, 0), 0, dur,
				       ts);
		bool blocked = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
		int column = blocked ? 3 : 4;
		if (!rc && sqlite3_column_type(stmt, column) != SQLITE_NULL) {
			int64_t object = sqlite3_column_int64(stmt, column);
			rc = tally_add(&scan->path_object, object, 0, dur, ts);
			if (!rc && blocked)
				rc = tally_add(&scan->path_blocked, object, 0, dur, ts);
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_finalize(stmt);
	return rc;
}
/* --- the lists --------------------------------------------------------- */

/* Appends a fact owning key and label (either NULL: -ENOMEM, both freed). */
static int push(struct fact_list *list, size_t *cap, char *key, char *label, int64_t ns,
		int64_t count, int64_t id)
{
	if (key && label && list->count == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		struct fact *grown = realloc(list->items, *cap * sizeof *grown);
		if (grown)
			list->items = grown;
		else
			*cap = list->count;
	}
	if (!key || !label || list->count == *cap) {
		free(key);
		free(label);
		return -ENOMEM;
	}
	list->items[list->count++] = (struct fact){key, label, ns, count, id};
	return 0;
}

static int by_ns(const void *x, const void *y)
{
	const struct fact *a = x, *b = y;
	if (a->ns != b->ns)
		return a->ns < b->ns ? 1 : -1;
	return strcmp(a->key, b->key);
}

static char *printed(const char *format, const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + strlen(format) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, format, a, b);
	return out;
}

static const struct named unknown = {"?", "?"};

static const struct named *named_or_unknown(const struct naming *naming, int64_t id)
{
	const struct named *named = naming_get(naming, id);
	return named ? named : &unknown;
}

/* An object's label with its kind, the part of its key before '#'. */
static char *object_label(const struct named *object)
{
	size_t kind = strcspn(object->key, "#");
	size_t n = strlen(object->label) + kind + 4;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s (%.*s)", object->label, (int)kind, object->key);
	return out;
}

static int list_states(const struct tally *path, struct fact_list *out)
{
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < path->count; i++) {
		char text[32];
		code_text(path->slots[i].k1, text, sizeof text);
		rc = push(out, &cap, strdup(text), strdup(""), path->slots[i].sum,
			  path->slots[i].count, -1);
	}
	return rc;
}

static int list_path(const struct scan *scan, const struct naming *threads,
		     const struct naming *objects, struct facts *f)
{
	size_t cap = 0;
	int rc = list_states(&scan->path_state, &f->path_state);
	for (size_t i = 0; !rc && i < scan->path_thread.count; i++) {
		const struct tally_entry *e = &scan->path_thread.slots[i];
		const struct named *thread = named_or_unknown(threads, e->k1);
		rc = push(&f->path_thread, &cap, strdup(thread->key), strdup(thread->label), e->sum,
			  e->count, e->k1);
	}
	cap = 0;
	for (size_t i = 0; !rc && i < scan->path_object.count; i++) {
		const struct tally_entry *e = &scan->path_object.slots[i];
		const struct tally_entry *blocked = tally_get(&scan->path_blocked, e->k1, 0);
		const struct named *object = named_or_unknown(objects, e->k1);
		rc = push(&f->path_object, &cap, strdup(object->key), object_label(object), e->sum,
			  blocked ? blocked->sum : 0, e->k1);
	}
	return rc;
}

static int by_object_then_ns(const void *x, const void *y)
{
	const struct tally_entry *a = x, *b = y;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->sum != b->sum)
		return a->sum < b->sum ? 1 : -1;
	return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

/* A thread's name: its label without the " (pid N)" at its end. */
static size_t thread_name_length(const char *label)
{
	const char *pid = strstr(label, " (pid ");
	return pid ? (size_t)(pid - label) : strlen(label);
}

/* holders (packed): per object, its holders' names by time held, longest
 * first, as lock_contention.holders says them. */
static int list_holders(struct tally *holders, const struct naming *threads,
			const struct naming *objects, struct fact_list *out)
{
	qsort(holders->slots, holders->count, sizeof *holders->slots, by_object_then_ns);
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < holders->count;) {
		size_t end = i, length = 1;
		int64_t total = 0, waits = 0;
		for (; end < holders->count && holders->slots[end].k1 == holders->slots[i].k1;
		     end++)
			length += thread_name_length(
				      named_or_unknown(threads, holders->slots[end].k2)->label) +
				  2;
		char *names = malloc(length);
		if (names)
			names[0] = '\0';
		for (size_t j = i; names && j < end; j++) {
			const char *label = named_or_unknown(threads, holders->slots[j].k2)->label;
			strcat(names, j > i ? ", " : "");
			strncat(names, label, thread_name_length(label));
			total += holders->slots[j].sum;
			waits += holders->slots[j].count;
		}
		rc = push(out, &cap, strdup(named_or_unknown(objects, holders->slots[i].k1)->key),
			  names, total, waits, holders->slots[i].k1);
		i = end;
	}
	return rc;
}

static int list_spans(struct scan *scan, const struct naming *threads, const struct naming *objects,
		      struct facts *f)
{
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < scan->waits.count; i++) {
		const struct tally_entry *e = &scan->waits.slots[i];
		const struct named *object = named_or_unknown(objects, e->k1);
		rc = push(&f->waits, &cap, strdup(object->key), strdup(object->label), e->sum,
			  e->count, e->k1);
	}
	cap = 0;
	for (size_t i = 0; !rc && i < scan->thread_state.count; i++) {
		const struct tally_entry *e = &scan->thread_state.slots[i];
		const struct named *thread = named_or_unknown(threads, e->k1);
		char state[32];
		code_text(e->k2, state, sizeof state);
		rc = push(&f->thread_time, &cap, printed("%s %s", thread->key, state),
			  printed("%s %s", thread->label, state), e->sum, e->count, e->k1);
	}
	if (!rc)
		rc = list_holders(&scan->holders, threads, objects, &f->holders);
	return rc;
}

static void sort_lists(struct facts *f)
{
	struct fact_list *lists[] = {&f->path_state, &f->path_thread, &f->path_object,
				     &f->waits,	     &f->thread_time, &f->holders};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		qsort(lists[i]->items, lists[i]->count, sizeof *lists[i]->items, by_ns);
}

int facts_load(sqlite3 *db, struct facts *facts)
{
	*facts = (struct facts){0};
	struct scan scan = {0};
	struct naming threads = {0}, objects = {0};
	int rc = critpath_ensure(db);
	if (!rc)
		rc = read_numbers(db, facts);
	if (!rc)
		rc = scan_spans(db, &scan);
	if (!rc)
		rc = scan_path(db, &scan);
	if (!rc)
		rc = name_threads(db, &threads);
	if (!rc) {
		struct tally *packed[] = {&scan.thread_state, &scan.waits,	 &scan.holders,
					  &scan.path_state,   &scan.path_thread, &scan.path_object};
		for (size_t i = 0; i < sizeof packed / sizeof packed[0]; i++)
			tally_pack(packed[i]);
		rc = name_objects(db, &scan.waits, &objects);
	}
	if (!rc)
		rc = list_path(&scan, &threads, &objects, facts);
	if (!rc)
		rc = list_spans(&scan, &threads, &objects, facts);
	if (!rc)
		rc = read_list(db, failures_sql, &facts->failures);
	if (!rc)
		rc = read_cycles(db, facts);
	if (!rc)
		sort_lists(facts);
	facts->cpu_ns = scan.cpu_ns;
	naming_free(&objects);
	naming_free(&threads);
	scan_free(&scan);
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
	struct fact_list *lists[] = {
	    &facts->path_state, &facts->path_thread,   &facts->path_object,
	    &facts->waits,	&facts->thread_time,   &facts->failures,
	    &facts->holders,	&facts->deadlock_list, &facts->inversion_list};
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
