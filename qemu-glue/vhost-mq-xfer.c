// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-mq-xfer - move a file over one TCP connection, for the end-to-end
 * test's byte-for-byte check (iperf3 -F skips data on partial sends,
 * esnet/iperf#301, so it cannot be the judge).
 *
 *   vhost-mq-xfer send ADDR PORT FILE   connect, send FILE, close
 *   vhost-mq-xfer recv PORT FILE        accept one connection, write
 *                                       everything until EOF to FILE
 * IPv4 only. Exit status 0 when the whole stream went through.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int copy(int from, int to)
{
	char buf[65536];
	ssize_t n, w, off;

	for (;;) {
		n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (off = 0; off < n; off += w) {
			w = write(to, buf + off, n - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				return -1;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int s, c, f, one = 1;

	if (argc == 5 && !strcmp(argv[1], "send")) {
		f = open(argv[4], O_RDONLY | O_CLOEXEC);
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_port = htons(atoi(argv[3]));
		if (f < 0 || s < 0 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 ||
		    connect(s, (struct sockaddr *)&sa, sizeof(sa)) || copy(f, s) ||
		    shutdown(s, SHUT_WR))
			return perror("vhost-mq-xfer send"), 1;
		/* wait for the receiver's close: it has everything */
		while (read(s, &one, sizeof(one)) > 0)
			;
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "recv")) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_port = htons(atoi(argv[2]));
		if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
			return perror("vhost-mq-xfer recv"), 1;
		c = accept(s, NULL, NULL);
		f = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c < 0 || f < 0 || copy(c, f) || fsync(f))
			return perror("vhost-mq-xfer recv"), 1;
		close(c);
		return 0;
	}
	fprintf(stderr, "usage: vhost-mq-xfer send ADDR PORT FILE | recv PORT FILE\n");
	return 2;
}
