/* ALBM: albmd's configuration apply — start-up and SIGHUP / `albmctl reload` */
#ifndef ALBM_DISTRIBUTOR_RELOAD_H
#define ALBM_DISTRIBUTOR_RELOAD_H

#include "distributor/daemon.h"

/*
 * Make the running daemon match cfg (which it takes over on success; on failure
 * the caller still owns it).  Two phases: everything that can fail (binding new
 * addresses, reading the key) is prepared first, and only if all of it worked is
 * the difference applied: services and servers added, removed or changed by name,
 * listening sockets kept where the address did not change, live connections left
 * alone.  Takes d->lock.  0, or -errno with err; nothing changed on error.
 */
int albmd_apply_config(struct albmd *d, struct albmd_config *cfg, char *err, size_t errlen);
/* Re-read d->cfg.path and apply it; counts the result in d->st. */
int albmd_reload(struct albmd *d, char *err, size_t errlen);

/*
 * Servers and their monitors (lock held).  service.c adds and removes servers but
 * knows nothing of agents and health checks; whoever adds a server attaches it, and
 * detaches it before removing it.
 */
/* Follow the agent of srv's name (with an agents block) and start its health check
 * (with `health-check` in its service); then refresh its state. */
void albmd_server_attach(struct albmd *d, struct albmd_server *srv);
/* Stop both; safe when not attached.  Call before albmd_server_remove(). */
void albmd_server_detach(struct albmd *d, struct albmd_server *srv);
/* Detach every server of svc, then retire it (reload, shutdown). */
void albmd_service_withdraw(struct albmd *d, struct albmd_service *svc);
/* Make a running service match cfg (same name and mode): its settings, then its
 * servers joined, dropped, replaced (new address) or updated, health checks re-armed
 * with the new settings. */
void albmd_service_reconfigure(struct albmd *d, struct albmd_service *svc,
			       const struct albmd_cfg_service *cfg);

#endif
