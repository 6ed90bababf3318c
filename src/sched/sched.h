/* ALBM: the scheduler vtable and the service/destination API around it */
#ifndef ALBM_SCHED_SCHED_H
#define ALBM_SCHED_SCHED_H

#include "sched/sched-t.h"

/*
 * One scheduler = one struct of callbacks plus a name (IPVS's ip_vs_scheduler).
 * Every callback but `schedule` is optional.  The library (sched.c) keeps the
 * destination list, the connection counters and the flags, then calls the hook so
 * the scheduler can update its own structures (heaps, tables).  Hooks never free a
 * destination; the library does.
 *
 * Binding a scheduler to a service calls init_service() on an empty scheduler state
 * and then add_dest() once per existing destination, in list order; so a scheduler
 * implements incremental changes only.
 */
struct albm_sched_ops {
	const char *name;        /* "rr", "wlc", ... as in --list-schedulers */
	const char *description; /* one line for humans */

	int (*init_service)(struct albm_service *svc);  /* allocate svc->sched_data */
	void (*done_service)(struct albm_service *svc); /* free it */

	/* dest has been appended to svc->dests (it is the last one). */
	int (*add_dest)(struct albm_service *svc, struct albm_dest *dest);
	/* dest is about to leave svc->dests (it is still in it). */
	void (*del_dest)(struct albm_service *svc, struct albm_dest *dest);
	/* dest's weight, flags or thresholds have changed. */
	void (*upd_dest)(struct albm_service *svc, struct albm_dest *dest);

	/* Choose a destination for a new connection; NULL when none is available. */
	struct albm_dest *(*schedule)(struct albm_service *svc, const struct albm_flow *flow);

	/* dest's activeconns/inactconns have just changed. */
	void (*conn_changed)(struct albm_service *svc, struct albm_dest *dest);
	/* dest->report has just been replaced by a new agent measurement, or dropped
	 * (NULL: the server has no agent any more). */
	void (*report)(struct albm_service *svc, struct albm_dest *dest);
	/* Called periodically (every 100 ms or so) by the data plane: time-driven state
	 * (report ageing, slow start) is advanced here. */
	void (*tick)(struct albm_service *svc);
};

/* ---- registry (the one table lives in sched.c) ---- */
const struct albm_sched_ops *albm_sched_find(const char *name);
size_t albm_sched_count(void);
const struct albm_sched_ops *albm_sched_at(size_t i);

/* ---- common predicates (IPVS semantics, shared by every scheduler) ---- */

/* Up and not drained (weight > 0): it may take work again once it has room, so a
 * client may wait for it (albmd's queue). */
static inline bool albm_dest_live(const struct albm_dest *d)
{
	return (d->flags & ALBM_DEST_F_AVAILABLE) && d->weight > 0;
}

/* May receive new connections: live and not over its connection limit.
 * (IPVS: weight > 0 && !(flags & IP_VS_DEST_F_OVERLOAD).)  The agent's overload
 * report is *not* part of it: only the adaptive scheduler acts on measurements. */
static inline bool albm_dest_usable(const struct albm_dest *d)
{
	return albm_dest_live(d) && !(d->flags & ALBM_DEST_F_OVERLOAD);
}

/* IPVS's connection overhead for lc/wlc: active * 256 + inactive. */
static inline uint64_t albm_dest_overhead(const struct albm_dest *d)
{
	return ((uint64_t)d->activeconns << 8) + d->inactconns;
}

/* ---- service lifecycle ---- */

/* Initialise an empty service (default clock: CLOCK_MONOTONIC; rng seeded). */
void albm_svc_init(struct albm_service *svc, const char *name);
/* Unbind the scheduler and free every destination. */
void albm_svc_destroy(struct albm_service *svc);
/* Bind (or change at run time) the scheduler; 0 or -errno (old one kept on error). */
int albm_svc_bind(struct albm_service *svc, const struct albm_sched_ops *ops);
/* Same, by name; -ENOENT for an unknown scheduler. */
int albm_svc_bind_name(struct albm_service *svc, const char *name);

/* Deterministic clock / randomness for tests and simulations. */
void albm_svc_set_clock(struct albm_service *svc, uint64_t (*clock)(void *), void *arg);
void albm_svc_seed(struct albm_service *svc, uint64_t seed);
uint64_t albm_svc_now(const struct albm_service *svc);
uint64_t albm_svc_rand(struct albm_service *svc);

/* ---- destinations ---- */

/* Append a destination (flags: AVAILABLE).  Returns it, or NULL with err filled
 * (duplicate name, bad weight). */
struct albm_dest *albm_svc_add_dest(struct albm_service *svc, const char *name,
				    const struct albm_addr *addr, int weight,
				    char *err, size_t errlen);
/* Remove and free a destination.  Existing connections are the data plane's
 * business; the scheduler forgets the server at once. */
void albm_svc_del_dest(struct albm_service *svc, struct albm_dest *dest);
struct albm_dest *albm_svc_find_dest(const struct albm_service *svc, const char *name);

void albm_svc_set_weight(struct albm_service *svc, struct albm_dest *dest, int weight);
/* Set then clear flag bits (ALBM_DEST_F_*). */
void albm_svc_set_flags(struct albm_service *svc, struct albm_dest *dest, uint32_t set,
			uint32_t clear);
/* maxconn (0 = unlimited); the OVERLOAD flag follows it as in IPVS. */
void albm_svc_set_thresholds(struct albm_service *svc, struct albm_dest *dest,
			     uint32_t upper, uint32_t lower);

/* ---- the data path ---- */

/* Choose a destination for a new connection (NULL: none available). */
struct albm_dest *albm_svc_schedule(struct albm_service *svc, const struct albm_flow *flow);
/* A connection to dest was opened (counted active or inactive). */
void albm_svc_conn_open(struct albm_service *svc, struct albm_dest *dest, bool active);
/* An inactive connection became established, or the reverse. */
void albm_svc_conn_set_active(struct albm_service *svc, struct albm_dest *dest, bool active);
/* A connection closed; `active` says which counter it was in. */
void albm_svc_conn_close(struct albm_service *svc, struct albm_dest *dest, bool active);

/* A new agent measurement for dest (the distributor has verified it), or NULL to
 * forget it.  dest keeps the pointer, not a copy: *m must stay valid, and change only
 * before another call of this, until the next call or dest's removal. */
void albm_svc_report(struct albm_service *svc, struct albm_dest *dest,
		     const struct albm_metrics *m);
/* Periodic housekeeping; call every ~100 ms. */
void albm_svc_tick(struct albm_service *svc);

/* Rate-limited "no destination available" style log line (IPVS ip_vs_scheduler_err). */
void albm_sched_err(const struct albm_service *svc, const char *msg);

/* Build a flow key from two socket addresses (client, virtual service). */
void albm_flow_from_addrs(struct albm_flow *flow, const struct albm_addr *client,
			  const struct albm_addr *vip);

#endif
