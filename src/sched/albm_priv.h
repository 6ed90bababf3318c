/* ALBM: the albm scheduler's private state, shared by sched_albm.c, albm_mem.c, albm_speed.c */
#ifndef ALBM_SCHED_ALBM_PRIV_H
#define ALBM_SCHED_ALBM_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/albm_adaptive.h"
#include "sched/sched.h"
#include "sched/wintree.h"

#define ALBM_LIMIT_NONE 0 /* no limit learnt yet */

/* Per-destination state (dest->sched_priv). */
struct albm_dstate {
	double cap;          /* smoothed available-memory fraction, 1 until the first report */
	double trust;        /* freshness of the last report, 1 .. ALBM_STALE_TRUST */
	double ramp;         /* slow-start factor */
	uint64_t ramp_start; /* when the current slow start began */
	bool ramping;        /* inside a slow-start window */
	bool pending_ramp;   /* was excluded: ramp up when it becomes eligible again */
	enum albm_adapt_state state;

	/* ---- the memory limit (albm_mem.c) ---- */
	uint32_t limit;        /* learnt connection limit (AIMD), ALBM_LIMIT_NONE = none yet */
	bool limit_hit;        /* the limit kept a connection away since the last report */
	bool decreased;        /* the limit was decreased at decrease_ms */
	bool in_shortage;      /* no report above the reserve since that decrease */
	uint32_t ceiling;      /* the connections held at the last shortage, 0 = none yet */
	bool shared;           /* the limit says something about the workload: learnt from at
				* least ALBM_SHARE_CONNS connections, so others may start from it */
	unsigned good_windows; /* qualifying windows in a row at limit + 1 >= ceiling */
	uint64_t decrease_ms;
	uint64_t window_start; /* the current observation window for an increase */
	double window_min;     /* lowest available-memory fraction reported in it */
	/* what the last report said, to see what changed at the next one */
	bool seen;          /* a report with a memory total has arrived */
	double used;        /* bytes in use (total - available) */
	uint32_t active;    /* activeconns when it arrived */
	uint64_t oom_kills; /* the agent's count */
	double base;        /* idle footprint: bytes in use with no connection */
	/* a neighbour: memory taken at once by something other than the connections */
	bool neighbour;
	bool nb_suspect;  /* this report's foreign memory would make one (if it stays) */
	bool cut_suspect; /* the last cut came with foreign memory: undone if it stays */
	uint32_t pre_limit, pre_ceiling; /* the limit and ceiling before that cut */
	double nb_bytes;                 /* how much it took */
	uint32_t nb_limit;               /* the limit the memory left allows while it is there */

	/* ---- speed (albm_speed.c) ---- */
	uint64_t sp_bytes; /* dest->passive.resp_bytes at the last report */
	uint64_t sp_ms;    /* the report's time; 0 = none yet */
	double sp_b, sp_u; /* decayed sums: bytes served, CPU capacity-seconds used */
	double speed;      /* bytes per capacity-second, 0 = not enough evidence */
	double rel;        /* speed per unit of weight against the others' median (1: none) */
	double memrel;     /* memory per unit of weight against the others' median (1) */

	/* ---- stall ---- */
	bool stalled; /* holds unanswered requests and used no CPU for a report */
};

/* Per-service state (svc->sched_data). */
struct albm_sstate {
	struct albm_wintree tree; /* eligible servers (list positions) by SED score */
	bool serving;             /* picked at least once: later additions ramp up */
	double mconn;             /* bytes a connection holds on average, 0 = unknown */
	double cpu;               /* the servers' CPU utilisation, averaged over reports */
};

static inline struct albm_dstate *albm_dstate(const struct albm_dest *d)
{
	return d->sched_priv;
}

static inline struct albm_sstate *albm_sstate(const struct albm_service *svc)
{
	return svc->sched_data;
}

static inline double albm_clamp01(double x)
{
	if (!(x > 0.0)) /* also NaN */
		return 0.0;
	return x < 1.0 ? x : 1.0;
}

/* Available memory fraction of a report; 1 when the agent sent no total. */
static inline double albm_mem_fraction(const struct albm_metrics *m)
{
	if (!m->mem_total_bytes)
		return 1.0;
	return albm_clamp01((double)m->mem_available_bytes / (double)m->mem_total_bytes);
}

/* ---- albm_mem.c: the connection limit learnt from memory ---- */

/* Learn from dest's new report (d->report set), at time now. */
void albm_mem_report(struct albm_service *svc, struct albm_dest *d, uint64_t now);
/* The tick: servers without a limit of their own start from the others'. */
void albm_mem_share(struct albm_service *svc, uint64_t now);
/* At its limit: one more connection would be more than its memory holds. */
bool albm_mem_at_limit(const struct albm_dstate *st, const struct albm_dest *d);
/* The limit in force (the learnt one, lowered while a neighbour holds memory). */
uint32_t albm_mem_limit(const struct albm_dstate *st);

/* ---- albm_speed.c: how fast each server serves, learnt ---- */

/* Account dest's new report (its CPU utilisation against the bytes it served). */
void albm_speed_report(struct albm_service *svc, struct albm_dest *d);
/* The tick: each server's speed per unit of weight against the others' (st->rel),
 * and its memory per unit of weight against the others' (st->memrel). */
void albm_speed_tick(struct albm_service *svc);
/* What the pick multiplies the weight by: rel, and until the server has a learnt
 * limit no more than memrel. */
double albm_speed_factor(const struct albm_dstate *st);

#endif
