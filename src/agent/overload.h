/* ALBM agent: the overload decision — thresholds with hysteresis over K samples */
#ifndef ALBM_AGENT_OVERLOAD_H
#define ALBM_AGENT_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "proto/metrics_json.h" /* albm_mem_available_pct() */

/*
 * Thresholds.  Percentages are of memory available, of CPU capacity used and of wall
 * time stalled.  A pair (high, low) is a hysteresis band: a sample is bad past the
 * first, good only back past the second.  A signal the agent does not have (no PSI on
 * this kernel, no such file for this cgroup) counts as neither bad nor in the way.
 */
struct albm_overload_cfg {
	double mem_low;       /* a sample is bad below this much memory available */
	double mem_high;      /* ... and good (memory-wise) above this */
	double cpu_high;      /* a sample is bad above this CPU utilisation; 0 = CPU not used */
	double cpu_low;       /* ... and good (CPU-wise) below this */
	double mem_hard;      /* below this: overloaded at once, and "down" for HAProxy; 0 = off */
	double psi_mem_high;  /* memory "full" stall over the interval: bad above; 0 = off */
	double psi_mem_low;   /* ... good below */
	double majfault_high; /* major faults per second: bad above; 0 = off */
	double majfault_low;  /* ... good below */
	unsigned oom_hold;    /* an OOM kill: overloaded at once, and for at least this many
			       * samples; 0 = OOM kills not used */
	unsigned samples;     /* K: consecutive samples needed to change state */
	bool cgroup_scope;    /* set by the agent, not an option: the stall signals of a cgroup-
			       * scoped agent are its cgroup's (cg_psi), never the host's */
};

/* The documented defaults (docs/agent.md).  CPU is not an overload signal by default:
 * a server busy at its CPU share is working, not failing (oom_hold: 5 s at 200 ms). */
#define ALBM_OVERLOAD_CFG_DEFAULT                                                                 \
	{                                                                                         \
		.mem_low = 10, .mem_high = 20, .cpu_high = 0, .cpu_low = 85, .mem_hard = 3,       \
		.psi_mem_high = 10, .psi_mem_low = 2, .majfault_high = 1000, .majfault_low = 100, \
		.oom_hold = 25, .samples = 3                                                      \
	}

/* Why the last bad sample was bad (the first that applies, in this order). */
enum albm_overload_why {
	ALBM_OVL_NONE = 0,
	ALBM_OVL_OOM_KILL,  /* the OOM killer killed a process in the scope */
	ALBM_OVL_MEM_HARD,  /* memory below mem_hard */
	ALBM_OVL_MEMORY,    /* memory below mem_low */
	ALBM_OVL_MEM_STALL, /* memory "full" stall above psi_mem_high */
	ALBM_OVL_MAJFAULTS, /* major-fault rate above majfault_high */
	ALBM_OVL_CPU,       /* CPU above cpu_high */
};

struct albm_overload {
	struct albm_overload_cfg cfg;
	enum albm_agent_state state;
	bool hard;                  /* the last sample was below mem_hard */
	unsigned run;               /* consecutive samples pointing to the other state */
	enum albm_overload_why why; /* of the last bad sample (NONE after a good one) */
	bool have_oom;              /* an OOM-kill count has been seen (the baseline) */
	uint64_t oom_kills;
	unsigned oom_left; /* samples an OOM kill still holds the server overloaded */
};

/* 0, or -EINVAL with err naming the inconsistent thresholds. */
int albm_overload_cfg_check(const struct albm_overload_cfg *c, char *err, size_t errlen);
/* Start in state ok with cfg (already checked). */
void albm_overload_init(struct albm_overload *o, const struct albm_overload_cfg *cfg);

/*
 * Feed one measurement.  ok -> overloaded after K consecutive bad samples (memory
 * available < mem_low, memory stall > psi_mem_high, major faults > majfault_high, or
 * CPU > cpu_high when the CPU rule is on), at once below mem_hard or on an OOM kill;
 * overloaded -> ok after K consecutive good samples (every signal back past its low
 * threshold, none hard, no OOM kill within oom_hold samples).  Returns true when the
 * state changed.
 */
bool albm_overload_update(struct albm_overload *o, const struct albm_metrics *m);

/* "oom-kill", "memory-hard", "memory", "memory-stall", "major-faults", "cpu", "" */
const char *albm_overload_why_name(enum albm_overload_why why);

/*
 * Spare capacity as a weight percentage, 1-100: the smaller of the memory headroom
 * above mem_low and the CPU headroom below cpu_high (below 100 % when the CPU rule is
 * off), each scaled to 0-100 %.
 */
unsigned albm_overload_weight(const struct albm_overload_cfg *c, const struct albm_metrics *m);

#endif
