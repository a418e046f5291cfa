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

size_t cmdline_pack_argv(int argc, char *const argv[], char *out, size_t out_size)
{
	size_t used = 0;
	if (!out_size)
		return 0;
	for (int i = 0; i < argc && argv[i]; i++) {
		size_t len = strlen(argv[i]);
		if (used + len + 1 > out_size) {
			size_t room = out_size - used;
			if (room == 0)
				break;
			memcpy(out + used, argv[i], room - 1);
			out[used + room - 1] = '\0';
			return out_size;
		}
		memcpy(out + used, argv[i], len + 1);
		used += len + 1;
	}
	return used;
}

size_t cmdline_comm_of_path(const char *path, char *out, size_t out_size)
{
	out[0] = '\0';
	if (!path)
		return 0;
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (!*name || strspn(name, "0123456789") == strlen(name))
		return 0;
	size_t len = strlen(name);
	if (len > 15)
		len = 15;
	if (len + 1 > out_size)
		len = out_size - 1;
	memcpy(out, name, len);
	out[len] = '\0';
	return len;
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
