/* ALBM: albmd's Direct Routing data plane — the scheduler's decisions as an XDP lookup table
 *
 * User space decides, XDP executes (docs/dr.md).  A `mode dr` service is one VIP on
 * one interface of the XDP program (src/dr, one attachment per interface, shared by
 * the services on it: dr_iface.c).  albmd keeps everything it has in proxy mode —
 * the scheduler library, agents, health checks, albmctl — and this plane turns that
 * state into the real set and table weights the program hashes new flows into.
 * What the weights are is the weights policy (dr_weights.c): the scheduler's own
 * weights() hook or the default its capabilities select, never its name.
 *
 * A server is in the real set while it is up (health, agent, admin) and its MAC is
 * known (dr_reals.c); drained, overloaded or re-weighted servers stay in the set
 * with a smaller or zero weight, so only new flows move.  A server that goes down or
 * is removed leaves the set: its flows are rescheduled by the program.
 *
 * Every tick (albmd's ALBMD_TICK_MS, 100 ms) the per-real XDP counters are read and
 * fed to the scheduler as connection counts (dr_feed.c); the table is then
 * recomputed.  changed() from albmd (weights, states, reports) marks the table
 * dirty and a zero-delay timer rebuilds it once per loop pass.  In an ha group
 * (docs/ha.md) the weights come from dr_group.c instead: shared inputs only, so
 * that every distributor of the group builds the same table.  A service with
 * `announce on` holds its VIP on the announce device while it is ready (dr_vipann.c).
 * Everything runs in the main thread with d->lock held.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* ---- the table ---- */

/* Step 1 of the weights policy on the service's current state: e->want. */
static void weights_compute(struct drd_svc *ds, struct dr_weight *want)
{
	bool *resolved = xcalloc(ds->nreals + 1, sizeof(*resolved));
	struct dr_weights_in in = { .svc = &ds->svc->sched,
				    .resolved = resolved,
				    .rate = ds->rate };

	for (size_t i = 0; i < ds->nreals; i++)
		resolved[i] = ds->reals[i].resolved;
	ds->kind = dr_weights_compute(&in, want);
	ds->k = dr_weights_k(ds->rate);
	for (size_t i = 0; i < ds->nreals; i++)
		ds->reals[i].want = want[i];
	free(resolved);
}

/* Step 2: a change of membership, of a MAC in the set, or of a weight beyond the
 * kind's tolerance (in a group: any change, the weights are levels already). */
static bool table_differs(const struct drd_svc *ds, const struct dr_weight *want)
{
	struct dr_weight *old = xcalloc(ds->nreals + 1, sizeof(*old));
	enum albm_table_kind kind = ds->svc->cfg.in_group ? ALBM_TABLE_WEIGHTS : ds->kind;
	bool differ = !ds->has_table;

	for (size_t i = 0; i < ds->nreals; i++) {
		old[i] = ds->reals[i].applied;
		differ |= want[i].in && ds->reals[i].mac_changed;
	}
	differ = differ || dr_weights_differ(kind, old, want, ds->nreals);
	free(old);
	return differ;
}

/* Reals leave the set: keep their counters, give their flows back. */
static void set_leave(struct drd_svc *ds)
{
	struct dr_real_stats st;

	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		if (!e->applied.in || e->want.in)
			continue;
		if (drd_real_read(ds, e, &st) == 0)
			drd_stats_add(&e->acc, &st, &e->base);
		drd_real_unfeed(ds, e);
		memset(&e->base, 0, sizeof(e->base));
		memset(&e->cur, 0, sizeof(e->cur));
		e->forgotten = 0;
	}
}

/* The set just applied: entries that entered start counting now. */
static void set_applied(struct drd_svc *ds)
{
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		bool entered = e->want.in && !e->applied.in;
		e->applied = e->want;
		e->mac_changed = false;
		if (entered) { /* a fresh index: its counters start now */
			drd_real_read(ds, e, &e->base);
			e->cur = e->base;
			e->fed = 0;
			e->forgotten = 0;
		}
	}
}

/* Step 3 and the hand-over: quantised weights to the program; 0 or -errno
 * (logged, retried next tick). */
static int set_apply(struct drd_svc *ds, const struct dr_weight *want)
{
	struct dr_real *set = xcalloc(ds->nreals + 1, sizeof(*set));
	uint32_t *q = xcalloc(ds->nreals + 1, sizeof(*q));
	size_t n = 0;
	char err[256];
	int rc;

	dr_weights_quantise(want, ds->nreals, q);
	for (size_t i = 0; i < ds->nreals; i++) {
		if (!want[i].in)
			continue;
		set[n].addr = ds->reals[i].srv->addr;
		memcpy(set[n].mac, ds->reals[i].mac, 6);
		set[n].weight = q[i];
		n++;
	}
	set_leave(ds);
	rc = dr_set_reals(ds->ifc->dr, &ds->vip, set, n, err, sizeof(err));
	ds->table_reals = 0;
	for (size_t i = 0; i < n; i++)
		ds->table_reals += set[i].weight > 0;
	free(set);
	free(q);
	if (rc < 0) {
		ds->has_table = false; /* not ready: not announced (dr_vipann.c) */
		LOG_RL(ALBM_LOG_ERR, "service '%s': %s", ds->svc->name, err);
		return rc;
	}
	ds->has_table = dr_table_digest(ds->ifc->dr, &ds->vip, ds->digest) == 0;
	LOG_DEBUG("service '%s': table rebuilt from %s (%zu real(s) in the set)", ds->svc->name,
		  ds->svc->cfg.in_group ? "the group's weights" : albm_table_kind_name(ds->kind),
		  n);
	set_applied(ds);
	return 0;
}

/* A hashing scheduler (sh, dh, mh) hashes in XDP, per flow: say so once per binding. */
static void sched_note(struct drd_svc *ds)
{
	const struct albm_sched_ops *ops = ds->svc->sched.sched;

	if (ops == ds->noted)
		return;
	ds->noted = ops;
	if (ops && (ops->flags & ALBM_SCHED_F_HASH))
		LOG_INFO("service '%s': %s hashes the flow (5-tuple) in mode dr, not the client: "
			 "a client's connections may reach different servers",
			 ds->svc->name, ops->name);
}

/* Recompute the table from the scheduler's state (in a group: from the group's
 * weights); apply it when it moved. */
static void table_rebuild(struct drd_svc *ds, uint64_t now, bool sync)
{
	struct dr_weight *want;

	if (!ds->svc || !ds->owns_vip)
		return;
	sched_note(ds);
	if (sync)
		drd_reals_sync(ds, now);
	want = xcalloc(ds->nreals + 1, sizeof(*want));
	if (ds->svc->cfg.in_group) {
		drd_group_reports(ds);
		ds->kind = drd_group_weights(ds, want);
		ds->k = 0;
		for (size_t i = 0; i < ds->nreals; i++)
			ds->reals[i].want = want[i];
	} else {
		weights_compute(ds, want);
	}
	ds->dirty = false;
	if (table_differs(ds, want) && set_apply(ds, want) < 0)
		ds->dirty = true;
	free(want);
}

/* ---- timers ---- */

/* albmd's periodic tick (lock held): counters in, MACs retried, table recomputed. */
static void dr_tick(struct albmd *d, struct albmd_service *svc)
{
	struct drd_svc *ds = svc->dp_data;
	uint64_t now = albm_now_ms();

	(void)d;
	if (!ds)
		return;
	drd_iface_check(ds->ifc, now);
	if (ds->owns_vip) {
		drd_reals_sync(ds, now);
		drd_reals_poll(ds, now);
		if (ds->dirty)
			table_rebuild(ds, now, false);
	}
	drd_announce_update(ds);
}

static void drd_soon(struct evl *loop, struct evl_timer *t)
{
	struct drd_svc *ds = (struct drd_svc *)((char *)t - offsetof(struct drd_svc, soon));
	struct albmd *d = evl_data(loop);

	albmd_lock(d);
	if (ds->dirty)
		table_rebuild(ds, albm_now_ms(), true);
	albmd_unlock(d);
}

/* ---- the data-plane operations ---- */

static struct drd_svc *vip_owner(struct albmd *d, const struct drd_iface *ifc,
				 const struct albm_addr *vip)
{
	for (size_t i = 0; i < d->nservices; i++) {
		struct drd_svc *ds = d->services[i]->dp_data;
		if (d->services[i]->dp == &albmd_dp_dr && ds && ds->owns_vip && ds->ifc == ifc &&
		    albm_addr_equal(&ds->vip, vip))
			return ds;
	}
	return NULL;
}

static int dr_prepare(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep, char *err,
		      size_t errlen)
{
	struct drd_svc *ds = xcalloc(1, sizeof(*ds));
	char e[256], abuf[ALBM_ADDRSTRLEN];
	int rc;

	evl_timer_init(&ds->soon);
	evl_timer_init(&ds->boundary);
	ds->d = d;
	ds->vip = cfg->listen;
	ds->ifc =
		drd_iface_get(d, cfg->interface,
			      cfg->xdp_mode == ALBMD_XDP_NATIVE ? DR_MODE_NATIVE : DR_MODE_GENERIC,
			      cfg->flow_sync, e, sizeof(e));
	if (!ds->ifc) {
		albm_seterr(err, errlen, "service '%s': %s", cfg->name, e);
		free(ds);
		return -ENODEV;
	}
	if (!vip_owner(d, ds->ifc, &ds->vip)) { /* else: taken over in start() */
		rc = dr_add_vip(ds->ifc->dr, &ds->vip, e, sizeof(e));
		if (rc < 0) {
			albm_seterr(err, errlen, "service '%s': %s on %s: %s", cfg->name,
				    albm_addr_format(&ds->vip, abuf, sizeof(abuf)), cfg->interface,
				    e);
			drd_iface_put(d, ds->ifc);
			free(ds);
			return rc;
		}
		ds->owns_vip = true;
	}
	drd_resolve_warm(cfg);
	*prep = ds;
	return 0;
}

/* Stop the timers, give the VIP back to the kernel (if still ours), let go. */
static void drd_free(struct albmd *d, struct drd_svc *ds)
{
	char e[256];

	evl_timer_stop(d->loop, &ds->soon);
	drd_announce_stop(ds); /* withdrawn before it stops forwarding */
	drd_group_stop(ds);
	if (ds->owns_vip && dr_del_vip(ds->ifc->dr, &ds->vip, e, sizeof(e)) < 0)
		LOG_WARN("%s", e);
	for (size_t i = 0; i < ds->nreals; i++)
		drd_real_release(ds, &ds->reals[i]);
	free(ds->reals);
	drd_iface_put(d, ds->ifc);
	free(ds);
}

static void dr_abandon(struct albmd *d, void *prep)
{
	drd_free(d, prep);
}

static void dr_start(struct albmd *d, struct albmd_service *svc, void *prep)
{
	struct drd_svc *ds = prep, *old = svc->dp_data, *owner;

	if (!ds->owns_vip && (owner = vip_owner(d, ds->ifc, &ds->vip))) {
		drd_announce_stop(owner); /* announced again by its new service */
		owner->owns_vip = false;  /* a reload moved the VIP to this service */
		ds->owns_vip = true;
	}
	if (old && old != ds) {
		svc->dp_data = NULL;
		drd_free(d, old);
	}
	ds->svc = svc;
	svc->dp_data = ds;
	drd_group_sync(ds);
	table_rebuild(ds, albm_now_ms(), true);
}

static void dr_stop(struct albmd *d, struct albmd_service *svc)
{
	struct drd_svc *ds = svc->dp_data;

	if (!ds)
		return;
	svc->dp_data = NULL;
	drd_free(d, ds);
}

void drd_mark_dirty(struct drd_svc *ds)
{
	ds->dirty = true;
	if (!evl_timer_armed(&ds->soon))
		evl_timer_start(ds->d->loop, &ds->soon, 0, drd_soon);
}

static void dr_changed(struct albmd *d, struct albmd_service *svc)
{
	struct drd_svc *ds = svc->dp_data;

	(void)d;
	if (!ds)
		return;
	drd_group_sync(ds);    /* the group settings may have changed (reload) */
	drd_group_reports(ds); /* a report is taken when it arrives: by its timestamp */
	drd_mark_dirty(ds);
}

static bool dr_withdraw(struct albmd *d)
{
	return drd_announce_withdraw_all(d);
}

const struct albmd_dataplane_ops albmd_dp_dr = {
	.name = "dr",
	.prepare = dr_prepare,
	.abandon = dr_abandon,
	.start = dr_start,
	.stop = dr_stop,
	.changed = dr_changed,
	.tick = dr_tick,
	.withdraw = dr_withdraw,
	.service_json = drd_service_json,
	.server_json = drd_server_json,
	.server_text = drd_server_text,
	.service_text = drd_service_text,
	.metrics = drd_metrics,
};
