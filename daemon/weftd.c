/*
 * weftd: serves weft traces and the dashboard over HTTP.
 *
 *   weftd [--listen ADDR:PORT] [--sql-timeout MS] [--trace-dir DIR]
 *         [--socket PATH | --no-collect] FILE|DIR...
 *   (FILE|DIR may be left out with --trace-dir)
 *
 * The main thread parses the command line, opens the traces, binds the
 * collector socket (collectd.h: programs preloaded with libweft.so are
 * recorded into the trace directory, which is served), starts the HTTP
 * server (libmicrohttpd, epoll, a pool of two threads per CPU), the watcher
 * thread (live.h), the collectd thread and the warm-up thread (which
 * builds the in-memory timelines of the traces served at start, so that
 * the first look at a big trace does not wait for it), prints the URL and
 * the socket,
 * then waits for SIGINT or SIGTERM and shuts everything down in order:
 * collectors (each recording in progress is ended, its trace finished),
 * event streams, HTTP server, traces. Exit status: 0 after a signal, 1 on a startup
 * error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <pthread.h>

#include "collectd.h"
#include "gate.h"
#include "live.h"
#include "param.h"
#include "route.h"
#include "server.h"
#include "sqlguard.h"
#include "sqlpool.h"
#include "trace.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.1.0"
#endif

/* Timelines the warm-up thread builds before it leaves the rest to the
 * first request for each trace (each costs memory for as long as weftd
 * runs). */
#define WARM_BUDGET_BYTES ((size_t)256 << 20)

/* SQLite's heap in all (page caches, sorts, a console query's values):
 * beyond it a query fails with "out of memory" instead of growing
 * weftd (sqlguard.h). */
#define WEFTD_SQLITE_HEAP_MAX ((int64_t)256 << 20)

/* The warm-up thread: reads the summary of each trace served at start
 * (milliseconds: what the first requests answer from meanwhile), then
 * loads the timelines, in list order, until WARM_BUDGET_BYTES are loaded
 * or weftd stops (trace_set_stop makes a load return -ECANCELED). */
static void *warm_traces(void *arg)
{
	struct trace_set *set = arg;
	size_t loaded = 0, count = trace_set_count(set);
	for (size_t i = 0; i < count; i++) {
		struct trace *t = trace_set_at(set, i);
		const struct coarse *c;
		if (t && trace_coarse_read(t, &c) == 0)
			trace_coarse_done(t);
	}
	for (size_t i = 0; i < count && loaded < WARM_BUDGET_BYTES; i++) {
		struct trace *t = trace_set_at(set, i);
		const struct trace_timeline *tl;
		int rc = t ? trace_timeline_read(t, &tl) : -ENOENT;
		if (rc == -ECANCELED)
			break;
		if (rc < 0)
			continue;
		loaded += tl->bytes;
		trace_timeline_done(t);
	}
	return NULL;
}

/* HTTP worker threads: two per CPU, at least four, so that a request that
 * waits on SQLite (a console query may take its whole time budget) does
 * not hold up the page's other requests on a small machine. */
static unsigned pool_threads(long ncpu)
{
	unsigned threads = ncpu > 0 ? 2 * (unsigned)ncpu : 2;
	return threads < 4 ? 4 : threads;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: weftd [--listen ADDR:PORT] [--sql-timeout MS] [--trace-dir DIR]\n"
		"             [--socket PATH | --no-collect] FILE|DIR...\n"
		"(with --trace-dir, FILE|DIR may be left out)\n"
		"\n"
		"Serves weft traces (SQLite files written by `weft record`) and the\n"
		"timeline dashboard over HTTP. A DIR serves every *.db in it, including\n"
		"recordings that appear later.\n"
		"\n"
		"weftd also records: a program started anywhere with\n"
		"LD_PRELOAD=libweft.so (no WEFT_OUT, no WEFT_SHM) finds weftd through\n"
		"its socket and is recorded into the trace directory, one trace per\n"
		"program run, listed live. Only programs of weftd's user (or root).\n"
		"\n"
		"  --listen ADDR:PORT  where to listen (default 127.0.0.1:7878; port 0\n"
		"                      picks a free port). Only loopback unless told;\n"
		"                      beyond loopback every request needs the access\n"
		"                      token printed at start-up (as ?token=, its\n"
		"                      cookie, or Authorization: Bearer TOKEN)\n"
		"  --sql-timeout MS    stop SQL console queries after MS ms (default %d)\n"
		"  --trace-dir DIR     where recorded programs go (served). Default: the\n"
		"                      first DIR given, else ~/.local/share/weft/traces\n"
		"                      (created)\n"
		"  --socket PATH       the socket programs connect to (they find it through\n"
		"                      WEFT_SOCKET=PATH). Default: $XDG_RUNTIME_DIR/weft/\n"
		"                      weftd.sock, else /tmp/weft-UID/weftd.sock (directory\n"
		"                      mode 0700). A stale socket is replaced; if another\n"
		"                      weftd listens there, weftd refuses to start (with\n"
		"                      the default path it only serves, with a notice)\n"
		"  --no-collect        serve only: no socket, no recording\n"
		"  --version           print weftd's version\n"
		"  -h, --help          this help\n"
		"\n"
		"Prints \"weftd: serving N traces at http://ADDR:PORT/\" once ready, then\n"
		"\"weftd: recording programs that connect to SOCKET into DIR\";\n"
		"SIGINT or SIGTERM stop it (recordings in progress are ended and saved).\n",
		SQLGUARD_BUDGET_MS);
}

/* Parses "ADDR:PORT", ":PORT" or "PORT" into addr. 0 or -EINVAL. */
static int parse_listen(const char *text, struct sockaddr_in *addr)
{
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(text, ':');
	const char *port_text = colon ? colon + 1 : text;
	if (colon && colon != text) {
		size_t len = (size_t)(colon - text);
		if (len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, len);
		host[len] = 0;
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	int64_t port;
	if (param_i64(port_text, &port) < 0 || port < 0 || port > 65535)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/* mkdir -p path (mode 0755, the last level 0700 when private). 0 or -errno. */
static int make_dirs(const char *path, int private)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, private ? 0700 : 0755) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where recorded programs go (see usage) into out; 0 or -errno with a
 * message printed. */
static int choose_trace_dir(const char *given, char **paths, int npaths, char *out, size_t cap)
{
	const char *dir = given;
	char fallback[PATH_MAX];
	for (int i = 0; !dir && i < npaths; i++)
		if (is_dir(paths[i]))
			dir = paths[i];
	if (!dir) {
		const char *home = getenv("HOME");
		if (!home || home[0] != '/') {
			fprintf(stderr, "weftd: no HOME for the default trace directory; use "
					"--trace-dir DIR or --no-collect\n");
			return -ENOENT;
		}
		snprintf(fallback, sizeof(fallback), "%s/.local/share/weft/traces", home);
		dir = fallback;
	}
	int rc = make_dirs(dir, dir == fallback);
	if (rc < 0 || !realpath(dir, out) || strlen(out) >= cap) {
		fprintf(stderr, "weftd: cannot use %s as the trace directory: %s\n", dir,
			strerror(rc < 0	 ? -rc
				 : errno ? errno
					 : ENAMETOOLONG));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* Whether dir (a real path) is among the served paths. */
static int served(const char *dir, char **paths, int npaths)
{
	char real[PATH_MAX];
	for (int i = 0; i < npaths; i++)
		if (realpath(paths[i], real) && strcmp(real, dir) == 0)
			return 1;
	return 0;
}

/* What the command line asks for. */
struct weftd_config {
	struct sockaddr_in addr;
	int sql_budget_ms;
	int collect;
	const char *trace_dir, *socket_path; /* NULL: the defaults */
	char **paths;			     /* the FILE|DIR arguments */
	int npaths;
};

/* Reads one option at argv[*i] (advancing *i past its value) into cfg.
 * Returns -1 to go on, else the exit status: 0 after --help or
 * --version, 2 after a usage error (said on stderr). */
static int parse_option(int argc, char **argv, int *i, struct weftd_config *cfg)
{
	const char *a = argv[*i];
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		usage(stdout);
		return 0;
	} else if (strcmp(a, "--version") == 0) {
		printf("weftd %s\n", WEFT_VERSION);
		return 0;
	} else if (strcmp(a, "--listen") == 0 || strncmp(a, "--listen=", 9) == 0) {
		const char *v = a[8] == '=' ? a + 9 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (!v || parse_listen(v, &cfg->addr) < 0) {
			fprintf(stderr, "weftd: --listen wants ADDR:PORT (IPv4), got %s\n",
				v ? v : "nothing");
			return 2;
		}
	} else if (strcmp(a, "--sql-timeout") == 0) {
		int64_t ms;
		if (*i + 1 >= argc || param_i64(argv[++*i], &ms) < 0 || ms < 1 || ms > 3600000) {
			fprintf(stderr, "weftd: --sql-timeout wants milliseconds\n");
			return 2;
		}
		cfg->sql_budget_ms = (int)ms;
	} else if (strcmp(a, "--trace-dir") == 0 || strcmp(a, "--socket") == 0) {
		if (*i + 1 >= argc || !argv[*i + 1][0]) {
			fprintf(stderr, "weftd: %s wants a path\n", a);
			return 2;
		}
		*(a[2] == 't' ? &cfg->trace_dir : &cfg->socket_path) = argv[++*i];
	} else if (strcmp(a, "--no-collect") == 0) {
		cfg->collect = 0;
	} else {
		fprintf(stderr, "weftd: unknown option %s (see weftd --help)\n", a);
		return 2;
	}
	return -1;
}

/* Parses the command line into cfg. Returns -1 to go on, else the exit
 * status (see parse_option). */
static int parse_options(int argc, char **argv, struct weftd_config *cfg)
{
	*cfg = (struct weftd_config){.sql_budget_ms = SQLGUARD_BUDGET_MS, .collect = 1};
	cfg->addr.sin_family = AF_INET;
	cfg->addr.sin_port = htons(7878);
	cfg->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int first_path = argc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0 || a[0] != '-' || !a[1]) {
			first_path = i + (strcmp(a, "--") == 0);
			break;
		}
		int status = parse_option(argc, argv, &i, cfg);
		if (status >= 0)
			return status;
	}
	cfg->paths = argv + first_path;
	cfg->npaths = argc - first_path;
	if (cfg->npaths == 0 && !cfg->trace_dir) {
		usage(stderr);
		return 2;
	}
	if (!cfg->collect && (cfg->trace_dir || cfg->socket_path)) {
		fprintf(stderr, "weftd: --no-collect leaves nothing for --trace-dir or --socket\n");
		return 2;
	}
	return -1;
}

/* Serves every FILE|DIR of the command line. 0, or -1 said on stderr. */
static int add_paths(const struct weftd_config *cfg, struct trace_set *traces)
{
	for (int i = 0; i < cfg->npaths; i++) {
		char err[512];
		if (trace_set_add(traces, cfg->paths[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "weftd: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* The tracing daemon side: picks the trace directory (into trace_dir),
 * serves it, and opens the collector socket (*collector stays NULL when
 * another weftd has the default one). 0, or -1 said on stderr. */
static int open_collector(const struct weftd_config *cfg, struct trace_set *traces,
			  struct collectd **collector, char *trace_dir, size_t cap)
{
	char err[PATH_MAX + 128];
	int rc = choose_trace_dir(cfg->trace_dir, cfg->paths, cfg->npaths, trace_dir, cap);
	if (rc < 0)
		return -1;
	if (!served(trace_dir, cfg->paths, cfg->npaths) &&
	    trace_set_add(traces, trace_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "weftd: %s\n", err);
		return -1;
	}
	struct collectd_options options = {.socket_path = cfg->socket_path, .trace_dir = trace_dir};
	rc = collectd_open(&options, collector, err, sizeof(err));
	if (rc == -EADDRINUSE && !cfg->socket_path) {
		fprintf(stderr, "weftd: %s; not recording (--socket PATH for another)\n", err);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "weftd: %s\n", err);
		return -1;
	}
	return 0;
}

/* Says where weftd serves (and how to get in when it needs its token). */
static void announce(const struct server *srv, const struct weftd_config *cfg, uint16_t port,
		     const struct collectd *collector, const char *trace_dir)
{
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->addr.sin_addr, host, sizeof(host));
	size_t n = trace_set_count(srv->traces);
	printf("weftd: serving %zu trace%s at http://%s:%u/\n", n, n == 1 ? "" : "s", host, port);
	const char *token = gate_token(srv->gate);
	if (token) {
		char name[256] = "";
		if (cfg->addr.sin_addr.s_addr != htonl(INADDR_ANY) || gethostname(name, 255) < 0)
			snprintf(name, sizeof(name), "%s", host);
		printf("weftd: listening beyond loopback: every request needs the access token.\n"
		       "weftd: open http://%s:%u/?token=%s\n"
		       "weftd: (or send \"Authorization: Bearer %s\")\n",
		       name, port, token, token);
	}
	if (collector)
		printf("weftd: recording programs that connect to %s into %s\n",
		       collectd_socket_path(collector), trace_dir);
	fflush(stdout);
}

/* Signals go to the main thread's sigwait only: blocked (into stop) before
 * anything else (a stop request during start-up is then honoured once
 * serving, not by dying) and before any thread starts, so that every
 * thread inherits the mask. */
static void block_stop_signals(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Responses of several MB are built in growing buffers; keep them in their
 * own mappings so that memory goes back to the system after each (glibc
 * would otherwise raise the threshold and keep them); SQLite's heap is
 * capped for the whole process. */
static void bound_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	sqlite3_hard_heap_limit64(WEFTD_SQLITE_HEAP_MAX);
}

int main(int argc, char **argv)
{
	sigset_t stop;
	block_stop_signals(&stop);
	struct weftd_config cfg;
	int status = parse_options(argc, argv, &cfg);
	if (status >= 0)
		return status;
	status = 1;
	bound_memory();

	struct server srv = {.sql_budget_ms = cfg.sql_budget_ms};
	struct MHD_Daemon *mhd = NULL;
	struct collectd *collector = NULL;
	char trace_dir[PATH_MAX];
	uint16_t port = 0;
	pthread_t warm;
	int warming = 0, sig = 0, stuck = 0;
	if (!(srv.gate = gate_new(&cfg.addr)) || !(srv.traces = trace_set_new())) {
		fprintf(stderr, "weftd: out of memory\n");
		goto out;
	}
	if (add_paths(&cfg, srv.traces) < 0)
		goto out;
	if (!(srv.live = live_new(srv.traces)) || !(srv.sql = sqlpool_new())) {
		fprintf(stderr, "weftd: out of memory\n");
		goto out;
	}
	char err[256];
	if (!(mhd = server_start(&srv, &cfg.addr, pool_threads(sysconf(_SC_NPROCESSORS_ONLN)),
				 &port, err, sizeof(err)))) {
		fprintf(stderr, "weftd: %s\n", err);
		goto out;
	}
	gate_set_port(srv.gate, port);
	/* After the port, so that a port in use touches nothing: the trace
	 * directory is served like any other, so recordings appear in the
	 * list through the rescan. */
	if (cfg.collect &&
	    open_collector(&cfg, srv.traces, &collector, trace_dir, sizeof(trace_dir)) < 0)
		goto out_threads;
	if (live_start(srv.live) < 0 || (collector && collectd_start(collector) < 0)) {
		fprintf(stderr, "weftd: cannot start its threads\n");
		goto out_threads;
	}
	announce(&srv, &cfg, port, collector, trace_dir);
	warming = pthread_create(&warm, NULL, warm_traces, srv.traces) == 0;

	sigwait(&stop, &sig);
	status = 0;

out_threads:
	collectd_stop(collector);
	trace_set_stop(srv.traces);
	if (warming)
		pthread_join(warm, NULL);
	live_stop(srv.live);
	stuck = sqlpool_stop(srv.sql);
	MHD_stop_daemon(mhd);
out:
	collectd_free(collector);
	sqlpool_free(srv.sql);
	live_free(srv.live);
	if (!stuck) /* else a query's thread still reads a trace: the exit frees */
		trace_set_free(srv.traces);
	gate_free(srv.gate);
	return status;
}
