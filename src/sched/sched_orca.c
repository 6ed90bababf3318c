/* ALBM: orca — gRPC's weighted_round_robin: weights qps / utilisation from load reports
 *
 * Spec: gRFC A58, "weighted_round_robin LB policy" (grpc/proposal,
 * A58-client-side-weighted-round-robin-lb-policy.md, 2023), which weighs each backend by
 * the ORCA load reports it sends; the pick is gRPC C-core's static-stride scheduler
 * (src/core/load_balancing/weighted_round_robin/static_stride_scheduler.cc), the
 * successor of A58's EDF picker.  Envoy's client_side_weighted_round_robin follows the
 * same rules.  Written from the published rules; no code is taken from either.
 *
 * What stands for ORCA's fields here.  An ALBM server reports through albm-agent, not
 * ORCA, and albmd is its only client:
 *   utilization = the mean cpu_util of the agent reports that arrived in the window
 *                 (0-1 of the CPU capacity of the server's cgroup quota, or of the host);
 *   qps         = connections this distributor saw complete in the window, per second
 *                 (one request per connection in the lab; a server's own request rate
 *                 when albmd is its only client, which is how ALBM is deployed);
 *   eps         = connections the data plane counted as failed (dest->passive.errors)
 *                 in the window, per second.
 * The window is one weight update period: every update_ms each server whose window
 * holds a report and completions gets (A58 UpdateWeight)
 *
 *	u = utilization + eps / qps * error_penalty       (when u > 0 and qps > 0)
 *	weight = qps / u;  a zero weight (no report, nothing completed, u = 0) updates nothing
 *
 * and its times: non_empty_since (the first update since it (re)started reporting or came
 * back up) and last_updated.  The weight used (A58 GetWeight, evaluated when the
 * scheduler is rebuilt, i.e. every update_ms and whenever the set of usable servers
 * changes) is 0 = "unknown" when
 *	now - last_updated >= expiration_ms   (and non_empty_since is reset: after expiry the
 *	                                       blackout applies again), or
 *	now - non_empty_since < blackout_ms   (a weight must have been reported for a while).
 *
 * Static stride (C-core): over the usable servers (up, weight > 0, under maxconn), the
 * known weights' mean M stands in for every unknown one; a weight above 10 M is cut to
 * 10 M (at most ten rounds per pick); the weights are scaled so that the largest is
 * 65535 and floored at max(1, round(0.01 * M scaled)).  A sequence number s (uint32,
 * random start, +1 per step) splits into i = s mod n and generation g = s / n; server i is
 * taken when (w_i * g + i * 32767) mod 65535 >= 65535 - w_i, else the next s is tried.
 * So server i is taken w_i times per 65535 generations, spread out, and the largest is
 * never skipped (a pick takes at most n steps).  No usable server: NULL.  Without any
 * known weight every server weighs the same and the order is plain round robin.
 *
 * The static weights of albmd.conf only decide usability (0 = drained): like gRPC,
 * orca balances on what the servers report.  The agent's overload state is ignored,
 * as every peer scheduler here ignores it.  Published eff_weight = the weight used
 * (qps / utilization, or the mean), 0 when not usable.
 */
#include <math.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/sched.h"

#define ORCA_NEVER         UINT64_MAX
#define ORCA_MAX_W         65535u
#define ORCA_OFFSET        (ORCA_MAX_W / 2)
#define ORCA_MAX_RATIO     10.0 /* C-core kMaxRatio */
#define ORCA_MIN_RATIO     0.01 /* C-core kMinRatio */
#define ORCA_MIN_UPDATE_MS 100  /* A58: update periods below 100 ms are raised to it */

/* Per server: the weight and its times (A58), and the window being measured. */
struct orca_dest {
	double weight;            /* qps / utilization of the last update, 0 = none */
	uint64_t non_empty_since; /* ORCA_NEVER until the first update after a (re)start */
	uint64_t last_updated;
	bool was_up; /* ALBM_DEST_F_AVAILABLE as last seen */
	/* the current window */
	uint64_t win_ms; /* when it started */
	double util_sum; /* cpu_util of the reports in it */
	uint32_t util_n;
	uint64_t total0, live0, errors0; /* counters at its start */
};

struct orca_state {
	struct albm_dest **sel; /* the usable servers, list order */
	uint16_t *w;            /* their stride weights */
	double *f;              /* their A58 weights (scratch for the rebuild) */
	size_t n, cap;
	uint32_t seq; /* C-core: a wrapping 32-bit sequence, random start */
	uint64_t next_update_ms;
	bool dirty; /* rebuild sel/w before the next pick */
};

static uint64_t orca_live(const struct albm_dest *d)
{
	return (uint64_t)d->activeconns + d->inactconns;
}

/* Start a new measurement window for d at now. */
static void orca_window_reset(struct orca_dest *o, const struct albm_dest *d, uint64_t now)
{
	o->win_ms = now;
	o->util_sum = 0;
	o->util_n = 0;
	o->total0 = d->total_conns;
	o->live0 = orca_live(d);
	o->errors0 = d->passive.errors;
}

/* A58 UpdateWeight(qps, eps, utilization) at now. */
static void orca_update_weight(struct albm_service *svc, struct orca_dest *o, double qps,
			       double eps, double util, uint64_t now)
{
	double w;

	if (util > 0 && qps > 0)
		util += eps / qps * svc->orca.error_penalty;
	w = util > 0 ? qps / util : 0;
	if (!(w > 0) || !isfinite(w))
		return;
	if (o->non_empty_since == ORCA_NEVER)
		o->non_empty_since = now;
	o->last_updated = now;
	o->weight = w;
}

/* Close d's window: its qps, eps and mean utilization feed UpdateWeight. */
static void orca_window_close(struct albm_service *svc, struct albm_dest *d, uint64_t now)
{
	struct orca_dest *o = d->sched_priv;
	double secs = (double)(now - o->win_ms) / 1000.0;
	int64_t done = (int64_t)(d->total_conns - o->total0) - (int64_t)(orca_live(d) - o->live0);
	double errs = (double)(d->passive.errors - o->errors0);

	if (secs > 0 && o->util_n)
		orca_update_weight(svc, o, (double)ALBM_MAX(done, 0) / secs, errs / secs,
				   o->util_sum / o->util_n, now);
	orca_window_reset(o, d, now);
}

/* A58 GetWeight at now: the weight, or 0 while blacked out or expired. */
static double orca_get_weight(const struct albm_service *svc, struct orca_dest *o, uint64_t now)
{
	if (o->non_empty_since == ORCA_NEVER)
		return 0;
	if (now - o->last_updated >= svc->orca.expiration_ms) {
		o->non_empty_since = ORCA_NEVER;
		return 0;
	}
	if (svc->orca.blackout_ms && now - o->non_empty_since < svc->orca.blackout_ms)
		return 0;
	return o->weight;
}

/* The usable servers and their A58 weights into s->sel and f[]; returns
 * the sum and count of the known (non-zero) weights and their maximum. */
static void orca_collect(struct albm_service *svc, struct orca_state *s, double *sum, size_t *known,
			 double *max)
{
	double *f = s->f;
	uint64_t now = albm_svc_now(svc);

	s->n = 0;
	*sum = *max = 0;
	*known = 0;
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];
		double w;

		d->eff_weight = 0;
		if (!albm_dest_usable(d))
			continue;
		w = orca_get_weight(svc, d->sched_priv, now);
		f[s->n] = w;
		s->sel[s->n++] = d;
		*sum += w;
		*known += w > 0;
		*max = ALBM_MAX(*max, w);
	}
}

/* C-core StaticStrideScheduler::Make over the usable servers. */
static void orca_rebuild(struct albm_service *svc, struct orca_state *s)
{
	double sum, max, mean = 1, scale = 1;
	const double *f;
	size_t known;
	uint16_t wmean = ORCA_MAX_W, lower = 1;

	if (s->cap < svc->ndests) {
		s->cap = svc->ndests;
		s->sel = xrealloc(s->sel, s->cap * sizeof(*s->sel));
		s->w = xrealloc(s->w, s->cap * sizeof(*s->w));
		s->f = xrealloc(s->f, s->cap * sizeof(*s->f));
	}
	orca_collect(svc, s, &sum, &known, &max);
	f = s->f;
	if (known) {
		mean = sum / (double)known;
		max = ALBM_MIN(max, ORCA_MAX_RATIO * mean);
		scale = ORCA_MAX_W / max;
		wmean = (uint16_t)lround(scale * mean);
		lower = (uint16_t)ALBM_MAX(1, lround(wmean * ORCA_MIN_RATIO));
	}
	for (size_t i = 0; i < s->n; i++) {
		long w = f[i] > 0 ? lround(ALBM_MIN(f[i], max) * scale) : wmean;

		s->w[i] = (uint16_t)(known ? ALBM_MAX(w, lower) : ORCA_MAX_W);
		s->sel[i]->eff_weight = known ? (f[i] > 0 ? ALBM_MIN(f[i], max) : mean) : 1.0;
	}
	s->dirty = false;
}

static int sched_orca_init(struct albm_service *svc)
{
	struct orca_state *s = xcalloc(1, sizeof(*s));

	s->seq = (uint32_t)albm_svc_rand(svc);
	s->next_update_ms = albm_svc_now(svc) + ALBM_MAX(svc->orca.update_ms, ORCA_MIN_UPDATE_MS);
	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_orca_done(struct albm_service *svc)
{
	struct orca_state *s = svc->sched_data;

	for (size_t i = 0; i < svc->ndests; i++) {
		free(svc->dests[i]->sched_priv);
		svc->dests[i]->sched_priv = NULL;
	}
	free(s->sel);
	free(s->w);
	free(s->f);
	free(s);
	svc->sched_data = NULL;
}

static int sched_orca_add_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct orca_dest *o = xcalloc(1, sizeof(*o));
	struct orca_state *s = svc->sched_data;

	o->non_empty_since = ORCA_NEVER;
	o->was_up = d->flags & ALBM_DEST_F_AVAILABLE;
	orca_window_reset(o, d, albm_svc_now(svc));
	d->sched_priv = o;
	s->dirty = true;
	return 0;
}

static void sched_orca_del_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct orca_state *s = svc->sched_data;

	free(d->sched_priv);
	d->sched_priv = NULL;
	s->dirty = true;
}

/* A58 OnSubchannelBecomesReady: a server back up starts a new blackout. */
static void sched_orca_upd_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct orca_state *s = svc->sched_data;
	struct orca_dest *o = d->sched_priv;
	bool up = d->flags & ALBM_DEST_F_AVAILABLE;

	if (up && !o->was_up)
		o->non_empty_since = ORCA_NEVER;
	o->was_up = up;
	s->dirty = true;
}

static void sched_orca_report(struct albm_service *svc, struct albm_dest *d)
{
	struct orca_dest *o = d->sched_priv;

	(void)svc;
	if (!d->report) /* forgotten (no agent any more): nothing to average */
		return;
	o->util_sum += d->report->cpu_util;
	o->util_n++;
}

/* Every update_ms: close every server's window and rebuild the scheduler. */
static void sched_orca_tick(struct albm_service *svc)
{
	struct orca_state *s = svc->sched_data;
	uint64_t now = albm_svc_now(svc);

	if (now < s->next_update_ms)
		return;
	for (size_t i = 0; i < svc->ndests; i++)
		orca_window_close(svc, svc->dests[i], now);
	s->next_update_ms = now + ALBM_MAX(svc->orca.update_ms, ORCA_MIN_UPDATE_MS);
	s->dirty = true;
}

static struct albm_dest *sched_orca_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct orca_state *s = svc->sched_data;

	(void)flow;
	if (s->dirty)
		orca_rebuild(svc, s);
	if (!s->n) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	/* The largest weight is 65535 and never skipped: at most n steps. */
	for (;;) {
		uint32_t q = s->seq++;
		uint64_t i = q % s->n, g = q / s->n, w = s->w[i];

		if ((w * g + i * ORCA_OFFSET) % ORCA_MAX_W >= ORCA_MAX_W - w)
			return s->sel[i];
	}
}

const struct albm_sched_ops albm_sched_orca = {
	.name = "orca",
	.description = "gRPC weighted_round_robin: qps / utilisation from reports, static stride",
	/* its weights come from reports, with its own blackout (no albmd slow start);
	 * a table-driven plane takes its effective weights */
	.flags = ALBM_SCHED_F_ADAPTIVE,
	.init_service = sched_orca_init,
	.done_service = sched_orca_done,
	.add_dest = sched_orca_add_dest,
	.del_dest = sched_orca_del_dest,
	.upd_dest = sched_orca_upd_dest,
	.schedule = sched_orca_schedule,
	.report = sched_orca_report,
	.tick = sched_orca_tick,
};
