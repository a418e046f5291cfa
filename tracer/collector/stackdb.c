/*
 * stackdb.c — modules, frames and callsites as the records come; see
 * stackdb.h.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "stackdb.h"
#include "table.h"
#include "tracedb.h"

#define MAX_FRAMES 32
#define UNKNOWN_MODULE (UINT64_MAX - 1) /* frame key k1 base for pcs outside modules */
#define TRUNCATED_KEY UINT64_MAX

struct stackdb {
	struct tracedb *db;
	sqlite3_stmt *insert_module, *insert_frame, *insert_callsite, *object_callsite;
	struct stackdb_module *modules; /* every module, in module_id order */
	size_t module_count, module_cap;
	struct table *frames;	 /* (module_id | UNKNOWN_MODULE - upid, rel_pc) -> frame_id + 1 */
	struct table *callsites; /* (parent + 1, frame_id) -> callsite_id + 1 */
	struct table *stacks;	 /* (upid, id) -> innermost callsite_id + 1 */
	struct table *objects;	 /* (object_id, 0) -> 1 once its first use is written */
	struct table *by_upid;	 /* (upid, 0) -> struct upid_modules */
	int64_t next_frame, next_callsite;
	int64_t truncated;
};

/* The modules of one process, as indexes into stackdb.modules. */
struct upid_modules {
	size_t count, cap;
	size_t *index;
};

static const char *const sql_text[4] = {
    ("INSERT INTO stack_module(module_id, upid, path, build_id, start, end, ts) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    "INSERT INTO stack_frame(frame_id, module_id, rel_pc, function) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO stack_callsite(callsite_id, parent_id, frame_id, depth) VALUES (?1, ?2, ?3, ?4)",
    "UPDATE object SET callsite_id = ?2 WHERE object_id = ?1 AND callsite_id IS NULL",
};

struct stackdb *stackdb_new(struct tracedb *db)
{
	struct stackdb *stacks = calloc(1, sizeof *stacks);
	if (!stacks)
		return NULL;
	stacks->db = db;
	stacks->frames = table_new();
	stacks->callsites = table_new();
	stacks->stacks = table_new();
	stacks->objects = table_new();
	stacks->by_upid = table_new();
	stacks->next_frame = 1;
	stacks->next_callsite = 1;
	sqlite3_stmt **stmts[4] = {&stacks->insert_module, &stacks->insert_frame,
				   &stacks->insert_callsite, &stacks->object_callsite};
	int ok = stacks->frames && stacks->callsites && stacks->stacks && stacks->objects &&
		 stacks->by_upid;
	for (int i = 0; i < 4 && ok; i++)
		ok = sqlite3_prepare_v3(tracedb_sqlite(db), sql_text[i], -1,
					SQLITE_PREPARE_PERSISTENT, stmts[i], NULL) == SQLITE_OK;
	if (!ok) {
		stackdb_free(stacks);
		return NULL;
	}
	return stacks;
}

static void free_upid_modules(void *ctx, void *value)
{
	struct upid_modules *list = value;
	(void)ctx;
	free(list->index);
	free(list);
}

/* Note module number i as one of upid's. Returns 0 or -ENOMEM. */
static int index_module(struct stackdb *stacks, int64_t upid, size_t i)
{
	struct upid_modules *list = table_get(stacks->by_upid, (uint64_t)upid, 0);
	if (!list) {
		list = calloc(1, sizeof *list);
		if (!list || table_put(stacks->by_upid, (uint64_t)upid, 0, list)) {
			free(list);
			return -ENOMEM;
		}
	}
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		size_t *grown = realloc(list->index, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		list->index = grown;
		list->cap = cap;
	}
	list->index[list->count++] = i;
	return 0;
}

void stackdb_free(struct stackdb *stacks)
{
	if (!stacks)
		return;
	sqlite3_finalize(stacks->insert_module);
	sqlite3_finalize(stacks->insert_frame);
	sqlite3_finalize(stacks->insert_callsite);
	sqlite3_finalize(stacks->object_callsite);
	for (size_t i = 0; i < stacks->module_count; i++)
		free(stacks->modules[i].path);
	free(stacks->modules);
	table_free(stacks->frames);
	table_free(stacks->callsites);
	table_free(stacks->stacks);
	table_free(stacks->objects);
	if (stacks->by_upid)
		table_each(stacks->by_upid, free_upid_modules, NULL);
	table_free(stacks->by_upid);
	free(stacks);
}

static int step(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The MODULE payload (event.h): u64 bias, u8 build-id length, 39 bytes of
 * build-id, the path. */
#define MODULE_PATH_AT 48

int stackdb_module(struct stackdb *stacks, int64_t upid, const struct weft_event *event)
{
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	if (!payload || len <= MODULE_PATH_AT || event->b <= event->a)
		return 0; /* hostile or cut: ignored */
	uint64_t bias;
	memcpy(&bias, payload, 8);
	unsigned id_len = payload[8] < 39 ? payload[8] : 39;
	char build_id[80];
	for (unsigned i = 0; i < id_len; i++)
		snprintf(build_id + 2 * i, 3, "%02x", payload[9 + i]);
	build_id[2 * id_len] = '\0';
	size_t path_len = strnlen((const char *)payload + MODULE_PATH_AT, len - MODULE_PATH_AT);
	if (stacks->module_count == stacks->module_cap) {
		size_t cap = stacks->module_cap ? stacks->module_cap * 2 : 64;
		struct stackdb_module *grown = realloc(stacks->modules, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		stacks->modules = grown;
		stacks->module_cap = cap;
	}
	char *path = strndup((const char *)payload + MODULE_PATH_AT, path_len);
	if (!path)
		return -ENOMEM;
	struct stackdb_module *m = &stacks->modules[stacks->module_count];
	*m = (struct stackdb_module){
	    (int64_t)stacks->module_count + 1, upid, event->a, event->b, bias, path};
	if (tracedb_begin(stacks->db)) {
		free(path);
		return -EIO;
	}
	sqlite3_stmt *stmt = stacks->insert_module;
	sqlite3_bind_int64(stmt, 1, m->module_id);
	sqlite3_bind_int64(stmt, 2, upid);
	sqlite3_bind_text(stmt, 3, path, -1, SQLITE_TRANSIENT);
	if (id_len)
		sqlite3_bind_text(stmt, 4, build_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 5, (int64_t)m->start);
	sqlite3_bind_int64(stmt, 6, (int64_t)m->end);
	sqlite3_bind_int64(stmt, 7, (int64_t)event->ts);
	if (step(stmt)) {
		free(path);
		return -EIO;
	}
	stacks->module_count++;
	return index_module(stacks, upid, stacks->module_count - 1);
}

/* The module of process upid holding pc (the latest loaded there), or NULL. */
static const struct stackdb_module *module_of(const struct stackdb *stacks, int64_t upid,
					      uint64_t pc)
{
	const struct upid_modules *list = table_get(stacks->by_upid, (uint64_t)upid, 0);
	for (size_t i = list ? list->count : 0; i-- > 0;) {
		const struct stackdb_module *m = &stacks->modules[list->index[i]];
		if (pc >= m->start && pc < m->end)
			return m;
	}
	return NULL;
}

/* The frame_id of (k1, rel_pc), inserted when new. -1 on failure. */
static int64_t frame_id(struct stackdb *stacks, uint64_t k1, int64_t module_id, uint64_t rel_pc,
			const char *function)
{
	void *found = table_get(stacks->frames, k1, rel_pc);
	if (found)
		return (int64_t)(intptr_t)found - 1;
	int64_t id = stacks->next_frame++;
	sqlite3_stmt *stmt = stacks->insert_frame;
	sqlite3_bind_int64(stmt, 1, id);
	if (module_id > 0)
		sqlite3_bind_int64(stmt, 2, module_id);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int64(stmt, 3, (int64_t)rel_pc);
	if (function)
		sqlite3_bind_text(stmt, 4, function, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	if (step(stmt) || table_put(stacks->frames, k1, rel_pc, (void *)(intptr_t)(id + 1)))
		return -1;
	return id;
}

/* The callsite (parent, frame) at depth, inserted when new. -1 on failure. */
static int64_t callsite_id(struct stackdb *stacks, int64_t parent, int64_t frame, int depth)
{
	void *found = table_get(stacks->callsites, (uint64_t)(parent + 1), (uint64_t)frame);
	if (found)
		return (int64_t)(intptr_t)found - 1;
	int64_t id = stacks->next_callsite++;
	sqlite3_stmt *stmt = stacks->insert_callsite;
	sqlite3_bind_int64(stmt, 1, id);
	if (parent >= 0)
		sqlite3_bind_int64(stmt, 2, parent);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int64(stmt, 3, frame);
	sqlite3_bind_int(stmt, 4, depth);
	if (step(stmt) || table_put(stacks->callsites, (uint64_t)(parent + 1), (uint64_t)frame,
				    (void *)(intptr_t)(id + 1)))
		return -1;
	return id;
}

/* Define the stack of pcs (innermost first) of process upid; returns its
 * innermost callsite, or a negative value. */
static int64_t define(struct stackdb *stacks, int64_t upid, const uint64_t *pcs, unsigned depth,
		      int truncated)
{
	if (tracedb_begin(stacks->db))
		return -EIO;
	int64_t parent = -1;
	int level = 0;
	if (truncated) {
		stacks->truncated++;
		int64_t frame = frame_id(stacks, TRUNCATED_KEY, -1, 0, "[truncated]");
		parent = frame < 0 ? -1 : callsite_id(stacks, -1, frame, level++);
		if (parent < 0)
			return -EIO;
	}
	for (unsigned i = depth; i-- > 0;) {
		const struct stackdb_module *m = module_of(stacks, upid, pcs[i]);
		int64_t frame =
		    m ? frame_id(stacks, (uint64_t)m->module_id, m->module_id, pcs[i] - m->bias,
				 NULL)
		      : frame_id(stacks, UNKNOWN_MODULE - (uint64_t)upid, -1, pcs[i], NULL);
		parent = frame < 0 ? -1 : callsite_id(stacks, parent, frame, level++);
		if (parent < 0)
			return -EIO;
	}
	return parent;
}

int64_t stackdb_stack(struct stackdb *stacks, int64_t upid, const struct weft_event *event)
{
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	void *found = table_get(stacks->stacks, (uint64_t)upid, event->a);
	if (found || !payload || len < 8)
		return found ? (int64_t)(intptr_t)found - 1 : -1;
	uint64_t pcs[MAX_FRAMES];
	unsigned depth = (unsigned)(len / 8);
	if (depth > MAX_FRAMES)
		depth = MAX_FRAMES;
	memcpy(pcs, payload, depth * 8);
	int64_t leaf = define(stacks, upid, pcs, depth, (event->b >> 16) & 1);
	if (leaf < 0)
		return leaf;
	if (table_put(stacks->stacks, (uint64_t)upid, event->a, (void *)(intptr_t)(leaf + 1)))
		return -ENOMEM;
	return leaf;
}

int stackdb_object_first_use(struct stackdb *stacks, int64_t object_id, int64_t callsite)
{
	if (object_id < 0 || callsite < 0 || table_get(stacks->objects, (uint64_t)object_id, 0))
		return 0;
	if (table_put(stacks->objects, (uint64_t)object_id, 0, (void *)1))
		return -ENOMEM;
	if (tracedb_begin(stacks->db))
		return -EIO;
	sqlite3_bind_int64(stacks->object_callsite, 1, object_id);
	sqlite3_bind_int64(stacks->object_callsite, 2, callsite);
	return step(stacks->object_callsite);
}

int stackdb_finish(struct stackdb *stacks, const char *mode, int verbose)
{
	if (tracedb_meta(stacks->db, "stacks", mode) ||
	    tracedb_meta_int(stacks->db, "stacks_truncated", stacks->truncated))
		return -EIO;
	if (!stacks->module_count || stacks->next_frame == 1)
		return 0;
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = stackdb_symbolize(stacks->db, stacks->modules, stacks->module_count, verbose);
	clock_gettime(CLOCK_MONOTONIC, &end);
	int64_t ns =
	    (int64_t)(end.tv_sec - start.tv_sec) * 1000000000 + (end.tv_nsec - start.tv_nsec);
	return rc ? rc : tracedb_meta_int(stacks->db, "stacks_symbolize_ns", ns);
}
