/* ALBM: Never Queue scheduler (IPVS ip_vs_nq.c semantics)
 *
 * Two speeds: if a usable server is idle (activeconns == 0) the connection goes
 * there at once, to the first idle one in list order, rather than queueing behind
 * a faster server; otherwise it goes where Shortest Expected Delay would send it:
 * the usable server minimising (activeconns + 1) / weight, compared by
 * cross-multiplication, first in list order on ties (see sched_sed.c).
 *
 * Two winner trees over list positions (wintree.h) replace IPVS's linear scan:
 *   idle: usable servers with no active connection, all with the same key, so the
 *         winner is the earliest of them in the list;
 *   sed:  every usable server keyed by (active+1)/weight, ties to the earliest.
 * Pick = the idle winner if there is one, else the sed winner: O(1).  Each hook
 * re-keys the one server that changed in both trees: O(log n).
 */
#include <stdlib.h>

#include "common/util.h"
#include "sched/sched.h"
#include "sched/wintree.h"

struct nq_state {
	struct albm_wintree idle;
	struct albm_wintree sed;
};

static int sched_nq_init(struct albm_service *svc)
{
	struct nq_state *s = xcalloc(1, sizeof(*s));

	albm_wintree_init(&s->idle);
	albm_wintree_init(&s->sed);
	svc->sched_data = s;
	return 0;
}

static void sched_nq_done(struct albm_service *svc)
{
	struct nq_state *s = svc->sched_data;

	albm_wintree_free(&s->idle);
	albm_wintree_free(&s->sed);
	free(s);
	svc->sched_data = NULL;
}

/* Re-key d in both trees, given that it is usable. */
static void nq_rekey(struct nq_state *s, struct albm_dest *d)
{
	albm_wintree_set(&s->sed, d->idx, (uint64_t)d->activeconns + 1, (uint64_t)d->weight);
	if (d->activeconns == 0)
		albm_wintree_set(&s->idle, d->idx, 0, 1);
	else
		albm_wintree_clear(&s->idle, d->idx);
}

/* add_dest / upd_dest: d may have become usable or unusable. */
static void sched_nq_update(struct albm_service *svc, struct albm_dest *d)
{
	struct nq_state *s = svc->sched_data;

	d->eff_weight = albm_dest_usable(d) ? d->weight : 0;
	if (albm_dest_usable(d)) {
		nq_rekey(s, d);
	} else {
		albm_wintree_clear(&s->idle, d->idx);
		albm_wintree_clear(&s->sed, d->idx);
	}
}

static int sched_nq_add(struct albm_service *svc, struct albm_dest *d)
{
	sched_nq_update(svc, d);
	return 0;
}

/* Usability does not depend on the counts (an overload flip went through upd_dest). */
static void sched_nq_conn_changed(struct albm_service *svc, struct albm_dest *d)
{
	struct nq_state *s = svc->sched_data;

	if (albm_wintree_present(&s->sed, d->idx))
		nq_rekey(s, d);
}

static void sched_nq_del(struct albm_service *svc, struct albm_dest *d)
{
	struct nq_state *s = svc->sched_data;

	albm_wintree_delete(&s->idle, d->idx);
	albm_wintree_delete(&s->sed, d->idx);
}

static struct albm_dest *sched_nq_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct nq_state *s = svc->sched_data;
	long pos = albm_wintree_min(&s->idle);

	(void)flow;
	if (pos < 0)
		pos = albm_wintree_min(&s->sed);
	if (pos < 0) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	return svc->dests[pos];
}

/* The two trees as one key for the water-fill: an idle server (0/1) comes before
 * any busy one ((active+1)/weight > 0), idle ones in list order. */
static void sched_nq_key(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = d->activeconns ? (uint64_t)d->activeconns + 1 : 0;
	*den = d->activeconns ? (uint64_t)d->weight : 1;
}

static enum albm_table_kind sched_nq_weights(const struct albm_service *svc, uint32_t k,
					     uint32_t *w)
{
	return albm_weights_fill(svc, k, albm_dest_usable, sched_nq_key, w);
}

const struct albm_sched_ops albm_sched_nq = {
	.name = "nq",
	.description = "never queue: an idle server at once, else shortest expected delay",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_nq_init,
	.done_service = sched_nq_done,
	.add_dest = sched_nq_add,
	.del_dest = sched_nq_del,
	.upd_dest = sched_nq_update,
	.schedule = sched_nq_schedule,
	.weights = sched_nq_weights,
	.conn_changed = sched_nq_conn_changed,
};
