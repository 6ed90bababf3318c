/* ALBM: albmd's Direct Routing data plane — its state, shared by its files (not a public API)
 *
 * The plane (`mode dr`, docs/dr.md) is albmd_dp_dr, in these files:
 *
 *   dataplane_dr.c   the vtable: prepare/start/stop/changed/tick; the table applied
 *   dr_iface.c       XDP attachments, one per interface, on struct albmd
 *   dr_reals.c       the real set: albmd's servers in list order, MAC resolution
 *   dr_feed.c        XDP counters in, connection counts out to the scheduler
 *   dr_weights.c     the weights policy (pure, dr_weights.h)
 *   dr_levels.c      ... in an ha group: shared inputs, levels, boundaries (pure)
 *   dr_group.c       the plane in an ha group: boundaries, reports, flow sync, tables
 *   dr_vipann.c      the VIP announcement (a tun device BIRD exports) while ready
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
#include "distributor/dr_levels.h"
#include "distributor/dr_weights.h"
#include "dr/dr.h"
#include "dr/dr_announce.h"

#define DRD_TICK_MS            ALBMD_TICK_MS /* albmd calls tick() this often */
#define DRD_PREPARE_RESOLVE_MS 1000          /* prepare waits this long for ARP replies */
#define DRD_RESOLVE_GRACE_MS   1000          /* an unresolved server is reported after this */
#define DRD_NEIGH_RECHECK_MS   2000          /* resolved MACs are looked up again this often */

#define DRD_ATTACH_CHECK_MS 1000 /* is the program still attached?  this often */

/* One XDP attachment, shared by the DR services on its interface. */
struct drd_iface {
	char name[IF_NAMESIZE];
	enum dr_mode mode;
	struct albm_dr *dr;
	int refs;
	bool flow_sync;   /* loaded with sync on: its ring is drained */
	bool sync_warned; /* "attached without flow sync" logged */
	bool detached;    /* the program is no longer on the interface */
	uint64_t next_check_ms;
	struct evl_io ring_io; /* the flow-event ring (dr_group.c) */
	struct evl_timer ring_timer;
	struct albmd *d;
	bool link_down; /* seen down by a failed lookup (logged once) */
	struct drd_iface *next;
};

/* The plane's daemon-wide state (d->dp_state[ALBMD_MODE_DR]). */
struct drd_state {
	struct drd_iface *ifaces;
	struct dr_announce *ann; /* the announce device, open while a VIP is on it */
	char ann_dev[IF_NAMESIZE];
	size_t nann;    /* VIPs on it */
	bool withdrawn; /* a drain began: nothing is announced again */
};

/* One server of the service as the data plane tracks it. */
struct drd_real {
	struct albmd_server *srv; /* referenced while here */
	uint8_t mac[6];
	bool resolved;
	bool mac_changed;          /* resolved again to another MAC: apply */
	bool reported;             /* "cannot resolve" logged */
	uint64_t unresolved_since; /* ms; 0 = resolved or never tried */
	uint64_t next_lookup_ms;
	struct dr_weight applied;  /* its place in the table applied last */
	struct dr_weight want;     /* ... and in the one computed now */
	struct dr_real_stats base; /* counters when it entered the set */
	struct dr_real_stats cur;  /* counters at the last tick */
	struct dr_real_stats acc;  /* counters of its earlier times in the set */
	uint64_t forgotten;        /* flows written off as gone without a FIN (idle) */
	uint64_t last_pkt_ms;
	uint32_t fed; /* connections counted in the scheduler for it */
	/* in an ha group (dr_group.c) */
	struct dr_level_reports lv; /* its agent's reports, by their timestamps */
	uint64_t lv_seen;           /* timestamp of the last report taken */
	uint32_t held;              /* its weight since the last boundary */
	bool held_valid;            /* held is of the current kind (hysteresis) */
};

/* The plane's state of one service (svc->dp_data). */
struct drd_svc {
	struct evl_timer soon; /* armed by changed(): rebuild once per loop pass */
	struct albmd *d;
	struct albmd_service *svc; /* NULL until started */
	struct drd_iface *ifc;
	struct albm_addr vip;
	bool owns_vip; /* false: prepared to take it over from its owner */
	bool dirty;
	struct drd_real *reals; /* in svc->sched.dests order after drd_reals_sync() */
	size_t nreals;
	uint64_t rate;                      /* new flows in the last tick */
	enum albm_table_kind kind;          /* what the table computed last was made from */
	uint32_t k;                         /* ... and the K of its picks (dr_weights_k) */
	const struct albm_sched_ops *noted; /* the scheduler sched_note() saw last */
	/* the table applied last */
	bool has_table;
	uint32_t table_reals; /* reals with a positive weight in it */
	uint8_t digest[32];   /* dr_table_digest() */
	/* in an ha group (dr_group.c) */
	struct evl_timer boundary; /* fires at the next wall-clock boundary */
	uint64_t next_boundary;    /* wall ms */
	uint64_t version;          /* the boundary the held weights were taken at (0: none) */
	double scale;              /* ... and the scale of their levels (dr_levels_hold) */
	bool measured;             /* held weights are levels of measurements */
	const struct albm_sched_ops *group_noted;
	/* the announcement (dr_vipann.c) */
	bool announced;
};

/* dr_iface.c: the attachments (in the plane's state, d->dp_state[ALBMD_MODE_DR]). */
struct drd_iface *drd_iface_get(struct albmd *d, const char *name, enum dr_mode mode,
				bool flow_sync, char *err, size_t errlen);
void drd_iface_put(struct albmd *d, struct drd_iface *ifc);
struct drd_iface *drd_ifaces(const struct albmd *d);
const char *drd_xdp_mode_name(enum dr_mode m);
/* The plane's state, made on first use; freed by drd_state_release() when empty. */
struct drd_state *drd_state(struct albmd *d);
void drd_state_release(struct albmd *d);
/* Every second: is the program still attached?  Logged once when it is not. */
void drd_iface_check(struct drd_iface *ifc, uint64_t now);

/* dataplane_dr.c: rebuild the table once in this loop pass. */
void drd_mark_dirty(struct drd_svc *ds);

/* dr_group.c: the plane in an ha group */
/* The service joined, left or changed its group settings: arm the boundary timer. */
void drd_group_sync(struct drd_svc *ds);
/* Take new agent reports (by their timestamps); called on every change. */
void drd_group_reports(struct drd_svc *ds);
/* The table weights in the group: held weights, membership and drains now. */
enum albm_table_kind drd_group_weights(struct drd_svc *ds, struct dr_weight *want);
void drd_group_stop(struct drd_svc *ds);
/* The flow ring of an attachment in the loop (sync on) / out of it. */
void drd_ring_start(struct drd_iface *ifc);
void drd_ring_stop(struct drd_iface *ifc);

/* dr_vipann.c: the announcement */
/* Announce or withdraw ds's VIP as its readiness says (every tick and change). */
void drd_announce_update(struct drd_svc *ds);
/* ds stops: its VIP is withdrawn first. */
void drd_announce_stop(struct drd_svc *ds);
/* A drain: every VIP withdrawn, none announced again; true when one was. */
bool drd_announce_withdraw_all(struct albmd *d);

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
void drd_service_text(const struct albmd_service *svc, struct albmd_buf *out);
void drd_metrics(struct albmd *d, struct albmd_buf *out);

#endif
