/* ALBM: the proxy's listeners — one socket per worker per service address */
#ifndef ALBM_DISTRIBUTOR_PROXY_LISTENER_H
#define ALBM_DISTRIBUTOR_PROXY_LISTENER_H

#include "distributor/proxy/proxy-t.h"

/* Stop (true) or resume (false) accepting on every listener of the worker. */
void listener_pause(struct albmd_pworker *pw, bool pause);
/* Pause accepting while pw->pause_until_ms is ahead (a local failure asked for a
 * moment), else resume if paused and there is room again (global maxconn, descriptors,
 * memory); after each batch and on the sweep. */
void listener_update(struct albmd_pworker *pw);

/* The data-plane operations behind albmd_dp_proxy (plane.c passes its own ops and
 * worker plane, so that this file names neither); main thread, under albmd_lock(). */
int listener_prepare(struct albmd *d, const struct albmd_dataplane_ops *self,
		     const struct albmd_cfg_service *cfg, void **prep, char *err, size_t errlen);
void listener_abandon(void *prep);
void listener_start(struct albmd *d, const struct albmd_worker_plane *plane,
		    struct albmd_service *svc, void *prep);
void listener_stop(struct albmd_service *svc);

#endif
