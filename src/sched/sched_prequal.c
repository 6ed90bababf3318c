/* ALBM: prequal — hot-cold lexicographic selection on requests in flight and latency
 *
 * Paper: B. Wydrowski, R. Kleinberg, S. M. Rumble et al., "Load is not what you should
 * balance: Introducing Prequal", USENIX NSDI 2024 (Google; deployed on YouTube).
 * Prequal balances neither CPU nor connection counts but the two things that predict a
 * new request's latency: each server's requests in flight (RIF) and its latency
 * estimate.  A client keeps a small pool of recent probe replies (RIF, latency) from
 * random servers and picks with the hot-cold lexicographic (HCL) rule:
 *
 *	a pooled server is hot when its RIF is above the Q_RIF quantile of the RIFs seen;
 *	if some are cold: the cold one with the lowest latency;
 *	else (all hot):   the one with the lowest RIF.
 *
 * What albmd knows replaces the probes.  The distributor sees every connection it
 * placed, so a server's RIF is exact and current (dest->activeconns), and the data
 * plane measures each server's latency passively (dest->passive.ttfb: time from the
 * forwarded request to the first response byte, the server's own queueing and service
 * time; its EWMA is the estimate).  So the pool is drawn afresh for every pick: `pool`
 * independent uniform draws among the usable servers (svc's RNG, so seeded tests are
 * deterministic; a server may come twice, as two probes may reach the same server), or
 * every usable server when there are no more than `pool`.  The RIF distribution the
 * quantile is taken over is, as the paper's stream of recent probes approximates it,
 * that of every usable server: the lower Q_RIF quantile, the value at rank
 * floor(q_rif * (m - 1)) of the m usable servers' RIFs in ascending order.  (So the
 * least loaded server is never hot, and a pool of every server always has a cold one.)
 *
 * Latency unknown.  A latency counts as known when the data plane has measured the
 * server (ttfb.samples > 0) within latency_max_age_ms (a server nobody sent work to
 * since keeps no fresh figure; treating its old one as current could leave it idle
 * for ever).  When a cold candidate has none, the cold ones are ordered by RIF alone,
 * so a server without a figure gets work and one is measured; with no latency anywhere
 * prequal is least-RIF among the cold servers.  Ties: lower RIF, then list order.
 * Latencies are read from the servers at every tick (100 ms) and whenever the set of
 * usable servers changes: the figures are EWMAs, and a pick then touches no server's
 * structure but the one it returns.
 *
 * The static weight only decides usability (0 = drained), as in the paper's
 * weightless pool; the agent's overload state is ignored, as by the other peers.
 * Published eff_weight: the static weight, 0 when not usable.
 *
 * Cost: the usable servers' RIFs and latencies sit in one dense array, and their RIFs
 * are also counted in a histogram over RIF values (0..1023; larger RIFs share the last
 * slot, where they are all hot or all cold together, ordered by their true RIF) whose
 * quantile slot is kept up to date as connections come and go; a pick is that plus
 * one pass over the pool.  A change of the usable set rebuilds in O(n).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/sched.h"

#define PREQUAL_RIF_SLOTS 1024u      /* RIF values counted apart; more share the last */
#define PREQUAL_LAT_NONE  UINT32_MAX /* no (fresh) latency figure */

/* One usable server as the pick sees it. */
struct prequal_entry {
	uint32_t rif; /* activeconns */
	uint32_t lat; /* ttfb EWMA in µs, PREQUAL_LAT_NONE when not known */
};

struct prequal_state {
	struct albm_dest **up;   /* usable servers, list order; dest->sched_priv = index + 1 */
	struct prequal_entry *e; /* the same positions */
	size_t n, cap;
	uint32_t hist[PREQUAL_RIF_SLOTS]; /* usable servers per RIF slot */
	uint32_t thr;                     /* the quantile's slot: below + hist[thr] > k >= below */
	uint32_t below;                   /* usable servers in slots under thr */
	bool dirty;                       /* the usable set may have changed */
};

static uint32_t prequal_slot(uint32_t rif)
{
	return rif < PREQUAL_RIF_SLOTS ? rif : PREQUAL_RIF_SLOTS - 1;
}

/* One usable server more (+1) or less (-1) in slot. */
static void prequal_count(struct prequal_state *s, uint32_t slot, int delta)
{
	s->hist[slot] += (uint32_t)delta;
	if (slot < s->thr)
		s->below += (uint32_t)delta;
}

/* Refresh every entry's latency from its server's passive figures. */
static void prequal_snapshot(const struct albm_service *svc, struct prequal_state *s)
{
	uint64_t now = s->n ? albm_svc_now(svc) : 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct albm_dest *d = s->up[i];
		bool known = d->passive.ttfb.samples && d->passive.updated_ms &&
			     now - d->passive.updated_ms <= svc->prequal.latency_max_age_ms;

		s->e[i].lat = known ? ALBM_MIN(d->passive.ttfb.ewma_us, PREQUAL_LAT_NONE - 1)
				    : PREQUAL_LAT_NONE;
	}
}

static void prequal_rebuild(struct albm_service *svc, struct prequal_state *s)
{
	if (s->cap < svc->ndests) {
		s->cap = svc->ndests;
		s->up = xrealloc(s->up, s->cap * sizeof(*s->up));
		s->e = xrealloc(s->e, s->cap * sizeof(*s->e));
	}
	memset(s->hist, 0, sizeof(s->hist));
	s->thr = s->below = 0;
	s->n = 0;
	for (size_t i = 0; i < svc->ndests; i++) {
		struct albm_dest *d = svc->dests[i];

		d->sched_priv = NULL;
		d->eff_weight = albm_dest_usable(d) ? d->weight : 0;
		if (d->eff_weight <= 0)
			continue;
		s->e[s->n].rif = d->activeconns;
		prequal_count(s, prequal_slot(d->activeconns), 1);
		s->up[s->n++] = d;
		d->sched_priv = (void *)(uintptr_t)s->n;
	}
	prequal_snapshot(svc, s);
	s->dirty = false;
}

/*
 * Q_RIF's lower quantile of the usable servers' RIFs, as a slot: the slot of rank
 * k = floor(q_rif * (n - 1)) (0-based, ascending).  The slot is kept from pick to pick
 * and moved until below <= k < below + hist[thr]: a connection moves one server by one
 * RIF, so the quantile moves by a step or two (over empty slots only where RIFs are
 * spread out), instead of a search per pick.
 */
static uint32_t prequal_threshold(const struct albm_service *svc, struct prequal_state *s)
{
	double q = svc->prequal.q_rif;
	uint32_t k;

	q = q <= 0 ? 0 : q >= 1 ? 1 : q;
	k = (uint32_t)(q * (double)(s->n - 1));
	while (s->below > k)
		s->below -= s->hist[--s->thr];
	while (k >= s->below + s->hist[s->thr])
		s->below += s->hist[s->thr++];
	return s->thr;
}

/* Two independent uniform positions in [0, n) from one 64-bit random number: each
 * 32-bit half by multiply-shift (bias below n / 2^32). */
static void prequal_draw2(struct albm_service *svc, size_t n, size_t pos[2])
{
	uint64_t r = albm_svc_rand(svc);

	pos[0] = (size_t)(((r & 0xffffffffu) * (uint64_t)n) >> 32);
	pos[1] = (size_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/*
 * The HCL choice over the candidates seen, kept as minimum keys so that the pass has
 * no data-dependent branch (the candidates are random: a branch per comparison would
 * mispredict about half the time):
 *   rif key = RIF << 32 | position            (order by RIF, then list position)
 *   lat key = latency << 64 | rif key         (order by latency, then the above)
 */
struct prequal_hcl {
	uint64_t cold_rif, hot; /* UINT64_MAX: none */
	unsigned __int128 cold_lat;
	bool all_known; /* every cold candidate has a latency */
};

#define PREQUAL_NONE128 (~(unsigned __int128)0)

static inline void prequal_consider(struct prequal_hcl *h, const struct prequal_entry *e, size_t i,
				    uint32_t thr)
{
	uint64_t rk = (uint64_t)e[i].rif << 32 | i;
	unsigned __int128 lk = (unsigned __int128)e[i].lat << 64 | rk;
	bool cold = prequal_slot(e[i].rif) <= thr, known = e[i].lat != PREQUAL_LAT_NONE;
	uint64_t crk = cold ? rk : UINT64_MAX, hrk = cold ? UINT64_MAX : rk;
	unsigned __int128 clk = cold && known ? lk : PREQUAL_NONE128;

	h->cold_rif = crk < h->cold_rif ? crk : h->cold_rif;
	h->hot = hrk < h->hot ? hrk : h->hot;
	h->cold_lat = clk < h->cold_lat ? clk : h->cold_lat;
	h->all_known &= !cold || known;
}

static struct albm_dest *sched_prequal_schedule(struct albm_service *svc,
						const struct albm_flow *flow)
{
	struct prequal_state *s = svc->sched_data;
	struct prequal_hcl h = { UINT64_MAX, UINT64_MAX, PREQUAL_NONE128, true };
	size_t pool = ALBM_MAX(svc->prequal.pool, 1u);
	uint64_t key;
	uint32_t thr;

	(void)flow;
	if (s->dirty)
		prequal_rebuild(svc, s);
	if (!s->n) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	thr = prequal_threshold(svc, s);
	if (pool >= s->n) {
		for (size_t i = 0; i < s->n; i++)
			prequal_consider(&h, s->e, i, thr);
	} else {
		for (size_t k = 0; k < pool; k += 2) {
			size_t pos[2];

			prequal_draw2(svc, s->n, pos);
			prequal_consider(&h, s->e, pos[0], thr);
			if (k + 1 < pool)
				prequal_consider(&h, s->e, pos[1], thr);
		}
	}
	if (h.cold_rif == UINT64_MAX)
		key = h.hot;
	else
		key = h.all_known ? (uint64_t)h.cold_lat : h.cold_rif;
	return s->up[(uint32_t)key];
}

/* A connection opened or closed: move a usable server to its new RIF. */
static void sched_prequal_conn(struct albm_service *svc, struct albm_dest *d)
{
	struct prequal_state *s = svc->sched_data;
	uintptr_t pos = (uintptr_t)d->sched_priv;
	struct prequal_entry *e;

	if (!pos || s->dirty)
		return; /* not usable, or counted again at the rebuild */
	e = &s->e[pos - 1];
	if (prequal_slot(e->rif) != prequal_slot(d->activeconns)) {
		prequal_count(s, prequal_slot(e->rif), -1);
		prequal_count(s, prequal_slot(d->activeconns), 1);
	}
	e->rif = d->activeconns;
}

static void sched_prequal_tick(struct albm_service *svc)
{
	struct prequal_state *s = svc->sched_data;

	if (!s->dirty)
		prequal_snapshot(svc, s);
}

static int sched_prequal_init(struct albm_service *svc)
{
	struct prequal_state *s = xcalloc(1, sizeof(*s));

	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_prequal_done(struct albm_service *svc)
{
	struct prequal_state *s = svc->sched_data;

	for (size_t i = 0; i < svc->ndests; i++)
		svc->dests[i]->sched_priv = NULL;
	free(s->up);
	free(s->e);
	free(s);
	svc->sched_data = NULL;
}

/* Any list, weight or flag change: rebuild the usable set before the next pick. */
static int sched_prequal_add_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct prequal_state *s = svc->sched_data;

	d->sched_priv = NULL;
	s->dirty = true;
	return 0;
}

static void sched_prequal_changed(struct albm_service *svc, struct albm_dest *d)
{
	struct prequal_state *s = svc->sched_data;

	(void)d;
	s->dirty = true;
}

const struct albm_sched_ops albm_sched_prequal = {
	.name = "prequal",
	.description = "Prequal: hot-cold selection on requests in flight and measured latency",
	/* requests in flight are connection counts; static weights
	 * only say drained or not */
	.flags = ALBM_SCHED_F_CONNS,
	.init_service = sched_prequal_init,
	.done_service = sched_prequal_done,
	.add_dest = sched_prequal_add_dest,
	.del_dest = sched_prequal_changed,
	.upd_dest = sched_prequal_changed,
	.schedule = sched_prequal_schedule,
	.conn_changed = sched_prequal_conn,
	.tick = sched_prequal_tick,
};
