/* ALBM: albmd services and servers — creation from config, admin changes, state */
#ifndef ALBM_DISTRIBUTOR_SERVICE_H
#define ALBM_DISTRIBUTOR_SERVICE_H

#include "distributor/daemon.h"

/* All functions here are called under albmd_lock() unless said otherwise; a proxy
 * worker calls albmd_server_connect_result() with the server's service lock only. */

struct albmd_service *albmd_service_find(struct albmd *d, const char *name);
struct albmd_server *albmd_server_find(struct albmd_service *svc, const char *name);
/* The server behind a scheduler destination. */
static inline struct albmd_server *albmd_dest_server(const struct albm_dest *dest)
{
	return dest->owner;
}

/* Build a service from its config (scheduler bound, servers added, agents and
 * health checks attached); the data plane is not started.  NULL with err filled. */
struct albmd_service *albmd_service_new(struct albmd *d, const struct albmd_cfg_service *cfg,
					char *err, size_t errlen);
/* Make svc match cfg (same name and mode): servers added, removed, re-weighted,
 * scheduler and parameters changed.  Administrative states of kept servers stay. */
void albmd_service_update(struct albmd *d, struct albmd_service *svc,
			  const struct albmd_cfg_service *cfg);
/* Take svc out of service: data plane stopped, servers removed, reference dropped. */
void albmd_service_retire(struct albmd *d, struct albmd_service *svc);
int albmd_service_set_scheduler(struct albmd *d, struct albmd_service *svc, const char *name,
				char *err, size_t errlen);

struct albmd_server *albmd_server_add(struct albmd *d, struct albmd_service *svc,
				      const struct albmd_cfg_server *cs, char *err, size_t errlen);
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
