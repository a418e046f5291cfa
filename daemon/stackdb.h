/*
 * stackdb: reading the stack tables of a trace (schema v1's stack_module,
 * stack_frame, stack_callsite and thread_state.callsite_id /
 * waker_callsite_id), for the stack and flame routes.
 *
 * A trace recorded before stacks existed has none of these: every reader
 * asks stackdb_available() first and answers "no stacks" rather than an
 * error. Everything in the tables is hostile: a callsite's parent chain
 * may loop or run deep (walks stop after STACKDB_MAX_FRAMES), and module,
 * function, file and line may each be NULL.
 */
#ifndef WEFT_STACKDB_H
#define WEFT_STACKDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "json.h"

/* The deepest stack a reader walks (the recorder cuts at 32 frames). */
#define STACKDB_MAX_FRAMES 256

/* True when the trace has the stack tables and thread_state's
 * callsite_id and waker_callsite_id columns. */
bool stackdb_available(sqlite3 *db);

/* Writes the frames of callsite, innermost first, as a JSON array of
 * {callsite_id, depth, function, file, line, module, build_id, rel_pc}
 * (NULL fields as null). Returns 0, -ENOENT (no such callsite: nothing
 * written) or -EIO. */
int stackdb_frames(sqlite3 *db, int64_t callsite, struct json *j);

/* The SQL expression naming the frame f (joined with its module m): the
 * function, else "module+0xrel_pc", else "0xrel_pc"; as the format of an
 * snprintf that inserts something else into the statement (% doubled). */
#define STACKDB_FRAME_NAME_FMT                                                                     \
	"COALESCE(f.function, replace(m.path, rtrim(m.path, replace(m.path, '/', '')), '') "       \
	"|| printf('+0x%%llx', f.rel_pc), printf('0x%%llx', f.rel_pc))"

#endif
