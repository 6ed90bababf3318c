/* ALBM: the scheduler vtable and the service/destination API around it */
#ifndef ALBM_SCHED_SCHED_H
#define ALBM_SCHED_SCHED_H

#include "sched/sched-t.h"

/*
 * Capabilities (HAProxy's BE_LB_PROP_*): what albmd and its data planes may assume
 * about a scheduler.  They decide by these bits and by the hooks below, never by a
 * scheduler's name, so that a scheduler is one file plus one line of sched.c.
 */
/* distributes by the static weights (without
 * it a weight only says 0 = drained or not) */
#define ALBM_SCHED_F_WEIGHTED (1u << 0)
/* the pick depends on the live connection
 * counts: a table-driven data plane feeds them
 * and recomputes its table when they move */
#define ALBM_SCHED_F_CONNS    (1u << 1)
/* the pick depends only on the flow key and
 * the server set (sh, dh, mh) */
#define ALBM_SCHED_F_HASH     (1u << 2)
/* ramps its own weights from measurements, slow
 * start included: albmd applies none of its own */
#define ALBM_SCHED_F_ADAPTIVE (1u << 3)

/*
 * What a table of weights stands for (weights() below), which also says how much
 * of a change is worth a new table: static weights any change, measured ones only
 * a clear one.  Names: albm_table_kind_name().
 */
enum albm_table_kind {
	ALBM_TABLE_EQUAL = 0, /* 1 per usable server ("equal") */
	ALBM_TABLE_WEIGHTS,   /* the static weights of the usable servers ("weights") */
	ALBM_TABLE_EFFECTIVE, /* measured effective weights x ALBM_TABLE_EFF_SCALE
			       * ("effective-weights") */
	ALBM_TABLE_PICKS,     /* how many of K picks each server would get ("picks") */
};
#define ALBM_TABLE_EFF_SCALE 256 /* effective weight 1.0 = table weight 256 */

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
	unsigned flags;          /* ALBM_SCHED_F_* */

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
	/* Called periodically (albmd's tick, every 100 ms): time-driven state (report
	 * ageing, slow start) is advanced here. */
	void (*tick)(struct albm_service *svc);

	/*
	 * Optional.  The table weights of a data plane that distributes new connections
	 * by a weighted table instead of calling schedule() for each (XDP DR): w[i],
	 * for svc->dests[i], is the share the server would get of the next k new
	 * connections (0: none).  Returns the kind of table.  PURE: it reads svc and
	 * changes nothing (no counts, flags, statistics, caches or random state), so it
	 * may run at any time and as often as wanted.  Without it the library default
	 * that the flags select applies (albm_sched_weights()).
	 */
	enum albm_table_kind (*weights)(const struct albm_service *svc, uint32_t k, uint32_t *w);

	/*
	 * Optional.  schedule() found no server although some are live (up, weight > 0)
	 * — every one excluded for load — and the data plane will not hold the new
	 * connection any longer (albmd's queue reached its bound): the server to take it
	 * anyway, the least loaded of those excluded only by measurements, or NULL to
	 * refuse it.  Without the hook: NULL (an operator's maxconn is never exceeded).
	 */
	struct albm_dest *(*overflow)(struct albm_service *svc);
};

/* ---- registry (the one table lives in sched.c) ---- */
const struct albm_sched_ops *albm_sched_find(const char *name);
size_t albm_sched_count(void);
const struct albm_sched_ops *albm_sched_at(size_t i);
/* Search ops[0..n-1] after the built-in table (find, count, at): a scheduler that is
 * not part of albmd, such as a test's own.  Replaces an earlier extra table; NULL, 0
 * removes it.  Not thread-safe: set it before any lookup. */
void albm_sched_set_extra(const struct albm_sched_ops *const *ops, size_t n);

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

/* IPVS: at u_threshold (maxconn) set OVERLOAD; back at l_threshold (default 3/4
 * of the upper) clear it.  Total connections count, as ip_vs_dest_totalconns().
 * True when the flag changed.  (The library's rule; the weights helpers apply it
 * to their copies.) */
static inline bool albm_dest_update_overload(struct albm_dest *d)
{
	uint32_t old = d->flags, total = d->activeconns + d->inactconns;
	uint32_t lower = d->l_threshold ? d->l_threshold : d->u_threshold * 3 / 4;

	if (!d->u_threshold)
		d->flags &= ~ALBM_DEST_F_OVERLOAD;
	else if (total >= d->u_threshold)
		d->flags |= ALBM_DEST_F_OVERLOAD;
	else if ((d->flags & ALBM_DEST_F_OVERLOAD) && total <= lower)
		d->flags &= ~ALBM_DEST_F_OVERLOAD;
	return d->flags != old;
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
				    const struct albm_addr *addr, int weight, char *err,
				    size_t errlen);
/* Remove and free a destination.  Existing connections are the data plane's
 * business; the scheduler forgets the server at once. */
void albm_svc_del_dest(struct albm_service *svc, struct albm_dest *dest);
struct albm_dest *albm_svc_find_dest(const struct albm_service *svc, const char *name);

void albm_svc_set_weight(struct albm_service *svc, struct albm_dest *dest, int weight);
/* Set then clear flag bits (ALBM_DEST_F_*). */
void albm_svc_set_flags(struct albm_service *svc, struct albm_dest *dest, uint32_t set,
			uint32_t clear);
/* maxconn (0 = unlimited); the OVERLOAD flag follows it as in IPVS. */
void albm_svc_set_thresholds(struct albm_service *svc, struct albm_dest *dest, uint32_t upper,
			     uint32_t lower);

/* ---- the data path ---- */

/* Choose a destination for a new connection (NULL: none available). */
struct albm_dest *albm_svc_schedule(struct albm_service *svc, const struct albm_flow *flow);
/* When schedule() returned NULL while a server is live: may the data plane hold the
 * connection until one frees (albmd's queue)?  False when the scheduler acts on the
 * all-overloaded policy (ALBM_SCHED_F_ADAPTIVE) and that is REFUSE. */
bool albm_svc_may_wait(const struct albm_service *svc);
/* The scheduler's overflow server (the hook above), counted as a pick; NULL: none. */
struct albm_dest *albm_svc_overflow(struct albm_service *svc);
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

/* ---- table weights (weights.c) ---- */

/*
 * The table weights of svc's scheduler for the next k connections: its weights()
 * hook, else the default its flags select:
 *	ADAPTIVE	effective weights (albm_weights_effective)
 *	CONNS		k picks of wlc's rule (WEIGHTED) or lc's, water-filled
 *	WEIGHTED	the static weights of the usable servers
 *	otherwise	1 per usable server
 * w has svc->ndests entries.  Pure.  No scheduler bound: all 0, EQUAL.
 */
enum albm_table_kind albm_sched_weights(const struct albm_service *svc, uint32_t k, uint32_t *w);
/* "equal", "weights", "effective-weights", "picks" */
const char *albm_table_kind_name(enum albm_table_kind kind);

/* Building blocks of weights() hooks (all pure): */
enum albm_table_kind albm_weights_equal(const struct albm_service *svc, uint32_t *w);
enum albm_table_kind albm_weights_static(const struct albm_service *svc, uint32_t *w);
/* eff_weight x ALBM_TABLE_EFF_SCALE, rounded, at least 1 when eff_weight > 0. */
enum albm_table_kind albm_weights_effective(const struct albm_service *svc, uint32_t *w);
/*
 * The least-connection water-fill: what k sequential picks of "the member with the
 * smallest key num/den, the earliest in the list on ties" would choose, when each
 * pick counts as one more active connection of its server.  Runs on copies of the
 * servers, so a pick moves its server's key, may bring it to its maxconn (OVERLOAD,
 * the library's rule) and may end its membership, exactly as real picks would;
 * svc is not touched.  w[i] = picks of svc->dests[i].  O((n + k) log n).
 */
enum albm_table_kind albm_weights_fill(
	const struct albm_service *svc, uint32_t k, bool (*member)(const struct albm_dest *d),
	void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den), uint32_t *w);
/* The keys of lc (overhead) and wlc (overhead / weight), for albm_weights_fill. */
void albm_key_lc(const struct albm_dest *d, uint64_t *num, uint64_t *den);
void albm_key_wlc(const struct albm_dest *d, uint64_t *num, uint64_t *den);

/* Rate-limited "no destination available" style log line (IPVS ip_vs_scheduler_err). */
void albm_sched_err(const struct albm_service *svc, const char *msg);

/* Build a flow key from two socket addresses (client, virtual service). */
void albm_flow_from_addrs(struct albm_flow *flow, const struct albm_addr *client,
			  const struct albm_addr *vip);

#endif
