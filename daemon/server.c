/*
 * server: see server.h. Per request MHD calls the access handler several
 * times: the first call allocates a struct conn_body (or refuses a
 * Content-Length over the limit with 413 at once), later calls append the
 * body, and the last one (no more upload data) dispatches through the
 * route table. The body is freed when MHD reports the request completed.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gate.h"

struct conn_body {
	char *data;
	size_t len;
	int too_big;
	int refused;	/* by the gate: the answer is queued, the body dropped */
	int set_cookie; /* the gate passed it by ?token= */
	struct request_keep keep;
};

/* Asks the gate (gate.h) about the request's headers. Returns 0 to go
 * on, or -EACCES with the refusal queued (*result holds MHD's answer). */
static int admit(struct request *req, struct conn_body *body, enum MHD_Result *result)
{
	struct MHD_Connection *c = req->conn;
	const struct gate *g = req->server->gate;
	struct gate_request r = {
	    .method = req->method,
	    .host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
	    .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
	    .sec_fetch_site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
	    .content_type =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .authorization =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    .cookie_token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, gate_cookie_name(g)),
	    .token_arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"),
	};
	char why[256];
	enum gate_verdict v = gate_check(g, &r, why, sizeof(why));
	if (v == GATE_REFUSE) {
		body->refused = 1;
		*result = reply_error(req, MHD_HTTP_FORBIDDEN, "%s", why);
		return -EACCES;
	}
	body->set_cookie = v == GATE_PASS_SET_COOKIE;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct request req = {.server = s, .conn = conn, .method = method, .path = url};
	struct conn_body *body = *con_cls;
	if (!body) {
		body = calloc(1, sizeof(*body));
		if (!body)
			return MHD_NO;
		*con_cls = body;
		enum MHD_Result refused;
		if (admit(&req, body, &refused) < 0)
			return refused;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SERVER_BODY_MAX) {
			body->refused = 1;
			return reply_error(&req, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body over %d bytes", SERVER_BODY_MAX);
		}
		return MHD_YES;
	}
	if (body->refused || body->too_big) {
		/* answered already: the rest of the body is not read, the
		 * connection closes after the answer */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (body->len + *upload_size > SERVER_BODY_MAX) {
			/* no Content-Length (chunked), or a false one */
			body->too_big = 1;
			*upload_size = 0;
			return reply_error(&req, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body over %d bytes", SERVER_BODY_MAX);
		}
		char *p = realloc(body->data, body->len + *upload_size + 1);
		if (!p)
			return MHD_NO;
		memcpy(p + body->len, upload_data, *upload_size);
		body->data = p;
		body->len += *upload_size;
		p[body->len] = 0;
		*upload_size = 0;
		return MHD_YES;
	}
	req.set_cookie = body->set_cookie;
	req.keep = &body->keep;
	req.body = body->data;
	req.body_len = body->len;
	return route_dispatch(&req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct conn_body *body = *con_cls;
	if (body) {
		if (body->keep.state)
			body->keep.release(body->keep.state);
		free(body->data);
		free(body);
		*con_cls = NULL;
	}
}

/* Connection limits from the file descriptors weftd may open (raised to
 * the hard limit first): all connections together leave FD_RESERVE for
 * trace files and the collector. MHD splits that total evenly between
 * its threads, so one address may hold half of one thread's share: one
 * client trickling requests (slowloris) can fill no thread, and the
 * others' connections are still accepted. */
#define FD_RESERVE 128
#define CONNECTIONS_MAX 16384

static void connection_limits(unsigned threads, unsigned *total, unsigned *per_ip)
{
	struct rlimit rl;
	rlim_t fds = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
			if (want > rl.rlim_cur) {
				rl.rlim_cur = want;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
		}
		fds = rl.rlim_cur;
	}
	rlim_t n = fds > 2 * FD_RESERVE ? fds - FD_RESERVE : fds / 2;
	*total = n < CONNECTIONS_MAX ? (unsigned)n : CONNECTIONS_MAX;
	unsigned share = *total / (threads ? threads : 1) / 2;
	*per_ip = share > 4 ? share : 4;
}

/* A socket bound to addr and listening, or -1 with err set. Binding here
 * rather than in MHD lets weftd say why in one line of its own. */
static int listen_on(const struct sockaddr_in *addr, char *err, size_t errlen)
{
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr->sin_addr, host, sizeof(host));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, ntohs(addr->sin_port),
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* MHD's own messages (a client that broke the protocol, a connection
 * refused over a limit) go to stderr marked as weftd's: the first
 * SERVER_LOG_MAX of them, so that a flood of clients cannot flood the log
 * too. */
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	struct server *s = cls;
	unsigned n = atomic_fetch_add(&s->http_messages, 1);
	if (n < SERVER_LOG_MAX) {
		fputs("weftd: http: ", stderr);
		vfprintf(stderr, fmt, ap);
	} else if (n == SERVER_LOG_MAX) {
		fputs("weftd: http: further messages of libmicrohttpd are not shown\n", stderr);
	}
}

struct MHD_Daemon *server_start(struct server *s, const struct sockaddr_in *addr, unsigned threads,
				uint16_t *port, char *err, size_t errlen)
{
	int fd = listen_on(addr, err, errlen);
	if (fd < 0)
		return NULL;
	unsigned total, per_ip;
	connection_limits(threads, &total, &per_ip);
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, s, MHD_OPTION_LISTEN_SOCKET,
	    fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONNECTION_MEMORY,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd)");
		close(fd);
		return NULL;
	}
	struct sockaddr_in bound = {0};
	socklen_t len = sizeof(bound);
	*port = getsockname(fd, (struct sockaddr *)&bound, &len) == 0 ? ntohs(bound.sin_port) : 0;
	return d;
}
