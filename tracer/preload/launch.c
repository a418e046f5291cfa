/*
 * launch.c — see launch.h. The forked children use raw system calls only:
 * they are copies of a process that may hold any lock.
 */
#include "launch.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emit.h"
#include "real.h"

#define LAUNCH_WAIT_NS 2000000000ull
#define LAUNCH_POLL_NS 5000000l

extern char **environ;

static int executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The weft binary's path into out (PATH_MAX bytes); 0 or -ENOENT. */
static int find_weft(char *out)
{
	Dl_info info;
	if (dladdr((void *)launch_collector, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');
		if (slash) {
			int n = snprintf(out, PATH_MAX, "%.*s/../bin/weft",
					 (int)(slash - info.dli_fname), info.dli_fname);
			if (n > 0 && n < PATH_MAX && executable(out))
				return 0;
		}
	}
	const char *bin = getenv("WEFT_BIN");
	if (bin && *bin && strlen(bin) < PATH_MAX && executable(bin)) {
		strcpy(out, bin);
		return 0;
	}
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *end = strchrnul(path, ':');
		int n = snprintf(out, PATH_MAX, "%.*s/weft", (int)(end - path), path);
		if (end > path && n > 0 && n < PATH_MAX && executable(out))
			return 0;
		path = *end ? end + 1 : end;
	}
	return -ENOENT;
}

static int drop_from_environment(const char *entry)
{
	return !strncmp(entry, "LD_PRELOAD=", 11) || !strncmp(entry, "WEFT_SHM=", 9) ||
	       !strncmp(entry, "WEFT_OUT=", 9);
}

/* Child side: never returns. */
static void run_detached(const char *bin, char *const argv[], char *const envp[])
{
	syscall(SYS_setsid);
	long grandchild = syscall(SYS_fork);
	if (grandchild != 0)
		syscall(SYS_exit_group, grandchild < 0 ? 1 : 0);
	long null = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (null != fd)
				syscall(SYS_dup2, (int)null, fd);
		if (null > 2)
			syscall(SYS_close, (int)null);
	}
	if (syscall(SYS_close_range, 3u, ~0u, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			syscall(SYS_close, fd);
	syscall(SYS_execve, bin, argv, envp);
	syscall(SYS_exit_group, 127);
	__builtin_unreachable();
}

int launch_collector(const char *out, struct ring_map *map)
{
	char bin[PATH_MAX];
	if (find_weft(bin))
		return -ENOENT;

	uint64_t nonce;
	if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != (ssize_t)sizeof nonce)
		nonce = emit_now() ^ ((uint64_t)getpid() << 32);
	char path[96], pid_text[24];
	snprintf(path, sizeof path, "/dev/shm/weft-%d-%016llx", (int)getpid(),
		 (unsigned long long)nonce);
	snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
	char *argv[] = {bin,	      "record", "--attach", pid_text, "--shm",
			path,	      "-o",     (char *)out, NULL};

	size_t count = 0;
	while (environ && environ[count])
		count++;
	char **envp = calloc(count + 1, sizeof *envp);
	if (!envp)
		return -ENOMEM;
	size_t kept = 0;
	for (size_t i = 0; i < count; i++)
		if (!drop_from_environment(environ[i]))
			envp[kept++] = environ[i];

	long child = syscall(SYS_fork);
	if (child == 0)
		run_detached(bin, argv, envp);
	int error = errno;
	free(envp);
	if (child < 0)
		return -error;
	int status;
	while (REAL(waitpid)((pid_t)child, &status, 0) < 0 && errno == EINTR)
		;

	uint64_t deadline = emit_now() + LAUNCH_WAIT_NS;
	int attached;
	while ((attached = ring_file_attach(path, map)) != 0) {
		if (emit_now() > deadline)
			return -ETIMEDOUT;
		struct timespec pause = {0, LAUNCH_POLL_NS};
		REAL(nanosleep)(&pause, NULL);
	}
	if (setenv("WEFT_SHM", path, 1)) {
		ring_file_unmap(map);
		return -ENOMEM;
	}
	return 0;
}
