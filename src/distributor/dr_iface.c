/* ALBM: albmd's DR plane — XDP attachments, one per interface, shared by its services
 *
 * The list hangs off struct albmd (d->dp_state[ALBMD_MODE_DR]), so that two daemons
 * in one process (the unit tests) never share one.
 */
#define LOG_COMPONENT "dr"
#include "distributor/dataplane_dr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

static struct drd_iface **ifaces_head(struct albmd *d)
{
	return (struct drd_iface **)&d->dp_state[ALBMD_MODE_DR];
}

struct drd_iface *drd_ifaces(const struct albmd *d)
{
	return d->dp_state[ALBMD_MODE_DR];
}

const char *drd_xdp_mode_name(enum dr_mode m)
{
	return m == DR_MODE_NATIVE ? "native" : "generic";
}

struct drd_iface *drd_iface_get(struct albmd *d, const char *name, enum dr_mode mode, char *err,
				size_t errlen)
{
	struct dr_opts o = { .mode = mode };
	struct drd_iface *ifc;

	for (ifc = *ifaces_head(d); ifc; ifc = ifc->next) {
		if (strcmp(ifc->name, name))
			continue;
		if (ifc->mode != mode) {
			albm_seterr(err, errlen, "interface %s: already attached in %s XDP mode by a "
				    "running service (changing xdp-mode needs those services gone "
				    "or a restart)", name, drd_xdp_mode_name(ifc->mode));
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
	ifc->next = *ifaces_head(d);
	*ifaces_head(d) = ifc;
	LOG_INFO("XDP program attached to %s (%s mode)", name, drd_xdp_mode_name(mode));
	return ifc;
}

/* The last user detaches the program: the interface is left clean. */
void drd_iface_put(struct albmd *d, struct drd_iface *ifc)
{
	struct drd_iface **pp;

	if (--ifc->refs > 0)
		return;
	for (pp = ifaces_head(d); *pp && *pp != ifc; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = ifc->next;
	dr_close(ifc->dr);
	LOG_INFO("XDP program detached from %s", ifc->name);
	free(ifc);
}
