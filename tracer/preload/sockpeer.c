/*
 * sockpeer.c — see sockpeer.h.
 *
 * Everything here uses raw system calls (syscall(2)), never the wrapped
 * libc functions, so that asking about a socket records nothing itself.
 * The sock_diag request is the one `ss -x` makes: SOCK_DIAG_BY_FAMILY for
 * AF_UNIX with the socket's inode and UDIAG_SHOW_PEER; the answer's
 * UNIX_DIAG_PEER attribute is the peer's inode. Unprivileged users may ask.
 */
#include "sockpeer.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "emit.h"

static uint64_t inode_of(int fd)
{
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

/* The peer inode of Unix socket ino, or 0. */
static uint64_t unix_peer(uint64_t ino)
{
	long nl = syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return 0;
	struct {
		struct nlmsghdr header;
		struct unix_diag_req request;
	} message = {
	    .header = {.nlmsg_len = sizeof message,
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST},
	    .request = {.sdiag_family = AF_UNIX,
			.udiag_states = (uint32_t)-1,
			.udiag_ino = (uint32_t)ino,
			.udiag_show = UDIAG_SHOW_PEER,
			.udiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE}},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	uint64_t peer = 0;
	long answer[64]; /* one socket's answer is ~40 bytes; aligned for netlink */
	if (syscall(SYS_sendto, nl, &message, sizeof message, 0, &kernel, sizeof kernel) < 0)
		goto done;
	long len = syscall(SYS_recvfrom, nl, answer, sizeof answer, 0, NULL, NULL);
	const struct nlmsghdr *header = (const struct nlmsghdr *)answer;
	if (len < (long)NLMSG_LENGTH(sizeof(struct unix_diag_msg)) || !NLMSG_OK(header, len) ||
	    header->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto done;
	const struct unix_diag_msg *diag = NLMSG_DATA(header);
	int attributes_len = (int)header->nlmsg_len - (int)NLMSG_LENGTH(sizeof *diag);
	const struct nlattr *attribute = (const struct nlattr *)(diag + 1);
	while (attributes_len >= (int)sizeof *attribute &&
	       attribute->nla_len >= sizeof *attribute && attribute->nla_len <= attributes_len) {
		if (attribute->nla_type == UNIX_DIAG_PEER &&
		    attribute->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
			uint32_t value;
			memcpy(&value, (const char *)attribute + NLA_HDRLEN, sizeof value);
			peer = value;
			break;
		}
		int step = NLA_ALIGN(attribute->nla_len);
		attributes_len -= step;
		attribute = (const struct nlattr *)((const char *)attribute + step);
	}
done:
	syscall(SYS_close, nl);
	return peer;
}

/* "1.2.3.4:80" or "[::1]:80" into out; 0, or -1 for other families. */
static int format_inet(const struct sockaddr_storage *address, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	if (address->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)address;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
		return 0;
	}
	if (address->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		return 0;
	}
	return -1;
}

void sockpeer_note(struct ring_writer *writer, int fd)
{
	uint64_t ino = inode_of(fd);
	if (!ino)
		return;
	struct sockaddr_storage local, remote;
	socklen_t local_len = sizeof local, remote_len = sizeof remote;
	memset(&local, 0, sizeof local);
	memset(&remote, 0, sizeof remote);
	if (syscall(SYS_getsockname, fd, &local, &local_len) != 0 ||
	    syscall(SYS_getpeername, fd, &remote, &remote_len) != 0)
		return;

	char label[160];
	uint64_t peer = 0;
	if (local.ss_family == AF_UNIX) {
		peer = unix_peer(ino);
		if (!peer)
			return;
		/* the listening side's path names the connection */
		const struct sockaddr_un *named = (const struct sockaddr_un *)&local;
		if (local_len <= offsetof(struct sockaddr_un, sun_path) || !named->sun_path[0])
			named = (const struct sockaddr_un *)&remote;
		if (named->sun_path[0])
			snprintf(label, sizeof label, "unix %.*s", (int)sizeof named->sun_path,
				 named->sun_path);
		else
			snprintf(label, sizeof label, "unix socket");
	} else {
		char here[64], there[64];
		if (format_inet(&local, here, sizeof here) ||
		    format_inet(&remote, there, sizeof there))
			return;
		snprintf(label, sizeof label, "tcp %s %s", here, there);
	}
	emit_record_string(writer, WEFT_EV_SOCKET_PEER, 0, 0, emit_now(), ino, peer, label,
			   sizeof label);
}

void sockpeer_pair(struct ring_writer *writer, int fd0, int fd1)
{
	uint64_t ino0 = inode_of(fd0), ino1 = inode_of(fd1);
	if (!ino0 || !ino1)
		return;
	emit_record_string(writer, WEFT_EV_SOCKET_PEER, 0, 0, emit_now(), ino0, ino1, "socketpair",
			   16);
}

/* fds with a non-blocking connect under way; bits set by any thread. */
#define PENDING_MAX 1024
static uint64_t pending[PENDING_MAX / 64];

void sockpeer_connecting(int fd)
{
	if (fd >= 0 && fd < PENDING_MAX)
		__atomic_fetch_or(&pending[fd / 64], 1ull << (fd % 64), __ATOMIC_RELAXED);
}

void sockpeer_note_pending(struct ring_writer *writer, int fd)
{
	if (fd < 0 || fd >= PENDING_MAX)
		return;
	uint64_t bit = 1ull << (fd % 64);
	if (!(__atomic_load_n(&pending[fd / 64], __ATOMIC_RELAXED) & bit))
		return;
	if (__atomic_fetch_and(&pending[fd / 64], ~bit, __ATOMIC_RELAXED) & bit)
		sockpeer_note(writer, fd);
}
