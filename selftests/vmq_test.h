/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmq_test.h - helpers shared by the selftests that run in the rig VM.
 */
#ifndef VMQ_TEST_H
#define VMQ_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <time.h>
#include <unistd.h>

#define VHOST_NET_PATH	"/dev/vhost-net"
#define VHOST_MQ_PATH	"/dev/vhost-mq"

/* Seconds on the monotonic clock. */
static inline double vmq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Leave a marker in the kernel log, so that a kernel report the rig finds
 * names the test that was running.
 */
static inline void vmq_kmsg_mark(const char *test, const char *on)
{
	char line[256];
	int fd, len;

	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "<6>rig: test %s on %s\n", test, on);
	if (write(fd, line, len) != len)
		perror("rig marker in /dev/kmsg");
	close(fd);
}

/*
 * Does this kernel zero every page it hands out (init_on_alloc, on in
 * Debian's kernel, off in the debug kernel)? Read from the boot line
 * "mem auto-init: ..., heap alloc:on|off"; -1 once the log lost it.
 */
static inline int vmq_kernel_zeroes_pages(void)
{
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), r = -1;
	char *buf, *p;

	if (n <= 0)
		return -1;
	buf = malloc(n + 1);
	if (!buf)
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n > 0) {
		buf[n] = 0;
		p = strstr(buf, "heap alloc:");
		if (p)
			r = !strncmp(p + strlen("heap alloc:"), "on", 2);
	}
	free(buf);
	return r;
}

/*
 * How many tasks have a command name whose first @len characters are
 * @comm's; the pid of the last one found goes to *@pid unless NULL.
 */
static inline int vmq_find_tasks_prefixed(const char *comm, size_t len,
					  int *pid)
{
	char path[300], buf[64];
	struct dirent *de;
	int count = 0;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (!strncmp(buf, comm, len)) {
				count++;
				if (pid)
					*pid = atoi(de->d_name);
			}
		}
		fclose(f);
	}
	closedir(proc);
	return count;
}

/* ... named @comm (at most 15 characters) */
static inline int vmq_find_tasks_named(const char *comm, int *pid)
{
	return vmq_find_tasks_prefixed(comm, 15, pid);
}

static inline int vmq_count_tasks_named(const char *comm)
{
	return vmq_find_tasks_named(comm, NULL);
}

/* Wait up to @ms for the count of tasks named @comm to become @want. */
static inline int vmq_wait_tasks_named(const char *comm, int want, int ms)
{
	int n;

	for (;;) {
		n = vmq_count_tasks_named(comm);
		if (n == want || ms <= 0)
			return n;
		usleep(10000);
		ms -= 10;
	}
}

/* The integer a file starts with, or -1. */
static inline int vmq_read_int(const char *path)
{
	FILE *f = fopen(path, "re");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* References to module @mod (its /sys/module refcnt), -1 if unknown. */
static inline int vmq_module_refcnt(const char *mod)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	return vmq_read_int(path);
}

#endif /* VMQ_TEST_H */
