/* ALBM agent: JSON forms of a measurement and of a received report (jansson) */
#ifndef ALBM_AGENT_AGENT_JSON_H
#define ALBM_AGENT_AGENT_JSON_H

#include <jansson.h>

#include "albm/metrics-t.h"
#include "proto/report.h"

/* "ok" / "overloaded" */
const char *albm_agent_state_name(enum albm_agent_state st);

/*
 * The measurement as a JSON object whose keys are the struct albm_metrics field
 * names (name, mem_total_bytes, mem_available_bytes, cpu_util, load1, run_queue,
 * tcp_established, state) plus mem_available_pct.  New reference, never NULL.
 */
json_t *albm_metrics_json(const struct albm_metrics *m);

/* The optional stall signals m has (m->present) added to o: host_psi, cg_psi,
 * majfault_rate, oom_kills (docs/agent.md).  albm_metrics_json() calls it. */
void albm_metrics_json_signals(json_t *o, const struct albm_metrics *m);

/* A decoded report: the metrics keys plus boot_id (16 hex digits), seq,
 * timestamp_ms, interval_ms, version, and unknown_fields when some were skipped. */
json_t *albm_report_json(const struct albm_report *r);

/* Print obj compactly as one line to stdout, flush, and drop the reference. */
void albm_json_print_line(json_t *obj);

#endif
