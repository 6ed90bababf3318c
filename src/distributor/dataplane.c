/* ALBM: albmd's data planes — which one serves a mode
 *
 * A data plane is a struct albmd_dataplane_ops (daemon.h): prepare binds what a
 * service needs, start/stop switch it on and off, changed tells it that servers or
 * weights moved.  proxy is src/distributor/proxy/; dr (the XDP Direct Routing plane)
 * is dataplane_dr.c.
 */
#include "distributor/daemon.h"

const struct albmd_dataplane_ops *albmd_dataplane_for(enum albmd_mode mode)
{
	return mode == ALBMD_MODE_DR ? &albmd_dp_dr : &albmd_dp_proxy;
}
