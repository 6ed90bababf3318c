/* ALBM agent: the overload decision — thresholds with hysteresis over K samples */
#include "agent/overload.h"

#include <errno.h>
#include <math.h>

#include "common/util.h"

int albm_overload_cfg_check(const struct albm_overload_cfg *c, char *err, size_t errlen)
{
	if (!(c->mem_hard >= 0 && c->mem_hard <= c->mem_low && c->mem_low < c->mem_high &&
	      c->mem_high <= 100)) {
		albm_seterr(err, errlen, "memory thresholds must satisfy 0 <= --mem-hard (%g) <= "
			    "--mem-low (%g) < --mem-high (%g) <= 100", c->mem_hard, c->mem_low,
			    c->mem_high);
		return -EINVAL;
	}
	if (!(c->cpu_low >= 0 && c->cpu_low < c->cpu_high && c->cpu_high <= 100)) {
		albm_seterr(err, errlen, "CPU thresholds must satisfy 0 <= --cpu-low (%g) < "
			    "--cpu-high (%g) <= 100", c->cpu_low, c->cpu_high);
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
	o->cfg = *cfg;
	o->state = ALBM_AGENT_OK;
	o->hard = false;
	o->run = 0;
}

bool albm_overload_update(struct albm_overload *o, const struct albm_metrics *m)
{
	const struct albm_overload_cfg *c = &o->cfg;
	double mem = albm_mem_available_pct(m), cpu = 100.0 * m->cpu_util;
	bool toward_other;

	o->hard = mem < c->mem_hard;
	if (o->state == ALBM_AGENT_OK)
		toward_other = mem < c->mem_low || cpu > c->cpu_high;
	else
		toward_other = mem > c->mem_high && cpu < c->cpu_low && !o->hard;
	o->run = toward_other ? o->run + 1 : 0;
	/* Below the hard limit there is no time to wait for K samples. */
	if (o->run < c->samples && !(o->hard && o->state == ALBM_AGENT_OK))
		return false;
	o->state = o->state == ALBM_AGENT_OK ? ALBM_AGENT_OVERLOADED : ALBM_AGENT_OK;
	o->run = 0;
	return true;
}

unsigned albm_overload_weight(const struct albm_overload_cfg *c, const struct albm_metrics *m)
{
	double mem = (albm_mem_available_pct(m) - c->mem_low) / (100.0 - c->mem_low);
	double cpu = (c->cpu_high - 100.0 * m->cpu_util) / c->cpu_high;
	double w = 100.0 * ALBM_MIN(mem, cpu);

	if (!(w >= 1.0)) /* also catches NaN */
		return 1;
	return w >= 100.0 ? 100 : (unsigned)lround(w);
}
