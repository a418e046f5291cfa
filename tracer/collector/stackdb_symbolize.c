/*
 * stackdb_symbolize.c — names for the frames and the locks of a trace,
 * when the recording ends, with elfutils' libdwfl: the function from the
 * module's symbol table (or its separate debug file, found by build-id
 * under /usr/lib/debug), file and line from DWARF where present. A frame
 * is a return address: it is looked up at pc - 1, inside the call.
 * Frames whose module has no symbol there keep function NULL: readers
 * show module + offset (stack_frame.rel_pc).
 *
 * Each module file is opened once (frames are visited by path); the
 * answers are written into the trace, which stays self-contained.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <gelf.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stackdb.h"
#include "tracedb.h"

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* One module file opened for lookups. */
struct opened {
	Dwfl *dwfl;
	Dwfl_Module *module;
	Dwarf_Addr bias; /* ELF address + bias = libdwfl's address */
	char *path;
	unsigned generation; /* counts the opens */
};

static void close_module(struct opened *o)
{
	if (o->dwfl)
		dwfl_end(o->dwfl);
	free(o->path);
	*o = (struct opened){.generation = o->generation};
}

/* Open path unless it is open already; o->module NULL when it cannot be. */
static void open_module(struct opened *o, const char *path)
{
	if (o->path && strcmp(o->path, path) == 0)
		return;
	unsigned generation = o->generation + 1;
	close_module(o);
	o->generation = generation;
	o->path = strdup(path);
	if (!o->path || path[0] != '/')
		return;
	o->dwfl = dwfl_begin(&callbacks);
	if (!o->dwfl)
		return;
	o->module = dwfl_report_offline(o->dwfl, path, path, -1);
	dwfl_report_end(o->dwfl, NULL, NULL);
	if (o->module && !dwfl_module_getelf(o->module, &o->bias))
		o->module = NULL;
}

static double seconds_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int step(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* What one lookup found (the frames of many processes share a module
 * and pc: the rows come ordered by path and pc, so the last answer is
 * reused for the next row at the same place). */
struct answer {
	unsigned generation; /* of the module opened for it, 0: none */
	int64_t rel_pc;
	char function[512];
	char file[512];
	int line;
	bool found;
};

static void look_up(struct opened *o, int64_t rel_pc, struct answer *a)
{
	a->found = false;
	a->function[0] = a->file[0] = '\0';
	a->line = 0;
	if (!o->module)
		return;
	Dwarf_Addr address = (Dwarf_Addr)rel_pc - 1 + o->bias;
	GElf_Off offset = 0;
	GElf_Sym sym;
	const char *function =
	    dwfl_module_addrinfo(o->module, address, &offset, &sym, NULL, NULL, NULL);
	const char *file = NULL;
	Dwarf_Addr line_address = 0;
	Dwfl_Line *source = dwfl_module_getsrc(o->module, address);
	if (source)
		file = dwfl_lineinfo(source, &line_address, &a->line, NULL, NULL, NULL);
	/* a line row that starts before the function does is another
	 * function's (code without DWARF, as crt1's _start, gets the last row
	 * of the unit before it) */
	if (file && function && line_address < address - offset) {
		file = NULL;
		a->line = 0;
	}
	if (function)
		snprintf(a->function, sizeof a->function, "%s", function);
	if (file)
		snprintf(a->file, sizeof a->file, "%s", file);
	a->found = function || file;
}

/* Name one frame: rel_pc is the return address as an ELF address. */
static int name_frame(struct opened *o, sqlite3_stmt *update, int64_t frame_id, int64_t rel_pc,
		      struct answer *last)
{
	if (!o->module)
		return 0;
	if (last->generation != o->generation || last->rel_pc != rel_pc)
		look_up(o, rel_pc, last);
	last->generation = o->generation;
	last->rel_pc = rel_pc;
	if (!last->found)
		return 0;
	sqlite3_bind_int64(update, 1, frame_id);
	if (last->function[0])
		sqlite3_bind_text(update, 2, last->function, -1, SQLITE_STATIC);
	if (last->file[0])
		sqlite3_bind_text(update, 3, last->file, -1, SQLITE_STATIC);
	if (last->file[0] && last->line > 0)
		sqlite3_bind_int(update, 4, last->line);
	return step(update);
}

static int name_frames(sqlite3 *sql, struct opened *o, int verbose)
{
	sqlite3_stmt *select = NULL, *update = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(sql,
			       "SELECT f.frame_id, f.rel_pc, m.path FROM stack_frame f "
			       "JOIN stack_module m USING (module_id) WHERE f.function IS NULL "
			       "ORDER BY m.path, f.rel_pc",
			       -1, &select, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sql,
			       "UPDATE stack_frame SET function = ?2, file = ?3, line = ?4 "
			       "WHERE frame_id = ?1",
			       -1, &update, NULL) != SQLITE_OK)
		goto out;
	double start = seconds_now();
	int told = 0, step_rc;
	long frames = 0;
	struct answer last = {0};
	while ((step_rc = sqlite3_step(select)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(select, 2);
		open_module(o, path ? path : "");
		if (name_frame(o, update, sqlite3_column_int64(select, 0),
			       sqlite3_column_int64(select, 1), &last))
			goto out;
		if (verbose && !told && ++frames % 64 == 0 && seconds_now() - start > 1.0) {
			fprintf(stderr, "weft: symbolizing the stacks' frames (module %s)...\n",
				path ? path : "?");
			told = 1;
		}
	}
	rc = step_rc == SQLITE_DONE ? 0 : -EIO;
out:
	sqlite3_finalize(select);
	sqlite3_finalize(update);
	return rc;
}

/* The module of upid holding address, or NULL. */
static const struct stackdb_module *module_at(const struct stackdb_module *modules, size_t count,
					      int64_t upid, uint64_t address)
{
	for (size_t i = count; i-- > 0;)
		if (modules[i].upid == upid && address >= modules[i].start &&
		    address < modules[i].end)
			return &modules[i];
	return NULL;
}

/* Label one object after the data symbol holding it (offset appended when
 * it is inside the symbol). */
static int label_object(struct opened *o, sqlite3_stmt *update, int64_t object_id,
			uint64_t elf_address)
{
	if (!o->module)
		return 0;
	GElf_Off offset = 0;
	GElf_Sym sym;
	const char *name =
	    dwfl_module_addrinfo(o->module, elf_address + o->bias, &offset, &sym, NULL, NULL, NULL);
	if (!name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
	    offset >= sym.st_size + (sym.st_size == 0))
		return 0;
	char label[256];
	if (offset)
		snprintf(label, sizeof label, "%s+0x%llx", name, (unsigned long long)offset);
	else
		snprintf(label, sizeof label, "%s", name);
	sqlite3_bind_int64(update, 1, object_id);
	sqlite3_bind_text(update, 2, label, -1, SQLITE_TRANSIENT);
	return step(update);
}

static int label_objects(sqlite3 *sql, struct opened *o, const struct stackdb_module *modules,
			 size_t count)
{
	sqlite3_stmt *select = NULL, *update = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(sql,
			       "SELECT object_id, upid, address FROM object WHERE upid IS NOT NULL "
			       "AND kind IN ('mutex', 'rwlock', 'cond', 'sem', 'barrier', 'futex') "
			       "AND label = kind || printf(' 0x%x', address)",
			       -1, &select, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sql, "UPDATE object SET label = ?2 WHERE object_id = ?1", -1,
			       &update, NULL) != SQLITE_OK)
		goto out;
	int step_rc;
	while ((step_rc = sqlite3_step(select)) == SQLITE_ROW) {
		uint64_t address = (uint64_t)sqlite3_column_int64(select, 2);
		const struct stackdb_module *m =
		    module_at(modules, count, sqlite3_column_int64(select, 1), address);
		if (!m)
			continue; /* on the heap or a stack: its first use names it */
		open_module(o, m->path);
		if (label_object(o, update, sqlite3_column_int64(select, 0), address - m->bias))
			goto out;
	}
	rc = step_rc == SQLITE_DONE ? 0 : -EIO;
out:
	sqlite3_finalize(select);
	sqlite3_finalize(update);
	return rc;
}

int stackdb_symbolize(struct tracedb *db, const struct stackdb_module *modules, size_t count,
		      int verbose)
{
	if (tracedb_begin(db))
		return -EIO;
	sqlite3 *sql = tracedb_sqlite(db);
	struct opened o = {0};
	int rc = name_frames(sql, &o, verbose);
	if (!rc)
		rc = label_objects(sql, &o, modules, count);
	close_module(&o);
	return rc;
}
