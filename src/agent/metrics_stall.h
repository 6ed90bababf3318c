/* ALBM agent: stall signals — PSI, major-fault rate and OOM kills, host-wide and per cgroup */
#ifndef ALBM_AGENT_METRICS_STALL_H
#define ALBM_AGENT_METRICS_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/metrics_cgroup.h"
#include "agent/metrics_file.h"
#include "albm/metrics-t.h"

/* One PSI file as the kernel writes it ("some avg10=... total=N", "full ..."). */
struct albm_psi_raw {
	double some_avg10, full_avg10;   /* percent */
	uint64_t some_total, full_total; /* cumulative stall time, µs */
};

/* The counters of one sample; rates come from two of them. */
struct albm_stall_sample {
	uint32_t have; /* ALBM_MET_* bits that were read */
	struct albm_psi_raw host[ALBM_PSI_NRES];
	struct albm_psi_raw cg[ALBM_PSI_NRES];
	uint64_t majfaults; /* cumulative, in the agent's scope */
	uint64_t oom_kills; /* cumulative, in the agent's scope */
};

/*
 * Parse a PSI file's text: the "some" line is required, "full" optional (the
 * system-wide cpu file has none before Linux 5.13: zeros then).  0 or -EINVAL with
 * err naming what (the file) and the line.
 */
int albm_psi_parse(const char *what, const char *text, struct albm_psi_raw *p, char *err,
		   size_t errlen);

/*
 * Read the stall signals that exist; none is required.  Host PSI from
 * proc_dir/pressure/{memory,cpu,io}; the cgroup's from cg->psi_dir (cg may be NULL);
 * major faults and OOM kills from cgs (the cgroup's memory.stat, oom_control or
 * memory.events) when it has them, else, for a host-wide agent or a cgroup without the
 * memory controller, from proc_dir/vmstat.  A source that is missing or unreadable
 * leaves its bit clear; returns how many sources existed but could not be parsed, the
 * last one's reason in err (worth a warning: the kernel's format changed).
 */
int albm_stall_read(const char *proc_dir, const struct albm_cg *cg,
		    const struct albm_cg_sample *cgs, struct albm_filebuf *fb,
		    struct albm_stall_sample *s, char *err, size_t errlen);

/*
 * The optional fields of m from two samples dt_ns apart (prev NULL on the first
 * sample: interval figures and rates 0): PSI avg10 as the kernel has them, the
 * interval's stall share from the totals, major faults per second, OOM kills.
 * Sets m->present.
 */
void albm_stall_fill(const struct albm_stall_sample *prev, const struct albm_stall_sample *cur,
		     uint64_t dt_ns, struct albm_metrics *m);

#endif
