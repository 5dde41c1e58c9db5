/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmq_dm_checks.h - checks the device-mode and vhost-vdpa tests share,
 * with the kselftest harness's asserts (include it after the harness).
 */
#ifndef VMQ_DM_CHECKS_H
#define VMQ_DM_CHECKS_H

#include "vmq_dm.h"

/*
 * Send one frame on each of @nflows flows (seq = base + flow) and collect
 * them: ring[flow] is the pair whose ring it reached. Fails the test if a
 * frame is damaged, duplicated or missing.
 */
static inline void flows_round(struct __test_metadata *_metadata, struct dm *m,
			unsigned int nflows, uint32_t base, int *ring)
{
	unsigned int flow, got = 0, k;
	uint32_t seq;
	int r, spins = 0;

	for (flow = 0; flow < nflows; flow++) {
		ring[flow] = -1;
		ASSERT_EQ(0, send_udp(m, flow, base + flow));
	}
	while (got < nflows && spins < WAIT_MS) {
		bool any = false;

		for (k = 0; k < m->n; k++) {
			r = dm_rx_one(m, k, &flow, &seq);
			if (!r)
				continue;
			any = true;
			ASSERT_EQ(1, r) TH_LOG("damaged frame on pair %u", k);
			ASSERT_LT(flow, nflows);
			ASSERT_EQ(base + flow, seq);
			ASSERT_EQ(-1, ring[flow]) TH_LOG("flow %u twice", flow);
			ring[flow] = k;
			got++;
		}
		if (!any) {
			usleep(1000);
			spins++;
		}
	}
	ASSERT_EQ(nflows, got);
}

/*
 * Publish a chain of raw descriptors on the control vq, written at table
 * entries 48.. (the driver's commands use the lowest free ones), and
 * kick. The payload lives at d->cmd: bytes 0..3 are VQ_PAIRS_SET 3.
 */
struct raw_desc {
	int64_t off;		/* offset into the command buffer, or -1 */
	uint64_t addr;		/* used when off < 0 */
	uint32_t len;
	uint16_t flags;		/* VRING_DESC_F_WRITE, _NEXT is added */
	int next;		/* -1: the following one, else absolute */
};

static inline void raw_chain(struct vmq_gdev *d, const struct raw_desc *r,
		      unsigned int n, uint8_t pairs)
{
	struct vmq_gvq *vq = &d->ctrl;
	struct vring_desc *t = vq->vring.desc;
	unsigned int i;

	d->cmd[0] = VIRTIO_NET_CTRL_MQ;
	d->cmd[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	d->cmd[2] = pairs;
	d->cmd[3] = 0;
	d->cmd[48] = 0xee;
	for (i = 0; i < n; i++) {
		t[48 + i].addr = r[i].off >= 0 ?
				 vmq_gpa(&d->g, d->cmd + r[i].off) : r[i].addr;
		t[48 + i].len = r[i].len;
		t[48 + i].flags = r[i].flags;
		if (i + 1 < n || r[i].next >= 0) {
			t[48 + i].flags |= VRING_DESC_F_NEXT;
			t[48 + i].next = r[i].next >= 0 ? (unsigned int)r[i].next :
							  48 + i + 1;
		}
	}
	vq->vring.avail->ring[vq->avail_idx & (vq->num - 1)] = 48;
	__sync_synchronize();
	vq->avail_idx++;
	vq->vring.avail->idx = vq->avail_idx;
	vmq_gvq_kick(vq);
}

/*
 * A tx frame of every pair reaches the tap, and @nflows rx flows arrive
 * once each (ring[flow]: the pair), spread over more than one pair, none
 * folded (every pair active).
 */
static inline void every_pair_moves_frames(struct __test_metadata *_metadata,
					   struct dm *m, unsigned int nflows,
					   int *ring)
{
	unsigned int k, flow, spread = 0;

	for (k = 0; k < m->n; k++) {
		ASSERT_EQ(0, dm_tx(m, k, k));
		EXPECT_TRUE(tx_arrives(m, k, WAIT_MS)) TH_LOG("pair %u", k);
		EXPECT_EQ(1, dm_stats(m, 2 * k + 1).packets);
	}
	for (k = 0; k < m->n; k++)
		ASSERT_EQ(0, dm_post_rx(m, k, 128));
	flows_round(_metadata, m, nflows, 0, ring);
	for (flow = 0; flow < nflows; flow++)
		spread |= 1U << ring[flow];
	if (m->n > 1)
		EXPECT_LT(1, __builtin_popcount(spread)) TH_LOG("one queue?");
	EXPECT_EQ(nflows, sum_rx(m, false));
	EXPECT_EQ(0, sum_rx(m, true));
}

#endif /* VMQ_DM_CHECKS_H */
