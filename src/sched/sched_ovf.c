/* ALBM: Overflow-Connection scheduler (IPVS ip_vs_ovf.c semantics)
 *
 * Keep new connections on the usable server with the highest weight until its
 * active connections exceed its weight, then overflow to the next highest, and so
 * on.  A server is eligible when
 *
 *	usable (up, weight > 0, not over its limit)  and  activeconns <= weight
 *
 * and the pick is the eligible server with the highest weight; IPVS replaces its
 * candidate only on a strictly greater weight, so on ties the server earliest in
 * the list wins.  No eligible server: no destination.
 *
 * O(log n) design: the order (highest weight, then list position) does not
 * depend on the connection counts; only eligibility does.  So a winner tree over
 * the list positions (wintree.h), keyed by INT_MAX - weight with ties to the
 * earlier position, holds exactly the eligible servers, and every hook
 * (add/upd_dest and conn_changed) re-evaluates the one server that changed: it
 * enters or leaves the tree in O(log n) when it crosses activeconns = weight.  The
 * pick is the root, O(1), and equals the linear scan's answer because both take
 * the minimum of the same set under the same total order.
 */
#include <limits.h>

#include "sched/sched.h"
#include "sched/wintree.h"

/* Highest weight first: key INT_MAX - weight (weights are ints > 0 here). */
static void sched_ovf_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = (uint64_t)(INT_MAX - d->weight);
	*den = 1;
}

static bool sched_ovf_eligible(const struct albm_dest *d)
{
	return albm_dest_usable(d) && d->activeconns <= (uint32_t)d->weight;
}

static int sched_ovf_init(struct albm_service *svc)
{
	return albm_wintree_sched_init(svc, sched_ovf_eligible, sched_ovf_key);
}

const struct albm_sched_ops albm_sched_ovf = {
	.name = "ovf",
	.description = "overflow: highest weight until active connections exceed the weight",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_ovf_init,
	.done_service = albm_wintree_sched_done,
	.add_dest = albm_wintree_sched_add,
	.del_dest = albm_wintree_sched_del,
	.upd_dest = albm_wintree_sched_update,
	.schedule = albm_wintree_sched_pick,
	.weights = albm_wintree_sched_weights,
	.conn_changed = albm_wintree_sched_update,
};
