/* ALBM: albmd's Direct Routing data plane — what the state views need from it */
#ifndef ALBM_DISTRIBUTOR_DATAPLANE_DR_H
#define ALBM_DISTRIBUTOR_DATAPLANE_DR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"
#include "dr/dr.h"

/*
 * albmd_dp_dr (the struct albmd_dataplane_ops of `mode dr`) is declared in
 * daemon.h; docs/dr.md describes what it does.  The functions below are for
 * `albmctl list [--json]`, /api/state and /metrics; all are called with d->lock
 * held, from the main thread.
 */

/* One server as the DR data plane sees it. */
struct albmd_dr_view {
	bool in_table;          /* in the XDP real set (available and its MAC known) */
	bool mac_resolved;
	uint8_t mac[6];
	uint32_t table_weight;  /* its weight in the lookup table (0: no new flows) */
	struct dr_real_stats st; /* XDP counters, summed over its times in the table */
};

/* srv's DR state; -ENOENT when srv's service is not a running DR service. */
int albmd_dp_dr_server_view(const struct albmd_server *srv, struct albmd_dr_view *v);
/* {"in_table", "mac", "table_weight", "packets", "bytes", "new_flows", "closed_flows"},
 * or NULL when srv is not served by the DR plane. */
json_t *albmd_dp_dr_server_json(const struct albmd_server *srv);
/* {"interface", "xdp_mode", "table_from", "counters": {name: value}}, or NULL. */
json_t *albmd_dp_dr_service_json(const struct albmd_service *svc);
/* One indented line "     dr: ..." for `albmctl list` (nothing for other planes). */
void albmd_dp_dr_server_text(const struct albmd_server *srv, struct albmd_buf *out);
/* The albm_dr_* families of /metrics (nothing without DR services). */
void albmd_dp_dr_metrics(struct albmd *d, struct albmd_buf *out);

#endif
