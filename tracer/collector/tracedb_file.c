/*
 * tracedb_file.c — a trace as a file, for whoever meets one on disk (the
 * recorder about to replace it, a reader about to show it): is it being
 * recorded right now and what status a reader should show (the recording
 * lock tracedb_create takes, read by format/tracestatus.c, which weftd
 * shares), and may --force replace it. See tracedb.h.
 */
#include "tracedb.h"

#include "tracestatus.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

int tracedb_recorder_pid(const char *path)
{
	return tracestatus_recorder_pid(path);
}

int tracedb_status(const char *path, char *out, size_t cap)
{
	return tracestatus_read(path, out, cap);
}

/* 1 when path holds SQLite with weft's meta (a schema_version row). */
static int is_weft_trace(const char *path)
{
	char magic[16];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, magic, sizeof magic);
	close(fd);
	if (n != (ssize_t)sizeof magic || memcmp(magic, "SQLite format 3", 16))
		return 0;
	sqlite3 *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	int found = sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(sql, "SELECT 1 FROM meta WHERE key = 'schema_version'", -1,
				       &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	sqlite3_close(sql);
	return found;
}

static void unlink_side(const char *path, const char *suffix)
{
	char side[PATH_MAX + 8];
	struct stat st;
	snprintf(side, sizeof side, "%s%s", path, suffix);
	if (lstat(side, &st) == 0 && S_ISREG(st.st_mode))
		unlink(side);
}

int tracedb_replace(const char *path, char *why, size_t cap)
{
	struct stat st, again;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, cap, "%s", strerror(errno));
		return -errno;
	}
	int rc = 0;
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, cap, "is a symbolic link, not a trace");
		return -ELOOP;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, cap, "is a directory, not a trace");
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, cap, "is not a regular file (a device, FIFO or socket), not a trace");
		return -EINVAL;
	}
	int pid = tracedb_recorder_pid(path);
	if (pid > 0) {
		snprintf(why, cap, "is being recorded right now (by process %d)", pid);
		return -EBUSY;
	}
	if (!is_weft_trace(path)) {
		snprintf(why, cap, "is not a weft trace; --force replaces only traces");
		return -EPROTO;
	}
	if (lstat(path, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
		snprintf(why, cap, "changed while it was being checked");
		return -ESTALE;
	}
	if (unlink(path) < 0) {
		rc = -errno;
		snprintf(why, cap, "%s", strerror(errno));
		return rc;
	}
	unlink_side(path, "-wal");
	unlink_side(path, "-shm");
	return 0;
}
