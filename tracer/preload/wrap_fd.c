/*
 * wrap_fd.c — the calls that make, renumber or close pipes; each passes
 * its result through and then tells fdchan.h what the fds now are.
 * close() costs one bit test when the fd was not a recorded pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fdchan.h"
#include "preload.h"
#include "real.h"

WEFT_EXPORT int pipe(int fds[2])
{
	int result = REAL(pipe)(fds);
	struct preload_thread *t;
	if (result == 0 && (t = preload_recorder())) {
		int saved = errno;
		fdchan_note(&t->writer, fds[0]);
		fdchan_note(&t->writer, fds[1]);
		errno = saved;
	}
	return result;
}

WEFT_EXPORT int pipe2(int fds[2], int flags)
{
	int result = REAL(pipe2)(fds, flags);
	struct preload_thread *t;
	if (result == 0 && (t = preload_recorder())) {
		int saved = errno;
		fdchan_note(&t->writer, fds[0]);
		fdchan_note(&t->writer, fds[1]);
		errno = saved;
	}
	return result;
}

static int renumbered(int result)
{
	struct preload_thread *t;
	if (result >= 0 && (t = preload_recorder())) {
		int saved = errno;
		fdchan_note(&t->writer, result);
		errno = saved;
	}
	return result;
}

WEFT_EXPORT int dup(int fd)
{
	return renumbered(REAL(dup)(fd));
}

WEFT_EXPORT int dup2(int fd, int target)
{
	return renumbered(REAL(dup2)(fd, target));
}

WEFT_EXPORT int dup3(int fd, int target, int flags)
{
	return renumbered(REAL(dup3)(fd, target, flags));
}

WEFT_EXPORT int close(int fd)
{
	struct preload_thread *t = preload_recorder();
	if (t)
		fdchan_closed(&t->writer, fd);
	return REAL(close)(fd);
}
