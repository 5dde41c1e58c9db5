// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_fuzz_test.c - a stateful fuzzer of the char device, as syzkaller
 * drives /dev/vhost-net: random sequences of every vhost-net, vhost-mq and
 * vhost-vdpa ioctl with semi-valid arguments, IOTLB messages written and
 * read, close/reopen/dup of the fds, fork() of the owner and the fd passed
 * with SCM_RIGHTS to another process that uses it too; 1-4 threads on 1-2
 * fds sharing one multiqueue tap, while a guest (raw split rings in the
 * owner's memory) and the host move frames through it.
 *
 * One sequence: set up (tap, guest memory, fd 0 wired as a working
 * pair), run the threads, tear down (threads interrupted, every fd
 * closed, the helper and forked children gone), then check: no kernel
 * report in /dev/kmsg, the module's reference count, the device's worker
 * threads and our fds back at their baseline; over the whole run, the
 * kmalloc caches not grown with the sequences. Everything a sequence does
 * follows from its seed (each thread draws from its own generator seeded
 * from it; only the threads' interleaving is the scheduler's): a failure
 * prints the seed, and -r SEED runs that sequence again.
 *
 *   ioctl_fuzz_test [-d net|mq|both] [-t SECONDS] [-s SEED] [-r SEED]
 *
 * -t: time per device (default: $IOCTL_FUZZ_SECS, else 30); -s: the first
 * sequence's seed (default: from the clock, printed); -r: one sequence.
 * Prints TAP: one line per device with the sequences, calls and frames.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"

#define F(bit)		(1ULL << (bit))
#define MAXFDS		4	/* fd slots of a sequence */
#define NTAPQ		4	/* queues of its tap */
#define NEVS		6	/* eventfds: kick, call, err of vrings 0, 1 */
#define MEM_SIZE	(4UL << 20)
#define GPA		0x40000000ULL
#define GPA2		0x80000000ULL	/* fd 1's device, when it has one */
#define NUM		64	/* the traffic rings' size */
#define BUF_OFF		(1UL << 20)	/* buffers from here; rings below */
#define FRAME_LEN	(12 + 60)
#define MAXKIDS		16
#define OPS_MIN		100
#define OPS_MAX		600

/* ---- a seeded generator per thread ---------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* ---- one sequence ---------------------------------------------------- */

struct seq {
	const char *path;
	bool ours;
	uint64_t seed;
	int nthreads;
	int fds[MAXFDS];		/* fixed numbers: vhost files or /dev/null */
	int nfds;
	int devnull;
	struct vmq_tap tap;
	int evs[NEVS];
	uint8_t *mem;			/* guest memory, GPA.. */
	uint8_t *ro;			/* a read-only page, for EFAULT */
	int helper_sock;		/* SCM_RIGHTS to the helper */
	pid_t helper;
	pthread_mutex_t lock;		/* kids, helper_sock */
	pid_t kids[MAXKIDS];
	int nkids;
	atomic_bool stop;
	atomic_ulong calls;
	atomic_ulong tx_frames, rx_frames;
	/* fd 1 of vhost-mq, as a device-mode or vhost-vdpa device (gmode) */
	int gmode;
	struct vmq_gdev gdev;
};

/* the rings of the pair wired on fd 0 (vring 0 rx, 1 tx), in mem */
static struct vring ring_of(struct seq *s, int which)
{
	struct vring v;

	vring_init(&v, NUM, s->mem + which * 0x10000, 4096);
	return v;
}

static uint64_t gpa_of(struct seq *s, const void *p)
{
	return GPA + ((const uint8_t *)p - s->mem);
}

/* an address: mostly in guest memory, sometimes anything but */
static uint64_t pick_addr(struct rng *r, struct seq *s, bool user)
{
	uint64_t base = user ? (uint64_t)(uintptr_t)s->mem : GPA;

	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return rnd(r);
	case 2:
		return 0xffffffff81000000ULL;	/* the kernel's */
	case 3:
		return base + MEM_SIZE - below(r, 64);	/* at the end */
	case 4:
		return base + below(r, MEM_SIZE) ;	/* unaligned */
	default:
		return base + (below(r, MEM_SIZE / 4096) << 12);
	}
}

static int pick_fd(struct rng *r, struct seq *s)
{
	switch (below(r, 12)) {
	case 0:
		return -1;
	case 1:
		return 100000;			/* not open */
	case 2:
		return s->fds[below(r, s->nfds)];	/* a vhost fd */
	case 3:
		return s->devnull;
	case 4: case 5: case 6:
		return s->tap.fd[below(r, NTAPQ)];
	default:
		return s->evs[below(r, NEVS)];
	}
}

static unsigned int pick_idx(struct rng *r)
{
	static const unsigned int idx[] = { 0, 1, 2, 3, 4, 5, 8, 32, 128, 129,
					    0x7fffffff, 0xffffffff };

	return below(r, 3) ? below(r, 6) : idx[below(r, 12)];
}

static void *pick_ptr(struct rng *r, struct seq *s, void *good)
{
	switch (below(r, 12)) {
	case 0:
		return NULL;
	case 1:
		return s->ro;
	case 2:
		return (void *)0xffffffff81000000ULL;
	default:
		return good;
	}
}

static uint64_t pick_features(struct rng *r, bool ours)
{
	static const int bits[] = {
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_F_NOTIFY_ON_EMPTY, 26 /* LOG_ALL */,
		VIRTIO_F_ANY_LAYOUT, VIRTIO_RING_F_INDIRECT_DESC,
		VIRTIO_RING_F_EVENT_IDX, 30 /* VHOST_NET_F_VIRTIO_NET_HDR */,
		VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM,
		VIRTIO_F_RING_PACKED, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ,
		VIRTIO_NET_F_CSUM, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU,
	};
	uint64_t f = 0;
	unsigned int i;

	if (chance(r, 5))
		return rnd(r);
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (chance(r, 40))
			f |= F(bits[i]);
	if (!ours)
		f &= ~F(VIRTIO_F_RING_PACKED);
	return f;
}

/* ---- the operations -------------------------------------------------- */

enum op {
	OP_GET_FEATURES, OP_SET_FEATURES, OP_SET_OWNER, OP_RESET_OWNER,
	OP_MEM_TABLE, OP_LOG_BASE, OP_LOG_FD, OP_VRING_NUM, OP_VRING_ADDR,
	OP_VRING_BASE, OP_GET_VRING_BASE, OP_VRING_FD, OP_VRING_ENDIAN,
	OP_BUSYLOOP, OP_BACKEND_FEATURES, OP_NET_BACKEND, OP_MQ, OP_VDPA,
	OP_RANDOM_IOCTL, OP_IOTLB_WRITE, OP_READ, OP_POLL, OP_KICK,
	OP_CLOSE, OP_REOPEN, OP_DUP, OP_FORK, OP_PASS, OP_MPROTECT,
	OP_TAP_QUEUE,
	OP_NR
};

/* ops a forked child or the helper may run: no fork, no passing */
#define OP_NR_SIMPLE	OP_FORK

static long do_ioctl(struct seq *s, int fd, unsigned long cmd, void *arg)
{
	atomic_fetch_add(&s->calls, 1);
	return ioctl(fd, cmd, arg);
}

static void op_mem_table(struct rng *r, struct seq *s, int fd)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region reg[4];
	} t;
	unsigned int i;

	memset(&t, 0, sizeof(t));
	t.m.nregions = below(r, 5);
	if (chance(r, 5))
		t.m.nregions = rnd(r);
	for (i = 0; i < 4; i++) {
		t.reg[i].guest_phys_addr = chance(r, 80) ? GPA + i * MEM_SIZE :
					   pick_addr(r, s, false);
		t.reg[i].memory_size = chance(r, 80) ? MEM_SIZE >> below(r, 3) :
				       rnd(r) >> below(r, 64);
		t.reg[i].userspace_addr = chance(r, 80) ?
					  (uint64_t)(uintptr_t)s->mem :
					  pick_addr(r, s, true);
	}
	do_ioctl(s, fd, VHOST_SET_MEM_TABLE, pick_ptr(r, s, &t));
}

static void op_vring_addr(struct rng *r, struct seq *s, int fd)
{
	struct vring v = ring_of(s, below(r, 2));
	struct vhost_vring_addr a = {
		.index = pick_idx(r),
		.flags = chance(r, 20) ? 1 << VHOST_VRING_F_LOG : 0,
		.desc_user_addr = (uintptr_t)v.desc,
		.avail_user_addr = (uintptr_t)v.avail,
		.used_user_addr = (uintptr_t)v.used,
		.log_guest_addr = gpa_of(s, v.used),
	};

	if (chance(r, 10))
		a.flags = rnd(r);
	if (chance(r, 30)) {
		a.desc_user_addr = pick_addr(r, s, true);
		a.avail_user_addr = pick_addr(r, s, true);
		a.used_user_addr = pick_addr(r, s, true);
	}
	if (chance(r, 20))
		a.log_guest_addr = pick_addr(r, s, false);
	do_ioctl(s, fd, VHOST_SET_VRING_ADDR, pick_ptr(r, s, &a));
}

static void op_mq(struct rng *r, struct seq *s, int fd)
{
	union {
		struct vhost_mq_vring_stats st;
		struct vhost_mq_worker w;
		struct vhost_mq_worker_affinity af;
		struct vhost_mq_active act;
		struct vhost_mq_pair p;
		struct vhost_mq_vdpa v;
		uint32_t u;
		uint8_t raw[512];
	} a;
	uint64_t mask = below(r, 4);
	int taps[NTAPQ + 1];
	unsigned int i;

	memset(&a, 0, sizeof(a));
	switch (below(r, 8)) {
	case 0:
		a.st.index = pick_idx(r);
		do_ioctl(s, fd, VHOST_MQ_GET_VRING_STATS, pick_ptr(r, s, &a));
		break;
	case 1:
		a.w.pair = pick_idx(r);
		do_ioctl(s, fd, VHOST_MQ_GET_WORKER, pick_ptr(r, s, &a));
		break;
	case 2:
		a.af.pair = pick_idx(r);
		a.af.size = chance(r, 80) ? sizeof(mask) : rnd(r) & 0xffff;
		a.af.mask = (uintptr_t)pick_ptr(r, s, &mask);
		do_ioctl(s, fd, VHOST_MQ_SET_WORKER_AFFINITY, pick_ptr(r, s, &a));
		break;
	case 3:
		a.u = chance(r, 80) ? 1 + below(r, NTAPQ) : pick_idx(r);
		do_ioctl(s, fd, VHOST_MQ_SET_PAIRS, pick_ptr(r, s, &a));
		break;
	case 4:
		do_ioctl(s, fd, VHOST_MQ_GET_ACTIVE, pick_ptr(r, s, &a));
		break;
	case 5:
		a.u = chance(r, 80) ? 1 + below(r, NTAPQ) : pick_idx(r);
		do_ioctl(s, fd, VHOST_MQ_SET_ACTIVE, pick_ptr(r, s, &a));
		break;
	case 6:
		a.p.pair = pick_idx(r);
		do_ioctl(s, fd, VHOST_MQ_GET_PAIR, pick_ptr(r, s, &a));
		break;
	default:
		for (i = 0; i <= NTAPQ; i++)
			taps[i] = chance(r, 85) ? s->tap.fd[i % NTAPQ] :
				  pick_fd(r, s);
		a.v.pairs = chance(r, 80) ? 1 + below(r, NTAPQ) : pick_idx(r);
		a.v.fds = (uintptr_t)pick_ptr(r, s, taps);
		a.v.mac[0] = 2;
		a.v.mtu = chance(r, 50) ? 1500 : below(r, 70000);
		if (chance(r, 5))
			a.v.flags = rnd(r);
		do_ioctl(s, fd, VHOST_MQ_SET_VDPA, pick_ptr(r, s, &a));
		break;
	}
}

static void op_vdpa(struct rng *r, struct seq *s, int fd)
{
	struct {
		struct vhost_vdpa_config c;
		uint8_t data[64];
	} cfg;
	union {
		struct vhost_vring_state st;
		struct vhost_vdpa_iova_range range;
		uint64_t u64;
		uint32_t u32;
		uint8_t u8;
		int i;
	} a;
	static const uint8_t status[] = { 0, 1, 3, 0xb, 0xf, 0x40, 0x80, 0xff };

	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	switch (below(r, 14)) {
	case 0:
		do_ioctl(s, fd, VHOST_VDPA_GET_DEVICE_ID, pick_ptr(r, s, &a));
		break;
	case 1:
		do_ioctl(s, fd, VHOST_VDPA_GET_STATUS, pick_ptr(r, s, &a));
		break;
	case 2:
	case 3:
		a.u8 = chance(r, 80) ? status[below(r, 5)] : status[below(r, 8)];
		do_ioctl(s, fd, VHOST_VDPA_SET_STATUS, pick_ptr(r, s, &a));
		break;
	case 4:
	case 5:
		cfg.c.off = chance(r, 70) ? below(r, 16) : rnd(r);
		cfg.c.len = chance(r, 70) ? below(r, 64) : rnd(r);
		do_ioctl(s, fd, below(r, 2) ? VHOST_VDPA_GET_CONFIG :
				VHOST_VDPA_SET_CONFIG, pick_ptr(r, s, &cfg));
		break;
	case 6:
		a.st.index = pick_idx(r);
		a.st.num = below(r, 3);
		do_ioctl(s, fd, VHOST_VDPA_SET_VRING_ENABLE, pick_ptr(r, s, &a));
		break;
	case 7:
		do_ioctl(s, fd, VHOST_VDPA_GET_VRING_NUM, pick_ptr(r, s, &a));
		break;
	case 8:
		a.i = pick_fd(r, s);
		do_ioctl(s, fd, VHOST_VDPA_SET_CONFIG_CALL, pick_ptr(r, s, &a));
		break;
	case 9:
		do_ioctl(s, fd, VHOST_VDPA_GET_IOVA_RANGE, pick_ptr(r, s, &a));
		break;
	case 10:
		do_ioctl(s, fd, below(r, 2) ? VHOST_VDPA_GET_CONFIG_SIZE :
				VHOST_VDPA_GET_VQS_COUNT, pick_ptr(r, s, &a));
		break;
	case 11:
		do_ioctl(s, fd, below(r, 2) ? VHOST_VDPA_GET_GROUP_NUM :
				VHOST_VDPA_GET_AS_NUM, pick_ptr(r, s, &a));
		break;
	case 12:
		a.st.index = pick_idx(r);
		a.st.num = below(r, 3);
		do_ioctl(s, fd, below(r, 2) ? VHOST_VDPA_GET_VRING_GROUP :
				VHOST_VDPA_SET_GROUP_ASID, pick_ptr(r, s, &a));
		break;
	default:
		do_ioctl(s, fd, VHOST_VDPA_SUSPEND, NULL);
		break;
	}
}

static void op_iotlb_write(struct rng *r, struct seq *s, int fd)
{
	static const uint8_t types[] = {
		VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE,
		VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END,
		VHOST_IOTLB_MISS, VHOST_IOTLB_ACCESS_FAIL, 0, 200,
	};
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} m;
	struct vhost_iotlb_msg *msg;
	size_t len;

	memset(&m, 0, sizeof(m));
	if (below(r, 2)) {
		m.v2.type = chance(r, 95) ? VHOST_IOTLB_MSG_V2 : rnd(r);
		msg = &m.v2.iotlb;
		len = sizeof(m.v2);
	} else {
		m.v1.type = chance(r, 95) ? VHOST_IOTLB_MSG : rnd(r);
		msg = &m.v1.iotlb;
		len = sizeof(m.v1);
	}
	msg->type = types[below(r, sizeof(types))];
	msg->iova = chance(r, 70) ? GPA + (below(r, MEM_SIZE / 4096) << 12) :
		    pick_addr(r, s, false);
	msg->size = chance(r, 70) ? 4096ULL << below(r, 11) : rnd(r) >> below(r, 64);
	msg->uaddr = chance(r, 80) ? (uintptr_t)s->mem + (msg->iova - GPA) % MEM_SIZE :
		     pick_addr(r, s, true);
	msg->perm = chance(r, 90) ? 1 + below(r, 3) : rnd(r);
	if (chance(r, 10))
		len = below(r, len + 8);
	atomic_fetch_add(&s->calls, 1);
	if (write(fd, &m, len) < 0 && errno == EINTR)
		return;
}

static void op_read(struct rng *r, struct seq *s, int fd)
{
	uint8_t buf[128];
	size_t len = chance(r, 80) ? sizeof(buf) : below(r, sizeof(buf));

	atomic_fetch_add(&s->calls, 1);
	/* blocks on a blocking fd until a miss, or the teardown's signal */
	if (read(fd, pick_ptr(r, s, buf), len) < 0 && errno == EINTR)
		return;
}

/* Close, reopen or share an fd slot; its number never changes hands. */
static void op_slot(struct rng *r, struct seq *s, enum op op)
{
	int slot = below(r, s->nfds), nfd;

	atomic_fetch_add(&s->calls, 1);
	switch (op) {
	case OP_CLOSE:
		dup2(s->devnull, s->fds[slot]);
		break;
	case OP_REOPEN:
		nfd = open(s->path, O_RDWR | O_CLOEXEC |
			   (below(r, 2) ? O_NONBLOCK : 0));
		if (nfd >= 0) {
			dup2(nfd, s->fds[slot]);
			close(nfd);
		}
		break;
	default:
		dup2(s->fds[below(r, s->nfds)], s->fds[slot]);
		break;
	}
}

static void op_mprotect(struct rng *r, struct seq *s)
{
	/* buffers only: the traffic thread writes the rings */
	size_t pages = (MEM_SIZE - BUF_OFF) / 4096;
	uint8_t *p = s->mem + BUF_OFF + (below(r, pages) << 12);
	size_t len = (1 + below(r, 8)) << 12;
	static const int prot[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };

	if (p + len > s->mem + MEM_SIZE)
		len = s->mem + MEM_SIZE - p;
	atomic_fetch_add(&s->calls, 1);
	if (chance(r, 30))
		mmap(p, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else
		mprotect(p, len, prot[below(r, 3)]);
}

static void run_op(struct rng *r, struct seq *s, enum op op);

static void on_signal(int sig)
{
	(void)sig;
}

/*
 * In a forked child or the helper (one thread, nobody to signal it): a
 * timer interrupts any call that blocks (a read waiting for a miss).
 */
static void arm_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct itimerval it = {
		.it_interval = { 0, 50000 },
		.it_value = { 0, 50000 },
	};

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* fork(): the child (another mm) calls a few ops on the inherited fds */
static void op_fork(struct rng *r, struct seq *s)
{
	struct rng cr = { rnd(r) };
	unsigned int n = 1 + below(r, 8);
	pid_t pid;

	pthread_mutex_lock(&s->lock);
	if (s->nkids == MAXKIDS) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pid = fork();
	if (!pid) {
		arm_interrupts();
		while (n--)
			run_op(&cr, s, below(&cr, OP_NR_SIMPLE));
		_exit(0);
	}
	if (pid > 0)
		s->kids[s->nkids++] = pid;
	pthread_mutex_unlock(&s->lock);
}

/* pass an fd and a seed to the helper, which uses it from its own mm */
static void op_pass(struct rng *r, struct seq *s)
{
	uint64_t seed = rnd(r);
	int fd = s->fds[below(r, s->nfds)];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &seed, sizeof(seed) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	atomic_fetch_add(&s->calls, 1);
	pthread_mutex_lock(&s->lock);
	sendmsg(s->helper_sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	pthread_mutex_unlock(&s->lock);
}

static void run_op(struct rng *r, struct seq *s, enum op op)
{
	int fd = s->fds[below(r, s->nfds)];
	struct vhost_vring_state st = { .index = pick_idx(r) };
	struct vhost_vring_file vf = { .index = pick_idx(r) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	uint8_t scratch[256];
	uint64_t u = 0;
	unsigned long cmd;

	memset(scratch, 0, sizeof(scratch));
	switch (op) {
	case OP_GET_FEATURES:
		do_ioctl(s, fd, VHOST_GET_FEATURES, pick_ptr(r, s, &u));
		break;
	case OP_SET_FEATURES:
		u = pick_features(r, s->ours);
		do_ioctl(s, fd, VHOST_SET_FEATURES, pick_ptr(r, s, &u));
		break;
	case OP_SET_OWNER:
		do_ioctl(s, fd, VHOST_SET_OWNER, NULL);
		break;
	case OP_RESET_OWNER:
		if (chance(r, 40))
			do_ioctl(s, fd, VHOST_RESET_OWNER, NULL);
		break;
	case OP_MEM_TABLE:
		op_mem_table(r, s, fd);
		break;
	case OP_LOG_BASE:
		u = pick_addr(r, s, true);
		do_ioctl(s, fd, VHOST_SET_LOG_BASE, pick_ptr(r, s, &u));
		break;
	case OP_LOG_FD:
		vf.fd = pick_fd(r, s);
		do_ioctl(s, fd, VHOST_SET_LOG_FD, pick_ptr(r, s, &vf.fd));
		break;
	case OP_VRING_NUM:
		st.num = chance(r, 70) ? 1U << below(r, 16) : rnd(r);
		do_ioctl(s, fd, VHOST_SET_VRING_NUM, pick_ptr(r, s, &st));
		break;
	case OP_VRING_ADDR:
		op_vring_addr(r, s, fd);
		break;
	case OP_VRING_BASE:
		st.num = chance(r, 50) ? below(r, 2 * NUM) : rnd(r);
		do_ioctl(s, fd, VHOST_SET_VRING_BASE, pick_ptr(r, s, &st));
		break;
	case OP_GET_VRING_BASE:
		do_ioctl(s, fd, VHOST_GET_VRING_BASE, pick_ptr(r, s, &st));
		break;
	case OP_VRING_FD:
		vf.fd = pick_fd(r, s);
		cmd = below(r, 3);
		cmd = cmd == 0 ? VHOST_SET_VRING_KICK : cmd == 1 ?
		      VHOST_SET_VRING_CALL : VHOST_SET_VRING_ERR;
		do_ioctl(s, fd, cmd, pick_ptr(r, s, &vf));
		break;
	case OP_VRING_ENDIAN:
		st.num = below(r, 3);
		do_ioctl(s, fd, below(r, 2) ? VHOST_SET_VRING_ENDIAN :
				VHOST_GET_VRING_ENDIAN, pick_ptr(r, s, &st));
		break;
	case OP_BUSYLOOP:
		st.num = below(r, 3) ? below(r, 100) : rnd(r);
		do_ioctl(s, fd, below(r, 2) ? VHOST_SET_VRING_BUSYLOOP_TIMEOUT :
				VHOST_GET_VRING_BUSYLOOP_TIMEOUT,
			 pick_ptr(r, s, &st));
		break;
	case OP_BACKEND_FEATURES:
		u = chance(r, 80) ? below(r, 16) : rnd(r);
		do_ioctl(s, fd, below(r, 2) ? VHOST_SET_BACKEND_FEATURES :
				VHOST_GET_BACKEND_FEATURES, pick_ptr(r, s, &u));
		break;
	case OP_NET_BACKEND:
		vf.fd = chance(r, 60) ? s->tap.fd[below(r, NTAPQ)] : pick_fd(r, s);
		do_ioctl(s, fd, VHOST_NET_SET_BACKEND, pick_ptr(r, s, &vf));
		break;
	case OP_MQ:
		op_mq(r, s, fd);
		break;
	case OP_VDPA:
		op_vdpa(r, s, fd);
		break;
	case OP_RANDOM_IOCTL:
		cmd = _IOC(below(r, 4), chance(r, 80) ? VHOST_VIRTIO : below(r, 256),
			   below(r, 256), below(r, 256));
		do_ioctl(s, fd, cmd, pick_ptr(r, s, scratch));
		break;
	case OP_IOTLB_WRITE:
		op_iotlb_write(r, s, fd);
		break;
	case OP_READ:
		op_read(r, s, fd);
		break;
	case OP_POLL:
		atomic_fetch_add(&s->calls, 1);
		poll(&pfd, 1, below(r, 10));
		break;
	case OP_KICK:
		u = 1;
		atomic_fetch_add(&s->calls, 1);
		if (write(s->evs[below(r, NEVS)], &u, sizeof(u)) < 0)
			break;
		break;
	case OP_CLOSE:
	case OP_REOPEN:
	case OP_DUP:
		op_slot(r, s, op);
		break;
	case OP_MPROTECT:
		op_mprotect(r, s);
		break;
	case OP_TAP_QUEUE: {
		struct ifreq ifr = { 0 };

		ifr.ifr_flags = below(r, 2) ? IFF_DETACH_QUEUE : IFF_ATTACH_QUEUE;
		atomic_fetch_add(&s->calls, 1);
		ioctl(s->tap.fd[below(r, NTAPQ)], TUNSETQUEUE, &ifr);
		break;
	}
	case OP_FORK:
		op_fork(r, s);
		break;
	case OP_PASS:
		op_pass(r, s);
		break;
	case OP_NR:
		break;
	}
}

struct worker {
	struct seq *s;
	pthread_t t;
	uint64_t seed;
	atomic_bool done;
};

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;
	struct rng r = { w->seed };
	unsigned int n = OPS_MIN + below(&r, OPS_MAX - OPS_MIN);

	while (n-- && !atomic_load(&w->s->stop))
		run_op(&r, w->s, below(&r, OP_NR));
	atomic_store(&w->done, true);
	return NULL;
}

/* ---- traffic: a guest on fd 0's rings, the host on the tap ------------ */

static void *traffic_thread(void *arg)
{
	struct seq *s = arg;
	struct vring rx = ring_of(s, 0), tx = ring_of(s, 1);
	uint16_t rx_avail = 0, tx_avail = 0, rx_used = 0, u;
	uint8_t frame[60];
	uint64_t one = 1;
	unsigned int i, k = 0;

	vmq_frame_fill(frame, sizeof(frame), 0);
	while (!atomic_load(&s->stop)) {
		/* the guest: keep both rings posted, kick */
		for (i = 0; i < 8; i++) {
			if ((uint16_t)(rx_avail - *(volatile uint16_t *)&rx.used->idx) < NUM) {
				rx.avail->ring[rx_avail % NUM] = rx_avail % NUM;
				__atomic_store_n(&rx.avail->idx, ++rx_avail,
						 __ATOMIC_RELEASE);
			}
			if ((uint16_t)(tx_avail - *(volatile uint16_t *)&tx.used->idx) < NUM) {
				tx.avail->ring[tx_avail % NUM] = tx_avail % NUM;
				__atomic_store_n(&tx.avail->idx, ++tx_avail,
						 __ATOMIC_RELEASE);
			}
		}
		if (write(s->evs[0], &one, sizeof(one)) < 0 ||
		    write(s->evs[3], &one, sizeof(one)) < 0)
			break;
		/* the host: frames out through the tap, to the guest */
		for (i = 0; i < 4; i++) {
			frame[11] = k++;	/* spread over the queues */
			vmq_pkt_send(s->tap.pkt, s->tap.ifindex, frame,
				     sizeof(frame));
		}
		/* a base the fuzz set makes the index jump: at most a ring */
		u = *(volatile uint16_t *)&rx.used->idx;
		if ((uint16_t)(u - rx_used) <= NUM)
			atomic_fetch_add(&s->rx_frames, (uint16_t)(u - rx_used));
		rx_used = u;
		usleep(500);
	}
	return NULL;
}

/* fd 0 as a working pair: owner, features, memory, both vrings, the tap */
static void wire_pair(struct seq *s)
{
	struct vhost_memory_region reg = {
		.guest_phys_addr = GPA, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)s->mem,
	};
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} t = { .m.nregions = 1, .r = reg };
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF);
	int fd = s->fds[0], q, i;

	ioctl(fd, VHOST_SET_OWNER, NULL);
	ioctl(fd, VHOST_SET_FEATURES, &f);
	ioctl(fd, VHOST_SET_MEM_TABLE, &t);
	for (q = 0; q < 2; q++) {
		struct vring v = ring_of(s, q);
		struct vhost_vring_state st = { .index = q, .num = NUM };
		struct vhost_vring_addr a = {
			.index = q,
			.desc_user_addr = (uintptr_t)v.desc,
			.avail_user_addr = (uintptr_t)v.avail,
			.used_user_addr = (uintptr_t)v.used,
		};
		struct vhost_vring_file vf = { .index = q };

		for (i = 0; i < NUM; i++) {
			uint8_t *b = s->mem + BUF_OFF + (q * NUM + i) * 2048;

			v.desc[i].addr = gpa_of(s, b);
			v.desc[i].len = q ? FRAME_LEN : 2048;
			v.desc[i].flags = q ? 0 : VRING_DESC_F_WRITE;
			if (q) {
				memset(b, 0, 12);
				vmq_frame_fill(b + 12, 60, i);
			}
		}
		ioctl(fd, VHOST_SET_VRING_NUM, &st);
		st.num = 0;
		ioctl(fd, VHOST_SET_VRING_BASE, &st);
		ioctl(fd, VHOST_SET_VRING_ADDR, &a);
		vf.fd = s->evs[3 * q];
		ioctl(fd, VHOST_SET_VRING_KICK, &vf);
		vf.fd = s->evs[3 * q + 1];
		ioctl(fd, VHOST_SET_VRING_CALL, &vf);
		vf.fd = s->evs[3 * q + 2];
		ioctl(fd, VHOST_SET_VRING_ERR, &vf);
		vf.fd = s->tap.fd[0];
		ioctl(fd, VHOST_NET_SET_BACKEND, &vf);
	}
}

/* The helper: fds passed to it get a few ops each, from its own mm. */
static void helper_main(struct seq *s, int sock)
{
	int held[4] = { -1, -1, -1, -1 }, n = 0, fd, i;
	char cbuf[CMSG_SPACE(sizeof(int))];
	uint64_t seed;
	struct iovec iov = { &seed, sizeof(seed) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t got;

	arm_interrupts();
	for (;;) {
		mh.msg_controllen = sizeof(cbuf);
		got = recvmsg(sock, &mh, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		c = CMSG_FIRSTHDR(&mh);
		if (!c || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		if (held[n % 4] >= 0)
			close(held[n % 4]);
		held[n++ % 4] = fd;
		/* its own fd table: the passed file in every slot */
		{
			struct rng r = { seed };
			unsigned int k = 1 + below(&r, 16);

			for (i = 0; i < s->nfds; i++)
				dup2(fd, s->fds[i]);
			while (k--)
				run_op(&r, s, below(&r, OP_NR_SIMPLE));
		}
	}
	_exit(0);
}

/* ---- checks ----------------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* kmalloc caches' active objects, summed */
static long slab_objects(void)
{
	char line[512], name[64];
	long total = 0, active;
	FILE *f = fopen("/proc/slabinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    !strncmp(name, "kmalloc-", 8))
			total += active;
	if (f)
		fclose(f);
	return f ? total : -1;
}

/* New kernel reports in /dev/kmsg since the last call, into @out. */
static bool kmsg_report(int kfd, char *out, size_t len)
{
	static const char *const pat[] = {
		"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "general protection",
		"possible recursive locking", "possible circular locking",
		"unreferenced object", "refcount_t:", "list_add corruption",
		"list_del corruption", "blocked for more than", "soft lockup",
		"RCU stall", "suspicious RCU usage",
	};
	char rec[1024];
	bool found = false;
	ssize_t n;
	unsigned int i;

	while ((n = read(kfd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
			if (strstr(rec, pat[i]) && !found) {
				snprintf(out, len, "kernel: %.400s", strchr(rec, ';') ?
					 strchr(rec, ';') + 1 : rec);
				out[strcspn(out, "\n")] = '\0';
				found = true;
			}
	}
	return found;
}

struct baseline {
	int refcnt, workers, fds;
};

static const char *module_of(const char *path)
{
	return strstr(path, "vhost-mq") ? "vhost_mq" : "vhost_net";
}

static int count_workers(void)
{
	/* vhost-net's vhost-PID and our vhost-mq-PID-N */
	return vmq_find_tasks_prefixed("vhost-", 6, NULL);
}

static void take_baseline(const char *path, struct baseline *b)
{
	b->refcnt = vmq_module_refcnt(module_of(path));
	b->workers = count_workers();
	b->fds = count_fds();
}

/* after a sequence: back at the baseline within a few seconds */
static bool at_baseline(const char *path, const struct baseline *b,
			char *out, size_t len)
{
	struct baseline now;
	int ms;

	for (ms = 0; ms <= 5000; ms += 20) {
		take_baseline(path, &now);
		if (now.refcnt == b->refcnt && now.workers == b->workers &&
		    now.fds == b->fds)
			return true;
		usleep(20000);
	}
	snprintf(out, len, "not back at the baseline: module refcount %d (was %d), "
		 "vhost workers %d (were %d), our fds %d (were %d)",
		 now.refcnt, b->refcnt, now.workers, b->workers, now.fds, b->fds);
	return false;
}

/* frames the host received on tap @name (from the guest): /proc/net/dev */
static unsigned long tap_rx_packets(const char *name)
{
	char line[512], ifname[IFNAMSIZ + 2];
	unsigned long bytes, packets = 0;
	FILE *f = fopen("/proc/self/net/dev", "re");

	snprintf(ifname, sizeof(ifname), "%s:", name);
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " %17s %lu %lu", line + 256, &bytes, &packets) == 3 &&
		    !strcmp(line + 256, ifname))
			break;
		else
			packets = 0;
	if (f)
		fclose(f);
	return packets;
}

/* ---- one sequence, start to end --------------------------------------- */

static bool run_sequence(const char *path, uint64_t seed, int kfd,
			 unsigned long *calls, unsigned long *frames,
			 char *fail, size_t faillen)
{
	static unsigned int tapno;
	struct seq *s = calloc(1, sizeof(*s));
	struct worker w[4];
	struct rng r = { seed };
	pthread_t traffic;
	char name[9];
	int sv[2], i, ms, alive;
	bool ok = true;

	if (!s) {
		snprintf(fail, faillen, "out of memory");
		return false;
	}
	s->gdev.change_fd = -1;
	s->path = path;
	s->ours = !strcmp(module_of(path), "vhost_mq");
	s->seed = seed;
	s->nthreads = 1 + below(&r, 4);
	s->nfds = 1 + below(&r, 2);
	pthread_mutex_init(&s->lock, NULL);
	s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	snprintf(name, sizeof(name), "vmqfz%u", tapno++ % 1000);
	if (vmq_tap_open(&s->tap, name, NTAPQ, 12, 1500)) {
		snprintf(fail, faillen, "cannot make tap %s: %s", name, strerror(errno));
		ok = false;
		goto free;
	}
	for (i = 0; i < NEVS; i++)
		s->evs[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s->ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < s->nfds; i++)
		s->fds[i] = open(path, O_RDWR | O_CLOEXEC |
				 (i && below(&r, 2) ? O_NONBLOCK : 0));
	if (s->mem == MAP_FAILED || s->ro == MAP_FAILED || s->fds[0] < 0 ||
	    s->devnull < 0) {
		snprintf(fail, faillen, "setup: %s", strerror(errno));
		ok = false;
		goto close;
	}
	/* the helper first, while we have one thread */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(fail, faillen, "socketpair: %s", strerror(errno));
		ok = false;
		goto close;
	}
	s->helper = fork();
	if (!s->helper) {
		close(sv[0]);
		helper_main(s, sv[1]);
	}
	close(sv[1]);
	s->helper_sock = sv[0];

	wire_pair(s);
	/*
	 * A second vhost-mq fd starts as a fresh file, a 2-pair device-mode
	 * device or a 2-pair vhost-vdpa device (tap queues 1 and 2), so
	 * that their frontends' state is fuzzed from working, not just from
	 * what random calls reach.
	 */
	if (s->ours && s->nfds == 2) {
		static const uint8_t mac[6] = { 2, 0, 0, 0, 0x77, 1 };
		uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
			     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ);

		s->gmode = below(&r, 3);
		if (s->gmode == 1)
			vmq_gdev_start(&s->gdev, s->fds[1], 2, f, 1 << 20,
				       GPA2, 64, s->tap.fd + 1);
		else if (s->gmode == 2)
			vmq_gdev_start_vdpa(&s->gdev, s->fds[1], 2,
					    f | F(VIRTIO_F_ACCESS_PLATFORM),
					    1 << 20, GPA2, 64, s->tap.fd + 1, mac);
	}
	pthread_create(&traffic, NULL, traffic_thread, s);
	for (i = 0; i < s->nthreads; i++) {
		w[i].s = s;
		w[i].seed = rnd(&r);
		atomic_store(&w[i].done, false);
		pthread_create(&w[i].t, NULL, fuzz_thread, &w[i]);
	}
	/*
	 * Until every fuzz thread is through its ops (or 30 s); a read that
	 * waits for a miss is interrupted every 100 ms, and the thread goes on
	 */
	for (ms = 0; ms < 30000; ms += 10) {
		for (alive = 0, i = 0; i < s->nthreads; i++)
			if (!atomic_load(&w[i].done)) {
				alive++;
				if (!(ms % 100))
					pthread_kill(w[i].t, SIGUSR1);
			}
		if (!alive)
			break;
		usleep(10000);
	}
	atomic_store(&s->stop, true);
	/* interrupt whatever blocks (a read waiting for a miss) */
	for (ms = 0; ms < 60000; ms += 10) {
		for (alive = 0, i = 0; i < s->nthreads; i++)
			if (!atomic_load(&w[i].done)) {
				alive++;
				pthread_kill(w[i].t, SIGUSR1);
			}
		if (!alive)
			break;
		usleep(10000);
	}
	if (alive) {
		snprintf(fail, faillen, "%d thread(s) stuck in a call for 60 s", alive);
		ok = false;
		/* their calls hold our fds: nothing more can be checked */
		*calls += atomic_load(&s->calls);
		return false;
	}
	for (i = 0; i < s->nthreads; i++)
		pthread_join(w[i].t, NULL);
	pthread_join(traffic, NULL);
	close(s->helper_sock);
	for (ms = 0; ms < 10000; ms += 10) {
		if (waitpid(s->helper, NULL, WNOHANG) == s->helper)
			break;
		usleep(10000);
	}
	if (ms >= 10000) {
		snprintf(fail, faillen, "the helper process did not end in 10 s");
		kill(s->helper, SIGKILL);
		waitpid(s->helper, NULL, 0);
		ok = false;
	}
	for (i = 0; i < s->nkids; i++) {
		for (ms = 0; ms < 10000; ms += 10) {
			if (waitpid(s->kids[i], NULL, WNOHANG) == s->kids[i])
				break;
			usleep(10000);
		}
		if (ms >= 10000) {
			snprintf(fail, faillen, "a forked child did not end in 10 s");
			kill(s->kids[i], SIGKILL);
			waitpid(s->kids[i], NULL, 0);
			ok = false;
		}
	}
	atomic_fetch_add(&s->tx_frames, tap_rx_packets(s->tap.name));
close:
	for (i = 0; i < s->nfds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	for (i = 0; i < NEVS; i++)
		if (s->evs[i] >= 0)
			close(s->evs[i]);
	vmq_tap_close(&s->tap);
	vmq_gdev_destroy(&s->gdev);
	if (s->mem != MAP_FAILED && s->mem)
		munmap(s->mem, MEM_SIZE);
	if (s->ro != MAP_FAILED && s->ro)
		munmap(s->ro, 4096);
free:
	if (s->devnull >= 0)
		close(s->devnull);
	*calls += atomic_load(&s->calls);
	*frames += atomic_load(&s->tx_frames) + atomic_load(&s->rx_frames);
	free(s);
	if (ok && kmsg_report(kfd, fail, faillen))
		ok = false;
	return ok;
}

static uint64_t now_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec;
}

/* Fuzz one device for @secs (or the one sequence @replay); TAP line @n. */
static bool fuzz_device(int n, const char *path, double secs, uint64_t seed,
			bool replay, int kfd)
{
	unsigned long seqs = 0, calls = 0, frames = 0;
	long slab0 = -1, slab1, grown;
	struct baseline b;
	double t0 = vmq_now();
	char fail[512] = "";
	uint64_t cur = seed;

	if (access(path, F_OK)) {
		printf("not ok %d - %s: cannot open: %s\n", n, path, strerror(errno));
		return false;
	}
	take_baseline(path, &b);
	do {
		cur = seed + seqs;
		if (!run_sequence(path, cur, kfd, &calls, &frames, fail, sizeof(fail)) ||
		    !at_baseline(path, &b, fail, sizeof(fail))) {
			printf("# %s: sequence seed %llu failed: %s\n", path,
			       (unsigned long long)cur, fail);
			printf("# replay: build/selftests/ioctl_fuzz_test -d %s -r %llu\n",
			       module_of(path) + 6, (unsigned long long)cur);
			printf("not ok %d - ioctl fuzz %s: sequence %llu of %lu: %s\n",
			       n, path, (unsigned long long)cur, seqs + 1, fail);
			return false;
		}
		seqs++;
		/* the caches after the first sequences, warm */
		if (seqs == 3)
			slab0 = slab_objects();
	} while (!replay && vmq_now() - t0 < secs);
	slab1 = slab_objects();
	grown = slab0 >= 0 ? slab1 - slab0 : 0;
	printf("# %s: %lu sequences (seeds %llu..%llu), %lu calls, %lu frames moved, "
	       "kmalloc objects %+ld over the run, %.0f s\n", path, seqs,
	       (unsigned long long)seed, (unsigned long long)cur, calls, frames,
	       grown, vmq_now() - t0);
	/* a leak of one object per sequence would show past the noise */
	if (slab0 >= 0 && seqs > 3 && grown > 2048 + (long)seqs / 2) {
		printf("not ok %d - ioctl fuzz %s: the kmalloc caches grew by %ld objects over %lu sequences\n",
		       n, path, grown, seqs);
		return false;
	}
	if (!frames && !replay) {
		printf("not ok %d - ioctl fuzz %s: no frame moved in %lu sequences\n",
		       n, path, seqs);
		return false;
	}
	printf("ok %d - ioctl fuzz %s: %lu sequences, %lu calls, %lu frames, no report, back at the baseline\n",
	       n, path, seqs, calls, frames);
	return true;
}

int main(int argc, char **argv)
{
	const char *which = "both";
	double secs = getenv("IOCTL_FUZZ_SECS") ? atof(getenv("IOCTL_FUZZ_SECS")) : 30;
	uint64_t seed = now_seed();
	bool replay = false, ok = true;
	struct sigaction sa = { .sa_handler = on_signal };
	int o, kfd, n = 0, ndev;

	while ((o = getopt(argc, argv, "d:t:s:r:")) != -1) {
		switch (o) {
		case 'd':
			which = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			seed = strtoull(optarg, NULL, 0);
			replay = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-d net|mq|both] [-t SECONDS] [-s SEED] [-r SEED]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (vmq_netns_enter()) {
		printf("1..1\nnot ok 1 - ioctl fuzz: no network namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	ndev = strcmp(which, "both") ? 1 : 2;
	printf("TAP version 13\n1..%d\n", ndev);
	printf("# seed %llu%s, %.0f s per device\n", (unsigned long long)seed,
	       replay ? " (replay of one sequence)" : "", secs);
	if (strcmp(which, "mq"))
		ok &= fuzz_device(++n, VHOST_NET_PATH, secs, seed, replay, kfd);
	if (strcmp(which, "net"))
		ok &= fuzz_device(++n, VHOST_MQ_PATH, secs, seed, replay, kfd);
	return ok ? 0 : 1;
}
