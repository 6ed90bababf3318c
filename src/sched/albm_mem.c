/* ALBM: the albm scheduler's connection limit, learnt from the agents' memory reports
 *
 * How many connections a server can hold without paging depends on what they ask for,
 * which an L4 switch cannot see and which only shows in the server's memory some time
 * after the connection was handed over.  So each server gets a limit learnt by AIMD
 * (docs/schedulers.md, "The rule"):
 *
 *	shortage (a report below mem_reserve, or the server thrashing: major faults or a
 *	memory stall): limit = max(1, floor(beta * min(limit, active))), once per
 *	shortage and at most once a second;
 *	an OOM kill: limit = max(1, floor(active / 2)) of what it held before;
 *	a 4 s window in which the limit was reached and the lowest available memory m
 *	would still leave room for two more average connections above the reserve,
 *	m - 2 (1 - m) / limit >= mem_reserve: limit += 1 (one window per step below the
 *	connections held at the last shortage, three at or beyond it, or with none yet).
 *
 * No limit until memory first falls below twice the reserve while the server holds at
 * least ALBM_SHARE_CONNS connections: then the limit starts at the connections held; a
 * server without one starts from the limits the others learnt from at least that many
 * connections, per byte of its memory.
 *
 * A neighbour.  Memory that something other than the connections takes (another
 * process in the server's container: a batch job, a cache) says nothing about what a
 * connection costs: learning from it would keep the limit down long after the neighbour
 * has gone.  So albm keeps two figures from the reports: the server's idle footprint
 * (memory in use with no connection) and the memory a connection holds on average
 * (the service's servers pooled, without neighbours).  Memory in use beyond the
 * footprint and the connections' share ("foreign") in two reports running, by at
 * least ALBM_NB_FOREIGN of the server's memory and three standard deviations of what
 * its connections' sizes make likely (3 sqrt(n) x the average: their sizes vary about
 * as much as their mean), is a neighbour: while it stays, the AIMD limit is left alone
 * (a cut made at the first of the two reports is undone) and the server takes only as
 * many connections as the memory left above the reserve holds at the average size
 * (from the first report on); when it goes, the learnt limit applies again at once.
 */
#include <math.h>

#include "common/util.h"
#include "sched/albm_priv.h"

#define ALBM_LIMIT_BETA      0.75 /* multiplicative decrease of the connection limit */
#define ALBM_LIMIT_HOLD_MS   1000 /* at most one decrease per this long */
#define ALBM_LIMIT_WINDOW_MS 4000 /* at most one increase per this long */
/* no limit yet and below this x the reserve: the
 * limit starts at what the server holds */
#define ALBM_LIMIT_APPROACH  2.0
/* windows in a row for a step at or beyond the
 * level of the last shortage (or with none yet) */
#define ALBM_LIMIT_PROBE     3
/* an increase needs room for this many average
 * connections: their sizes differ (1 B .. 15 MB) */
#define ALBM_LIMIT_ROOM      2.0
#define ALBM_OOM_BETA        0.5 /* an OOM kill: what the server held, halved */
/* major faults/s that are a shortage (1 MiB/s of
 * 4 KiB pages read back: thrashing) */
#define ALBM_MAJFAULT_RATE   256.0
/* a memory stall ("full") this share of the last
 * interval is a shortage */
#define ALBM_PSI_FULL_PCT    10.0
/* foreign memory, share of the server's, that is a
 * neighbour (twice running) */
#define ALBM_NB_FOREIGN      0.30
#define ALBM_NB_GONE         0.15 /* ... and below which it has gone */
#define ALBM_NB_SIGMAS       3.0  /* ... and standard deviations of the connections' sum */
#define ALBM_MCONN_CONNS     3    /* connections a server holds for a size sample */
#define ALBM_MCONN_ALPHA     0.05 /* weight of one sample of a connection's memory */
#define ALBM_BASE_CREEP      0.05 /* an idle footprint above the lowest one moves it */
/* connections a limit must be learnt from to be shared
 * (or to be set on a first approach): with fewer, the
 * memory may be a neighbour's, and one hogged server would
 * teach the whole cluster a limit of 1 */
#define ALBM_SHARE_CONNS     3

/* Start a new observation window for the limit at time now. */
static void albm_limit_window(struct albm_dstate *st, uint64_t now, double avail)
{
	st->window_start = now;
	st->window_min = avail;
	st->limit_hit = false;
}

/* Lower the limit to factor x `base` connections (at least 1); a shortage. */
static void albm_limit_cut(struct albm_dstate *st, uint32_t base, double factor, uint64_t now,
			   double avail)
{
	st->shared = base >= ALBM_SHARE_CONNS;
	st->ceiling = base;
	st->good_windows = 0;
	st->limit = (uint32_t)(factor * base);
	if (st->limit < 1)
		st->limit = 1;
	st->decreased = true;
	st->decrease_ms = now;
	st->in_shortage = true;
	albm_limit_window(st, now, avail);
}

/* The server is thrashing by its agent's stall signals (where it sends them). */
static bool albm_thrashing(const struct albm_metrics *m)
{
	if ((m->present & ALBM_MET_MAJFAULT) && m->majfault_rate >= ALBM_MAJFAULT_RATE)
		return true;
	return (m->present & ALBM_MET_CG_PSI(ALBM_PSI_MEMORY)) &&
	       m->cg_psi[ALBM_PSI_MEMORY].full_pct >= ALBM_PSI_FULL_PCT;
}

/* The idle footprint, the service's memory per connection and the neighbour, from
 * one report: used bytes of total, `a` connections held now. */
static void albm_footprint(struct albm_service *svc, struct albm_dstate *st, uint32_t a,
			   double used, double total)
{
	struct albm_sstate *ss = albm_sstate(svc);
	double foreign, x;

	if (!st->seen) {
		st->base = used; /* reports start before the traffic */
		st->seen = true;
	} else if (a == 0 && st->active == 0) {
		st->base = used < st->base ? used : st->base + ALBM_BASE_CREEP * (used - st->base);
	}
	foreign = used - st->base - (ss->mconn > 0 ? a * ss->mconn : 0);
	x = fmax(ALBM_NB_FOREIGN * total, ALBM_NB_SIGMAS * sqrt((double)a) * ss->mconn);
	st->nb_suspect = ss->mconn > 0 && foreign >= x;
	if (!st->neighbour) {
		/* twice running: a burst of large requests is gone by the next report */
		if (st->nb_suspect && st->nb_bytes >= x) {
			st->neighbour = true;
			if (st->cut_suspect) { /* that cut was the neighbour's doing */
				st->limit = st->pre_limit;
				st->ceiling = st->pre_ceiling;
			}
		}
		st->nb_bytes = foreign;
	} else if (foreign < ALBM_NB_GONE * total) {
		st->neighbour = false;
		st->nb_bytes = 0;
	} else {
		st->nb_bytes = foreign;
	}
	if (!st->neighbour && !st->nb_suspect && a >= ALBM_MCONN_CONNS) {
		x = (used - st->base) / a;
		x = x < 0 ? 0 : x > total ? total : x;
		ss->mconn = ss->mconn > 0 ? ss->mconn + ALBM_MCONN_ALPHA * (x - ss->mconn) : x;
	}
}

/* While a neighbour holds memory: as many connections as the memory left above the
 * reserve holds at the average size. */
static void albm_neighbour_limit(const struct albm_service *svc, struct albm_dstate *st, uint32_t a,
				 double avail, double total)
{
	double per = albm_sstate(svc)->mconn;
	double room = avail - albm_clamp01(svc->adaptive.mem_reserve) * total;
	double l = (double)a + floor(room / per);

	st->nb_limit = l < 0 ? 0 : l > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)l;
}

/* The AIMD part (see the header).  One decrease per shortage: until memory is back
 * above the reserve the server drains what it took before, which says nothing new
 * (TCP likewise backs off once per round trip); none for a server that holds nothing
 * (no connection count to learn from) or while a neighbour explains the shortage. */
static void albm_aimd(const struct albm_service *svc, struct albm_dstate *st,
		      const struct albm_dest *d, uint64_t now, double avail, bool short_)
{
	double reserve = albm_clamp01(svc->adaptive.mem_reserve), per_conn;
	uint32_t base = d->activeconns;

	if (avail < st->window_min)
		st->window_min = avail;
	if (short_) {
		if (d->activeconns && !st->in_shortage && !st->neighbour &&
		    (!st->decreased || now - st->decrease_ms >= ALBM_LIMIT_HOLD_MS)) {
			st->pre_limit = st->limit;
			st->pre_ceiling = st->ceiling;
			st->cut_suspect = st->nb_suspect;
			if (st->limit != ALBM_LIMIT_NONE && st->limit < base)
				base = st->limit;
			albm_limit_cut(st, base, ALBM_LIMIT_BETA, now, avail);
		}
		return;
	}
	st->in_shortage = false;
	if (st->limit == ALBM_LIMIT_NONE && avail < ALBM_LIMIT_APPROACH * reserve &&
	    d->activeconns >= ALBM_SHARE_CONNS && !st->neighbour && !st->nb_suspect) {
		/* first approach to the reserve: no more than it holds now */
		st->limit = d->activeconns;
		st->shared = true;
		albm_limit_window(st, now, avail);
		return;
	}
	if (st->limit == ALBM_LIMIT_NONE || now - st->window_start < ALBM_LIMIT_WINDOW_MS)
		return;
	per_conn = (1.0 - st->window_min) / st->limit;
	if (st->limit_hit && st->window_min - ALBM_LIMIT_ROOM * per_conn >= reserve &&
	    st->limit < UINT32_MAX) {
		/* below the level that ran short last time, one good window per step;
		 * beyond it (or beyond a limit never tested by a shortage) one lucky
		 * window is not enough evidence: ALBM_LIMIT_PROBE in a row, as TCP
		 * grows slowly past its slow-start threshold — except a limit of one
		 * or two, learnt from as few connections (a neighbour's doing, likely),
		 * which must not keep a server idle for long */
		if ((st->ceiling && st->limit + 1 < st->ceiling) || st->limit < ALBM_SHARE_CONNS ||
		    ++st->good_windows >= ALBM_LIMIT_PROBE) {
			st->limit++;
			st->good_windows = 0;
		}
	} else {
		st->good_windows = 0;
	}
	albm_limit_window(st, now, avail);
}

void albm_mem_report(struct albm_service *svc, struct albm_dest *d, uint64_t now)
{
	const struct albm_metrics *m = d->report;
	struct albm_dstate *st = albm_dstate(d);
	double total, used, avail;
	bool oom;

	if (!m->mem_total_bytes) /* reports without a memory total leave the limit alone */
		return;
	total = (double)m->mem_total_bytes;
	avail = albm_mem_fraction(m);
	/* bytes in integers: a figure of memory per connection must divide exactly */
	used = (double)(m->mem_total_bytes - ALBM_MIN(m->mem_available_bytes, m->mem_total_bytes));
	oom = (m->present & ALBM_MET_OOM_KILLS) && st->seen && m->oom_kills > st->oom_kills;
	albm_footprint(svc, st, d->activeconns, used, total);
	if (!st->nb_suspect)
		st->cut_suspect = false;
	if (st->neighbour || st->nb_suspect)
		albm_neighbour_limit(svc, st, d->activeconns, total - used, total);
	if (oom) {
		/* killed for want of memory: whatever it held was too much */
		uint32_t held = st->active > d->activeconns ? st->active : d->activeconns;
		albm_limit_cut(st, held ? held : 1, ALBM_OOM_BETA, now, avail);
	} else {
		albm_aimd(svc, st, d, now, avail,
			  avail < albm_clamp01(svc->adaptive.mem_reserve) || albm_thrashing(m));
	}
	st->used = used;
	st->active = d->activeconns;
	st->oom_kills = m->oom_kills;
}

/* Servers that never ran short have no limit of their own yet; once some have learnt
 * one, the others start from the same limit per byte of memory (a limit is about
 * memory: twice the memory holds twice the connections), rather than each paging once
 * to learn it.  Where no server reports a total, per unit of weight. */
void albm_mem_share(struct albm_service *svc, uint64_t now)
{
	double limits = 0.0, size = 0.0;
	bool bytes = true;

	for (size_t i = 0; i < svc->ndests; i++)
		if (svc->dests[i]->weight > 0 &&
		    (!svc->dests[i]->report || !svc->dests[i]->report->mem_total_bytes))
			bytes = false;
	for (size_t i = 0; i < svc->ndests; i++) {
		const struct albm_dest *d = svc->dests[i];
		const struct albm_dstate *st = albm_dstate(d);
		if (st->limit != ALBM_LIMIT_NONE && st->shared && d->weight > 0) {
			limits += st->limit;
			size += bytes ? (double)d->report->mem_total_bytes : d->weight;
		}
	}
	if (!(size > 0.0))
		return;
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		struct albm_dstate *st = albm_dstate(d);
		double l;
		if (st->limit != ALBM_LIMIT_NONE || d->weight <= 0 || !d->report ||
		    !d->report->mem_total_bytes)
			continue;
		l = limits / size * (bytes ? (double)d->report->mem_total_bytes : d->weight);
		st->limit = l < 1.0 ? 1 : l > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)l;
		st->shared = false; /* a copy: it teaches nobody */
		albm_limit_window(st, now, albm_mem_fraction(d->report));
	}
}

uint32_t albm_mem_limit(const struct albm_dstate *st)
{
	if ((st->neighbour || st->nb_suspect) &&
	    (st->limit == ALBM_LIMIT_NONE || st->nb_limit < st->limit))
		return st->nb_limit;
	return st->limit;
}

bool albm_mem_at_limit(const struct albm_dstate *st, const struct albm_dest *d)
{
	if (st->neighbour || st->nb_suspect)
		return d->activeconns >= albm_mem_limit(st);
	return st->limit != ALBM_LIMIT_NONE && d->activeconns >= st->limit;
}
