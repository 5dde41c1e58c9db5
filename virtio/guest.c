// SPDX-License-Identifier: GPL-2.0
/*
 * guest.c - the userspace guest driver and VMM helpers of guest.h.
 *
 * Barriers: the device runs on another CPU, so the driver publishes ring
 * entries with release semantics and reads the device's with acquire, as
 * the virtio spec's driver-side barriers require.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/vhost_mq.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "guest.h"

#define wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

/*
 * Ring fields the device writes concurrently are read and written once
 * each; they are little endian, as is every host we run on.
 */
#define RD16(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define WR16(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/*
 * Packed rings: a position is an index into the descriptor table and a
 * wrap counter, encoded (in an event area's off_wrap, and in our kicked
 * position) as index | wrap << 15. At most 2^15 entries, so that an index
 * fits in those 15 bits.
 */
#define VMQ_PACKED_WRAP		(1U << VRING_PACKED_EVENT_F_WRAP_CTR)
#define VMQ_PACKED_MAX		VMQ_PACKED_WRAP
#define VMQ_PACKED_AVAIL	(1U << VRING_PACKED_DESC_F_AVAIL)
#define VMQ_PACKED_USED		(1U << VRING_PACKED_DESC_F_USED)
/* the event flags are bits 0-1 of the area's flags; the rest is reserved */
#define VMQ_PACKED_EVENT_MASK	0x3U

/* EVENT_IDX fields past the end of each ring */
static uint16_t *vmq_used_event(struct vmq_gvq *vq)
{
	return &vq->vring.avail->ring[vq->num];
}

static uint16_t *vmq_avail_event(struct vmq_gvq *vq)
{
	return (uint16_t *)&vq->vring.used->ring[vq->num];
}

int vmq_guest_init(struct vmq_guest *g, size_t size, uint64_t gpa)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	g->base = p;
	g->gpa = gpa;
	g->size = size;
	g->used = 0;
	g->platform = false;
	g->iova = gpa + VMQ_GUEST_IOVA_OFFSET;
	return 0;
}

void vmq_guest_destroy(struct vmq_guest *g)
{
	if (g->base)
		munmap(g->base, g->size);
	g->base = NULL;
}

void *vmq_guest_alloc(struct vmq_guest *g, size_t size, size_t align)
{
	size_t at = (g->used + align - 1) & ~(align - 1);

	if (at > g->size || size > g->size - at)
		return NULL;
	g->used = at + size;
	memset(g->base + at, 0, size);
	return g->base + at;
}

uint64_t vmq_gpa(const struct vmq_guest *g, const void *p)
{
	return (g->platform ? g->iova : g->gpa) +
	       ((const uint8_t *)p - g->base);
}

/*
 * The start of either layout's init: a zeroed vq (its eventfds -1, so that
 * vmq_gvq_destroy() after a failed init closes nothing it did not open).
 */
static void vmq_gvq_reset(struct vmq_gvq *vq, struct vmq_guest *g,
			  unsigned int index, uint32_t num, bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	vq->g = g;
	vq->index = index;
	vq->num = num;
	vq->event_idx = event_idx;
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/* What both layouts keep per buffer, and the eventfds. */
static int vmq_gvq_init_common(struct vmq_gvq *vq)
{
	uint32_t num = vq->num;

	vq->token = calloc(num, sizeof(*vq->token));
	vq->ndesc = calloc(num, sizeof(*vq->ndesc));
	vq->indirect_cap = calloc(num, sizeof(*vq->indirect_cap));
	if (!vq->token || !vq->ndesc || !vq->indirect_cap)
		return -ENOMEM;
	vq->num_free = num;
	vq->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq->err_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0)
		return -errno;
	return 0;
}

int vmq_gvq_init(struct vmq_gvq *vq, struct vmq_guest *g, unsigned int index,
		 uint32_t num, bool event_idx)
{
	uint32_t i;

	vmq_gvq_reset(vq, g, index, num, event_idx);
	vq->vring.num = num;
	vq->vring.desc = vmq_guest_alloc(g, 16 * num, 16);
	vq->vring.avail = vmq_guest_alloc(g, 6 + 2 * num, 2);
	vq->vring.used = vmq_guest_alloc(g, 6 + 8 * num, 4096);
	vq->indirect = calloc(num, sizeof(*vq->indirect));
	if (!vq->vring.desc || !vq->vring.avail || !vq->vring.used ||
	    !vq->indirect)
		return -ENOMEM;
	for (i = 0; i < num; i++)
		vq->vring.desc[i].next = (i + 1) % num;
	return vmq_gvq_init_common(vq);
}

/*
 * A packed ring: the descriptor table (16-byte aligned, as the spec asks),
 * the driver area, and the device area on a page of its own, as the split
 * used ring is, so that a test can map or log it apart. Descriptors start
 * zeroed: flags AVAIL and USED both 0, which in the first lap (wrap
 * counters 1) is neither available nor used. The driver area's flags 0
 * is ENABLE: interrupts wanted, as a split ring's avail flags 0.
 */
int vmq_gvq_init_packed(struct vmq_gvq *vq, struct vmq_guest *g,
			unsigned int index, uint32_t num, bool event_idx)
{
	uint32_t i;

	vmq_gvq_reset(vq, g, index, num, event_idx);
	if (!num || num > VMQ_PACKED_MAX)
		return -EINVAL;
	vq->packed = true;
	vq->base = VMQ_GVQ_PACKED_BASE;
	vq->avail_wrap = true;
	vq->used_wrap = true;
	vq->kicked_pos = VMQ_PACKED_WRAP;
	vq->desc = vmq_guest_alloc(g, sizeof(*vq->desc) * num, 16);
	vq->driver = vmq_guest_alloc(g, sizeof(*vq->driver), 4);
	vq->device = vmq_guest_alloc(g, sizeof(*vq->device), 4096);
	vq->id_next = calloc(num, sizeof(*vq->id_next));
	vq->packed_indirect = calloc(num, sizeof(*vq->packed_indirect));
	if (!vq->desc || !vq->driver || !vq->device || !vq->id_next ||
	    !vq->packed_indirect)
		return -ENOMEM;
	/* every id free, in order; num ends the list */
	for (i = 0; i < num; i++)
		vq->id_next[i] = i + 1;
	vq->free_id = 0;
	return vmq_gvq_init_common(vq);
}

void vmq_gvq_destroy(struct vmq_gvq *vq)
{
	free(vq->token);
	free(vq->ndesc);
	free(vq->indirect);
	free(vq->indirect_cap);
	free(vq->id_next);
	free(vq->packed_indirect);
	close(vq->kick_fd);
	close(vq->call_fd);
	close(vq->err_fd);
}

static void vmq_gvq_fill(struct vmq_gvq *vq, struct vring_desc *d,
			 const struct vmq_gbuf *b, bool write, bool more)
{
	d->addr = vmq_gpa(vq->g, b->addr);
	d->len = b->len;
	d->flags = (write ? VRING_DESC_F_WRITE : 0) |
		   (more ? VRING_DESC_F_NEXT : 0);
}

static struct vring_desc *vmq_gvq_table(struct vmq_gvq *vq, uint16_t head,
					unsigned int n)
{
	/* a table per head, grown by replacing it (the arena never frees) */
	if (!vq->indirect[head] || vq->indirect_cap[head] < n) {
		unsigned int cap = n < 16 ? 16 : n;

		vq->indirect[head] = vmq_guest_alloc(vq->g, 16 * cap, 16);
		vq->indirect_cap[head] = vq->indirect[head] ? cap : 0;
	}
	return vq->indirect[head];
}

/*
 * Packed rings (virtio 1.1 section 2.7). The driver and the device share
 * one descriptor table; each goes round it in order, and a descriptor's
 * AVAIL and USED flags, compared with the lap's wrap counter, say whose it
 * is. A chain made available in the lap of avail wrap counter w has AVAIL
 * w and USED !w in each of its descriptors; the device returns a buffer by
 * writing one descriptor, at its own used position, with AVAIL and USED
 * both its used wrap counter, and the buffer's id.
 */

/* The AVAIL and USED flags of a descriptor made available in lap @wrap. */
static uint16_t vmq_packed_avail_flags(bool wrap)
{
	return wrap ? VMQ_PACKED_AVAIL : VMQ_PACKED_USED;
}

/* position @idx in lap @wrap, encoded as an event area's off_wrap */
static uint16_t vmq_packed_pos(uint16_t idx, bool wrap)
{
	return idx | (wrap ? VMQ_PACKED_WRAP : 0);
}

/*
 * A position as a count modulo 2 * num: the index, plus num in the laps of
 * wrap counter 0. Each slot made available adds one (the first lap has
 * counter 1), so the difference of two of these is the number of slots
 * from one to the other, across a wrap too.
 */
static uint32_t vmq_packed_lin(uint16_t pos, uint32_t num)
{
	uint32_t idx = pos & (VMQ_PACKED_WRAP - 1);

	return (pos & VMQ_PACKED_WRAP) ? idx : idx + num;
}

/* Move one slot on; the wrap counter flips as the index passes the end. */
static void vmq_packed_step(uint16_t *idx, bool *wrap, uint32_t num)
{
	if (++*idx >= num) {
		*idx = 0;
		*wrap = !*wrap;
	}
}

static struct vring_packed_desc *vmq_packed_table(struct vmq_gvq *vq,
						  uint16_t id, unsigned int n)
{
	/* a table per id, grown by replacing it (the arena never frees) */
	if (!vq->packed_indirect[id] || vq->indirect_cap[id] < n) {
		unsigned int cap = n < 16 ? 16 : n;

		if (cap > UINT32_MAX / sizeof(struct vring_packed_desc))
			return NULL;
		vq->packed_indirect[id] =
			vmq_guest_alloc(vq->g,
					sizeof(struct vring_packed_desc) * cap,
					16);
		vq->indirect_cap[id] = vq->packed_indirect[id] ? cap : 0;
	}
	return vq->packed_indirect[id];
}

static void vmq_packed_fill(struct vmq_gvq *vq, struct vring_packed_desc *d,
			    const struct vmq_gbuf *b, uint16_t id)
{
	d->addr = vmq_gpa(vq->g, b->addr);
	d->len = b->len;
	d->id = id;
}

/*
 * A chain takes out + in consecutive slots from next_avail on, wrapping at
 * the end of the table (the slots after the wrap are in the next lap, so
 * their flags carry the flipped counter), or one slot pointing at an
 * indirect table. The device may look at the head slot at any time, so
 * the head's flags, which make the whole chain available at once, are
 * written last, after a barrier that orders everything else before them.
 */
static int vmq_packed_add(struct vmq_gvq *vq, const struct vmq_gbuf *bufs,
			  unsigned int out, unsigned int in, void *token,
			  bool indirect)
{
	struct vring_packed_desc *desc = vq->desc;
	unsigned int total = out + in, need = indirect ? 1 : total, k;
	uint16_t id = vq->free_id, head = vq->next_avail, i = head;
	uint16_t head_flags = 0, f;
	bool wrap = vq->avail_wrap;

	if (!total || vq->num_free < need || id >= vq->num)
		return -ENOSPC;
	if (indirect) {
		struct vring_packed_desc *t = vmq_packed_table(vq, id, total);

		if (!t)
			return -ENOMEM;
		/* in a table only WRITE means anything: entries follow on */
		for (k = 0; k < total; k++) {
			vmq_packed_fill(vq, &t[k], &bufs[k], id);
			t[k].flags = k >= out ? VRING_DESC_F_WRITE : 0;
		}
		desc[head].addr = vmq_gpa(vq->g, t);
		desc[head].len = sizeof(*t) * total;
		desc[head].id = id;
		head_flags = VRING_DESC_F_INDIRECT |
			     vmq_packed_avail_flags(wrap);
		vmq_packed_step(&i, &wrap, vq->num);
	} else {
		for (k = 0; k < total; k++) {
			/* the id is read from the last; every one has it */
			vmq_packed_fill(vq, &desc[i], &bufs[k], id);
			f = (k >= out ? VRING_DESC_F_WRITE : 0) |
			    (k + 1 < total ? VRING_DESC_F_NEXT : 0) |
			    vmq_packed_avail_flags(wrap);
			if (k)
				WR16(&desc[i].flags, f);
			else
				head_flags = f;
			vmq_packed_step(&i, &wrap, vq->num);
		}
	}
	vq->num_free -= need;
	vq->token[id] = token;
	vq->ndesc[id] = need;
	vq->free_id = vq->id_next[id];
	vq->next_avail = i;
	vq->avail_wrap = wrap;
	vq->kick_pending += need;
	/* the rest of the chain (and any table) before the head's flags */
	wmb();
	WR16(&desc[head].flags, head_flags);
	return 0;
}

/*
 * The device area says when the device wants a kick: never (DISABLE),
 * always (ENABLE), or with event idx (DESC) when it makes available the
 * slot at off_wrap, i.e. when that position is among the slots made
 * available since the last check, [old, new). A device that asks for DESC
 * without event idx, or writes a reserved value, is kicked: a kick too
 * many costs a wakeup, one too few a stalled ring.
 */
static bool vmq_packed_kick(struct vmq_gvq *vq)
{
	uint16_t old = vq->kicked_pos, ev, flags;
	uint32_t added = vq->kick_pending, n2 = 2 * vq->num;
	uint64_t one = 1;
	bool need;

	/* the descriptors' flags before reading the device's event area */
	mb();
	vq->kicked_pos = vmq_packed_pos(vq->next_avail, vq->avail_wrap);
	vq->kick_pending = 0;
	flags = RD16(&vq->device->flags) & VMQ_PACKED_EVENT_MASK;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
		need = false;
	} else if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->event_idx) {
		/*
		 * 2 * num slots or more since the last check went past every
		 * position: the count modulo 2 * num cannot tell then.
		 */
		ev = RD16(&vq->device->off_wrap);
		need = added >= n2 ||
		       (vmq_packed_lin(ev, vq->num) + n2 -
			vmq_packed_lin(old, vq->num)) % n2 < added;
	} else {
		need = true;
	}
	if (need && write(vq->kick_fd, &one, sizeof(one)) == sizeof(one))
		vq->kicks++;
	return need;
}

/*
 * The device has used the slot at next_used when its AVAIL and USED flags
 * both equal our used wrap counter. It wrote one descriptor for the whole
 * chain, so we move on by the slots that buffer's chain took (known by its
 * id), flipping the counter as we pass the end.
 */
static void *vmq_packed_get(struct vmq_gvq *vq, uint32_t *len)
{
	struct vring_packed_desc *d = &vq->desc[vq->next_used];
	uint16_t flags = RD16(&d->flags), id, n;
	bool avail = flags & VMQ_PACKED_AVAIL, used = flags & VMQ_PACKED_USED;
	void *token;

	if (avail != vq->used_wrap || used != vq->used_wrap)
		return NULL;
	/* id and len only after the flags that say they are written */
	rmb();
	id = d->id;
	/* the device returned a buffer we never posted */
	if (id >= vq->num || !vq->token[id])
		abort();
	if (len)
		*len = d->len;
	token = vq->token[id];
	n = vq->ndesc[id];
	vq->next_used += n;
	if (vq->next_used >= vq->num) {
		vq->next_used -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->num_free += n;
	vq->token[id] = NULL;
	vq->id_next[id] = vq->free_id;
	vq->free_id = id;
	return token;
}

/*
 * With event idx, ask for an interrupt when the device writes the used
 * descriptor at our next used position (off_wrap before the flags that
 * make the device read it); without, at every used buffer.
 */
static void vmq_packed_enable_cb(struct vmq_gvq *vq)
{
	if (vq->event_idx) {
		WR16(&vq->driver->off_wrap,
		     vmq_packed_pos(vq->next_used, vq->used_wrap));
		/* the position before the flags that make it count */
		wmb();
		WR16(&vq->driver->flags, VRING_PACKED_EVENT_FLAG_DESC);
	} else {
		WR16(&vq->driver->flags, VRING_PACKED_EVENT_FLAG_ENABLE);
	}
	/* the request before we look at the ring again */
	mb();
}

/*
 * Post a chain of @out device-readable then @in device-writable buffers,
 * directly or through an indirect table. Returns 0 or -ENOSPC.
 */
int vmq_gvq_add(struct vmq_gvq *vq, const struct vmq_gbuf *bufs,
		unsigned int out, unsigned int in, void *token, bool indirect)
{
	struct vring_desc *desc = vq->vring.desc;
	unsigned int total = out + in, need = indirect ? 1 : total, k;
	uint16_t head = vq->free_head, i = head;

	if (vq->packed)
		return vmq_packed_add(vq, bufs, out, in, token, indirect);
	if (!total || vq->num_free < need)
		return -ENOSPC;
	if (indirect) {
		struct vring_desc *t = vmq_gvq_table(vq, head, total);

		if (!t)
			return -ENOMEM;
		for (k = 0; k < total; k++) {
			vmq_gvq_fill(vq, &t[k], &bufs[k], k >= out,
				     k + 1 < total);
			t[k].next = k + 1;
		}
		desc[head].addr = vmq_gpa(vq->g, t);
		desc[head].len = 16 * total;
		desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = desc[head].next;
	} else {
		for (k = 0; k < total; k++) {
			vmq_gvq_fill(vq, &desc[i], &bufs[k], k >= out,
				     k + 1 < total);
			i = desc[i].next;
		}
		vq->free_head = i;
	}
	vq->num_free -= need;
	vq->token[head] = token;
	vq->ndesc[head] = need;
	vq->vring.avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	/* the entry before the idx that publishes it */
	wmb();
	vq->avail_idx++;
	WR16(&vq->vring.avail->idx, vq->avail_idx);
	return 0;
}

/* Tell the device about new buffers, if it asked to be told. */
bool vmq_gvq_kick(struct vmq_gvq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	uint64_t one = 1;
	bool need;

	if (vq->packed)
		return vmq_packed_kick(vq);
	/* avail idx before reading the device's flags or avail_event */
	mb();
	vq->kicked_idx = new;
	if (vq->event_idx)
		need = vring_need_event(RD16(vmq_avail_event(vq)), new, old);
	else
		need = !(RD16(&vq->vring.used->flags) & VRING_USED_F_NO_NOTIFY);
	if (need && write(vq->kick_fd, &one, sizeof(one)) == sizeof(one))
		vq->kicks++;
	return need;
}

static void vmq_gvq_free(struct vmq_gvq *vq, uint16_t head)
{
	struct vring_desc *desc = vq->vring.desc;
	unsigned int n = vq->ndesc[head], k;
	uint16_t i = head;

	for (k = 1; k < n; k++)
		i = desc[i].next;
	desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
	vq->token[head] = NULL;
}

/* The next used buffer's token and written length, or NULL. */
void *vmq_gvq_get(struct vmq_gvq *vq, uint32_t *len)
{
	struct vring_used_elem *e;
	void *token;
	uint16_t head;

	if (vq->packed)
		return vmq_packed_get(vq, len);
	if (RD16(&vq->vring.used->idx) == vq->last_used)
		return NULL;
	/* the entry only after the idx that covers it */
	rmb();
	e = &vq->vring.used->ring[vq->last_used & (vq->num - 1)];
	head = e->id;
	if (head >= vq->num || !vq->token[head])
		abort();	/* the device returned a buffer we never posted */
	if (len)
		*len = e->len;
	token = vq->token[head];
	vmq_gvq_free(vq, head);
	vq->last_used++;
	return token;
}

void vmq_gvq_enable_cb(struct vmq_gvq *vq)
{
	if (vq->packed) {
		vmq_packed_enable_cb(vq);
		return;
	}
	if (vq->event_idx)
		WR16(vmq_used_event(vq), vq->last_used);
	else
		WR16(&vq->vring.avail->flags, 0);
	/* the request before we look at used idx again */
	mb();
}

void vmq_gvq_disable_cb(struct vmq_gvq *vq)
{
	/*
	 * A packed ring says DISABLE with event idx too: an off_wrap left
	 * behind comes round again after 2 * num used slots, where a split
	 * ring's used event waits out 65536.
	 */
	if (vq->packed)
		WR16(&vq->driver->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	else if (!vq->event_idx)
		WR16(&vq->vring.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

uint64_t vmq_eventfd_read(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Wait for an interrupt; 1 if one came, 0 on timeout. */
int vmq_gvq_wait(struct vmq_gvq *vq, int timeout_ms)
{
	struct pollfd p = { .fd = vq->call_fd, .events = POLLIN };
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r > 0)
		vmq_eventfd_read(vq->call_fd);
	return r > 0;
}

/* Reap one buffer, waiting up to @timeout_ms for the device. */
void *vmq_gvq_get_wait(struct vmq_gvq *vq, uint32_t *len, int timeout_ms)
{
	void *token;

	for (;;) {
		token = vmq_gvq_get(vq, len);
		if (token)
			return token;
		vmq_gvq_enable_cb(vq);
		token = vmq_gvq_get(vq, len);
		if (token)
			return token;
		if (!vmq_gvq_wait(vq, timeout_ms))
			return vmq_gvq_get(vq, len);
	}
}

int vmq_vhost_set_mem(int fd, const struct vmq_guest *g)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region region;
	} m = {
		.hdr.nregions = 1,
		.region = {
			.guest_phys_addr = g->gpa,
			.memory_size = g->size,
			.userspace_addr = (uintptr_t)g->base,
		},
	};

	return ioctl(fd, VHOST_SET_MEM_TABLE, &m) ? -errno : 0;
}

/* the VMM's address of part of a ring, or its IOVA (as QEMU gives) */
static uint64_t vmq_ring_addr(const struct vmq_gvq *vq, const void *p)
{
	return vq->g->platform ? vmq_gpa(vq->g, p) : (uintptr_t)p;
}

int vmq_vhost_setup_vq(int fd, struct vmq_gvq *vq)
{
	struct vhost_vring_state num = { vq->index, vq->num };
	struct vhost_vring_state base = { vq->index, vq->base };
	/*
	 * A packed ring's three parts go where a split ring's desc, avail
	 * and used do; the device area, which the device writes, is logged
	 * (QEMU's choice) as the used ring is.
	 */
	const void *desc = vq->packed ? (const void *)vq->desc :
					(const void *)vq->vring.desc;
	const void *avail = vq->packed ? (const void *)vq->driver :
					 (const void *)vq->vring.avail;
	const void *used = vq->packed ? (const void *)vq->device :
					(const void *)vq->vring.used;
	struct vhost_vring_addr addr = {
		.index = vq->index,
		.desc_user_addr = vmq_ring_addr(vq, desc),
		.avail_user_addr = vmq_ring_addr(vq, avail),
		.used_user_addr = vmq_ring_addr(vq, used),
		.log_guest_addr = vmq_gpa(vq->g, used),
	};
	struct vhost_vring_file kick = { vq->index, vq->kick_fd };
	struct vhost_vring_file call = { vq->index, vq->call_fd };
	struct vhost_vring_file err = { vq->index, vq->err_fd };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) ||
	    ioctl(fd, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) ||
	    ioctl(fd, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &call) ||
	    ioctl(fd, VHOST_SET_VRING_ERR, &err))
		return -errno;
	return 0;
}

int vmq_vhost_set_backend(int fd, unsigned int index, int backend_fd)
{
	struct vhost_vring_file f = { index, backend_fd };

	return ioctl(fd, VHOST_NET_SET_BACKEND, &f) ? -errno : 0;
}

int vmq_vhost_iotlb(int fd, uint8_t type, uint64_t iova, uint64_t size,
		    uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.type = type;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = perm;
	n = write(fd, &m, sizeof(m));
	if (n == sizeof(m))
		return 0;
	return n < 0 ? -errno : -EIO;
}

int vmq_vhost_iotlb_miss(int fd, uint64_t *iova, uint8_t *perm,
			 int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct vhost_msg_v2 m;
	ssize_t n;

	for (;;) {
		n = poll(&p, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ETIMEDOUT;
		n = read(fd, &m, sizeof(m));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -errno;
		if (n != sizeof(m) || m.type != VHOST_IOTLB_MSG_V2 ||
		    m.iotlb.type != VHOST_IOTLB_MISS)
			return -EPROTO;
		*iova = m.iotlb.iova;
		*perm = m.iotlb.perm;
		return 0;
	}
}

int vmq_vhost_iotlb_map_guest(int fd, const struct vmq_guest *g)
{
	return vmq_vhost_iotlb(fd, VHOST_IOTLB_UPDATE, g->iova, g->size,
			       (uintptr_t)g->base, VHOST_ACCESS_RW);
}

/*
 * With ACCESS_PLATFORM in @features: IOTLB messages in the v2 format, the
 * device given IOVAs, all memory mapped before any ring is used.
 */
static int vmq_guest_platform(int fd, struct vmq_guest *g, uint64_t features)
{
	uint64_t v2 = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;

	if (!(features & (1ULL << VIRTIO_F_ACCESS_PLATFORM)))
		return 0;
	g->platform = true;
	if (ioctl(fd, VHOST_SET_BACKEND_FEATURES, &v2))
		return -errno;
	return vmq_vhost_iotlb_map_guest(fd, g);
}

/* A ring of the layout and with the event idx @features choose. */
static int vmq_gvq_init_features(struct vmq_gvq *vq, struct vmq_guest *g,
				 unsigned int index, uint32_t num,
				 uint64_t features)
{
	bool evidx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);

	if (features & (1ULL << VIRTIO_F_RING_PACKED))
		return vmq_gvq_init_packed(vq, g, index, num, evidx);
	return vmq_gvq_init(vq, g, index, num, evidx);
}

int vmq_gpair_start(struct vmq_gpair *p, int fd, uint64_t features,
		    size_t mem, uint64_t gpa, uint32_t num, int backend)
{
	int r;

	if (ioctl(fd, VHOST_SET_OWNER, NULL) ||
	    ioctl(fd, VHOST_SET_FEATURES, &features))
		return -errno;
	r = vmq_guest_init(&p->g, mem, gpa);
	if (!r)
		r = vmq_guest_platform(fd, &p->g, features);
	if (!r)
		r = vmq_gvq_init_features(&p->rx, &p->g, 0, num, features);
	if (!r)
		r = vmq_gvq_init_features(&p->tx, &p->g, 1, num, features);
	if (!r)
		r = vmq_vhost_set_mem(fd, &p->g);
	if (!r)
		r = vmq_vhost_setup_vq(fd, &p->rx);
	if (!r)
		r = vmq_vhost_setup_vq(fd, &p->tx);
	if (!r)
		r = vmq_vhost_set_backend(fd, 0, backend);
	if (!r)
		r = vmq_vhost_set_backend(fd, 1, backend);
	return r;
}

void vmq_gpair_destroy(struct vmq_gpair *p)
{
	vmq_gvq_destroy(&p->rx);
	vmq_gvq_destroy(&p->tx);
	vmq_guest_destroy(&p->g);
}

/* The rings of @npairs pairs and the control vq, in d->g. */
static int vmq_gdev_init_vqs(struct vmq_gdev *d, unsigned int npairs,
			     uint32_t num, uint64_t features)
{
	unsigned int k;
	int r = 0;

	d->cmd = vmq_guest_alloc(&d->g, 64, 8);
	for (k = 0; k < npairs && !r; k++) {
		r = vmq_gvq_init_features(&d->rx[k], &d->g, 2 * k, num,
					  features);
		if (!r) {
			r = vmq_gvq_init_features(&d->tx[k], &d->g, 2 * k + 1,
						  num, features);
			if (r)
				vmq_gvq_destroy(&d->rx[k]);
		}
		if (!r)
			d->npairs++;
	}
	if (!r)
		r = vmq_gvq_init_features(&d->ctrl, &d->g, 2 * npairs, 64,
					  features);
	return r;
}

int vmq_gdev_start(struct vmq_gdev *d, int fd, unsigned int npairs,
		   uint64_t features, size_t mem, uint64_t gpa, uint32_t num,
		   const int *backends)
{
	unsigned int k;
	int r;

	memset(d, 0, sizeof(*d));
	d->change_fd = -1;
	if (npairs > VMQ_GDEV_MAX_PAIRS)
		return -EINVAL;
	if (ioctl(fd, VHOST_MQ_SET_PAIRS, &npairs) ||
	    ioctl(fd, VHOST_SET_OWNER, NULL) ||
	    ioctl(fd, VHOST_SET_FEATURES, &features))
		return -errno;
	r = vmq_guest_init(&d->g, mem, gpa);
	if (!r)
		r = vmq_guest_platform(fd, &d->g, features);
	if (r)
		return r;
	r = vmq_gdev_init_vqs(d, npairs, num, features);
	if (r) {
		vmq_gdev_destroy(d);
		return r;
	}
	d->change_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->change_fd < 0)
		r = -errno;
	if (!r)
		r = vmq_vhost_set_mem(fd, &d->g);
	for (k = 0; k < npairs && !r; k++) {
		r = vmq_vhost_setup_vq(fd, &d->rx[k]);
		if (!r)
			r = vmq_vhost_setup_vq(fd, &d->tx[k]);
		if (!r)
			r = vmq_vhost_set_backend(fd, 2 * k, backends[k]);
		if (!r)
			r = vmq_vhost_set_backend(fd, 2 * k + 1, backends[k]);
	}
	if (!r)
		r = vmq_vhost_setup_vq(fd, &d->ctrl);
	if (!r)
		r = vmq_vhost_set_backend(fd, 2 * npairs, d->change_fd);
	return r;
}

int vmq_vdpa_status(int fd, uint8_t add)
{
	uint8_t s, now;

	if (ioctl(fd, VHOST_VDPA_GET_STATUS, &s))
		return -errno;
	s |= add;
	if (ioctl(fd, VHOST_VDPA_SET_STATUS, &s) ||
	    ioctl(fd, VHOST_VDPA_GET_STATUS, &now))
		return -errno;
	return (now & add) == add ? 0 : -EIO;
}

int vmq_vdpa_enable(int fd, unsigned int idx, bool on)
{
	struct vhost_vring_state s = { idx, on };

	return ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s) ? -errno : 0;
}

/* One vring as QEMU sets it up again: from the base the device kept. */
static int vmq_vdpa_setup_vq(int fd, struct vmq_gvq *vq)
{
	struct vhost_vring_state base = { vq->index, 0 };
	int r;

	if (ioctl(fd, VHOST_GET_VRING_BASE, &base))
		return -errno;
	/*
	 * A fresh device kept nothing and says 0: start where the ring does
	 * (for a packed one, 0 would be both wrap counters 0).
	 */
	if (!base.num)
		base.num = vq->base;
	r = vmq_vhost_setup_vq(fd, vq);
	if (!r && ioctl(fd, VHOST_SET_VRING_BASE, &base))
		r = -errno;
	if (!r)
		r = vmq_vdpa_enable(fd, vq->index, true);
	return r;
}

int vmq_gdev_vdpa_run(struct vmq_gdev *d, int fd, uint64_t features)
{
	uint64_t bf = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		      (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	/* without MQ the guest has one pair, and its control vq is vring 2 */
	bool mq = features & (1ULL << VIRTIO_NET_F_MQ);
	unsigned int k, np = mq ? d->npairs : 1;
	int r;

	d->ctrl.index = 2 * np;
	r = vmq_vdpa_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			    VIRTIO_CONFIG_S_DRIVER);
	if (r)
		return r;
	if (ioctl(fd, VHOST_SET_FEATURES, &features))
		return -errno;
	r = vmq_vdpa_status(fd, VIRTIO_CONFIG_S_FEATURES_OK);
	if (r)
		return r;
	if (ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf))
		return -errno;
	for (k = 0; k < np && !r; k++) {
		r = vmq_vdpa_setup_vq(fd, &d->rx[k]);
		if (!r)
			r = vmq_vdpa_setup_vq(fd, &d->tx[k]);
	}
	if (!r)
		r = vmq_vdpa_setup_vq(fd, &d->ctrl);
	if (!r)
		r = vmq_vhost_iotlb(fd, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	if (!r)
		r = vmq_vhost_iotlb_map_guest(fd, &d->g);
	if (!r)
		r = vmq_vhost_iotlb(fd, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
	if (!r)
		r = vmq_vdpa_status(fd, VIRTIO_CONFIG_S_DRIVER_OK);
	return r;
}

int vmq_gdev_vdpa_stop(struct vmq_gdev *d, int fd)
{
	uint8_t s = 0;

	if (ioctl(fd, VHOST_VDPA_SET_STATUS, &s))
		return -errno;
	return vmq_vhost_iotlb(fd, VHOST_IOTLB_INVALIDATE, d->g.iova,
			       d->g.size, 0, 0);
}

int vmq_gdev_start_vdpa(struct vmq_gdev *d, int fd, unsigned int npairs,
			uint64_t features, size_t mem, uint64_t gpa,
			uint32_t num, const int *taps, const uint8_t *mac)
{
	struct vhost_mq_vdpa a = {
		.pairs = npairs,
		.fds = (uintptr_t)taps,
		.mtu = 1500,
	};
	int r;

	memset(d, 0, sizeof(*d));
	d->change_fd = -1;
	if (npairs > VMQ_GDEV_MAX_PAIRS)
		return -EINVAL;
	memcpy(a.mac, mac, sizeof(a.mac));
	if (ioctl(fd, VHOST_MQ_SET_VDPA, &a) ||
	    ioctl(fd, VHOST_SET_OWNER, NULL))
		return -errno;
	r = vmq_guest_init(&d->g, mem, gpa);
	if (r)
		return r;
	d->g.platform = true;
	r = vmq_gdev_init_vqs(d, npairs, num, features);
	if (!r)
		r = vmq_gdev_vdpa_run(d, fd, features);
	return r;
}

void vmq_gdev_destroy(struct vmq_gdev *d)
{
	unsigned int k;

	for (k = 0; k < d->npairs; k++) {
		vmq_gvq_destroy(&d->rx[k]);
		vmq_gvq_destroy(&d->tx[k]);
	}
	if (d->ctrl.num)
		vmq_gvq_destroy(&d->ctrl);
	if (d->change_fd >= 0)
		close(d->change_fd);
	if (d->g.base)
		vmq_guest_destroy(&d->g);
	memset(d, 0, sizeof(*d));
	d->change_fd = -1;
}

int vmq_gctrl_cmd(struct vmq_gdev *d, uint8_t class, uint8_t cmd,
		  const void *data, size_t len, int timeout_ms)
{
	struct vmq_gbuf bufs[3];
	unsigned int out = 1;
	uint8_t *ack;

	if (len > 32)
		return -EINVAL;
	d->cmd[0] = class;
	d->cmd[1] = cmd;
	bufs[0] = (struct vmq_gbuf){ d->cmd, 2 };
	if (len) {
		memcpy(d->cmd + 8, data, len);
		bufs[out++] = (struct vmq_gbuf){ d->cmd + 8, len };
	}
	ack = d->cmd + 48;
	*ack = 0xee;
	bufs[out] = (struct vmq_gbuf){ ack, 1 };
	if (vmq_gvq_add(&d->ctrl, bufs, out, 1, ack, false))
		return -ENOSPC;
	vmq_gvq_kick(&d->ctrl);
	if (vmq_gvq_get_wait(&d->ctrl, NULL, timeout_ms) != ack)
		return -ETIMEDOUT;
	return *ack;
}

int vmq_gctrl_set_pairs(struct vmq_gdev *d, uint16_t n, int timeout_ms)
{
	uint8_t le[2] = { n & 0xff, n >> 8 };

	return vmq_gctrl_cmd(d, VIRTIO_NET_CTRL_MQ,
			     VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, le, sizeof(le),
			     timeout_ms);
}
