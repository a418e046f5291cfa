/*
 * wrap_fd.c — the calls that make, renumber, reflag or close file
 * descriptors. Each passes its arguments and result through and then
 * tells fdchan.h (which fds are pipes, recorded as FD_CHANNEL) and fdnb.h
 * (which fds are non-blocking) what the fds now are. close() costs two bit
 * tests when the fd was neither; open*() and fcntl() one bit update.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "fdchan.h"
#include "fdnb.h"
#include "preload.h"
#include "real.h"

static void made_pipe(int fds[2], int nonblocking)
{
	fdnb_set(fds[0], nonblocking);
	fdnb_set(fds[1], nonblocking);
	struct preload_thread *t = preload_recorder();
	if (t) {
		int saved = errno;
		preload_write_begin(t);
		fdchan_note(&t->writer, fds[0]);
		fdchan_note(&t->writer, fds[1]);
		preload_write_end(t);
		errno = saved;
	}
}

WEFT_EXPORT int pipe(int fds[2])
{
	int result = REAL(pipe)(fds);
	if (result == 0)
		made_pipe(fds, 0);
	return result;
}

WEFT_EXPORT int pipe2(int fds[2], int flags)
{
	int result = REAL(pipe2)(fds, flags);
	if (result == 0)
		made_pipe(fds, (flags & O_NONBLOCK) != 0);
	return result;
}

/* result is a new number for fd's open file description. */
static int renumbered(int fd, int result)
{
	if (result < 0)
		return result;
	fdnb_copy(fd, result);
	struct preload_thread *t = preload_recorder();
	if (t) {
		int saved = errno;
		preload_write_begin(t);
		fdchan_note(&t->writer, result);
		preload_write_end(t);
		errno = saved;
	}
	return result;
}

WEFT_EXPORT int dup(int fd)
{
	return renumbered(fd, REAL(dup)(fd));
}

WEFT_EXPORT int dup2(int fd, int target)
{
	return renumbered(fd, REAL(dup2)(fd, target));
}

WEFT_EXPORT int dup3(int fd, int target, int flags)
{
	return renumbered(fd, REAL(dup3)(fd, target, flags));
}

WEFT_EXPORT int close(int fd)
{
	struct preload_thread *t = preload_recorder();
	if (t) {
		preload_write_begin(t);
		fdchan_closed(&t->writer, fd);
		preload_write_end(t);
	}
	fdnb_set(fd, 0);
	return REAL(close)(fd);
}

/* close_range/closefrom: forget every fd of [first, last] we knew about
 * (only those below the bitmaps' limit can be known). */
static void closed_range(unsigned first, unsigned last)
{
	struct preload_thread *t = preload_recorder();
	unsigned end = last < FDNB_MAX - 1 ? last : FDNB_MAX - 1;
	if (t)
		preload_write_begin(t);
	for (unsigned fd = first; fd <= end; fd++) {
		if (t)
			fdchan_closed(&t->writer, (int)fd);
		fdnb_set((int)fd, 0);
	}
	if (t)
		preload_write_end(t);
}

WEFT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int result = REAL(close_range)(first, last, flags);
	if (result == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		closed_range(first, last);
	return result;
}

WEFT_EXPORT void closefrom(int lowest)
{
	REAL(closefrom)(lowest);
	if (lowest >= 0)
		closed_range((unsigned)lowest, ~0u);
}

/* After fcntl(fd, cmd, arg) returned result. */
static int fcntl_done(int fd, int cmd, void *arg, int result)
{
	if (result < 0)
		return result;
	if (cmd == F_SETFL)
		fdnb_set(fd, ((int)(intptr_t)arg & O_NONBLOCK) != 0);
	else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return renumbered(fd, result);
	return result;
}

/* fcntl's third argument is an int or a pointer: passed on as the
 * pointer-sized value the caller placed in the argument register. */
WEFT_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list args;
	va_start(args, cmd);
	void *arg = va_arg(args, void *);
	va_end(args);
	return fcntl_done(fd, cmd, arg, REAL(fcntl)(fd, cmd, arg));
}

WEFT_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list args;
	va_start(args, cmd);
	void *arg = va_arg(args, void *);
	va_end(args);
	return fcntl_done(fd, cmd, arg, REAL(fcntl64)(fd, cmd, arg));
}

WEFT_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list args;
	va_start(args, request);
	void *arg = va_arg(args, void *);
	va_end(args);
	int result = REAL(ioctl)(fd, request, arg);
	if (result == 0 && request == FIONBIO && arg)
		fdnb_set(fd, *(const int *)arg != 0);
	return result;
}

/* --- open: the new fd's O_NONBLOCK ----------------------------------- */

static int opened(int fd, int flags)
{
	if (fd >= 0)
		fdnb_set(fd, (flags & O_NONBLOCK) != 0);
	return fd;
}

/* The mode argument exists only with O_CREAT or O_TMPFILE; reading it
 * otherwise reads whatever the register holds, which the real call then
 * ignores, as glibc's own open does. */
#define OPEN_MODE(flags, last)                                                                     \
	mode_t mode = 0;                                                                           \
	if ((flags) & (O_CREAT | O_TMPFILE)) {                                                     \
		va_list args;                                                                      \
		va_start(args, last);                                                              \
		mode = (mode_t)va_arg(args, int);                                                  \
		va_end(args);                                                                      \
	}

WEFT_EXPORT int open(const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags);
	return opened(REAL(open)(path, flags, mode), flags);
}

WEFT_EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags);
	return opened(REAL(open64)(path, flags, mode), flags);
}

WEFT_EXPORT int openat(int dir, const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags);
	return opened(REAL(openat)(dir, path, flags, mode), flags);
}

WEFT_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags);
	return opened(REAL(openat64)(dir, path, flags, mode), flags);
}

/* The _FORTIFY_SOURCE entry points (no mode: O_CREAT is refused). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dir, const char *path, int flags);
int __openat64_2(int dir, const char *path, int flags);

WEFT_EXPORT int __open_2(const char *path, int flags)
{
	return opened(REAL(__open_2)(path, flags), flags);
}

WEFT_EXPORT int __open64_2(const char *path, int flags)
{
	return opened(REAL(__open64_2)(path, flags), flags);
}

WEFT_EXPORT int __openat_2(int dir, const char *path, int flags)
{
	return opened(REAL(__openat_2)(dir, path, flags), flags);
}

WEFT_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
	return opened(REAL(__openat64_2)(dir, path, flags), flags);
}
