/* ALBM: albmd's DR plane — announce a service's VIP exactly while the service is ready
 *
 * A service with `announce on` puts its VIP on the announce device (`announce-device`,
 * a non-persistent tun device: src/dr/dr_announce.c) while it is ready; BIRD's
 * `direct` protocol turns the address into a route and BGP announces it
 * (contrib/bird/distributor.conf, docs/ha.md).  Ready means: it owns its VIP on the
 * interface, the XDP program is still attached there, and its table has been built
 * with at least one server that takes new flows.  It is withdrawn when that stops
 * being true (all servers down, the interface gone, a table that cannot be written),
 * when the service stops or moves away on a reload, and first of all on a drain
 * (SIGTERM: drd_announce_withdraw_all closes the device, every VIP at once).  The
 * device lives only while a VIP is on it, and dies with albmd: a crash or kill -9
 * withdraws everything, with nothing left to run.
 *
 * Announcing follows the tick (100 ms), where the committed config names the device;
 * withdrawing is immediate.  Two services on one address (other ports) share it.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

static bool svc_ready(const struct drd_svc *ds)
{
	return ds->svc && ds->owns_vip && !ds->ifc->detached && ds->has_table && ds->table_reals;
}

static bool same_host(const struct albm_addr *a, const struct albm_addr *b)
{
	struct albm_addr x = *a, y = *b;

	albm_addr_set_port(&x, 0);
	albm_addr_set_port(&y, 0);
	return albm_addr_equal(&x, &y);
}

/* Another announced service on the same host address (another port)? */
static bool host_shared(struct albmd *d, const struct drd_svc *ds)
{
	for (size_t i = 0; i < d->nservices; i++) {
		const struct drd_svc *o = d->services[i]->dp_data;
		if (d->services[i]->dp == &albmd_dp_dr && o && o != ds && o->announced &&
		    same_host(&o->vip, &ds->vip))
			return true;
	}
	return false;
}

/* Close the device: every VIP on it is withdrawn at once. */
static void ann_close(struct albmd *d, struct drd_state *st)
{
	if (!st->ann)
		return;
	dr_announce_close(st->ann);
	st->ann = NULL;
	st->nann = 0;
	for (size_t i = 0; i < d->nservices; i++) {
		struct drd_svc *ds = d->services[i]->dp_data;
		if (d->services[i]->dp == &albmd_dp_dr && ds)
			ds->announced = false;
	}
	LOG_INFO("announce device %s closed: every VIP on it withdrawn", st->ann_dev);
}

static int ann_open(struct albmd *d, struct drd_state *st)
{
	char err[256];

	if (st->ann && strcmp(st->ann_dev, d->cfg.announce_device))
		ann_close(d, st); /* the device was renamed (reload) */
	if (st->ann)
		return 0;
	st->ann = dr_announce_open(d->cfg.announce_device, err, sizeof(err));
	if (!st->ann) {
		LOG_RL(ALBM_LOG_ERR, "announce: %s", err);
		return -1;
	}
	snprintf(st->ann_dev, sizeof(st->ann_dev), "%s", d->cfg.announce_device);
	return 0;
}

static void ann_add(struct drd_svc *ds, struct drd_state *st)
{
	char err[256], host[ALBM_ADDRSTRLEN];

	if (ann_open(ds->d, st) < 0)
		return;
	if (!host_shared(ds->d, ds) && dr_announce_add(st->ann, &ds->vip, err, sizeof(err)) < 0) {
		LOG_RL(ALBM_LOG_ERR, "service '%s': announce: %s", ds->svc->name, err);
		return;
	}
	ds->announced = true;
	st->nann++;
	LOG_INFO("service '%s': ready: VIP %s announced (on %s)", ds->svc->name,
		 albm_addr_format_host(&ds->vip, host, sizeof(host)), st->ann_dev);
}

static void ann_del(struct drd_svc *ds, struct drd_state *st, const char *why)
{
	char err[256], host[ALBM_ADDRSTRLEN];

	ds->announced = false;
	if (!st->ann)
		return;
	if (!host_shared(ds->d, ds) && dr_announce_del(st->ann, &ds->vip, err, sizeof(err)) < 0)
		LOG_RL(ALBM_LOG_ERR, "service '%s': withdraw: %s", ds->svc->name, err);
	LOG_INFO("service '%s': VIP %s withdrawn (%s)", ds->svc ? ds->svc->name : "?",
		 albm_addr_format_host(&ds->vip, host, sizeof(host)), why);
	if (st->nann)
		st->nann--;
	if (!st->nann)
		ann_close(ds->d, st);
}

/* Why ds is not ready (a word for the log). */
static const char *not_ready_why(const struct drd_svc *ds)
{
	if (!ds->owns_vip)
		return "its VIP moved to another service";
	if (ds->ifc->detached)
		return "the XDP program is no longer attached";
	if (!ds->has_table)
		return "no table";
	return "no server takes new flows";
}

void drd_announce_update(struct drd_svc *ds)
{
	struct drd_state *st = drd_state(ds->d);
	bool want = ds->svc && ds->svc->cfg.announce && !st->withdrawn && svc_ready(ds);

	if (want && !ds->announced)
		ann_add(ds, st);
	else if (!want && ds->announced)
		ann_del(ds, st,
			!ds->svc || !ds->svc->cfg.announce ? "announce off"
			: st->withdrawn                    ? "draining"
							   : not_ready_why(ds));
}

void drd_announce_stop(struct drd_svc *ds)
{
	if (ds->announced)
		ann_del(ds, drd_state(ds->d), "service stopped");
	drd_state_release(ds->d);
}

bool drd_announce_withdraw_all(struct albmd *d)
{
	struct drd_state *st = d->dp_state[ALBMD_MODE_DR];
	bool any;

	if (!st) /* no DR service: nothing announced */
		return false;
	any = st->ann != NULL;
	st->withdrawn = true;
	ann_close(d, st);
	return any;
}
