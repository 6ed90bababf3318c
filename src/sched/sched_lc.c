/* ALBM: Least-Connection scheduler (IPVS ip_vs_lc.c semantics)
 *
 * Choose the usable server with the smallest connection overhead
 *
 *	overhead = activeconns * 256 + inactconns	(albm_dest_overhead)
 *
 * skipping servers that are down, quiesced (weight 0) or over their connection
 * limit.  IPVS scans the list and replaces its candidate only on a strictly
 * smaller overhead (`doh < loh`), so on ties the server earliest in the list
 * wins.
 *
 * Instead of the O(n) scan, a winner tree over the list positions (wintree.h)
 * holds the usable servers keyed by overhead; equal keys go to the earlier
 * position, so its root is exactly the server the linear scan returns.  The
 * connection hook re-keys one server in O(log n); a pick is O(1).
 */
#include "sched/sched.h"
#include "sched/wintree.h"

static void sched_lc_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = albm_dest_overhead(d);
	*den = 1;
}

static int sched_lc_init(struct albm_service *svc)
{
	return albm_wintree_sched_init(svc, albm_dest_usable, sched_lc_key);
}

static void sched_lc_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	albm_wintree_sched_rekey(svc, d, albm_dest_overhead(d), 1);
}

const struct albm_sched_ops albm_sched_lc = {
	.name = "lc",
	.description = "least connection: fewest active*256+inactive connections",
	.flags = ALBM_SCHED_F_CONNS,
	.init_service = sched_lc_init,
	.done_service = albm_wintree_sched_done,
	.add_dest = albm_wintree_sched_add,
	.del_dest = albm_wintree_sched_del,
	.upd_dest = albm_wintree_sched_update,
	.schedule = albm_wintree_sched_pick,
	.weights = albm_wintree_sched_weights,
	.conn_changed = sched_lc_conn_changed,
};
