/*
 * wrap_io.c — wrappers for the calls that wait on file descriptors (hot
 * path): read/write and their vector forms, the socket calls, and the
 * readiness waits (poll, select, epoll).
 *
 * Each records BLOCK_BEGIN/END around the real call (a = fd; for poll the
 * first fd, for epoll the epoll fd; b of BLOCK_END = result or -errno).
 * Calls that cannot wait are no transitions: on an fd known to be
 * non-blocking (fdnb.h), with MSG_DONTWAIT, with a zero timeout. The data
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
#define POLL(t, call, fd, expr) PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_POLL, call, fd, 0, expr)

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

WEFT_EXPORT int poll(struct pollfd *fds, nfds_t count, int timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(poll)(fds, count, timeout);
	return POLL(t, WEFT_CALL_POLL, count ? fds[0].fd : 0, REAL(poll)(fds, count, timeout));
}

WEFT_EXPORT int ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout,
		      const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || zero_timespec(timeout))
		return REAL(ppoll)(fds, count, timeout, mask);
	return POLL(t, WEFT_CALL_PPOLL, count ? fds[0].fd : 0,
		    REAL(ppoll)(fds, count, timeout, mask));
}

WEFT_EXPORT int select(int count, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
		       struct timeval *timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || (timeout && timeout->tv_sec == 0 && timeout->tv_usec == 0))
		return REAL(select)(count, readfds, writefds, exceptfds, timeout);
	return POLL(t, WEFT_CALL_SELECT, 0,
		    REAL(select)(count, readfds, writefds, exceptfds, timeout));
}

WEFT_EXPORT int pselect(int count, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
			const struct timespec *timeout, const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || zero_timespec(timeout))
		return REAL(pselect)(count, readfds, writefds, exceptfds, timeout, mask);
	return POLL(t, WEFT_CALL_PSELECT, 0,
		    REAL(pselect)(count, readfds, writefds, exceptfds, timeout, mask));
}

WEFT_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int count, int timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(epoll_wait)(epfd, events, count, timeout);
	return POLL(t, WEFT_CALL_EPOLL_WAIT, epfd, REAL(epoll_wait)(epfd, events, count, timeout));
}

WEFT_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int count, int timeout,
			    const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t || timeout == 0)
		return REAL(epoll_pwait)(epfd, events, count, timeout, mask);
	return POLL(t, WEFT_CALL_EPOLL_WAIT, epfd,
		    REAL(epoll_pwait)(epfd, events, count, timeout, mask));
}
