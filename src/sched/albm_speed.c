/* ALBM: the albm scheduler's learnt speeds — bytes served per CPU-second of each server
 *
 * A static weight is the operator's guess at a server's capacity; it may be wrong (the
 * servers differ and nobody measured), or right until a neighbour takes part of the
 * server's CPU (the server is busy at its quota, but some of that is not its own work).
 * What albmd can measure is the work a server gets done per unit of the CPU it has: the
 * response bytes it sent (the data plane counts them, dest->passive.resp_bytes) per
 * second of its CPU capacity used (its agent's cpu_util, 0-1 of the cgroup's quota):
 *
 *	speed = sum(bytes) / sum(cpu_util * dt)      over the reports, decayed with
 *	                                               time constant ALBM_SPEED_TAU_MS
 *
 * gRPC's weighted round robin (gRFC A58) divides queries per second by utilisation the
 * same way; bytes rather than queries because the work of a request varies with its
 * size far more than its count does (1 B to 15 MB in the lab), so a few seconds of
 * bytes say what a minute of queries would.  A neighbour's CPU counts in cpu_util (it
 * is the cgroup's) and not in the bytes: the server's speed drops while it runs.
 *
 * The pick uses rel = (speed / weight) / median over the servers with a speed of
 * (speed / weight), clamped to [1/4, 4]: 1 while the weights are right, below 1 for
 * a server that does less per unit of weight than the others; within ALBM_SPEED_BAND
 * of the median it is 1, so that equal servers are not set apart by the estimate's
 * noise.  A server with too
 * little evidence (less than ALBM_SPEED_MIN_CPU capacity-seconds in its window:
 * idle, paused, or a data plane that counts no bytes) keeps its last rel (1 at first).
 *
 * A cold start.  Until albm has learnt a server's connection limit, it also keeps the
 * server's share of connections no larger than its share of memory per unit of
 * weight (memrel: its memory total over the others' median): a flash crowd on a cluster
 * whose servers have equal weights but not equal memory (containers of different
 * sizes) would otherwise give a small server as many connections as a large one before
 * any report shows what they cost, and a container without swap is OOM-killed.  The
 * totals are static, so this does not herd the way available memory would.
 */
#include <math.h>
#include <stdlib.h>

#include "sched/albm_priv.h"

#define ALBM_SPEED_TAU_MS  3000.0 /* memory of the speed estimate */
#define ALBM_SPEED_MIN_CPU 0.5    /* capacity-seconds of evidence for an estimate */
#define ALBM_SPEED_GAP_MS  5000   /* reports further apart than this start afresh */
#define ALBM_SPEED_REL_MIN 0.25
#define ALBM_SPEED_REL_MAX 4.0
/* within 1/1.25 .. 1.25 of the median: 1 (the
 * estimate's noise, a few seconds of a mixed load,
 * is about that) */
#define ALBM_SPEED_BAND    1.25

void albm_speed_report(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_dstate *st = albm_dstate(d);
	uint64_t now = d->report_ms, b = d->passive.resp_bytes;

	(void)svc;
	if (st->sp_ms && now > st->sp_ms && now - st->sp_ms <= ALBM_SPEED_GAP_MS &&
	    b >= st->sp_bytes) {
		double dt = (double)(now - st->sp_ms), k = exp(-dt / ALBM_SPEED_TAU_MS);
		st->sp_b = st->sp_b * k + (double)(b - st->sp_bytes);
		st->sp_u = st->sp_u * k + albm_clamp01(d->report->cpu_util) * dt / 1000.0;
		if (st->sp_u >= ALBM_SPEED_MIN_CPU && st->sp_b > 0)
			st->speed = st->sp_b / st->sp_u;
	} else if (st->sp_ms && now - st->sp_ms > ALBM_SPEED_GAP_MS) {
		st->sp_b = st->sp_u = 0.0;
	}
	st->sp_bytes = b;
	st->sp_ms = now;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double rel_clamp(double r)
{
	if (r < ALBM_SPEED_REL_MIN)
		return ALBM_SPEED_REL_MIN;
	return r > ALBM_SPEED_REL_MAX ? ALBM_SPEED_REL_MAX : r;
}

/* A figure per unit of weight: speed (memory = false) or memory total. */
static double per_weight(const struct albm_dest *d, bool memory)
{
	if (d->weight <= 0)
		return 0.0;
	if (!memory)
		return albm_dstate(d)->speed / d->weight;
	return d->report ? (double)d->report->mem_total_bytes / d->weight : 0.0;
}

/* The median of the positive figures of the servers, 0 with fewer than two. */
static double median_per_weight(const struct albm_service *svc, bool memory, double *v)
{
	size_t n = 0;

	for (size_t i = 0; i < svc->ndests; i++) {
		double x = per_weight(svc->dests[i], memory);
		if (x > 0)
			v[n++] = x;
	}
	if (n < 2) /* nothing to compare with */
		return 0.0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void albm_speed_tick(struct albm_service *svc)
{
	double *v = malloc(svc->ndests * sizeof(*v) + 1), med[2];

	if (!v)
		return;
	med[0] = median_per_weight(svc, false, v);
	med[1] = median_per_weight(svc, true, v);
	free(v);
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		struct albm_dstate *st = albm_dstate(d);
		double x = per_weight(d, false), y = per_weight(d, true);
		if (x > 0 && med[0] > 0) {
			double r = x / med[0];
			bool band = r <= ALBM_SPEED_BAND && r >= 1.0 / ALBM_SPEED_BAND;
			st->rel = band ? 1.0 : rel_clamp(r);
		}
		st->memrel = y > 0 && med[1] > 0 ? rel_clamp(y / med[1]) : 1.0;
	}
}

double albm_speed_factor(const struct albm_dstate *st)
{
	if (st->limit == ALBM_LIMIT_NONE && st->memrel < st->rel)
		return st->memrel;
	return st->rel;
}
