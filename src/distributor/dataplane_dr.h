/* ALBM: albmd's Direct Routing data plane — its state, shared by its files (not a public API)
 *
 * The plane (`mode dr`, docs/dr.md) is albmd_dp_dr, in these files:
 *
 *   dataplane_dr.c   the vtable: prepare/start/stop/changed/tick; the table applied
 *   dr_iface.c       XDP attachments, one per interface, on struct albmd
 *   dr_reals.c       the real set: albmd's servers in list order, MAC resolution
 *   dr_feed.c        XDP counters in, connection counts out to the scheduler
 *   dr_weights.c     the weights policy (pure, dr_weights.h)
 *   dr_views.c       its JSON, `albmctl list` line and /metrics families
 *
 * Everything runs in the main thread with d->lock held.
 */
#ifndef ALBM_DISTRIBUTOR_DATAPLANE_DR_H
#define ALBM_DISTRIBUTOR_DATAPLANE_DR_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "distributor/daemon.h"
#include "distributor/dr_weights.h"
#include "dr/dr.h"

#define DRD_TICK_MS ALBMD_TICK_MS   /* albmd calls tick() this often */
#define DRD_PREPARE_RESOLVE_MS 1000 /* prepare waits this long for ARP replies */
#define DRD_RESOLVE_GRACE_MS 1000   /* an unresolved server is reported after this */
#define DRD_NEIGH_RECHECK_MS 2000   /* resolved MACs are looked up again this often */

/* One XDP attachment, shared by the DR services on its interface. */
struct drd_iface {
	char name[IF_NAMESIZE];
	enum dr_mode mode;
	struct albm_dr *dr;
	int refs;
	bool link_down;             /* seen down by a failed lookup (logged once) */
	struct drd_iface *next;
};

/* One server of the service as the data plane tracks it. */
struct drd_real {
	struct albmd_server *srv;   /* referenced while here */
	uint8_t mac[6];
	bool resolved;
	bool mac_changed;           /* resolved again to another MAC: apply */
	bool reported;              /* "cannot resolve" logged */
	uint64_t unresolved_since;  /* ms; 0 = resolved or never tried */
	uint64_t next_lookup_ms;
	struct dr_weight applied;   /* its place in the table applied last */
	struct dr_weight want;      /* ... and in the one computed now */
	struct dr_real_stats base;  /* counters when it entered the set */
	struct dr_real_stats cur;   /* counters at the last tick */
	struct dr_real_stats acc;   /* counters of its earlier times in the set */
	uint64_t forgotten;         /* flows written off as gone without a FIN (idle) */
	uint64_t last_pkt_ms;
	uint32_t fed;               /* connections counted in the scheduler for it */
};

/* The plane's state of one service (svc->dp_data). */
struct drd_svc {
	struct evl_timer soon;      /* armed by changed(): rebuild once per loop pass */
	struct albmd *d;
	struct albmd_service *svc;  /* NULL until started */
	struct drd_iface *ifc;
	struct albm_addr vip;
	bool owns_vip;              /* false: prepared to take it over from its owner */
	bool dirty;
	struct drd_real *reals;     /* in svc->sched.dests order after drd_reals_sync() */
	size_t nreals;
	uint64_t rate;              /* new flows in the last tick */
	enum albm_table_kind kind;  /* what the table computed last was made from */
	uint32_t k;                 /* ... and the K of its picks (dr_weights_k) */
	const struct albm_sched_ops *noted; /* the scheduler sched_note() saw last */
};

/* dr_iface.c: the attachments (d->dp_state[ALBMD_MODE_DR] is the list). */
struct drd_iface *drd_iface_get(struct albmd *d, const char *name, enum dr_mode mode, char *err,
				size_t errlen);
void drd_iface_put(struct albmd *d, struct drd_iface *ifc);
struct drd_iface *drd_ifaces(const struct albmd *d);
const char *drd_xdp_mode_name(enum dr_mode m);

/* dr_reals.c */
/* Follow svc's server list: afterwards ds->reals[i] is svc->sched.dests[i]'s. */
void drd_reals_sync(struct drd_svc *ds, uint64_t now);
/* Look e's MAC up (and ask the kernel to resolve it); true when known. */
bool drd_real_lookup(struct drd_svc *ds, struct drd_real *e, uint64_t now);
/* e leaves the plane: its flows leave the scheduler, its server reference goes. */
void drd_real_release(struct drd_svc *ds, struct drd_real *e);
/* Ask the kernel to resolve every configured server, wait up to
 * DRD_PREPARE_RESOLVE_MS for the replies (prepare). */
void drd_resolve_warm(const struct albmd_cfg_service *cfg);

/* dr_feed.c */
/* Counters of e since it entered the set; -ENOENT (all zero) when it is not in it. */
int drd_real_read(struct drd_svc *ds, struct drd_real *e, struct dr_real_stats *st);
/* a += b - base */
void drd_stats_add(struct dr_real_stats *a, const struct dr_real_stats *b,
		   const struct dr_real_stats *base);
/* Bring the scheduler's count of e's live flows to e->cur's estimate; new_flows
 * were scheduled to it since the last tick. */
void drd_real_feed(struct drd_svc *ds, struct drd_real *e, uint64_t new_flows, uint64_t now);
/* The flows counted for e leave the scheduler. */
void drd_real_unfeed(struct drd_svc *ds, struct drd_real *e);
/* Every tick: counters in, connection counts out, unresolved MACs retried. */
void drd_reals_poll(struct drd_svc *ds, uint64_t now);

/* dr_views.c: the view hooks of albmd_dp_dr */
json_t *drd_service_json(const struct albmd_service *svc);
json_t *drd_server_json(const struct albmd_server *srv);
void drd_server_text(const struct albmd_server *srv, struct albmd_buf *out);
void drd_metrics(struct albmd *d, struct albmd_buf *out);

#endif
