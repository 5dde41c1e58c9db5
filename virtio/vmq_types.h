/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmq_types.h - the few kernel types the shared virtio/ code uses, so the
 * same source compiles in the module and in userspace.
 */
#ifndef VMQ_TYPES_H
#define VMQ_TYPES_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define BIT(nr)		(1UL << (nr))
#endif

#endif /* VMQ_TYPES_H */
