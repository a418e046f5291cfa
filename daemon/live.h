/*
 * live: server-sent event streams and the watcher thread behind them.
 *
 * The watcher thread wakes every LIVE_TICK_MS: it polls each trace (file
 * size and mtime, then meta.status and bounds if those moved), rescans the
 * served directories for new traces, and resumes the streams that have
 * something to send. A stream with nothing to send suspends its MHD
 * connection (no thread waits for it, no socket is polled), so an idle
 * client costs a few hundred bytes; every LIVE_HEARTBEAT_MS it gets a
 * comment line, which is how a client that went away is noticed and its
 * stream freed.
 *
 * Stream states (under live->lock): RUNNING (MHD may call the reader),
 * SUSPENDING (the reader is suspending the connection), SUSPENDED (only
 * the watcher may resume it, and sets RUNNING first). live_stop resumes
 * every stream so that each ends before MHD_stop_daemon.
 */
#ifndef WEFT_LIVE_H
#define WEFT_LIVE_H

#include <microhttpd.h>

#define LIVE_TICK_MS 250
#define LIVE_HEARTBEAT_MS 10000

struct live;
struct trace;
struct trace_set;

/* NULL without memory. */
struct live *live_new(struct trace_set *set);
/* Starts the watcher thread: 0 or -errno. */
int live_start(struct live *l);
/* Stops the watcher and ends every stream. Call before MHD_stop_daemon. */
void live_stop(struct live *l);
void live_free(struct live *l);

/* A response streaming `event: update` for trace t, or `event: traces`
 * (the trace list changed) when t is NULL; NULL without memory. */
struct MHD_Response *live_response(struct live *l, struct MHD_Connection *conn, struct trace *t);

#endif
