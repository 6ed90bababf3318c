/* ALBM: albmd's data planes — the vtable a plane implements and the registry of planes */
#ifndef ALBM_DISTRIBUTOR_DATAPLANE_H
#define ALBM_DISTRIBUTOR_DATAPLANE_H

#include <jansson.h>
#include <stddef.h>

#include "distributor/buf.h"
#include "distributor/config-t.h"

struct albmd;
struct albmd_service;
struct albmd_server;

/*
 * A data plane is how new connections reach the servers: `proxy`
 * (src/distributor/proxy/) accepts and relays them; `dr` (dataplane_dr.c and dr_*.c) has an XDP
 * program forward them by a weighted table.  albmd and its views know a plane only
 * through this vtable, and find it in the registry (dataplane.c) by the service's
 * `mode`.  Adding a plane is one file that defines its ops plus one registry line.
 *
 * All calls are made from the main thread with d->lock held, except where said.
 */
struct albmd_dataplane_ops {
	const char *name; /* its `mode` keyword; also the key of its objects in the JSON views */

	/* ---- lifecycle ---- */
	/* Bind what the service needs; nothing visible changes on error.  (Lock not
	 * needed: a reload prepares before it applies anything.) */
	int (*prepare)(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep, char *err,
		       size_t errlen);
	/* Drop a prepared state that will not be used (a reload failed later). */
	void (*abandon)(struct albmd *d, void *prep);
	/* Start serving svc with the prepared state. */
	void (*start)(struct albmd *d, struct albmd_service *svc, void *prep);
	/* Stop accepting; live connections continue where the plane can keep them. */
	void (*stop)(struct albmd *d, struct albmd_service *svc);
	/* Optional: servers, weights, states or the scheduler changed. */
	void (*changed)(struct albmd *d, struct albmd_service *svc);
	/* Optional: periodic work, every ALBMD_TICK_MS, after the scheduler's tick. */
	void (*tick)(struct albmd *d, struct albmd_service *svc);
	/* Optional, once per daemon: the first step of a drain (SIGTERM), before any
	 * stop(): stop attracting new traffic (withdraw announced addresses) while
	 * serving on.  True when something was withdrawn: albmd then keeps serving for
	 * announce-linger before it stops the services. */
	bool (*withdraw)(struct albmd *d);

	/* ---- views (optional; docs/albmd.md, docs/dr.md) ---- */
	/* The object under the plane's name in the service's JSON (list --json,
	 * /api/state), e.g. "dr": {...}; NULL: null (not running). */
	json_t *(*service_json)(const struct albmd_service *svc);
	/* The same for one server of a service on this plane. */
	json_t *(*server_json)(const struct albmd_server *srv);
	/* Words of its own at the end of the service's line in `albmctl list`. */
	void (*service_words)(const struct albmd_service *svc, struct albmd_buf *out);
	/* Lines of its own under the server's line in `albmctl list`. */
	void (*server_text)(const struct albmd_server *srv, struct albmd_buf *out);
	/* ... and under the service's line (before its servers). */
	void (*service_text)(const struct albmd_service *svc, struct albmd_buf *out);
	/* Its families of /metrics (once per scrape, for all its services). */
	void (*metrics)(struct albmd *d, struct albmd_buf *out);
};

extern const struct albmd_dataplane_ops albmd_dp_proxy, albmd_dp_dr;

/* At most this many planes (struct albmd keeps a state slot for each). */
#define ALBMD_DATAPLANES_MAX 4

/* The registry: plane i serves `mode` i (config.h's enum albmd_mode names the
 * first ones); NULL past the end. */
size_t albmd_dataplane_count(void);
const struct albmd_dataplane_ops *albmd_dataplane_at(size_t i);
const struct albmd_dataplane_ops *albmd_dataplane_for(enum albmd_mode mode);
/* The mode of the plane called name, or -ENOENT. */
int albmd_dataplane_find(const char *name);
/* "proxy or dr": the modes, for error messages. */
void albmd_dataplane_names(char *buf, size_t len);
/* The plane's name. */
const char *albmd_mode_name(enum albmd_mode mode);

#endif
