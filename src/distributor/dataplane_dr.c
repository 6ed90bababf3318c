/* ALBM: albmd's Direct Routing data plane — the scheduler's decisions as an XDP lookup table
 *
 * User space decides, XDP executes (docs/dr.md).  A `mode dr` service is one VIP on
 * one interface of the XDP program (src/dr, one attachment per interface, shared by
 * the services on it).  albmd keeps everything it has in proxy mode — the scheduler
 * library, agents, health checks, albmctl — and this file turns that state into the
 * real set and table weights the program hashes new flows into:
 *
 *   rr, dh              every usable server weight 1 (their weights do not count);
 *   wrr, sh, mh         the usable servers' scheduler weights (drain 0, slow start);
 *   albm                its effective weights (agent capacity, overload -> 0);
 *   every other one     (lc, wlc, sed, nq, twos, lblc, lblcr, fo, ovf) the counts of
 *                       K picks the scheduler makes on the live connection counts.
 *
 * A server is in the real set while it is up (health, agent, admin) and its MAC is
 * known; drained, overloaded or re-weighted servers stay in the set with a smaller
 * or zero weight, so only new flows move.  A server that goes down or is removed
 * leaves the set: its flows are rescheduled by the program.
 *
 * Every tick (albmd's ALBMD_TICK_MS, 100 ms) the per-real XDP counters (new and closed
 * flows) are read and fed to the scheduler as connection counts, so lc-like
 * schedulers, maxconn and `albmctl list` see the flows; the table is then
 * recomputed.  changed() from albmd (weights, states, reports) marks the table dirty
 * and a zero-delay timer rebuilds it once per loop pass.  Everything runs in the main
 * thread with d->lock held.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"

#define DRD_TICK_MS ALBMD_TICK_MS /* albmd calls tick() this often */
#define DRD_PREPARE_RESOLVE_MS 1000 /* prepare waits this long for ARP replies */
#define DRD_RESOLVE_GRACE_MS 1000   /* an unresolved server is reported after this */
#define DRD_NEIGH_RECHECK_MS 2000   /* resolved MACs are looked up again this often */
#define DRD_PICKS_MIN 32            /* picks per recomputation (least-connection family) */
#define DRD_PICKS_MAX 1024
#define DRD_EFF_SCALE 256           /* albm's effective weight -> integer table weight */

/* ---- interfaces: one XDP attachment each, shared by the DR services on it ---- */

struct drd_iface {
	char name[IF_NAMESIZE];
	enum dr_mode mode;
	struct albm_dr *dr;
	int refs;
	struct drd_iface *next;
};

static struct drd_iface *drd_ifaces; /* main thread */

static const char *xdp_mode_name(enum dr_mode m)
{
	return m == DR_MODE_NATIVE ? "native" : "generic";
}

static struct drd_iface *iface_get(const char *name, enum dr_mode mode, char *err, size_t errlen)
{
	struct dr_opts o = { .mode = mode };
	struct drd_iface *ifc;

	for (ifc = drd_ifaces; ifc; ifc = ifc->next) {
		if (strcmp(ifc->name, name))
			continue;
		if (ifc->mode != mode) {
			albm_seterr(err, errlen, "interface %s: already attached in %s XDP mode by a "
				    "running service (changing xdp-mode needs those services gone "
				    "or a restart)", name, xdp_mode_name(ifc->mode));
			return NULL;
		}
		ifc->refs++;
		return ifc;
	}
	ifc = xcalloc(1, sizeof(*ifc));
	ifc->dr = dr_open(name, &o, err, errlen);
	if (!ifc->dr) {
		free(ifc);
		return NULL;
	}
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->mode = mode;
	ifc->refs = 1;
	ifc->next = drd_ifaces;
	drd_ifaces = ifc;
	LOG_INFO("XDP program attached to %s (%s mode)", name, xdp_mode_name(mode));
	return ifc;
}

/* The last user detaches the program: the interface is left clean. */
static void iface_put(struct drd_iface *ifc)
{
	struct drd_iface **pp;

	if (--ifc->refs > 0)
		return;
	for (pp = &drd_ifaces; *pp && *pp != ifc; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = ifc->next;
	dr_close(ifc->dr);
	LOG_INFO("XDP program detached from %s", ifc->name);
	free(ifc);
}

/* ---- per-service state ---- */

enum drd_table_from { DRD_T_EQUAL, DRD_T_WEIGHTS, DRD_T_EFFECTIVE, DRD_T_PICKS };

static const char *table_from_name(enum drd_table_from t)
{
	static const char *const names[] = { "equal", "weights", "effective-weights", "picks" };

	return names[t];
}

/* One server of the service as the data plane tracks it. */
struct drd_real {
	struct albmd_server *srv;   /* referenced while here */
	uint8_t mac[6];
	bool resolved;
	bool mac_changed;           /* resolved again to another MAC: apply */
	bool reported;              /* "cannot resolve" logged */
	uint64_t unresolved_since;  /* ms; 0 = resolved or never tried */
	uint64_t next_lookup_ms;
	bool in_set;                /* in the real set applied last */
	uint32_t weight;            /* its table weight applied last */
	bool want_in;               /* computed now */
	uint32_t want_w;
	struct dr_real_stats base;  /* counters when it entered the set */
	struct dr_real_stats cur;   /* counters at the last tick */
	struct dr_real_stats acc;   /* counters of its earlier times in the set */
	uint64_t forgotten;         /* flows written off as gone without a FIN (idle) */
	uint64_t last_pkt_ms;
	uint32_t fed;               /* connections counted in the scheduler for it */
	uint32_t flags0;            /* scratch: dest flags before the picks */
};

struct drd_svc {
	struct evl_timer soon;      /* armed by changed(): rebuild once per loop pass */
	struct albmd *d;
	struct albmd_service *svc;  /* NULL until started */
	struct drd_iface *ifc;
	struct albm_addr vip;
	bool owns_vip;              /* false: prepared to take it over from its owner */
	bool dirty;
	struct drd_real *reals;     /* in svc->sched.dests order after reals_sync() */
	size_t nreals;
	uint64_t rate;              /* new flows in the last tick */
	enum drd_table_from from;
};

static void drd_soon(struct evl *loop, struct evl_timer *t);

static enum drd_table_from table_from(const struct albm_service *s)
{
	const char *n = s->sched ? s->sched->name : "";

	if (!strcmp(n, "rr") || !strcmp(n, "dh"))
		return DRD_T_EQUAL;
	if (!strcmp(n, "wrr") || !strcmp(n, "sh") || !strcmp(n, "mh"))
		return DRD_T_WEIGHTS;
	if (!strcmp(n, "albm"))
		return DRD_T_EFFECTIVE;
	return DRD_T_PICKS;
}

/* a += b - base */
static void stats_add(struct dr_real_stats *a, const struct dr_real_stats *b,
		      const struct dr_real_stats *base)
{
	a->pkts += b->pkts - base->pkts;
	a->bytes += b->bytes - base->bytes;
	a->new_flows += b->new_flows - base->new_flows;
	a->closed_flows += b->closed_flows - base->closed_flows;
}

/* ---- MAC resolution (never blocks, except in prepare) ---- */

/* Look srv's MAC up (and ask the kernel to resolve it); true when known. */
static bool real_lookup(struct drd_svc *ds, struct drd_real *e, uint64_t now)
{
	char err[256], host[ALBM_ADDRSTRLEN];
	uint8_t mac[6];
	int rc = dr_resolve_mac(ds->ifc->name, &e->srv->addr, mac, 0, err, sizeof(err));

	e->next_lookup_ms = now + (rc == 0 ? DRD_NEIGH_RECHECK_MS : DRD_TICK_MS);
	if (rc == 0) {
		if (e->resolved && memcmp(e->mac, mac, 6))
			e->mac_changed = true;
		if (!e->resolved || e->mac_changed)
			ds->dirty = true;
		if (e->reported)
			LOG_INFO("service '%s': server '%s' resolved: it gets traffic again",
				 ds->svc->name, e->srv->name);
		memcpy(e->mac, mac, 6);
		e->resolved = true;
		e->reported = false;
		e->unresolved_since = 0;
		return true;
	}
	if (!e->unresolved_since)
		e->unresolved_since = now;
	if (!e->reported && now - e->unresolved_since >= DRD_RESOLVE_GRACE_MS) {
		albm_addr_format_host(&e->srv->addr, host, sizeof(host));
		if (rc == -EHOSTUNREACH)
			snprintf(err, sizeof(err), "resolve %s on %s: no ARP/neighbour reply "
				 "(not on this L2 segment, or down?)", host, ds->ifc->name);
		LOG_ERR("service '%s': server '%s': %s; it is held down until it resolves",
			ds->svc->name, e->srv->name, err);
		e->reported = true;
	}
	return false;
}

/* Ask the kernel to resolve every configured server, wait up to
 * DRD_PREPARE_RESOLVE_MS for all of them (warms the neighbour table; prepare). */
static void resolve_warm(const struct albmd_cfg_service *cfg)
{
	uint64_t deadline = albm_now_ms() + DRD_PREPARE_RESOLVE_MS;
	bool *done = xcalloc(cfg->nservers + 1, sizeof(*done));
	size_t left = cfg->nservers;
	uint8_t mac[6];
	char err[256];

	while (left) {
		for (size_t i = 0; i < cfg->nservers; i++) {
			if (!done[i] && dr_resolve_mac(cfg->interface, &cfg->servers[i].addr, mac, 0,
						       err, sizeof(err)) == 0) {
				done[i] = true;
				left--;
			}
		}
		if (!left || albm_now_ms() >= deadline)
			break;
		poll(NULL, 0, 20);
	}
	free(done);
}

/* ---- connection counts from the XDP counters ---- */

/* Counters of e since it entered the set (all zero when it is not in it). */
static int real_read(struct drd_svc *ds, struct drd_real *e, struct dr_real_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!e->in_set)
		return -ENOENT;
	return dr_read_real_stats(ds->ifc->dr, &ds->vip, &e->srv->addr, st);
}

/* Count fed +/- 1 in the proxy-style statistics too (list, /metrics). */
static void fed_stat(struct drd_svc *ds, struct drd_real *e, int64_t delta)
{
	ALBMD_STAT_ADD(ds->svc->st.conns_active, (uint64_t)delta);
	ALBMD_STAT_ADD(e->srv->st.conns_active, (uint64_t)delta);
}

/* Make the scheduler count e's live flows: opened - closed since it entered the set,
 * minus flows written off because the real saw no packet for idle-timeout (a flow
 * that ends without a client FIN/RST is never counted closed).  new_flows: flows
 * scheduled to it since the last tick (its total_conns and picks). */
static void real_feed(struct drd_svc *ds, struct drd_real *e, uint64_t new_flows, uint64_t now)
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

/* The flows counted for e leave the scheduler (e left the set or the plane). */
static void real_unfeed(struct drd_svc *ds, struct drd_real *e)
{
	struct albm_dest *dest = e->srv->dest;

	fed_stat(ds, e, -(int64_t)e->fed);
	for (; e->fed > 0; e->fed--)
		if (dest)
			albm_svc_conn_close(&ds->svc->sched, dest, true);
}

/* Every tick: counters in, connection counts out, unresolved MACs retried. */
static void reals_poll(struct drd_svc *ds, uint64_t now)
{
	struct dr_real_stats st;
	uint64_t fresh;

	ds->rate = 0;
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		if (now >= e->next_lookup_ms && !real_lookup(ds, e, now) && e->reported) {
			/* held down while unresolved, through albmd's passive-check field
			 * (no connects in mode dr, so nothing else uses it) */
			bool was = e->srv->dest && (e->srv->dest->flags & ALBM_DEST_F_AVAILABLE);
			e->srv->fail_until_ms = now + 3 * DRD_TICK_MS + DRD_RESOLVE_GRACE_MS;
			if (was)
				albmd_server_refresh(ds->d, e->srv);
		}
		if (real_read(ds, e, &st) < 0)
			continue;
		if (st.pkts != e->cur.pkts)
			e->last_pkt_ms = now;
		if (st.new_flows != e->cur.new_flows || st.closed_flows != e->cur.closed_flows)
			ds->dirty = true; /* connection counts move lc-like picks and maxconn */
		fresh = st.new_flows - e->cur.new_flows;
		ds->rate += fresh;
		e->cur = st;
		real_feed(ds, e, fresh, now);
	}
}

/* ---- the real set: albmd's servers in dests order ---- */

static void real_release(struct drd_svc *ds, struct drd_real *e)
{
	real_unfeed(ds, e);
	albmd_server_unref(e->srv);
}

/* Follow svc's server list: new servers get an entry (and a MAC lookup), servers
 * gone lose theirs.  Afterwards ds->reals[i] is svc->sched.dests[i]'s. */
static void reals_sync(struct drd_svc *ds, uint64_t now)
{
	struct albm_service *s = &ds->svc->sched;
	struct drd_real *next = xcalloc(s->ndests + 1, sizeof(*next));

	for (size_t i = 0; i < s->ndests; i++) {
		struct albmd_server *srv = albmd_dest_server(s->dests[i]);
		size_t j = i < ds->nreals && ds->reals[i].srv == srv ? i : ds->nreals;
		for (size_t k = 0; j == ds->nreals && k < ds->nreals; k++)
			if (ds->reals[k].srv == srv)
				j = k;
		if (j < ds->nreals) {
			next[i] = ds->reals[j];
			ds->reals[j].srv = NULL;
			continue;
		}
		next[i].srv = srv;
		next[i].last_pkt_ms = now;
		albmd_server_ref(srv);
		real_lookup(ds, &next[i], now);
	}
	for (size_t k = 0; k < ds->nreals; k++)
		if (ds->reals[k].srv)
			real_release(ds, &ds->reals[k]);
	free(ds->reals);
	ds->reals = next;
	ds->nreals = s->ndests;
}

/* ---- table weights ---- */

static void flow_for_pick(struct albm_flow *f, const struct albm_addr *vip, uint32_t k)
{
	memset(f, 0, sizeof(*f));
	f->family = (uint8_t)albm_addr_family(vip);
	f->proto = IPPROTO_TCP;
	f->dport = (uint16_t)albm_addr_port(vip);
	f->sport = (uint16_t)(1024 + k % 60000);
	/* synthetic clients 198.18.0.0/15 (RFC 2544): the hashing schedulers spread too */
	f->saddr[0] = 198;
	f->saddr[1] = (uint8_t)(18 + ((k >> 16) & 1));
	f->saddr[2] = (uint8_t)(k >> 8);
	f->saddr[3] = (uint8_t)k;
	if (f->family == AF_INET)
		memcpy(f->daddr, &vip->u.sin.sin_addr, 4);
	else
		memcpy(f->daddr, &vip->u.sin6.sin6_addr, 16);
}

/* The least-connection family: ask the scheduler for K picks on the live counts,
 * counting each pick as a connection so the picks spread as K connections would;
 * then undo every trace (counts, flags, statistics). */
static void weights_from_picks(struct drd_svc *ds)
{
	struct albm_service *s = &ds->svc->sched;
	uint64_t picks0 = s->picks, no_dest0 = s->no_dest;
	uint64_t k, kmax = ALBM_MIN(ALBM_MAX(2 * ds->rate, DRD_PICKS_MIN), DRD_PICKS_MAX);
	struct albm_flow flow;

	for (size_t i = 0; i < ds->nreals; i++) {
		ds->reals[i].want_w = 0;
		ds->reals[i].flags0 = s->dests[i]->flags;
	}
	for (k = 0; k < kmax; k++) {
		struct albm_dest *dest;
		flow_for_pick(&flow, &ds->vip, (uint32_t)k);
		if (!(dest = albm_svc_schedule(s, &flow)))
			break;
		ds->reals[dest->idx].want_w++;
		albm_svc_conn_open(s, dest, true);
	}
	for (size_t i = 0; i < ds->nreals; i++) {
		struct albm_dest *dest = s->dests[i];
		struct drd_real *e = &ds->reals[i];
		for (uint32_t j = 0; j < e->want_w; j++)
			albm_svc_conn_close(s, dest, true);
		dest->total_conns -= e->want_w;
		if (dest->flags != e->flags0)
			albm_svc_set_flags(s, dest, e->flags0 & ~dest->flags, dest->flags & ~e->flags0);
	}
	s->picks = picks0;
	s->no_dest = no_dest0;
}

/* albm: effective weights; when every server is excluded, the one server its
 * all-overloaded policy would pick (none with `refuse`).  `queue` counts as
 * least-loaded here: XDP forwards packets and has nowhere to hold a new flow. */
static void weights_from_effective(struct drd_svc *ds)
{
	struct albm_service *s = &ds->svc->sched;
	uint64_t picks0 = s->picks, no_dest0 = s->no_dest;
	int policy = s->adaptive.all_overloaded_policy;
	struct albm_flow flow;
	struct albm_dest *dest;
	bool any = false;

	for (size_t i = 0; i < ds->nreals; i++) {
		double eff = s->dests[i]->eff_weight;
		uint32_t w = eff > 0 ? (uint32_t)ALBM_MAX(1, lround(eff * DRD_EFF_SCALE)) : 0;
		ds->reals[i].want_w = w;
		any |= w > 0;
	}
	if (any)
		return;
	flow_for_pick(&flow, &ds->vip, 0);
	if (policy == ALBM_ALL_OVL_QUEUE)
		s->adaptive.all_overloaded_policy = ALBM_ALL_OVL_LEAST_LOADED;
	dest = albm_svc_schedule(s, &flow);
	s->adaptive.all_overloaded_policy = policy;
	if (dest)
		ds->reals[dest->idx].want_w = 1;
	s->picks = picks0;
	s->no_dest = no_dest0;
}

static void weights_compute(struct drd_svc *ds)
{
	struct albm_service *s = &ds->svc->sched;

	ds->from = table_from(s);
	if (ds->from == DRD_T_PICKS)
		weights_from_picks(ds);
	else if (ds->from == DRD_T_EFFECTIVE)
		weights_from_effective(ds);
	for (size_t i = 0; i < ds->nreals; i++) {
		struct albm_dest *dest = s->dests[i];
		struct drd_real *e = &ds->reals[i];
		e->want_in = e->resolved && (dest->flags & ALBM_DEST_F_AVAILABLE);
		if (ds->from == DRD_T_EQUAL)
			e->want_w = albm_dest_usable(dest) ? 1 : 0;
		else if (ds->from == DRD_T_WEIGHTS)
			e->want_w = albm_dest_usable(dest) ? (uint32_t)dest->weight : 0;
		if (!e->want_in)
			e->want_w = 0;
	}
}

/* Worth a table rebuild?  Static weights: any change.  Measured ones: a change to
 * or from 0, or by more than hi >> shift — 1/32 for albm's effective weights, 1/8
 * for pick counts (K picks vary by a few from tick to tick on the same state). */
static bool weight_moved(uint32_t old, uint32_t now, unsigned shift)
{
	uint32_t hi = ALBM_MAX(old, now), diff = hi - ALBM_MIN(old, now);

	if (old == now)
		return false;
	if (!shift || !old || !now)
		return true;
	return diff > (hi >> shift);
}

static bool table_differs(const struct drd_svc *ds)
{
	unsigned shift = ds->from == DRD_T_PICKS ? 3 : ds->from == DRD_T_EFFECTIVE ? 5 : 0;

	for (size_t i = 0; i < ds->nreals; i++) {
		const struct drd_real *e = &ds->reals[i];
		if (e->want_in != e->in_set || (e->want_in && e->mac_changed) ||
		    (e->want_in && weight_moved(e->weight, e->want_w, shift)))
			return true;
	}
	return false;
}

/* Reals leave the set: keep their counters, give their flows back. */
static void set_leave(struct drd_svc *ds)
{
	struct dr_real_stats st;

	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		if (!e->in_set || e->want_in)
			continue;
		if (real_read(ds, e, &st) == 0)
			stats_add(&e->acc, &st, &e->base);
		real_unfeed(ds, e);
		memset(&e->base, 0, sizeof(e->base));
		memset(&e->cur, 0, sizeof(e->cur));
		e->forgotten = 0;
	}
}

/* Give the program the computed set; 0 or -errno (logged, retried next tick). */
static int set_apply(struct drd_svc *ds)
{
	struct dr_real *set = xcalloc(ds->nreals + 1, sizeof(*set));
	size_t n = 0;
	char err[256];
	int rc;

	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		if (!e->want_in)
			continue;
		set[n].addr = e->srv->addr;
		memcpy(set[n].mac, e->mac, 6);
		set[n].weight = e->want_w;
		n++;
	}
	set_leave(ds);
	rc = dr_set_reals(ds->ifc->dr, &ds->vip, set, n, err, sizeof(err));
	free(set);
	if (rc < 0) {
		LOG_RL(ALBM_LOG_ERR, "service '%s': %s", ds->svc->name, err);
		return rc;
	}
	LOG_DEBUG("service '%s': table rebuilt from %s (%zu real(s) in the set)", ds->svc->name,
		  table_from_name(ds->from), n);
	for (size_t i = 0; i < ds->nreals; i++) {
		struct drd_real *e = &ds->reals[i];
		bool entered = e->want_in && !e->in_set;
		e->in_set = e->want_in;
		e->weight = e->want_w;
		e->mac_changed = false;
		if (entered) { /* a fresh index: its counters start now */
			real_read(ds, e, &e->base);
			e->cur = e->base;
			e->fed = 0;
			e->forgotten = 0;
		}
	}
	return 0;
}

/* Recompute the table from the scheduler's state; apply it when it moved. */
static void table_rebuild(struct drd_svc *ds, uint64_t now, bool sync)
{
	if (!ds->svc || !ds->owns_vip)
		return;
	if (sync)
		reals_sync(ds, now);
	weights_compute(ds);
	ds->dirty = false;
	if (table_differs(ds) && set_apply(ds) < 0)
		ds->dirty = true;
}

/* ---- timers ---- */

/* albmd's periodic tick (lock held): counters in, MACs retried, table recomputed. */
static void dr_tick(struct albmd *d, struct albmd_service *svc)
{
	struct drd_svc *ds = svc->dp_data;
	uint64_t now = albm_now_ms();

	(void)d;
	if (!ds || !ds->owns_vip)
		return;
	reals_sync(ds, now);
	reals_poll(ds, now);
	if (ds->dirty)
		table_rebuild(ds, now, false);
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

static int dr_prepare(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep,
		      char *err, size_t errlen)
{
	struct drd_svc *ds = xcalloc(1, sizeof(*ds));
	char e[256], abuf[ALBM_ADDRSTRLEN];
	int rc;

	evl_timer_init(&ds->soon);
	ds->d = d;
	ds->vip = cfg->listen;
	ds->ifc = iface_get(cfg->interface, cfg->xdp_mode == ALBMD_XDP_NATIVE ? DR_MODE_NATIVE :
			    DR_MODE_GENERIC, e, sizeof(e));
	if (!ds->ifc) {
		albm_seterr(err, errlen, "service '%s': %s", cfg->name, e);
		free(ds);
		return -ENODEV;
	}
	if (!vip_owner(d, ds->ifc, &ds->vip)) { /* else: taken over in start() */
		rc = dr_add_vip(ds->ifc->dr, &ds->vip, e, sizeof(e));
		if (rc < 0) {
			albm_seterr(err, errlen, "service '%s': %s on %s: %s", cfg->name,
				    albm_addr_format(&ds->vip, abuf, sizeof(abuf)), cfg->interface, e);
			iface_put(ds->ifc);
			free(ds);
			return rc;
		}
		ds->owns_vip = true;
	}
	resolve_warm(cfg);
	*prep = ds;
	return 0;
}

/* Stop the timers, give the VIP back to the kernel (if still ours), let go. */
static void drd_free(struct albmd *d, struct drd_svc *ds)
{
	char e[256];

	evl_timer_stop(d->loop, &ds->soon);
	if (ds->owns_vip && dr_del_vip(ds->ifc->dr, &ds->vip, e, sizeof(e)) < 0)
		LOG_WARN("%s", e);
	for (size_t i = 0; i < ds->nreals; i++)
		real_release(ds, &ds->reals[i]);
	free(ds->reals);
	iface_put(ds->ifc);
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
		owner->owns_vip = false; /* a reload moved the VIP to this service */
		ds->owns_vip = true;
	}
	if (old && old != ds) {
		svc->dp_data = NULL;
		drd_free(d, old);
	}
	ds->svc = svc;
	svc->dp_data = ds;
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

static void dr_changed(struct albmd *d, struct albmd_service *svc)
{
	struct drd_svc *ds = svc->dp_data;

	if (!ds)
		return;
	ds->dirty = true;
	if (!evl_timer_armed(&ds->soon))
		evl_timer_start(d->loop, &ds->soon, 0, drd_soon);
}

const struct albmd_dataplane_ops albmd_dp_dr = {
	.name = "dr",
	.prepare = dr_prepare,
	.abandon = dr_abandon,
	.start = dr_start,
	.stop = dr_stop,
	.changed = dr_changed,
	.tick = dr_tick,
};

/* ---- views: albmctl list, /api/state, /metrics ---- */

static struct drd_real *real_of(const struct albmd_server *srv, struct drd_svc **dsp)
{
	const struct albmd_service *svc = srv->svc;
	struct drd_svc *ds = svc && svc->dp == &albmd_dp_dr ? svc->dp_data : NULL;

	if (!ds)
		return NULL;
	*dsp = ds;
	for (size_t i = 0; i < ds->nreals; i++)
		if (ds->reals[i].srv == srv)
			return &ds->reals[i];
	return NULL;
}

int albmd_dp_dr_server_view(const struct albmd_server *srv, struct albmd_dr_view *v)
{
	struct drd_svc *ds;
	struct drd_real *e = real_of(srv, &ds);
	struct dr_real_stats st;

	memset(v, 0, sizeof(*v));
	if (!e)
		return -ENOENT;
	v->in_table = e->in_set;
	v->mac_resolved = e->resolved;
	memcpy(v->mac, e->mac, 6);
	v->table_weight = e->in_set ? e->weight : 0;
	v->st = e->acc;
	if (real_read(ds, e, &st) == 0)
		stats_add(&v->st, &st, &e->base);
	return 0;
}

static void fmt_mac(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

json_t *albmd_dp_dr_server_json(const struct albmd_server *srv)
{
	struct albmd_dr_view v;
	char mac[24];

	if (albmd_dp_dr_server_view(srv, &v) < 0)
		return NULL;
	fmt_mac(v.mac, mac, sizeof(mac));
	return json_pack("{s:b, s:s?, s:I, s:I, s:I, s:I, s:I}", "in_table", v.in_table,
			 "mac", v.mac_resolved ? mac : NULL,
			 "table_weight", (json_int_t)v.table_weight,
			 "packets", (json_int_t)v.st.pkts, "bytes", (json_int_t)v.st.bytes,
			 "new_flows", (json_int_t)v.st.new_flows,
			 "closed_flows", (json_int_t)v.st.closed_flows);
}

json_t *albmd_dp_dr_service_json(const struct albmd_service *svc)
{
	const struct drd_svc *ds = svc->dp == &albmd_dp_dr ? svc->dp_data : NULL;
	json_t *counters;
	uint64_t v;

	if (!ds)
		return NULL;
	counters = json_object();
	for (size_t i = 0; i < dr_stat_count(); i++)
		if (dr_read_stat(ds->ifc->dr, dr_stat_name(i), &v) == 0)
			json_object_set_new(counters, dr_stat_name(i), json_integer((json_int_t)v));
	return json_pack("{s:s, s:s, s:s, s:b, s:o}", "interface", ds->ifc->name,
			 "xdp_mode", xdp_mode_name(ds->ifc->mode), "table_from",
			 table_from_name(ds->from), "owns_vip", ds->owns_vip, "counters", counters);
}

void albmd_dp_dr_server_text(const struct albmd_server *srv, struct albmd_buf *out)
{
	struct albmd_dr_view v;
	char mac[24];

	if (albmd_dp_dr_server_view(srv, &v) < 0)
		return;
	if (v.mac_resolved)
		fmt_mac(v.mac, mac, sizeof(mac));
	else
		snprintf(mac, sizeof(mac), "unresolved");
	albmd_buf_printf(out, "     dr: %s table-weight %u flows %llu closed %llu packets %llu "
			 "bytes %llu mac %s\n", v.in_table ? "in-table" : "out",
			 v.table_weight, (unsigned long long)v.st.new_flows,
			 (unsigned long long)v.st.closed_flows, (unsigned long long)v.st.pkts,
			 (unsigned long long)v.st.bytes, mac);
}

/* One family with a sample per DR server. */
static void metrics_family(struct albmd *d, struct albmd_buf *b, const char *name,
			   const char *type, const char *help, int field)
{
	bool header = false;

	for (size_t i = 0; i < d->nservices; i++) {
		struct albm_service *s = &d->services[i]->sched;
		for (size_t j = 0; j < s->ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(s->dests[j]);
			struct albmd_dr_view v;
			if (albmd_dp_dr_server_view(srv, &v) < 0)
				continue;
			uint64_t val[] = { v.st.pkts, v.st.bytes, v.st.new_flows, v.st.closed_flows,
					   v.table_weight };
			if (!header)
				albmd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
			header = true;
			albmd_buf_printf(b, "%s{service=\"%s\",server=\"%s\"} %llu\n", name,
					 d->services[i]->name, srv->name, (unsigned long long)val[field]);
		}
	}
}

void albmd_dp_dr_metrics(struct albmd *d, struct albmd_buf *b)
{
	uint64_t v;

	metrics_family(d, b, "albm_dr_server_packets_total", "counter",
		       "DR: frames the XDP program forwarded to the server", 0);
	metrics_family(d, b, "albm_dr_server_bytes_total", "counter",
		       "DR: bytes of those frames (Ethernet header included)", 1);
	metrics_family(d, b, "albm_dr_server_new_flows_total", "counter",
		       "DR: flows the XDP program scheduled to the server", 2);
	metrics_family(d, b, "albm_dr_server_closed_flows_total", "counter",
		       "DR: of those, flows whose client sent FIN or RST", 3);
	metrics_family(d, b, "albm_dr_server_table_weight", "gauge",
		       "DR: the server's weight in the lookup table", 4);
	if (!drd_ifaces)
		return;
	albmd_buf_printf(b, "# HELP albm_dr_xdp_total DR: XDP program counters by interface "
			 "and reason (docs/dr.md)\n# TYPE albm_dr_xdp_total counter\n");
	for (struct drd_iface *ifc = drd_ifaces; ifc; ifc = ifc->next)
		for (size_t i = 0; i < dr_stat_count(); i++)
			if (dr_read_stat(ifc->dr, dr_stat_name(i), &v) == 0)
				albmd_buf_printf(b, "albm_dr_xdp_total{interface=\"%s\",counter=\"%s\"} "
						 "%llu\n", ifc->name, dr_stat_name(i),
						 (unsigned long long)v);
}
