/* ALBM: albmd's state views — JSON (list --json, /api/state), table, stats */
#ifndef ALBM_DISTRIBUTOR_STATE_H
#define ALBM_DISTRIBUTOR_STATE_H

#include <jansson.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"

/* All called with d->lock held. */

/* {"services": [{"name", "listen", "mode", "scheduler", counters..., "servers": [...],
 * and the plane's object under its name, e.g. "dr"}], "ha": the group (ha.h) or null} */
json_t *albmd_state_json(struct albmd *d);
/* The measurement keys of albm-agent --json (the shared albm_metrics_json()) plus
 * report_age_ms and timed_out; JSON null without a report. */
json_t *albmd_agent_json(const struct albmd_agent *a);
/* The ipvsadm -L -n like table of `albmctl list`. */
void albmd_state_table(struct albmd *d, struct albmd_buf *out);
/* `albmctl stats`: global counters as JSON. */
json_t *albmd_stats_json(struct albmd *d);
/* Prometheus text exposition format (/metrics). */
void albmd_metrics(struct albmd *d, struct albmd_buf *out);

#endif
