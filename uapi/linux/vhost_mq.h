/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhost_mq.h - the userspace contract of /dev/vhost-mq.
 *
 * /dev/vhost-mq is a strict superset of /dev/vhost-net (Linux 6.1): every
 * VHOST_* and VHOST_NET_* ioctl of <linux/vhost.h> keeps its number, its
 * struct, its ordering rules and its errno values, so a vhost-net client
 * works unchanged ("compat mode": one fd serves one queue pair, vring 0 is
 * rx and vring 1 is tx).
 *
 * Where compat mode differs from vhost-net, on purpose:
 *  - The device IOTLB (VIRTIO_F_ACCESS_PLATFORM, messages written to and
 *    read from the fd) has vhost-net's layout, errno values and ordering
 *    rules, and is stricter in three ways: an UPDATE with permission bits
 *    other than VHOST_ACCESS_RW and an INVALIDATE whose range wraps fail
 *    with EFAULT (vhost-net takes the first, and ignores the second; an
 *    INVALIDATE of size 0 means 2^64 bytes, so only at iova 0 is it
 *    valid: all of it, as in vhost-net); a
 *    vring waits on one MISS at a time, and an UPDATE covering a MISS the
 *    VMM has not read yet withdraws it. A ring area (descriptor table,
 *    avail, used) may lie in up to UIO_MAXIOV pieces of the VMM's memory,
 *    as a vIOMMU's page-by-page mappings leave it; more pieces stop the
 *    vring (chain_errors[MEM_FAULT]).
 *    VHOST_BACKEND_F_IOTLB_BATCH is offered too (vhost-net offers only
 *    IOTLB_MSG_V2): BATCH_BEGIN and BATCH_END are accepted and change
 *    nothing, each UPDATE being in force as soon as it is written.
 *    VHOST_SET_FEATURES without ACCESS_PLATFORM drops the IOTLB (the
 *    vrings go back to guest-physical addresses; vhost-net keeps
 *    translating through the IOTLB it had). A read() of a MISS into an
 *    unwritable buffer fails with EFAULT and keeps the MISS (vhost-net
 *    returns the bytes copied and drops it).
 *  - VHOST_NET_SET_BACKEND takes tap and macvtap queues only; a raw
 *    AF_PACKET socket, which vhost-net also takes, fails with ENOTSOCK.
 *  - A guest error on a vring (a malformed descriptor chain, an avail
 *    index that jumps, an unwritable used ring) stops that vring only:
 *    its error eventfd (VHOST_SET_VRING_ERR) is signalled and the reason
 *    counted, and the vring stays stopped until the VMM sets its base
 *    again (VHOST_SET_VRING_BASE, which needs the backend detached).
 *    vhost-net re-reads the bad chain at every kick instead.
 *  - A region of size 0 at guest address 0 in VHOST_SET_MEM_TABLE maps
 *    nothing (vhost-net maps the whole address space with it).
 *  - VHOST_SET_OWNER fails with EUSERS when the caller's process (its mm)
 *    would hold more than the module's max_queue_pairs queue pairs over
 *    all its /dev/vhost-mq fds (one a pair in compat mode, N in device
 *    mode); the fd stays unowned. vhost-net has no such limit.
 *
 * The extension ioctls declared here use their own magic, VHOST_MQ_VIRTIO,
 * so that they can never collide with an upstream VHOST_* number (those
 * all use magic 0xAF).
 */
#ifndef _UAPI_LINUX_VHOST_MQ_H
#define _UAPI_LINUX_VHOST_MQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Name of the character device, below /dev. */
#define VHOST_MQ_DEVICE_NAME	"vhost-mq"

/* ioctl magic of the extensions; 0xAF is upstream vhost's. */
#define VHOST_MQ_VIRTIO		0xB7

/*
 * Feature bits offered by VHOST_GET_FEATURES in compat mode: those of
 * Linux 6.1's vhost-net. Bit 27 is both VIRTIO_F_ANY_LAYOUT and
 * VHOST_NET_F_VIRTIO_NET_HDR. With VIRTIO_F_ACCESS_PLATFORM acked, every
 * guest address is an IOVA of the device IOTLB.
 */
#define VHOST_MQ_FEATURES	((1ULL << 15) | /* VIRTIO_NET_F_MRG_RXBUF */ \
				 (1ULL << 24) | /* VIRTIO_F_NOTIFY_ON_EMPTY */ \
				 (1ULL << 26) | /* VHOST_F_LOG_ALL */ \
				 (1ULL << 27) | /* VIRTIO_F_ANY_LAYOUT */ \
				 (1ULL << 28) | /* VIRTIO_RING_F_INDIRECT_DESC */ \
				 (1ULL << 29) | /* VIRTIO_RING_F_EVENT_IDX */ \
				 (1ULL << 32) | /* VIRTIO_F_VERSION_1 */ \
				 (1ULL << 33) | /* VIRTIO_F_ACCESS_PLATFORM */ \
				 (1ULL << 34))  /* VIRTIO_F_RING_PACKED */

/* Offered on top of those in device mode only (VHOST_MQ_SET_PAIRS). */
#define VHOST_MQ_DEVICE_FEATURES	((1ULL << 17) | /* VIRTIO_NET_F_CTRL_VQ */ \
					 (1ULL << 22))  /* VIRTIO_NET_F_MQ */

/*
 * Backend features (VHOST_GET_BACKEND_FEATURES): the device IOTLB's
 * message formats, bits as in <linux/vhost_types.h>.
 */
#define VHOST_MQ_BACKEND_FEATURES	((1ULL << 1) | /* IOTLB_MSG_V2 */ \
					 (1ULL << 2))  /* IOTLB_BATCH */

/*
 * Why a frame was dropped (vhost_mq_vring_stats.drops[]). No frame is
 * dropped silently: each one is counted here on its vring.
 */
enum vhost_mq_drop {
	VHOST_MQ_DROP_TAP_REFUSED,	/* tx: the tap rejected the frame */
	/* rx: larger than the guest's buffers; tx: longer than the largest
	 * IPv6 packet behind an Ethernet header with two VLAN tags
	 */
	VHOST_MQ_DROP_TOO_BIG,
	VHOST_MQ_DROP_RECV_FAILED,	/* rx: the tap failed to deliver it */
	VHOST_MQ_DROP_TAP_GONE,		/* tx: the tap queue went away */
	VHOST_MQ_DROP_CTRL_REJECTED,	/* control vq: a command got ERR */
	/* rx: the dirty log was unwritable: the frame was not published
	 * and the vring stopped
	 */
	VHOST_MQ_DROP_LOG_FAULT,
	VHOST_MQ_DROP_MAX = 8
};

/*
 * Why a guest's descriptor chain stopped its vring
 * (vhost_mq_vring_stats.chain_errors[]); index 0 is unused.
 */
enum vhost_mq_chain_error {
	VHOST_MQ_CHAIN_EFAULT = 1,	/* a descriptor table was unreadable */
	VHOST_MQ_CHAIN_BAD_HEAD,	/* head index beyond the ring */
	VHOST_MQ_CHAIN_BAD_NEXT,	/* next index beyond its table */
	VHOST_MQ_CHAIN_LOOP,		/* more descriptors than the table */
	VHOST_MQ_CHAIN_NESTED_INDIRECT,	/* indirect table in an indirect table */
	VHOST_MQ_CHAIN_BAD_INDIRECT,	/* indirect length 0, not %16, too big */
	VHOST_MQ_CHAIN_OUT_AFTER_IN,	/* readable buffer after a writable one */
	/* more than 1024 buffers (of any length, 0 too) or iovecs */
	VHOST_MQ_CHAIN_TOO_MANY_SEGS,
	VHOST_MQ_CHAIN_BAD_ADDR,	/* a buffer outside guest memory */
	VHOST_MQ_CHAIN_WRONG_DIRECTION,	/* writable on tx, readable on rx */
	VHOST_MQ_CHAIN_TOO_SHORT,	/* a tx chain without a frame */
	VHOST_MQ_CHAIN_CTRL_NO_HEADER,	/* a command without class+command */
	VHOST_MQ_CHAIN_CTRL_NO_ACK,	/* a command without a writable ack */
	/* avail idx more than num ahead of the last entry taken or used */
	VHOST_MQ_CHAIN_AVAIL_IDX,
	VHOST_MQ_CHAIN_MEM_FAULT,	/* ring or buffer memory unreachable */
	/* a device IOTLB mapping without the access needed (a guest buffer
	 * the device would write mapped read-only, or the other way round)
	 */
	VHOST_MQ_CHAIN_IOTLB_PERM,
	VHOST_MQ_CHAIN_BAD_ID,		/* packed ring: buffer id >= ring size */
	/* packed ring: the id of a buffer the device has not returned */
	VHOST_MQ_CHAIN_ID_IN_USE,
	/* packed ring: flagged used where the device wrote nothing */
	VHOST_MQ_CHAIN_PACKED_FLAGS,
	VHOST_MQ_CHAIN_ERROR_MAX = 24
};

/* Counters of one vring since the owner was set. */
struct vhost_mq_vring_stats {
	__u32 index;		/* in: the vring */
	__u32 padding;		/* must be 0 */
	__u64 packets;		/* frames moved (tx: to the tap; rx: to the guest) */
	__u64 bytes;		/* their bytes, without vnet headers */
	__u64 kicks;		/* guest notifications handled */
	__u64 interrupts;	/* call eventfd signals */
	__u64 wakeups;		/* handler runs */
	__u64 errors;		/* times a guest error stopped the vring */
	__u64 folded;		/* rx frames taken from another pair's queue */
	__u64 drops[VHOST_MQ_DROP_MAX];
	__u64 chain_errors[VHOST_MQ_CHAIN_ERROR_MAX];
	/* runs that stopped for a translation missing from the device IOTLB */
	__u64 iotlb_misses;
};

/* The kernel thread that serves a queue pair. */
struct vhost_mq_worker {
	__u32 pair;		/* in: the queue pair (0 in compat mode) */
	__s32 tid;		/* out: its thread id, for taskset and ps */
};

/* Where a pair's worker may run: a cpu_set_t as sched_setaffinity(2). */
struct vhost_mq_worker_affinity {
	__u32 pair;		/* the queue pair */
	__u32 size;		/* bytes at mask */
	__u64 mask;		/* user address of the CPU mask */
};

/*
 * Read a vring's counters. Needs no ownership, so a monitor holding the
 * fd (vhost-mq-stat takes it with pidfd_getfd) may read them.
 * ENOBUFS: no such vring; EINVAL: padding not 0; EFAULT.
 */
#define VHOST_MQ_GET_VRING_STATS	_IOWR(VHOST_MQ_VIRTIO, 0x01, \
					      struct vhost_mq_vring_stats)
/*
 * A pair's worker. EPERM: no owner yet (so no worker); ENOBUFS; EFAULT;
 * ESRCH: the worker (a kernel thread of the initial pid namespace) has no
 * tid in the caller's pid namespace.
 */
#define VHOST_MQ_GET_WORKER		_IOWR(VHOST_MQ_VIRTIO, 0x02, \
					      struct vhost_mq_worker)
/*
 * Pin a pair's worker to CPUs: the mask less the CPUs the calling thread
 * may not use (its cpuset and affinity), so that a VMM in a cpuset keeps
 * its workers in it. Owner only (EPERM). ENOBUFS: no such pair; EINVAL:
 * no online CPU left in the mask; EFAULT.
 */
#define VHOST_MQ_SET_WORKER_AFFINITY	_IOW(VHOST_MQ_VIRTIO, 0x03, \
					     struct vhost_mq_worker_affinity)

/*
 * Device mode: make this fd serve N queue pairs (1..the module parameter
 * max_queue_pairs, at most 64) instead of one, plus a control virtqueue.
 * Only before VHOST_SET_OWNER: EBUSY after it. EINVAL: N out of range.
 * EFAULT. See "Device mode" below.
 */
#define VHOST_MQ_SET_PAIRS		_IOW(VHOST_MQ_VIRTIO, 0x04, __u32)

/* How many pairs the guest uses. */
struct vhost_mq_active {
	__u32 pairs;		/* out: pairs of this fd (1 in compat mode) */
	__u32 active;		/* out: pairs 0..active-1 are in use */
	__u64 changes;		/* out: times active changed since SET_OWNER */
};

/* Read the active pairs. No ownership needed. EFAULT. */
#define VHOST_MQ_GET_ACTIVE		_IOR(VHOST_MQ_VIRTIO, 0x05, \
					     struct vhost_mq_active)
/*
 * Set the active pairs as the guest's VQ_PAIRS_SET would (and signal the
 * change eventfd): for a device reset (back to 1) or to restore a
 * migrated guest's choice. Owner only (EPERM); EINVAL: not 1..pairs.
 */
#define VHOST_MQ_SET_ACTIVE		_IOW(VHOST_MQ_VIRTIO, 0x06, __u32)

/* One pair's state. */
struct vhost_mq_pair {
	__u32 pair;		/* in */
	__u32 flags;		/* out: VHOST_MQ_PAIR_* */
	__u32 target;		/* out: whose rx ring gets our frames */
	__u32 padding;		/* out: 0 */
};

#define VHOST_MQ_PAIR_ACTIVE		0x01
#define VHOST_MQ_PAIR_RX_ATTACHED	0x02	/* has a tap queue */
#define VHOST_MQ_PAIR_TX_ATTACHED	0x04
#define VHOST_MQ_PAIR_RX_STOPPED	0x08	/* by a guest error */
#define VHOST_MQ_PAIR_TX_STOPPED	0x10

/* Read one pair's state. No ownership needed. ENOBUFS: no such pair. */
#define VHOST_MQ_GET_PAIR		_IOWR(VHOST_MQ_VIRTIO, 0x07, \
					      struct vhost_mq_pair)

/* VHOST_MQ_SET_VDPA: see "vhost-vdpa mode" below. */
struct vhost_mq_vdpa {
	__u32 pairs;		/* N, the device's max_virtqueue_pairs */
	__u32 flags;		/* none yet: 0 */
	__u64 fds;		/* user address of N ints: tap queue fds */
	__u8 mac[6];		/* config space mac */
	__u16 mtu;		/* config space mtu; 0: no VIRTIO_NET_F_MTU */
	__u64 padding;		/* 0 */
};

#define VHOST_MQ_SET_VDPA		_IOW(VHOST_MQ_VIRTIO, 0x08, \
					     struct vhost_mq_vdpa)

/*
 * Device mode
 * ===========
 *
 * One fd is a whole virtio-net device with N queue pairs and its control
 * virtqueue, for a VMM that lets the kernel negotiate the queue count
 * with the guest (VIRTIO_NET_F_MQ) instead of doing it in userspace.
 *
 * Setup, in order (each ioctl as for vhost-net unless said here):
 *  1. open /dev/vhost-mq; VHOST_MQ_SET_PAIRS(N). VHOST_GET_FEATURES now
 *     also offers VHOST_MQ_DEVICE_FEATURES (VIRTIO_NET_F_CTRL_VQ and
 *     VIRTIO_NET_F_MQ); they are refused (EOPNOTSUPP) in compat mode, and
 *     MQ without CTRL_VQ is refused with EINVAL.
 *  2. VHOST_SET_OWNER: one worker thread per pair, vhost-mq-<pid>-<k>;
 *     VHOST_MQ_GET_WORKER and VHOST_MQ_SET_WORKER_AFFINITY reach them.
 *  3. VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE.
 *  4. Vrings 2k (rx) and 2k+1 (tx) of pair k, k < N: NUM, ADDR, BASE,
 *     KICK, CALL, ERR as usual, then VHOST_NET_SET_BACKEND with the fd of
 *     queue k of an IFF_MULTI_QUEUE tap (or a macvtap queue).
 *  5. Vring 2N, the control vq: NUM, ADDR, BASE, KICK, CALL, ERR, then
 *     VHOST_NET_SET_BACKEND(2N, efd) where efd is an eventfd: the queue
 *     starts, and efd is signalled every time the number of active pairs
 *     changes. fd -1 stops it again (as detaching a tap stops a data
 *     vring, e.g. before VHOST_GET_VRING_BASE). Not an eventfd: EINVAL or
 *     EBADF.
 *
 * Active pairs. After VHOST_SET_OWNER pairs 0..A-1 are active with A = 1,
 * the spec's default. The guest changes A with VIRTIO_NET_CTRL_MQ
 * VQ_PAIRS_SET (needs MQ negotiated): 1..N is acked VIRTIO_NET_OK and in
 * effect before the ack reaches the used ring; 0 or more than N is acked
 * VIRTIO_NET_ERR and changes nothing. Every other class and command is
 * acked VIRTIO_NET_ERR (counted in drops[VHOST_MQ_DROP_CTRL_REJECTED] of
 * vring 2N; packets counts all commands). A chain without the two header
 * bytes or without a device-writable ack byte is malformed: the control
 * vq stops, its error eventfd fires, chain_errors[] says why, and nothing
 * changes; VHOST_SET_VRING_BASE restarts it. The VMM reads A with
 * VHOST_MQ_GET_ACTIVE and sets it with VHOST_MQ_SET_ACTIVE (device reset:
 * back to 1). RESET_OWNER forgets it.
 *
 * Only active pairs are served: an inactive pair's tx ring is not read
 * and its rx ring not written. The tap keeps spreading flows over all its
 * queues, so the frames of inactive pair k's tap queue are delivered by
 * pair k % A's worker into pair k % A's rx ring ("queue folding", counted
 * in the folded counter of that rx vring), the queues folded onto a pair
 * and its own taking turns of 16 frames: no frame is lost to the guest's
 * choice, nor held back behind a flood on another queue. VHOST_MQ_GET_PAIR
 * tells where a pair's frames go.
 *
 * Counters: VHOST_MQ_GET_VRING_STATS for every vring, 0..2N.
 */

/*
 * vhost-vdpa mode
 * ===============
 *
 * The same device as device mode (N pairs, the kernel's control vq,
 * folding, counters), driven through the uAPI of Linux 6.1's vhost-vdpa
 * (<linux/vhost.h>: VHOST_VDPA_*), so that an unmodified QEMU 7.2 hands
 * it a whole virtio-net device: -netdev vhost-vdpa,vhostfd=FD.
 *
 * VHOST_MQ_SET_VDPA, on a fresh fd (not owned, no VHOST_MQ_SET_PAIRS;
 * else EBUSY), takes N (1..max_queue_pairs, else EINVAL) and the N queue
 * fds of an IFF_MULTI_QUEUE tap (EBADF: not an fd; ENOTSOCK: not a tap
 * or macvtap queue; EFAULT: the array unreadable), a mac and an mtu;
 * flags and padding must be 0 (EINVAL). The taps are used as they are:
 * the caller sets IFF_VNET_HDR with TUNSETVNETHDRSZ 12 on each queue.
 * From then on the fd answers the vhost-vdpa ioctls, with their numbers,
 * structs and errnos, and the VHOST_MQ_* ones above but SET_PAIRS:
 *  - VHOST_VDPA_GET_DEVICE_ID 1; GET_CONFIG_SIZE 24; GET_VQS_COUNT 2N+1;
 *    GET_VRING_NUM 1024; GET_GROUP_NUM and GET_AS_NUM 1; GET_IOVA_RANGE
 *    all of it; SUSPEND EOPNOTSUPP; SET_LOG_BASE, SET_LOG_FD ENOTTY.
 *  - config space (struct virtio_net_config, little endian): the mac,
 *    status VIRTIO_NET_S_LINK_UP, max_virtqueue_pairs N, the mtu. A
 *    SET_CONFIG may change the mac and nothing else.
 *  - VHOST_GET_FEATURES: MAC, STATUS, CTRL_VQ, MQ, MRG_RXBUF, CSUM,
 *    HOST_TSO4/6, HOST_ECN, GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN,
 *    GUEST_UFO, MTU (with an mtu), EVENT_IDX, INDIRECT_DESC, VERSION_1,
 *    ACCESS_PLATFORM. SET_FEATURES: EINVAL for a bit not offered or MQ
 *    without CTRL_VQ, EBUSY after FEATURES_OK. The taps' offloads follow
 *    the GUEST_* bits the driver took (TUNSETOFFLOAD at DRIVER_OK, none
 *    again at a reset).
 *  - status: bits are only added (EINVAL) until 0 resets the device.
 *    FEATURES_OK does not stick without VERSION_1. DRIVER_OK starts every
 *    enabled vring (VHOST_VDPA_SET_VRING_ENABLE) on its tap queue; a
 *    DRIVER_OK without FEATURES_OK, without an owner or with a vring the
 *    device cannot start sets DEVICE_NEEDS_RESET instead. Reset (0) stops
 *    every vring and keeps their bases (a VMM reads them after it, as
 *    QEMU does for the control vq) and the pairs the guest chose.
 *  - every address is an IOVA of the device IOTLB (written to the fd as
 *    vhost_msg_v2, UPDATE to the VMM's own addresses), which lives as
 *    long as the fd; an UPDATE overlapping a mapping fails with EFAULT.
 *  - without VIRTIO_NET_F_MQ negotiated the control vq is vring 2 and the
 *    guest has pair 0 alone: DRIVER_OK makes one pair active, the rx
 *    vrings of pairs 1..N-1 take their tap queues for folding only (no
 *    ring of theirs is touched; VHOST_MQ_GET_PAIR: RX_ATTACHED, target
 *    0), so pair 0 delivers the frames of all N queues, and
 *    VHOST_MQ_SET_ACTIVE refuses more than 1 (EINVAL).
 * Kicks go to the pair's worker directly; the control vq needs no call fd.
 */

#endif /* _UAPI_LINUX_VHOST_MQ_H */
