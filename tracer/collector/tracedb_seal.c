/*
 * tracedb_seal.c — a finished trace is one file (tracedb_close): its WAL
 * checkpointed into it and WAL mode left (journal_mode DELETE), so no -wal
 * or -shm stays beside it.
 *
 * Leaving WAL mode needs every other connection closed. A reader that keeps
 * the trace open (weftd serving it live) is waited for SEAL_WAIT_MS; then
 * the trace is copied into a new file that is renamed over it (the reader
 * goes on reading the old one, the same rows, until it reopens):
 *   - when the checkpoint went through (the WAL is empty, every page is in
 *     the file), a byte copy (copy_file_range: a reflink where the
 *     filesystem has them) with the header's format bytes 18-19 set from 2
 *     (WAL) to 1 (rollback journal), which is all leaving WAL mode changes
 *     in the file; seconds for a trace of gigabytes where VACUUM rebuilds
 *     every table and index;
 *   - else (a reader's transaction kept WAL frames out of the file) VACUUM
 *     INTO, which reads through the WAL.
 * Runs on the writer's thread, with no transaction open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracedb.h"
#include "tracedb_internal.h"

#define SEAL_STEP_MS 20
/* the wait for a reader when the WAL is checkpointed already: its open
 * connection, not a transaction, holds WAL mode, and that does not end by
 * itself */
#define SEAL_WAIT_CHECKPOINTED_MS 100

/* Checkpoint and leave WAL mode, retrying while another connection holds
 * the file. 0, -EBUSY (still WAL; *checkpointed: every frame is in the
 * file) or -EIO. */
static int leave_wal(sqlite3 *sql, bool *checkpointed, void (*waiting)(void *), void *ctx)
{
	for (int waited = 0;; waited += SEAL_STEP_MS) {
		int log = -1, done = -1;
		int rc =
		    sqlite3_wal_checkpoint_v2(sql, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
		*checkpointed = rc == SQLITE_OK && log == done;
		sqlite3_stmt *stmt = NULL;
		bool sealed = false;
		if (rc == SQLITE_OK && sqlite3_prepare_v2(sql, "PRAGMA journal_mode=DELETE", -1,
							  &stmt, NULL) == SQLITE_OK) {
			rc = sqlite3_step(stmt);
			const char *mode =
			    rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
			sealed = mode && !strcmp(mode, "delete");
			if (rc == SQLITE_ROW)
				rc = SQLITE_BUSY; /* still "wal": another connection holds it */
		}
		sqlite3_finalize(stmt);
		if (sealed)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return -EIO; /* no room to checkpoint, say: the WAL stays, valid */
		if (waited >= (*checkpointed ? SEAL_WAIT_CHECKPOINTED_MS : TRACEDB_SEAL_WAIT_MS))
			return -EBUSY;
		if (waiting)
			waiting(ctx);
		struct timespec pause = {0, SEAL_STEP_MS * 1000000l};
		nanosleep(&pause, NULL);
	}
}

/* path's bytes into copy, in rollback-journal format. 0 or -errno. */
static int copy_bytes(const char *path, const char *copy)
{
	int rc = 0;
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	struct stat st;
	if (in < 0 || out < 0 || fstat(in, &st) < 0) {
		rc = -errno;
		goto out;
	}
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		left -= n;
	}
	static const unsigned char legacy[2] = {1, 1}; /* header bytes 18, 19 */
	if (pwrite(out, legacy, sizeof legacy, 18) != (ssize_t)sizeof legacy)
		rc = -EIO;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !rc)
		rc = -EIO;
	return rc;
}

/* The whole trace into copy through SQLite (reads the WAL too), then out
 * of WAL mode. 0 or -EIO. */
static int vacuum_into(sqlite3 *sql, const char *copy)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *out = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(sql, "VACUUM INTO ?1", -1, &stmt, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(stmt, 1, copy, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE ||
	    sqlite3_open_v2(copy, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		goto done;
	rc = 0;
done:
	sqlite3_finalize(stmt);
	if (out && sqlite3_close(out) != SQLITE_OK)
		rc = -EIO;
	return rc;
}

/* The copy renamed over path, its old -wal and -shm names removed.
 * Returns 0 or -EIO (no room for the copy, say: nothing changed). */
static int replace_with_copy(sqlite3 *sql, const char *path, bool checkpointed)
{
	size_t len = strlen(path) + 32;
	char *copy = malloc(len), *side = malloc(len);
	int rc = -EIO;
	if (!copy || !side)
		goto out;
	snprintf(copy, len, "%s.sealing-%d", path, (int)getpid());
	unlink(copy);
	if ((checkpointed ? copy_bytes(path, copy) : vacuum_into(sql, copy)) ||
	    rename(copy, path) < 0)
		goto out;
	snprintf(side, len, "%s-wal", path);
	unlink(side);
	snprintf(side, len, "%s-shm", path);
	unlink(side);
	rc = 0;
out:
	if (rc && copy)
		unlink(copy);
	free(copy);
	free(side);
	return rc;
}

int tracedb_seal(sqlite3 *sql, const char *path, void (*waiting)(void *ctx), void *ctx)
{
	bool checkpointed = false;
	int rc = leave_wal(sql, &checkpointed, waiting, ctx);
	if (rc == -EBUSY && !replace_with_copy(sql, path, checkpointed))
		rc = 0;
	return rc;
}
