/*
 * cmdline.c — see cmdline.h.
 */
#include "cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t cmdline_pack(const char *raw, size_t raw_len, char *out, size_t out_size)
{
	size_t used = 0;
	size_t at = 0;
	if (!out_size)
		return 0;
	while (at < raw_len) {
		const char *arg = raw + at;
		const char *nul = memchr(arg, '\0', raw_len - at);
		size_t len = nul ? (size_t)(nul - arg) : raw_len - at;
		if (used + len + 1 > out_size) {
			size_t room = out_size - used;
			if (room == 0)
				break;
			memcpy(out + used, arg, room - 1);
			out[used + room - 1] = '\0';
			return out_size;
		}
		memcpy(out + used, arg, len);
		out[used + len] = '\0';
		used += len + 1;
		at += len + 1;
	}
	return used;
}

size_t cmdline_comm(const char *raw, size_t raw_len, char *out, size_t out_size)
{
	size_t len = 0;
	while (len < raw_len && len < 15 && len + 1 < out_size && raw[len] != '\n' && raw[len])
		len++;
	memcpy(out, raw, len);
	out[len] = '\0';
	return len;
}

long cmdline_read_file(const char *path, char *buffer, size_t size)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < size) {
		long n = syscall(SYS_read, (int)fd, buffer + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	syscall(SYS_close, (int)fd);
	return (long)got;
}
