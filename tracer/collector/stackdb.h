/*
 * stackdb.h — the stacks of a trace: modules, frames and callsites.
 *
 * The model hands over the MODULE and STACK records (event.h) of each
 * process incarnation (upid). stackdb writes
 *   stack_module    one row per MODULE record;
 *   stack_frame     one row per distinct (module, pc relative to its load
 *                   bias), or (no module, pc) for a pc outside every module
 *                   known to its process;
 *   stack_callsite  a prefix tree: one node per distinct (parent, frame),
 *                   depth 0 the outermost frame; a stack cut at 32 frames
 *                   has as root the frame '[truncated]' (no module);
 * as the records come, and knows each stack (upid, id) by its innermost
 * callsite. stackdb_finish then symbolizes (stackdb_symbolize.c): function,
 * file and line of each frame from the module's symbol table and DWARF,
 * and the label of each lock that lies in a module's .data or .bss.
 *
 * Records of a process may refer to a stack whose definition (payload) is
 * in another ring of the same process; the preload stamps a definition
 * before any reference can be made (stacks.h), so in timestamp order the
 * definition comes first. A reference to an unknown id gives -1.
 * Not thread-safe: the model's owner calls everything.
 */
#ifndef WEFT_STACKDB_H
#define WEFT_STACKDB_H

#include <stdint.h>

#include "event.h"

struct stackdb;
struct tracedb;

/* An empty store writing into db. NULL when out of memory. */
struct stackdb *stackdb_new(struct tracedb *db);
void stackdb_free(struct stackdb *stacks);

/* A MODULE record of process upid. Returns 0, -ENOMEM or -EIO. */
int stackdb_module(struct stackdb *stacks, int64_t upid, const struct weft_event *event);

/* A STACK record of process upid: defines the stack when it carries pcs.
 * Returns the stack's innermost callsite_id (>= 0), -1 when the stack is
 * unknown or empty, or -ENOMEM/-EIO (< -1) on failure. */
int64_t stackdb_stack(struct stackdb *stacks, int64_t upid, const struct weft_event *event);

/* The object object_id (a lock of process upid at address) was first used
 * at callsite_id: object.callsite_id, once per object. Returns 0 or -EIO. */
int stackdb_object_first_use(struct stackdb *stacks, int64_t object_id, int64_t callsite_id);

/* End of the recording: symbolize every frame, label the objects that lie
 * in a module's data, write meta 'stacks' (mode), 'stacks_truncated' and
 * 'stacks_symbolize_ns' (how long symbolizing took).
 * verbose: say on stderr what it does when it takes long. Returns 0 or
 * -EIO. */
int stackdb_finish(struct stackdb *stacks, const char *mode, int verbose);

/* --- stackdb_symbolize.c ------------------------------------------------ */

struct stackdb_module {
	int64_t module_id;
	int64_t upid;
	uint64_t start, end, bias;
	char *path;
};

/* Fill function/file/line of every frame row and the labels of objects in
 * the modules' data (db is the SQLite handle of the trace). Returns 0 or
 * -EIO. */
int stackdb_symbolize(struct tracedb *db, const struct stackdb_module *modules, size_t count,
		      int verbose);

#endif
