/*
 * wrap_file.c — waits on files (hot path): positioned reads and writes
 * (pread, pwrite and their vector forms) and the calls that wait for the
 * disk (fsync, fdatasync, sync_file_range). A database's backend spends its
 * Blocked time here (the WAL's fdatasync, a page's pwrite); without these
 * wrappers that time reads `other`.
 *
 * Each records BLOCK_BEGIN/END with reason io and a = the fd, as read and
 * write do (wrap_io.c), so the wait's object is the file's fd; on an fd
 * known to be non-blocking (fdnb.h) the data calls pass through. Positioned
 * calls do not move a stream's bytes: they write no IO_DONE.
 */
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdnb.h"
#include "preload.h"
#include "real.h"

#define FILE_WAIT(t, call, fd, expr) PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_IO, call, fd, 0, expr)

/* Whether a call on fd passes through unrecorded. */
#define PASS(t, fd) (!(t) || fdnb_is(fd))

WEFT_EXPORT ssize_t pread(int fd, void *buffer, size_t count, off_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(pread)(fd, buffer, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PREAD, fd, REAL(pread)(fd, buffer, count, offset));
}

WEFT_EXPORT ssize_t pread64(int fd, void *buffer, size_t count, off64_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(pread64)(fd, buffer, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PREAD, fd, REAL(pread64)(fd, buffer, count, offset));
}

WEFT_EXPORT ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(pwrite)(fd, buffer, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PWRITE, fd, REAL(pwrite)(fd, buffer, count, offset));
}

WEFT_EXPORT ssize_t pwrite64(int fd, const void *buffer, size_t count, off64_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(pwrite64)(fd, buffer, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PWRITE, fd, REAL(pwrite64)(fd, buffer, count, offset));
}

WEFT_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int count, off_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(preadv)(fd, iov, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PREADV, fd, REAL(preadv)(fd, iov, count, offset));
}

WEFT_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset)
{
	struct preload_thread *t = preload_recorder();
	if (PASS(t, fd))
		return REAL(pwritev)(fd, iov, count, offset);
	return FILE_WAIT(t, WEFT_CALL_PWRITEV, fd, REAL(pwritev)(fd, iov, count, offset));
}

WEFT_EXPORT int fsync(int fd)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(fsync)(fd);
	return FILE_WAIT(t, WEFT_CALL_FSYNC, fd, REAL(fsync)(fd));
}

WEFT_EXPORT int fdatasync(int fd)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(fdatasync)(fd);
	return FILE_WAIT(t, WEFT_CALL_FDATASYNC, fd, REAL(fdatasync)(fd));
}

WEFT_EXPORT int sync_file_range(int fd, off64_t offset, off64_t count, unsigned int flags)
{
	struct preload_thread *t = preload_recorder();
	if (!t || !(flags & SYNC_FILE_RANGE_WAIT_AFTER))
		return REAL(sync_file_range)(fd, offset, count, flags);
	return FILE_WAIT(t, WEFT_CALL_SYNC_FILE_RANGE, fd,
			 REAL(sync_file_range)(fd, offset, count, flags));
}
