/* ALBM: albmd's DR plane — the real set: albmd's servers in list order, their MACs
 *
 * Each server of a DR service has an entry here while it is in the service, holding
 * a reference to it.  MACs come from the neighbour table (dr_resolve_mac, which
 * never blocks after start-up): retried every tick while unresolved, looked up again
 * every DRD_NEIGH_RECHECK_MS when resolved so that a changed MAC is followed.  A
 * server unresolved for DRD_RESOLVE_GRACE_MS is logged once, by name; dr_feed.c
 * holds it down until it resolves.  While albmd's own interface is down (lookups all
 * fail: the kernel flushed its neighbours) nobody is judged: a flap of our link is
 * not the servers' fault, and their flows resume the moment it is back.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"

/* A lookup succeeded: remember the MAC, and whether the table must follow it. */
static void real_resolved(struct drd_svc *ds, struct drd_real *e, const uint8_t *mac)
{
	if (e->resolved && memcmp(e->mac, mac, 6))
		e->mac_changed = true;
	if (!e->resolved || e->mac_changed)
		ds->dirty = true;
	if (e->reported)
		LOG_INFO("service '%s': server '%s' resolved: it gets traffic again", ds->svc->name,
			 e->srv->name);
	memcpy(e->mac, mac, 6);
	e->resolved = true;
	e->reported = false;
	e->unresolved_since = 0;
}

/* The interface is up and has a carrier.  While it has not, every neighbour lookup
 * fails (the kernel flushes the table on link down): that is albmd's own link, not the
 * servers' fault. */
static bool link_running(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = true; /* when in doubt, judge the server as before */

	if (fd < 0)
		return true;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return up;
}

bool drd_real_lookup(struct drd_svc *ds, struct drd_real *e, uint64_t now)
{
	char err[256], host[ALBM_ADDRSTRLEN];
	uint8_t mac[6];
	int rc = dr_resolve_mac(ds->ifc->name, &e->srv->addr, mac, 0, err, sizeof(err));

	e->next_lookup_ms = now + (rc == 0 ? DRD_NEIGH_RECHECK_MS : DRD_TICK_MS);
	if (rc == 0) {
		if (ds->ifc->link_down)
			LOG_INFO("interface %s is up again", ds->ifc->name);
		ds->ifc->link_down = false;
		real_resolved(ds, e, mac);
		return true;
	}
	if (!link_running(ds->ifc->name)) {
		/* a flap of our link: the servers keep their MACs and states, so that the
		 * flows go on where they were the moment the link is back */
		if (!ds->ifc->link_down)
			LOG_WARN("interface %s is down: the servers keep their MACs and states "
				 "until it is back (a local fault is not theirs)",
				 ds->ifc->name);
		ds->ifc->link_down = true;
		e->unresolved_since = 0;
		return e->resolved;
	}
	if (!e->unresolved_since)
		e->unresolved_since = now;
	if (!e->reported && now - e->unresolved_since >= DRD_RESOLVE_GRACE_MS) {
		albm_addr_format_host(&e->srv->addr, host, sizeof(host));
		if (rc == -EHOSTUNREACH)
			snprintf(err, sizeof(err),
				 "resolve %s on %s: no ARP/neighbour reply "
				 "(not on this L2 segment, or down?)",
				 host, ds->ifc->name);
		LOG_ERR("service '%s': server '%s': %s; it is held down until it resolves",
			ds->svc->name, e->srv->name, err);
		e->reported = true;
	}
	return false;
}

void drd_resolve_warm(const struct albmd_cfg_service *cfg)
{
	uint64_t deadline = albm_now_ms() + DRD_PREPARE_RESOLVE_MS;
	bool *done = xcalloc(cfg->nservers + 1, sizeof(*done));
	size_t left = cfg->nservers;
	uint8_t mac[6];
	char err[256];

	while (left) {
		for (size_t i = 0; i < cfg->nservers; i++) {
			if (!done[i] && dr_resolve_mac(cfg->interface, &cfg->servers[i].addr, mac,
						       0, err, sizeof(err)) == 0) {
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

void drd_real_release(struct drd_svc *ds, struct drd_real *e)
{
	drd_real_unfeed(ds, e);
	albmd_server_unref(e->srv);
}

/* The entry of srv in the old list (its position i first: the common case), or
 * ds->nreals. */
static size_t real_find(const struct drd_svc *ds, const struct albmd_server *srv, size_t i)
{
	if (i < ds->nreals && ds->reals[i].srv == srv)
		return i;
	for (size_t k = 0; k < ds->nreals; k++)
		if (ds->reals[k].srv == srv)
			return k;
	return ds->nreals;
}

void drd_reals_sync(struct drd_svc *ds, uint64_t now)
{
	struct albm_service *s = &ds->svc->sched;
	struct drd_real *next = xcalloc(s->ndests + 1, sizeof(*next));

	for (size_t i = 0; i < s->ndests; i++) {
		struct albmd_server *srv = albmd_dest_server(s->dests[i]);
		size_t j = real_find(ds, srv, i);
		if (j < ds->nreals) {
			next[i] = ds->reals[j];
			ds->reals[j].srv = NULL;
			continue;
		}
		next[i].srv = srv;
		next[i].last_pkt_ms = now;
		albmd_server_ref(srv);
		drd_real_lookup(ds, &next[i], now);
	}
	for (size_t k = 0; k < ds->nreals; k++)
		if (ds->reals[k].srv)
			drd_real_release(ds, &ds->reals[k]);
	free(ds->reals);
	ds->reals = next;
	ds->nreals = s->ndests;
}
