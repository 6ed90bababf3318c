/* ALBM: what the albm (adaptive) scheduler thinks of each server, for albmctl and tests */
#ifndef ALBM_SCHED_ALBM_ADAPTIVE_H
#define ALBM_SCHED_ALBM_ADAPTIVE_H

#include <stdint.h>

#include "sched/sched-t.h"

/* Scores are compared in integers: eff_weight is taken in units of 1/65536. */
#define ALBM_ADAPT_EFF_SCALE 65536.0

/* Why a server does or does not receive new connections (first match wins, in
 * this order). */
enum albm_adapt_state {
	ALBM_ADAPT_OK = 0,      /* eligible, full weight */
	ALBM_ADAPT_SLOW_START,  /* eligible, ramping up after a recovery */
	ALBM_ADAPT_DOWN,        /* ALBM_DEST_F_AVAILABLE is clear */
	ALBM_ADAPT_DRAINED,     /* weight 0 */
	ALBM_ADAPT_STALE,       /* had reports, none for report_timeout_ms: failed */
	ALBM_ADAPT_AGENT_OVL,   /* the agent reports it overloaded */
	ALBM_ADAPT_MAXCONN,     /* IPVS overload: at its connection limit */
	ALBM_ADAPT_NO_CAPACITY, /* measured capacity is zero (no memory left) */
	ALBM_ADAPT_FULL,        /* at the connection limit albm learnt from its memory */
	ALBM_ADAPT_STALLED,     /* unanswered requests and no CPU used: paused (checked
				 * after MAXCONN, before NO_CAPACITY) */
};

struct albm_adapt_info {
	enum albm_adapt_state state;
	double capacity;     /* smoothed capacity factor from reports, 0-1 (1 without reports) */
	double aged;         /* the same after ageing (what the weight uses) */
	double ramp;         /* slow-start factor, 0-1 (1 outside slow start) */
	double eff_weight;   /* weight x aged x ramp, 0 when not eligible (= dest->eff_weight) */
	double pick_weight;  /* weight x trust x ramp: what the pick divides (active + 1) by */
	uint32_t conn_limit; /* learnt limit on live connections, 0 = none (yet) */
	double mem_avail;    /* available-memory fraction of the last report (1 without) */
	double speed;        /* the pick's speed factor: learnt speed per unit of weight
			      * against the others' (and, before a limit, memory's), 1 = none */
	bool neighbour;      /* foreign memory holds the server's limit down */
};

/* Fill info for dest of a service bound to the albm scheduler; 0, or -EINVAL when
 * the service is bound to another scheduler.  Reflects the last report, tick or
 * change (time-driven state advances in albm_svc_tick). */
int albm_adapt_info(const struct albm_service *svc, const struct albm_dest *dest,
		    struct albm_adapt_info *info);

/* "ok", "slow-start", "down", "drained", "stale", "overloaded", "maxconn",
 * "no-capacity", "full", "stalled". */
const char *albm_adapt_state_name(enum albm_adapt_state state);

#endif
