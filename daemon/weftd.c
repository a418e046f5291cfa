/*
 * weftd: serves weft traces and the dashboard over HTTP.
 *
 *   weftd [--listen ADDR:PORT] [--sql-timeout MS] FILE|DIR...
 *
 * The main thread parses the command line, opens the traces, starts the
 * HTTP server (libmicrohttpd, epoll, a pool of one thread per CPU) and the
 * watcher thread (live.h), prints the URL, then waits for SIGINT or
 * SIGTERM and shuts everything down in order: event streams, HTTP server,
 * traces. Exit status: 0 after a signal, 1 on a startup error, 2 on a
 * usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "live.h"
#include "param.h"
#include "route.h"
#include "server.h"
#include "sqlguard.h"
#include "trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: weftd [--listen ADDR:PORT] [--sql-timeout MS] FILE|DIR...\n"
		"\n"
		"Serves weft traces (SQLite files written by `weft record`) and the\n"
		"timeline dashboard over HTTP. A DIR serves every *.db in it, including\n"
		"recordings that appear later.\n"
		"\n"
		"  --listen ADDR:PORT  where to listen (default 127.0.0.1:7878; port 0\n"
		"                      picks a free port). Only loopback unless told.\n"
		"  --sql-timeout MS    stop SQL console queries after MS ms (default %d)\n"
		"  -h, --help          this help\n"
		"\n"
		"Prints \"weftd: serving N traces at http://ADDR:PORT/\" once ready;\n"
		"SIGINT or SIGTERM stop it.\n",
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

int main(int argc, char **argv)
{
	/* Signals go to the main thread's sigwait only: block them before
	 * anything else (a stop request during start-up is then honoured once
	 * serving, not by dying) and before any thread starts, so that every
	 * thread inherits the mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in addr;
	parse_listen("127.0.0.1:7878", &addr);
	struct server srv = {.sql_budget_ms = SQLGUARD_BUDGET_MS};
	int first_path = argc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--listen") == 0 || strncmp(a, "--listen=", 9) == 0) {
			const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || parse_listen(v, &addr) < 0) {
				fprintf(stderr, "weftd: --listen wants ADDR:PORT (IPv4), got %s\n",
					v ? v : "nothing");
				return 2;
			}
		} else if (strcmp(a, "--sql-timeout") == 0) {
			int64_t ms;
			if (i + 1 >= argc || param_i64(argv[++i], &ms) < 0 || ms < 1 ||
			    ms > 3600000) {
				fprintf(stderr, "weftd: --sql-timeout wants milliseconds\n");
				return 2;
			}
			srv.sql_budget_ms = (int)ms;
		} else if (strcmp(a, "--") == 0) {
			first_path = i + 1;
			break;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "weftd: unknown option %s (see weftd --help)\n", a);
			return 2;
		} else {
			first_path = i;
			break;
		}
	}
	if (first_path >= argc) {
		usage(stderr);
		return 2;
	}

	/* Responses of several MB are built in growing buffers; keep them in
	 * their own mappings so that memory goes back to the system after each
	 * (glibc would otherwise raise the threshold and keep them). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	srv.traces = trace_set_new();
	if (!srv.traces) {
		fprintf(stderr, "weftd: out of memory\n");
		return 1;
	}
	for (int i = first_path; i < argc; i++) {
		char err[512];
		if (trace_set_add(srv.traces, argv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "weftd: %s\n", err);
			trace_set_free(srv.traces);
			return 1;
		}
	}

	srv.live = live_new(srv.traces);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint16_t port = 0;
	struct MHD_Daemon *mhd =
	    srv.live ? server_start(&srv, &addr, ncpu > 0 ? (unsigned)ncpu : 1, &port) : NULL;
	if (!mhd) {
		char host[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
		fprintf(stderr, "weftd: cannot listen on %s:%u: %s\n", host, ntohs(addr.sin_port),
			strerror(errno ? errno : EADDRINUSE));
		live_free(srv.live);
		trace_set_free(srv.traces);
		return 1;
	}
	if (live_start(srv.live) < 0) {
		fprintf(stderr, "weftd: cannot start the watcher thread\n");
		MHD_stop_daemon(mhd);
		live_free(srv.live);
		trace_set_free(srv.traces);
		return 1;
	}
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
	size_t n = trace_set_count(srv.traces);
	printf("weftd: serving %zu trace%s at http://%s:%u/\n", n, n == 1 ? "" : "s", host, port);
	fflush(stdout);

	int sig = 0;
	sigwait(&stop, &sig);

	trace_set_stop(srv.traces);
	live_stop(srv.live);
	MHD_stop_daemon(mhd);
	live_free(srv.live);
	trace_set_free(srv.traces);
	return 0;
}
