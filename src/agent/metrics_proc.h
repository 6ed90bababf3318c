/* ALBM agent: host-wide measurements from procfs (meminfo, stat, loadavg, TCP) */
#ifndef ALBM_AGENT_METRICS_PROC_H
#define ALBM_AGENT_METRICS_PROC_H

#include <stddef.h>
#include <stdint.h>

/* Host CPU time counters from the "cpu " line of /proc/stat, in jiffies. */
struct albm_proc_cpu {
	uint64_t busy;  /* user+nice+system+irq+softirq+steal */
	uint64_t total; /* busy + idle + iowait */
};

/*
 * Parsers take the file's text and `what` (its path, for messages).  Each returns
 * 0 or -EINVAL / -ENOENT with err naming the file and the offending line.
 */
/* MemTotal and MemAvailable, in bytes (MemFree+Buffers+Cached when the kernel
 * predates MemAvailable). */
int albm_proc_parse_meminfo(const char *what, const char *text, uint64_t *total, uint64_t *avail,
			    char *err, size_t errlen);
/* The aggregate "cpu" line of /proc/stat. */
int albm_proc_parse_stat(const char *what, const char *text, struct albm_proc_cpu *cpu, char *err,
			 size_t errlen);
/* /proc/loadavg: the 1-minute load average and the run queue (runnable tasks, the
 * "R" of its "R/T" field, as procs_running in /proc/stat). */
int albm_proc_parse_loadavg(const char *what, const char *text, double *load1, uint32_t *runnable,
			    char *err, size_t errlen);
/* Count sockets in state ESTABLISHED in the text of /proc/net/tcp or tcp6;
 * adds to *count. */
int albm_proc_count_tcp(const char *what, const char *text, uint32_t *count, char *err,
			size_t errlen);

/*
 * Count established TCP sockets (IPv4 + IPv6) of this network namespace through
 * NETLINK_SOCK_DIAG, filtering in the kernel.  *nlfd caches the socket (-1 at first).
 * 0 or -errno with err naming the failed call.
 */
int albm_proc_tcp_netlink(int *nlfd, uint32_t *count, char *err, size_t errlen);

/* Busy fraction of the host's CPU time between two readings, 0.0-1.0. */
double albm_proc_cpu_util(const struct albm_proc_cpu *prev, const struct albm_proc_cpu *cur);

#endif
