/* ALBM: Adaptive Load Balancing Mechanism scheduler — shortest expected delay under memory-learnt
 *limits
 *
 * The paper's servers collapse when they run out of memory (they page), while a
 * server busy at its CPU share merely gets slower.  So albm treats the two apart:
 * CPU capacity is the weight and the queue of live connections (as sed), memory is
 * a limit that must not be crossed.
 *
 * Pick.  Among the eligible servers, the smallest shortest-expected-delay score
 *
 *	(activeconns + 1) / (w * rel * trust * ramp)	(IPVS sed; Weinrib & Shenker 1988)
 *
 * ties to the first in list order.  The live count makes every assignment raise
 * the chosen server's score at once, so a burst between two reports spreads
 * instead of herding onto the server the last report showed emptiest.  rel is the
 * server's learnt speed per unit of weight against the others' (albm_speed.c: bytes
 * served per second of its CPU; 1 while the weights are right); trust fades from 1
 * to 0.5 between report_timeout/4 and report_timeout (a silent agent may be too busy
 * to report); ramp is Envoy's slow start after a return from overload, failure or
 * drain: max(slow_start_min, (t / slow_start_ms)^(1/aggression)).
 *
 * Memory limit (albm_mem.c).  Each server gets a connection limit learnt by AIMD
 * from its agent's reports, as TCP learns a window: cut on a shortage (below
 * mem_reserve, major faults, a memory stall; halved on an OOM kill), raised by one
 * after windows that show room, shared with the servers that have none per byte of
 * memory; while a neighbour holds memory (foreign memory, twice running) the limit
 * is what the memory left holds instead, and the learnt one is not lowered for it.
 * A server at its limit is FULL: like the IPVS connection limit it is "busy", not
 * "broken", and takes work again as soon as a connection ends, without slow start.
 *
 * Exclusions.  A server also gets nothing while it is down, drained, failed
 * (reports stopped), reported overloaded by its agent (memory or CPU, with the
 * agent's hysteresis), at its IPVS connection limit, stalled (it holds requests it
 * has not begun to answer and its agent saw it use no CPU over a report: a
 * stop-the-world pause; back as soon as it works again), or reported with no
 * memory at all.  When nothing is eligible, all_overloaded_policy queues the
 * connection in the data plane (QUEUE, the default: schedule() returns NULL and the
 * proxy holds the client until a server frees up, up to its queue's bound, then asks
 * overflow() for the least-loaded server), picks that server at once
 * (LEAST_LOADED), or refuses (REFUSE).
 *
 * Published effective weight (dest->eff_weight, what albmctl shows and what the
 * table-driven DR data plane distributes by): w * rel * cap * trust * ramp, cap
 * being the available-memory fraction with rises damped by rise_alpha; 0 when not
 * eligible.
 *
 * Cost: eligible servers sit in the winner tree of the lc family (wintree.h),
 * keyed by (activeconns + 1) / round(w * rel * trust * ramp * 65536) compared by
 * cross-multiplication: a pick is O(1); a connection open/close or a report
 * O(log n); the tick re-evaluates the time-driven parts of every server (and the
 * median of the speeds, O(n log n)).  Design notes and the lab runs that shaped it:
 * docs/schedulers.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/albm_priv.h"

#define ALBM_STALE_GRACE_DIV    4    /* a report is fully trusted for timeout/4 */
#define ALBM_STALE_TRUST        0.5  /* ... then its trust fades to this at the timeout */
#define ALBM_FALLBACK_MEM_FLOOR 0.01 /* all-overloaded fallback: memory floor */
/* a server with unanswered requests that used less
 * of its CPU over a report is stalled ... */
#define ALBM_STALL_CPU          0.03
/* ... while the service's servers use this much on
 * average (a starved machine stalls them all: no
 * server is to blame) */
#define ALBM_STALL_PEERS        0.20
#define ALBM_CPU_ALPHA          0.1 /* weight of one report in that average */

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

/* Stalled: it holds requests it has not begun to answer (the data plane's count) and
 * its agent saw it use (almost) no CPU over the last report while it held connections
 * at the report before too — a stop-the-world pause, a process stopped or blocked.
 * Idle keep-alive connections do not count: they wait for no answer. */
static bool albm_stalled(const struct albm_service *svc, const struct albm_dest *d,
			 uint32_t active_before)
{
	return d->report && d->activeconns > 0 && active_before > 0 && d->passive.waiting > 0 &&
	       d->report->cpu_util < ALBM_STALL_CPU && albm_sstate(svc)->cpu >= ALBM_STALL_PEERS;
}

/* Report freshness: 1 while the report is younger than timeout/4, then sliding
 * linearly to ALBM_STALE_TRUST at the timeout, so a server whose agent went quiet
 * (perhaps because it is too busy to report) is not trusted with more work. */
static double albm_trust(const struct albm_service *svc, const struct albm_dest *d, uint64_t now)
{
	uint64_t timeout = svc->adaptive.report_timeout_ms, grace, age;
	double frac;

	if (!d->report || !timeout)
		return 1.0;
	age = now > d->report_ms ? now - d->report_ms : 0;
	grace = timeout / ALBM_STALE_GRACE_DIV;
	if (age <= grace)
		return 1.0;
	frac = (double)(age - grace) / (double)(timeout - grace);
	if (frac > 1.0)
		frac = 1.0;
	return 1.0 - (1.0 - ALBM_STALE_TRUST) * frac;
}

static bool albm_stale(const struct albm_service *svc, const struct albm_dest *d, uint64_t now)
{
	uint64_t timeout = svc->adaptive.report_timeout_ms;

	return d->report && timeout && now > d->report_ms && now - d->report_ms > timeout;
}

/* Envoy's slow start: weight x max(min, time_factor^(1/aggression)).  Ends the
 * ramp (ramping = false) once the window has passed. */
static double albm_ramp(const struct albm_service *svc, struct albm_dstate *st, uint64_t now)
{
	const struct albm_adaptive_params *p = &svc->adaptive;
	uint64_t t;
	double tf, f, aggr = p->slow_start_aggression, min = albm_clamp01(p->slow_start_min);

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
					   const struct albm_dest *d, uint64_t now)
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
	if (albm_dstate(d)->stalled)
		return ALBM_ADAPT_STALLED;
	if (!(albm_dstate(d)->cap > 0.0))
		return ALBM_ADAPT_NO_CAPACITY;
	if (albm_mem_at_limit(albm_dstate(d), d))
		return ALBM_ADAPT_FULL;
	return ALBM_ADAPT_OK;
}

/* Exclusions that clear by themselves as connections end or work resumes: no slow
 * start after. */
static bool albm_busy_state(enum albm_adapt_state s)
{
	return s == ALBM_ADAPT_MAXCONN || s == ALBM_ADAPT_FULL || s == ALBM_ADAPT_STALLED;
}

/* What the pick divides (activeconns + 1) by: w * rel * trust * ramp. */
static inline double albm_pick_weight(const struct albm_dest *d)
{
	const struct albm_dstate *st = albm_dstate(d);

	return (double)d->weight * albm_speed_factor(st) * st->trust * st->ramp;
}

/* The winner tree compares integers: (activeconns + 1) / pick weight, the
 * denominator in 1/65536 weight units, at least 1 and below 2^32 as the tree
 * requires (true for weights up to 65535, which albm_svc_add_dest() accepts). */
static inline void albm_rekey(struct albm_service *svc, const struct albm_dest *d)
{
	uint64_t den = (uint64_t)(albm_pick_weight(d) * ALBM_ADAPT_EFF_SCALE + 0.5);

	if (den >= (1ull << 32))
		den = (1ull << 32) - 1;
	albm_wintree_set(&albm_sstate(svc)->tree, d->idx, (uint64_t)d->activeconns + 1,
			 den ? den : 1);
}

/* Eligible: publish the effective weight and put the server in the tree. */
static void albm_include(struct albm_service *svc, struct albm_dest *d)
{
	d->eff_weight = albm_pick_weight(d) * albm_dstate(d)->cap;
	albm_rekey(svc, d);
}

/* Not eligible in state st->state: no weight, out of the tree. */
static void albm_exclude(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_dstate *st = albm_dstate(d);

	if (st->state == ALBM_ADAPT_FULL && st->limit != ALBM_LIMIT_NONE &&
	    d->activeconns >= st->limit)
		st->limit_hit = true; /* the learnt limit itself kept work away */
	d->eff_weight = 0.0;
	albm_wintree_clear(&albm_sstate(svc)->tree, d->idx);
}

/* Re-evaluate one server at time now: state, effective weight, place in the tree. */
static void albm_refresh(struct albm_service *svc, struct albm_dest *d, uint64_t now)
{
	struct albm_dstate *st = albm_dstate(d);

	st->trust = albm_trust(svc, d, now);
	st->state = albm_classify(svc, d, now);
	if (st->state != ALBM_ADAPT_OK) {
		if (!albm_busy_state(st->state)) {
			st->pending_ramp = true;
			st->ramping = false;
		}
		albm_exclude(svc, d);
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
	albm_include(svc, d);
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
	struct albm_sstate *ss = albm_sstate(svc);

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

	st->cap = 1.0;
	st->trust = st->ramp = st->rel = st->memrel = 1.0;
	/* joining a service that is already serving: with no connections yet it
	 * would take every new one until it caught up, so it ramps up instead */
	st->pending_ramp = albm_sstate(svc)->serving;
	d->sched_priv = st;
	if (d->report) /* a rebind keeps what the last report said */
		st->cap = albm_mem_fraction(d->report);
	albm_refresh(svc, d, albm_svc_now(svc));
	return 0;
}

static void sched_albm_del_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_sstate *ss = albm_sstate(svc);

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
	struct albm_sstate *ss = albm_sstate(svc);
	struct albm_dstate *st = albm_dstate(d);
	uint32_t before = st->active;

	if (!d->report) { /* the agent is gone: static weights again */
		st->cap = 1.0;
		st->stalled = false;
		albm_refresh(svc, d, albm_svc_now(svc));
		return;
	}
	st->cap = albm_smooth(svc, st->cap, albm_mem_fraction(d->report));
	ss->cpu += ALBM_CPU_ALPHA * (albm_clamp01(d->report->cpu_util) - ss->cpu);
	st->stalled = albm_stalled(svc, d, before);
	albm_mem_report(svc, d, d->report_ms); /* sets st->active for the next report */
	albm_speed_report(svc, d);
	albm_refresh(svc, d, d->report_ms);
}

/* A connection opened or closed: its score changes, and the server may reach or
 * leave its learnt limit.  This runs twice per connection, so it reads no clock:
 * the time-driven parts (trust, ramp, staleness) keep their values until the next
 * tick or report, and flag or weight changes come through upd_dest. */
static void sched_albm_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_dstate *st = albm_dstate(d);
	bool full = albm_mem_at_limit(st, d);

	if (st->state == ALBM_ADAPT_OK || st->state == ALBM_ADAPT_SLOW_START) {
		if (!full) {
			albm_rekey(svc, d);
			return;
		}
		st->state = ALBM_ADAPT_FULL;
		albm_exclude(svc, d);
	} else if (st->state == ALBM_ADAPT_FULL && !full) {
		st->state = st->ramping ? ALBM_ADAPT_SLOW_START : ALBM_ADAPT_OK;
		albm_include(svc, d);
	}
}

static void sched_albm_tick(struct albm_service *svc)
{
	uint64_t now = albm_svc_now(svc);

	albm_mem_share(svc, now);
	albm_speed_tick(svc);
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		/* a stall ends when its requests are answered (or it has none left) */
		if (albm_dstate(d)->stalled && (!d->passive.waiting || !d->activeconns))
			albm_dstate(d)->stalled = false;
		albm_refresh(svc, d, now);
	}
}

/* All-overloaded fallback (LEAST_LOADED): among the up servers excluded only for
 * load (agent overload, no capacity, FULL), the smallest SED score on
 * weight x available memory.  Counting the live connections spreads the
 * new ones instead of herding them onto one server until the next report.  O(n),
 * but only while every server is overloaded, which is an emergency state. */
static struct albm_dest *albm_least_loaded(const struct albm_service *svc)
{
	struct albm_dest *best = NULL;
	double best_score = 0.0;

	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		enum albm_adapt_state s = albm_dstate(d)->state;
		double mem, score;

		if (s != ALBM_ADAPT_AGENT_OVL && s != ALBM_ADAPT_NO_CAPACITY &&
		    s != ALBM_ADAPT_FULL)
			continue;
		mem = d->report ? albm_mem_fraction(d->report) : 1.0;
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

static struct albm_dest *sched_albm_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct albm_sstate *ss = albm_sstate(svc);
	long pos = albm_wintree_min(&ss->tree);
	int policy = svc->adaptive.all_overloaded_policy;

	(void)flow;
	if (pos >= 0) {
		ss->serving = true;
		return svc->dests[pos];
	}
	/* QUEUE: the normal answer of a full cluster, which the data plane counts
	 * as queued; no warning for every connection that waits */
	if (policy == ALBM_ALL_OVL_QUEUE)
		return NULL;
	if (policy == ALBM_ALL_OVL_REFUSE) {
		albm_sched_err(svc, "no destination available (every server overloaded or "
				    "down; all_overloaded_policy refuse)");
		return NULL;
	}
	struct albm_dest *d = albm_least_loaded(svc);
	if (!d)
		albm_sched_err(svc, "no destination available");
	return d;
}

/* The data plane stops holding a connection (its queue's bound): the least-loaded
 * server, unless the policy refuses. */
static struct albm_dest *sched_albm_overflow(struct albm_service *svc)
{
	if (svc->adaptive.all_overloaded_policy == ALBM_ALL_OVL_REFUSE)
		return NULL;
	return albm_least_loaded(svc);
}

/* Table weights: the effective weights; when every server is excluded, the one
 * server the all-overloaded policy would pick (none with REFUSE).  QUEUE counts as
 * LEAST_LOADED here: a table-driven data plane forwards packets and has nowhere to
 * hold a new connection until a server frees. */
static enum albm_table_kind sched_albm_weights(const struct albm_service *svc, uint32_t k,
					       uint32_t *w)
{
	const struct albm_dest *d;

	(void)k;
	albm_weights_effective(svc, w);
	for (size_t i = 0; i < svc->ndests; i++)
		if (w[i])
			return ALBM_TABLE_EFFECTIVE;
	if (svc->adaptive.all_overloaded_policy != ALBM_ALL_OVL_REFUSE &&
	    (d = albm_least_loaded(svc)))
		w[d->idx] = 1;
	return ALBM_TABLE_EFFECTIVE;
}

const struct albm_sched_ops albm_sched_albm = {
	.name = "albm",
	.description = "adaptive: shortest expected delay under connection limits learnt "
		       "from agent-measured memory, overloaded servers excluded",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS | ALBM_SCHED_F_ADAPTIVE,
	.init_service = sched_albm_init,
	.done_service = sched_albm_done,
	.add_dest = sched_albm_add_dest,
	.del_dest = sched_albm_del_dest,
	.upd_dest = sched_albm_upd_dest,
	.schedule = sched_albm_schedule,
	.weights = sched_albm_weights,
	.overflow = sched_albm_overflow,
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
	st = albm_dstate(dest);
	info->state = st->state;
	info->capacity = st->cap;
	info->aged = st->cap * st->trust;
	info->ramp = st->ramping ? st->ramp : 1.0;
	info->eff_weight = dest->eff_weight;
	info->pick_weight = albm_pick_weight(dest);
	info->conn_limit = albm_mem_limit(st);
	info->mem_avail = dest->report ? albm_mem_fraction(dest->report) : 1.0;
	info->speed = albm_speed_factor(st);
	info->neighbour = st->neighbour || st->nb_suspect;
	return 0;
}

const char *albm_adapt_state_name(enum albm_adapt_state state)
{
	static const char *const names[] = {
		[ALBM_ADAPT_OK] = "ok",           [ALBM_ADAPT_SLOW_START] = "slow-start",
		[ALBM_ADAPT_DOWN] = "down",       [ALBM_ADAPT_DRAINED] = "drained",
		[ALBM_ADAPT_STALE] = "stale",     [ALBM_ADAPT_AGENT_OVL] = "overloaded",
		[ALBM_ADAPT_MAXCONN] = "maxconn", [ALBM_ADAPT_NO_CAPACITY] = "no-capacity",
		[ALBM_ADAPT_FULL] = "full",       [ALBM_ADAPT_STALLED] = "stalled",
	};

	if ((unsigned)state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "?";
}
