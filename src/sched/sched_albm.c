/* ALBM: Adaptive Load Balancing Mechanism scheduler — measured capacity x shortest expected delay
 *
 * Each server's agent reports what it has left (available memory, CPU).  From the
 * static weight w and the latest report the scheduler derives an effective weight
 *
 *	raw  = min(mem_available / mem_total, 1 - cpu_util)	   the scarcest resource
 *	cap  = raw				   if raw <= cap (a drop acts at once)
 *	       cap + rise_alpha * (raw - cap)	   otherwise (a rise is damped)
 *	aged = cap while the report is younger than report_timeout/4, then sliding
 *	       linearly to min(cap, 0.5) at report_timeout; older than that: failed
 *	ramp = max(slow_start_min, (max(t, 1) / slow_start_ms)^(1/aggression))
 *	       for t ms after a return from overload / failure / drain (Envoy)
 *	eff  = w * aged * ramp				   published in dest->eff_weight
 *
 * and picks the eligible server with the smallest shortest-expected-delay score
 *
 *	(activeconns + 1) / eff		(IPVS sed; Weinrib & Shenker, INFOCOM 1988)
 *
 * ties to the first server in list order.  The live connection count makes every
 * assignment raise the chosen server's score at once, so a burst arriving between
 * two reports spreads in proportion to eff instead of herding onto the server the
 * last report showed as least loaded (Mitzenmacher 2000, Dahlin 2000).
 *
 * A server gets nothing while it is down, drained, failed (reports stopped),
 * reported overloaded by its agent, at its IPVS connection limit, or measured at
 * zero capacity.  When nothing is eligible, all_overloaded_policy picks the up
 * server with the most available memory (LEAST_LOADED) or refuses (REFUSE).
 *
 * Cost: eligible servers sit in the winner tree the lc family uses (wintree.h),
 * keyed by (activeconns + 1) / round(eff * 65536) compared by cross-multiplication,
 * so a pick is O(1) and a connection open/close, report or weight change is
 * O(log n); the tick re-evaluates the time-driven parts (ageing, timeout, slow
 * start) of every server.  The design discussion and defaults are in
 * docs/schedulers.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/albm_adaptive.h"
#include "sched/sched.h"
#include "sched/wintree.h"

#define ALBM_STALE_GRACE_DIV 4  /* a report is fully trusted for timeout/4 */
#define ALBM_STALE_PRIOR     0.5 /* ... then fades towards min(cap, this) */
#define ALBM_CPU_FLOOR       0.1 /* a CPU-saturated server still has this capacity */
#define ALBM_FALLBACK_MEM_FLOOR 0.01 /* all-overloaded fallback: memory floor */

/* Per-destination state (dest->sched_priv). */
struct albm_dstate {
	double cap;          /* smoothed capacity factor, 1 until the first report */
	double aged;         /* cap after ageing */
	double ramp;         /* slow-start factor */
	uint64_t ramp_start; /* when the current slow start began */
	bool ramping;        /* inside a slow-start window */
	bool pending_ramp;   /* was excluded: ramp up when it becomes eligible again */
	enum albm_adapt_state state;
};

/* Per-service state (svc->sched_data). */
struct albm_sstate {
	struct albm_wintree tree;  /* eligible servers (list positions) by SED score */
	bool serving;              /* picked at least once: later additions ramp up */
};

static inline struct albm_dstate *dstate(const struct albm_dest *d)
{
	return d->sched_priv;
}

static inline struct albm_sstate *sstate(const struct albm_service *svc)
{
	return svc->sched_data;
}

static double clamp01(double x)
{
	if (!(x > 0.0)) /* also NaN */
		return 0.0;
	return x < 1.0 ? x : 1.0;
}

/* Available memory fraction of a report; 1 when the agent sent no total. */
static double albm_mem_fraction(const struct albm_metrics *m)
{
	if (!m->mem_total_bytes)
		return 1.0;
	return clamp01((double)m->mem_available_bytes / (double)m->mem_total_bytes);
}

/* What the server has left: its scarcest resource, 0-1.  A non-finite CPU
 * figure is ignored rather than trusted.  CPU never counts below ALBM_CPU_FLOOR:
 * a server busy at its CPU quota is slow but still makes progress (CPU is shared
 * fairly, delay grows smoothly), whereas exhausted memory is a cliff (paging), so
 * only memory may take a server's capacity to zero.  Without the floor a cluster
 * whose servers all run at their quota would be rated empty everywhere. */
static double albm_raw_capacity(const struct albm_metrics *m)
{
	double mem = albm_mem_fraction(m), cpu = 1.0;

	if (isfinite(m->cpu_util))
		cpu = 1.0 - clamp01(m->cpu_util);
	if (cpu < ALBM_CPU_FLOOR)
		cpu = ALBM_CPU_FLOOR;
	return mem < cpu ? mem : cpu;
}

/* Asymmetric smoothing: trust bad news at once, good news gradually, so that a
 * noisy series of reports cannot make the weight swing up and down. */
static double albm_smooth(const struct albm_service *svc, double cap, double raw)
{
	double alpha = svc->adaptive.rise_alpha;

	if (raw <= cap)
		return raw;
	if (!(alpha > 0.01)) /* 0 would freeze the weight for ever; NaN too */
		alpha = 0.01;
	if (alpha > 1.0)
		alpha = 1.0;
	return cap + alpha * (raw - cap);
}

/* Capacity after ageing: a report fades towards the conservative min(cap, 0.5)
 * between timeout/4 and the timeout, so a server whose agent went quiet (perhaps
 * because it is too busy to report) is not trusted with more work meanwhile. */
static double albm_aged(const struct albm_service *svc, const struct albm_dest *d,
			const struct albm_dstate *st, uint64_t now)
{
	uint64_t timeout = svc->adaptive.report_timeout_ms, grace, age;
	double target, frac;

	if (!d->has_report || !timeout)
		return st->cap;
	age = now > d->report_ms ? now - d->report_ms : 0;
	grace = timeout / ALBM_STALE_GRACE_DIV;
	if (age <= grace)
		return st->cap;
	target = st->cap < ALBM_STALE_PRIOR ? st->cap : ALBM_STALE_PRIOR;
	frac = (double)(age - grace) / (double)(timeout - grace);
	if (frac > 1.0)
		frac = 1.0;
	return st->cap + (target - st->cap) * frac;
}

static bool albm_stale(const struct albm_service *svc, const struct albm_dest *d, uint64_t now)
{
	uint64_t timeout = svc->adaptive.report_timeout_ms;

	return d->has_report && timeout && now > d->report_ms && now - d->report_ms > timeout;
}

/* Envoy's slow start: weight x max(min, time_factor^(1/aggression)).  Ends the
 * ramp (ramping = false) once the window has passed. */
static double albm_ramp(const struct albm_service *svc, struct albm_dstate *st, uint64_t now)
{
	const struct albm_adaptive_params *p = &svc->adaptive;
	uint64_t t;
	double tf, f, aggr = p->slow_start_aggression, min = clamp01(p->slow_start_min);

	if (!st->ramping)
		return 1.0;
	t = now > st->ramp_start ? now - st->ramp_start : 0;
	if (!p->slow_start_ms || t >= p->slow_start_ms) {
		st->ramping = false;
		return 1.0;
	}
	if (!(aggr > 0.0) || !isfinite(aggr))
		aggr = 1.0;
	tf = (double)(t ? t : 1) / (double)p->slow_start_ms;
	f = pow(tf, 1.0 / aggr);
	return f > min ? f : min;
}

/* Why dest may not take new connections (ALBM_ADAPT_OK if it may). */
static enum albm_adapt_state albm_classify(const struct albm_service *svc,
					   const struct albm_dest *d, double aged, uint64_t now)
{
	if (!(d->flags & ALBM_DEST_F_AVAILABLE))
		return ALBM_ADAPT_DOWN;
	if (d->weight <= 0)
		return ALBM_ADAPT_DRAINED;
	if (albm_stale(svc, d, now))
		return ALBM_ADAPT_STALE;
	if (d->flags & ALBM_DEST_F_AGENT_OVL)
		return ALBM_ADAPT_AGENT_OVL;
	if (d->flags & ALBM_DEST_F_OVERLOAD)
		return ALBM_ADAPT_MAXCONN;
	if (!(aged > 0.0))
		return ALBM_ADAPT_NO_CAPACITY;
	return ALBM_ADAPT_OK;
}

/* The winner tree compares integers: eff in 1/65536 weight units, at least 1 and
 * below 2^32 as the tree requires (true for weights up to 65535, which is what
 * albm_svc_add_dest() accepts; the clamp guards a larger albm_svc_set_weight()). */
static inline uint64_t albm_den(const struct albm_dest *d)
{
	uint64_t den = (uint64_t)(d->eff_weight * ALBM_ADAPT_EFF_SCALE + 0.5);

	if (den >= (1ull << 32))
		den = (1ull << 32) - 1;
	return den ? den : 1;
}

/* Put d in the tree with its current score (activeconns + 1) / eff. */
static inline void albm_rekey(struct albm_sstate *ss, const struct albm_dest *d)
{
	albm_wintree_set(&ss->tree, d->idx, (uint64_t)d->activeconns + 1, albm_den(d));
}

/* Re-evaluate one server at time now: state, effective weight, place in the tree. */
static void albm_refresh(struct albm_service *svc, struct albm_dest *d, uint64_t now)
{
	struct albm_dstate *st = dstate(d);
	struct albm_sstate *ss = sstate(svc);

	st->aged = albm_aged(svc, d, st, now);
	st->state = albm_classify(svc, d, st->aged, now);
	if (st->state != ALBM_ADAPT_OK) {
		/* At the connection limit the server is not in trouble, just full:
		 * IPVS clears that by itself as connections close, no ramp needed. */
		if (st->state != ALBM_ADAPT_MAXCONN) {
			st->pending_ramp = true;
			st->ramping = false;
		}
		d->eff_weight = 0.0;
		albm_wintree_clear(&ss->tree, d->idx);
		return;
	}
	if (st->pending_ramp) {
		st->pending_ramp = false;
		st->ramping = svc->adaptive.slow_start_ms > 0;
		st->ramp_start = now;
	}
	st->ramp = albm_ramp(svc, st, now);
	if (st->ramping)
		st->state = ALBM_ADAPT_SLOW_START;
	d->eff_weight = (double)d->weight * st->aged * st->ramp;
	albm_rekey(ss, d);
}

static int sched_albm_init(struct albm_service *svc)
{
	struct albm_sstate *ss = xcalloc(1, sizeof(*ss));

	albm_wintree_init(&ss->tree);
	svc->sched_data = ss;
	return 0;
}

static void sched_albm_done(struct albm_service *svc)
{
	struct albm_sstate *ss = sstate(svc);

	albm_wintree_free(&ss->tree);
	for (size_t i = 0; i < svc->ndests; i++) {
		free(svc->dests[i]->sched_priv);
		svc->dests[i]->sched_priv = NULL;
		svc->dests[i]->eff_weight = svc->dests[i]->weight;
	}
	free(ss);
	svc->sched_data = NULL;
}

static int sched_albm_add_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_dstate *st = xcalloc(1, sizeof(*st));

	/* a rebind keeps what the last report said */
	st->cap = d->has_report ? albm_raw_capacity(&d->report) : 1.0;
	st->ramp = 1.0;
	/* joining a service that is already serving: with no connections yet it
	 * would take every new one until it caught up, so it ramps up instead */
	st->pending_ramp = sstate(svc)->serving;
	d->sched_priv = st;
	albm_refresh(svc, d, albm_svc_now(svc));
	return 0;
}

static void sched_albm_del_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_sstate *ss = sstate(svc);

	/* later servers move down one list position, and so do their leaves */
	albm_wintree_delete(&ss->tree, d->idx);
	free(d->sched_priv);
	d->sched_priv = NULL;
}

static void sched_albm_upd_dest(struct albm_service *svc, struct albm_dest *d)
{
	albm_refresh(svc, d, albm_svc_now(svc));
}

static void sched_albm_report(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_dstate *st = dstate(d);

	st->cap = albm_smooth(svc, st->cap, albm_raw_capacity(&d->report));
	albm_refresh(svc, d, d->report_ms);
}

static void sched_albm_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_sstate *ss = sstate(svc);

	if (albm_wintree_present(&ss->tree, d->idx))
		albm_rekey(ss, d);
}

static void sched_albm_tick(struct albm_service *svc)
{
	uint64_t now = albm_svc_now(svc);

	for (size_t i = 0; i < svc->ndests; i++)
		albm_refresh(svc, svc->dests[i], now);
}

/* All-overloaded fallback: among the up servers that are only excluded for load
 * (agent overload or no measured capacity), the smallest SED score on
 * weight x available-memory fraction.  Choosing one "least loaded" server would
 * herd every new connection onto it until the next report; counting live
 * connections here too spreads them.  O(n), but only while every server is
 * overloaded, which is an emergency state. */
static struct albm_dest *albm_least_loaded(const struct albm_service *svc)
{
	struct albm_dest *best = NULL;
	double best_score = 0.0;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		enum albm_adapt_state s = dstate(d)->state;
		double mem, score;

		if (s != ALBM_ADAPT_AGENT_OVL && s != ALBM_ADAPT_NO_CAPACITY)
			continue;
		mem = d->has_report ? albm_mem_fraction(&d->report) : 1.0;
		if (mem < ALBM_FALLBACK_MEM_FLOOR)
			mem = ALBM_FALLBACK_MEM_FLOOR;
		score = (double)(d->activeconns + 1) / ((double)d->weight * mem);
		if (!best || score < best_score) {
			best = d;
			best_score = score;
		}
	}
	return best;
}

static struct albm_dest *sched_albm_schedule(struct albm_service *svc,
					     const struct albm_flow *flow)
{
	struct albm_sstate *ss = sstate(svc);
	long pos = albm_wintree_min(&ss->tree);

	(void)flow;
	if (pos >= 0) {
		ss->serving = true;
		return svc->dests[pos];
	}
	if (svc->adaptive.all_overloaded_policy == ALBM_ALL_OVL_REFUSE) {
		albm_sched_err(svc, "no destination available (every server overloaded or "
				    "down; all_overloaded_policy refuse)");
		return NULL;
	}
	struct albm_dest *d = albm_least_loaded(svc);
	if (!d)
		albm_sched_err(svc, "no destination available");
	return d;
}

const struct albm_sched_ops albm_sched_albm = {
	.name = "albm",
	.description = "adaptive: agent-measured capacity x shortest expected delay, "
		       "overloaded servers excluded",
	.init_service = sched_albm_init,
	.done_service = sched_albm_done,
	.add_dest = sched_albm_add_dest,
	.del_dest = sched_albm_del_dest,
	.upd_dest = sched_albm_upd_dest,
	.schedule = sched_albm_schedule,
	.conn_changed = sched_albm_conn_changed,
	.report = sched_albm_report,
	.tick = sched_albm_tick,
};

/* ---- introspection (albm_adaptive.h) ---- */

int albm_adapt_info(const struct albm_service *svc, const struct albm_dest *dest,
		    struct albm_adapt_info *info)
{
	const struct albm_dstate *st;

	if (svc->sched != &albm_sched_albm || !dest->sched_priv)
		return -EINVAL;
	st = dstate(dest);
	info->state = st->state;
	info->capacity = st->cap;
	info->aged = st->aged;
	info->ramp = st->ramping ? st->ramp : 1.0;
	info->eff_weight = dest->eff_weight;
	return 0;
}

const char *albm_adapt_state_name(enum albm_adapt_state state)
{
	static const char *const names[] = {
		[ALBM_ADAPT_OK] = "ok",
		[ALBM_ADAPT_SLOW_START] = "slow-start",
		[ALBM_ADAPT_DOWN] = "down",
		[ALBM_ADAPT_DRAINED] = "drained",
		[ALBM_ADAPT_STALE] = "stale",
		[ALBM_ADAPT_AGENT_OVL] = "overloaded",
		[ALBM_ADAPT_MAXCONN] = "maxconn",
		[ALBM_ADAPT_NO_CAPACITY] = "no-capacity",
	};

	if ((unsigned)state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "?";
}
