/* ALBM: the JSON form of an agent measurement, shared by albm-agent and albmd */
#include "proto/metrics_json.h"

#include <stdio.h>
#include <stdlib.h>

const char *albm_agent_state_name(enum albm_agent_state st)
{
	return st == ALBM_AGENT_OVERLOADED ? "overloaded" : "ok";
}

double albm_mem_available_pct(const struct albm_metrics *m)
{
	if (!m->mem_total_bytes)
		return 0.0;
	return 100.0 * (double)m->mem_available_bytes / (double)m->mem_total_bytes;
}

json_t *albm_metrics_json(const struct albm_metrics *m)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:s}",
			      "name", m->name,
			      "mem_total_bytes", (json_int_t)m->mem_total_bytes,
			      "mem_available_bytes", (json_int_t)m->mem_available_bytes,
			      "mem_available_pct", albm_mem_available_pct(m),
			      "cpu_util", m->cpu_util,
			      "load1", m->load1,
			      "run_queue", (json_int_t)m->run_queue,
			      "tcp_established", (json_int_t)m->tcp_established,
			      "state", albm_agent_state_name(m->state));

	if (!o) { /* only on out-of-memory (or a name that is not UTF-8: not ours) */
		fprintf(stderr, "albm: out of memory building JSON\n");
		abort();
	}
	return o;
}
