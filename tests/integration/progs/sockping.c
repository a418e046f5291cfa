/*
 * sockping - a parent and its forked child play ping-pong over a socket.
 *
 *   weft-itest-sockping socketpair|unix|tcp|tcp-nonblocking ROUNDS [UNIX_PATH]
 *
 * The parent sends ROUNDS pings of 64 bytes, the child answers each with a
 * pong of 64 bytes, with plain blocking write(2)/read(2) (send/recv for
 * tcp). tcp-nonblocking connects the way an event loop does (EINPROGRESS,
 * poll until writable), then plays blocking. Prints "ok ROUNDS" and exits
 * 0; any failure exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MESSAGE 64

static int read_full(int fd, char *buffer, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, buffer + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void play(int fd, int rounds, int serve)
{
	char message[MESSAGE];
	for (int i = 0; i < rounds; i++) {
		if (serve) {
			if (read_full(fd, message, sizeof message))
				_exit(1);
			memcpy(message, "pong", 4);
			if (write(fd, message, sizeof message) != MESSAGE)
				_exit(1);
		} else {
			memset(message, 'x', sizeof message);
			memcpy(message, "ping", 4);
			if (send(fd, message, sizeof message, 0) != MESSAGE ||
			    recv(fd, message, sizeof message, MSG_WAITALL) != MESSAGE ||
			    memcmp(message, "pong", 4))
				exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: weft-itest-sockping socketpair|unix|tcp ROUNDS [PATH]\n");
		return 2;
	}
	int rounds = atoi(argv[2]);
	int parent_fd = -1, listener = -1;
	struct sockaddr_storage address;
	socklen_t address_len = 0;
	memset(&address, 0, sizeof address);

	if (!strcmp(argv[1], "socketpair")) {
		int fds[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			return 1;
		pid_t child = fork();
		if (child == 0) {
			close(fds[0]);
			play(fds[1], rounds, 1);
			_exit(0);
		}
		close(fds[1]);
		parent_fd = fds[0];
	} else {
		int unix_mode = !strcmp(argv[1], "unix");
		if (unix_mode) {
			struct sockaddr_un *un = (struct sockaddr_un *)&address;
			if (argc < 4)
				return 2;
			un->sun_family = AF_UNIX;
			snprintf(un->sun_path, sizeof un->sun_path, "%s", argv[3]);
			unlink(argv[3]);
			address_len = sizeof *un;
			listener = socket(AF_UNIX, SOCK_STREAM, 0);
		} else {
			struct sockaddr_in *in = (struct sockaddr_in *)&address;
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			address_len = sizeof *in;
			listener = socket(AF_INET, SOCK_STREAM, 0);
		}
		if (listener < 0 || bind(listener, (struct sockaddr *)&address, address_len) ||
		    listen(listener, 1) ||
		    getsockname(listener, (struct sockaddr *)&address, &address_len))
			return 1;
		pid_t child = fork();
		if (child == 0) {
			int fd = accept(listener, NULL, NULL);
			if (fd < 0)
				_exit(1);
			play(fd, rounds, 1);
			_exit(0);
		}
		close(listener);
		int nonblocking = !strcmp(argv[1], "tcp-nonblocking");
		parent_fd =
		    socket(address.ss_family, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
		if (parent_fd < 0)
			return 1;
		if (connect(parent_fd, (struct sockaddr *)&address, address_len)) {
			/* an event loop's connect: wait until it is writable */
			struct pollfd writable = {.fd = parent_fd, .events = POLLOUT};
			if (!nonblocking || errno != EINPROGRESS || poll(&writable, 1, 5000) != 1)
				return 1;
			fcntl(parent_fd, F_SETFL, fcntl(parent_fd, F_GETFL) & ~O_NONBLOCK);
		}
	}
	play(parent_fd, rounds, 0);
	int status;
	if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	if (!strcmp(argv[1], "unix"))
		unlink(argv[3]);
	printf("ok %d\n", rounds);
	return 0;
}
