/* ALBM: albmd's state as a table — `albmctl list` (after ipvsadm -L -n)
 *
 * The numbers are read through the statistics table (stats.c) by name; a data plane
 * adds lines of its own under each server (its server_text hook). */
#include <stdio.h>

#include "common/util.h"
#include "distributor/ha.h"
#include "distributor/service.h"
#include "distributor/state.h"
#include "distributor/stats.h"

static void fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	unsigned u = 0;

	while (x >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
		x /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", x, unit[u]);
}

/* A value of the statistics table (0 where it has none). */
static double stat_of(enum albmd_stat_scope scope, const char *name, const struct albmd_stat_at *at)
{
	return albmd_stat_value(scope, name, at, NULL);
}

/* The agent's latest available memory, CPU and report age, or dashes. */
static void agent_cols(const struct albmd_stat_at *at, struct albmd_buf *out)
{
	char mem[32], age[32];
	double avail, secs;
	uint64_t ms;
	bool ok;

	avail = albmd_stat_value(ALBMD_SCOPE_SERVER, "albm_agent_mem_available_bytes", at, &ok);
	if (!ok) {
		albmd_buf_printf(out, " %9s %6s %8s", "-", "-", "-");
		return;
	}
	fmt_bytes((uint64_t)avail, mem, sizeof(mem));
	secs = stat_of(ALBMD_SCOPE_SERVER, "albm_agent_report_age_seconds", at);
	ms = (uint64_t)(secs * 1000 + 0.5);
	if (ms < 10000)
		snprintf(age, sizeof(age), "%llums", (unsigned long long)ms);
	else
		snprintf(age, sizeof(age), "%llus", (unsigned long long)(ms / 1000));
	albmd_buf_printf(out, " %9s %5.1f%% %8s", mem,
			 stat_of(ALBMD_SCOPE_SERVER, "albm_agent_cpu_util", at) * 100.0, age);
}

/* Proxy mode's queue, once a client has had to wait: "  queued 2 (total 15, timeouts 1)". */
static void queue_cols(const struct albmd_stat_at *at, struct albmd_buf *out)
{
	double total = stat_of(ALBMD_SCOPE_SERVICE, "queued_total", at);

	if (!total)
		return;
	albmd_buf_printf(out, "  queued %.0f (total %.0f, timeouts %.0f)",
			 stat_of(ALBMD_SCOPE_SERVICE, "queued", at), total,
			 stat_of(ALBMD_SCOPE_SERVICE, "queue_timeouts", at));
}

static void server_line(struct albmd *d, const struct albmd_server *srv, struct albmd_buf *out)
{
	struct albmd_stat_at at = { .d = d, .svc = srv->svc, .srv = srv };
	const struct albmd_dataplane_ops *dp = srv->svc->dp;
	char abuf[ALBM_ADDRSTRLEN];

	albmd_buf_printf(out, "  -> %-12s %-23s %-7.0f %-10.2f %-10s %-10.0f %-10.0f", srv->name,
			 albm_addr_format(&srv->addr, abuf, sizeof(abuf)),
			 stat_of(ALBMD_SCOPE_SERVER, "weight", &at),
			 stat_of(ALBMD_SCOPE_SERVER, "effective_weight", &at),
			 albmd_state_name(albmd_server_state(d, srv)),
			 stat_of(ALBMD_SCOPE_SERVER, "active_conns", &at),
			 stat_of(ALBMD_SCOPE_SERVER, "total_conns", &at));
	agent_cols(&at, out);
	albmd_buf_printf(out, "\n");
	if (dp && dp->server_text) /* e.g. mode dr: a line of XDP counters */
		dp->server_text(srv, out);
}

void albmd_state_table(struct albmd *d, struct albmd_buf *out)
{
	struct albmd_stat_at at = { .d = d };
	double conns = stat_of(ALBMD_SCOPE_GLOBAL, "conns_current", &at);
	char abuf[ALBM_ADDRSTRLEN];

	albmd_buf_printf(out, "ALBM albmd: %zu service%s, %.0f connection%s\n", d->nservices,
			 d->nservices == 1 ? "" : "s", conns, conns == 1 ? "" : "s");
	albmd_buf_printf(out, "Service          Listen                  Mode  Scheduler\n");
	albmd_buf_printf(out, "  -> Server       Address                 Weight  EffW       "
			      "State      ActiveConn TotalConn  MemAvail    CPU      Age\n");
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		at.svc = svc;
		albmd_buf_printf(out, "%-16s %-23s %-5s %s", svc->name,
				 albm_addr_format(&svc->cfg.listen, abuf, sizeof(abuf)),
				 albmd_mode_name(svc->cfg.mode),
				 svc->sched.sched ? svc->sched.sched->name : "-");
		if (svc->dp && svc->dp->service_words) /* e.g. proxy: "  data-path uring" */
			svc->dp->service_words(svc, out);
		queue_cols(&at, out);
		albmd_buf_printf(out, "\n");
		if (svc->dp && svc->dp->service_text) /* e.g. mode dr: announced, table */
			svc->dp->service_text(svc, out);
		for (size_t j = 0; j < svc->sched.ndests; j++)
			server_line(d, albmd_dest_server(svc->sched.dests[j]), out);
	}
	albmd_ha_text(d, out);
}
