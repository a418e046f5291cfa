/*
 * wrap_io.c — wrappers for the calls that wait on file descriptors (hot
 * path): read/write and their vector forms, the socket calls, and the
 * readiness waits (poll, select, epoll).
 *
 * Each records BLOCK_BEGIN/END around the real call (a = fd; for the
 * readiness waits the fd or epoll fd waited on, and in BLOCK_END what
 * became ready, as event.h says; b of BLOCK_END = result or -errno).
 * epoll_ctl records the epoll instance's watch list (EPOLL_CTL).
 * Calls that cannot wait are no transitions: on an fd known to be
 * non-blocking (fdnb.h), with MSG_DONTWAIT, with a zero timeout. A
 * readiness wait first asks with a zero timeout (the same call, the same
 * signal mask): when something is ready already it returns that, as the
 * waiting call would have, and records nothing; only a call that finds
 * nothing ready goes on to wait, recorded. A busy server's event loop
 * mostly finds work ready: this spares the ring two records and the
 * collector their cost for each such call. The data
 * calls among them record only the bytes they moved (IO_DONE), if any.
 * socket, socketpair and accept tell fdnb.h the flags of the fds they make.
 */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdchan.h"
#include "fdnb.h"
#include "sockpeer.h"
#include "preload.h"
#include "real.h"

/* A recorded call on an fd: an immediate EAGAIN says the fd is
 * non-blocking (fdnb.h), and later calls on it pass through. */
#define IO(t, call, fd, expr)                                                                      \
	({                                                                                         \
		__typeof__(expr) io_result_ =                                                      \
		    PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_IO, call, fd, 0, expr);                  \
		if (io_result_ < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&                 \
		    (t)->wait_ns < FDNB_QUICK_NS)                                                  \
			fdnb_set(fd, 1);                                                           \
		if (io_result_ > 0) {                                                              \
			int errno_ = errno;                                                        \
			moved_connection(t, fd);                                                   \
			errno = errno_;                                                            \
		}                                                                                  \
		io_result_;                                                                        \
	})

/* Whether a call on fd is passed through unrecorded. */
#define UNRECORDED(t, fd) (!(t) || fdnb_is(fd))

/* The first data on a socket whose non-blocking connect was under way
 * names its peer (sockpeer.h). */
static inline void moved_connection(struct preload_thread *t, int fd)
{
	preload_write_begin(t);
	sockpeer_note_pending(&t->writer, fd);
	preload_write_end(t);
}

/* A data call that could not wait: no transition, but the bytes it moved
 * are still message traffic: IO_DONE (a = fd, b = bytes) when it moved
 * any. Nothing when it moved none (an event loop's EAGAIN). */
#define MOVED(t, call, fd, expr)                                                                   \
	({                                                                                         \
		__typeof__(expr) moved_ = (expr);                                                  \
		if ((t) && (int64_t)moved_ > 0) {                                                  \
			int errno_ = errno;                                                        \
			moved_connection(t, fd);                                                   \
			preload_emit(t, WEFT_EV_IO_DONE, WEFT_REASON_IO, call, (uint64_t)(fd),     \
				     (uint64_t)moved_);                                            \
			errno = errno_;                                                            \
		}                                                                                  \
		moved_;                                                                            \
	})

static inline int zero_timespec(const struct timespec *timeout)
{
	return timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0;
}

WEFT_EXPORT ssize_t read(int fd, void *buffer, size_t count)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd))
		return MOVED(t, WEFT_CALL_READ, fd, REAL(read)(fd, buffer, count));
	return IO(t, WEFT_CALL_READ, fd, REAL(read)(fd, buffer, count));
}

WEFT_EXPORT ssize_t write(int fd, const void *buffer, size_t count)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd))
		return MOVED(t, WEFT_CALL_WRITE, fd, REAL(write)(fd, buffer, count));
	return IO(t, WEFT_CALL_WRITE, fd, REAL(write)(fd, buffer, count));
}

WEFT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int count)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd))
		return MOVED(t, WEFT_CALL_READV, fd, REAL(readv)(fd, iov, count));
	return IO(t, WEFT_CALL_READV, fd, REAL(readv)(fd, iov, count));
}

WEFT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int count)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd))
		return MOVED(t, WEFT_CALL_WRITEV, fd, REAL(writev)(fd, iov, count));
	return IO(t, WEFT_CALL_WRITEV, fd, REAL(writev)(fd, iov, count));
}

WEFT_EXPORT ssize_t recv(int fd, void *buffer, size_t length, int flags)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_RECV, fd, REAL(recv)(fd, buffer, length, flags));
	return IO(t, WEFT_CALL_RECV, fd, REAL(recv)(fd, buffer, length, flags));
}

WEFT_EXPORT ssize_t recvfrom(int fd, void *buffer, size_t length, int flags,
			     struct sockaddr *address, socklen_t *address_length)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_RECVFROM, fd,
			     REAL(recvfrom)(fd, buffer, length, flags, address, address_length));
	return IO(t, WEFT_CALL_RECVFROM, fd,
		  REAL(recvfrom)(fd, buffer, length, flags, address, address_length));
}

WEFT_EXPORT ssize_t recvmsg(int fd, struct msghdr *message, int flags)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_RECVMSG, fd, REAL(recvmsg)(fd, message, flags));
	return IO(t, WEFT_CALL_RECVMSG, fd, REAL(recvmsg)(fd, message, flags));
}

WEFT_EXPORT ssize_t send(int fd, const void *buffer, size_t length, int flags)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_SEND, fd, REAL(send)(fd, buffer, length, flags));
	return IO(t, WEFT_CALL_SEND, fd, REAL(send)(fd, buffer, length, flags));
}

WEFT_EXPORT ssize_t sendto(int fd, const void *buffer, size_t length, int flags,
			   const struct sockaddr *address, socklen_t address_length)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_SENDTO, fd,
			     REAL(sendto)(fd, buffer, length, flags, address, address_length));
	return IO(t, WEFT_CALL_SENDTO, fd,
		  REAL(sendto)(fd, buffer, length, flags, address, address_length));
}

WEFT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *message, int flags)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd) || (flags & MSG_DONTWAIT))
		return MOVED(t, WEFT_CALL_SENDMSG, fd, REAL(sendmsg)(fd, message, flags));
	return IO(t, WEFT_CALL_SENDMSG, fd, REAL(sendmsg)(fd, message, flags));
}

/* fd was just made by a wrapped call, with O_NONBLOCK or not. A socket
 * is told to the ring (FD_CHANNEL) so its messages can be followed. */
static int made(int fd, int nonblocking)
{
	if (fd >= 0) {
		fdnb_set(fd, nonblocking);
		struct preload_thread *t = preload_recorder();
		if (t) {
			int saved = errno;
			preload_write_begin(t);
			fdchan_note(&t->writer, fd);
			preload_write_end(t);
			errno = saved;
		}
	}
	return fd;
}

/* A connection was just accepted (fd) or made (connect on fd): say which
 * socket is at its other end. errno is kept as the call left it. */
static int connected(int fd)
{
	if (fd >= 0) {
		struct preload_thread *t = preload_recorder();
		if (t) {
			int saved = errno;
			preload_write_begin(t);
			sockpeer_note(&t->writer, fd);
			preload_write_end(t);
			errno = saved;
		}
	}
	return fd;
}

WEFT_EXPORT int accept(int fd, struct sockaddr *address, socklen_t *address_length)
{
	struct preload_thread *t = preload_recorder();
	if (UNRECORDED(t, fd))
		return connected(made(REAL(accept)(fd, address, address_length), 0));
	return connected(
	    made(IO(t, WEFT_CALL_ACCEPT, fd, REAL(accept)(fd, address, address_length)), 0));
}

WEFT_EXPORT int accept4(int fd, struct sockaddr *address, socklen_t *address_length, int flags)
{
	struct preload_thread *t = preload_recorder();
	int nonblocking = (flags & SOCK_NONBLOCK) != 0;
	if (UNRECORDED(t, fd))
		return connected(
		    made(REAL(accept4)(fd, address, address_length, flags), nonblocking));
	return connected(
	    made(IO(t, WEFT_CALL_ACCEPT, fd, REAL(accept4)(fd, address, address_length, flags)),
		 nonblocking));
}

WEFT_EXPORT int socket(int domain, int type, int protocol)
{
	return made(REAL(socket)(domain, type, protocol), (type & SOCK_NONBLOCK) != 0);
}

WEFT_EXPORT int socketpair(int domain, int type, int protocol, int fds[2])
{
	int result = REAL(socketpair)(domain, type, protocol, fds);
	if (result == 0) {
		int saved = errno;
		made(fds[0], (type & SOCK_NONBLOCK) != 0);
		made(fds[1], (type & SOCK_NONBLOCK) != 0);
		struct preload_thread *t = preload_recorder();
		if (t) {
			preload_write_begin(t);
			sockpeer_pair(&t->writer, fds[0], fds[1]);
			preload_write_end(t);
		}
		errno = saved;
	}
	return result;
}

WEFT_EXPORT int connect(int fd, const struct sockaddr *address, socklen_t address_length)
{
	struct preload_thread *t = preload_recorder();
	int result = UNRECORDED(t, fd)
			 ? REAL(connect)(fd, address, address_length)
			 : IO(t, WEFT_CALL_CONNECT, fd, REAL(connect)(fd, address, address_length));
	if (result == 0)
		connected(fd);
	else if (errno == EINPROGRESS)
		sockpeer_connecting(fd);
	return result;
}

/* The readiness waits (event.h, BLOCK_BEGIN/END of reason POLL): the one
 * fd waited on or the epoll fd as object; on return, what became ready. */
#define POLL(t, call, object, expr, ready)                                                         \
	PRELOAD_BLOCKING_READY(t, WEFT_REASON_POLL, call, object, 0, int, expr,                    \
			       result_<0 ? -(int64_t)errno_ : (int64_t)result_, result_> 0         \
				   ? (ready)                                                       \
				   : (uint64_t)(object))

static inline uint64_t poll_object(const struct pollfd *fds, nfds_t count)
{
	return count == 1 ? (uint64_t)(uint32_t)fds[0].fd : WEFT_POLL_SEVERAL;
}

/* The first pollfd the kernel said is ready (the call returned > 0). */
static uint64_t poll_ready(const struct pollfd *fds, nfds_t count)
{
	for (nfds_t i = 0; i < count; i++)
		if (fds[i].revents && fds[i].fd >= 0)
			return (uint64_t)(uint32_t)fds[i].fd;
	return WEFT_POLL_SEVERAL;
}

/* The lowest fd below count set in any of the sets, and whether it is the
 * only one (*only). WEFT_POLL_SEVERAL when none is set. */
static uint64_t select_first(int count, const fd_set *r, const fd_set *w, const fd_set *e,
			     int *only)
{
	uint64_t first = WEFT_POLL_SEVERAL;
	int seen = 0;
	for (int fd = 0; fd < count && fd < FD_SETSIZE && seen < 2; fd++)
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) {
			if (!seen++)
				first = (uint64_t)fd;
		}
	if (only)
		*only = seen == 1;
	return first;
}

static uint64_t select_object(int count, const fd_set *r, const fd_set *w, const fd_set *e)
{
	int only;
	uint64_t fd = select_first(count, r, w, e, &only);
	return only ? fd : WEFT_POLL_SEVERAL;
}

/* The sets a select is given, kept to hand them to the waiting call again
 * after a try that found nothing ready (and emptied them). */
struct fd_sets {
	fd_set read, write, except;
};

/* select or pselect (mask not NULL) with a zero timeout: what is ready now,
 * without waiting. Returns its result; when it is 0 the sets are as the
 * caller gave them again, for the call that waits. */
static int select_try(struct fd_sets *sets, int count, fd_set *r, fd_set *w, fd_set *e,
		      const sigset_t *mask)
{
	if (count > FD_SETSIZE)
		return 0; /* sets larger than fd_set: straight to the waiting call */
	if (r)
		sets->read = *r;
	if (w)
		sets->write = *w;
	if (e)
		sets->except = *e;
	struct timeval zero = {0, 0};
	struct timespec zero_ts = {0, 0};
	int ready = mask ? REAL(pselect)(count, r, w, e, &zero_ts, mask)
			 : REAL(select)(count, r, w, e, &zero);
	if (ready == 0) {
		if (r)
			*r = sets->read;
		if (w)
			*w = sets->write;
		if (e)
			*e = sets->except;
	}
	return ready;
}

WEFT_EXPORT int poll(struct pollfd *fds, nfds_t count, int timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(poll)(fds, count, timeout);
	int ready = REAL(poll)(fds, count, 0);
	if (ready != 0)
		return ready;
	return POLL(t, WEFT_CALL_POLL, poll_object(fds, count), REAL(poll)(fds, count, timeout),
		    poll_ready(fds, count));
}

WEFT_EXPORT int ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout,
		      const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || zero_timespec(timeout))
		return REAL(ppoll)(fds, count, timeout, mask);
	const struct timespec zero = {0, 0};
	int ready = REAL(ppoll)(fds, count, &zero, mask);
	if (ready != 0)
		return ready;
	return POLL(t, WEFT_CALL_PPOLL, poll_object(fds, count),
		    REAL(ppoll)(fds, count, timeout, mask), poll_ready(fds, count));
}

WEFT_EXPORT int select(int count, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
		       struct timeval *timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || (timeout && timeout->tv_sec == 0 && timeout->tv_usec == 0))
		return REAL(select)(count, readfds, writefds, exceptfds, timeout);
	struct fd_sets sets;
	int ready = select_try(&sets, count, readfds, writefds, exceptfds, NULL);
	if (ready != 0)
		return ready;
	uint64_t object = select_object(count, readfds, writefds, exceptfds);
	return POLL(t, WEFT_CALL_SELECT, object,
		    REAL(select)(count, readfds, writefds, exceptfds, timeout),
		    select_first(count, readfds, writefds, exceptfds, NULL));
}

WEFT_EXPORT int pselect(int count, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
			const struct timespec *timeout, const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || zero_timespec(timeout))
		return REAL(pselect)(count, readfds, writefds, exceptfds, timeout, mask);
	struct fd_sets sets;
	int ready = select_try(&sets, count, readfds, writefds, exceptfds, mask);
	if (ready != 0)
		return ready;
	uint64_t object = select_object(count, readfds, writefds, exceptfds);
	return POLL(t, WEFT_CALL_PSELECT, object,
		    REAL(pselect)(count, readfds, writefds, exceptfds, timeout, mask),
		    select_first(count, readfds, writefds, exceptfds, NULL));
}

WEFT_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int count, int timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(epoll_wait)(epfd, events, count, timeout);
	int ready = REAL(epoll_wait)(epfd, events, count, 0);
	if (ready != 0)
		return ready;
	return POLL(t, WEFT_CALL_EPOLL_WAIT, (uint64_t)(uint32_t)epfd,
		    REAL(epoll_wait)(epfd, events, count, timeout), events[0].data.u64);
}

WEFT_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int count, int timeout,
			    const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(epoll_pwait)(epfd, events, count, timeout, mask);
	int ready = REAL(epoll_pwait)(epfd, events, count, 0, mask);
	if (ready != 0)
		return ready;
	return POLL(t, WEFT_CALL_EPOLL_WAIT, (uint64_t)(uint32_t)epfd,
		    REAL(epoll_pwait)(epfd, events, count, timeout, mask), events[0].data.u64);
}

/* epoll_ctl: a successful ADD or DEL is EPOLL_CTL (event.h). MOD is not
 * recorded: servers call it per event (Redis) and keep the data word. */
WEFT_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	int result = REAL(epoll_ctl)(epfd, op, fd, event);
	if (result == 0 && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL)) {
		struct preload_thread *t = preload_recorder();
		if (t) {
			int saved = errno;
			uint64_t data = op == EPOLL_CTL_ADD && event ? event->data.u64 : 0;
			preload_emit(t, WEFT_EV_EPOLL_CTL, (uint8_t)op, 0,
				     (uint64_t)(uint32_t)epfd << 32 | (uint32_t)fd, data);
			errno = saved;
		}
	}
	return result;
}
