/* ALBM: albmd's statistics table and its writers (/metrics, the JSON views)
 *
 * Every value albmd reports is one line below: where it is read, its /metrics
 * family and its JSON key (docs/albmd.md lists them).  Metric names and JSON keys
 * are contracts that scripts rely on: never rename one, add new ones.  Labels are
 * names validated at config/command time ([A-Za-z0-9._-]): no escaping.
 */
#include "distributor/stats.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "distributor/accept_guard.h"
#include "distributor/agents.h"
#include "distributor/ha.h"
#include "distributor/health.h"
#include "distributor/memguard.h"
#include "distributor/service.h"

/* ---- accessors ---- */

#define AT_FN(fname, field, expr)                                                   \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *v) \
	{                                                                           \
		(void)at;                                                           \
		v->field = (expr);                                                  \
		return true;                                                        \
	}
#define U(fname, expr) AT_FN(fname, u, (uint64_t)(expr))
#define F(fname, expr) AT_FN(fname, f, (double)(expr))

/* Agent measurements: only where the server's agent has reported. */
#define AGENT_FN(fname, field, expr)                                                \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *v) \
	{                                                                           \
		const struct albmd_agent *a = at->srv->agent;                       \
		if (!a || !albmd_agent_has_report(a))                               \
			return false;                                               \
		v->field = (expr);                                                  \
		return true;                                                        \
	}

#define D   (at->d)
#define SVC (at->svc)
#define SRV (at->srv)

U(g_up, 1)
F(g_uptime_s, (double)(albm_now_ms() - D->start_ms) / 1000.0)
U(g_uptime_ms, albm_now_ms() - D->start_ms)
U(g_workers, D->nworkers)
U(g_services, D->nservices)
U(g_conns_current, ALBMD_STAT_GET(D->st.conns_current))
U(g_conns_total, ALBMD_STAT_GET(D->st.conns_total))
U(g_conns_refused, ALBMD_STAT_GET(D->st.conns_refused))
U(g_accept_errors, ALBMD_STAT_GET(D->st.accept_errors))
U(g_reloads_ok, D->st.reloads_ok)
U(g_reloads_failed, D->st.reloads_failed)
U(g_control_commands, D->st.control_commands)
U(g_control_ok, D->st.control_commands - D->st.control_errors)
U(g_control_errors, D->st.control_errors)
U(g_refusals, ALBMD_STAT_GET(D->st.refusals[at->i]))
U(g_fd_budget, __atomic_load_n(&D->hot.fd_budget, __ATOMIC_RELAXED))
U(g_pipes, ALBMD_STAT_GET(D->st.pipes))
U(g_mem_limit, albmd_memguard_limit(D))
U(g_mem_working, albmd_memguard_working(D))
U(g_alog_lines, ALBMD_STAT_GET(D->st.alog_lines))
U(g_alog_dropped, ALBMD_STAT_GET(D->st.alog_dropped))

static const char *refusal_name(size_t i)
{
	static const char *const names[ALBMD_REFUSE_COUNT] = {
		[ALBMD_REFUSE_MAXCONN] = "maxconn",
		[ALBMD_REFUSE_FD_HEADROOM] = "fd_headroom",
		[ALBMD_REFUSE_EMFILE] = "emfile",
		[ALBMD_REFUSE_ENFILE] = "enfile",
		[ALBMD_REFUSE_NOMEM] = "nomem",
		[ALBMD_REFUSE_MEMORY] = "memory",
		[ALBMD_REFUSE_BACKEND] = "backend_socket",
	};
	return i < ALBMD_REFUSE_COUNT ? names[i] : "?";
}

static bool g_reports_received(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	if (!at->d->agents)
		return false;
	v->u = ALBMD_STAT_GET(at->d->agents->received);
	return true;
}

static bool g_reports_rejected(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	if (!at->d->agents)
		return false;
	v->u = ALBMD_STAT_GET(at->d->agents->rejected[at->i]);
	return true;
}

static bool g_control_accept_errors(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	v->u = ALBMD_STAT_GET(at->d->st.control_accept_errors[at->i]);
	return true;
}

static bool g_http_accept_errors(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	v->u = ALBMD_STAT_GET(at->d->st.http_accept_errors[at->i]);
	return true;
}

static const char *reject_name(size_t i)
{
	return albmd_reject_name((enum albmd_reject)i);
}

U(s_active, ALBMD_STAT_GET(SVC->st.conns_active))
U(s_total, ALBMD_STAT_GET(SVC->st.conns_total))
U(s_bytes_in, ALBMD_STAT_GET(SVC->st.bytes_in))
U(s_bytes_out, ALBMD_STAT_GET(SVC->st.bytes_out))
U(s_picks, SVC->sched.picks)
U(s_no_server, ALBMD_STAT_GET(SVC->st.no_server))
U(s_refused, ALBMD_STAT_GET(SVC->st.refused))
U(s_queued, ALBMD_STAT_GET(SVC->st.queued))
U(s_queued_total, ALBMD_STAT_GET(SVC->st.queued_total))
U(s_queue_timeouts, ALBMD_STAT_GET(SVC->st.queue_timeouts))
U(s_queue_overflows, ALBMD_STAT_GET(SVC->st.queue_overflows))
U(s_retries, ALBMD_STAT_GET(SVC->st.retries))
U(s_client_aborts, ALBMD_STAT_GET(SVC->st.client_aborts))
U(s_server_aborts, ALBMD_STAT_GET(SVC->st.server_aborts))

U(v_state, albmd_server_state(D, SRV) == (enum albmd_state)at->i)
U(v_weight, SRV->admin == ALBMD_ADMIN_DRAIN ? 0 : SRV->weight)
F(v_eff_weight, SRV->dest->eff_weight)
U(v_active, SRV->dest->activeconns)
U(v_inactive, SRV->dest->inactconns)
U(v_total, SRV->dest->total_conns)
U(v_maxconn, SRV->maxconn)
U(v_configured_weight, SRV->weight)
U(v_bytes_in, ALBMD_STAT_GET(SRV->st.bytes_in))
U(v_bytes_out, ALBMD_STAT_GET(SRV->st.bytes_out))
U(v_picks, ALBMD_STAT_GET(SRV->st.picks))
U(v_connect_failures, ALBMD_STAT_GET(SRV->st.connect_failures))
U(v_retries, ALBMD_STAT_GET(SRV->st.retries))
U(v_hc_failures, albmd_health_failures(SRV))
U(v_client_aborts, ALBMD_STAT_GET(SRV->st.client_aborts))
U(v_server_aborts, ALBMD_STAT_GET(SRV->st.server_aborts))

static const char *state_name(size_t i)
{
	return albmd_state_name((enum albmd_state)i);
}

/* Passive latencies (distributor/passive.c): only where the data plane measured. */
static const char *lat_stat_name(size_t i)
{
	return i ? "p90" : "ewma";
}

static const char *passive_fig_name(size_t i)
{
	static const char *const names[] = { "connect", "ttfb", "duration" };

	return i < ARRAY_SIZE(names) ? names[i] : "?";
}

static bool lat_get(const struct albm_dest_latency *l, size_t i, double scale,
		    struct albmd_stat_val *v)
{
	if (!l->samples)
		return false;
	v->f = (double)(i ? l->p90_us : l->ewma_us) * scale;
	return true;
}

#define LAT_FN(fname, fig, scale)                                                   \
	static bool fname(const struct albmd_stat_at *at, struct albmd_stat_val *v) \
	{                                                                           \
		return lat_get(&SRV->dest->passive.fig, at->i, scale, v);           \
	}
LAT_FN(p_connect_s, connect, 1e-6)
LAT_FN(p_connect_ms, connect, 1e-3)
LAT_FN(p_ttfb_s, ttfb, 1e-6)
LAT_FN(p_ttfb_ms, ttfb, 1e-3)
LAT_FN(p_duration_s, duration, 1e-6)
LAT_FN(p_duration_ms, duration, 1e-3)

static bool p_samples(const struct albmd_stat_at *at, struct albmd_stat_val *v)
{
	const struct albm_dest_passive *p = &SRV->dest->passive;
	const struct albm_dest_latency *l[] = { &p->connect, &p->ttfb, &p->duration };

	v->u = at->i < ARRAY_SIZE(l) ? l[at->i]->samples : 0;
	return true;
}

U(p_errors, SRV->dest->passive.errors)

AGENT_FN(a_mem_total, u, a->m.mem_total_bytes)
AGENT_FN(a_mem_avail, u, a->m.mem_available_bytes)
AGENT_FN(a_cpu, f, a->m.cpu_util)
AGENT_FN(a_load1, f, a->m.load1)
AGENT_FN(a_tcp, u, a->m.tcp_established)
AGENT_FN(a_overloaded, u, a->m.state == ALBM_AGENT_OVERLOADED)
AGENT_FN(a_age, f, (double)albmd_agent_age_ms(a) / 1000.0)
AGENT_FN(a_reports, u, a->reports)
AGENT_FN(a_rejected, u, a->rejected)

/* ---- the table ---- */

#define C       ALBMD_STAT_COUNTER
#define G       ALBMD_STAT_GAUGE
#define GLOBAL  ALBMD_SCOPE_GLOBAL
#define SERVICE ALBMD_SCOPE_SERVICE
#define SERVER  ALBMD_SCOPE_SERVER
#define REAL    ALBMD_STAT_F_REAL

const struct albmd_stat albmd_stats[] = {
	/* metric, label, JSON key, help, type, scope, flags, ... */
	{ "albm_up", NULL, NULL, "1 while albmd runs", G, GLOBAL, 0, .get = g_up },
	{ "albm_uptime_seconds", NULL, NULL, "Seconds since albmd started", G, GLOBAL, REAL,
	  .fmt = "%.3f", .get = g_uptime_s },
	{ NULL, NULL, "uptime_ms", "Milliseconds since albmd started", G, GLOBAL, 0,
	  .get = g_uptime_ms },
	{ NULL, NULL, "workers", "Worker threads", G, GLOBAL, 0, .get = g_workers },
	{ NULL, NULL, "services", "Services", G, GLOBAL, 0, .get = g_services },
	{ "albm_connections", NULL, "conns_current", "Proxied connections open now", G, GLOBAL, 0,
	  .get = g_conns_current },
	{ "albm_connections_total", NULL, "conns_total", "Client connections accepted", C, GLOBAL,
	  0, .get = g_conns_total },
	{ "albm_connections_refused_total", NULL, "conns_refused",
	  "Times accepting paused because the global maxconn was reached", C, GLOBAL, 0,
	  .get = g_conns_refused },
	{ "albm_accept_errors_total", NULL, "accept_errors",
	  "accept() calls that failed (other than EAGAIN)", C, GLOBAL, 0, .get = g_accept_errors },
	{ "albm_listener_accept_errors_total", "listener=\"control\"", "control_accept_errors",
	  "accept() failures of the control and admin HTTP listeners, by cause (a lack of "
	  "descriptors or memory pauses the listener)",
	  C, GLOBAL, 0, .get = g_control_accept_errors, .vec_label = "reason",
	  .vec_n = ALBMD_ACCEPT_CAUSES, .vec_name = albmd_accept_cause_name },
	{ "albm_listener_accept_errors_total", "listener=\"http\"", "http_accept_errors",
	  "accept() failures of the control and admin HTTP listeners, by cause (a lack of "
	  "descriptors or memory pauses the listener)",
	  C, GLOBAL, 0, .get = g_http_accept_errors, .vec_label = "reason",
	  .vec_n = ALBMD_ACCEPT_CAUSES, .vec_name = albmd_accept_cause_name },
	{ "albm_refusals_total", NULL, "refusals",
	  "Clients refused, or accepting paused, for a local reason (never a server's fault), "
	  "by cause",
	  C, GLOBAL, 0, .get = g_refusals, .vec_label = "cause", .vec_n = ALBMD_REFUSE_COUNT,
	  .vec_name = refusal_name },
	{ "albm_fd_budget", NULL, "fd_budget",
	  "Descriptors the proxy's sockets and pipes may hold (RLIMIT_NOFILE less a reserve)", G,
	  GLOBAL, 0, .get = g_fd_budget },
	{ "albm_proxy_pipes", NULL, "pipes", "Splice pipes of the proxy, pooled or in use", G,
	  GLOBAL, 0, .get = g_pipes },
	{ "albm_memory_limit_bytes", NULL, "memory_limit",
	  "The memory cgroup's limit albmd keeps under (0: none, the guard is off)", G, GLOBAL, 0,
	  .get = g_mem_limit },
	{ "albm_memory_working_set_bytes", NULL, "memory_working_set",
	  "The memory cgroup's usage less reclaimable page cache, at the last measurement", G,
	  GLOBAL, 0, .get = g_mem_working },
	{ "albm_access_log_lines_total", NULL, "access_log_lines", "Connection log lines written",
	  C, GLOBAL, 0, .get = g_alog_lines },
	{ "albm_access_log_dropped_total", NULL, "access_log_dropped",
	  "Connection log lines lost (the file or syslog did not take them)", C, GLOBAL, 0,
	  .get = g_alog_dropped },
	{ "albm_reloads_total", "result=\"ok\"", "reloads_ok", "Configuration reloads by result", C,
	  GLOBAL, 0, .get = g_reloads_ok },
	{ "albm_reloads_total", "result=\"failed\"", "reloads_failed",
	  "Configuration reloads by result", C, GLOBAL, 0, .get = g_reloads_failed },
	{ NULL, NULL, "control_commands", "Control commands", C, GLOBAL, 0,
	  .get = g_control_commands },
	{ "albm_control_commands_total", "result=\"ok\"", NULL, "Control commands by result", C,
	  GLOBAL, 0, .get = g_control_ok },
	{ "albm_control_commands_total", "result=\"error\"", "control_errors",
	  "Control commands by result", C, GLOBAL, 0, .get = g_control_errors },
	{ "albm_reports_received_total", NULL, "reports_received",
	  "Agent report datagrams received", C, GLOBAL, 0, .get = g_reports_received },
	{ "albm_reports_rejected_total", NULL, "reports_rejected",
	  "Agent reports rejected, by reason", C, GLOBAL, 0, .get = g_reports_rejected,
	  .vec_label = "reason", .vec_n = ALBMD_REJ_COUNT, .vec_name = reject_name },

	{ "albm_service_connections", NULL, "active_conns", "Open connections", G, SERVICE, 0,
	  .get = s_active },
	{ "albm_service_connections_total", NULL, "total_conns", "Connections accepted", C, SERVICE,
	  0, .get = s_total },
	{ "albm_service_bytes_in_total", NULL, "bytes_in", "Bytes client -> server", C, SERVICE, 0,
	  .get = s_bytes_in },
	{ "albm_service_bytes_out_total", NULL, "bytes_out", "Bytes server -> client", C, SERVICE,
	  0, .get = s_bytes_out },
	{ "albm_service_picks_total", NULL, "picks", "Scheduler picks", C, SERVICE, 0,
	  .get = s_picks },
	{ "albm_service_no_server_total", NULL, "no_server",
	  "Connections closed because no server was available", C, SERVICE, 0, .get = s_no_server },
	{ "albm_service_refused_total", NULL, "refused",
	  "Connections refused by the service maxconn or a full queue (queue-max)", C, SERVICE, 0,
	  .get = s_refused },
	{ "albm_service_queued", NULL, "queued", "Clients waiting in the queue for a free server",
	  G, SERVICE, 0, .get = s_queued },
	{ "albm_service_queued_total", NULL, "queued_total",
	  "Clients that had to wait in the queue", C, SERVICE, 0, .get = s_queued_total },
	{ "albm_service_queue_timeouts_total", NULL, "queue_timeouts",
	  "Clients closed after waiting queue-timeout without a free server", C, SERVICE, 0,
	  .get = s_queue_timeouts },
	{ "albm_service_queue_overflows_total", NULL, "queue_overflows",
	  "Clients sent to the least-loaded server at the queue's bound (queue-overflow)", C,
	  SERVICE, 0, .get = s_queue_overflows },
	{ "albm_service_retries_total", NULL, "retries", "Connect retries on another server", C,
	  SERVICE, 0, .get = s_retries },
	{ "albm_service_client_aborts_total", NULL, "client_aborts",
	  "Relayed connections the client reset (passed on to the server as a reset)", C, SERVICE,
	  0, .get = s_client_aborts },
	{ "albm_service_server_aborts_total", NULL, "server_aborts",
	  "Relayed connections the server reset (passed on to the client as a reset)", C, SERVICE,
	  0, .get = s_server_aborts },

	{ "albm_server_state", NULL, NULL,
	  "Server state (1 for the current one of up, overloaded, drain, down, unknown)", G, SERVER,
	  0, .get = v_state, .vec_label = "state", .vec_n = ALBMD_ST_UNKNOWN + 1,
	  .vec_name = state_name },
	{ "albm_server_connections", NULL, "active_conns", "Active connections", G, SERVER, 0,
	  .get = v_active },
	{ NULL, NULL, "inactive_conns", "Connections not (yet / any more) established", G, SERVER,
	  0, .get = v_inactive },
	{ "albm_server_connections_total", NULL, "total_conns", "Connections opened", C, SERVER, 0,
	  .get = v_total },
	{ NULL, NULL, "maxconn", "Connection limit (0: none)", G, SERVER, 0, .get = v_maxconn },
	{ "albm_server_bytes_in_total", NULL, "bytes_in", "Bytes client -> server", C, SERVER, 0,
	  .get = v_bytes_in },
	{ "albm_server_bytes_out_total", NULL, "bytes_out", "Bytes server -> client", C, SERVER, 0,
	  .get = v_bytes_out },
	{ "albm_server_picks_total", NULL, "picks", "Times the scheduler chose it", C, SERVER, 0,
	  .get = v_picks },
	{ "albm_server_connect_failures_total", NULL, "connect_failures", "Failed connects", C,
	  SERVER, 0, .get = v_connect_failures },
	{ "albm_server_retries_total", NULL, "retries",
	  "Connections moved to another server after a failed connect", C, SERVER, 0,
	  .get = v_retries },
	{ "albm_server_weight", NULL, "weight", "Weight (0 when drained)", G, SERVER, 0,
	  .get = v_weight },
	{ NULL, NULL, "configured_weight", "Weight configured (or set by albmctl weight)", G,
	  SERVER, 0, .get = v_configured_weight },
	{ "albm_server_effective_weight", NULL, "effective_weight",
	  "Effective weight published by the scheduler", G, SERVER, REAL, .get = v_eff_weight },
	{ "albm_server_health_check_failures_total", NULL, "health_check_failures",
	  "Failed active health checks", C, SERVER, 0, .get = v_hc_failures },
	{ "albm_server_client_aborts_total", NULL, "client_aborts",
	  "Relayed connections to it that the client reset", C, SERVER, 0, .get = v_client_aborts },
	{ "albm_server_server_aborts_total", NULL, "server_aborts", "Relayed connections it reset",
	  C, SERVER, 0, .get = v_server_aborts },
	{ "albm_server_connect_seconds", NULL, NULL,
	  "Passive: connect time to the server (EWMA, windowed p90)", G, SERVER, REAL,
	  .get = p_connect_s, .vec_label = "stat", .vec_n = 2, .vec_name = lat_stat_name },
	{ NULL, NULL, "connect_ms", "Passive: connect time, ms", G, SERVER, REAL,
	  .get = p_connect_ms, .vec_n = 2, .vec_name = lat_stat_name },
	{ "albm_server_ttfb_seconds", NULL, NULL,
	  "Passive: request forwarded to first response byte (EWMA, windowed p90)", G, SERVER, REAL,
	  .get = p_ttfb_s, .vec_label = "stat", .vec_n = 2, .vec_name = lat_stat_name },
	{ NULL, NULL, "ttfb_ms", "Passive: time to the first response byte, ms", G, SERVER, REAL,
	  .get = p_ttfb_ms, .vec_n = 2, .vec_name = lat_stat_name },
	{ "albm_server_duration_seconds", NULL, NULL,
	  "Passive: connection duration, established to closed (EWMA, windowed p90)", G, SERVER,
	  REAL, .get = p_duration_s, .vec_label = "stat", .vec_n = 2, .vec_name = lat_stat_name },
	{ NULL, NULL, "duration_ms", "Passive: connection duration, ms", G, SERVER, REAL,
	  .get = p_duration_ms, .vec_n = 2, .vec_name = lat_stat_name },
	{ "albm_server_passive_samples_total", NULL, "passive_samples",
	  "Passive: measurements taken, by figure", C, SERVER, 0, .get = p_samples,
	  .vec_label = "figure", .vec_n = 3, .vec_name = passive_fig_name },
	{ "albm_server_passive_errors_total", NULL, "passive_errors",
	  "Passive: failed connections (connect error, or ended by the server unanswered)", C,
	  SERVER, 0, .get = p_errors },
	{ "albm_agent_mem_total_bytes", NULL, NULL, "Agent: memory total", G, SERVER, 0,
	  .get = a_mem_total },
	{ "albm_agent_mem_available_bytes", NULL, NULL, "Agent: memory available", G, SERVER, 0,
	  .get = a_mem_avail },
	{ "albm_agent_cpu_util", NULL, NULL, "Agent: CPU utilisation 0-1", G, SERVER, REAL,
	  .get = a_cpu },
	{ "albm_agent_load1", NULL, NULL, "Agent: 1-minute load average", G, SERVER, REAL,
	  .get = a_load1 },
	{ "albm_agent_tcp_established", NULL, NULL, "Agent: established TCP connections", G, SERVER,
	  0, .get = a_tcp },
	{ "albm_agent_overloaded", NULL, NULL, "Agent: 1 when it reports overload", G, SERVER, 0,
	  .get = a_overloaded },
	{ "albm_agent_report_age_seconds", NULL, NULL, "Agent: age of the latest report", G, SERVER,
	  REAL, .get = a_age },
	{ "albm_agent_reports_total", NULL, NULL, "Agent: reports accepted", C, SERVER, 0,
	  .get = a_reports },
	{ "albm_agent_reports_rejected_total", NULL, NULL,
	  "Agent: authenticated reports rejected as replayed or stale", C, SERVER, 0,
	  .get = a_rejected },
};

const size_t albmd_nstats = ARRAY_SIZE(albmd_stats);

/* ---- writers ---- */

static bool stat_read(const struct albmd_stat *s, const struct albmd_stat_at *at,
		      struct albmd_stat_val *v)
{
	memset(v, 0, sizeof(*v));
	return s->get(at, v);
}

static json_t *json_value(const struct albmd_stat *s, const struct albmd_stat_val *v)
{
	if (s->flags & ALBMD_STAT_F_REAL)
		return json_real(v->f);
	return json_integer((json_int_t)v->u);
}

void albmd_stats_write_json(json_t *o, const struct albmd_stat *t, size_t n,
			    enum albmd_stat_scope scope, const struct albmd_stat_at *at0)
{
	struct albmd_stat_at at = *at0;
	struct albmd_stat_val v;

	for (const struct albmd_stat *s = t; s < t + n; s++) {
		if (!s->json || s->scope != scope)
			continue;
		if (!s->vec_n) {
			if (stat_read(s, &at, &v))
				json_object_set_new(o, s->json, json_value(s, &v));
			continue;
		}
		json_t *vec = json_object();
		for (at.i = 0; at.i < s->vec_n; at.i++)
			if (stat_read(s, &at, &v))
				json_object_set_new(vec, s->vec_name(at.i), json_value(s, &v));
		json_object_set_new(o, s->json, vec);
	}
}

/* The samples of one line at one place; `labels` are the scope's ("" for global). */
static void metric_samples(struct albmd_buf *b, const struct albmd_stat *s,
			   struct albmd_stat_at *at, const char *labels, const char **last)
{
	size_t n = s->vec_n ? s->vec_n : 1;
	struct albmd_stat_val v;
	char lab[512], vec[160];

	for (at->i = 0; at->i < n; at->i++) {
		if (!stat_read(s, at, &v))
			continue;
		if (!*last || strcmp(*last, s->metric))
			albmd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", s->metric, s->help,
					 s->metric,
					 s->type == ALBMD_STAT_COUNTER ? "counter" : "gauge");
		*last = s->metric;
		vec[0] = '\0';
		if (s->vec_n)
			snprintf(vec, sizeof(vec), "%s=\"%s\"", s->vec_label, s->vec_name(at->i));
		snprintf(lab, sizeof(lab), "%s%s%s%s%s", labels, *labels && s->label ? "," : "",
			 s->label ? s->label : "", (*labels || s->label) && *vec ? "," : "", vec);
		albmd_buf_printf(b, "%s%s%s%s ", s->metric, *lab ? "{" : "", lab, *lab ? "}" : "");
		if (s->flags & ALBMD_STAT_F_REAL)
			albmd_buf_printf(b, s->fmt ? s->fmt : "%.17g", v.f);
		else
			albmd_buf_printf(b, "%llu", (unsigned long long)v.u);
		albmd_buf_printf(b, "\n");
	}
}

/* One line of the table at every place of its scope. */
static void metric_line(struct albmd *d, struct albmd_buf *b, const struct albmd_stat *s,
			const char **last)
{
	struct albmd_stat_at at = { .d = d };
	char labels[256];

	if (s->scope == ALBMD_SCOPE_GLOBAL) {
		metric_samples(b, s, &at, "", last);
		return;
	}
	if (s->scope == ALBMD_SCOPE_PEER) {
		for (size_t i = 0; d->ha && i < d->ha->npeers; i++) {
			at.peer = &d->ha->peers[i];
			snprintf(labels, sizeof(labels), "peer=\"%s\"", at.peer->name);
			metric_samples(b, s, &at, labels, last);
		}
		return;
	}
	for (size_t i = 0; i < d->nservices; i++) {
		const struct albmd_service *svc = at.svc = d->services[i];
		if (s->scope == ALBMD_SCOPE_SERVICE) {
			snprintf(labels, sizeof(labels), "service=\"%s\",scheduler=\"%s\"",
				 svc->name, svc->sched.sched ? svc->sched.sched->name : "");
			metric_samples(b, s, &at, labels, last);
			continue;
		}
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			at.srv = albmd_dest_server(svc->sched.dests[j]);
			snprintf(labels, sizeof(labels), "service=\"%s\",server=\"%s\"", svc->name,
				 at.srv->name);
			metric_samples(b, s, &at, labels, last);
		}
	}
}

void albmd_stats_write_metrics(struct albmd *d, struct albmd_buf *b, const struct albmd_stat *t,
			       size_t n)
{
	const char *last = NULL;

	for (size_t i = 0; i < n; i++)
		if (t[i].metric)
			metric_line(d, b, &t[i], &last);
}

const struct albmd_stat *albmd_stat_find(enum albmd_stat_scope scope, const char *name)
{
	for (size_t i = 0; i < albmd_nstats; i++) {
		const struct albmd_stat *s = &albmd_stats[i];
		if (s->scope == scope && ((s->json && !strcmp(s->json, name)) ||
					  (s->metric && !strcmp(s->metric, name))))
			return s;
	}
	return NULL;
}

double albmd_stat_value(enum albmd_stat_scope scope, const char *name,
			const struct albmd_stat_at *at, bool *ok)
{
	const struct albmd_stat *s = albmd_stat_find(scope, name);
	struct albmd_stat_val v;
	bool have = s && stat_read(s, at, &v);

	if (ok)
		*ok = have;
	if (!have)
		return 0;
	return s->flags & ALBMD_STAT_F_REAL ? v.f : (double)v.u;
}
