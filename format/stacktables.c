/*
 * stacktables.c — see stacktables.h.
 */
#include "stacktables.h"

#include <stddef.h>

bool stacktables_present(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	bool ok = false;
	/* A table that is not there fails the prepare: false. */
	if (sqlite3_prepare_v2(
		db,
		"SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
		"name IN ('stack_module', 'stack_frame', 'stack_callsite')) = 3 AND "
		"(SELECT COUNT(*) FROM pragma_table_info('thread_state') WHERE name "
		"IN ('callsite_id', 'waker_callsite_id')) = 2 AND "
		"EXISTS (SELECT 1 FROM stack_callsite)",
		-1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		ok = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return ok;
}
