/*
 * tracestatus.c — the recording lock seen from outside, and the status a
 * reader shows (see tracestatus.h). /proc/locks has one line per lock:
 * "1: FLOCK  ADVISORY  WRITE 4321 fd:01:1234567 0 EOF" (major:minor:inode
 * of the locked file; a waiter's line has "->" where FLOCK is).
 */
#include "tracestatus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <sqlite3.h>

int tracestatus_recorder_pid(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	FILE *locks = fopen("/proc/locks", "re");
	if (!locks)
		return -errno;
	char line[256], kind[16], mode[16];
	int pid = 0, found = 0;
	unsigned major_id, minor_id;
	unsigned long long inode;
	while (!found && fgets(line, sizeof line, locks))
		if (sscanf(line, "%*[^:]: %15s %*s %15s %d %x:%x:%llu", kind, mode, &pid, &major_id,
			   &minor_id, &inode) == 6 &&
		    !strcmp(kind, "FLOCK") && !strcmp(mode, "WRITE") && inode == st.st_ino &&
		    major_id == major(st.st_dev) && minor_id == minor(st.st_dev))
			found = 1;
	fclose(locks);
	return found ? (pid > 0 ? pid : 1) : 0;
}

const char *tracestatus_resolve(const char *path, const char *meta_status)
{
	if (!strcmp(meta_status, "recording") && tracestatus_recorder_pid(path) == 0)
		return "interrupted";
	return meta_status;
}

/* meta status of the trace at path into out; 0 or -ENOENT/-EIO. */
static int read_meta_status(const char *path, char *out, size_t cap)
{
	sqlite3 *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc = -EIO;
	if (sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = -ENOENT;
		goto out;
	}
	sqlite3_busy_timeout(sql, 1000);
	if (sqlite3_prepare_v2(sql, "SELECT value FROM meta WHERE key = 'status'", -1, &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(stmt, 0));
		rc = 0;
	}
out:
	sqlite3_finalize(stmt);
	sqlite3_close(sql);
	return rc;
}

int tracestatus_read(const char *path, char *out, size_t cap)
{
	int rc = read_meta_status(path, out, cap);
	if (rc)
		return rc;
	const char *shown = tracestatus_resolve(path, out);
	if (shown != out)
		snprintf(out, cap, "%s", shown);
	return 0;
}
