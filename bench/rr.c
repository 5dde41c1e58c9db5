// SPDX-License-Identifier: GPL-2.0
/*
 * rr - TCP request/response benchmark with netperf's TCP_RR and TCP_CRR
 * semantics (netperf is not in Debian main, so this one is ours).
 *
 *   rr -s [-b ADDR] [-P PORT]                     server
 *   rr -c ADDR [-P PORT] [-m rr|crr] [-n SESSIONS] [-l SECONDS]
 *      [-r REQ_BYTES] [-R RESP_BYTES] [-q]          client
 *
 * rr:  each session is one connection; a transaction is a request of
 *      REQ bytes and the response of RESP bytes, back to back.
 * crr: a transaction is connect, request, response, and the server
 *      closing first (so TIME_WAIT stays on the server); the client
 *      counts it when it has seen the end of the stream and closed.
 *
 * Sessions run concurrently on one epoll loop. The client opens each
 * connection with an 12-byte hello (magic, REQ, RESP, close-after-one)
 * in the same write as its first request, so the server needs no
 * options. The client prints one interim line a second (unless -q) and a
 * summary line of key=value: transactions, transactions/s (all sessions
 * and per session), and p50/p90/p99 transaction latency in microseconds.
 * Addresses are IPv4 or IPv6 (link-local ones as fe80::1%eth0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_MAGIC	0x72723031u	/* "rr01" */
#define MAX_MSG		(1 << 20)
#define MAX_SESSIONS	4096

struct hello {
	uint32_t magic;
	uint32_t req;
	uint32_t resp;		/* top bit: close after one transaction */
} __attribute__((packed));
#define HELLO_CLOSE	0x80000000u

struct conn {
	int fd;
	int session;		/* client: session index */
	bool have_hello;	/* server: hello read */
	bool closing;		/* server: close once the response is out */
	bool connecting;	/* client: crr connect in progress */
	uint32_t req, resp;
	uint32_t got;		/* bytes of the current message read */
	uint32_t hello_got;
	uint32_t to_send;	/* bytes of the current message left */
	struct hello hello;
	uint64_t t_start;	/* client: transaction start, ns */
};

static char zeros[MAX_MSG];
static char sink[MAX_MSG];
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "rr: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int resolve(const char *host, const char *port, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	}, *res;
	int r = getaddrinfo(host, port, &hints, &res);

	if (r) {
		fprintf(stderr, "rr: %s: %s\n", host ? host : "*", gai_strerror(r));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void ep_add(int ep, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl add");
}

static void ep_mod(int ep, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
		die("epoll_ctl mod");
}

/* Send what is left of the current message; 1 done, 0 later, -1 error. */
static int send_rest(struct conn *c, const void *prefix, uint32_t plen)
{
	char buf[sizeof(struct hello) + 4096];
	ssize_t n;

	while (c->to_send) {
		if (plen && c->to_send <= 4096) {
			/* hello and a small first request in one segment */
			memcpy(buf, prefix, plen);
			memset(buf + plen, 0, c->to_send);
			n = send(c->fd, buf, plen + c->to_send, MSG_NOSIGNAL);
			if (n >= 0 && n < (ssize_t)plen)
				return -1;	/* not even the hello fit */
			if (n >= 0)
				n -= plen;
			plen = 0;
		} else {
			if (plen && send(c->fd, prefix, plen, MSG_NOSIGNAL) != plen)
				return -1;
			plen = 0;
			n = send(c->fd, zeros, c->to_send, MSG_NOSIGNAL);
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->to_send -= n;
	}
	return 1;
}

/* ------------------------------------------------------------ server */

static void server_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static void server_event(int ep, struct conn *c, uint32_t events)
{
	ssize_t n;
	int r;

	if (c->to_send) {
		r = send_rest(c, NULL, 0);
		if (r < 0)
			goto gone;
		if (!r)
			return;
		ep_mod(ep, c->fd, EPOLLIN, c);
		if (c->closing)
			goto gone;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		if (!c->have_hello) {
			n = recv(c->fd, (char *)&c->hello + c->hello_got,
				 sizeof(c->hello) - c->hello_got, MSG_DONTWAIT);
			if (n <= 0)
				goto check;
			c->hello_got += n;
			if (c->hello_got < sizeof(c->hello))
				continue;
			if (c->hello.magic != RR_MAGIC ||
			    !c->hello.req || c->hello.req > MAX_MSG ||
			    !(c->hello.resp & ~HELLO_CLOSE) ||
			    (c->hello.resp & ~HELLO_CLOSE) > MAX_MSG)
				goto gone;
			c->have_hello = true;
			c->req = c->hello.req;
			c->resp = c->hello.resp & ~HELLO_CLOSE;
			c->closing = c->hello.resp & HELLO_CLOSE;
			continue;
		}
		n = recv(c->fd, sink, c->req - c->got, MSG_DONTWAIT);
		if (n <= 0)
			goto check;
		c->got += n;
		if (c->got < c->req)
			continue;
		c->got = 0;
		c->to_send = c->resp;
		r = send_rest(c, NULL, 0);
		if (r < 0)
			goto gone;
		if (!r) {
			ep_mod(ep, c->fd, EPOLLIN | EPOLLOUT, c);
			return;
		}
		if (c->closing)
			goto gone;	/* crr: the server closes first */
		/* one request at a time: epoll says when the next is in */
		return;
	}
check:
	if (n < 0 && errno == EAGAIN)
		return;
gone:
	server_close(ep, c);
}

static int server(const char *bind_addr, const char *port)
{
	struct sockaddr_storage ss;
	struct epoll_event evs[256];
	socklen_t len;
	int ls, ep, one = 1, i, n;

	/* by default both families, on :: (IPv4 mapped) or else 0.0.0.0 */
	if (resolve(bind_addr ? bind_addr : "::", port, true, &ss, &len))
		return 1;
	ls = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0 && !bind_addr) {
		if (resolve("0.0.0.0", port, true, &ss, &len))
			return 1;
		ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !bind_addr) {
		int zero = 0;

		setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(ls, (struct sockaddr *)&ss, len) || listen(ls, 1024))
		die("bind/listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	ep_add(ep, ls, EPOLLIN, NULL);
	fprintf(stderr, "rr: serving on port %s\n", port);
	while (!stopping) {
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c) {
				server_event(ep, c, evs[i].events);
				continue;
			}
			for (;;) {
				int fd = accept4(ls, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0)
					break;
				nodelay(fd);
				c = calloc(1, sizeof(*c));
				if (!c)
					die("calloc");
				c->fd = fd;
				ep_add(ep, fd, EPOLLIN, c);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ client */

struct client {
	int ep;
	bool crr;
	uint32_t req, resp;
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint64_t trans;			/* completed transactions */
	uint64_t errors;
	uint32_t *lat;			/* microseconds, one per transaction */
	size_t nlat, caplat;
};

static void record(struct client *cl, struct conn *c)
{
	uint64_t us = (now_ns() - c->t_start) / 1000;

	if (cl->nlat == cl->caplat) {
		cl->caplat = cl->caplat ? 2 * cl->caplat : 65536;
		cl->lat = realloc(cl->lat, cl->caplat * sizeof(*cl->lat));
		if (!cl->lat)
			die("realloc");
	}
	cl->lat[cl->nlat++] = us > UINT32_MAX ? UINT32_MAX : us;
	cl->trans++;
}

/* Start a transaction on @c: connect (crr) or send the request (rr). */
static void client_begin(struct client *cl, struct conn *c, bool first)
{
	struct hello h = { RR_MAGIC, cl->req, cl->resp | (cl->crr ? HELLO_CLOSE : 0) };
	int r;

	c->t_start = now_ns();
	c->got = 0;
	if (cl->crr) {
		c->fd = socket(cl->ss.ss_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			die("socket");
		nodelay(c->fd);
		r = connect(c->fd, (struct sockaddr *)&cl->ss, cl->sslen);
		if (r && errno != EINPROGRESS)
			die("connect");
		c->connecting = true;
		ep_add(cl->ep, c->fd, EPOLLOUT, c);
		return;
	}
	c->to_send = cl->req;
	r = send_rest(c, first ? &h : NULL, first ? sizeof(h) : 0);
	if (r < 0)
		die("send");
	if (!r)
		ep_mod(cl->ep, c->fd, EPOLLIN | EPOLLOUT, c);
}

static void client_event(struct client *cl, struct conn *c, uint32_t events)
{
	struct hello h = { RR_MAGIC, cl->req, cl->resp | (cl->crr ? HELLO_CLOSE : 0) };
	ssize_t n;
	int r, err = 0;
	socklen_t el = sizeof(err);

	if (c->connecting) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			errno = err;
			die("connect");
		}
		c->connecting = false;
		c->to_send = cl->req;
		r = send_rest(c, &h, sizeof(h));
		if (r < 0)
			die("send");
		ep_mod(cl->ep, c->fd, r ? EPOLLIN : EPOLLIN | EPOLLOUT, c);
		return;
	}
	if (c->to_send) {
		r = send_rest(c, NULL, 0);
		if (r < 0)
			die("send");
		if (!r)
			return;
		ep_mod(cl->ep, c->fd, EPOLLIN, c);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = recv(c->fd, sink, c->got < cl->resp ? cl->resp - c->got : sizeof(sink),
			 MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 || (n == 0 && c->got < cl->resp)) {
			/* the server went away mid-transaction */
			cl->errors++;
			if (!cl->crr)
				die("recv (server gone)");
			epoll_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			client_begin(cl, c, true);
			return;
		}
		if (n == 0) {
			/* crr: the server closed first; now we close */
			epoll_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			record(cl, c);
			if (!stopping)
				client_begin(cl, c, true);
			return;
		}
		c->got += n;
		if (c->got > cl->resp) {
			fprintf(stderr, "rr: more response than asked for\n");
			exit(1);
		}
		if (c->got == cl->resp && !cl->crr) {
			record(cl, c);
			if (stopping)
				return;
			/* the next request; epoll says when its response is in */
			client_begin(cl, c, false);
			return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t pct(const struct client *cl, double p)
{
	size_t i;

	if (!cl->nlat)
		return 0;
	i = (size_t)(p / 100.0 * (cl->nlat - 1) + 0.5);
	return cl->lat[i];
}

static int client(const char *host, const char *port, const char *mode,
		  int sessions, int seconds, uint32_t req, uint32_t resp,
		  bool quiet)
{
	static struct client cl;
	static struct conn conns[MAX_SESSIONS];
	struct epoll_event evs[256];
	uint64_t t0, t_end, t_tick, last = 0;
	int i, n, tick = 0;
	double secs;

	cl.crr = !strcmp(mode, "crr");
	cl.req = req;
	cl.resp = resp;
	if (resolve(host, port, false, &cl.ss, &cl.sslen))
		return 1;
	cl.ep = epoll_create1(EPOLL_CLOEXEC);
	if (cl.ep < 0)
		die("epoll_create1");
	for (i = 0; i < sessions; i++) {
		struct conn *c = &conns[i];

		c->session = i;
		if (!cl.crr) {
			c->fd = socket(cl.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (c->fd < 0)
				die("socket");
			if (connect(c->fd, (struct sockaddr *)&cl.ss, cl.sslen))
				die("connect");
			nodelay(c->fd);
			fcntl(c->fd, F_SETFL, O_NONBLOCK);
			ep_add(cl.ep, c->fd, EPOLLIN, c);
		}
	}
	t0 = now_ns();
	t_end = t0 + seconds * 1000000000ull;
	t_tick = t0 + 1000000000ull;
	for (i = 0; i < sessions; i++)
		client_begin(&cl, &conns[i], true);
	while (!stopping) {
		uint64_t t = now_ns();

		if (t >= t_end)
			break;
		if (t >= t_tick) {
			tick++;
			if (!quiet)
				printf("interim t=%d trans=%llu tps=%llu\n", tick,
				       (unsigned long long)cl.trans,
				       (unsigned long long)(cl.trans - last));
			fflush(stdout);
			last = cl.trans;
			t_tick += 1000000000ull;
		}
		n = epoll_wait(cl.ep, evs, 256, 100);
		for (i = 0; i < n; i++)
			client_event(&cl, evs[i].data.ptr, evs[i].events);
	}
	secs = (now_ns() - t0) / 1e9;
	qsort(cl.lat, cl.nlat, sizeof(*cl.lat), cmp_u32);
	printf("rr mode=%s sessions=%d req=%u resp=%u seconds=%.2f trans=%llu "
	       "tps=%.1f tps_per_session=%.1f p50_us=%u p90_us=%u p99_us=%u "
	       "errors=%llu\n", mode, sessions, req, resp, secs,
	       (unsigned long long)cl.trans, cl.trans / secs,
	       cl.trans / secs / sessions, pct(&cl, 50), pct(&cl, 90),
	       pct(&cl, 99), (unsigned long long)cl.errors);
	return cl.trans ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rr -s [-b ADDR] [-P PORT]\n"
		"       rr -c ADDR [-P PORT] [-m rr|crr] [-n SESSIONS] [-l SECONDS]\n"
		"          [-r REQ_BYTES] [-R RESP_BYTES] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *bind_addr = NULL, *port = "12865";
	const char *mode = "rr";
	int c, sessions = 1, seconds = 10;
	long req = 1, resp = 1;
	bool srv = false, quiet = false;

	while ((c = getopt(argc, argv, "sb:c:P:m:n:l:r:R:q")) != -1) {
		switch (c) {
		case 's': srv = true; break;
		case 'b': bind_addr = optarg; break;
		case 'c': host = optarg; break;
		case 'P': port = optarg; break;
		case 'm': mode = optarg; break;
		case 'n': sessions = atoi(optarg); break;
		case 'l': seconds = atoi(optarg); break;
		case 'r': req = atol(optarg); break;
		case 'R': resp = atol(optarg); break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (srv == !!host || sessions < 1 || sessions > MAX_SESSIONS ||
	    seconds < 1 || req < 1 || req > MAX_MSG || resp < 1 ||
	    resp > MAX_MSG || (strcmp(mode, "rr") && strcmp(mode, "crr")))
		usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (srv)
		return server(bind_addr, port);
	return client(host, port, mode, sessions, seconds, req, resp, quiet);
}
