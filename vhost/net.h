/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net.h - a virtio-net queue pair served from a tap or macvtap queue:
 * vnet headers, the tx and rx handlers, attaching backends.
 */
#ifndef VMQ_NET_H
#define VMQ_NET_H

#include <linux/if_vlan.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <linux/mm_types.h>
#include <net/xdp.h>

#include "vq.h"
#include "worker.h"

struct socket;

/* vrings of one queue pair, as in vhost-net */
#define VMQ_VQ_RX	0
#define VMQ_VQ_TX	1

/*
 * Per-run budgets: no guest may keep a worker to itself, with frames,
 * bytes or descriptors (a chain holds at most UIO_MAXIOV buffers, each
 * of which may sit behind an indirect descriptor: one chain costs 2048
 * reads at most, a run about eight of those).
 */
#define VMQ_WEIGHT_PKTS		256
#define VMQ_WEIGHT_BYTES	0x80000
#define VMQ_WEIGHT_DESCS	16384

/*
 * The longest tx frame a guest may send, vnet header aside: the largest
 * IPv6 packet (64 KiB of payload behind its header; GSO frames are no
 * longer) behind an Ethernet header with two VLAN tags. Longer ones are
 * dropped before a byte is copied.
 */
#define VMQ_TX_FRAME_MAX	(IP_MAX_MTU + sizeof(struct ipv6hdr) + \
				 VLAN_ETH_HLEN + VLAN_HLEN)

/* Most queue pairs one device may have (max_queue_pairs is capped to it). */
#define VMQ_PAIRS_MAX		64

/* tx frames handed to tun in one sendmsg */
#define VMQ_TX_BATCH		64

/* rx frames taken from the tap's ring in one go, delivered one by one */
#define VMQ_RX_BATCH		64

struct vmq_rx_batch {
	void *queue[VMQ_RX_BATCH];	/* skbs or tagged xdp_frames */
	int head, tail;
};

struct vmq_net_vq {
	struct vmq_vq vq;
	/* vnet header bytes we add/strip, and those the tap adds/strips */
	size_t vhost_hlen;
	size_t sock_hlen;
	/* rx: the tap has frames (EPOLLIN); tx: room again (EPOLLOUT) */
	struct vmq_poll sock_poll;
	/* rx only: the tap queue's ring, and what we took from it */
	struct ptr_ring *rx_ring;
	struct vmq_rx_batch rxq;
	/*
	 * The pair that serves this vring's traffic, under vq.mutex: its own
	 * while its pair is active. While it is not, tx is not served and
	 * the frames of its tap queue go to the target's rx ring (queue
	 * folding); the rx sock_poll then queues work on the target's worker.
	 */
	unsigned int target;
	unsigned int nactive;		/* active pairs, as of that choice */
	/* rx: the source (own queue or folded) whose turn comes next */
	unsigned int rx_turn;
	/* rx: a tap queue for folding only, the ring unused (vhost-vdpa) */
	bool fold_only;
	/* tx only: frames built for tun but not yet sent, and their pages */
	struct xdp_buff xdp[VMQ_TX_BATCH];
	unsigned int nxdp;
	struct page_frag_cache frags;
};

/* One of the npairs elements of an array, so a pair can reach the others. */
struct vmq_pair {
	unsigned int index;
	unsigned int npairs;
	struct vmq_net_vq nvq[2];	/* VMQ_VQ_RX, VMQ_VQ_TX */
	struct vmq_worker *worker;	/* non-NULL exactly while owned */
	struct socket *detached[2];	/* between stop and put_socks */
};

void vmq_pair_init(struct vmq_pair *pair, unsigned int index,
		   unsigned int npairs);
void vmq_pair_set_worker(struct vmq_pair *pair, struct vmq_worker *worker);
void vmq_pair_set_features(struct vmq_pair *pair, u64 features);
void vmq_pair_stop(struct vmq_pair *pair);
void vmq_pair_put_socks(struct vmq_pair *pair);
void vmq_pairs_set_active(struct vmq_pair *pairs, unsigned int n);
bool vmq_pair_active(struct vmq_pair *pair);

struct socket *vmq_net_get_socket(int fd);
struct socket *vmq_net_file_socket(struct file *file);
int vmq_nvq_attach(struct vmq_net_vq *nvq, struct socket *sock,
		   bool fold_only, struct socket **old);

#endif /* VMQ_NET_H */
