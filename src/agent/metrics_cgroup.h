/* ALBM agent: cgroup-scoped measurements (v1 memory/cpu/cpuacct controllers, or v2) */
#ifndef ALBM_AGENT_METRICS_CGROUP_H
#define ALBM_AGENT_METRICS_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/metrics_file.h"

/* Where the cgroup file systems are mounted ("" = not mounted). */
struct albm_cg_mounts {
	char memory[PATH_MAX];  /* v1 memory controller */
	char cpu[PATH_MAX];     /* v1 cpu controller (cfs quota) */
	char cpuacct[PATH_MAX]; /* v1 cpuacct controller (usage) */
	char unified[PATH_MAX]; /* cgroup2 */
};

enum albm_cg_version {
	ALBM_CG_V1 = 1,
	ALBM_CG_V2 = 2
};

/* One cgroup, resolved to the directories its files live in ("" = not available). */
struct albm_cg {
	enum albm_cg_version version;
	char path[PATH_MAX];     /* as resolved, for messages and JSON */
	char mem_dir[PATH_MAX];  /* v1: memory.usage_in_bytes...; v2: memory.current... */
	char cpu_dir[PATH_MAX];  /* v1: cpu.cfs_quota_us;         v2: cpu.max */
	char acct_dir[PATH_MAX]; /* v1: cpuacct.usage;           v2: cpu.stat */
	char psi_dir[PATH_MAX];  /* {memory,cpu,io}.pressure: the v2 group itself, or for a
				  * v1 group the cgroup2 group of the same name (hybrid) */
};

/* One reading of a cgroup's counters. */
struct albm_cg_sample {
	int has_mem;
	uint64_t mem_usage;       /* bytes charged, page cache included */
	uint64_t mem_limit;       /* bytes; 0 = no limit */
	uint64_t mem_reclaimable; /* inactive file pages, reclaimable before OOM */
	int has_cpu;
	uint64_t cpu_usage_ns; /* cumulative CPU time of the cgroup */
	double cpu_quota;      /* CPUs the quota allows; 0 = no quota */
	/* Optional (0 when the kernel does not have them): */
	int has_majfault;
	uint64_t majfaults; /* major page faults, cumulative (memory.stat) */
	int has_oom;
	uint64_t oom_kills; /* OOM kills (v1 memory.oom_control, v2 memory.events) */
};

/* Parse /proc/self/mountinfo text; 0 or -ENOENT when no cgroup mount is found. */
int albm_cg_parse_mountinfo(const char *text, struct albm_cg_mounts *mnt, char *err, size_t errlen);

/*
 * Resolve spec to a cgroup:
 *  - an absolute path inside a mount ("/sys/fs/cgroup/memory/albm/s1" for v1, whose
 *    cpu and cpuacct siblings are found by the same relative name, or
 *    "/sys/fs/cgroup/unified/albm/s1" for v2);
 *  - a relative name ("albm/s1"), looked up in the v1 memory hierarchy first, then
 *    in the v2 one.
 * 0, or -ENOENT / -EINVAL with err naming spec and where it was looked for.
 */
int albm_cg_resolve(const struct albm_cg_mounts *mnt, const char *spec, struct albm_cg *cg,
		    char *err, size_t errlen);

/* Read the cgroup's counters; 0 or -errno with err naming the file. */
int albm_cg_read(const struct albm_cg *cg, struct albm_filebuf *fb, struct albm_cg_sample *s,
		 char *err, size_t errlen);

/*
 * Memory the cgroup may still use: limit - (usage - reclaimable), and never more than
 * the host has available.  A cgroup without a limit (or with one above the host's
 * memory) is measured as the host: *total = host_total, *avail = host_avail.
 */
void albm_cg_mem_available(const struct albm_cg_sample *s, uint64_t host_total, uint64_t host_avail,
			   uint64_t *total, uint64_t *avail);

/* CPU utilisation between two readings dt_ns apart, relative to the quota if any,
 * else to ncpu CPUs; 0.0-1.0. */
double albm_cg_cpu_util(const struct albm_cg_sample *prev, const struct albm_cg_sample *cur,
			uint64_t dt_ns, long ncpu);

#endif
