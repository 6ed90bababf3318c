/* ALBM: albmd's state as JSON — `albmctl list --json`, /api/state, `albmctl stats` */
#include <stdio.h>

#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/dataplane_dr.h"
#include "distributor/service.h"
#include "distributor/state.h"
#include "sched/albm_adaptive.h"

json_t *albmd_agent_json(const struct albmd_agent *a)
{
	const struct albm_metrics *m;
	uint64_t age;

	if (!a || !a->has_report)
		return json_null();
	m = &a->m;
	age = albmd_agent_age_ms(a);
	return json_pack("{s:s, s:I, s:I, s:f, s:f, s:I, s:I, s:s, s:I, s:b}",
			 "name", m->name,
			 "mem_total_bytes", (json_int_t)m->mem_total_bytes,
			 "mem_available_bytes", (json_int_t)m->mem_available_bytes,
			 "cpu_util", m->cpu_util,
			 "load1", m->load1,
			 "run_queue", (json_int_t)m->run_queue,
			 "tcp_established", (json_int_t)m->tcp_established,
			 "state", m->state == ALBM_AGENT_OVERLOADED ? "overloaded" : "ok",
			 "report_age_ms", (json_int_t)age,
			 "timed_out", a->timed_out);
}

static bool svc_is_dr(const struct albmd_service *svc)
{
	return svc->cfg.mode == ALBMD_MODE_DR;
}

/* What the albm scheduler makes of the server, or null under another scheduler. */
static json_t *server_albm_json(const struct albmd_server *srv)
{
	struct albm_adapt_info info;

	if (!srv->dest || albm_adapt_info(&srv->svc->sched, srv->dest, &info) < 0)
		return json_null();
	return json_pack("{s:s, s:f, s:f, s:f, s:I}",
			 "state", albm_adapt_state_name(info.state),
			 "capacity", info.capacity,
			 "mem_avail", info.mem_avail,
			 "ramp", info.ramp,
			 "conn_limit", (json_int_t)info.conn_limit);
}

static json_t *server_json(struct albmd *d, struct albmd_server *srv)
{
	const struct albm_dest *dest = srv->dest;
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o;

	o = json_pack("{s:s, s:s, s:i, s:f, s:s, s:s, s:I, s:I, s:I, s:I}",
		      "name", srv->name,
		      "address", albm_addr_format(&srv->addr, abuf, sizeof(abuf)),
		      "weight", srv->admin == ALBMD_ADMIN_DRAIN ? 0 : srv->weight,
		      "effective_weight", dest->eff_weight,
		      "state", albmd_state_name(albmd_server_state(d, srv)),
		      "admin", albmd_admin_name(srv->admin),
		      "active_conns", (json_int_t)dest->activeconns,
		      "inactive_conns", (json_int_t)dest->inactconns,
		      "total_conns", (json_int_t)dest->total_conns,
		      "maxconn", (json_int_t)srv->maxconn);
	json_object_set_new(o, "configured_weight", json_integer(srv->weight));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)ALBMD_STAT_GET(srv->st.bytes_in)));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)ALBMD_STAT_GET(srv->st.bytes_out)));
	json_object_set_new(o, "retries", json_integer((json_int_t)ALBMD_STAT_GET(srv->st.retries)));
	json_object_set_new(o, "connect_failures",
			    json_integer((json_int_t)ALBMD_STAT_GET(srv->st.connect_failures)));
	json_object_set_new(o, "health", !srv->hc ? json_null() :
			    json_string(srv->hc_down ? "down" : "up"));
	json_object_set_new(o, "agent", albmd_agent_json(srv->agent));
	json_object_set_new(o, "albm", server_albm_json(srv));
	if (svc_is_dr(srv->svc)) /* XDP counters of the server */
		json_object_set_new(o, "dr", albmd_dp_dr_server_json(srv) ?: json_null());
	return o;
}

static json_t *service_json(struct albmd *d, struct albmd_service *svc)
{
	char abuf[ALBM_ADDRSTRLEN];
	json_t *o, *servers = json_array();

	for (size_t i = 0; i < svc->sched.ndests; i++)
		json_array_append_new(servers, server_json(d, albmd_dest_server(svc->sched.dests[i])));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
		      "name", svc->name,
		      "listen", albm_addr_format(&svc->cfg.listen, abuf, sizeof(abuf)),
		      "mode", albmd_mode_name(svc->cfg.mode),
		      "scheduler", svc->sched.sched ? svc->sched.sched->name : "",
		      "active_conns", (json_int_t)ALBMD_STAT_GET(svc->st.conns_active),
		      "total_conns", (json_int_t)ALBMD_STAT_GET(svc->st.conns_total),
		      "picks", (json_int_t)svc->sched.picks,
		      "no_server", (json_int_t)ALBMD_STAT_GET(svc->st.no_server));
	json_object_set_new(o, "refused", json_integer((json_int_t)ALBMD_STAT_GET(svc->st.refused)));
	json_object_set_new(o, "queued", json_integer((json_int_t)ALBMD_STAT_GET(svc->st.queued)));
	json_object_set_new(o, "queued_total",
			    json_integer((json_int_t)ALBMD_STAT_GET(svc->st.queued_total)));
	json_object_set_new(o, "queue_timeouts",
			    json_integer((json_int_t)ALBMD_STAT_GET(svc->st.queue_timeouts)));
	json_object_set_new(o, "servers", servers);
	if (svc_is_dr(svc)) /* interface, table source, XDP counters */
		json_object_set_new(o, "dr", albmd_dp_dr_service_json(svc) ?: json_null());
	return o;
}

json_t *albmd_state_json(struct albmd *d)
{
	json_t *services = json_array();

	for (size_t i = 0; i < d->nservices; i++)
		json_array_append_new(services, service_json(d, d->services[i]));
	return json_pack("{s:o}", "services", services);
}

json_t *albmd_stats_json(struct albmd *d)
{
	json_t *o = json_object(), *rej = json_object();

	json_object_set_new(o, "uptime_ms", json_integer((json_int_t)(albm_now_ms() - d->start_ms)));
	json_object_set_new(o, "workers", json_integer(d->nworkers));
	json_object_set_new(o, "services", json_integer((json_int_t)d->nservices));
	json_object_set_new(o, "conns_current",
			    json_integer((json_int_t)ALBMD_STAT_GET(d->st.conns_current)));
	json_object_set_new(o, "conns_total", json_integer((json_int_t)ALBMD_STAT_GET(d->st.conns_total)));
	json_object_set_new(o, "conns_refused",
			    json_integer((json_int_t)ALBMD_STAT_GET(d->st.conns_refused)));
	json_object_set_new(o, "reloads_ok", json_integer((json_int_t)d->st.reloads_ok));
	json_object_set_new(o, "reloads_failed", json_integer((json_int_t)d->st.reloads_failed));
	json_object_set_new(o, "control_commands",
			    json_integer((json_int_t)d->st.control_commands));
	json_object_set_new(o, "control_errors", json_integer((json_int_t)d->st.control_errors));
	if (d->agents) {
		json_object_set_new(o, "reports_received",
				    json_integer((json_int_t)ALBMD_STAT_GET(d->agents->received)));
		for (int r = 0; r < ALBMD_REJ_COUNT; r++)
			json_object_set_new(rej, albmd_reject_name(r),
					    json_integer((json_int_t)d->agents->rejected[r]));
	}
	json_object_set_new(o, "reports_rejected", rej);
	return o;
}
