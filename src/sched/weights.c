/* ALBM: table weights — what a scheduler's decisions become in a weighted table, without picks
 *
 * A table-driven data plane (albmd's XDP DR plane) cannot ask schedule() for each new
 * connection: the XDP program hashes flows into a weighted table.  So it asks the
 * scheduler for table weights (albm_sched_ops.weights), which must be pure: the
 * scheduler's state stays exactly as it was, so proxy and DR behave the same
 * whether or not a table was computed in between.  This file holds the library
 * defaults a scheduler without a hook gets (chosen by its ALBM_SCHED_F_* flags) and
 * the building blocks the hooks use:
 *
 *   equal       1 per usable server (rr, dh: their weights do not count)
 *   static      the usable servers' weights (wrr, sh, mh)
 *   effective   eff_weight x ALBM_TABLE_EFF_SCALE (measured schedulers)
 *   fill        the least-connection water-fill: k sequential picks of "least key,
 *               earliest in the list on ties", each adding one active connection to
 *               its server, run on copies of the servers in a winner tree
 *               (wintree.h), the very structure and comparison the lc family picks
 *               with — so the counts equal those of k real picks, without making them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/sched.h"
#include "sched/wintree.h"

const char *albm_table_kind_name(enum albm_table_kind kind)
{
	static const char *const names[] = {
		[ALBM_TABLE_EQUAL] = "equal",
		[ALBM_TABLE_WEIGHTS] = "weights",
		[ALBM_TABLE_EFFECTIVE] = "effective-weights",
		[ALBM_TABLE_PICKS] = "picks",
	};

	return (unsigned)kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

enum albm_table_kind albm_weights_equal(const struct albm_service *svc, uint32_t *w)
{
	for (size_t i = 0; i < svc->ndests; i++)
		w[i] = albm_dest_usable(svc->dests[i]) ? 1 : 0;
	return ALBM_TABLE_EQUAL;
}

enum albm_table_kind albm_weights_static(const struct albm_service *svc, uint32_t *w)
{
	for (size_t i = 0; i < svc->ndests; i++)
		w[i] = albm_dest_usable(svc->dests[i]) ? (uint32_t)svc->dests[i]->weight : 0;
	return ALBM_TABLE_WEIGHTS;
}

enum albm_table_kind albm_weights_effective(const struct albm_service *svc, uint32_t *w)
{
	for (size_t i = 0; i < svc->ndests; i++) {
		double x = svc->dests[i]->eff_weight * ALBM_TABLE_EFF_SCALE + 0.5;

		if (!(svc->dests[i]->eff_weight > 0)) /* also NaN */
			w[i] = 0;
		else
			w[i] = x >= (double)UINT32_MAX ? UINT32_MAX : ALBM_MAX((uint32_t)x, 1u);
	}
	return ALBM_TABLE_EFFECTIVE;
}

void albm_key_lc(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = albm_dest_overhead(d);
	*den = 1;
}

void albm_key_wlc(const struct albm_dest *d, uint64_t *num, uint64_t *den)
{
	*num = albm_dest_overhead(d);
	*den = (uint64_t)d->weight; /* members are usable: weight > 0 */
}

/* (Re-)place copy d, at list position pos, in the tree. */
static void fill_place(struct albm_wintree *t, const struct albm_dest *d, size_t pos,
		       bool (*member)(const struct albm_dest *d),
		       void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den))
{
	uint64_t num, den;

	if (!member(d)) {
		albm_wintree_clear(t, pos);
		return;
	}
	key(d, &num, &den);
	albm_wintree_set(t, pos, num, den);
}

enum albm_table_kind albm_weights_fill(
	const struct albm_service *svc, uint32_t k, bool (*member)(const struct albm_dest *d),
	void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den), uint32_t *w)
{
	struct albm_dest *cp = xmalloc((svc->ndests + 1) * sizeof(*cp));
	struct albm_wintree t;
	long pos;

	albm_wintree_init(&t);
	for (size_t i = 0; i < svc->ndests; i++) {
		cp[i] = *svc->dests[i];
		w[i] = 0;
		fill_place(&t, &cp[i], i, member, key);
	}
	for (uint32_t j = 0; j < k && (pos = albm_wintree_min(&t)) >= 0; j++) {
		w[pos]++;
		cp[pos].activeconns++;
		albm_dest_update_overload(&cp[pos]);
		fill_place(&t, &cp[pos], (size_t)pos, member, key);
	}
	albm_wintree_free(&t);
	free(cp);
	return ALBM_TABLE_PICKS;
}

enum albm_table_kind albm_sched_weights(const struct albm_service *svc, uint32_t k, uint32_t *w)
{
	const struct albm_sched_ops *ops = svc->sched;

	if (!ops) {
		memset(w, 0, svc->ndests * sizeof(*w));
		return ALBM_TABLE_EQUAL;
	}
	if (ops->weights)
		return ops->weights(svc, k, w);
	if (ops->flags & ALBM_SCHED_F_ADAPTIVE)
		return albm_weights_effective(svc, w);
	if ((ops->flags & ALBM_SCHED_F_CONNS) && (ops->flags & ALBM_SCHED_F_WEIGHTED))
		return albm_weights_fill(svc, k, albm_dest_usable, albm_key_wlc, w);
	if (ops->flags & ALBM_SCHED_F_CONNS)
		return albm_weights_fill(svc, k, albm_dest_usable, albm_key_lc, w);
	if (ops->flags & ALBM_SCHED_F_WEIGHTED)
		return albm_weights_static(svc, w);
	return albm_weights_equal(svc, w);
}
