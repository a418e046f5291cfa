/*
 * route_diff: GET /api/diff?a=ID&b=ID — the dashboard's compare view of two
 * runs, the numbers `weft diff` prints: each trace's facts (format/facts.h:
 * wall and CPU time, the critical path by state and by object, waits by
 * object, time per thread and state) and, for each list, the union of both
 * runs matched by key and sorted by the size of the change
 * (format/factdiff.h, the matching `weft diff` uses). Each list is cut to
 * DIFF_MAX_ROWS entries (the biggest changes; "<list>_total" says how many
 * there were). Entries carry the thread's utid or the object's id in each
 * run (null where absent), so a row can open either trace there. Reading
 * the facts of a trace still being recorded can take long: past
 * DIFF_DEADLINE_MS the answer is 503, try later.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "factdiff.h"
#include "facts.h"
#include "route.h"
#include "trace.h"

#define DIFF_MAX_ROWS 200
#define DIFF_DEADLINE_MS 20000

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's progress handler: non-zero interrupts the statement. */
static int past_deadline(void *deadline)
{
	return now_ms() > *(int64_t *)deadline;
}

/* The facts of t, read on one of its pooled connections. Returns 0,
 * -EIO (cannot open), -ETIMEDOUT (past deadline) or facts_load's error. */
static int load(struct trace *t, int64_t *deadline, struct facts *facts)
{
	sqlite3 *db = trace_acquire(t);
	if (!db)
		return -EIO;
	sqlite3_progress_handler(db, 10000, past_deadline, deadline);
	int rc = facts_load(db, facts);
	if (rc == -EIO && now_ms() > *deadline)
		rc = -ETIMEDOUT;
	sqlite3_progress_handler(db, 0, NULL, NULL);
	trace_release(t, db);
	return rc;
}

static void json_run(struct json *j, const char *name, struct trace *t, const struct facts *f)
{
	json_key(j, name);
	json_obj_begin(j);
	json_key(j, "id");
	json_str(j, trace_id(t));
	json_key(j, "command");
	json_str(j, f->command ? f->command : "");
	json_key(j, "status");
	json_str(j, f->status ? f->status : "");
	json_key(j, "wall_ns");
	json_i64(j, f->wall_ns);
	json_key(j, "cpu_ns");
	json_i64(j, f->cpu_ns);
	json_key(j, "processes");
	json_i64(j, f->processes);
	json_key(j, "threads");
	json_i64(j, f->threads);
	json_key(j, "deadlocks");
	json_i64(j, f->deadlocks);
	json_key(j, "events_lost");
	json_i64(j, f->events_lost);
	json_obj_end(j);
}

static void json_id(struct json *j, const char *key, bool present, int64_t id)
{
	json_key(j, key);
	present &&id >= 0 ? json_i64(j, id) : json_null(j);
}

static void json_changes(struct json *j, const char *name, const struct factdiff *list)
{
	char total[64];
	snprintf(total, sizeof total, "%s_total", name);
	json_key(j, total);
	json_i64(j, (int64_t)list->count);
	json_key(j, name);
	json_arr_begin(j);
	for (size_t i = 0; i < list->count && i < DIFF_MAX_ROWS; i++) {
		const struct factdiff_change *c = &list->items[i];
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, c->key);
		json_key(j, "label");
		json_str(j, c->label);
		json_key(j, "a_ns");
		c->in_a ? json_i64(j, c->a) : json_null(j);
		json_key(j, "b_ns");
		c->in_b ? json_i64(j, c->b) : json_null(j);
		json_key(j, "change_ns");
		json_i64(j, c->b - c->a);
		json_id(j, "a_id", c->in_a, c->id_a);
		json_id(j, "b_id", c->in_b, c->id_b);
		json_obj_end(j);
	}
	json_arr_end(j);
}

enum { STATE, OBJECT, WAITS, THREADS, LISTS };

static const char *const list_names[LISTS] = {
    [STATE] = "critical_path_by_state",
    [OBJECT] = "critical_path_by_object",
    [WAITS] = "waits_by_object",
    [THREADS] = "thread_time",
};

static enum MHD_Result answer(struct request *req, struct trace *ta, struct trace *tb,
			      const struct facts *a, const struct facts *b)
{
	const struct fact_list *pairs[LISTS][2] = {
	    [STATE] = {&a->path_state, &b->path_state},
	    [OBJECT] = {&a->path_object, &b->path_object},
	    [WAITS] = {&a->waits, &b->waits},
	    [THREADS] = {&a->thread_time, &b->thread_time},
	};
	struct factdiff lists[LISTS] = {0};
	int rc = 0;
	for (int i = 0; !rc && i < LISTS; i++)
		rc = factdiff_compare(pairs[i][0], pairs[i][1], &lists[i]);
	struct json j;
	json_init(&j);
	if (!rc) {
		json_obj_begin(&j);
		json_run(&j, "a", ta, a);
		json_run(&j, "b", tb, b);
		json_key(&j, "max_rows");
		json_i64(&j, DIFF_MAX_ROWS);
		for (int i = 0; i < LISTS; i++)
			json_changes(&j, list_names[i], &lists[i]);
		json_obj_end(&j);
	}
	for (int i = 0; i < LISTS; i++)
		factdiff_free(&lists[i]);
	if (rc) {
		json_free(&j);
		return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	return reply_json(req, MHD_HTTP_OK, &j);
}

static enum MHD_Result failed(struct request *req, const char *id, int rc)
{
	if (rc == -ETIMEDOUT)
		return reply_error(
		    req, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "reading trace \"%s\" took longer than %d ms; try again once the "
		    "recording has finished",
		    id, DIFF_DEADLINE_MS);
	if (rc == -ENOENT)
		return reply_error(req, MHD_HTTP_NOT_FOUND,
				   "trace \"%s\" has no finished process to compare", id);
	return reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read trace \"%s\": %s", id,
			   strerror(-rc));
}

enum MHD_Result route_diff(struct request *req)
{
	const char *id_a = req_arg(req, "a"), *id_b = req_arg(req, "b");
	if (!id_a || !id_b || !id_a[0] || !id_b[0])
		return reply_error(req, MHD_HTTP_BAD_REQUEST, "give two traces: ?a=ID&b=ID");
	struct trace *ta = trace_set_find(req->server->traces, id_a);
	struct trace *tb = trace_set_find(req->server->traces, id_b);
	if (!ta || !tb)
		return reply_error(req, MHD_HTTP_NOT_FOUND, "no trace named \"%s\"",
				   ta ? id_b : id_a);
	int64_t deadline = now_ms() + DIFF_DEADLINE_MS;
	struct facts a, b;
	int rc = load(ta, &deadline, &a);
	if (rc)
		return failed(req, trace_id(ta), rc);
	rc = load(tb, &deadline, &b);
	if (rc) {
		facts_free(&a);
		return failed(req, trace_id(tb), rc);
	}
	enum MHD_Result result = answer(req, ta, tb, &a, &b);
	facts_free(&b);
	facts_free(&a);
	return result;
}
