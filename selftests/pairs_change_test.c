// SPDX-License-Identifier: GPL-2.0
/*
 * pairs_change_test.c - the guest changes its active pairs 1 -> N -> 1 and
 * through the counts between, again and again, while sequenced frames
 * flow both ways (host -> guest from a thread of their own, over many
 * flows the tap spreads over all its queues). Every frame must arrive
 * exactly once and intact, or be counted as dropped with a reason; no
 * frame may reach a ring while its pair is inactive; frames of inactive
 * queues are folded and counted; the counters add up to what was sent.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "vmq_dm.h"
#include "kselftest_harness.h"

#define NFLOWS		64
#define WINDOW		96	/* host -> guest frames in flight */
#define TX_INFLIGHT	32
#define DEADLINE_S	240	/* the debug kernel under TCG is slow */
#define CHANGE_EVERY	600	/* rx frames between changes */

struct run {
	struct dm m;
	unsigned int rx_total, tx_total;
	atomic_uint rx_got;		/* frames the guest took */
	atomic_uint rx_dropped;		/* frames the device counted dropped */
	atomic_bool stop;
	int send_err;
	uint8_t *rx_seen, *tx_seen;
};

/* host -> guest: paced so that nothing overflows the tap's queues */
static void *sender(void *arg)
{
	struct run *r = arg;
	unsigned int seq;

	for (seq = 0; seq < r->rx_total && !atomic_load(&r->stop); seq++) {
		while (seq - atomic_load(&r->rx_got) -
		       atomic_load(&r->rx_dropped) >= WINDOW &&
		       !atomic_load(&r->stop))
			usleep(100);
		r->send_err = vmq_udp_send(r->m.tap.pkt, r->m.tap.ifindex,
					   seq % NFLOWS, seq, FRAME);
		if (r->send_err)
			break;
	}
	return NULL;
}

static uint64_t rx_drops(struct dm *m)
{
	uint64_t sum = 0;
	unsigned int k, i;

	for (k = 0; k < m->n; k++) {
		struct vhost_mq_vring_stats s = dm_stats(m, 2 * k);

		for (i = 0; i < VHOST_MQ_DROP_MAX; i++)
			sum += s.drops[i];
	}
	return sum;
}

static void change_pairs_under_traffic(struct __test_metadata *_metadata,
				       unsigned int n, unsigned int rx_total,
				       unsigned int tx_total)
{
	unsigned int mid = (n + 1) / 2;
	const unsigned int plan[] = { n, 1, mid, n, 1, 2, n, mid, 1, n };
	uint64_t inactive_pkts[MAX_PAIRS], folded = 0, rx_pkts = 0, tx_pkts = 0;
	unsigned int k, flow, seq, phase = 0, active = 1, changes = 0;
	unsigned int loops = 0, tx_posted = 0, tx_done = 0, tx_seen = 0, next_change;
	unsigned char got[FRAME + 64];
	double deadline = vmq_now() + DEADLINE_S;
	struct run r = { .rx_total = rx_total, .tx_total = tx_total };
	pthread_t thread;
	int res;

	vmq_kmsg_mark(_metadata->name, VHOST_MQ_PATH);
	r.rx_seen = calloc(rx_total, 1);
	r.tx_seen = calloc(tx_total, 1);
	ASSERT_TRUE(r.rx_seen && r.tx_seen);
	ASSERT_EQ(0, dm_start(&r.m, n, F_BASE | F_MQ, 256));
	for (k = 0; k < n; k++) {
		ASSERT_EQ(0, dm_post_rx(&r.m, k, 200));
		inactive_pkts[k] = 0;
	}
	next_change = CHANGE_EVERY;
	ASSERT_EQ(0, pthread_create(&thread, NULL, sender, &r));

	while (atomic_load(&r.rx_got) + atomic_load(&r.rx_dropped) < rx_total ||
	       tx_seen < tx_total) {
		bool idle = true;

		if (vmq_now() > deadline) {
			TH_LOG("deadline: rx %u/%u, tx %u/%u", r.rx_got, rx_total,
			       tx_seen, tx_total);
			break;
		}
		/* guest rx on every ring */
		for (k = 0; k < n; k++) {
			while ((res = dm_rx_one(&r.m, k, &flow, &seq))) {
				idle = false;
				ASSERT_EQ(1, res) TH_LOG("damaged frame, pair %u", k);
				ASSERT_LT(seq, rx_total);
				EXPECT_EQ(seq % NFLOWS, flow);
				EXPECT_EQ(0, r.rx_seen[seq]++) TH_LOG("rx %u twice", seq);
				atomic_fetch_add(&r.rx_got, 1);
			}
		}
		/*
		 * guest tx on the active pairs, round robin; none while a
		 * change is due, so that it comes as soon as tx has drained
		 */
		if (tx_posted < tx_total && tx_posted - tx_done < TX_INFLIGHT &&
		    atomic_load(&r.rx_got) < next_change) {
			ASSERT_EQ(0, dm_tx(&r.m, tx_posted % active, tx_posted));
			tx_posted++;
			idle = false;
		}
		for (k = 0; k < n; k++)
			while (vmq_gvq_get(&r.m.d.tx[k], NULL)) {
				tx_done++;
				idle = false;
			}
		/* what the guest sent, at the tap */
		while (recv(r.m.tap.pkt, got, sizeof(got), MSG_DONTWAIT) > 0) {
			unsigned char want[FRAME];

			idle = false;
			seq = (got[9] << 16) | (got[10] << 8) | got[11];
			ASSERT_LT(seq, tx_total);
			vmq_frame_fill(want, FRAME, seq);
			EXPECT_EQ(0, memcmp(want, got, FRAME)) TH_LOG("tx %u", seq);
			EXPECT_EQ(0, r.tx_seen[seq]++) TH_LOG("tx %u twice", seq);
			tx_seen++;
		}
		atomic_store(&r.rx_dropped, rx_drops(&r.m));
		/* the guest kicks inactive rings too: they must stay unserved */
		if (!(++loops % 64))
			for (k = active; k < n; k++)
				dm_force_kick(&r.m.d.rx[k]);

		/* time for the guest to change its mind */
		if (atomic_load(&r.rx_got) >= next_change &&
		    tx_done == tx_posted) {
			unsigned int want = plan[phase++ % 10];

			/* nothing reached an inactive ring in the last phase */
			for (k = active; k < n; k++)
				EXPECT_EQ(inactive_pkts[k],
					  dm_stats(&r.m, 2 * k).packets)
					TH_LOG("pair %u served while inactive", k);
			ASSERT_EQ(VIRTIO_NET_OK,
				  vmq_gctrl_set_pairs(&r.m.d, want, WAIT_MS));
			changes += want != active;
			active = want;
			for (k = active; k < n; k++)
				inactive_pkts[k] = dm_stats(&r.m, 2 * k).packets;
			next_change += CHANGE_EVERY;
			continue;
		}
		if (idle)
			usleep(200);
	}
	atomic_store(&r.stop, true);
	pthread_join(thread, NULL);
	EXPECT_EQ(0, r.send_err);

	/* exactly once, or counted */
	EXPECT_EQ(rx_total, atomic_load(&r.rx_got) + rx_drops(&r.m));
	EXPECT_EQ(tx_total, tx_seen);
	for (k = 0; k < n; k++) {
		rx_pkts += dm_stats(&r.m, 2 * k).packets;
		tx_pkts += dm_stats(&r.m, 2 * k + 1).packets;
		folded += dm_stats(&r.m, 2 * k).folded;
	}
	EXPECT_EQ(atomic_load(&r.rx_got), rx_pkts);
	EXPECT_EQ(tx_total, tx_pkts);
	EXPECT_LT(0, folded) TH_LOG("nothing was folded");
	EXPECT_EQ(changes, dm_active(&r.m).changes);
	/* timing decides how many come; it must be many */
	EXPECT_LE(rx_total / CHANGE_EVERY / 4, changes);
	TH_LOG("%u pairs: %u rx frames (%llu folded, %llu dropped), %u tx, "
	       "%u changes of the active pairs", n, r.rx_got,
	       (unsigned long long)folded, (unsigned long long)rx_drops(&r.m),
	       tx_seen, changes);
	dm_stop(&r.m);
	free(r.rx_seen);
	free(r.tx_seen);
}

/* no state of its own: a fixture only for the harness's timeout */
FIXTURE(pc) {
	int unused;
};

FIXTURE_SETUP(pc)
{
}

FIXTURE_TEARDOWN(pc)
{
}

TEST_F_TIMEOUT(pc, two_pairs_changing_under_traffic, 300)
{
	change_pairs_under_traffic(_metadata, 2, 30000, 10000);
}

TEST_F_TIMEOUT(pc, four_pairs_changing_under_traffic, 300)
{
	change_pairs_under_traffic(_metadata, 4, 60000, 20000);
}

TEST_F_TIMEOUT(pc, eight_pairs_changing_under_traffic, 300)
{
	change_pairs_under_traffic(_metadata, 8, 60000, 20000);
}

TEST_HARNESS_MAIN
