/* ALBM: weighted random Two-Choices least-connection scheduler (IPVS ip_vs_twos.c)
 *
 * The power of two random choices (Mitzenmacher, "The Power of Two Random Choices:
 * A Survey of Techniques and Results", 2001) as IPVS's ip_vs_twos.c applies it:
 * draw two usable servers at random, each with probability proportional to its
 * weight, and keep the one with the lower weighted connection overhead
 *
 *     overhead = activeconns * 256 + inactconns          (as lc/wlc)
 *     choice2 wins iff  w2 * overhead1 > w1 * overhead2   (ties keep choice1)
 *
 * Two deliberate differences from the kernel, both about the draw and not the rule:
 *  - the kernel walks the list and so costs O(n) per pick; here the usable weights
 *    live in a Fenwick (binary indexed) tree over the list positions, so a draw is
 *    O(log n) and a weight/flag change an O(log n) point update (a removal, which
 *    shifts positions, rebuilds it in O(n) on the next pick);
 *  - the kernel draws the two independently (both may be the same server) from
 *    [0, total] inclusive, which gives the first server one extra unit of weight;
 *    here both draws are exact in [0, total) (and searched side by side), and
 *    when they hit the same server the second is drawn again from the others
 *    only, so the two choices are distinct whenever two servers are usable and
 *    the second is weighted over the others exactly.
 *
 * With no connections the overheads tie, so the pick follows the first draw: the
 * shares of new connections are the weights' shares.  Randomness is
 * albm_svc_rand() (seeded by albm_svc_seed() in tests and simulations).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/sched.h"

/* The tree covers P positions, P the smallest power of two >= the list length
 * (the padding positions weigh 0), so that the search needs no bounds check. */
struct twos_state {
	uint64_t *tree; /* Fenwick tree, 1-based: tree[i] sums vals over (i - lowbit(i), i] */
	uint32_t *vals; /* usable weight per list position (0 when not usable) */
	size_t n, size; /* list positions covered; P */
	uint64_t total; /* sum of vals */
	bool dirty;     /* the list changed: rebuild before the next draw */
};

static int sched_twos_init(struct albm_service *svc)
{
	struct twos_state *s = xcalloc(1, sizeof(*s));

	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_twos_done(struct albm_service *svc)
{
	struct twos_state *s = svc->sched_data;

	free(s->tree);
	free(s->vals);
	free(s);
}

static uint32_t twos_weight(const struct albm_dest *d)
{
	return albm_dest_usable(d) ? (uint32_t)d->weight : 0;
}

/* Rebuild the tree over the whole list in O(n). */
static void sched_twos_rebuild(struct albm_service *svc, struct twos_state *s)
{
	size_t n = svc->ndests, size = 1;

	while (size < n)
		size *= 2;
	if (size != s->size) {
		s->tree = xrealloc(s->tree, (size + 1) * sizeof(*s->tree));
		s->vals = xrealloc(s->vals, size * sizeof(*s->vals));
		s->size = size;
	}
	s->n = n;
	s->total = 0;
	memset(s->tree, 0, (size + 1) * sizeof(*s->tree));
	for (size_t i = 1; i <= size; i++) {
		size_t up = i + (i & -i);

		s->vals[i - 1] = i <= n ? twos_weight(svc->dests[i - 1]) : 0;
		s->total += s->vals[i - 1];
		s->tree[i] += s->vals[i - 1];
		if (up <= size)
			s->tree[up] += s->tree[i];
	}
	s->dirty = false;
}

static int sched_twos_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct twos_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
	return 0;
}

static void sched_twos_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct twos_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
}

/* Weight or flags changed: a point update, unless a rebuild is pending anyway. */
static void sched_twos_upd_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct twos_state *s = svc->sched_data;
	uint32_t w = twos_weight(dest);
	size_t pos = dest->idx;

	if (s->dirty || pos >= s->n || s->vals[pos] == w)
		return;
	for (size_t i = pos + 1; i <= s->size; i += i & -i)
		s->tree[i] += (uint64_t)w - s->vals[pos]; /* wraps correctly when w is smaller */
	s->total += (uint64_t)w - s->vals[pos];
	s->vals[pos] = w;
}

/* Smallest list position whose prefix sum exceeds r (r < total); *start gets the
 * prefix sum before it, so [start, start + weight) is that server's range.
 * Branch-free descent (log2 P dependent loads): the taken/not-taken pattern is
 * random, so branches would mispredict half the time. */
static size_t twos_find(const struct twos_state *s, uint64_t r, uint64_t *start)
{
	size_t pos = 0;
	uint64_t r0 = r;

	for (size_t step = s->size / 2; step; step >>= 1) {
		uint64_t v = s->tree[pos + step];
		uint64_t take = -(uint64_t)(v <= r); /* all ones or zero */

		pos += step & take;
		r -= v & take;
	}
	*start = r0 - r;
	return pos;
}

/* Two independent searches in one loop: the CPU overlaps the two chains of
 * loads.  Positions into p[], the first one's range start into *start0. */
static void twos_find2(const struct twos_state *s, uint64_t r0, uint64_t r1, size_t p[2],
		       uint64_t *start0)
{
	size_t a = 0, b = 0;
	uint64_t ra = r0, rb = r1;

	for (size_t step = s->size / 2; step; step >>= 1) {
		uint64_t va = s->tree[a + step], vb = s->tree[b + step];
		uint64_t ta = -(uint64_t)(va <= ra), tb = -(uint64_t)(vb <= rb);

		a += step & ta;
		ra -= va & ta;
		b += step & tb;
		rb -= vb & tb;
	}
	p[0] = a, p[1] = b;
	*start0 = r0 - ra;
}

/* Uniform in [0, bound) from 64 random bits (multiply-shift, bias < bound / 2^64). */
static uint64_t twos_below(struct albm_service *svc, uint64_t bound)
{
	return (uint64_t)(((unsigned __int128)albm_svc_rand(svc) * bound) >> 64);
}

static struct albm_dest *sched_twos_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct twos_state *s = svc->sched_data;
	struct albm_dest *d1, *d2;
	uint64_t start1, start2, r2;
	size_t p[2];

	(void)flow;
	if (s->dirty)
		sched_twos_rebuild(svc, s);
	if (!s->total) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	r2 = twos_below(svc, s->total);
	twos_find2(s, twos_below(svc, s->total), r2, p, &start1);
	if (p[1] == p[0]) {
		/* same server twice (probability weight / total): draw the second
		 * again over the others only, skipping the first one's range */
		if (s->total == s->vals[p[0]])
			return svc->dests[p[0]]; /* the only usable server */
		r2 = twos_below(svc, s->total - s->vals[p[0]]);
		if (r2 >= start1)
			r2 += s->vals[p[0]];
		p[1] = twos_find(s, r2, &start2);
	}
	d1 = svc->dests[p[0]];
	d2 = svc->dests[p[1]];
	return (uint64_t)d2->weight * albm_dest_overhead(d1) >
			       (uint64_t)d1->weight * albm_dest_overhead(d2)
		       ? d2
		       : d1;
}

const struct albm_sched_ops albm_sched_twos = {
	.name = "twos",
	.description = "two random choices: weighted draw of two servers, the less loaded wins",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_twos_init,
	.done_service = sched_twos_done,
	.add_dest = sched_twos_add_dest,
	.del_dest = sched_twos_del_dest,
	.upd_dest = sched_twos_upd_dest,
	.schedule = sched_twos_schedule,
};
