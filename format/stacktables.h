/*
 * stacktables.h — whether a trace holds stacks of waits (schema v1's
 * stack_module, stack_frame, stack_callsite and thread_state's
 * callsite_id, waker_callsite_id), for every reader of them: the export,
 * weftd's stack routes.
 */
#ifndef WEFT_FORMAT_STACKTABLES_H
#define WEFT_FORMAT_STACKTABLES_H

#include <stdbool.h>

#include <sqlite3.h>

/* True when the tables and columns exist and at least one callsite was
 * recorded: a trace of an older schema, one recorded with --stacks=none
 * or one whose program never waited has no stacks to show. */
bool stacktables_present(sqlite3 *db);

#endif
