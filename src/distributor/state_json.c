/* ALBM: albmd's state as JSON — `albmctl list --json`, /api/state, `albmctl stats`
 *
 * Numbers come from the statistics table (stats.c), the agent's measurement from
 * the shared writer (proto/metrics_json.c), a data plane's own objects from its view
 * hooks (dataplane.h); this file adds the names, addresses and states around them.
 */
#include <stdio.h>

#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/ha.h"
#include "distributor/service.h"
#include "distributor/state.h"
#include "distributor/stats.h"
#include "proto/metrics_json.h"
#include "sched/albm_adaptive.h"

json_t *albmd_agent_json(const struct albmd_agent *a)
{
	json_t *o;

	if (!a || !a->has_report)
		return json_null();
	o = albm_metrics_json(&a->m);
	json_object_set_new(o, "report_age_ms", json_integer((json_int_t)albmd_agent_age_ms(a)));
	json_object_set_new(o, "timed_out", json_boolean(a->timed_out));
	return o;
}

/* What the albm scheduler makes of the server, or null under another scheduler. */
static json_t *server_albm_json(const struct albmd_server *srv)
{
	struct albm_adapt_info info;

	if (!srv->dest || albm_adapt_info(&srv->svc->sched, srv->dest, &info) < 0)
		return json_null();
	return json_pack("{s:s, s:f, s:f, s:f, s:I, s:f, s:b}", "state",
			 albm_adapt_state_name(info.state), "capacity", info.capacity, "mem_avail",
			 info.mem_avail, "ramp", info.ramp, "conn_limit",
			 (json_int_t)info.conn_limit, "speed", info.speed, "neighbour",
			 info.neighbour);
}

static json_t *server_json(struct albmd *d, struct albmd_server *srv)
{
	const struct albmd_dataplane_ops *dp = srv->svc->dp;
	struct albmd_stat_at at = { .d = d, .svc = srv->svc, .srv = srv };
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s}", "name", srv->name, "address",
		      albm_addr_format(&srv->addr, abuf, sizeof(abuf)), "state",
		      albmd_state_name(albmd_server_state(d, srv)), "admin",
		      albmd_admin_name(srv->admin));
	albmd_stats_write_json(o, albmd_stats, albmd_nstats, ALBMD_SCOPE_SERVER, &at);
	json_object_set_new(o, "health",
			    !srv->hc ? json_null() : json_string(srv->hc_down ? "down" : "up"));
	json_object_set_new(o, "agent", albmd_agent_json(srv->agent));
	json_object_set_new(o, "albm", server_albm_json(srv));
	if (dp && dp->server_json) /* e.g. "dr": the server's XDP counters */
		json_object_set_new(o, dp->name, dp->server_json(srv) ?: json_null());
	return o;
}

static json_t *service_json(struct albmd *d, struct albmd_service *svc)
{
	struct albmd_stat_at at = { .d = d, .svc = svc };
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o, *servers = json_array();

	for (size_t i = 0; i < svc->sched.ndests; i++)
		json_array_append_new(servers,
				      server_json(d, albmd_dest_server(svc->sched.dests[i])));
	o = json_pack("{s:s, s:s, s:s, s:s}", "name", svc->name, "listen",
		      albm_addr_format(&svc->cfg.listen, abuf, sizeof(abuf)), "mode",
		      albmd_mode_name(svc->cfg.mode), "scheduler",
		      svc->sched.sched ? svc->sched.sched->name : "");
	albmd_stats_write_json(o, albmd_stats, albmd_nstats, ALBMD_SCOPE_SERVICE, &at);
	json_object_set_new(o, "servers", servers);
	if (svc->dp && svc->dp->service_json) /* e.g. "dr": interface, table, XDP counters */
		json_object_set_new(o, svc->dp->name, svc->dp->service_json(svc) ?: json_null());
	return o;
}

json_t *albmd_state_json(struct albmd *d)
{
	json_t *services = json_array();

	for (size_t i = 0; i < d->nservices; i++)
		json_array_append_new(services, service_json(d, d->services[i]));
	return json_pack("{s:o, s:o}", "services", services, "ha", albmd_ha_json(d));
}

json_t *albmd_stats_json(struct albmd *d)
{
	struct albmd_stat_at at = { .d = d };
	json_t *o = json_object();

	albmd_stats_write_json(o, albmd_stats, albmd_nstats, ALBMD_SCOPE_GLOBAL, &at);
	return o;
}
