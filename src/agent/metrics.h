/* ALBM agent: one measurement of the host or of a cgroup, from procfs and cgroupfs */
#ifndef ALBM_AGENT_METRICS_H
#define ALBM_AGENT_METRICS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/metrics_cgroup.h"
#include "agent/metrics_file.h"
#include "agent/metrics_proc.h"
#include "agent/metrics_stall.h"
#include "albm/metrics-t.h"

/*
 * The sampler keeps the previous CPU counters so that each sample reports the CPU
 * utilisation over the interval since the one before.  Memory, load and TCP
 * counts are instantaneous.
 */
struct albm_sampler {
	char proc_dir[PATH_MAX];  /* "/proc", or a directory of fixture copies */
	char name[ALBM_NAME_MAX]; /* copied into every measurement */
	const struct albm_cg *cg; /* NULL: host-wide */
	bool tcp_netlink;         /* count via sock_diag; else proc_dir/net/tcp{,6} */
	uint64_t tcp_every_ns;    /* recount TCP connections at most this often (0: always) */
	uint64_t tcp_next_ns;     /* monotonic time of the next recount */
	uint32_t tcp_count;       /* the last count */
	long ncpu;                /* online CPUs: capacity of a cgroup without quota */
	int nlfd;
	bool have_prev; /* false until the first sample */
	uint64_t prev_ns;
	struct albm_proc_cpu prev_host;
	struct albm_cg_sample prev_cg;
	struct albm_stall_sample prev_stall;
	struct albm_filebuf fb;
};

/*
 * proc_dir "/proc" also selects sock_diag for TCP counting; cg may be NULL.
 * Counting TCP connections walks the kernel's whole established hash table (every
 * bucket, empty or not: 2 MiB on a 24 GiB machine) and costs as much as some twenty
 * samples; the count only informs (the overload decision does not use it), so by
 * default it is refreshed every ALBM_TCP_EVERY_MS (--tcp-every), not every sample.
 */
#define ALBM_TCP_EVERY_MS 5000
void albm_sampler_init(struct albm_sampler *s, const char *name, const char *proc_dir,
		       const struct albm_cg *cg);
void albm_sampler_free(struct albm_sampler *s);

/*
 * Take one measurement at monotonic time now_ns into m (m->state is left as it
 * was: the overload decision is the caller's).  cpu_util, the interval's stall shares
 * and the major-fault rate are 0 on the first sample.  The stall signals (PSI, major
 * faults, OOM kills) are optional: whatever of them exists is in m->present.
 * 0, or -errno with err naming the file or call that failed; s is unchanged then.
 */
int albm_sampler_take(struct albm_sampler *s, uint64_t now_ns, struct albm_metrics *m, char *err,
		      size_t errlen);

#endif
