/*
 * critpath.c — the critical path of a run.
 *
 * The walk starts on a thread at the end of an interval and goes back in
 * time. At each step it looks at the span of the current thread that
 * contains the instant just before t:
 *
 *   Running, Ready, New   the time stays on this thread: one segment
 *                         [max(span.ts, start), t), t moves to its start.
 *   Blocked               if the trace knows who ended the wait (a flow
 *                         into this span: unlock, signal, post, pipe write,
 *                         child exit..., else waker_utid, else the lock's
 *                         holder), the wait from that thread's action to t
 *                         stays here (the wake-up's latency) and the walk
 *                         jumps to that thread at the action's time j. A
 *                         convoy is walked hold by hold: each waiter's wait
 *                         leads to the thread that released the lock to it,
 *                         so the time lands on each holder's hold, not on
 *                         whoever happened to wake the last waiter. Without
 *                         a known end (sleep, disk I/O) it stays here.
 *   before the thread     the walk jumps to its creator (create or fork
 *                         flow, else the parent process's main thread);
 *                         with none known the rest is one unknown segment.
 *
 * Termination: a step either consumes a non-empty stretch [x, t) (x < t),
 * or jumps without consuming (the action was at t). Two jumps in a row
 * without consuming are not allowed: the second step consumes the span
 * instead. So t strictly decreases at least every second step, over a
 * finite set of span bounds and flow times. No depth cap is needed.
 *
 * Tiling: every stretch consumed is [x, t) with x >= start and t the
 * previous x, so the segments tile [start, end) exactly.
 *
 * Queries need the indexes of schema/001_indexes.sql (thread_state by
 * utid and ts, flow by ts_in) to be fast; without them (a trace still being
 * recorded) the walk is correct but slow.
 */
#include "critpath.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A flow may be stamped when the woken call returned, a little after the
 * Blocked span it ended: look that far past the span's end. */
#define FLOW_SLACK_NS 200000

struct walk {
	sqlite3 *db;
	sqlite3_stmt *spans;   /* spans of a thread before t, latest first */
	sqlite3_stmt *waker;   /* the flow that ended a Blocked span */
	sqlite3_stmt *creator; /* the flow that made a thread */
	sqlite3_stmt *thread;  /* a thread's life and process */
	sqlite3_stmt *parent;  /* the main thread of a process's parent */
	struct critpath *path;
	int64_t start;
	/* The edge of the last jump: given to the next segment emitted. */
	char pending_edge[12];
	int64_t pending_next;
	/* The object whose wait led the path to the current thread. */
	int64_t via;
};

struct span {
	int64_t ts, dur;
	char state[12], reason[12];
	int64_t object_id, waker_utid, holder_utid;
};

static void copy_text(char *out, size_t cap, const unsigned char *text)
{
	snprintf(out, cap, "%s", text ? (const char *)text : "");
}

static int64_t column_id(sqlite3_stmt *stmt, int column)
{
	return sqlite3_column_type(stmt, column) == SQLITE_NULL
		   ? 0
		   : sqlite3_column_int64(stmt, column);
}

/* Appends [ts, ts + dur) on utid, or merges it into the previous segment
 * (which follows it in time) when both say the same and no jump lies
 * between them. Returns 0 or -ENOMEM. */
static int emit(struct walk *walk, int64_t utid, int64_t ts, int64_t dur, const char *state,
		const char *reason, int64_t object_id)
{
	struct critpath *path = walk->path;
	assert(dur > 0 && ts >= walk->start);
	bool jumped = walk->pending_edge[0] != '\0';
	if (path->count && !jumped) {
		struct critpath_segment *last = &path->segments[path->count - 1];
		assert(last->ts == ts + dur);
		if (last->utid == utid && !strcmp(last->state, state) &&
		    !strcmp(last->reason, reason) && last->object_id == object_id &&
		    last->via_object_id == walk->via) {
			last->ts = ts;
			last->dur += dur;
			return 0;
		}
	}
	if (path->count == path->cap) {
		size_t cap = path->cap ? path->cap * 2 : 64;
		struct critpath_segment *grown = realloc(path->segments, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		path->segments = grown;
		path->cap = cap;
	}
	struct critpath_segment *seg = &path->segments[path->count++];
	*seg = (struct critpath_segment){
	    .utid = utid, .ts = ts, .dur = dur, .object_id = object_id, .via_object_id = walk->via};
	snprintf(seg->state, sizeof seg->state, "%s", state);
	snprintf(seg->reason, sizeof seg->reason, "%s", reason);
	if (jumped) {
		memcpy(seg->edge, walk->pending_edge, sizeof seg->edge);
		seg->next_utid = walk->pending_next;
		walk->pending_edge[0] = '\0';
		walk->pending_next = 0;
	}
	return 0;
}

static void jump(struct walk *walk, const char *edge, int64_t from_utid, int64_t via)
{
	snprintf(walk->pending_edge, sizeof walk->pending_edge, "%s", edge);
	walk->pending_next = from_utid;
	walk->via = via;
}

/* 1 when utid lived at the instant just before t, 0 if not, -EIO. */
static int alive_before(struct walk *walk, int64_t utid, int64_t t)
{
	sqlite3_stmt *stmt = walk->thread;
	sqlite3_reset(stmt);
	sqlite3_bind_int64(stmt, 1, utid);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	bool started =
	    sqlite3_column_type(stmt, 0) == SQLITE_NULL || sqlite3_column_int64(stmt, 0) < t;
	bool not_ended =
	    sqlite3_column_type(stmt, 1) == SQLITE_NULL || sqlite3_column_int64(stmt, 1) >= t;
	return started && not_ended;
}

/* The thread whose action ended the Blocked span s of utid (which contains
 * the instant before t): 1 with *who, *at (clamped into [s.ts, t]) and
 * edge filled, 0 when unknown, -EIO. */
static int find_waker(struct walk *walk, int64_t utid, const struct span *s, int64_t t,
		      int64_t *who, int64_t *at, int64_t *object, char *edge, size_t edge_cap)
{
	int64_t end = s->ts + s->dur;
	sqlite3_stmt *stmt = walk->waker;
	sqlite3_reset(stmt);
	sqlite3_bind_int64(stmt, 1, utid);
	sqlite3_bind_int64(stmt, 2, s->ts);
	sqlite3_bind_int64(stmt, 3, end + FLOW_SLACK_NS);
	sqlite3_bind_int64(stmt, 4, end);
	sqlite3_bind_int64(stmt, 5, s->waker_utid);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*at = sqlite3_column_int64(stmt, 0);
		*who = sqlite3_column_int64(stmt, 1);
		copy_text(edge, edge_cap, sqlite3_column_text(stmt, 2));
		*object = column_id(stmt, 3);
	} else if (rc != SQLITE_DONE) {
		return -EIO;
	} else if (s->waker_utid) {
		*who = s->waker_utid, *at = t;
		snprintf(edge, edge_cap, "waker");
	} else if (s->holder_utid) {
		*who = s->holder_utid, *at = t;
		snprintf(edge, edge_cap, "holder");
	} else {
		return 0;
	}
	if (*who == utid)
		return 0;
	*at = *at > t ? t : *at < s->ts ? s->ts : *at;
	return 1;
}

/* The thread that made utid (create or fork flow, else the main thread of
 * its parent process): 1 with *who and edge, 0 when unknown, -EIO. */
static int find_creator(struct walk *walk, int64_t utid, int64_t *who, char *edge, size_t edge_cap)
{
	sqlite3_stmt *stmt = walk->creator;
	sqlite3_reset(stmt);
	sqlite3_bind_int64(stmt, 1, utid);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*who = sqlite3_column_int64(stmt, 0);
		copy_text(edge, edge_cap, sqlite3_column_text(stmt, 1));
		return *who != utid;
	}
	if (rc != SQLITE_DONE)
		return -EIO;
	stmt = walk->parent;
	sqlite3_reset(stmt);
	sqlite3_bind_int64(stmt, 1, utid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*who = sqlite3_column_int64(stmt, 0);
		snprintf(edge, edge_cap, "fork");
		return *who != utid;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The span of utid that contains or ends before the instant before t, from
 * the cursor positioned by seek(). 1 with *s, 0 when there is none, -EIO. */
static int next_span(struct walk *walk, struct span *s)
{
	sqlite3_stmt *stmt = walk->spans;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	s->ts = sqlite3_column_int64(stmt, 0);
	s->dur = sqlite3_column_int64(stmt, 1);
	copy_text(s->state, sizeof s->state, sqlite3_column_text(stmt, 2));
	copy_text(s->reason, sizeof s->reason, sqlite3_column_text(stmt, 3));
	s->object_id = column_id(stmt, 4);
	s->waker_utid = column_id(stmt, 5);
	s->holder_utid = column_id(stmt, 6);
	return 1;
}

static void seek(struct walk *walk, int64_t utid, int64_t t)
{
	sqlite3_reset(walk->spans);
	sqlite3_bind_int64(walk->spans, 1, utid);
	sqlite3_bind_int64(walk->spans, 2, t);
}

/* At utid's beginning (no span before t): jump to its creator, or end the
 * walk with one unknown segment. Returns 1 after a jump, 0 at the end, or
 * a negative errno. */
static int walk_before_thread(struct walk *walk, int64_t *utid, int64_t t, bool stalled)
{
	int64_t creator = 0;
	char edge[12];
	int rc = stalled ? 0 : find_creator(walk, *utid, &creator, edge, sizeof edge);
	if (rc > 0)
		rc = alive_before(walk, creator, t);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		jump(walk, edge, *utid, 0);
		*utid = creator;
		return 1;
	}
	rc = emit(walk, *utid, walk->start, t - walk->start, "", "", 0);
	return rc < 0 ? rc : 0;
}

static int walk_steps(struct walk *walk, int64_t utid, int64_t t)
{
	bool stalled = false; /* the last step jumped without consuming */
	seek(walk, utid, t);
	while (t > walk->start) {
		struct span s;
		int rc = next_span(walk, &s);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			rc = walk_before_thread(walk, &utid, t, stalled);
			if (rc <= 0)
				return rc;
			stalled = true;
			seek(walk, utid, t);
			continue;
		}
		int64_t span_end = s.ts + s.dur;
		if (span_end < t) { /* a gap in the thread's spans */
			int64_t from = span_end > walk->start ? span_end : walk->start;
			if ((rc = emit(walk, utid, from, t - from, "", "", 0)) < 0)
				return rc;
			t = from, stalled = false;
			if (t <= walk->start)
				break;
		}
		if (!strcmp(s.state, "Blocked") && !stalled) {
			int64_t who = 0, at = 0, flow_object = 0;
			char edge[12];
			rc = find_waker(walk, utid, &s, t, &who, &at, &flow_object, edge,
					sizeof edge);
			if (rc > 0 && at <= walk->start)
				rc = 0; /* ended by something before the interval */
			if (rc > 0)
				rc = alive_before(walk, who, at);
			if (rc < 0)
				return rc;
			if (rc > 0) {
				if (at < t && (rc = emit(walk, utid, at, t - at, s.state, s.reason,
							 s.object_id)) < 0)
					return rc;
				jump(walk, edge, utid, s.object_id ? s.object_id : flow_object);
				stalled = at == t;
				utid = who, t = at;
				seek(walk, utid, t);
				continue;
			}
		}
		int64_t from = s.ts > walk->start ? s.ts : walk->start;
		if ((rc = emit(walk, utid, from, t - from, s.state, s.reason, s.object_id)) < 0)
			return rc;
		t = from, stalled = false;
	}
	return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK ? 0 : -EIO;
}

static void reverse(struct critpath *path)
{
	for (size_t i = 0, j = path->count; i + 1 < j; i++, j--) {
		struct critpath_segment tmp = path->segments[i];
		path->segments[i] = path->segments[j - 1];
		path->segments[j - 1] = tmp;
	}
}

int critpath_walk(sqlite3 *db, int64_t utid, int64_t start, int64_t end, struct critpath *path)
{
	*path = (struct critpath){.start = start, .end = end, .utid = utid};
	if (end <= start)
		return -EINVAL;
	struct walk walk = {.db = db, .path = path, .start = start};
	int rc = prepare(db,
			 "SELECT ts, dur, state, reason, object_id, waker_utid, holder_utid "
			 "FROM thread_state WHERE utid = ?1 AND ts < ?2 ORDER BY ts DESC",
			 &walk.spans);
	if (!rc)
		rc = prepare(db,
			     "SELECT ts_out, utid_out, kind, object_id FROM flow "
			     "WHERE utid_in = ?1 AND ts_in >= ?2 AND ts_in <= ?3 "
			     "AND kind NOT IN ('create', 'fork') "
			     "ORDER BY utid_out = ?5 DESC, abs(ts_in - ?4) LIMIT 1",
			     &walk.waker);
	if (!rc)
		rc = prepare(
		    db,
		    "SELECT f.utid_out, f.kind FROM flow f JOIN thread t ON t.utid = f.utid_in "
		    "WHERE f.utid_in = ?1 AND f.kind IN ('create', 'fork') "
		    "AND f.ts_in >= t.start_ts ORDER BY f.ts_in LIMIT 1",
		    &walk.creator);
	if (!rc)
		rc = prepare(db, "SELECT start_ts, end_ts FROM thread WHERE utid = ?1",
			     &walk.thread);
	if (!rc)
		rc = prepare(db,
			     "SELECT pt.utid FROM thread t JOIN process p ON p.upid = t.upid "
			     "JOIN thread pt ON pt.upid = p.parent_upid AND pt.is_main "
			     "WHERE t.utid = ?1 LIMIT 1",
			     &walk.parent);
	if (!rc) {
		sqlite3_bind_int64(walk.thread, 1, utid);
		if (sqlite3_step(walk.thread) != SQLITE_ROW)
			rc = -ENOENT;
	}
	if (!rc)
		rc = walk_steps(&walk, utid, end);
	if (!rc)
		reverse(path);
	sqlite3_finalize(walk.parent);
	sqlite3_finalize(walk.thread);
	sqlite3_finalize(walk.creator);
	sqlite3_finalize(walk.waker);
	sqlite3_finalize(walk.spans);
	return rc;
}

void critpath_free(struct critpath *path)
{
	free(path->segments);
	*path = (struct critpath){0};
}

int critpath_root(sqlite3 *db, int64_t *utid, int64_t *start, int64_t *end)
{
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(
	    db,
	    "SELECT t.utid, p.start_ts, p.end_ts FROM process p "
	    "JOIN thread t ON t.upid = p.upid "
	    "WHERE p.parent_upid IS NULL AND p.start_ts IS NOT NULL AND p.end_ts > p.start_ts "
	    "ORDER BY p.start_ts, p.upid, t.end_ts IS NULL, t.end_ts DESC, t.is_main DESC "
	    "LIMIT 1",
	    &stmt);
	if (rc)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*utid = sqlite3_column_int64(stmt, 0);
		*start = sqlite3_column_int64(stmt, 1);
		*end = sqlite3_column_int64(stmt, 2);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static void bind_text_or_null(sqlite3_stmt *stmt, int column, const char *text)
{
	if (text[0])
		sqlite3_bind_text(stmt, column, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, column);
}

static void bind_id_or_null(sqlite3_stmt *stmt, int column, int64_t id)
{
	if (id)
		sqlite3_bind_int64(stmt, column, id);
	else
		sqlite3_bind_null(stmt, column);
}

static int insert_rows(sqlite3 *db, const struct critpath *path, const char *table)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "INSERT INTO %s (seq, utid, ts, dur, state, reason, object_id, via_object_id, "
		 "edge, next_utid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 table);
	sqlite3_stmt *stmt = NULL;
	if (prepare(db, sql, &stmt))
		return -EIO;
	int rc = 0;
	for (size_t i = 0; i < path->count && !rc; i++) {
		const struct critpath_segment *seg = &path->segments[i];
		sqlite3_bind_int64(stmt, 1, (int64_t)i);
		sqlite3_bind_int64(stmt, 2, seg->utid);
		sqlite3_bind_int64(stmt, 3, seg->ts);
		sqlite3_bind_int64(stmt, 4, seg->dur);
		bind_text_or_null(stmt, 5, seg->state);
		bind_text_or_null(stmt, 6, seg->reason);
		bind_id_or_null(stmt, 7, seg->object_id);
		bind_id_or_null(stmt, 8, seg->via_object_id);
		bind_text_or_null(stmt, 9, seg->edge);
		bind_id_or_null(stmt, 10, seg->next_utid);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int critpath_store(sqlite3 *db, const struct critpath *path, int temp)
{
	const char *table = temp ? "temp.critical_path" : "main.critical_path";
	if (temp &&
	    sqlite3_exec(
		db,
		"CREATE TEMP TABLE IF NOT EXISTS critical_path (seq INTEGER PRIMARY KEY, "
		"utid INTEGER NOT NULL, ts INTEGER NOT NULL, dur INTEGER NOT NULL, "
		"state TEXT, reason TEXT, object_id INTEGER, via_object_id INTEGER, edge TEXT, "
		"next_utid INTEGER)",
		NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_exec(db, "SAVEPOINT critpath", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	char sql[64];
	snprintf(sql, sizeof sql, "DELETE FROM %s", table);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
	if (!rc)
		rc = insert_rows(db, path, table);
	if (rc)
		sqlite3_exec(db, "ROLLBACK TO critpath", NULL, NULL, NULL);
	sqlite3_exec(db, "RELEASE critpath", NULL, NULL, NULL);
	return rc;
}

/* 1 when the trace holds a stored critical path, 0 if not, -EIO. */
static int stored(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM main.critical_path LIMIT 1", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return 0; /* a trace from before the table existed */
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* The root's critical path, stored in the file's table or a TEMP one. */
static int store_root_path(sqlite3 *db, int temp)
{
	int64_t utid, start, end;
	struct critpath path;
	int rc = critpath_root(db, &utid, &start, &end);
	if (rc)
		return rc;
	rc = critpath_walk(db, utid, start, end, &path);
	if (!rc)
		rc = critpath_store(db, &path, temp);
	critpath_free(&path);
	return rc;
}

int critpath_record(sqlite3 *db)
{
	return store_root_path(db, 0);
}

int critpath_ensure(sqlite3 *db)
{
	int rc = stored(db);
	if (rc)
		return rc < 0 ? rc : 0;
	return store_root_path(db, 1);
}
