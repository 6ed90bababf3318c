/* ALBM: albmd's data planes — which one serves a mode, and the DR placeholder
 *
 * A data plane is a struct albmd_dataplane_ops (daemon.h): prepare binds what a
 * service needs, start/stop switch it on and off, changed tells it that servers or
 * weights moved.  proxy (listener.c + proxy.c) is built in; the DR (XDP) plane
 * plugs in here beside it once it exists.
 */
#include <errno.h>

#include "common/util.h"
#include "distributor/daemon.h"

static int dr_prepare(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep,
		      char *err, size_t errlen)
{
	(void)d;
	(void)prep;
	albm_seterr(err, errlen, "service '%s': mode dr: the dr data plane is not built in yet",
		    cfg->name);
	return -ENOTSUP;
}

const struct albmd_dataplane_ops albmd_dp_dr = {
	.name = "dr",
	.prepare = dr_prepare,
};

const struct albmd_dataplane_ops *albmd_dataplane_for(enum albmd_mode mode)
{
	return mode == ALBMD_MODE_DR ? &albmd_dp_dr : &albmd_dp_proxy;
}
