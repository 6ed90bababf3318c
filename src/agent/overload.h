/* ALBM agent: the overload decision — thresholds with hysteresis over K samples */
#ifndef ALBM_AGENT_OVERLOAD_H
#define ALBM_AGENT_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "albm/metrics-t.h"
#include "proto/metrics_json.h" /* albm_mem_available_pct() */

/* Thresholds in percent (of memory available, of CPU capacity used). */
struct albm_overload_cfg {
	double mem_low;   /* a sample is bad below this much memory available */
	double mem_high;  /* ... and good (memory-wise) above this */
	double cpu_high;  /* a sample is bad above this CPU utilisation */
	double cpu_low;   /* ... and good (CPU-wise) below this */
	double mem_hard;  /* below this: overloaded at once, and "down" for HAProxy; 0 = off */
	unsigned samples; /* K: consecutive samples needed to change state */
};

/* The documented defaults (docs/agent.md). */
#define ALBM_OVERLOAD_CFG_DEFAULT                                                       \
	{ .mem_low = 10, .mem_high = 20, .cpu_high = 95, .cpu_low = 85, .mem_hard = 3,  \
	  .samples = 3 }

struct albm_overload {
	struct albm_overload_cfg cfg;
	enum albm_agent_state state;
	bool hard;    /* the last sample was below mem_hard */
	unsigned run; /* consecutive samples pointing to the other state */
};

/* 0, or -EINVAL with err naming the inconsistent thresholds. */
int albm_overload_cfg_check(const struct albm_overload_cfg *c, char *err, size_t errlen);
/* Start in state ok with cfg (already checked). */
void albm_overload_init(struct albm_overload *o, const struct albm_overload_cfg *cfg);

/*
 * Feed one measurement: ok -> overloaded after K consecutive samples with memory
 * available < mem_low or CPU > cpu_high (at once when memory < mem_hard);
 * overloaded -> ok after K consecutive samples with memory > mem_high and
 * CPU < cpu_low.  Returns true when the state changed.
 */
bool albm_overload_update(struct albm_overload *o, const struct albm_metrics *m);

/*
 * Spare capacity as a weight percentage, 1-100: the smaller of the memory headroom
 * above mem_low and the CPU headroom below cpu_high, each scaled to 0-100 %.
 */
unsigned albm_overload_weight(const struct albm_overload_cfg *c, const struct albm_metrics *m);

#endif
