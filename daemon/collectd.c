/*
 * collectd.c — see collectd.h for the socket, the protocol and the thread.
 *
 * A connection is "pending" from accept until it is answered: first its
 * request line is read (poll on the socket), then, once the collector is
 * forked, the ring file is tried every 10 ms. Every pending connection has
 * one deadline, COLLECTD_READY_MS after accept; past it the program is
 * answered "error" (it gives up on its side at 1 s anyway) and a collector
 * already started for it is killed and its files removed: no program will
 * attach to it.
 *
 * A collector whose program was answered "ok" is tracked in `children`
 * until reaped; what it leaves (a finished trace) is its business, as for
 * `weft record`, except a ring file left by a collector that was killed,
 * which is removed once it is reaped.
 */
#include "collectd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"
#include "weft/collector.h"

#define RING_TRY_MS 10
#define IDLE_MS 200
#define STOP_GRACE_MS 5000

extern char **environ;

struct pending {
	int fd;
	pid_t peer_pid;
	int64_t deadline; /* ms, CLOCK_MONOTONIC */
	char line[HANDSHAKE_LINE_MAX];
	size_t len;
	pid_t child; /* 0 while the request is read */
	char shm[96];
	char trace[PATH_MAX];
};

struct child {
	pid_t pid;
	char shm[96];
	char trace[PATH_MAX]; /* its trace (a name is not reused before reaping) */
};

struct collectd {
	char *socket_path;
	char *trace_dir;
	char *weft_bin;
	char **envp; /* weftd's environment minus LD_PRELOAD, WEFT_SHM/OUT/SOCKET */
	int listen_fd;
	dev_t sock_dev;
	ino_t sock_ino;
	int wake[2];
	pthread_t thread;
	int started;
	struct pending pending[COLLECTD_MAX_PENDING];
	size_t npending;
	struct child *children; /* answered "ok", not reaped yet */
	size_t nchildren, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int collectd_default_socket(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && xdg[0] == '/'
		    ? snprintf(out, cap, "%s/weft/weftd.sock", xdg)
		    : snprintf(out, cap, "/tmp/weft-%u/weftd.sock", (unsigned)getuid());
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The directory of the socket: created 0700 if missing; a default one
 * must be ours and is made 0700. 0 or -errno with err filled. */
static int prepare_dir(const char *socket_path, int is_default, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(socket_path, '/');
	if (!slash || slash == socket_path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - socket_path), socket_path);
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	struct stat st;
	if ((is_default ? lstat(dir, &st) : stat(dir, &st)) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (!is_default)
		return 0;
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to weftd's user", dir,
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot make %s private: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

/* Whether a weftd listens at path: 1 yes, 0 no (a stale socket file is
 * removed), or -errno (-EEXIST: something else is there). */
static int probe_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e != ECONNREFUSED)
		return -e;
	return unlink(addr->sun_path) == 0 || errno == ENOENT ? 0 : -errno;
}

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The weft binary: <dir of weftd>/weft, else PATH. */
static char *find_weft(void)
{
	char self[PATH_MAX], path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash &&
		    snprintf(path, sizeof(path), "%.*s/weft", (int)(slash - self), self) <
			(int)sizeof(path) &&
		    executable(path))
			return strdup(path);
	}
	const char *dirs = getenv("PATH");
	while (dirs && *dirs) {
		const char *end = strchrnul(dirs, ':');
		int len = snprintf(path, sizeof(path), "%.*s/weft", (int)(end - dirs), dirs);
		if (end > dirs && len > 0 && len < (int)sizeof(path) && executable(path))
			return strdup(path);
		dirs = *end ? end + 1 : end;
	}
	return NULL;
}

static int dropped_variable(const char *entry)
{
	static const char *const names[] = {
	    "LD_PRELOAD=", "WEFT_SHM=", "WEFT_OUT=", "WEFT_SOCKET="};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

static char **collector_environment(void)
{
	size_t count = 0;
	while (environ && environ[count])
		count++;
	char **envp = calloc(count + 1, sizeof(*envp));
	size_t kept = 0;
	for (size_t i = 0; envp && i < count; i++)
		if (!dropped_variable(environ[i]))
			envp[kept++] = environ[i];
	return envp;
}

int collectd_open(const struct collectd_options *options, struct collectd **out, char *err,
		  size_t errlen)
{
	char path[PATH_MAX];
	int is_default = !options->socket_path;
	if (is_default && collectd_default_socket(path, sizeof(path)) < 0) {
		snprintf(err, errlen, "the default socket path is too long");
		return -ENAMETOOLONG;
	}
	const char *socket_path = is_default ? path : options->socket_path;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "socket path too long (at most %zu bytes): %s",
			 sizeof(addr.sun_path) - 1, socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, socket_path);

	struct collectd *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->listen_fd = -1;
	c->wake[0] = c->wake[1] = -1;
	c->socket_path = strdup(socket_path);
	c->trace_dir = strdup(options->trace_dir);
	c->weft_bin = options->weft_bin ? strdup(options->weft_bin) : find_weft();
	c->envp = collector_environment();
	int rc;
	if (!c->socket_path || !c->trace_dir || !c->envp) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err;
	}
	if (!c->weft_bin) {
		snprintf(err, errlen,
			 "no weft binary next to weftd or in PATH (needed to record "
			 "programs; --no-collect to serve only)");
		rc = -ENOENT;
		goto err;
	}
	if ((rc = prepare_dir(socket_path, is_default, err, errlen)) < 0)
		goto err;
	rc = probe_socket(&addr);
	if (rc == 1) {
		snprintf(err, errlen, "another weftd is listening on %s", socket_path);
		rc = -EADDRINUSE;
		goto err;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: %s", socket_path,
			 rc == -EEXIST ? "exists and is not a socket" : strerror(-rc));
		goto err;
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", socket_path,
			 rc == -EADDRINUSE ? "another weftd is listening there" : strerror(-rc));
		goto err;
	}
	struct stat st;
	if (chmod(socket_path, 0600) < 0 || stat(socket_path, &st) < 0 ||
	    listen(c->listen_fd, 64) < 0 || pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", socket_path, strerror(-rc));
		unlink(socket_path);
		goto err;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	*out = c;
	return 0;
err:
	collectd_free(c);
	return rc;
}

const char *collectd_socket_path(const struct collectd *c)
{
	return c->socket_path;
}

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...)
{
	char text[PATH_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n > 0 && n < (int)sizeof(text))
		(void)!send(fd, text, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Child side of the fork: system calls only (weftd has other threads,
 * which may hold any lock). Never returns. */
static void exec_collector(const char *bin, char *const argv[], char *const envp[], pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGPIPE, &dfl, NULL);
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	/* stderr stays weftd's: a collector's failure shows in its log */
	if (syscall(SYS_close_range, 3u, ~0u, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	execve(bin, argv, envp);
	_exit(127);
}

static void remove_files(const struct pending *p)
{
	static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
	char path[PATH_MAX + 16];
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", p->trace, suffixes[i]);
		unlink(path);
	}
	unlink(p->shm);
}

/* Kills the collector of a program that will not attach, and what it
 * created. */
static void abandon(struct pending *p)
{
	if (p->child > 0) {
		kill(p->child, SIGKILL);
		while (waitpid(p->child, NULL, 0) < 0 && errno == EINTR)
			;
		remove_files(p);
		p->child = 0;
	}
}

static void finish(struct pending *p)
{
	close(p->fd);
	p->fd = -1;
}

/* Whether p->trace exists, or is the trace of a collector that may not
 * have created the file yet (it creates the ring file first, and is
 * answered for as soon as that is ready). */
static int taken(const struct collectd *c, const struct pending *p)
{
	for (size_t i = 0; i < c->npending; i++) {
		const struct pending *other = &c->pending[i];
		if (other != p && other->child && strcmp(other->trace, p->trace) == 0)
			return 1;
	}
	for (size_t i = 0; i < c->nchildren; i++)
		if (strcmp(c->children[i].trace, p->trace) == 0)
			return 1;
	return access(p->trace, F_OK) == 0 || errno != ENOENT;
}

/* The request has been read: start the collector. Answers and finishes p
 * on failure. */
static void start_collector(struct collectd *c, struct pending *p,
			    const struct handshake_request *req)
{
	char name[NAME_MAX + 1];
	time_t when = time(NULL);
	int named = 0;
	for (int n = 1; n <= 100 && !named; n++) {
		if (handshake_trace_name(req, when, n, name, sizeof(name)) < 0)
			break;
		int len = snprintf(p->trace, sizeof(p->trace), "%s/%s", c->trace_dir, name);
		named = len > 0 && len < (int)sizeof(p->trace) && !taken(c, p);
	}
	uint64_t nonce;
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != (ssize_t)sizeof(nonce))
		nonce = (uint64_t)now_ms() ^ ((uint64_t)p->peer_pid << 32) ^ (uint64_t)(uintptr_t)p;
	snprintf(p->shm, sizeof(p->shm), "/dev/shm/weft-%d-%016llx", (int)p->peer_pid,
		 (unsigned long long)nonce);
	if (!named) {
		reply(p->fd, "error no free trace name in %s\n", c->trace_dir);
		finish(p);
		return;
	}
	/* Room for every collector that may join `children` before the next
	 * call: each pending connection adds at most one when answered. */
	if (c->nchildren + COLLECTD_MAX_PENDING > c->cap) {
		size_t cap = 2 * (c->nchildren + COLLECTD_MAX_PENDING);
		struct child *grown = realloc(c->children, cap * sizeof(*grown));
		if (!grown) {
			reply(p->fd, "error out of memory\n");
			finish(p);
			return;
		}
		c->children = grown;
		c->cap = cap;
	}
	char pid_text[24];
	snprintf(pid_text, sizeof(pid_text), "%d", (int)p->peer_pid);
	char *argv[] = {c->weft_bin, "record", "-q", "--attach", pid_text,
			"--shm",     p->shm,   "-o", p->trace,	 NULL};
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0)
		exec_collector(c->weft_bin, argv, c->envp, parent);
	if (child < 0) {
		reply(p->fd, "error cannot start the collector: %s\n", strerror(errno));
		finish(p);
		return;
	}
	p->child = child;
}

static void read_request(struct collectd *c, struct pending *p)
{
	ssize_t n = recv(p->fd, p->line + p->len, sizeof(p->line) - p->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		finish(p);
		return;
	}
	p->len += (size_t)n;
	char *newline = memchr(p->line, '\n', p->len);
	if (!newline) {
		if (p->len == sizeof(p->line)) {
			reply(p->fd, "error request line too long\n");
			finish(p);
		}
		return;
	}
	struct handshake_request req;
	int rc = handshake_parse(p->line, (size_t)(newline - p->line) + 1, &req);
	if (rc == -EPROTONOSUPPORT) {
		reply(p->fd, "error protocol version not supported (this weftd speaks %d)\n",
		      HANDSHAKE_VERSION);
		finish(p);
	} else if (rc < 0) {
		reply(p->fd, "error bad request (want \"weft %d <pid> <comm>\")\n",
		      HANDSHAKE_VERSION);
		finish(p);
	} else {
		/* The pid to follow is the kernel's word for the peer (and in
		 * weftd's pid namespace), not the line's. */
		req.pid = p->peer_pid;
		start_collector(c, p, &req);
	}
}

/* A pending connection whose collector was started: answer once the ring
 * file can be attached, or the collector died, or the deadline passed. */
static void check_collector(struct collectd *c, struct pending *p, int64_t now)
{
	int status;
	pid_t r = waitpid(p->child, &status, WNOHANG);
	if (r == p->child) {
		/* it removed what it created (collect_open); a trace it found
		 * in its way is not ours to remove */
		p->child = 0;
		unlink(p->shm);
		reply(p->fd, "error the collector exited at once (status %d)\n",
		      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		finish(p);
		return;
	}
	if (collector_ring_ready(p->shm)) {
		struct child *child = &c->children[c->nchildren++];
		child->pid = p->child;
		memcpy(child->shm, p->shm, sizeof(child->shm));
		memcpy(child->trace, p->trace, sizeof(child->trace));
		p->child = 0;
		reply(p->fd, "ok %s\n", p->shm);
		finish(p);
	} else if (now >= p->deadline) {
		abandon(p);
		reply(p->fd, "error the collector did not start within %d ms\n", COLLECTD_READY_MS);
		finish(p);
	}
}

static void accept_all(struct collectd *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			reply(fd, "error cannot read the peer's credentials\n");
			close(fd);
		} else if (cred.uid != geteuid() && cred.uid != 0) {
			reply(
			    fd,
			    "error permission denied: uid %u may not record into uid %u's weftd\n",
			    (unsigned)cred.uid, (unsigned)geteuid());
			close(fd);
		} else if (cred.pid <= 0) {
			reply(fd, "error the peer's process is not visible to weftd\n");
			close(fd);
		} else if (c->npending == COLLECTD_MAX_PENDING) {
			reply(fd, "error busy\n");
			close(fd);
		} else {
			struct pending *p = &c->pending[c->npending++];
			memset(p, 0, sizeof(*p));
			p->fd = fd;
			p->peer_pid = cred.pid;
			p->deadline = now_ms() + COLLECTD_READY_MS;
		}
	}
}

/* Reaps the collectors that ended. */
static void reap(struct collectd *c)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->nchildren; i++) {
		int status;
		struct child *child = &c->children[i];
		pid_t r = waitpid(child->pid, &status, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) {
			c->children[kept++] = *child;
			continue;
		}
		if (r > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			fprintf(stderr, "weftd: collector %d ended with status %d\n",
				(int)child->pid,
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		/* a collector that finished removed it; one killed did not */
		unlink(child->shm);
	}
	c->nchildren = kept;
}

static void *collectd_main(void *arg)
{
	struct collectd *c = arg;
	struct pollfd fds[2 + COLLECTD_MAX_PENDING];
	size_t owner[2 + COLLECTD_MAX_PENDING];
	for (;;) {
		size_t nfds = 0;
		fds[nfds++] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
		fds[nfds++] = (struct pollfd){
		    .fd = c->npending < COLLECTD_MAX_PENDING ? c->listen_fd : -1, .events = POLLIN};
		int64_t now = now_ms();
		int64_t timeout = IDLE_MS;
		for (size_t i = 0; i < c->npending; i++) {
			struct pending *p = &c->pending[i];
			if (p->child) {
				timeout = timeout < RING_TRY_MS ? timeout : RING_TRY_MS;
			} else {
				owner[nfds] = i;
				fds[nfds++] = (struct pollfd){.fd = p->fd, .events = POLLIN};
			}
			int64_t left = p->deadline - now;
			timeout = left < timeout ? (left > 0 ? left : 0) : timeout;
		}
		if (poll(fds, nfds, (int)timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		for (size_t k = 2; k < nfds; k++)
			if (fds[k].revents)
				read_request(c, &c->pending[owner[k]]);
		now = now_ms();
		for (size_t i = 0; i < c->npending; i++) {
			struct pending *p = &c->pending[i];
			if (p->fd < 0)
				continue;
			if (p->child) {
				check_collector(c, p, now);
			} else if (now >= p->deadline) {
				reply(p->fd, "error no request within %d ms\n", COLLECTD_READY_MS);
				finish(p);
			}
		}
		size_t kept = 0;
		for (size_t i = 0; i < c->npending; i++)
			if (c->pending[i].fd >= 0)
				c->pending[kept++] = c->pending[i];
		c->npending = kept;
		if (fds[1].revents)
			accept_all(c);
		reap(c);
	}
	return NULL;
}

int collectd_start(struct collectd *c)
{
	int rc = pthread_create(&c->thread, NULL, collectd_main, c);
	if (rc)
		return -rc;
	c->started = 1;
	return 0;
}

void collectd_stop(struct collectd *c)
{
	if (!c)
		return;
	if (c->started) {
		(void)!write(c->wake[1], "x", 1);
		pthread_join(c->thread, NULL);
		c->started = 0;
	}
	for (size_t i = 0; i < c->npending; i++) {
		abandon(&c->pending[i]);
		reply(c->pending[i].fd, "error weftd is stopping\n");
		finish(&c->pending[i]);
	}
	c->npending = 0;
	for (size_t i = 0; i < c->nchildren; i++)
		kill(c->children[i].pid, SIGTERM);
	int64_t give_up = now_ms() + STOP_GRACE_MS;
	while (c->nchildren && now_ms() < give_up) {
		reap(c);
		if (c->nchildren) {
			struct timespec pause = {0, 10 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
	}
	for (size_t i = 0; i < c->nchildren; i++) {
		kill(c->children[i].pid, SIGKILL);
		waitpid(c->children[i].pid, NULL, 0);
		unlink(c->children[i].shm);
	}
	c->nchildren = 0;
	if (c->listen_fd >= 0) {
		struct stat st;
		if (stat(c->socket_path, &st) == 0 && st.st_dev == c->sock_dev &&
		    st.st_ino == c->sock_ino)
			unlink(c->socket_path);
		close(c->listen_fd);
		c->listen_fd = -1;
	}
}

void collectd_free(struct collectd *c)
{
	if (!c)
		return;
	collectd_stop(c);
	for (int i = 0; i < 2; i++)
		if (c->wake[i] >= 0)
			close(c->wake[i]);
	free(c->socket_path);
	free(c->trace_dir);
	free(c->weft_bin);
	free(c->envp);
	free(c->children);
	free(c);
}
