/* ALBM: Weighted Round-Robin scheduler (IPVS ip_vs_wrr.c semantics)
 *
 * IPVS's sequence.  State: cl (list position of the last pick, or the list head),
 * cw (current weight), mw (max weight) and di (GCD of the positive weights).
 * Servers that are down are not in the IPVS list and count for nothing here.
 *
 *	di = gcd(weights > 0) (1 if none),  mw = max weight - (di - 1)
 *	pick: walk the list circularly after cl; at the end of the list cw -= di and,
 *	      when cw <= 0, cw = mw; take the first server with weight >= cw that is
 *	      not overloaded.  So cw runs through mw, mw - di, ..., 1 and weights
 *	      4,3,2 over A,B,C give A A B A B C A B C.
 *	on add/del/edit of a server: cl = head, recompute di and mw, then
 *	      cw = mw if cw > mw or cw == 0, else (di > 1) cw = cw / di * di + 1.
 *	      Overload flips (connection limit, agent) are not edits: IPVS sets that
 *	      flag without calling the scheduler, so the cursor keeps its place.  (The
 *	      library has one upd_dest hook for both; a call that changed nothing but
 *	      the overload flags counts as a flip, a call that changed nothing at all -
 *	      e.g. the same weight set again - as an edit, like ipvsadm -e.)
 *	nothing eligible: return none; like IPVS's walk, the cursor then stays put if
 *	      it was on a server at the last cw (cw <= di), else goes to (head, mw).
 *
 * Making it fast.  IPVS's walk can visit O(n * mw/di) positions per pick (e.g. one
 * heavy server among many light ones).  Number the cw values of a round
 * k = 0, 1, ..., L-1 (cw = mw - k*di, L = (mw-1)/di + 1).  Server i is eligible at
 * every k >= key_i = ceil((mw - w_i) / di) (key = infinity when it is not usable),
 * and the walk visits (k, position) pairs in lexicographic order, wrapping to k = 0.
 * So the next pick after (k0, cl) is the first position > cl with key <= k0, else
 * the first position with key <= the smallest level > k0 at which anyone is
 * eligible (max(k0 + 1, min key)), else - wrapping - the first with key <= min
 * key.  A winner tree over list positions keyed by key_i (wintree.h) answers
 * "first position >= p with key <= k" in O(log n) and gives the min key in O(1),
 * so a pick is O(log n) with the exact same result as the walk (the unit test
 * checks this against a literal port of the kernel loop).  An overload flip
 * re-keys one server (O(log n)); an edit recomputes mw/di in O(n) like the
 * kernel, and re-keys everyone (O(n log n)) only when they changed.
 * A precomputed sequence table was rejected: its length is sum(w_i)/di (up to
 * 2^26 entries at 1024 servers) and skipping overloaded servers in it is O(n).
 */
#include <stdlib.h>

#include "common/util.h"
#include "sched/sched.h"
#include "sched/wintree.h"

#define WRR_HEAD         (-1L) /* cl before the first element (IPVS: the list head) */
/* Flag changes IPVS makes without telling the scheduler. */
#define WRR_SILENT_FLAGS (ALBM_DEST_F_OVERLOAD | ALBM_DEST_F_AGENT_OVL)

struct wrr_state {
	long cl;                  /* list position of the last pick, or WRR_HEAD */
	int cw, mw, di;           /* as ip_vs_wrr_mark */
	uint32_t levels;          /* L: cw values per round (0 when mw == 0) */
	struct albm_wintree tree; /* key_i per list position; absent = not usable */
};

/* What the scheduler was last told about a server, to tell edits from flips. */
struct wrr_dest {
	int weight;
	uint32_t flags, u_threshold, l_threshold;
};

static int sched_wrr_gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Re-key the server at list position pos for the current mw and di. */
static void wrr_set_key(struct wrr_state *s, size_t pos, const struct albm_dest *d)
{
	if (!albm_dest_usable(d))
		albm_wintree_clear(&s->tree, pos);
	else if (d->weight >= s->mw)
		albm_wintree_set(&s->tree, pos, 0, 1);
	else
		albm_wintree_set(&s->tree, pos, (uint64_t)((s->mw - d->weight + s->di - 1) / s->di),
				 1);
}

/* ip_vs_wrr_dest_changed(): recompute di and mw over the servers in the list
 * (up ones, except `gone`, which is leaving), reset cl, clamp cw. */
static void wrr_dest_changed(struct albm_service *svc, struct wrr_state *s,
			     const struct albm_dest *gone)
{
	int g = 0, max = 0;

	for (size_t i = 0; i < svc->ndests; i++) {
		const struct albm_dest *d = svc->dests[i];
		if (d == gone || !(d->flags & ALBM_DEST_F_AVAILABLE))
			continue;
		if (d->weight > 0)
			g = g ? sched_wrr_gcd(d->weight, g) : d->weight;
		if (d->weight > max)
			max = d->weight;
	}
	s->cl = WRR_HEAD;
	s->di = g ? g : 1;
	s->mw = max - (s->di - 1);
	if (s->cw > s->mw || !s->cw)
		s->cw = s->mw;
	else if (s->di > 1)
		s->cw = s->cw / s->di * s->di + 1;
	s->levels = s->mw > 0 ? (uint32_t)((s->mw - 1) / s->di + 1) : 0;
}

/* Re-key every server (but `gone`, which is leaving; later positions close up). */
static void wrr_rekey_all(struct albm_service *svc, struct wrr_state *s,
			  const struct albm_dest *gone)
{
	size_t j = 0;

	for (size_t i = 0; i < svc->ndests; i++)
		if (svc->dests[i] != gone)
			wrr_set_key(s, j++, svc->dests[i]);
}

/* An edit: the kernel's dest_changed, then re-key d alone if the levels held. */
static void wrr_edit(struct albm_service *svc, struct wrr_state *s, struct albm_dest *d)
{
	int mw = s->mw, di = s->di;

	wrr_dest_changed(svc, s, NULL);
	if (mw == s->mw && di == s->di)
		wrr_set_key(s, d->idx, d);
	else
		wrr_rekey_all(svc, s, NULL);
}

static void wrr_snapshot(struct albm_dest *d)
{
	struct wrr_dest *w = d->sched_priv;

	w->weight = d->weight;
	w->flags = d->flags;
	w->u_threshold = d->u_threshold;
	w->l_threshold = d->l_threshold;
	d->eff_weight = albm_dest_usable(d) ? d->weight : 0;
}

/* ip_vs_wrr_init_svc(): the state for the servers already in the list (cw = mw).
 * The library then calls add_dest once per server; with the whole list already in
 * place those calls leave cw, mw and di as they are and only fill the tree. */
static int sched_wrr_init(struct albm_service *svc)
{
	struct wrr_state *s = xcalloc(1, sizeof(*s));

	albm_wintree_init(&s->tree);
	wrr_dest_changed(svc, s, NULL);
	svc->sched_data = s;
	return 0;
}

static void sched_wrr_done(struct albm_service *svc)
{
	struct wrr_state *s = svc->sched_data;

	for (size_t i = 0; i < svc->ndests; i++) {
		free(svc->dests[i]->sched_priv);
		svc->dests[i]->sched_priv = NULL;
	}
	albm_wintree_free(&s->tree);
	free(s);
	svc->sched_data = NULL;
}

static int sched_wrr_add_dest(struct albm_service *svc, struct albm_dest *d)
{
	d->sched_priv = xcalloc(1, sizeof(struct wrr_dest));
	wrr_snapshot(d);
	wrr_edit(svc, svc->sched_data, d);
	return 0;
}

static void sched_wrr_del_dest(struct albm_service *svc, struct albm_dest *d)
{
	struct wrr_state *s = svc->sched_data;
	int mw = s->mw, di = s->di;

	albm_wintree_delete(&s->tree, d->idx); /* later positions shift down by one */
	wrr_dest_changed(svc, s, d);
	if (mw != s->mw || di != s->di)
		wrr_rekey_all(svc, s, d);
	free(d->sched_priv);
	d->sched_priv = NULL;
}

/* Weight, thresholds, up/down or an explicit re-set are IPVS edits (upd_dest);
 * a change of the overload flags alone is not. */
static void sched_wrr_upd_dest(struct albm_service *svc, struct albm_dest *d)
{
	const struct wrr_dest *o = d->sched_priv;
	uint32_t diff = o->flags ^ d->flags;
	bool edit = o->weight != d->weight || o->u_threshold != d->u_threshold ||
		    o->l_threshold != d->l_threshold || !diff || (diff & ~WRR_SILENT_FLAGS);

	wrr_snapshot(d);
	if (edit)
		wrr_edit(svc, svc->sched_data, d);
	else
		wrr_set_key(svc->sched_data, d->idx, d);
}

/* Nothing eligible.  IPVS's walk ends back where it started when it began on a
 * server in the last pass (cw <= di), else at the head with cw = mw. */
static struct albm_dest *wrr_none(struct albm_service *svc, struct wrr_state *s, uint32_t k0)
{
	if (s->cl == WRR_HEAD || k0 + 1 < s->levels) {
		s->cl = WRR_HEAD;
		s->cw = s->mw;
	}
	albm_sched_err(svc, "no destination available: all destinations are overloaded");
	return NULL;
}

static struct albm_dest *sched_wrr_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct wrr_state *s = svc->sched_data;
	uint32_t k0, k, top;
	long j;

	(void)flow;
	if (s->mw == 0) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	k0 = (uint32_t)((s->mw - s->cw) / s->di);
	j = albm_wintree_min(&s->tree);
	if (j < 0)
		return wrr_none(svc, s, k0);
	top = (uint32_t)albm_wintree_num(&s->tree, (size_t)j); /* lowest level with anyone */
	k = k0;
	j = albm_wintree_first_le(&s->tree, (size_t)(s->cl + 1), k, 1);
	if (j < 0) {
		/* next level with someone eligible; past the last one, wrap to level 0 */
		k = k0 + 1 < s->levels ? ALBM_MAX(k0 + 1, top) : top;
		j = albm_wintree_first_le(&s->tree, 0, k, 1);
	}
	s->cl = j;
	s->cw = s->mw - (int)k * s->di;
	return svc->dests[j];
}

const struct albm_sched_ops albm_sched_wrr = {
	.name = "wrr",
	.description = "weighted round robin: IPVS's GCD-stepped sequence",
	.flags = ALBM_SCHED_F_WEIGHTED,
	.init_service = sched_wrr_init,
	.done_service = sched_wrr_done,
	.add_dest = sched_wrr_add_dest,
	.del_dest = sched_wrr_del_dest,
	.upd_dest = sched_wrr_upd_dest,
	.schedule = sched_wrr_schedule,
};
