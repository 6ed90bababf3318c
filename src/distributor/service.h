/* ALBM: albmd services and servers — creation from config, admin changes, state */
#ifndef ALBM_DISTRIBUTOR_SERVICE_H
#define ALBM_DISTRIBUTOR_SERVICE_H

#include "distributor/daemon.h"

/* All functions here are called under albmd_lock() unless said otherwise; a proxy
 * worker calls albmd_server_connect_result() with the server's service lock only. */

struct albmd_service *albmd_service_find(struct albmd *d, const char *name);
struct albmd_server *albmd_server_find(struct albmd_service *svc, const char *name);

/* This is the bottom layer: it never calls agents.c or health.c.  Servers are
 * attached to their agent and health check by the code that adds them (reload.c,
 * control.c: albmd_server_attach) and detached before they are removed. */

/* Build a service from its config (servers added, then the scheduler bound); no
 * server is attached yet and the data plane is not started.  NULL with err filled. */
struct albmd_service *albmd_service_new(struct albmd *d, const struct albmd_cfg_service *cfg,
					char *err, size_t errlen);
/* Make svc's own settings match cfg (same name and mode): scheduler and parameters.
 * Its servers are reconciled by the caller (reload.c) with albmd_server_add,
 * albmd_server_update and albmd_server_remove. */
void albmd_service_update(struct albmd *d, struct albmd_service *svc,
			  const struct albmd_cfg_service *cfg);
/* Take svc out of service: data plane stopped, servers removed (they must be
 * detached: albmd_service_withdraw in reload.h does both), reference dropped. */
void albmd_service_retire(struct albmd *d, struct albmd_service *svc);
int albmd_service_set_scheduler(struct albmd *d, struct albmd_service *svc, const char *name,
				char *err, size_t errlen);

/* Add a server to svc's scheduler (not attached); NULL with err. */
struct albmd_server *albmd_server_add(struct albmd *d, struct albmd_service *svc,
				      const struct albmd_cfg_server *cs, char *err, size_t errlen);
/* A configured server of the same name and address: weight, maxconn, `down`. */
void albmd_server_update(struct albmd *d, struct albmd_server *srv,
			 const struct albmd_cfg_server *cs);
/* Take srv out of the scheduler (detach it first); live connections keep it. */
void albmd_server_remove(struct albmd *d, struct albmd_server *srv);
void albmd_server_set_weight(struct albmd *d, struct albmd_server *srv, int weight);
void albmd_server_set_admin(struct albmd *d, struct albmd_server *srv, enum albmd_admin admin);
/* Recompute the scheduler's view (AVAILABLE flag, weight with slow start) from the
 * server's admin, health, agent and passive states. */
void albmd_server_refresh(struct albmd *d, struct albmd_server *srv);
/* Passive health: a connect to srv succeeded or failed. */
void albmd_server_connect_result(struct albmd *d, struct albmd_server *srv, bool ok);

enum albmd_state albmd_server_state(const struct albmd *d, const struct albmd_server *srv);
const char *albmd_state_name(enum albmd_state st);
const char *albmd_admin_name(enum albmd_admin a);

/* Periodic work (every ALBMD_TICK_MS): scheduler ticks, passive-failure expiry,
 * slow-start ramps. */
#define ALBMD_TICK_MS 100
void albmd_services_tick(struct albmd *d);

/* Reference counting (atomic; callable without the lock).  The last unref frees. */
void albmd_service_ref(struct albmd_service *svc);
void albmd_service_unref(struct albmd_service *svc);
void albmd_server_ref(struct albmd_server *srv);
void albmd_server_unref(struct albmd_server *srv);

#endif
