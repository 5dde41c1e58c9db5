// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-mq-qemu - run an unmodified QEMU on /dev/vhost-mq.
 *
 *   vhost-mq-qemu [--dry-run] [--device PATH] [--device-mode] QEMU-BINARY [ARGS...]
 *
 * QEMU opens /dev/vhost-net itself and has no option for another path,
 * but it takes pre-opened fds: -netdev tap,fds=T0:T1..,vhostfds=V0:V1..
 * For every "-netdev tap,...,vhost=on[,queues=N][,ifname=NAME]" this
 * wrapper opens the N tap queues as QEMU would (IFF_TAP|IFF_NO_PI|
 * IFF_VNET_HDR, IFF_MULTI_QUEUE when N > 1, creating the tap if NAME is
 * new, running script= on it), opens N fds of /dev/vhost-mq, and rewrites
 * the option to fds=...,vhostfds=...,vhost=on,vhostforce=on (vhostforce:
 * QEMU 7.2 aborts on a vhost failure without it). A netdev that already
 * has fds= keeps its tap fds and only gets the vhost fds; one with
 * vhostfds=, or without vhost=on, is left alone, as is every other
 * argument. With a downscript= the wrapper stays as QEMU's parent and
 * runs it on the tap after QEMU exits, as QEMU would have.
 *
 * --device-mode hands the whole device to the kernel instead, control vq
 * included: the N tap queues (vnet header of 12 bytes, no offloads
 * towards the guest) go to one /dev/vhost-mq fd in vhost-vdpa mode
 * (VHOST_MQ_SET_VDPA), and the option becomes
 * "vhost-vdpa,id=ID,vhostfd=FD": the guest's VIRTIO_NET_F_MQ negotiation
 * (ethtool -L) is answered in the kernel. The -device line is unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/vhost_mq.h>

#define DEFAULT_SCRIPT		"/etc/qemu-ifup"
#define DEFAULT_DOWNSCRIPT	"/etc/qemu-ifdown"
#define MAX_QUEUES		256	/* tun's MAX_TAP_QUEUES */
#define MAX_OPTS		64

static const char *device = "/dev/vhost-mq";
static bool dry_run, device_mode;

/* downscripts to run after QEMU, on their taps */
static struct {
	char script[PATH_MAX];
	char ifname[IFNAMSIZ];
} downs[16];
static int ndowns;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						      noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vhost-mq-qemu: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The option list of one -netdev, split at commas (",," is a comma). */
struct opts {
	char *key[MAX_OPTS];
	char *val[MAX_OPTS];	/* NULL for a bare word such as "tap" */
	int n;
};

static void opts_parse(struct opts *o, const char *s)
{
	char *copy = strdup(s), *p = copy, *item, *eq, *w;

	o->n = 0;
	while (p && *p && o->n < MAX_OPTS) {
		item = p;
		for (w = p; *p; p++) {
			if (*p == ',' && p[1] == ',') {
				*w++ = ',';
				p++;
				continue;
			}
			if (*p == ',')
				break;
			*w++ = *p;
		}
		if (*p == ',')
			p++;
		*w = '\0';
		eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		o->key[o->n] = item;
		o->val[o->n] = eq ? eq + 1 : NULL;
		o->n++;
	}
	if (p && *p)
		fail("too many options in -netdev %s", s);
}

static const char *opts_get(const struct opts *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->val[i] && !strcmp(o->key[i], key))
			return o->val[i];
	return NULL;
}

static bool is_on(const char *v)
{
	return v && (!strcmp(v, "on") || !strcmp(v, "true") ||
		     !strcmp(v, "yes") || !strcmp(v, "y"));
}

static void fd_inherit(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
		fail("fcntl: %s", strerror(errno));
}

/* The most pairs one vhost-mq fd or netdev may have, from the module. */
static long max_pairs(void)
{
	FILE *f = fopen("/sys/module/vhost_mq/parameters/max_queue_pairs", "re");
	long n = MAX_QUEUES;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = MAX_QUEUES;
		fclose(f);
	}
	return n;
}

static int open_vhost(void)
{
	int fd = open(device, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && !strcmp(device, "/dev/vhost-mq"))
		fail("%s does not exist: load the module first (modprobe vhost_mq)",
		     device);
	if (errno == EACCES || errno == EPERM)
		fail("%s: permission denied (the udev rule gives it the group and "
		     "mode of /dev/vhost-net; are you in that group?)", device);
	fail("%s: %s", device, strerror(errno));
}

/* Open queue fds of tap @name (empty: the kernel names it), as QEMU. */
static void open_taps(char *name, int n, int *fds)
{
	struct ifreq ifr;
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			fail("/dev/net/tun: %s (modprobe tun?)", strerror(errno));
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
				(n > 1 ? IFF_MULTI_QUEUE : 0);
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
		if (ioctl(fds[i], TUNSETIFF, &ifr)) {
			int e = errno;

			if (e == EPERM)
				fail("tap %s: permission denied: creating or "
				     "attaching a tap needs CAP_NET_ADMIN, or a "
				     "persistent multi_queue tap owned by you "
				     "(ip tuntap add dev %s mode tap multi_queue "
				     "user $USER)", name[0] ? name : "(new)",
				     name[0] ? name : "NAME");
			if (e == EINVAL || e == EBUSY)
				fail("tap %s refused queue %d: it exists %s "
				     "(%s)", name, i, n > 1 ?
				     "without multi_queue, or in use" :
				     "as a multi_queue tap, or in use",
				     strerror(e));
			if (e == E2BIG)
				fail("tap %s: queues=%d is more than tun allows",
				     name, n);
			fail("tap %s: TUNSETIFF: %s", name, strerror(e));
		}
		/* the kernel's choice of name, for the others and the script */
		snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	}
}

/*
 * One /dev/vhost-mq fd in vhost-vdpa mode serving the @n queues of tap
 * @ifname, which are set up here as QEMU would no longer do.
 */
static int open_vdpa(const char *ifname, const int *taps, int n)
{
	struct vhost_mq_vdpa a = { .pairs = n, .fds = (uintptr_t)taps };
	int fd, hdr = 12, i;

	for (i = 0; i < n; i++) {
		if (ioctl(taps[i], TUNSETVNETHDRSZ, &hdr))
			fail("tap %s queue %d: TUNSETVNETHDRSZ: %s (opened "
			     "without IFF_VNET_HDR?)", ifname, i, strerror(errno));
		if (ioctl(taps[i], TUNSETOFFLOAD, 0))
			fail("tap %s queue %d: TUNSETOFFLOAD: %s", ifname, i,
			     strerror(errno));
	}
	fd = open_vhost();
	if (!ioctl(fd, VHOST_MQ_SET_VDPA, &a))
		return fd;
	switch (errno) {
	case ENOTTY:
		fail("%s does not speak vhost-vdpa: a vhost_mq module older than "
		     "this wrapper?", device);
	case ENOTSOCK:
	case EBADF:
		fail("tap %s: a queue fd is not a tap queue (%s)", ifname,
		     strerror(errno));
	default:
		fail("%s: VHOST_MQ_SET_VDPA with %d pairs: %s", device, n,
		     strerror(errno));
	}
}

static void run_script(const char *script, const char *ifname)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		execl(script, script, ifname, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("network script %s %s failed with status %d", script,
		     ifname, st);
}

static void append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if ((size_t)vsnprintf(buf + len, size - len, fmt, ap) >= size - len)
		fail("-netdev option too long");
	va_end(ap);
}

static void append_fds(char *buf, size_t size, const char *key,
		       const int *fds, int n)
{
	int i;

	append(buf, size, ",%s=", key);
	for (i = 0; i < n; i++)
		append(buf, size, "%s%d", i ? ":" : "", fds[i]);
}

/* Re-quote a value for QEMU's option syntax (a comma becomes ",,"). */
static void append_opt(char *buf, size_t size, const char *key,
		       const char *val)
{
	append(buf, size, "%s", buf[0] ? "," : "");
	append(buf, size, "%s", key);
	if (!val)
		return;
	append(buf, size, "=");
	for (; *val; val++)
		append(buf, size, *val == ',' ? ",," : "%c", *val);
}

/* The -netdev argument rewritten, or NULL to leave it as it is. */
static char *rewrite_netdev(const char *arg)
{
	static const char *const dropped[] = {
		"ifname", "queues", "script", "downscript", "vnet_hdr",
		"vhost", "vhostforce", "fds", "type",
	};
	int taps[MAX_QUEUES], vhosts[MAX_QUEUES], n = 1, i, j;
	const char *v, *script, *down;
	char ifname[IFNAMSIZ] = "", *out;
	bool own_taps;
	struct opts o;
	size_t size;
	long max;

	opts_parse(&o, arg);
	v = opts_get(&o, "type");
	if (!(o.n && !o.val[0] && !strcmp(o.key[0], "tap")) &&
	    !(v && !strcmp(v, "tap")))
		return NULL;
	if (!is_on(opts_get(&o, "vhost")) && !is_on(opts_get(&o, "vhostforce")))
		return NULL;
	if (opts_get(&o, "vhostfds") || opts_get(&o, "vhostfd"))
		return NULL;
	if (opts_get(&o, "fd") || opts_get(&o, "helper"))
		fail("-netdev %s: fd= and helper= are not supported with "
		     "vhost=on here; use fds= or ifname=", arg);

	v = opts_get(&o, "fds");
	own_taps = !v;
	if (v) {
		/* the user's tap fds: as many vhost fds as there are */
		const char *p = v;

		n = 1;
		for (; *p; p++)
			n += *p == ':';
	} else if ((v = opts_get(&o, "queues"))) {
		char *end;

		n = strtol(v, &end, 10);
		if (*end || n < 1)
			fail("-netdev %s: bad queues=%s", arg, v);
	}
	max = max_pairs();
	if (n > max || n > MAX_QUEUES)
		fail("-netdev %s: %d queues, but %s allows %ld (module parameter "
		     "max_queue_pairs; modprobe vhost_mq max_queue_pairs=%d)",
		     arg, n, device, max < MAX_QUEUES ? max : MAX_QUEUES, n);

	if (own_taps) {
		v = opts_get(&o, "ifname");
		if (v && strlen(v) >= IFNAMSIZ)
			fail("ifname=%s: longer than %d characters", v,
			     IFNAMSIZ - 1);
		snprintf(ifname, sizeof(ifname), "%s", v ? v : "");
		if (!dry_run)
			open_taps(ifname, n, taps);
		else
			for (i = 0; i < n; i++)
				taps[i] = 100 + i;	/* shown, not opened */
	}
	if (!own_taps && device_mode) {
		/* the user's fds=: QEMU would have them, now the kernel */
		const char *p = opts_get(&o, "fds");

		for (i = 0; i < n; i++, p = strchr(p, ':') + 1)
			taps[i] = atoi(p);
	}
	for (i = 0; i < n && !device_mode; i++) {
		vhosts[i] = dry_run ? 200 + i : open_vhost();
		if (!dry_run)
			fd_inherit(vhosts[i]);
		if (own_taps && !dry_run)
			fd_inherit(taps[i]);
	}
	if (device_mode) {
		/* the kernel holds the tap queues from here on */
		vhosts[0] = dry_run ? 200 : open_vdpa(ifname, taps, n);
		if (!dry_run)
			fd_inherit(vhosts[0]);
	}
	if (own_taps) {
		script = opts_get(&o, "script");
		down = opts_get(&o, "downscript");
		if (!script)
			script = DEFAULT_SCRIPT;
		if (!down)
			down = DEFAULT_DOWNSCRIPT;
		if (strcmp(script, "no") && script[0] && !dry_run)
			run_script(script, ifname);
		if (strcmp(down, "no") && down[0] && !dry_run) {
			if (ndowns == (int)(sizeof(downs) / sizeof(downs[0])))
				fail("too many netdevs with a downscript");
			snprintf(downs[ndowns].script, PATH_MAX, "%s", down);
			snprintf(downs[ndowns].ifname, IFNAMSIZ, "%s", ifname);
			ndowns++;
		}
	}

	size = strlen(arg) + 16 * (n + 8) + 64;
	out = calloc(1, size);
	if (!out)
		fail("out of memory");
	if (device_mode) {
		v = opts_get(&o, "id");
		if (!v)
			fail("-netdev %s: no id=", arg);
		append(out, size, "vhost-vdpa,id=%s,vhostfd=%d", v, vhosts[0]);
		return out;
	}
	for (i = 0; i < o.n; i++) {
		bool drop = false;

		for (j = 0; j < (int)(sizeof(dropped) / sizeof(dropped[0])); j++)
			if (o.val[i] && !strcmp(o.key[i], dropped[j]))
				drop = true;
		if (!drop)
			append_opt(out, size, o.key[i], o.val[i]);
	}
	if (own_taps)
		append_fds(out, size, "fds", taps, n);
	else
		append(out, size, ",fds=%s", opts_get(&o, "fds"));
	append_fds(out, size, "vhostfds", vhosts, n);
	append(out, size, ",vhost=on,vhostforce=on");
	return out;
}

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void print_quoted(char **argv)
{
	int i;

	for (i = 0; argv[i]; i++) {
		const char *a = argv[i];

		if (a[strcspn(a, " \t'\"$\\;&|<>()*?[]{}~`!#")] == '\0' && *a) {
			printf("%s%s", i ? " " : "", a);
			continue;
		}
		printf("%s'", i ? " " : "");
		for (; *a; a++)
			if (*a == '\'')
				printf("'\\''");
			else
				putchar(*a);
		putchar('\'');
	}
	putchar('\n');
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vhost-mq-qemu [--dry-run] [--device PATH] [--device-mode] QEMU-BINARY [QEMU ARGS...]\n"
		"  runs QEMU with every '-netdev tap,...,vhost=on' served by PATH\n"
		"  (default /dev/vhost-mq) instead of /dev/vhost-net; with\n"
		"  --device-mode as a whole vhost-vdpa device, control vq included\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char **args;
	int i = 1, a, st;

	while (i < argc && !strncmp(argv[i], "--", 2)) {
		if (!strcmp(argv[i], "--dry-run")) {
			dry_run = true;
			i++;
		} else if (!strcmp(argv[i], "--device-mode")) {
			device_mode = true;
			i++;
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			usage();
		}
	}
	if (i >= argc)
		usage();
	args = calloc(argc - i + 1, sizeof(*args));
	if (!args)
		fail("out of memory");
	for (a = 0; i < argc; i++, a++) {
		args[a] = argv[i];
		if (a && (!strcmp(argv[i], "-netdev") ||
			  !strcmp(argv[i], "--netdev")) && i + 1 < argc) {
			char *r = rewrite_netdev(argv[i + 1]);

			args[++a] = r ? r : argv[i + 1];
			i++;
		}
	}
	args[a] = NULL;
	if (dry_run) {
		print_quoted(args);
		return 0;
	}
	if (!ndowns) {
		execvp(args[0], args);
		fail("%s: %s", args[0], strerror(errno));
	}
	/* stay around for the downscripts */
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (!child) {
		execvp(args[0], args);
		fail("%s: %s", args[0], strerror(errno));
	}
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	for (i = 0; i < ndowns; i++)
		run_script(downs[i].script, downs[i].ifname);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
