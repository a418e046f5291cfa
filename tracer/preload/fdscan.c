/*
 * fdscan.c — see fdscan.h.
 */
#include "fdscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int fdscan_each(int limit, void (*visit)(int fd, void *ctx), void *ctx)
{
	long dir = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
