/* ALBM: albmd's DR plane — XDP attachments, one per interface, shared by its services
 *
 * The list hangs off the plane's state in struct albmd (d->dp_state[ALBMD_MODE_DR]),
 * so that two daemons in one process (the unit tests) never share one.  An
 * attachment made for a service in an ha group with flow-sync on loads the program
 * with sync on, and its flow ring joins the main loop (dr_group.c).
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

struct drd_state *drd_state(struct albmd *d)
{
	struct drd_state *st = d->dp_state[ALBMD_MODE_DR];

	if (!st) {
		st = xcalloc(1, sizeof(*st));
		d->dp_state[ALBMD_MODE_DR] = st;
	}
	return st;
}

void drd_state_release(struct albmd *d)
{
	struct drd_state *st = d->dp_state[ALBMD_MODE_DR];

	if (st && !st->ifaces && !st->ann) { /* no DR service left: nothing to withdraw */
		free(st);
		d->dp_state[ALBMD_MODE_DR] = NULL;
	}
}

struct drd_iface *drd_ifaces(const struct albmd *d)
{
	const struct drd_state *st = d->dp_state[ALBMD_MODE_DR];

	return st ? st->ifaces : NULL;
}

const char *drd_xdp_mode_name(enum dr_mode m)
{
	return m == DR_MODE_NATIVE ? "native" : "generic";
}

/* A running attachment: the same mode, and a word when sync is wanted but not loaded. */
static struct drd_iface *iface_reuse(struct drd_iface *ifc, enum dr_mode mode, bool flow_sync,
				     char *err, size_t errlen)
{
	if (ifc->mode != mode) {
		albm_seterr(err, errlen,
			    "interface %s: already attached in %s XDP mode by a "
			    "running service (changing xdp-mode needs those services gone "
			    "or a restart)",
			    ifc->name, drd_xdp_mode_name(ifc->mode));
		return NULL;
	}
	if (flow_sync && !ifc->flow_sync && !ifc->sync_warned) {
		LOG_WARN("interface %s: the XDP program was loaded without flow sync; its flows "
			 "are not sent to the peers until albmd restarts",
			 ifc->name);
		ifc->sync_warned = true;
	}
	ifc->refs++;
	return ifc;
}

struct drd_iface *drd_iface_get(struct albmd *d, const char *name, enum dr_mode mode,
				bool flow_sync, char *err, size_t errlen)
{
	struct dr_opts o = { .mode = mode, .flow_sync = flow_sync };
	struct drd_state *st = drd_state(d);
	struct drd_iface *ifc;

	for (ifc = st->ifaces; ifc; ifc = ifc->next)
		if (!strcmp(ifc->name, name))
			return iface_reuse(ifc, mode, flow_sync, err, errlen);
	ifc = xcalloc(1, sizeof(*ifc));
	ifc->dr = dr_open(name, &o, err, errlen);
	if (!ifc->dr) {
		free(ifc);
		drd_state_release(d);
		return NULL;
	}
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->mode = mode;
	ifc->refs = 1;
	ifc->flow_sync = flow_sync;
	ifc->d = d;
	ifc->ring_io.fd = -1;
	evl_timer_init(&ifc->ring_timer);
	ifc->next = st->ifaces;
	st->ifaces = ifc;
	LOG_INFO("XDP program attached to %s (%s mode%s)", name, drd_xdp_mode_name(mode),
		 flow_sync ? ", flow sync on" : "");
	if (flow_sync)
		drd_ring_start(ifc);
	return ifc;
}

/* The last user detaches the program: the interface is left clean. */
void drd_iface_put(struct albmd *d, struct drd_iface *ifc)
{
	struct drd_state *st = drd_state(d);
	struct drd_iface **pp;

	if (--ifc->refs > 0)
		return;
	for (pp = &st->ifaces; *pp && *pp != ifc; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = ifc->next;
	drd_ring_stop(ifc);
	dr_close(ifc->dr);
	LOG_INFO("XDP program detached from %s", ifc->name);
	free(ifc);
	drd_state_release(d);
}

void drd_iface_check(struct drd_iface *ifc, uint64_t now)
{
	int rc;

	if (ifc->detached || now < ifc->next_check_ms)
		return;
	ifc->next_check_ms = now + DRD_ATTACH_CHECK_MS;
	rc = dr_attached(ifc->dr);
	if (rc > 0)
		return;
	ifc->detached = true;
	LOG_ERR("interface %s: the XDP program is no longer attached (%s); its services are "
		"not served and not announced until albmd restarts",
		ifc->name, rc == 0 ? "interface gone?" : strerror(-rc));
}
