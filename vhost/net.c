// SPDX-License-Identifier: GPL-2.0
/*
 * net.c - the virtio-net datapath of one queue pair over a tap or macvtap
 * queue: tx (guest -> tap) copies each chain into the tap with sendmsg,
 * rx (tap -> guest) receives each frame into one or, with MRG_RXBUF,
 * several chains. Each run of a handler is bounded by VMQ_WEIGHT_*.
 */
#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/gfp.h>
#include <linux/skbuff.h>
#include <linux/ptr_ring.h>
#include <linux/skb_array.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <net/sock.h>
#include <net/xdp.h>

#include "net.h"
#include "net_ctrl.h"

static struct vmq_net_vq *vmq_work_to_nvq(struct vmq_work *work, bool sock,
					  unsigned int which)
{
	struct vmq_net_vq *nvq;

	if (sock)
		nvq = container_of(work, struct vmq_net_vq, sock_poll.work);
	else
		nvq = container_of(work, struct vmq_net_vq, vq.poll.work);
	WARN_ON_ONCE(nvq->vq.index % 2 != which);
	return nvq;
}

static struct vmq_pair *vmq_nvq_pair(struct vmq_net_vq *nvq)
{
	return container_of(nvq - nvq->vq.index % 2, struct vmq_pair, nvq[0]);
}

/* Pair k of the array this vring's pair belongs to. */
static struct vmq_pair *vmq_nvq_sibling(struct vmq_net_vq *nvq,
					unsigned int k)
{
	struct vmq_pair *pair = vmq_nvq_pair(nvq);

	return pair - pair->index + k;
}

/* Is this vring's pair one the guest uses? Under vq.mutex. */
static bool vmq_nvq_active(struct vmq_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return nvq->target == nvq->vq.index / 2;
}

/*
 * Busy polling (VHOST_SET_VRING_BUSYLOOP_TIMEOUT): rather than sleep until
 * the next kick or frame, spin up to the vring's timeout while @ready is
 * false, giving up at once when anything else wants this CPU or worker.
 * What the handler has used is published first.
 */
static bool vmq_busy_poll(struct vmq_net_vq *nvq,
			  bool (*ready)(struct vmq_net_vq *nvq))
{
	struct vmq_worker *worker = nvq->vq.poll.worker;
	u64 end;

	lockdep_assert_held(&nvq->vq.mutex);
	/*
	 * Only on the pair's own worker, whose queue has_work() watches: a
	 * run queued on another one just before the active pairs changed
	 * would spin while work waited on the worker it runs on.
	 */
	if (!nvq->vq.busyloop_timeout || current != worker->task)
		return false;
	/* the guest sees what was delivered before we spin */
	vmq_vq_flush_used(&nvq->vq);
	if (nvq->vq.broken)
		return false;
	end = local_clock() + (u64)nvq->vq.busyloop_timeout * NSEC_PER_USEC;
	while (!ready(nvq)) {
		if (local_clock() >= end || need_resched() ||
		    signal_pending(current) || vmq_worker_has_work(worker))
			return false;
		cpu_relax();
	}
	return true;
}

/* ---- tx: guest -> tap ---------------------------------------------- */

static bool vmq_tx_ready(struct vmq_net_vq *nvq)
{
	return !vmq_vq_avail_empty(&nvq->vq);
}

/*
 * Batched tx: tun takes an array of frames already laid out as its skbs'
 * heads (struct tun_xdp_hdr, headroom, frame, room for skb_shared_info)
 * in one sendmsg. Used when the tap does no send-buffer accounting
 * (sk_sndbuf == INT_MAX, tun's default) and the frame fits in a page.
 */
static bool vmq_tx_can_batch(struct socket *sock)
{
	return sock->sk->sk_sndbuf == INT_MAX;
}

static void vmq_tx_free_batch(struct vmq_net_vq *nvq)
{
	unsigned int i;

	lockdep_assert_held(&nvq->vq.mutex);
	for (i = 0; i < nvq->nxdp; i++)
		page_frag_free(nvq->xdp[i].data_hard_start);
	nvq->nxdp = 0;
}

/* Hand the built frames to tun; they are its from here on. */
static void vmq_tx_flush_batch(struct vmq_net_vq *nvq, struct socket *sock)
{
	struct tun_msg_ctl ctl = {
		.type = TUN_MSG_PTR,
		.num = nvq->nxdp,
		.ptr = nvq->xdp,
	};
	struct msghdr msg = {
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
	};
	int err;

	lockdep_assert_held(&nvq->vq.mutex);
	if (!nvq->nxdp)
		return;
	err = sock->ops->sendmsg(sock, &msg, 0);
	if (unlikely(err < 0)) {
		/* the queue lost its tap: the frames are dropped, not leaked */
		nvq->vq.stats.drops[VHOST_MQ_DROP_TAP_GONE] += nvq->nxdp;
		vmq_tx_free_batch(nvq);
	}
	nvq->nxdp = 0;
}

/*
 * Copy one frame (and the tap's vnet header) into a page fragment laid
 * out for tun. -ENOSPC: too big to batch, send it alone.
 */
static int vmq_tx_build(struct vmq_net_vq *nvq, struct socket *sock,
			struct iov_iter *from)
{
	size_t len = iov_iter_count(from), hlen = nvq->sock_hlen;
	size_t headroom = sock_flag(sock->sk, SOCK_XDP) ? XDP_PACKET_HEADROOM : 0;
	size_t pad = SKB_DATA_ALIGN(NET_IP_ALIGN + NET_SKB_PAD + headroom + hlen);
	size_t buflen = SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) +
			SKB_DATA_ALIGN(len + pad);
	struct tun_xdp_hdr *hdr;
	struct xdp_buff *xdp;
	u16 csum_end;
	void *buf;

	lockdep_assert_held(&nvq->vq.mutex);
	if (len < hlen)
		return -EINVAL;
	if (buflen > PAGE_SIZE)
		return -ENOSPC;
	/*
	 * The cache's page is about to run out: send what was built on it
	 * first. Frames the host drops or copies are freed during that
	 * send, so the allocator takes the same page again rather than a
	 * fresh one (which init_on_alloc would zero: 32 KiB per batch).
	 * The cache's offset counts down: below buflen, this allocation
	 * would refill, exactly as page_frag_alloc() decides it.
	 */
	if (nvq->nxdp && nvq->frags.va && nvq->frags.offset < buflen)
		vmq_tx_flush_batch(nvq, sock);
	buf = page_frag_alloc(&nvq->frags, buflen, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	xdp = &nvq->xdp[nvq->nxdp];
	hdr = buf;
	/*
	 * Header and frame in one copy, the header into the headroom just
	 * before the frame (pad leaves room for it after *hdr); tun reads
	 * it from hdr->gso, all zero when the tap has none.
	 */
	BUILD_BUG_ON(sizeof(*hdr) > NET_SKB_PAD);
	if (copy_from_iter(buf + pad - hlen, len, from) != len)
		goto fault;
	if (hlen)
		memcpy(&hdr->gso, buf + pad - hlen, sizeof(hdr->gso));
	else
		memset(&hdr->gso, 0, sizeof(hdr->gso));
	/* the linear part must hold the checksum field tun will fill */
	if (hdr->gso.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		csum_end = __virtio16_to_cpu(true, hdr->gso.csum_start) +
			   __virtio16_to_cpu(true, hdr->gso.csum_offset) + 2;
		if (csum_end > __virtio16_to_cpu(true, hdr->gso.hdr_len)) {
			if (csum_end > len - hlen)
				goto fault;
			hdr->gso.hdr_len = __cpu_to_virtio16(true, csum_end);
		}
	}
	hdr->buflen = buflen;
	xdp_init_buff(xdp, buflen, NULL);
	xdp_prepare_buff(xdp, buf, pad, len - hlen, true);
	nvq->nxdp++;
	return 0;

fault:
	page_frag_free(buf);
	return -EINVAL;
}

/* Send one frame on its own: 1 sent, 0 dropped, -EAGAIN: wait for room. */
static int vmq_tx_sendmsg(struct vmq_net_vq *nvq, struct socket *sock,
			  struct msghdr *msg, size_t len)
{
	struct vmq_vq *vq = &nvq->vq;
	int err;

	lockdep_assert_held(&nvq->vq.mutex);
	err = sock->ops->sendmsg(sock, msg, len);
	if (unlikely(err == -EAGAIN || err == -ENOMEM || err == -ENOBUFS)) {
		vmq_vq_discard(vq, 1);
		vmq_poll_start(&nvq->sock_poll, sock->file);
		return -EAGAIN;
	}
	if (unlikely(err < 0)) {
		vq->stats.drops[VHOST_MQ_DROP_TAP_REFUSED]++; /* header, link */
		return 0;
	}
	return 1;
}

/* Send one chain's frame; false if we must wait for room. */
static bool vmq_tx_one(struct vmq_net_vq *nvq, struct socket *sock,
		       const struct vmq_vq_chain *c, size_t *sent)
{
	struct vmq_vq *vq = &nvq->vq;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	size_t len = c->out_len - nvq->vhost_hlen;
	int err = -ENOSPC, ok = 1;

	lockdep_assert_held(&nvq->vq.mutex);
	/* longer than any tap takes: dropped, not copied (nor sized in int) */
	if (unlikely(len > nvq->sock_hlen + VMQ_TX_FRAME_MAX)) {
		vq->stats.drops[VHOST_MQ_DROP_TOO_BIG]++;
		goto done;
	}
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, vq->iov, c->out, c->out_len);
	/* a header we provide for the tap is the guest's to drop */
	iov_iter_advance(&msg.msg_iter, nvq->vhost_hlen);
	if (vmq_tx_can_batch(sock)) {
		err = vmq_tx_build(nvq, sock, &msg.msg_iter);
		if (err == -ENOMEM) {
			/* try again later, after what is built went out */
			vmq_tx_flush_batch(nvq, sock);
			vmq_vq_discard(vq, 1);
			vmq_poll_queue(&vq->poll);
			return false;
		}
		if (err == -EINVAL) {
			vq->stats.drops[VHOST_MQ_DROP_TAP_REFUSED]++;
			ok = 0;
		}
	}
	if (err == -ENOSPC) {
		vmq_tx_flush_batch(nvq, sock);
		ok = vmq_tx_sendmsg(nvq, sock, &msg, len);
		if (ok < 0)
			return false;
	}
	if (ok) {
		vq->stats.packets++;
		vq->stats.bytes += len - nvq->sock_hlen;
	}
done:
	vmq_vq_push_head(vq, c, 0);
	if (nvq->nxdp == VMQ_TX_BATCH)
		vmq_tx_flush_batch(nvq, sock);
	*sent = len;
	return true;
}

/*
 * An inactive pair's tx ring is still served: the guest's stack may
 * queue a frame there after the device acked VQ_PAIRS_SET and before it
 * stopped using the queue (Linux sets its real tx queue count only after
 * the command); upstream's path drops such a frame on the detached tap
 * queue, leaving it on the ring would strand it. Its tap queue stays
 * attached (queue folding), so it goes out as any other.
 */
static void vmq_handle_tx(struct vmq_net_vq *nvq, bool kicked)
{
	struct vmq_vq *vq = &nvq->vq;
	struct vmq_vq_chain c;
	struct socket *sock;
	size_t total = 0, len;
	int pkts = 0, r;

	mutex_lock(&vq->mutex);
	if (kicked)
		vq->stats.kicks++;
	sock = vq->backend;
	if (!sock || !vmq_vq_start_run(vq))
		goto out;
	vq->stats.wakeups++;
	vmq_poll_stop(&nvq->sock_poll);
	vmq_vq_disable_notify(vq);
	for (;;) {
		r = vmq_vq_next_chain(vq, 0, &c);
		if (r < 0)
			break;
		if (!r) {
			/* out before we sleep or spin */
			vmq_tx_flush_batch(nvq, sock);
			if (vmq_busy_poll(nvq, vmq_tx_ready))
				continue;
			if (unlikely(vq->broken))
				break;
			if (unlikely(vmq_vq_enable_notify(vq))) {
				vmq_vq_disable_notify(vq);
				continue;
			}
			break;
		}
		if (unlikely(c.in || c.out_len <= nvq->vhost_hlen)) {
			/* the base stays at the bad chain, as for the walker's */
			vmq_vq_discard(vq, 1);
			vmq_vq_error(vq, c.in ? VMQ_CHAIN_WRONG_DIRECTION :
					 VMQ_CHAIN_TOO_SHORT);
			break;
		}
		if (!vmq_tx_one(nvq, sock, &c, &len))
			break;
		if (vq->nheads >= VMQ_USED_BATCH)
			vmq_vq_flush_used(vq);
		total += len;
		if (++pkts >= VMQ_WEIGHT_PKTS || total >= VMQ_WEIGHT_BYTES ||
		    vq->run_descs >= VMQ_WEIGHT_DESCS) {
			/* budget spent: run again after the others */
			vmq_poll_queue(&nvq->sock_poll);
			break;
		}
		cond_resched();
	}
	vmq_tx_flush_batch(nvq, sock);
	vmq_vq_flush_used(vq);
out:
	mutex_unlock(&vq->mutex);
}

static void vmq_handle_tx_kick(struct vmq_work *work)
{
	vmq_handle_tx(vmq_work_to_nvq(work, false, VMQ_VQ_TX), true);
}

static void vmq_handle_tx_net(struct vmq_work *work)
{
	vmq_handle_tx(vmq_work_to_nvq(work, true, VMQ_VQ_TX), false);
}

/* ---- rx: tap -> guest ---------------------------------------------- */

/*
 * The next frame, without taking it: from our batch, refilled from the
 * tap's ring 64 pointers at a time (one lock round trip for many frames).
 */
static void *vmq_rxq_peek(struct vmq_net_vq *nvq)
{
	struct vmq_rx_batch *rxq = &nvq->rxq;

	lockdep_assert_held(&nvq->vq.mutex);
	if (rxq->head == rxq->tail) {
		rxq->head = 0;
		rxq->tail = ptr_ring_consume_batched(nvq->rx_ring, rxq->queue,
						     VMQ_RX_BATCH);
		if (!rxq->tail)
			return NULL;
	}
	return rxq->queue[rxq->head];
}

/* Give frames we took but did not deliver back to the tap, in order. */
static void vmq_rxq_unproduce(struct vmq_net_vq *nvq)
{
	struct vmq_rx_batch *rxq = &nvq->rxq;

	lockdep_assert_held(&nvq->vq.mutex);
	if (nvq->rx_ring && rxq->head != rxq->tail)
		ptr_ring_unconsume(nvq->rx_ring, rxq->queue + rxq->head,
				   rxq->tail - rxq->head, tun_ptr_free);
	rxq->head = 0;
	rxq->tail = 0;
}

/* Hand the peeked frame to recvmsg, which consumes it whatever happens. */
static void *vmq_rxq_take(struct vmq_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return nvq->rx_ring ? nvq->rxq.queue[nvq->rxq.head++] : NULL;
}

/* Length of the next frame without its vnet header; 0 if none. */
static int vmq_rx_peek(struct vmq_net_vq *nvq)
{
	struct socket *sock = nvq->vq.backend;
	void *ptr;

	lockdep_assert_held(&nvq->vq.mutex);
	if (!nvq->rx_ring)
		return sock->ops->peek_len ? sock->ops->peek_len(sock) : 0;
	ptr = vmq_rxq_peek(nvq);
	if (!ptr)
		return 0;
	if (tun_is_xdp_frame(ptr))
		return tun_ptr_to_xdp(ptr)->len;
	return __skb_array_len_with_tag(ptr);
}

static bool vmq_rx_ready(struct vmq_net_vq *nvq)
{
	return vmq_rx_peek(nvq) > 0;
}

#define VMQ_RX_OVERRUN	(-EMSGSIZE)

/*
 * Take chains until they hold @want bytes (one chain unless mergeable).
 * Their heads are queued in vq->heads, the last one's length trimmed to
 * what it will hold. Returns the number of chains, 0 if the guest has not
 * posted enough, VMQ_RX_OVERRUN if the frame cannot fit (nothing taken),
 * or another negative errno once the queue is stopped.
 */
static int vmq_rx_get_bufs(struct vmq_vq *vq, u64 want, int quota,
			   int *iovs)
{
	unsigned int first_head = vq->nheads;
	struct vmq_vq_chain c;
	int heads = 0, iov = 0, r;
	s64 left = want;

	vq->nlog = 0;
	while (left > 0) {
		if (heads == quota || iov == UIO_MAXIOV) {
			r = VMQ_RX_OVERRUN;
			goto undo;
		}
		r = vmq_vq_next_chain(vq, iov, &c);
		if (r <= 0)
			goto undo;
		heads++;
		if (unlikely(c.out)) {
			vmq_vq_error(vq, VMQ_CHAIN_WRONG_DIRECTION);
			r = -EINVAL;
			goto undo;
		}
		vmq_vq_push_head(vq, &c, c.in_len);
		iov += c.in;
		left -= c.in_len;
	}
	/* the last chain holds only the frame's tail */
	vq->heads[vq->nheads - 1].len = cpu_to_vq32(c.in_len + left);
	*iovs = iov;
	return heads;

undo:
	vq->nheads = first_head;
	vmq_vq_discard(vq, heads);
	return r;
}

/* Throw away the frame at the head of @src's tap queue. */
static void vmq_rx_drop(struct vmq_net_vq *nvq, struct vmq_net_vq *src,
			struct socket *sock)
{
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT | MSG_TRUNC,
		.msg_control = vmq_rxq_take(src),
	};
	struct kvec kv;
	char byte;

	lockdep_assert_held(&nvq->vq.mutex);
	lockdep_assert_held(&src->vq.mutex);
	kv.iov_base = &byte;
	kv.iov_len = 1;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, 1);
	sock->ops->recvmsg(sock, &msg, 1, MSG_DONTWAIT | MSG_TRUNC);
	nvq->vq.stats.drops[VHOST_MQ_DROP_TOO_BIG]++;
}

/*
 * Receive one frame of @sock_len bytes from @src's tap queue into the
 * chains just taken from @nvq's ring.
 */
static bool vmq_rx_one(struct vmq_net_vq *nvq, struct vmq_net_vq *src,
		       struct socket *sock, size_t sock_len, int iovs,
		       u16 heads)
{
	lockdep_assert_held(&nvq->vq.mutex);
	lockdep_assert_held(&src->vq.mutex);
	static const struct virtio_net_hdr_mrg_rxbuf zero_hdr;
	struct vmq_vq *vq = &nvq->vq;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_TRUNC };
	size_t hdr_len = nvq->vhost_hlen ?: nvq->sock_hlen;
	size_t total = sock_len + nvq->vhost_hlen;
	__virtio16 num_buffers = cpu_to_vq16(heads);
	struct iov_iter fixup;
	int err;

	iov_iter_init(&msg.msg_iter, ITER_DEST, vq->iov, iovs, total);
	fixup = msg.msg_iter;
	if (nvq->vhost_hlen &&
	    copy_to_iter(&zero_hdr, nvq->vhost_hlen, &msg.msg_iter) !=
	    nvq->vhost_hlen)
		goto fault;
	msg.msg_control = vmq_rxq_take(src);
	err = sock->ops->recvmsg(sock, &msg, sock_len,
				 MSG_DONTWAIT | MSG_TRUNC);
	if (unlikely(err != sock_len)) {
		/* gone or truncated: the frame is lost, the buffers are not */
		vq->stats.drops[VHOST_MQ_DROP_RECV_FAILED]++;
		return false;
	}
	/* num_buffers follows the 10-byte header when it has 12 */
	if (hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf)) {
		iov_iter_advance(&fixup, sizeof(struct virtio_net_hdr));
		if (copy_to_iter(&num_buffers, sizeof(num_buffers), &fixup) !=
		    sizeof(num_buffers))
			goto fault;
	}
	return true;

fault:
	vmq_vq_fault(vq, "rx buffer unwritable");
	return false;
}

/* Take and deliver one frame; false when the handler should stop. */
static bool vmq_rx_frame(struct vmq_net_vq *nvq, struct vmq_net_vq *src,
			 struct socket *sock, size_t sock_len, int quota)
{
	struct vmq_vq *vq = &nvq->vq;
	unsigned int first = vq->nheads;
	int heads, iovs;

	heads = vmq_rx_get_bufs(vq, sock_len + nvq->vhost_hlen, quota, &iovs);
	if (heads == VMQ_RX_OVERRUN) {
		vmq_rx_drop(nvq, src, sock);
		return true;
	}
	if (heads < 0)
		return false;
	if (!heads) {
		/* wait for buffers, unless they came while we looked */
		if (likely(!vmq_vq_enable_notify(vq)))
			return false;
		vmq_vq_disable_notify(vq);
		return true;
	}
	if (!vmq_rx_one(nvq, src, sock, sock_len, iovs, heads))
		goto undo;
	if (unlikely(vmq_vq_has(vq, VHOST_F_LOG_ALL)) &&
	    vmq_vq_log_written(vq, sock_len + nvq->vhost_hlen)) {
		/* the frame is gone from the tap; its buffers stay the guest's */
		vq->stats.drops[VHOST_MQ_DROP_LOG_FAULT]++;
		goto undo;
	}
	vq->stats.packets++;
	vq->stats.bytes += sock_len - nvq->sock_hlen;
	if (src != nvq)
		vq->stats.folded++;
	if (vq->nheads >= VMQ_USED_BATCH)
		vmq_vq_flush_used(vq);
	return true;

undo:
	vq->nheads = first;
	vmq_vq_discard(vq, heads);
	return !vq->broken;
}

/* what one run of an rx handler may still do */
struct vmq_rx_budget {
	int quota;		/* chains per frame */
	int pkts;
	size_t total;
};

/* frames one tap queue delivers in its turn while others wait theirs */
#define VMQ_RX_TURN		16

/* how a turn of vmq_rx_drain() ended */
enum vmq_rx_turn {
	VMQ_RX_EMPTY,		/* the tap queue ran dry */
	VMQ_RX_MORE,		/* its turn is over, frames wait */
	VMQ_RX_STOP,		/* the ring or the budget ends the run */
};

/*
 * Deliver up to @turn frames waiting on @src's tap queue into @nvq's ring
 * (src is nvq itself, or an inactive pair folded onto it). Busy polling
 * spins only on a queue that has the ring to itself.
 */
static enum vmq_rx_turn vmq_rx_drain(struct vmq_net_vq *nvq,
				     struct vmq_net_vq *src,
				     struct vmq_rx_budget *b, unsigned int turn)
{
	struct socket *sock = src->vq.backend;
	unsigned int done = 0;
	size_t sock_len;

	lockdep_assert_held(&nvq->vq.mutex);
	lockdep_assert_held(&src->vq.mutex);
	for (;;) {
		sock_len = vmq_rx_peek(src);
		if (!sock_len) {
			if (turn == UINT_MAX &&
			    vmq_busy_poll(nvq, vmq_rx_ready))
				continue;
			return VMQ_RX_EMPTY;
		}
		if (done++ == turn)
			return VMQ_RX_MORE;
		/* every frame counts, delivered or dropped, and every walk */
		if (b->pkts++ >= VMQ_WEIGHT_PKTS ||
		    b->total >= VMQ_WEIGHT_BYTES ||
		    nvq->vq.run_descs >= VMQ_WEIGHT_DESCS) {
			vmq_poll_queue(&nvq->sock_poll);
			return VMQ_RX_STOP;
		}
		sock_len += src->sock_hlen;
		b->total += sock_len;
		if (!vmq_rx_frame(nvq, src, sock, sock_len, b->quota))
			return VMQ_RX_STOP;
		cond_resched();
	}
}

/*
 * Source @m of this ring: 0 is its own tap queue, m > 0 the queue of
 * inactive pair idx + m * nactive, folded onto it, under that vring's
 * mutex (checked again there to still fold onto us). The rx mutexes
 * nest in one order only, a higher pair's inside a lower one's: each
 * pair's rx mutex has a lock class of its own (vmq_pair_init()), so
 * lockdep learns that order and reports any other.
 */
static enum vmq_rx_turn vmq_rx_source(struct vmq_net_vq *nvq, unsigned int m,
				      unsigned int nsrc,
				      struct vmq_rx_budget *b)
{
	unsigned int idx = nvq->vq.index / 2;
	enum vmq_rx_turn r = VMQ_RX_EMPTY;
	struct vmq_net_vq *src;

	if (!m)
		return vmq_rx_drain(nvq, nvq, b,
				    nsrc == 1 ? UINT_MAX : VMQ_RX_TURN);
	src = &vmq_nvq_sibling(nvq, idx + m * nvq->nactive)->nvq[VMQ_VQ_RX];
	mutex_lock(&src->vq.mutex);
	if (src->target == idx && src->vq.backend)
		r = vmq_rx_drain(nvq, src, b, VMQ_RX_TURN);
	mutex_unlock(&src->vq.mutex);
	return r;
}

/*
 * One run: the own tap queue and those folded onto it take turns of
 * VMQ_RX_TURN frames, from the source the last run stopped at, until all
 * are dry or the ring or the budget stops the run; no queue waits for
 * another to run dry (a flood on one would fill the others until tun
 * drops). Returns true when every source ran dry.
 */
static bool vmq_rx_run(struct vmq_net_vq *nvq, struct vmq_rx_budget *b)
{
	unsigned int idx = nvq->vq.index / 2, nactive = nvq->nactive;
	unsigned int nsrc = (vmq_nvq_pair(nvq)->npairs - 1 - idx) / nactive + 1;
	unsigned int m = nvq->rx_turn % nsrc, dry = 0;
	enum vmq_rx_turn r;

	lockdep_assert_held(&nvq->vq.mutex);
	while (dry < nsrc) {
		r = vmq_rx_source(nvq, m, nsrc, b);
		if (r == VMQ_RX_STOP)
			break;
		dry = r == VMQ_RX_EMPTY ? dry + 1 : 0;
		m = (m + 1) % nsrc;
	}
	nvq->rx_turn = m;
	return dry >= nsrc;
}

static void vmq_handle_rx(struct vmq_net_vq *nvq, bool kicked)
{
	struct vmq_vq *vq = &nvq->vq;
	struct vmq_rx_budget b = { 0 };
	bool drained;

	mutex_lock(&vq->mutex);
	if (kicked)
		vq->stats.kicks++;
	if (!vq->backend || nvq->fold_only || !vmq_nvq_active(nvq) ||
	    !vmq_vq_start_run(vq))
		goto out;
	vq->stats.wakeups++;
	vmq_vq_disable_notify(vq);
	/* frames that come while we drain need not wake us */
	vmq_poll_pause(&nvq->sock_poll);
	b.quota = vmq_vq_has(vq, VIRTIO_NET_F_MRG_RXBUF) ? UIO_MAXIOV : 1;
	drained = vmq_rx_run(nvq, &b);
	vmq_vq_flush_used(vq);
	vmq_poll_resume(&nvq->sock_poll);
	/*
	 * A frame that came after the tap queue ran dry woke nobody. (When
	 * the ring or the budget stopped us, the guest's kick or the queued
	 * run comes back for what is left.)
	 */
	if (drained && vmq_rx_ready(nvq))
		vmq_poll_queue(&nvq->sock_poll);
out:
	mutex_unlock(&vq->mutex);
}

static void vmq_handle_rx_kick(struct vmq_work *work)
{
	vmq_handle_rx(vmq_work_to_nvq(work, false, VMQ_VQ_RX), true);
}

/*
 * Frames on a tap queue: its pair's ring takes them, or, while the pair
 * is inactive, the ring of the pair it folds onto (checked again there).
 */
static void vmq_handle_rx_net(struct vmq_work *work)
{
	struct vmq_net_vq *src = vmq_work_to_nvq(work, true, VMQ_VQ_RX);
	unsigned int target = READ_ONCE(src->target);

	vmq_handle_rx(&vmq_nvq_sibling(src, target)->nvq[VMQ_VQ_RX], false);
}

/* ---- the pair and its backends -------------------------------------- */

/*
 * One lock class for the rx vring mutex of each pair index, so that
 * lockdep checks the order queue folding nests them in (vmq_rx_source()).
 */
static struct lock_class_key vmq_rx_mutex_keys[VMQ_PAIRS_MAX];

void vmq_pair_init(struct vmq_pair *pair, unsigned int index,
		   unsigned int npairs)
{
	struct vmq_net_vq *rx = &pair->nvq[VMQ_VQ_RX];
	struct vmq_net_vq *tx = &pair->nvq[VMQ_VQ_TX];

	pair->index = index;
	pair->npairs = npairs;
	rx->target = index;
	tx->target = index;
	rx->nactive = npairs;
	tx->nactive = npairs;
	vmq_vq_init(&rx->vq, 2 * index + VMQ_VQ_RX, vmq_handle_rx_kick);
	lockdep_set_class(&rx->vq.mutex, &vmq_rx_mutex_keys[index]);
	vmq_vq_init(&tx->vq, 2 * index + VMQ_VQ_TX, vmq_handle_tx_kick);
	vmq_poll_init(&rx->sock_poll, vmq_handle_rx_net, EPOLLIN);
	vmq_poll_init(&tx->sock_poll, vmq_handle_tx_net, EPOLLOUT);
}

void vmq_pair_set_worker(struct vmq_pair *pair, struct vmq_worker *worker)
{
	int i;

	pair->worker = worker;
	for (i = 0; i < 2; i++) {
		pair->nvq[i].vq.poll.worker = worker;
		WRITE_ONCE(pair->nvq[i].sock_poll.worker, worker);
	}
}

bool vmq_pair_active(struct vmq_pair *pair)
{
	struct vmq_net_vq *rx = &pair->nvq[VMQ_VQ_RX];
	bool active;

	mutex_lock(&rx->vq.mutex);
	active = vmq_nvq_active(rx);
	mutex_unlock(&rx->vq.mutex);
	return active;
}

/*
 * Serve pairs 0..n-1 from now on. Each vring changes under its own mutex,
 * so once this returns no handler fills an inactive pair's rx ring: the
 * control vq may then ack the command (tx rings are served whatever the
 * choice, see vmq_handle_tx()). An inactive pair's tap queue is
 * drained by pair k % n (queue folding), whose worker its rx poll now
 * wakes. The workers exist (the device is owned).
 */
void vmq_pairs_set_active(struct vmq_pair *pairs, unsigned int n)
{
	unsigned int npairs = pairs->npairs, k, t;
	int i;

	for (k = 0; k < npairs; k++) {
		t = vmq_ctrl_pair_target(k, n);
		for (i = 0; i < 2; i++) {
			struct vmq_net_vq *nvq = &pairs[k].nvq[i];

			mutex_lock(&nvq->vq.mutex);
			WRITE_ONCE(nvq->target, t);
			nvq->nactive = n;
			if (i == VMQ_VQ_RX)
				WRITE_ONCE(nvq->sock_poll.worker,
					   pairs[t].worker);
			mutex_unlock(&nvq->vq.mutex);
		}
	}
	/*
	 * Wakeups may have gone to the old choice: run every active pair
	 * once, which also drains whatever now folds onto it.
	 */
	for (k = 0; k < n; k++)
		for (i = 0; i < 2; i++)
			vmq_poll_queue(&pairs[k].nvq[i].sock_poll);
}

/* Header lengths follow vhost-net: 12 bytes with MRG_RXBUF or VERSION_1. */
void vmq_pair_set_features(struct vmq_pair *pair, u64 features)
{
	size_t hdr_len = features & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) |
				     (1ULL << VIRTIO_F_VERSION_1)) ?
			 sizeof(struct virtio_net_hdr_mrg_rxbuf) :
			 sizeof(struct virtio_net_hdr);
	bool ours = features & (1ULL << VHOST_NET_F_VIRTIO_NET_HDR);
	int i;

	for (i = 0; i < 2; i++) {
		struct vmq_net_vq *nvq = &pair->nvq[i];

		mutex_lock(&nvq->vq.mutex);
		nvq->vq.features = features;
		nvq->vhost_hlen = ours ? hdr_len : 0;
		nvq->sock_hlen = ours ? 0 : hdr_len;
		mutex_unlock(&nvq->vq.mutex);
	}
}

/*
 * Detach both backends and stop every poll; the caller flushes every
 * worker (folding lets another pair's worker use these sockets) and then
 * drops the sockets with vmq_pair_put_socks().
 */
void vmq_pair_stop(struct vmq_pair *pair)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct vmq_net_vq *nvq = &pair->nvq[i];

		mutex_lock(&nvq->vq.mutex);
		vmq_poll_stop(&nvq->sock_poll);
		vmq_poll_stop(&nvq->vq.poll);
		vmq_rxq_unproduce(nvq);
		nvq->rx_ring = NULL;
		vmq_tx_free_batch(nvq);
		if (nvq->frags.va) {
			__page_frag_cache_drain(virt_to_head_page(nvq->frags.va),
						nvq->frags.pagecnt_bias);
			nvq->frags.va = NULL;
		}
		pair->detached[i] = nvq->vq.backend;
		nvq->vq.backend = NULL;
		mutex_unlock(&nvq->vq.mutex);
	}
}

void vmq_pair_put_socks(struct vmq_pair *pair)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (pair->detached[i])
			sockfd_put(pair->detached[i]);
		pair->detached[i] = NULL;
	}
}

/*
 * A tap or macvtap queue's socket, holding a reference to its file; NULL
 * for -1, ENOTSOCK for anything else.
 */
struct socket *vmq_net_get_socket(int fd)
{
	struct file *file;

	if (fd == -1)
		return NULL;
	file = fget(fd);
	if (!file)
		return ERR_PTR(-ENOTSOCK);
	return vmq_net_file_socket(file);
}

/* The same for a file we hold (the reference goes with the socket). */
struct socket *vmq_net_file_socket(struct file *file)
{
	struct socket *sock;

	sock = tun_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	sock = tap_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	fput(file);
	return ERR_PTR(-ENOTSOCK);
}

/* The ring tun or tap queues frames for us on; NULL for anything else. */
static struct ptr_ring *vmq_get_rx_ring(struct socket *sock)
{
	struct ptr_ring *ring;

	if (!sock)
		return NULL;
	ring = tun_get_tx_ring(sock->file);
	if (!IS_ERR(ring))
		return ring;
	ring = tap_get_ptr_ring(sock->file);
	return IS_ERR(ring) ? NULL : ring;
}

static int vmq_nvq_start(struct vmq_net_vq *nvq, struct socket *sock)
{
	lockdep_assert_held(&nvq->vq.mutex);
	if (nvq->vq.index % 2 == VMQ_VQ_RX)
		nvq->rx_ring = vmq_get_rx_ring(sock);
	if (!sock)
		return 0;
	/* rx waits for frames; tx just drains what the guest posted */
	if (nvq->vq.index % 2 == VMQ_VQ_RX)
		return vmq_poll_start(&nvq->sock_poll, sock->file);
	vmq_poll_queue(&nvq->vq.poll);
	return 0;
}

/*
 * Swap the backend of one vring under its mutex; returns the old one. A
 * fold-only rx backend leaves the ring alone: it is never used.
 */
static long vmq_nvq_set_backend(struct vmq_net_vq *nvq, struct socket *sock,
				bool fold_only, struct socket **old)
{
	struct vmq_vq *vq = &nvq->vq;
	bool was = nvq->fold_only;
	long r = 0;

	lockdep_assert_held(&nvq->vq.mutex);
	*old = vq->backend;
	if (sock == *old && fold_only == was)
		return 0;
	vmq_poll_stop(&nvq->sock_poll);
	vmq_rxq_unproduce(nvq);
	vq->backend = sock;
	nvq->fold_only = sock && fold_only;
	if (!nvq->fold_only)
		r = vmq_vq_init_access(vq);
	if (!r)
		r = vmq_nvq_start(nvq, sock);
	if (r) {
		vmq_poll_stop(&nvq->sock_poll);
		vq->backend = *old;
		nvq->fold_only = was;
		vmq_nvq_start(nvq, *old);
		*old = sock;	/* the caller drops the new one instead */
	}
	return r;
}

/*
 * Attach a tap or macvtap queue's socket to a vring (its reference goes
 * with it), swap it, or detach with NULL; *old is what the caller drops
 * once no handler can use it (sockfd_put after a flush of every worker:
 * with folding any pair may). EFAULT if the ring is not accessible.
 *
 * @fold_only: the rx vring of a pair the guest cannot use (vhost-vdpa
 * mode without VIRTIO_NET_F_MQ) takes its tap queue only so that the
 * active pair it folds onto delivers those frames; EINVAL for a tx vring
 * or an active pair's.
 */
int vmq_nvq_attach(struct vmq_net_vq *nvq, struct socket *sock,
		   bool fold_only, struct socket **old)
{
	int r;

	mutex_lock(&nvq->vq.mutex);
	if (fold_only && (nvq->vq.index % 2 != VMQ_VQ_RX ||
			  vmq_nvq_active(nvq))) {
		*old = sock;
		r = -EINVAL;
	} else if (!fold_only && !vmq_vq_access_ok(&nvq->vq)) {
		*old = sock;
		r = -EFAULT;
	} else {
		r = vmq_nvq_set_backend(nvq, sock, fold_only, old);
	}
	mutex_unlock(&nvq->vq.mutex);
	return r;
}
