/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - the dirty log of migration: one bit per 4 KiB guest page, in a
 * bitmap the VMM gives with VHOST_SET_LOG_BASE, for every guest page the
 * backend writes while VHOST_F_LOG_ALL is negotiated.
 */
#ifndef VMQ_LOG_H
#define VMQ_LOG_H

#include <linux/types.h>

#define VMQ_LOG_PAGE_SIZE	4096ULL

bool vmq_log_access_ok(void __user *log_base, u64 gpa, u64 size);
int vmq_log_write(void __user *log_base, u64 gpa, u64 len);

#endif /* VMQ_LOG_H */
