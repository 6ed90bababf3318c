/* ALBM: the JSON form of an agent measurement, shared by albm-agent and albmd */
#ifndef ALBM_PROTO_METRICS_JSON_H
#define ALBM_PROTO_METRICS_JSON_H

#include <jansson.h>

#include "albm/metrics-t.h"

/* "ok" / "overloaded" */
const char *albm_agent_state_name(enum albm_agent_state st);

/* Memory available in percent of the total (0 when the total is unknown). */
double albm_mem_available_pct(const struct albm_metrics *m);

/*
 * The measurement as a JSON object whose keys are the struct albm_metrics field
 * names (name, mem_total_bytes, mem_available_bytes, cpu_util, load1, run_queue,
 * tcp_established, state) plus mem_available_pct.  The one writer of this form:
 * `albm-agent --json` and albmd's "agent" objects (`list --json`, /api/state) both
 * call it, so their keys cannot drift apart.  The optional stall signals of report
 * version 2 follow (albm_metrics_json_signals).  New reference, never NULL.
 */
json_t *albm_metrics_json(const struct albm_metrics *m);

/* The optional stall signals m has (m->present) added to o: host_psi, cg_psi,
 * majfault_rate, oom_kills (docs/agent.md).  albm_metrics_json() calls it. */
void albm_metrics_json_signals(json_t *o, const struct albm_metrics *m);

#endif
