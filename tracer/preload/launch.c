/*
 * launch.c — see launch.h. The forked children use raw system calls only:
 * they are copies of a process that may hold any lock. The exchange with
 * weftd uses raw system calls too (socket, connect, sendto, ppoll,
 * recvfrom, close), so that none of it goes through libweft.so's own
 * wrappers or the program's interposers.
 */
#include "launch.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "emit.h"
#include "real.h"

#define LAUNCH_WAIT_NS 2000000000ull
#define LAUNCH_POLL_NS 5000000l

extern char **environ;

static int executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The weft binary's path into out (PATH_MAX bytes): beside this library
 * (PREFIX/lib/libweft.so in a build tree, PREFIX/lib/weft/libweft.so
 * installed: PREFIX/bin/weft), else $WEFT_BIN, else on PATH; 0 or -ENOENT. */
static int find_weft(char *out)
{
	static const char *const beside[] = {"../bin/weft", "../../bin/weft"};
	Dl_info info;
	const char *slash = NULL;
	if (dladdr((void *)launch_collector, &info) && info.dli_fname)
		slash = strrchr(info.dli_fname, '/');
	for (size_t i = 0; slash && i < sizeof beside / sizeof beside[0]; i++) {
		int n = snprintf(out, PATH_MAX, "%.*s/%s", (int)(slash - info.dli_fname),
				 info.dli_fname, beside[i]);
		if (n > 0 && n < PATH_MAX && executable(out))
			return 0;
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

/* A line for the user on stderr (raw write: the program's stdio is its
 * own). */
static void tell_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell_user(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n > 0)
		syscall(SYS_write, 2, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* Child side: never returns. ready_fd becomes fd LAUNCH_READY_FD of the
 * collector, where it says whether it started. */
static void run_detached(const char *bin, char *const argv[], char *const envp[], int ready_fd)
{
	syscall(SYS_setsid);
	long grandchild = syscall(SYS_fork);
	if (grandchild != 0)
		syscall(SYS_exit_group, grandchild < 0 ? 1 : 0);
	if (ready_fd == LAUNCH_READY_FD)
		syscall(SYS_fcntl, ready_fd, F_SETFD, 0);
	else
		syscall(SYS_dup2, ready_fd, LAUNCH_READY_FD);
	long null = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (null != fd)
				syscall(SYS_dup2, (int)null, fd);
		if (null > 2)
			syscall(SYS_close, (int)null);
	}
	if (syscall(SYS_close_range, LAUNCH_READY_FD + 1u, ~0u, 0) < 0)
		for (int fd = LAUNCH_READY_FD + 1; fd < 1024; fd++)
			syscall(SYS_close, fd);
	syscall(SYS_execve, bin, argv, envp);
	syscall(SYS_exit_group, 127);
	__builtin_unreachable();
}

static int wait_readable(int fd, uint64_t deadline);

/* The collector's answer on ready_fd: "ok <ring file>\n" once its ring
 * file and trace exist, else "error <why>\n" or nothing (it died). 0 with
 * the ring file's path in ring (ring_cap bytes), or -EIO with why (cap
 * bytes), -ETIMEDOUT past deadline. */
static int read_answer(int ready_fd, uint64_t deadline, char *ring, size_t ring_cap, char *why,
		       size_t cap)
{
	char reply[256];
	size_t got = 0;
	snprintf(why, cap, "the collector stopped");
	while (got < sizeof reply - 1 && !memchr(reply, '\n', got)) {
		int rc = wait_readable(ready_fd, deadline);
		if (rc < 0)
			return rc;
		long n = syscall(SYS_read, ready_fd, reply + got, sizeof reply - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	reply[got] = '\0';
	char *newline = strchr(reply, '\n');
	if (newline)
		*newline = '\0';
	if (!strncmp(reply, "ok /", 4) && strlen(reply + 3) < ring_cap) {
		strcpy(ring, reply + 3);
		return 0;
	}
	if (!strncmp(reply, "error ", 6))
		snprintf(why, cap, "%s", reply + 6);
	return -EIO;
}

/* Whether a collector could write out: not when it exists (another
 * recording, or an old trace) or its directory cannot be written. 0, or
 * -errno with why. */
static int check_output(const char *out, char *why, size_t cap)
{
	struct stat st;
	if (lstat(out, &st) == 0) {
		snprintf(why, cap,
			 "it exists (another recording writes it, or it is an old trace)");
		return -EEXIST;
	}
	char dir[PATH_MAX];
	const char *slash = strrchr(out, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == out)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
	if (access(dir, W_OK | X_OK) < 0) {
		int error = errno;
		snprintf(why, cap, "its directory cannot be written (%s)", strerror(error));
		return -error;
	}
	return 0;
}

/* Attaches the ring file at path once it is ready (a collector creates
 * it), then exports WEFT_SHM. 0, -ETIMEDOUT past the deadline (ns,
 * emit_now), or -ENOMEM; nothing attached after a failure. */
static int attach_when_ready(const char *path, struct ring_map *map, uint64_t deadline)
{
	while (ring_file_attach(path, map) != 0) {
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

/* Fork the detached collector (argv, envp) with the write end of a pipe,
 * and read its answer. 0 or -errno with why. */
static int start_and_hear(const char *bin, char *const argv[], char *const envp[], char *ring,
			  size_t ring_cap, char *why, size_t cap)
{
	int pipe_fds[2];
	if (syscall(SYS_pipe2, pipe_fds, O_CLOEXEC) < 0) {
		int error = errno;
		snprintf(why, cap, "pipe: %s", strerror(error));
		return -error;
	}
	long child = syscall(SYS_fork);
	if (child == 0) {
		syscall(SYS_close, pipe_fds[0]);
		run_detached(bin, argv, envp, pipe_fds[1]);
	}
	int error = errno;
	syscall(SYS_close, pipe_fds[1]);
	if (child < 0) {
		syscall(SYS_close, pipe_fds[0]);
		snprintf(why, cap, "fork: %s", strerror(error));
		return -error;
	}
	int status;
	while (REAL(waitpid)((pid_t)child, &status, 0) < 0 && errno == EINTR)
		;
	int rc = read_answer(pipe_fds[0], emit_now() + LAUNCH_WAIT_NS, ring, ring_cap, why, cap);
	syscall(SYS_close, pipe_fds[0]);
	if (rc == -ETIMEDOUT)
		snprintf(why, cap, "the collector did not start within 2 s");
	return rc;
}

int launch_collector(const char *out, struct ring_map *map)
{
	int saved = errno;
	char bin[PATH_MAX], why[256];
	int rc = check_output(out, why, sizeof why);
	if (rc)
		goto fail;
	if (find_weft(bin)) {
		snprintf(why, sizeof why, "no weft binary found");
		rc = -ENOENT;
		goto fail;
	}

	char path[128], pid_text[24], ready_text[8];
	snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
	snprintf(ready_text, sizeof ready_text, "%d", LAUNCH_READY_FD);
	char *argv[] = {bin,	     "record",	   "--attach", pid_text, "-o",
			(char *)out, "--ready-fd", ready_text, NULL};

	size_t count = 0;
	while (environ && environ[count])
		count++;
	char **envp = calloc(count + 1, sizeof *envp);
	if (!envp) {
		snprintf(why, sizeof why, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	size_t kept = 0;
	for (size_t i = 0; i < count; i++)
		if (!drop_from_environment(environ[i]))
			envp[kept++] = environ[i];
	rc = start_and_hear(bin, argv, envp, path, sizeof path, why, sizeof why);
	free(envp);
	if (!rc)
		rc = attach_when_ready(path, map, emit_now() + LAUNCH_WAIT_NS);
	if (!rc) {
		errno = saved;
		return 0;
	}
	if (rc == -ETIMEDOUT)
		snprintf(why, sizeof why, "the collector's ring file did not appear");
fail:
	/* Said once for the whole process tree: its descendants inherit no
	 * WEFT_OUT and run untraced without asking again. */
	tell_user("weft: not recording to %s: %s; running untraced\n", out, why);
	unsetenv("WEFT_OUT");
	errno = saved;
	return rc;
}

/* Asking weftd (see launch.h). */

/* A note on stderr, only when WEFT_DEBUG is set. */
static void debug_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug_note(const char *fmt, ...)
{
	const char *debug = getenv("WEFT_DEBUG");
	if (!debug || !*debug)
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n > 0)
		syscall(SYS_write, 2, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* weftd's default socket (as daemon/collectd.c chooses it); 0 or
 * -ENAMETOOLONG. */
static int default_socket(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && xdg[0] == '/'
		    ? snprintf(out, cap, "%s/weft/weftd.sock", xdg)
		    : snprintf(out, cap, "/tmp/weft-%u/weftd.sock", (unsigned)getuid());
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Waits until fd is readable or the deadline passes: 0 (readable, or a
 * signal interrupted the wait) or -ETIMEDOUT / -errno. */
static int wait_readable(int fd, uint64_t deadline)
{
	uint64_t now = emit_now();
	if (now >= deadline)
		return -ETIMEDOUT;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec left = {(time_t)((deadline - now) / 1000000000u),
				(long)((deadline - now) % 1000000000u)};
	long rc = syscall(SYS_ppoll, &pfd, 1, &left, NULL, 0);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

/* The request line and its answer; the ring file's path into shm. */
static int ask(const char *socket_path, uint64_t deadline, char *shm, size_t cap)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path)
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, socket_path);
	char raw[64], comm[16];
	if (!cmdline_comm_of_path((const char *)getauxval(AT_EXECFN), comm, sizeof comm)) {
		long n = cmdline_read_file("/proc/self/comm", raw, sizeof raw);
		if (n <= 0 || cmdline_comm(raw, (size_t)n, comm, sizeof comm) == 0)
			strcpy(comm, "program");
	}
	for (char *c = comm; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = '_';
	char line[96];
	int len = snprintf(line, sizeof line, "weft 1 %d %s\n", (int)getpid(), comm);

	long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	char reply[256];
	size_t got = 0;
	if (syscall(SYS_connect, (int)fd, &addr, sizeof addr) < 0) {
		rc = -errno;
		goto out;
	}
	/* A refusal may come before weftd reads the request (and make the
	 * send fail): the answer decides, or EOF. */
	syscall(SYS_sendto, (int)fd, line, (size_t)len, MSG_NOSIGNAL, NULL, 0);
	while (!memchr(reply, '\n', got)) {
		if (got == sizeof reply) {
			rc = -EPROTO;
			goto out;
		}
		if ((rc = wait_readable((int)fd, deadline)) < 0)
			goto out;
		long r =
		    syscall(SYS_recvfrom, (int)fd, reply + got, sizeof reply - got, 0, NULL, NULL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -ECONNRESET;
			goto out;
		}
		got += (size_t)r;
	}
	*(char *)memchr(reply, '\n', got) = 0;
	if (strncmp(reply, "ok /", 4) == 0 && strlen(reply + 3) < cap) {
		strcpy(shm, reply + 3);
	} else {
		debug_note("weft: weftd at %s answered \"%s\"; running untraced\n", socket_path,
			   reply);
		rc = -ECONNREFUSED;
	}
out:
	syscall(SYS_close, (int)fd);
	return rc;
}

int launch_ask_weftd(struct ring_map *map)
{
	int saved = errno;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *named = getenv("WEFT_SOCKET");
	int rc = 0;
	if (named && *named) {
		if (strlen(named) >= sizeof path)
			rc = -ENAMETOOLONG;
		else
			strcpy(path, named);
	} else {
		struct stat st;
		if (default_socket(path, sizeof path) < 0 || stat(path, &st) < 0) {
			errno = saved;
			return -ENOENT;
		}
	}
	char shm[128];
	uint64_t deadline = emit_now() + LAUNCH_ASK_MS * 1000000ull;
	if (rc == 0)
		rc = ask(path, deadline, shm, sizeof shm);
	if (rc == 0)
		rc = attach_when_ready(shm, map, deadline);
	if (rc && rc != -ECONNREFUSED)
		debug_note("weft: no answer from weftd at %s (%s); running untraced\n",
			   named && *named ? named : path, strerror(-rc));
	errno = saved;
	return rc;
}
