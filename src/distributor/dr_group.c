/* ALBM: albmd's DR plane in an ha group — boundaries, reports by timestamp, flow sync, tables
 *
 * In an ha group (docs/ha.md) every distributor must build the same table, and new
 * flows are told to the peers:
 *
 *   weights   each server holds a weight from one wall-clock boundary to the next
 *             (dr_levels.c: configured weight, for adaptive schedulers x the capacity
 *             of the agent's report dated before the boundary's cutoff, in levels);
 *             membership and drains apply at once;
 *   reports   taken when they arrive (changed() runs for each), filed by the agent's
 *             own timestamp, so every distributor files them alike;
 *   flows     the XDP program's flow ring is drained from the main loop; after a
 *             wakeup it is left alone for `flush` so that a busy distributor wakes
 *             up ~50 times a second, not once per flow (the ring holds 4681 flows),
 *             and the flows go to the peers in batches (ha.c);
 *   peers'    flows are pinned in this distributor's connection table, tables are
 *             listed for the heartbeats and compared with the peers' (ha.c).
 *
 * Main thread, d->lock held (the callbacks below take it).
 */
#define LOG_COMPONENT "dr"
#include "distributor/dr_group.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/agents.h"
#include "distributor/dataplane_dr.h"

/* ---- weights held between boundaries ---- */

/* What the server's held weight is made of now. */
static struct dr_level_in level_in(const struct drd_svc *ds, const struct drd_real *e)
{
	const struct albm_sched_ops *ops = ds->svc->sched.sched;
	unsigned flags = ops ? ops->flags : 0;
	const struct albmd_server *srv = e->srv;

	return (struct dr_level_in){
		.in = e->resolved && srv->dest && (srv->dest->flags & ALBM_DEST_F_AVAILABLE),
		.base = (flags & ALBM_SCHED_F_WEIGHTED) ? (uint32_t)srv->weight : 1,
		.measured = (flags & ALBM_SCHED_F_ADAPTIVE) != 0,
		.report = srv->agent && e->lv.has_sel ? &e->lv.sel : NULL,
		.has_prev = e->held_valid && ds->measured == ((flags & ALBM_SCHED_F_ADAPTIVE) != 0),
		.prev = e->held,
	};
}

/* Take the held weights at boundary b (or now, for a service that just joined). */
static void group_hold(struct drd_svc *ds, uint64_t b)
{
	struct dr_level_in *in = xcalloc(ds->nreals + 1, sizeof(*in));
	uint32_t *held = xcalloc(ds->nreals + 1, sizeof(*held));
	bool reset = dr_level_reset_at(b, ds->svc->cfg.table_interval_ms);

	for (size_t i = 0; i < ds->nreals; i++)
		in[i] = level_in(ds, &ds->reals[i]);
	ds->scale = dr_levels_hold(in, ds->nreals, reset, held);
	for (size_t i = 0; i < ds->nreals; i++) {
		ds->reals[i].held = held[i];
		ds->reals[i].held_valid = true;
	}
	ds->measured = ds->nreals && in[0].measured;
	ds->version = b;
	free(in);
	free(held);
}

/* The cutoff of the coming boundary: reports dated after it wait for the next one. */
static uint64_t group_cutoff(const struct drd_svc *ds)
{
	return ds->next_boundary - ds->svc->cfg.table_guard_ms;
}

static void group_boundary(struct evl *loop, struct evl_timer *t);

static void group_arm(struct drd_svc *ds, uint64_t wall)
{
	uint64_t delay = ds->next_boundary > wall ? ds->next_boundary - wall : 0;

	evl_timer_start(ds->d->loop, &ds->boundary, delay, group_boundary);
}

static void group_boundary(struct evl *loop, struct evl_timer *t)
{
	struct drd_svc *ds = (struct drd_svc *)((char *)t - offsetof(struct drd_svc, boundary));
	struct albmd *d = evl_data(loop);
	uint64_t wall = albm_wall_ms(), b;

	albmd_lock(d);
	b = ds->next_boundary;
	if (wall < b) { /* the monotonic timer ran ahead of the wall clock */
		group_arm(ds, wall);
		albmd_unlock(d);
		return;
	}
	group_hold(ds, b);
	ds->next_boundary = dr_level_boundary_after(wall, ds->svc->cfg.table_interval_ms);
	for (size_t i = 0; i < ds->nreals; i++)
		dr_level_advance(&ds->reals[i].lv, group_cutoff(ds));
	group_arm(ds, wall);
	drd_mark_dirty(ds);
	albmd_unlock(d);
}

/* Say once per scheduler what the group's table is made of. */
static void group_note(struct drd_svc *ds)
{
	const struct albm_sched_ops *ops = ds->svc->sched.sched;

	if (!ops || ops == ds->group_noted)
		return;
	ds->group_noted = ops;
	if (ops->flags & ALBM_SCHED_F_ADAPTIVE)
		LOG_INFO("service '%s': in the ha group %s's table is the configured weights x the "
			 "agents' reported memory, in %d levels, changed every %llums",
			 ds->svc->name, ops->name, DR_LEVELS,
			 (unsigned long long)ds->svc->cfg.table_interval_ms);
	else if (ops->flags & ALBM_SCHED_F_CONNS)
		LOG_INFO("service '%s': in the ha group %s's table uses the %s (connection counts "
			 "are local to each distributor and would make the tables differ)",
			 ds->svc->name, ops->name,
			 (ops->flags & ALBM_SCHED_F_WEIGHTED) ? "configured weights"
							      : "servers alike");
}

void drd_group_sync(struct drd_svc *ds)
{
	uint64_t wall;

	if (!ds->svc || !ds->svc->cfg.in_group) {
		evl_timer_stop(ds->d->loop, &ds->boundary);
		ds->version = 0;
		return;
	}
	if (evl_timer_armed(&ds->boundary))
		return;
	wall = albm_wall_ms();
	ds->next_boundary = dr_level_boundary_after(wall, ds->svc->cfg.table_interval_ms);
	drd_reals_sync(ds, albm_now_ms());
	group_hold(ds, 0); /* until the first boundary: what we know now */
	group_arm(ds, wall);
}

void drd_group_stop(struct drd_svc *ds)
{
	evl_timer_stop(ds->d->loop, &ds->boundary);
}

void drd_group_reports(struct drd_svc *ds)
{
	if (!ds->svc || !ds->svc->cfg.in_group || !evl_timer_armed(&ds->boundary))
		return;
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		const struct albmd_agent *a = e->srv->agent;
		struct dr_level_report r;

		if (!a || !a->has_report || a->replay.last_ts_ms == e->lv_seen)
			continue;
		e->lv_seen = a->replay.last_ts_ms;
		r.ts_ms = a->replay.last_ts_ms;
		r.capacity = a->m.mem_total_bytes ? (double)a->m.mem_available_bytes /
							    (double)a->m.mem_total_bytes
						  : 0;
		r.overloaded = a->m.state == ALBM_AGENT_OVERLOADED;
		dr_level_offer(&e->lv, &r, group_cutoff(ds));
	}
}

enum albm_table_kind drd_group_weights(struct drd_svc *ds, struct dr_weight *want)
{
	uint32_t *held = xcalloc(ds->nreals + 1, sizeof(*held));
	bool *in = xcalloc(ds->nreals + 1, sizeof(*in)), *drained;
	enum albm_table_kind kind;

	drained = xcalloc(ds->nreals + 1, sizeof(*drained));
	group_note(ds);
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		struct dr_level_in li = level_in(ds, e);
		if (!e->held_valid) { /* joined since the boundary: on its scale */
			e->held = dr_level_join(&li, ds->scale);
			e->held_valid = true;
		}
		held[i] = e->held;
		in[i] = li.in;
		drained[i] = e->srv->admin == ALBMD_ADMIN_DRAIN || e->srv->weight == 0;
	}
	dr_levels_weights(held, in, drained, ds->nreals, want);
	kind = ds->measured ? ALBM_TABLE_EFFECTIVE : ALBM_TABLE_WEIGHTS;
	free(held);
	free(in);
	free(drained);
	return kind;
}

/* ---- the flow ring: new flows out ---- */

static void ring_flow(const struct dr_flow *f, void *ctx)
{
	struct albmd *d = ctx;

	if (d->flow_sink)
		d->flow_sink->flow(d, f);
}

static void ring_drain(struct drd_iface *ifc)
{
	int rc = dr_flow_drain(ifc->dr, ring_flow, ifc->d);

	if (rc < 0)
		LOG_RL(ALBM_LOG_ERR, "interface %s: flow ring: %s", ifc->name, strerror(-rc));
}

static void ring_resume(struct evl *loop, struct evl_timer *t)
{
	struct drd_iface *ifc =
		(struct drd_iface *)((char *)t - offsetof(struct drd_iface, ring_timer));
	struct albmd *d = evl_data(loop);

	albmd_lock(d);
	ring_drain(ifc);
	if (d->flow_sink)
		d->flow_sink->flush(d);
	evl_mod(loop, &ifc->ring_io, EPOLLIN);
	albmd_unlock(d);
}

static void ring_readable(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct drd_iface *ifc =
		(struct drd_iface *)((char *)io - offsetof(struct drd_iface, ring_io));
	struct albmd *d = evl_data(loop);
	uint64_t wait;

	(void)revents;
	albmd_lock(d);
	ring_drain(ifc);
	wait = d->flow_sink ? d->cfg.ha.flush_ms : 20;
	evl_mod(loop, &ifc->ring_io, 0); /* quiet for `flush`: one wakeup per batch */
	evl_timer_start(loop, &ifc->ring_timer, wait ? wait : 1, ring_resume);
	albmd_unlock(d);
}

void drd_ring_start(struct drd_iface *ifc)
{
	int fd = dr_flow_fd(ifc->dr), rc;

	if (fd < 0)
		return;
	rc = evl_add(ifc->d->loop, &ifc->ring_io, fd, EPOLLIN, ring_readable);
	if (rc < 0)
		LOG_ERR("interface %s: flow ring in the loop: %s", ifc->name, strerror(-rc));
}

void drd_ring_stop(struct drd_iface *ifc)
{
	if (!ifc->d)
		return;
	evl_timer_stop(ifc->d->loop, &ifc->ring_timer);
	if (ifc->ring_io.fd >= 0) {
		ring_drain(ifc); /* the last flows still go out */
		evl_del(ifc->d->loop, &ifc->ring_io);
	}
}

void drd_group_ring_stats(struct albmd *d, struct dr_sync_stats *sum)
{
	struct dr_sync_stats st;

	memset(sum, 0, sizeof(*sum));
	for (struct drd_iface *ifc = drd_ifaces(d); ifc; ifc = ifc->next) {
		if (!ifc->flow_sync || dr_sync_stats(ifc->dr, &st) < 0)
			continue;
		sum->published += st.published;
		sum->lost += st.lost;
		sum->hits += st.hits;
	}
}

/* ---- the peers' flows and tables in ---- */

const char *drd_install_name(enum drd_install r)
{
	static const char *const names[] = {
		[DRD_INSTALLED] = "installed",
		[DRD_UNKNOWN_VIP] = "unknown_vip",
		[DRD_UNKNOWN_REAL] = "unknown_real",
		[DRD_INSTALL_FAILED] = "failed",
	};

	return (unsigned)r < DRD_INSTALL__COUNT ? names[r] : NULL;
}

/* Wire bytes (family AF_INET/AF_INET6) and a port as an address. */
static void addr_from(uint8_t family, const uint8_t *a, uint16_t port, struct albm_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		out->u.sin.sin_family = AF_INET;
		memcpy(&out->u.sin.sin_addr, a, 4);
		out->u.sin.sin_port = htons(port);
		out->len = sizeof(out->u.sin);
	} else {
		out->u.sin6.sin6_family = AF_INET6;
		memcpy(&out->u.sin6.sin6_addr, a, 16);
		out->u.sin6.sin6_port = htons(port);
		out->len = sizeof(out->u.sin6);
	}
}

/* The running DR service of a VIP (address and port), or NULL. */
static struct drd_svc *svc_of_vip(struct albmd *d, const struct albm_addr *vip)
{
	for (size_t i = 0; i < d->nservices; i++) {
		struct drd_svc *ds = d->services[i]->dp_data;
		if (d->services[i]->dp == &albmd_dp_dr && ds && ds->owns_vip &&
		    albm_addr_equal(&ds->vip, vip))
			return ds;
	}
	return NULL;
}

/* Install a run of flows of one service; counts per outcome. */
static void install_run(struct drd_svc *ds, const struct dr_flow *f, size_t n,
			uint64_t counts[DRD_INSTALL__COUNT])
{
	int rcs[ALBM_SYNC_MAX_FLOWS];

	dr_flow_install_many(ds->ifc->dr, f, n, rcs);
	for (size_t i = 0; i < n; i++) {
		if (rcs[i] && rcs[i] != -ENOENT)
			LOG_RL(ALBM_LOG_ERR, "service '%s': a peer's flow: %s", ds->svc->name,
			       strerror(-rcs[i]));
		counts[!rcs[i]             ? DRD_INSTALLED
		       : rcs[i] == -ENOENT ? DRD_UNKNOWN_REAL
					   : DRD_INSTALL_FAILED]++;
	}
}

void drd_group_install(struct albmd *d, const struct albm_sync_flow *sf, size_t n,
		       uint64_t counts[DRD_INSTALL__COUNT])
{
	struct dr_flow f[ALBM_SYNC_MAX_FLOWS];
	struct drd_svc *run = NULL, *ds;
	size_t k = 0;

	for (size_t i = 0; i < n && i < ALBM_SYNC_MAX_FLOWS; i++) {
		struct dr_flow x;
		addr_from(sf[i].family, sf[i].saddr, sf[i].sport, &x.client);
		addr_from(sf[i].family, sf[i].daddr, sf[i].dport, &x.vip);
		addr_from(sf[i].family, sf[i].raddr, 0, &x.real);
		ds = run && albm_addr_equal(&run->vip, &x.vip) ? run : svc_of_vip(d, &x.vip);
		if (!ds) {
			counts[DRD_UNKNOWN_VIP]++;
			continue;
		}
		if (ds != run && k) { /* a datagram usually holds one VIP's flows */
			install_run(run, f, k, counts);
			k = 0;
		}
		run = ds;
		f[k++] = x;
	}
	if (k)
		install_run(run, f, k, counts);
}

/* The VIP of ds as a table entry's fields. */
static void table_vip(const struct drd_svc *ds, struct albm_sync_table *t)
{
	memset(t, 0, sizeof(*t));
	t->family = (uint8_t)albm_addr_family(&ds->vip);
	t->port = albm_addr_port(&ds->vip);
	if (t->family == AF_INET)
		memcpy(t->vip, &ds->vip.u.sin.sin_addr, 4);
	else
		memcpy(t->vip, &ds->vip.u.sin6.sin6_addr, 16);
}

size_t drd_group_tables(struct albmd *d, struct albm_sync_table *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nservices && n < max; i++) {
		struct drd_svc *ds = d->services[i]->dp_data;
		if (d->services[i]->dp != &albmd_dp_dr || !ds || !ds->owns_vip || !ds->has_table ||
		    !ds->svc->cfg.in_group)
			continue;
		table_vip(ds, &out[n]);
		out[n].version = ds->version;
		memcpy(out[n].digest, ds->digest, sizeof(out[n].digest));
		n++;
	}
	return n;
}

int drd_group_compare(struct albmd *d, const struct albm_sync_table *t, bool *equal,
		      const char **service)
{
	struct albm_addr vip;
	struct drd_svc *ds;

	if (t->family != AF_INET && t->family != AF_INET6)
		return -EINVAL;
	addr_from(t->family, t->vip, t->port, &vip);
	ds = svc_of_vip(d, &vip);
	if (!ds || !ds->has_table || !ds->svc->cfg.in_group)
		return -ENOENT;
	*equal = !memcmp(ds->digest, t->digest, sizeof(ds->digest));
	*service = ds->svc->name;
	return 0;
}
