/* ALBM: Shortest Expected Delay scheduler (IPVS ip_vs_sed.c semantics)
 *
 * The expected delay of a new connection on server i is (C_i + 1) / U_i, with C_i
 * its active connections and U_i its weight (Weinrib & Shenker, "Greed is not
 * enough", INFOCOM'88).  Choose the usable server minimising it, compared without
 * division: d beats the current candidate l when
 *
 *	(active(l) + 1) * weight(d) > (active(d) + 1) * weight(l)
 *
 * Inactive connections do not count.  As in IPVS the first usable server of the
 * list is the initial candidate and only a strict improvement replaces it, so on
 * equal delays the server earliest in the list wins.
 *
 * Usable servers sit in a winner tree over the list positions (wintree.h) keyed by
 * (active+1)/weight, compared by the same cross-multiplication, ties to the
 * earlier position: its root is exactly the linear scan's answer.  Re-keying is
 * O(log n), a pick O(1).
 */
#include "sched/sched.h"
#include "sched/wintree.h"

/* Only usable servers (weight > 0) are keyed, so den > 0. */
static void sched_sed_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = (uint64_t)d->activeconns + 1;
	*den = (uint64_t)d->weight;
}

static int sched_sed_init(struct albm_service *svc)
{
	return albm_wintree_sched_init(svc, albm_dest_usable, sched_sed_key);
}

static void sched_sed_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	albm_wintree_sched_rekey(svc, d, (uint64_t)d->activeconns + 1, (uint64_t)d->weight);
}

const struct albm_sched_ops albm_sched_sed = {
	.name = "sed",
	.description = "shortest expected delay: fewest (active+1)/weight",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_sed_init,
	.done_service = albm_wintree_sched_done,
	.add_dest = albm_wintree_sched_add,
	.del_dest = albm_wintree_sched_del,
	.upd_dest = albm_wintree_sched_update,
	.schedule = albm_wintree_sched_pick,
	.weights = albm_wintree_sched_weights,
	.conn_changed = sched_sed_conn_changed,
};
