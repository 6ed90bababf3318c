/* ALBM: albmd's state as a table — `albmctl list` (after ipvsadm -L -n) */
#include <stdio.h>

#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/dataplane_dr.h"
#include "distributor/service.h"
#include "distributor/state.h"

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

static void agent_cols(const struct albmd_agent *a, struct albmd_buf *out)
{
	char mem[32], age[32];
	uint64_t ms;

	if (!a || !a->has_report) {
		albmd_buf_printf(out, " %9s %6s %8s", "-", "-", "-");
		return;
	}
	fmt_bytes(a->m.mem_available_bytes, mem, sizeof(mem));
	ms = albmd_agent_age_ms(a);
	if (ms < 10000)
		snprintf(age, sizeof(age), "%llums", (unsigned long long)ms);
	else
		snprintf(age, sizeof(age), "%llus", (unsigned long long)(ms / 1000));
	albmd_buf_printf(out, " %9s %5.1f%% %8s", mem, a->m.cpu_util * 100.0, age);
}

/* Proxy mode's queue, once a client has had to wait: "  queued 2 (total 15, timeouts 1)". */
static void queue_cols(const struct albmd_service *svc, struct albmd_buf *out)
{
	uint64_t total = ALBMD_STAT_GET(svc->st.queued_total);

	if (!total)
		return;
	albmd_buf_printf(out, "  queued %llu (total %llu, timeouts %llu)",
			 (unsigned long long)ALBMD_STAT_GET(svc->st.queued), (unsigned long long)total,
			 (unsigned long long)ALBMD_STAT_GET(svc->st.queue_timeouts));
}

void albmd_state_table(struct albmd *d, struct albmd_buf *out)
{
	char abuf[ALBM_ADDRSTRLEN];

	albmd_buf_printf(out, "ALBM albmd: %zu service%s, %llu connection%s\n", d->nservices,
			 d->nservices == 1 ? "" : "s",
			 (unsigned long long)ALBMD_STAT_GET(d->st.conns_current),
			 ALBMD_STAT_GET(d->st.conns_current) == 1 ? "" : "s");
	albmd_buf_printf(out, "Service          Listen                  Mode  Scheduler\n");
	albmd_buf_printf(out, "  -> Server       Address                 Weight  EffW       "
			 "State      ActiveConn TotalConn  MemAvail    CPU      Age\n");
	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		albmd_buf_printf(out, "%-16s %-23s %-5s %s", svc->name,
				 albm_addr_format(&svc->cfg.listen, abuf, sizeof(abuf)),
				 albmd_mode_name(svc->cfg.mode),
				 svc->sched.sched ? svc->sched.sched->name : "-");
		queue_cols(svc, out);
		albmd_buf_printf(out, "\n");
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(svc->sched.dests[j]);
			albmd_buf_printf(out, "  -> %-12s %-23s %-7d %-10.2f %-10s %-10u %-10llu",
					 srv->name, albm_addr_format(&srv->addr, abuf, sizeof(abuf)),
					 srv->admin == ALBMD_ADMIN_DRAIN ? 0 : srv->weight,
					 srv->dest->eff_weight,
					 albmd_state_name(albmd_server_state(d, srv)),
					 srv->dest->activeconns,
					 (unsigned long long)srv->dest->total_conns);
			agent_cols(srv->agent, out);
			albmd_buf_printf(out, "\n");
			albmd_dp_dr_server_text(srv, out); /* mode dr: a line of XDP counters */
		}
	}
}
