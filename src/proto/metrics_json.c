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

/* ---- the optional stall signals (report version 2) ----
 * Kept apart from the base keys so that a shared metrics -> JSON writer can take the
 * block as it is.  Only what the agent measured appears: "host_psi" and "cg_psi" are
 * objects {"memory", "cpu", "io"} of {some_avg10, full_avg10, some_pct, full_pct}. */
static json_t *psi_json(const struct albm_psi *psi, uint32_t present, uint32_t (*bit)(int))
{
	static const char *const res[ALBM_PSI_NRES] = { "memory", "cpu", "io" };
	json_t *o = json_object();

	for (int r = 0; r < ALBM_PSI_NRES; r++)
		if (present & bit(r))
			json_object_set_new(
				o, res[r],
				json_pack("{s:f, s:f, s:f, s:f}", "some_avg10", psi[r].some_avg10,
					  "full_avg10", psi[r].full_avg10, "some_pct",
					  psi[r].some_pct, "full_pct", psi[r].full_pct));
	return o;
}

static uint32_t host_bit(int r)
{
	return ALBM_MET_HOST_PSI(r);
}

static uint32_t cg_bit(int r)
{
	return ALBM_MET_CG_PSI(r);
}

void albm_metrics_json_signals(json_t *o, const struct albm_metrics *m)
{
	const uint32_t host_all =
		ALBM_MET_HOST_PSI(0) | ALBM_MET_HOST_PSI(1) | ALBM_MET_HOST_PSI(2);
	const uint32_t cg_all = ALBM_MET_CG_PSI(0) | ALBM_MET_CG_PSI(1) | ALBM_MET_CG_PSI(2);

	if (m->present & host_all)
		json_object_set_new(o, "host_psi", psi_json(m->host_psi, m->present, host_bit));
	if (m->present & cg_all)
		json_object_set_new(o, "cg_psi", psi_json(m->cg_psi, m->present, cg_bit));
	if (m->present & ALBM_MET_MAJFAULT)
		json_object_set_new(o, "majfault_rate", json_real(m->majfault_rate));
	if (m->present & ALBM_MET_OOM_KILLS)
		json_object_set_new(o, "oom_kills", json_integer((json_int_t)m->oom_kills));
}

json_t *albm_metrics_json(const struct albm_metrics *m)
{
	json_t *o =
		json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:s}", "name", m->name,
			  "mem_total_bytes", (json_int_t)m->mem_total_bytes, "mem_available_bytes",
			  (json_int_t)m->mem_available_bytes, "mem_available_pct",
			  albm_mem_available_pct(m), "cpu_util", m->cpu_util, "load1", m->load1,
			  "run_queue", (json_int_t)m->run_queue, "tcp_established",
			  (json_int_t)m->tcp_established, "state", albm_agent_state_name(m->state));

	if (!o) { /* only on out-of-memory (or a name that is not UTF-8: not ours) */
		fprintf(stderr, "albm: out of memory building JSON\n");
		abort();
	}
	albm_metrics_json_signals(o, m);
	return o;
}
