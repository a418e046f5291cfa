/*
 * fdscan.c — see fdscan.h.
 *
 * One ppoll with a zero timeout and no events asks the kernel about up to
 * CHUNK fds at once: a number that is not an open fd comes back POLLNVAL.
 * Fds below limit are asked in chunks, CHUNK pollfds on the stack each.
 * This costs about half of listing /proc/self/fd (whose open and getdents
 * build a proc inode per fd), and much less in a process with few fds.
 * Should ppoll refuse (an RLIMIT_NOFILE below CHUNK), /proc/self/fd is
 * listed instead.
 */
#include "fdscan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 256

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int list_proc(int limit, void (*visit)(int fd, void *ctx), void *ctx)
{
	long dir =
	    syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	char buffer[2048] __attribute__((aligned(8)));
	long n;
	while ((n = syscall(SYS_getdents64, (int)dir, buffer, sizeof buffer)) > 0) {
		for (long at = 0; at < n;) {
			struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + at);
			at += entry->d_reclen;
			const char *c = entry->d_name;
			long fd = 0;
			if (*c < '0' || *c > '9')
				continue;
			while (*c >= '0' && *c <= '9' && fd <= limit)
				fd = fd * 10 + (*c++ - '0');
			if (!*c && fd < limit && fd != dir)
				visit((int)fd, ctx);
		}
	}
	syscall(SYS_close, (int)dir);
	return 0;
}

int fdscan_each(int limit, void (*visit)(int fd, void *ctx), void *ctx)
{
	struct pollfd fds[CHUNK];
	struct timespec zero = {0, 0};
	for (int base = 0; base < limit; base += CHUNK) {
		int count = limit - base < CHUNK ? limit - base : CHUNK;
		for (int i = 0; i < count; i++)
			fds[i] = (struct pollfd){.fd = base + i, .events = 0};
		long n;
		do
			n = syscall(SYS_ppoll, fds, (unsigned long)count, &zero, NULL, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return base == 0 ? list_proc(limit, visit, ctx) : -errno;
		for (int i = 0; i < count; i++)
			if (!(fds[i].revents & POLLNVAL))
				visit(base + i, ctx);
	}
	return 0;
}
