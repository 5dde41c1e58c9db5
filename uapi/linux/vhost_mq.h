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
 *  - VIRTIO_F_ACCESS_PLATFORM (device IOTLB) and the backend feature
 *    VHOST_BACKEND_F_IOTLB_MSG_V2 are not offered yet.
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
 * Linux 6.1's vhost-net less VIRTIO_F_ACCESS_PLATFORM (no device IOTLB yet).
 * Bit 27 is both VIRTIO_F_ANY_LAYOUT and VHOST_NET_F_VIRTIO_NET_HDR.
 */
#define VHOST_MQ_FEATURES	((1ULL << 15) | /* VIRTIO_NET_F_MRG_RXBUF */ \
				 (1ULL << 24) | /* VIRTIO_F_NOTIFY_ON_EMPTY */ \
				 (1ULL << 26) | /* VHOST_F_LOG_ALL */ \
				 (1ULL << 27) | /* VIRTIO_F_ANY_LAYOUT */ \
				 (1ULL << 28) | /* VIRTIO_RING_F_INDIRECT_DESC */ \
				 (1ULL << 29) | /* VIRTIO_RING_F_EVENT_IDX */ \
				 (1ULL << 32))  /* VIRTIO_F_VERSION_1 */

/* Backend features (VHOST_GET_BACKEND_FEATURES): none yet. */
#define VHOST_MQ_BACKEND_FEATURES	0ULL

#endif /* _UAPI_LINUX_VHOST_MQ_H */
