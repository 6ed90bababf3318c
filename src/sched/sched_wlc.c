/* ALBM: Weighted Least-Connection scheduler (IPVS ip_vs_wlc.c semantics)
 *
 * Choose the usable server with the smallest overhead / weight, where
 *
 *	overhead = activeconns * 256 + inactconns	(albm_dest_overhead)
 *
 * compared without division: d is better than the current candidate l when
 *
 *	overhead(l) * weight(d) > overhead(d) * weight(l)
 *
 * IPVS takes the first usable server of the list as candidate and replaces it only
 * on that strict inequality, so on equal ratios the server earliest in the list
 * wins.  (Weight-0 servers never win: overhead(l) * 0 > x is false.)
 *
 * Usable servers sit in a winner tree over the list positions (wintree.h) keyed by
 * overhead/weight, which compares fractions by the same cross-multiplication (in
 * 128 bits: the overhead has 40 bits, the weight 31) and gives ties to the earlier
 * position.  So its root is exactly the linear scan's answer; the connection hook
 * re-keys one server in O(log n), a pick is O(1).
 */
#include "sched/sched.h"
#include "sched/wintree.h"

/* Only usable servers (weight > 0) are keyed, so den > 0. */
static void sched_wlc_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = albm_dest_overhead(d);
	*den = (uint64_t)d->weight;
}

static int sched_wlc_init(struct albm_service *svc)
{
	return albm_wintree_sched_init(svc, albm_dest_usable, sched_wlc_key);
}

static void sched_wlc_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	albm_wintree_sched_rekey(svc, d, albm_dest_overhead(d), (uint64_t)d->weight);
}

const struct albm_sched_ops albm_sched_wlc = {
	.name = "wlc",
	.description = "weighted least connection: fewest (active*256+inactive)/weight",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_wlc_init,
	.done_service = albm_wintree_sched_done,
	.add_dest = albm_wintree_sched_add,
	.del_dest = albm_wintree_sched_del,
	.upd_dest = albm_wintree_sched_update,
	.schedule = albm_wintree_sched_pick,
	.weights = albm_wintree_sched_weights,
	.conn_changed = sched_wlc_conn_changed,
};
