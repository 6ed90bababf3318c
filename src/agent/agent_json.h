/* ALBM agent: JSON form of a received report (jansson) */
#ifndef ALBM_AGENT_AGENT_JSON_H
#define ALBM_AGENT_AGENT_JSON_H

#include <jansson.h>

#include "albm/metrics-t.h"
#include "proto/metrics_json.h" /* albm_metrics_json(): the measurement */
#include "proto/report.h"

/* A decoded report: the metrics keys plus boot_id (16 hex digits), seq,
 * timestamp_ms, interval_ms, version, and unknown_fields when some were skipped. */
json_t *albm_report_json(const struct albm_report *r);

/* Print obj compactly as one line to stdout, flush, and drop the reference. */
void albm_json_print_line(json_t *obj);

#endif
