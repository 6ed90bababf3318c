/* ALBM: lr — Envoy's least_request: P2C on active requests, or EDF on a biased weight
 *
 * Spec: Envoy, "Supported load balancers: Weighted least request" (load balancing
 * architecture overview) and the LeastRequest policy's proto
 * (envoy.extensions.load_balancing_policies.least_request.v3: choice_count,
 * active_request_bias); Envoy's EDF scheduler (source/common/upstream/edf_scheduler.h).
 * Written from those rules; no code is taken from Envoy.
 *
 *  - All usable servers have the same weight: draw choice_count (2) servers uniformly
 *    at random, independently (the same server may come twice), and keep the one with
 *    the fewest active requests; a later draw replaces the candidate only when it has
 *    strictly fewer.  The "power of two choices" (Mitzenmacher 2001).
 *  - The weights differ: an earliest-deadline-first schedule over the usable servers in
 *    which each server's weight is taken when it is (re)inserted,
 *
 *	weight = load_balancing_weight / (active_requests + 1)^active_request_bias
 *
 *    (bias 1.0 by default; 0 gives plain weighted round robin).  A freshly built
 *    schedule inserts every server at deadline 1 / weight (ties: insertion order); a pick
 *    takes the earliest deadline t, advances the schedule's clock to t and puts the server
 *    back at t + 1 / weight with its active requests as they are at the pick.  The other
 *    servers keep the weight they were inserted with, as in Envoy.
 *
 * The schedule is rebuilt whenever a server joins, leaves, changes weight or becomes
 * usable or unusable (up, weight > 0, under maxconn), as Envoy rebuilds on host-set
 * changes.  One difference: Envoy also advances a freshly built schedule by a random
 * number of picks, so that its worker threads do not all start in step; albmd has one
 * schedule per service, which starts at time 0.
 *
 * Why a scheduler of its own and not `twos`: twos keeps IPVS's ip_vs_twos.c semantics
 * (a weighted draw of two distinct servers compared on weighted connection overhead,
 * active * 256 + inactive), which is what its name promises; Envoy draws uniformly with
 * replacement and compares active requests, and with unequal weights is not a two-choice
 * rule at all.  Published eff_weight: the static weight, 0 when not usable.
 */
#include <math.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/sched.h"

struct lr_entry {
	double deadline;
	uint64_t order; /* insertion order: ties go to the earlier insertion */
	struct albm_dest *d;
};

struct lr_state {
	struct albm_dest **up; /* usable servers, list order */
	size_t n, cap;
	bool weighted;         /* weights differ: EDF, else P2C */
	struct lr_entry *heap; /* EDF min-heap over (deadline, order), n entries */
	double now;            /* the schedule's clock: the last deadline taken */
	uint64_t order;
	bool dirty; /* rebuild before the next pick */
};

/* Envoy's hostWeight(): the weight scaled down by the active requests. */
static double lr_host_weight(const struct albm_service *svc, const struct albm_dest *d)
{
	double bias = svc->lr.active_request_bias, a = (double)d->activeconns + 1.0;

	if (bias == 1.0)
		return d->weight / a;
	if (bias == 0.0)
		return d->weight;
	return d->weight / pow(a, bias);
}

static bool lr_before(const struct lr_entry *a, const struct lr_entry *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

static void lr_sift_down(struct lr_entry *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct lr_entry t;

		if (l < n && lr_before(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && lr_before(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

/* Insert d at the schedule's clock + 1 / its weight now (heap has room). */
static void lr_push(const struct albm_service *svc, struct lr_state *s, size_t *hn,
		    struct albm_dest *d)
{
	size_t i = (*hn)++;

	s->heap[i] = (struct lr_entry){ s->now + 1.0 / lr_host_weight(svc, d), s->order++, d };
	while (i && lr_before(&s->heap[i], &s->heap[(i - 1) / 2])) {
		struct lr_entry t = s->heap[i];

		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void lr_rebuild(struct albm_service *svc, struct lr_state *s)
{
	size_t hn = 0;

	if (s->cap < svc->ndests) {
		s->cap = svc->ndests;
		s->up = xrealloc(s->up, s->cap * sizeof(*s->up));
		s->heap = xrealloc(s->heap, s->cap * sizeof(*s->heap));
	}
	s->n = 0;
	s->weighted = false;
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];

		d->eff_weight = albm_dest_usable(d) ? d->weight : 0;
		if (d->eff_weight <= 0)
			continue;
		s->weighted |= s->n && d->weight != s->up[0]->weight;
		s->up[s->n++] = d;
	}
	s->now = 0;
	s->order = 0;
	if (s->weighted)
		for (size_t i = 0; i < s->n; i++)
			lr_push(svc, s, &hn, s->up[i]);
	s->dirty = false;
}

/* Uniform in [0, bound) from 64 random bits (multiply-shift). */
static size_t lr_below(struct albm_service *svc, size_t bound)
{
	return (size_t)(((unsigned __int128)albm_svc_rand(svc) * bound) >> 64);
}

/* Envoy's unweightedHostPickNChoices(). */
static struct albm_dest *lr_pick_choices(struct albm_service *svc, struct lr_state *s)
{
	struct albm_dest *cand = s->up[lr_below(svc, s->n)];

	for (uint32_t c = 1; c < svc->lr.choice_count; c++) {
		struct albm_dest *d = s->up[lr_below(svc, s->n)];

		if (d->activeconns < cand->activeconns)
			cand = d;
	}
	return cand;
}

/* EDF pickAndAdd(): take the earliest deadline and put the server back with its weight
 * now.  Its new deadline is later than every one taken so far, so it replaces the root
 * and sinks: one sift instead of a pop and a push. */
static struct albm_dest *lr_pick_edf(struct albm_service *svc, struct lr_state *s)
{
	struct albm_dest *d = s->heap[0].d;

	s->now = s->heap[0].deadline;
	s->heap[0] = (struct lr_entry){ s->now + 1.0 / lr_host_weight(svc, d), s->order++, d };
	lr_sift_down(s->heap, s->n, 0);
	return d;
}

static struct albm_dest *sched_lr_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct lr_state *s = svc->sched_data;

	(void)flow;
	if (s->dirty)
		lr_rebuild(svc, s);
	if (!s->n) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	return s->weighted ? lr_pick_edf(svc, s) : lr_pick_choices(svc, s);
}

static int sched_lr_init(struct albm_service *svc)
{
	struct lr_state *s = xcalloc(1, sizeof(*s));

	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_lr_done(struct albm_service *svc)
{
	struct lr_state *s = svc->sched_data;

	free(s->up);
	free(s->heap);
	free(s);
	svc->sched_data = NULL;
}

static int sched_lr_add_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct lr_state *s = svc->sched_data;

	(void)d;
	s->dirty = true;
	return 0;
}

/* Membership, weight or usability changed: Envoy rebuilds on host-set changes. */
static void sched_lr_changed(struct albm_service *svc, struct albm_dest *d)
{
	struct lr_state *s = svc->sched_data;

	(void)d;
	s->dirty = true;
}

const struct albm_sched_ops albm_sched_lr = {
	.name = "lr",
	.description = "Envoy least_request: P2C on active requests; unequal weights: EDF "
		       "on weight / (active + 1)^bias",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_lr_init,
	.done_service = sched_lr_done,
	.add_dest = sched_lr_add_dest,
	.del_dest = sched_lr_changed,
	.upd_dest = sched_lr_changed,
	.schedule = sched_lr_schedule,
};
