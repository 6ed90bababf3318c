/* ALBM: Weighted Fail-Over scheduler (IPVS ip_vs_fo.c semantics)
 *
 * Send every new connection to the usable server with the highest weight; the
 * others are standbys that take over, highest weight first, when it fails, is
 * drained or reaches its connection limit.  IPVS keeps the first server whose
 * weight is strictly greater than the best so far, so on equal weights the server
 * earliest in the list wins.
 *
 * Usable servers sit in a winner tree over the list positions (wintree.h) keyed by
 * INT_MAX - weight, ties to the earlier position, so its root is exactly the
 * linear scan's answer.  Connection counts do not matter here: only
 * add/del/upd_dest re-key (O(log n)), and a pick is O(1).
 */
#include <limits.h>

#include "sched/sched.h"
#include "sched/wintree.h"

/* Highest weight first: key INT_MAX - weight (weights are ints > 0 here). */
static void sched_fo_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = (uint64_t)(INT_MAX - d->weight);
	*den = 1;
}

static int sched_fo_init(struct albm_service *svc)
{
	return albm_wintree_sched_init(svc, albm_dest_usable, sched_fo_key);
}

const struct albm_sched_ops albm_sched_fo = {
	.name = "fo",
	.description = "weighted fail-over: the usable server with the highest weight",
	.flags = ALBM_SCHED_F_WEIGHTED,
	.init_service = sched_fo_init,
	.done_service = albm_wintree_sched_done,
	.add_dest = albm_wintree_sched_add,
	.del_dest = albm_wintree_sched_del,
	.upd_dest = albm_wintree_sched_update,
	.schedule = albm_wintree_sched_pick,
	.weights = albm_wintree_sched_weights,
};
