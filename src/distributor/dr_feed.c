/* ALBM: albmd's DR plane — XDP counters in, connection counts out to the scheduler
 *
 * The program sees only the client -> server half of each flow, so it counts per
 * real the flows it scheduled and those whose client sent FIN or RST.  Every tick
 * their difference since the real entered the set is brought into the scheduler as
 * active connections (albm_svc_conn_open/_close), so the least-connection family,
 * maxconn and `albmctl list` see the DR flows; flows that end without a client
 * FIN/RST are written off when the real has seen no packet for the service's
 * idle-timeout.  A real that leaves the set gives its flows back.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "distributor/service.h"

int drd_real_read(struct drd_svc *ds, struct drd_real *e, struct dr_real_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!e->applied.in)
		return -ENOENT;
	return dr_read_real_stats(ds->ifc->dr, &ds->vip, &e->srv->addr, st);
}

void drd_stats_add(struct dr_real_stats *a, const struct dr_real_stats *b,
		   const struct dr_real_stats *base)
{
	a->pkts += b->pkts - base->pkts;
	a->bytes += b->bytes - base->bytes;
	a->new_flows += b->new_flows - base->new_flows;
	a->closed_flows += b->closed_flows - base->closed_flows;
}

/* Count fed +/- delta in the proxy-style statistics too (list, /metrics). */
static void fed_stat(struct drd_svc *ds, struct drd_real *e, int64_t delta)
{
	ALBMD_STAT_ADD(ds->svc->st.conns_active, (uint64_t)delta);
	ALBMD_STAT_ADD(e->srv->st.conns_active, (uint64_t)delta);
}

/* Live flows: opened - closed since e entered the set, minus flows written off
 * because the real saw no packet for idle-timeout (a flow that ends without a client
 * FIN/RST is never counted closed). */
void drd_real_feed(struct drd_svc *ds, struct drd_real *e, uint64_t new_flows, uint64_t now)
{
	struct albm_service *s = &ds->svc->sched;
	struct albm_dest *dest = e->srv->dest;
	uint64_t total0 = dest->total_conns, fed0 = e->fed;
	uint64_t opened = e->cur.new_flows - e->base.new_flows;
	uint64_t closed = e->cur.closed_flows - e->base.closed_flows + e->forgotten;
	uint64_t est = opened > closed ? opened - closed : 0;

	if (est && now - e->last_pkt_ms >= ds->svc->cfg.idle_timeout_ms) {
		e->forgotten += est;
		est = 0;
	}
	if (est > UINT32_MAX)
		est = UINT32_MAX;
	for (; e->fed < est; e->fed++)
		albm_svc_conn_open(s, dest, true);
	for (; e->fed > est; e->fed--)
		albm_svc_conn_close(s, dest, true);
	dest->total_conns = total0 + new_flows;
	fed_stat(ds, e, (int64_t)e->fed - (int64_t)fed0);
	ALBMD_STAT_ADD(ds->svc->st.conns_total, new_flows);
	ALBMD_STAT_ADD(e->srv->st.picks, new_flows);
}

void drd_real_unfeed(struct drd_svc *ds, struct drd_real *e)
{
	struct albm_dest *dest = e->srv->dest;

	fed_stat(ds, e, -(int64_t)e->fed);
	for (; e->fed > 0; e->fed--)
		if (dest)
			albm_svc_conn_close(&ds->svc->sched, dest, true);
}

/* An unresolved server is held down through albmd's passive-check field (no
 * connects in mode dr, so nothing else uses it); it comes back by itself. */
static void real_hold_down(struct drd_svc *ds, struct drd_real *e, uint64_t now)
{
	bool was = e->srv->dest && (e->srv->dest->flags & ALBM_DEST_F_AVAILABLE);

	e->srv->fail_until_ms = now + 3 * DRD_TICK_MS + DRD_RESOLVE_GRACE_MS;
	if (was)
		albmd_server_refresh(ds->d, e->srv);
}

void drd_reals_poll(struct drd_svc *ds, uint64_t now)
{
	struct dr_real_stats st;
	uint64_t fresh;

	ds->rate = 0;
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		if (now >= e->next_lookup_ms && !drd_real_lookup(ds, e, now) && e->reported)
			real_hold_down(ds, e, now);
		if (drd_real_read(ds, e, &st) < 0)
			continue;
		if (st.pkts != e->cur.pkts)
			e->last_pkt_ms = now;
		if (st.new_flows != e->cur.new_flows || st.closed_flows != e->cur.closed_flows)
			ds->dirty = true; /* connection counts move lc-like picks and maxconn */
		fresh = st.new_flows - e->cur.new_flows;
		ds->rate += fresh;
		e->cur = st;
		drd_real_feed(ds, e, fresh, now);
	}
}
