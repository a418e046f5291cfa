/*
 * collectd: weftd as a tracing daemon. A program started anywhere with
 * LD_PRELOAD=libweft.so (and neither WEFT_SHM nor WEFT_OUT) connects to
 * weftd's Unix socket and is recorded into weftd's trace directory, one
 * trace per program run; the directory is served, so the recording shows
 * up in the trace list while it runs (status 'recording').
 *
 * Socket: weftd's --socket PATH (programs find it through WEFT_SOCKET), or
 * $XDG_RUNTIME_DIR/weft/weftd.sock, else /tmp/weft-<uid>/weftd.sock
 * (collectd_default_socket; programs look there when WEFT_SOCKET is
 * unset). A directory weftd creates for it gets mode 0700; a default
 * directory that already exists must belong to weftd's user (it is then
 * set to 0700). The socket itself is 0600. A socket file nobody listens on
 * (a weftd that died) is replaced; one with a listener is left alone
 * (-EADDRINUSE).
 *
 * Protocol (handshake.h): the program connects (SOCK_STREAM) and sends
 * "weft 1 <pid> <comm>\n". weftd reads the peer's credentials
 * (SO_PEERCRED) and refuses any uid but its own and root's. It then starts
 * the collector of `weft record` for that program, as its own child:
 *   weft record -q --attach <peer pid> --shm /dev/shm/weft-<pid>-<random>
 *               -o <trace dir>/<comm>-<pid>-<YYYYmmdd-HHMMSS>.db
 * (the `weft` next to weftd, else in PATH), waits until the ring file can
 * be attached (at most COLLECTD_READY_MS), and answers "ok <ring file>\n"
 * or "error <reason>\n". The program attaches the ring file as if it had
 * started the collector itself and exports WEFT_SHM, so that its children
 * join the same recording. The collector ends, and writes status
 * 'complete', when the program and every process that joined are gone.
 *
 * Threads: one, the collectd thread, runs a poll loop over the listening
 * socket, the connections being answered (at most COLLECTD_MAX_PENDING,
 * each with a 1 s deadline from accept) and a wake pipe; it forks the
 * collectors (fork then exec at once: the child only makes system calls)
 * and reaps them with waitpid(pid, WNOHANG) every loop (at most every
 * 200 ms), so a collector is never left a zombie and weftd always knows
 * its collectors. Each collector gets PR_SET_PDEATHSIG SIGTERM: if weftd
 * dies, it stops recording and finishes its trace (`weft record` does so
 * on SIGTERM). collectd_stop ends the recordings in progress the same way
 * (SIGTERM; SIGKILL after 5 s, and its ring file removed) before
 * returning.
 */
#ifndef WEFT_COLLECTD_H
#define WEFT_COLLECTD_H

#include <stddef.h>

#define COLLECTD_READY_MS 900
#define COLLECTD_MAX_PENDING 32

struct collectd;

struct collectd_options {
	const char *socket_path; /* NULL: collectd_default_socket */
	const char *trace_dir;	 /* must exist */
	const char *weft_bin;	 /* NULL: <dir of weftd>/weft, else PATH */
};

/* The default socket path into out: $XDG_RUNTIME_DIR/weft/weftd.sock if
 * XDG_RUNTIME_DIR is set (absolute), else /tmp/weft-<uid>/weftd.sock.
 * 0 or -ENAMETOOLONG. */
int collectd_default_socket(char *out, size_t cap);

/* Binds the socket (see above). Returns 0 and *out, or -EADDRINUSE
 * (another weftd listens there), -ENOENT (no weft binary), -EPERM (the
 * default directory belongs to someone else), or another -errno, with a
 * message for the user in err; nothing is left behind after a failure. */
int collectd_open(const struct collectd_options *options, struct collectd **out, char *err,
		  size_t errlen);

const char *collectd_socket_path(const struct collectd *c);

/* Starts the collectd thread: 0 or -errno. */
int collectd_start(struct collectd *c);

/* Stops the thread, refuses the programs still waiting for an answer,
 * ends every recording in progress and reaps its collector, removes the
 * socket file. Safe to call when never started. */
void collectd_stop(struct collectd *c);

void collectd_free(struct collectd *c);

#endif
