/*
 * server: libmicrohttpd glue. One MHD daemon in its fastest mode (epoll,
 * internal thread pool of `threads` threads, suspend/resume for the event
 * streams). Each request's state (its body, at most SERVER_BODY_MAX
 * bytes) lives in MHD's per-request pointer; everything else the handlers
 * need comes from the struct server passed as MHD's cls.
 */
#ifndef WEFT_SERVER_H
#define WEFT_SERVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define SERVER_BODY_MAX (64 * 1024)
/* A connection with no traffic for this long is closed. */
#define SERVER_IDLE_TIMEOUT_S 30
/* What one connection may buffer (request line, headers, the start of
 * a body); MHD answers 431/413 beyond it. */
#define SERVER_CONNECTION_MEMORY (64 * 1024)
/* How many of libmicrohttpd's messages reach stderr. */
#define SERVER_LOG_MAX 50

struct MHD_Daemon;

/* Starts listening on addr (port 0: any free port) and serving. Returns
 * the daemon and the bound port in *port, or NULL with the reason for
 * the user in err ("cannot listen on 127.0.0.1:7878: Address already in
 * use"). */
struct MHD_Daemon *server_start(struct server *s, const struct sockaddr_in *addr, unsigned threads,
				uint16_t *port, char *err, size_t errlen);

#endif
