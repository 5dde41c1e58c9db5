// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_errno_test.c - every ioctl's error paths, each case run on
 * /dev/vhost-net and /dev/vhost-mq from the same starting state: both
 * must answer the same errno, which is also written down here.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>

#include "guest.h"
#include "vmq_net.h"
#include "vmq_test.h"
#include "kselftest_harness.h"

#define GUEST_GPA	0x100000000ULL

/* the state a case starts from */
enum stage { FRESH, OWNED, WITH_MEM, WITH_RINGS, WITH_BACKEND };

struct env {
	int fd;
	struct vmq_guest g;
	struct vmq_gvq rx, tx;
	int tap;
};

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

/* Bring a fresh fd of @path up to @stage; 0 or the errno that stopped it. */
static int env_open(struct env *e, const char *path, enum stage stage,
		    int tap)
{
	uint64_t features = 1ULL << 32;	/* VERSION_1 */
	int r;

	memset(e, 0, sizeof(*e));
	e->tap = tap;
	e->fd = open(path, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return errno;
	if (stage == FRESH)
		return 0;
	if (xioctl(e->fd, VHOST_SET_OWNER, NULL) ||
	    xioctl(e->fd, VHOST_SET_FEATURES, &features))
		return errno;
	if (stage == OWNED)
		return 0;
	r = vmq_guest_init(&e->g, 4 << 20, GUEST_GPA);
	if (!r)
		r = vmq_gvq_init(&e->rx, &e->g, 0, 64, false);
	if (!r)
		r = vmq_gvq_init(&e->tx, &e->g, 1, 64, false);
	if (!r)
		r = vmq_vhost_set_mem(e->fd, &e->g);
	if (r || stage == WITH_MEM)
		return -r;
	r = vmq_vhost_setup_vq(e->fd, &e->rx);
	if (!r)
		r = vmq_vhost_setup_vq(e->fd, &e->tx);
	if (r || stage == WITH_RINGS)
		return -r;
	return -vmq_vhost_set_backend(e->fd, 0, tap);
}

static void env_close(struct env *e)
{
	close(e->fd);
	if (e->g.base) {
		vmq_gvq_destroy(&e->rx);
		vmq_gvq_destroy(&e->tx);
		vmq_guest_destroy(&e->g);
	}
}

typedef int (*case_fn)(struct env *e);

/*
 * Run @fn on both devices from @stage; assert both give @expect. The tap
 * is shared: vhost-net and vhost-mq each take it as a backend in turn.
 */
static void both(struct __test_metadata *_metadata, enum stage stage,
		 case_fn fn, int expect)
{
	static const char *const paths[] = { VHOST_NET_PATH, VHOST_MQ_PATH };
	struct vmq_tap tap = { .pkt = -1 };
	struct env e;
	int i, got;

	vmq_kmsg_mark(_metadata->name, "both devices");
	ASSERT_EQ(0, vmq_netns_enter());
	ASSERT_EQ(0, vmq_tap_open(&tap, "vmq0", 1, 12, 0));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, env_open(&e, paths[i], stage, tap.fd[0]))
			TH_LOG("setting up %s", paths[i]);
		got = fn(&e);
		env_close(&e);
		EXPECT_EQ(expect, got) TH_LOG("%s: %s, want %s", paths[i],
					      strerror(got), strerror(expect));
	}
	vmq_tap_close(&tap);
}

#define ERRNO_CASE(name, stage, expect)					\
	static int case_##name(struct env *e);				\
	TEST(name) { both(_metadata, stage, case_##name, expect); }	\
	static int case_##name(struct env *e)

/* ---- memory table ---- */

struct mem1 {
	struct vhost_memory hdr;
	struct vhost_memory_region r[65];
};

ERRNO_CASE(set_mem_table_without_owner_is_eperm, FRESH, EPERM)
{
	struct mem1 m = { .hdr.nregions = 0 };

	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_bad_pointer_is_efault, OWNED, EFAULT)
{
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, NULL);
}

ERRNO_CASE(set_mem_table_nonzero_padding_is_eopnotsupp, OWNED, EOPNOTSUPP)
{
	struct mem1 m = { .hdr.nregions = 0, .hdr.padding = 1 };

	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_65_regions_is_e2big, OWNED, E2BIG)
{
	struct mem1 m = { .hdr.nregions = 65 };

	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_unreadable_regions_is_efault, OWNED, EFAULT)
{
	struct vhost_memory *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r;

	/* the header at the end of a page, the regions past it unmapped */
	munmap((char *)m + 4096, 4096);
	m = (void *)((char *)m + 4096 - sizeof(*m));
	m->nregions = 1;
	m->padding = 0;
	r = xioctl(e->fd, VHOST_SET_MEM_TABLE, m);
	munmap((char *)m - (4096 - sizeof(*m)), 4096);
	return r;
}

ERRNO_CASE(set_mem_table_region_wrapping_is_efault, OWNED, EFAULT)
{
	struct mem1 m = { .hdr.nregions = 1 };

	m.r[0].guest_phys_addr = ~0ULL - 4095;
	m.r[0].memory_size = 8192;
	m.r[0].userspace_addr = 0x10000000;
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_empty_region_off_zero_is_efault, OWNED, EFAULT)
{
	struct mem1 m = { .hdr.nregions = 1 };

	m.r[0].guest_phys_addr = 0x1000;
	m.r[0].memory_size = 0;
	m.r[0].userspace_addr = 0x10000000;
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_no_regions_is_accepted, OWNED, 0)
{
	struct mem1 m = { .hdr.nregions = 0 };

	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_64_regions_is_accepted, OWNED, 0)
{
	struct mem1 m = { .hdr.nregions = 64 };
	int i;

	for (i = 0; i < 64; i++) {
		m.r[i].guest_phys_addr = (uint64_t)i << 20;
		m.r[i].memory_size = 1 << 20;
		m.r[i].userspace_addr = 0x10000000 + ((uint64_t)i << 20);
	}
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_kernel_address_with_backend_is_efault,
	   WITH_BACKEND, EFAULT)
{
	struct mem1 m = { .hdr.nregions = 1 };

	m.r[0].guest_phys_addr = 0;
	m.r[0].memory_size = 4096;
	m.r[0].userspace_addr = 0xffff888000000000ULL;
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

/* ---- vring num, addr, base ---- */

static int set_num(struct env *e, unsigned int idx, unsigned int num)
{
	struct vhost_vring_state s = { idx, num };

	return xioctl(e->fd, VHOST_SET_VRING_NUM, &s);
}

ERRNO_CASE(set_vring_num_without_owner_is_eperm, FRESH, EPERM)
{
	return set_num(e, 0, 256);
}

ERRNO_CASE(set_vring_num_zero_is_einval, OWNED, EINVAL)
{
	return set_num(e, 0, 0);
}

ERRNO_CASE(set_vring_num_not_power_of_two_is_einval, OWNED, EINVAL)
{
	return set_num(e, 1, 384);
}

ERRNO_CASE(set_vring_num_above_u16_is_einval, OWNED, EINVAL)
{
	return set_num(e, 0, 0x10000);
}

ERRNO_CASE(set_vring_num_32768_is_accepted, OWNED, 0)
{
	return set_num(e, 0, 32768);
}

ERRNO_CASE(set_vring_num_index_2_is_enobufs, OWNED, ENOBUFS)
{
	return set_num(e, 2, 256);
}

ERRNO_CASE(set_vring_num_with_backend_is_ebusy, WITH_BACKEND, EBUSY)
{
	return set_num(e, 0, 128);
}

static int set_addr(struct env *e, uint64_t avail, uint64_t used,
		    uint64_t log, unsigned int flags)
{
	struct vhost_vring_addr a = {
		.index = 1,
		.flags = flags,
		.desc_user_addr = (uintptr_t)e->tx.vring.desc,
		.avail_user_addr = avail ? avail : (uintptr_t)e->tx.vring.avail,
		.used_user_addr = used ? used : (uintptr_t)e->tx.vring.used,
		.log_guest_addr = log,
	};

	return xioctl(e->fd, VHOST_SET_VRING_ADDR, &a);
}

ERRNO_CASE(set_vring_addr_unknown_flag_is_eopnotsupp, WITH_RINGS, EOPNOTSUPP)
{
	return set_addr(e, 0, 0, 0, 2);
}

ERRNO_CASE(set_vring_addr_odd_avail_is_einval, WITH_RINGS, EINVAL)
{
	return set_addr(e, (uintptr_t)e->tx.vring.avail + 1, 0, 0, 0);
}

ERRNO_CASE(set_vring_addr_unaligned_used_is_einval, WITH_RINGS, EINVAL)
{
	return set_addr(e, 0, (uintptr_t)e->tx.vring.used + 2, 0, 0);
}

ERRNO_CASE(set_vring_addr_unaligned_log_is_einval, WITH_RINGS, EINVAL)
{
	return set_addr(e, 0, 0, 0x1002, 1);
}

ERRNO_CASE(set_vring_addr_kernel_address_with_backend_is_einval,
	   WITH_BACKEND, EINVAL)
{
	struct vhost_vring_addr a = {
		.index = 0,
		.desc_user_addr = 0xffff888000000000ULL,
		.avail_user_addr = (uintptr_t)e->rx.vring.avail,
		.used_user_addr = (uintptr_t)e->rx.vring.used,
	};

	return xioctl(e->fd, VHOST_SET_VRING_ADDR, &a);
}

ERRNO_CASE(set_vring_addr_bad_pointer_is_efault, OWNED, EFAULT)
{
	return xioctl(e->fd, VHOST_SET_VRING_ADDR, NULL);
}

ERRNO_CASE(set_vring_base_above_u16_is_einval, OWNED, EINVAL)
{
	struct vhost_vring_state s = { 0, 0x10000 };

	return xioctl(e->fd, VHOST_SET_VRING_BASE, &s);
}

ERRNO_CASE(set_vring_base_with_backend_is_ebusy, WITH_BACKEND, EBUSY)
{
	struct vhost_vring_state s = { 0, 5 };

	return xioctl(e->fd, VHOST_SET_VRING_BASE, &s);
}

ERRNO_CASE(get_vring_base_returns_what_was_set, OWNED, 0)
{
	struct vhost_vring_state s = { 1, 0xabcd };

	if (xioctl(e->fd, VHOST_SET_VRING_BASE, &s))
		return errno;
	s.num = 0;
	if (xioctl(e->fd, VHOST_GET_VRING_BASE, &s))
		return errno;
	return s.num == 0xabcd && s.index == 1 ? 0 : EBADE;
}

ERRNO_CASE(get_vring_base_index_5_is_enobufs, OWNED, ENOBUFS)
{
	struct vhost_vring_state s = { 5, 0 };

	return xioctl(e->fd, VHOST_GET_VRING_BASE, &s);
}

/* ---- eventfds ---- */

static int set_file(struct env *e, unsigned long cmd, int fd)
{
	struct vhost_vring_file f = { 0, fd };

	return xioctl(e->fd, cmd, &f);
}

static int with_pipe(struct env *e, unsigned long cmd)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	r = set_file(e, cmd, p[0]);
	close(p[0]);
	close(p[1]);
	return r;
}

ERRNO_CASE(set_vring_kick_closed_fd_is_ebadf, OWNED, EBADF)
{
	return set_file(e, VHOST_SET_VRING_KICK, 999);
}

ERRNO_CASE(set_vring_kick_not_eventfd_is_einval, OWNED, EINVAL)
{
	return with_pipe(e, VHOST_SET_VRING_KICK);
}

ERRNO_CASE(set_vring_call_not_eventfd_is_einval, OWNED, EINVAL)
{
	return with_pipe(e, VHOST_SET_VRING_CALL);
}

ERRNO_CASE(set_vring_err_closed_fd_is_ebadf, OWNED, EBADF)
{
	return set_file(e, VHOST_SET_VRING_ERR, 999);
}

ERRNO_CASE(set_vring_kick_call_err_unbind_is_accepted, WITH_RINGS, 0)
{
	return set_file(e, VHOST_SET_VRING_KICK, -1) ?:
	       set_file(e, VHOST_SET_VRING_CALL, -1) ?:
	       set_file(e, VHOST_SET_VRING_ERR, -1);
}

ERRNO_CASE(set_log_fd_not_eventfd_is_einval, OWNED, EINVAL)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	r = xioctl(e->fd, VHOST_SET_LOG_FD, &p[0]);
	close(p[0]);
	close(p[1]);
	return r;
}

ERRNO_CASE(set_log_fd_unbind_is_accepted, OWNED, 0)
{
	int fd = -1;

	return xioctl(e->fd, VHOST_SET_LOG_FD, &fd);
}

ERRNO_CASE(set_log_base_bad_pointer_is_efault, OWNED, EFAULT)
{
	return xioctl(e->fd, VHOST_SET_LOG_BASE, NULL);
}

ERRNO_CASE(busyloop_timeout_round_trips, OWNED, 0)
{
	struct vhost_vring_state s = { 1, 50 };

	if (xioctl(e->fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s))
		return errno;
	s.num = 0;
	if (xioctl(e->fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s))
		return errno;
	return s.num == 50 ? 0 : EBADE;
}

ERRNO_CASE(set_vring_endian_is_enotty, OWNED, ENOTTY)
{
	struct vhost_vring_state s = { 0, 1 };

	return xioctl(e->fd, VHOST_SET_VRING_ENDIAN, &s);
}

/* ---- backend ---- */

static int set_backend(struct env *e, unsigned int idx, int fd)
{
	struct vhost_vring_file f = { idx, fd };

	return xioctl(e->fd, VHOST_NET_SET_BACKEND, &f);
}

ERRNO_CASE(set_backend_bad_pointer_is_efault, FRESH, EFAULT)
{
	return xioctl(e->fd, VHOST_NET_SET_BACKEND, NULL);
}

ERRNO_CASE(set_backend_without_owner_is_eperm, FRESH, EPERM)
{
	return set_backend(e, 0, e->tap);
}

ERRNO_CASE(set_backend_index_2_is_enobufs, WITH_RINGS, ENOBUFS)
{
	return set_backend(e, 2, e->tap);
}

ERRNO_CASE(set_backend_without_mem_table_is_efault, OWNED, EFAULT)
{
	return set_backend(e, 0, e->tap);
}

ERRNO_CASE(set_backend_not_a_tap_is_enotsock, WITH_RINGS, ENOTSOCK)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	r = set_backend(e, 1, p[0]);
	close(p[0]);
	close(p[1]);
	return r;
}

ERRNO_CASE(set_backend_closed_fd_is_enotsock, WITH_RINGS, ENOTSOCK)
{
	return set_backend(e, 1, 999);
}

ERRNO_CASE(set_backend_udp_socket_is_enotsock, WITH_RINGS, ENOTSOCK)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return errno;
	r = set_backend(e, 1, s);
	close(s);
	return r;
}

ERRNO_CASE(set_backend_eventfd_is_enotsock, WITH_RINGS, ENOTSOCK)
{
	int fd = eventfd(0, EFD_CLOEXEC), r;

	if (fd < 0)
		return errno;
	r = set_backend(e, 0, fd);
	close(fd);
	return r;
}

/*
 * A ring at address 0 is the VMM's to give (it may be mapped, and is a
 * user address): the first access faults, EFAULT. vhost-mq once took 0
 * for "not in one piece" and dereferenced a NULL piece list (found by
 * ioctl_fuzz_test).
 */
ERRNO_CASE(set_backend_with_used_ring_at_address_0_is_efault, WITH_RINGS,
	   EFAULT)
{
	struct vhost_vring_addr a = {
		.index = 1,
		.desc_user_addr = (uintptr_t)e->tx.vring.desc,
		.avail_user_addr = (uintptr_t)e->tx.vring.avail,
		.used_user_addr = 0,
	};
	int r = xioctl(e->fd, VHOST_SET_VRING_ADDR, &a);

	return r ? r : set_backend(e, 1, e->tap);
}

ERRNO_CASE(set_backend_its_own_vhost_fd_is_enotsock, WITH_RINGS, ENOTSOCK)
{
	return set_backend(e, 1, e->fd);
}

ERRNO_CASE(set_backend_negative_fd_other_than_minus_1_is_enotsock, WITH_RINGS,
	   ENOTSOCK)
{
	return set_backend(e, 1, -7);
}

/* the VMM may describe the same guest memory twice: both accept it */
ERRNO_CASE(set_mem_table_overlapping_regions_is_accepted, OWNED, 0)
{
	struct mem1 m = { .hdr.nregions = 2 };

	m.r[0].guest_phys_addr = 0x100000;
	m.r[0].memory_size = 0x200000;
	m.r[0].userspace_addr = 0x10000000;
	m.r[1].guest_phys_addr = 0x200000;
	m.r[1].memory_size = 0x200000;
	m.r[1].userspace_addr = 0x20000000;
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_mem_table_zero_size_region_at_zero_is_accepted, OWNED, 0)
{
	struct mem1 m = { .hdr.nregions = 1 };

	m.r[0].memory_size = 0;
	m.r[0].userspace_addr = 0x10000000;
	return xioctl(e->fd, VHOST_SET_MEM_TABLE, &m);
}

ERRNO_CASE(set_vring_base_index_out_of_range_is_enobufs, OWNED, ENOBUFS)
{
	struct vhost_vring_state s = { 0x10000, 0 };

	return xioctl(e->fd, VHOST_SET_VRING_BASE, &s);
}

ERRNO_CASE(set_vring_kick_index_out_of_range_is_enobufs, OWNED, ENOBUFS)
{
	struct vhost_vring_file f = { 2, -1 };

	return xioctl(e->fd, VHOST_SET_VRING_KICK, &f);
}

ERRNO_CASE(set_owner_after_reset_owner_twice_is_accepted, OWNED, 0)
{
	if (ioctl(e->fd, VHOST_RESET_OWNER, NULL))
		return errno;
	if (ioctl(e->fd, VHOST_RESET_OWNER, NULL) == 0)
		return -1;	/* the second must fail: no owner */
	return xioctl(e->fd, VHOST_SET_OWNER, NULL);
}

ERRNO_CASE(set_backend_unmapped_used_ring_is_efault, WITH_MEM, EFAULT)
{
	struct vhost_vring_state num = { 1, 64 };
	struct vhost_vring_addr a = {
		.index = 1,
		.desc_user_addr = (uintptr_t)e->tx.vring.desc,
		.avail_user_addr = (uintptr_t)e->tx.vring.avail,
		.used_user_addr = 0x1000,	/* mapped by nobody */
	};

	if (xioctl(e->fd, VHOST_SET_VRING_NUM, &num) ||
	    xioctl(e->fd, VHOST_SET_VRING_ADDR, &a))
		return EBADE;
	return set_backend(e, 1, e->tap);
}

ERRNO_CASE(set_backend_detach_swap_and_reattach_are_accepted, WITH_BACKEND, 0)
{
	return set_backend(e, 0, -1) ?: set_backend(e, 0, -1) ?:
	       set_backend(e, 0, e->tap) ?: set_backend(e, 0, e->tap) ?:
	       set_backend(e, 1, e->tap) ?: set_backend(e, 1, -1);
}

ERRNO_CASE(set_features_log_all_is_accepted_with_backend, WITH_BACKEND, 0)
{
	uint64_t f = (1ULL << 32) | (1ULL << 26);

	return xioctl(e->fd, VHOST_SET_FEATURES, &f);
}

TEST_HARNESS_MAIN
