/* ALBM agent: the overload decision — thresholds with hysteresis over K samples */
#include "agent/overload.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/util.h"

/* A (high, low) band: off at 0, else 0 <= low < high (<= max). */
static bool band_ok(double high, double low, double max)
{
	return high == 0 || (low >= 0 && low < high && high <= max);
}

int albm_overload_cfg_check(const struct albm_overload_cfg *c, char *err, size_t errlen)
{
	if (!(c->mem_hard >= 0 && c->mem_hard <= c->mem_low && c->mem_low < c->mem_high &&
	      c->mem_high <= 100)) {
		albm_seterr(err, errlen,
			    "memory thresholds must satisfy 0 <= --mem-hard (%g) <= "
			    "--mem-low (%g) < --mem-high (%g) <= 100",
			    c->mem_hard, c->mem_low, c->mem_high);
		return -EINVAL;
	}
	if (!band_ok(c->cpu_high, c->cpu_low, 100)) {
		albm_seterr(err, errlen,
			    "CPU thresholds must satisfy 0 <= --cpu-low (%g) < "
			    "--cpu-high (%g) <= 100 (or --cpu-high 0: CPU not used)",
			    c->cpu_low, c->cpu_high);
		return -EINVAL;
	}
	if (!band_ok(c->psi_mem_high, c->psi_mem_low, 100)) {
		albm_seterr(err, errlen,
			    "memory stall thresholds must satisfy 0 <= --psi-mem-low "
			    "(%g) < --psi-mem-high (%g) <= 100 (or --psi-mem-high 0: off)",
			    c->psi_mem_low, c->psi_mem_high);
		return -EINVAL;
	}
	if (!band_ok(c->majfault_high, c->majfault_low, 1e12)) {
		albm_seterr(err, errlen,
			    "major-fault thresholds must satisfy 0 <= --majfault-low "
			    "(%g) < --majfault-high (%g) (or --majfault-high 0: off)",
			    c->majfault_low, c->majfault_high);
		return -EINVAL;
	}
	if (c->samples < 1 || c->samples > 1000) {
		albm_seterr(err, errlen, "--samples %u: must be 1-1000", c->samples);
		return -EINVAL;
	}
	return 0;
}

void albm_overload_init(struct albm_overload *o, const struct albm_overload_cfg *cfg)
{
	memset(o, 0, sizeof(*o));
	o->cfg = *cfg;
	o->state = ALBM_AGENT_OK;
}

const char *albm_overload_why_name(enum albm_overload_why why)
{
	static const char *const names[] = {
		[ALBM_OVL_NONE] = "",
		[ALBM_OVL_OOM_KILL] = "oom-kill",
		[ALBM_OVL_MEM_HARD] = "memory-hard",
		[ALBM_OVL_MEMORY] = "memory",
		[ALBM_OVL_MEM_STALL] = "memory-stall",
		[ALBM_OVL_MAJFAULTS] = "major-faults",
		[ALBM_OVL_CPU] = "cpu",
	};

	return why < ARRAY_SIZE(names) ? names[why] : "";
}

/* The memory PSI the decision uses: a cgroup-scoped agent's cgroup's, a host-wide
 * agent's host's; NULL when the agent has none (or the rule is off). */
static const struct albm_psi *ovl_mem_psi(const struct albm_overload_cfg *c,
					  const struct albm_metrics *m)
{
	if (c->psi_mem_high <= 0)
		return NULL;
	if (m->present & ALBM_MET_CG_PSI(ALBM_PSI_MEMORY))
		return &m->cg_psi[ALBM_PSI_MEMORY];
	if (!c->cgroup_scope && (m->present & ALBM_MET_HOST_PSI(ALBM_PSI_MEMORY)))
		return &m->host_psi[ALBM_PSI_MEMORY];
	return NULL;
}

static bool ovl_majfault_on(const struct albm_overload_cfg *c, const struct albm_metrics *m)
{
	return c->majfault_high > 0 && (m->present & ALBM_MET_MAJFAULT);
}

/* Why this sample is bad, or ALBM_OVL_NONE (the hard limit and OOM kills apart). */
static enum albm_overload_why ovl_bad(const struct albm_overload_cfg *c,
				      const struct albm_metrics *m)
{
	const struct albm_psi *psi = ovl_mem_psi(c, m);

	if (albm_mem_available_pct(m) < c->mem_low)
		return ALBM_OVL_MEMORY;
	if (psi && psi->full_pct > c->psi_mem_high)
		return ALBM_OVL_MEM_STALL;
	if (ovl_majfault_on(c, m) && m->majfault_rate > c->majfault_high)
		return ALBM_OVL_MAJFAULTS;
	if (c->cpu_high > 0 && 100.0 * m->cpu_util > c->cpu_high)
		return ALBM_OVL_CPU;
	return ALBM_OVL_NONE;
}

/* Every signal back past its low threshold. */
static bool ovl_good(const struct albm_overload_cfg *c, const struct albm_metrics *m)
{
	const struct albm_psi *psi = ovl_mem_psi(c, m);

	return albm_mem_available_pct(m) > c->mem_high &&
	       (c->cpu_high <= 0 || 100.0 * m->cpu_util < c->cpu_low) &&
	       (!psi || psi->full_pct < c->psi_mem_low) &&
	       (!ovl_majfault_on(c, m) || m->majfault_rate < c->majfault_low);
}

/* An OOM kill since the last sample (the first count seen is only the baseline). */
static bool ovl_oom_kill(struct albm_overload *o, const struct albm_metrics *m)
{
	bool kill;

	if (!o->cfg.oom_hold || !(m->present & ALBM_MET_OOM_KILLS))
		return false;
	kill = o->have_oom && m->oom_kills > o->oom_kills;
	o->have_oom = true;
	o->oom_kills = m->oom_kills; /* a smaller count (a new cgroup): the new baseline */
	return kill;
}

bool albm_overload_update(struct albm_overload *o, const struct albm_metrics *m)
{
	const struct albm_overload_cfg *c = &o->cfg;
	bool oom = ovl_oom_kill(o, m), held = !oom && o->oom_left, toward_other;
	enum albm_overload_why why;

	o->hard = albm_mem_available_pct(m) < c->mem_hard;
	if (oom)
		o->oom_left = c->oom_hold; /* the samples after this one that it holds */
	else if (held)
		o->oom_left--;
	why = oom ? ALBM_OVL_OOM_KILL : o->hard ? ALBM_OVL_MEM_HARD : ovl_bad(c, m);
	if (why != ALBM_OVL_NONE || o->state == ALBM_AGENT_OK)
		o->why = why; /* while overloaded: the last reason seen */
	if (o->state == ALBM_AGENT_OK)
		toward_other = why != ALBM_OVL_NONE;
	else
		toward_other = ovl_good(c, m) && !o->hard && !oom && !held;
	o->run = toward_other ? o->run + 1 : 0;
	/* Below the hard limit, or after an OOM kill, there is no time to wait for K. */
	if (o->run < c->samples && !((o->hard || oom) && o->state == ALBM_AGENT_OK))
		return false;
	o->state = o->state == ALBM_AGENT_OK ? ALBM_AGENT_OVERLOADED : ALBM_AGENT_OK;
	if (o->state == ALBM_AGENT_OK)
		o->why = ALBM_OVL_NONE;
	o->run = 0;
	return true;
}

unsigned albm_overload_weight(const struct albm_overload_cfg *c, const struct albm_metrics *m)
{
	double cpu_ref = c->cpu_high > 0 ? c->cpu_high : 100.0;
	double mem = (albm_mem_available_pct(m) - c->mem_low) / (100.0 - c->mem_low);
	double cpu = (cpu_ref - 100.0 * m->cpu_util) / cpu_ref;
	double w = 100.0 * ALBM_MIN(mem, cpu);

	if (!(w >= 1.0)) /* also catches NaN */
		return 1;
	return w >= 100.0 ? 100 : (unsigned)lround(w);
}
