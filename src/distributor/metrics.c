/* ALBM: albmd's /metrics — Prometheus text exposition format
 *
 * One family per quantity, labelled by service and server; states are exposed as
 * one gauge per possible state (1 for the current one), the Prometheus convention
 * for enums.  Names and labels are documented in docs/albmd.md.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "common/version.h"
#include "distributor/agents.h"
#include "distributor/dataplane_dr.h"
#include "distributor/health.h"
#include "distributor/service.h"
#include "distributor/state.h"

/* Labels are names validated at config/command time ([A-Za-z0-9._-]): no escaping. */

static void family(struct albmd_buf *b, const char *name, const char *type, const char *help)
{
	albmd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef double (*srv_value_fn)(struct albmd *d, struct albmd_server *srv);

/* One family with a sample per server of every service. */
static void per_server(struct albmd *d, struct albmd_buf *b, const char *name, const char *type,
		       const char *help, srv_value_fn fn)
{
	family(b, name, type, help);
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(svc->sched.dests[j]);
			albmd_buf_printf(b, "%s{service=\"%s\",server=\"%s\"} %.17g\n", name,
					 svc->name, srv->name, fn(d, srv));
		}
	}
}

/* Agent measurements: only servers whose agent has reported. */
static void per_agent(struct albmd *d, struct albmd_buf *b, const char *name, const char *help,
		      srv_value_fn fn)
{
	size_t n = strlen(name);

	family(b, name, n > 6 && !strcmp(name + n - 6, "_total") ? "counter" : "gauge", help);
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(svc->sched.dests[j]);
			if (srv->agent && srv->agent->has_report)
				albmd_buf_printf(b, "%s{service=\"%s\",server=\"%s\"} %.17g\n", name,
						 svc->name, srv->name, fn(d, srv));
		}
	}
}

#define SRV_FN(fname, expr)                                                   \
	static double fname(struct albmd *d, struct albmd_server *srv)        \
	{                                                                     \
		(void)d;                                                      \
		return (double)(expr);                                        \
	}
SRV_FN(v_active, srv->dest->activeconns)
SRV_FN(v_total, srv->dest->total_conns)
SRV_FN(v_bytes_in, ALBMD_STAT_GET(srv->st.bytes_in))
SRV_FN(v_bytes_out, ALBMD_STAT_GET(srv->st.bytes_out))
SRV_FN(v_picks, ALBMD_STAT_GET(srv->st.picks))
SRV_FN(v_fail, ALBMD_STAT_GET(srv->st.connect_failures))
SRV_FN(v_retries, ALBMD_STAT_GET(srv->st.retries))
SRV_FN(v_weight, srv->admin == ALBMD_ADMIN_DRAIN ? 0 : srv->weight)
SRV_FN(v_effw, srv->dest->eff_weight)
SRV_FN(v_hcfail, albmd_health_failures(srv))
SRV_FN(v_mem_total, srv->agent->m.mem_total_bytes)
SRV_FN(v_mem_avail, srv->agent->m.mem_available_bytes)
SRV_FN(v_cpu, srv->agent->m.cpu_util)
SRV_FN(v_load1, srv->agent->m.load1)
SRV_FN(v_tcp, srv->agent->m.tcp_established)
SRV_FN(v_agent_ovl, srv->agent->m.state == ALBM_AGENT_OVERLOADED)
SRV_FN(v_age, (double)albmd_agent_age_ms(srv->agent) / 1000.0)
SRV_FN(v_reports, srv->agent->reports)
SRV_FN(v_agent_rej, srv->agent->rejected)

static void server_states(struct albmd *d, struct albmd_buf *b)
{
	family(b, "albm_server_state", "gauge",
	       "Server state (1 for the current one of up, overloaded, drain, down, unknown)");
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(svc->sched.dests[j]);
			enum albmd_state cur = albmd_server_state(d, srv);
			for (int s = ALBMD_ST_UP; s <= ALBMD_ST_UNKNOWN; s++)
				albmd_buf_printf(b, "albm_server_state{service=\"%s\",server=\"%s\","
						 "state=\"%s\"} %d\n", svc->name, srv->name,
						 albmd_state_name(s), cur == (enum albmd_state)s);
		}
	}
}

typedef uint64_t (*svc_value_fn)(struct albmd_service *svc);
#define SVC_FN(fname, expr)                                                   \
	static uint64_t fname(struct albmd_service *svc)                      \
	{                                                                     \
		return (uint64_t)(expr);                                      \
	}
SVC_FN(s_active, ALBMD_STAT_GET(svc->st.conns_active))
SVC_FN(s_total, ALBMD_STAT_GET(svc->st.conns_total))
SVC_FN(s_bytes_in, ALBMD_STAT_GET(svc->st.bytes_in))
SVC_FN(s_bytes_out, ALBMD_STAT_GET(svc->st.bytes_out))
SVC_FN(s_picks, svc->sched.picks)
SVC_FN(s_noserver, ALBMD_STAT_GET(svc->st.no_server))
SVC_FN(s_refused, ALBMD_STAT_GET(svc->st.refused))
SVC_FN(s_retries, ALBMD_STAT_GET(svc->st.retries))
SVC_FN(s_queued, ALBMD_STAT_GET(svc->st.queued))
SVC_FN(s_queued_total, ALBMD_STAT_GET(svc->st.queued_total))
SVC_FN(s_queue_timeouts, ALBMD_STAT_GET(svc->st.queue_timeouts))

static void per_service(struct albmd *d, struct albmd_buf *b, const char *name, const char *type,
			const char *help, svc_value_fn fn)
{
	family(b, name, type, help);
	for (size_t i = 0; i < d->nservices; i++)
		albmd_buf_printf(b, "%s{service=\"%s\",scheduler=\"%s\"} %llu\n", name,
				 d->services[i]->name,
				 d->services[i]->sched.sched ? d->services[i]->sched.sched->name : "",
				 (unsigned long long)fn(d->services[i]));
}

static void global_metrics(struct albmd *d, struct albmd_buf *b)
{
	family(b, "albm_up", "gauge", "1 while albmd runs");
	albmd_buf_printf(b, "albm_up 1\n");
	family(b, "albm_build_info", "gauge", "albmd's version in the label; always 1");
	albmd_buf_printf(b, "albm_build_info{version=\"%s\"} 1\n", albm_version());
	family(b, "albm_uptime_seconds", "gauge", "Seconds since albmd started");
	albmd_buf_printf(b, "albm_uptime_seconds %.3f\n", (double)(albm_now_ms() - d->start_ms) / 1000);
	family(b, "albm_connections", "gauge", "Proxied connections open now");
	albmd_buf_printf(b, "albm_connections %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(d->st.conns_current));
	family(b, "albm_connections_total", "counter", "Client connections accepted");
	albmd_buf_printf(b, "albm_connections_total %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(d->st.conns_total));
	family(b, "albm_connections_refused_total", "counter",
	       "Times accepting paused because the global maxconn was reached");
	albmd_buf_printf(b, "albm_connections_refused_total %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(d->st.conns_refused));
	family(b, "albm_reloads_total", "counter", "Configuration reloads by result");
	albmd_buf_printf(b, "albm_reloads_total{result=\"ok\"} %llu\n",
			 (unsigned long long)d->st.reloads_ok);
	albmd_buf_printf(b, "albm_reloads_total{result=\"failed\"} %llu\n",
			 (unsigned long long)d->st.reloads_failed);
	family(b, "albm_control_commands_total", "counter", "Control commands by result");
	albmd_buf_printf(b, "albm_control_commands_total{result=\"ok\"} %llu\n",
			 (unsigned long long)(d->st.control_commands - d->st.control_errors));
	albmd_buf_printf(b, "albm_control_commands_total{result=\"error\"} %llu\n",
			 (unsigned long long)d->st.control_errors);
	if (!d->agents)
		return;
	family(b, "albm_reports_received_total", "counter", "Agent report datagrams received");
	albmd_buf_printf(b, "albm_reports_received_total %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(d->agents->received));
	family(b, "albm_reports_rejected_total", "counter", "Agent reports rejected, by reason");
	for (int r = 0; r < ALBMD_REJ_COUNT; r++)
		albmd_buf_printf(b, "albm_reports_rejected_total{reason=\"%s\"} %llu\n",
				 albmd_reject_name(r),
				 (unsigned long long)ALBMD_STAT_GET(d->agents->rejected[r]));
}

void albmd_metrics(struct albmd *d, struct albmd_buf *b)
{
	global_metrics(d, b);
	per_service(d, b, "albm_service_connections", "gauge", "Open connections", s_active);
	per_service(d, b, "albm_service_connections_total", "counter", "Connections accepted",
		    s_total);
	per_service(d, b, "albm_service_bytes_in_total", "counter", "Bytes client -> server",
		    s_bytes_in);
	per_service(d, b, "albm_service_bytes_out_total", "counter", "Bytes server -> client",
		    s_bytes_out);
	per_service(d, b, "albm_service_picks_total", "counter", "Scheduler picks", s_picks);
	per_service(d, b, "albm_service_no_server_total", "counter",
		    "Connections closed because no server was available", s_noserver);
	per_service(d, b, "albm_service_refused_total", "counter",
		    "Connections refused by the service maxconn or a full queue (queue-max)",
		    s_refused);
	per_service(d, b, "albm_service_queued", "gauge",
		    "Clients waiting in the queue for a free server", s_queued);
	per_service(d, b, "albm_service_queued_total", "counter",
		    "Clients that had to wait in the queue", s_queued_total);
	per_service(d, b, "albm_service_queue_timeouts_total", "counter",
		    "Clients closed after waiting queue-timeout without a free server",
		    s_queue_timeouts);
	per_service(d, b, "albm_service_retries_total", "counter",
		    "Connect retries on another server", s_retries);
	server_states(d, b);
	per_server(d, b, "albm_server_connections", "gauge", "Active connections", v_active);
	per_server(d, b, "albm_server_connections_total", "counter", "Connections opened", v_total);
	per_server(d, b, "albm_server_bytes_in_total", "counter", "Bytes client -> server", v_bytes_in);
	per_server(d, b, "albm_server_bytes_out_total", "counter", "Bytes server -> client",
		   v_bytes_out);
	per_server(d, b, "albm_server_picks_total", "counter", "Times the scheduler chose it", v_picks);
	per_server(d, b, "albm_server_connect_failures_total", "counter", "Failed connects", v_fail);
	per_server(d, b, "albm_server_retries_total", "counter",
		   "Connections moved to another server after a failed connect", v_retries);
	per_server(d, b, "albm_server_weight", "gauge", "Weight (0 when drained)", v_weight);
	per_server(d, b, "albm_server_effective_weight", "gauge",
		   "Effective weight published by the scheduler", v_effw);
	per_server(d, b, "albm_server_health_check_failures_total", "counter",
		   "Failed active health checks", v_hcfail);
	per_agent(d, b, "albm_agent_mem_total_bytes", "Agent: memory total", v_mem_total);
	per_agent(d, b, "albm_agent_mem_available_bytes", "Agent: memory available", v_mem_avail);
	per_agent(d, b, "albm_agent_cpu_util", "Agent: CPU utilisation 0-1", v_cpu);
	per_agent(d, b, "albm_agent_load1", "Agent: 1-minute load average", v_load1);
	per_agent(d, b, "albm_agent_tcp_established", "Agent: established TCP connections", v_tcp);
	per_agent(d, b, "albm_agent_overloaded", "Agent: 1 when it reports overload", v_agent_ovl);
	per_agent(d, b, "albm_agent_report_age_seconds", "Agent: age of the latest report", v_age);
	per_agent(d, b, "albm_agent_reports_total", "Agent: reports accepted", v_reports);
	per_agent(d, b, "albm_agent_reports_rejected_total",
		  "Agent: authenticated reports rejected as replayed or stale", v_agent_rej);
	albmd_dp_dr_metrics(d, b); /* mode dr: XDP counters (albm_dr_*) */
}
