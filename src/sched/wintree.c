/* ALBM: winner tree over list positions (see wintree.h for the contract) */
#include "sched/wintree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/sched.h"

static const struct albm_wintree_key WT_ABSENT = { .num = 1, .den = 0 };

/*
 * a before b: a smaller key, or an equal one at an earlier position.  The
 * cross-products are below 2^80 (num < 2^48, den < 2^32), so the position fits in
 * the low 32 bits of the same 128-bit number and one comparison, free of
 * data-dependent branches, settles both.  An absent key {1, 0} comes after every
 * present one (its side of the product is 0, the other side >= 2^32).
 */
static inline bool wt_before(uint64_t an, uint64_t ad, uint32_t a, uint64_t bn, uint64_t bd,
			     uint32_t b)
{
	unsigned __int128 x = ((unsigned __int128)an * bd) << 32 | a;
	unsigned __int128 y = ((unsigned __int128)bn * ad) << 32 | b;

	return x < y;
}

static inline uint32_t wt_better(const struct albm_wintree *t, uint32_t a, uint32_t b)
{
	const struct albm_wintree_key *ka = &t->key[a], *kb = &t->key[b];

	return wt_before(kb->num, kb->den, b, ka->num, ka->den, a) ? b : a;
}

/* key <= num/den (never for an absent key) */
static inline bool wt_le(const struct albm_wintree_key *k, uint64_t num, uint64_t den)
{
	return k->den && (unsigned __int128)k->num * den <= (unsigned __int128)num * k->den;
}

/* Recompute every internal node from the keys: O(size). */
static void wt_rebuild(struct albm_wintree *t)
{
	for (size_t i = 0; i < t->size; i++)
		t->win[t->size + i] = (uint32_t)i;
	for (size_t j = t->size - 1; j >= 1; j--)
		t->win[j] = wt_better(t, t->win[2 * j], t->win[2 * j + 1]);
}

/* Reallocate for `size` leaves, keeping the keys of the positions that fit. */
static void wt_resize(struct albm_wintree *t, size_t size)
{
	size_t keep = ALBM_MIN(size, t->size);

	t->key = xrealloc(t->key, size * sizeof(*t->key));
	t->win = xrealloc(t->win, 2 * size * sizeof(*t->win));
	for (size_t i = keep; i < size; i++)
		t->key[i] = WT_ABSENT;
	t->size = size;
	wt_rebuild(t);
}

void albm_wintree_init(struct albm_wintree *t)
{
	t->key = NULL;
	t->win = NULL;
	t->size = 0;
	wt_resize(t, 1);
}

void albm_wintree_free(struct albm_wintree *t)
{
	free(t->key);
	free(t->win);
	t->key = NULL;
	t->win = NULL;
	t->size = 0;
}

/* Re-play the matches on the way from leaf pos to the root, carrying the winner
 * of the subtree below and its key in registers, so each level costs one load of
 * the sibling's winner and key, one comparison and no branch on the data.  Stop as
 * soon as a node keeps its winner and that winner is not pos: nothing its
 * ancestors see has changed. */
static void wt_update(struct albm_wintree *t, size_t pos, struct albm_wintree_key k)
{
	size_t i = t->size + pos;
	uint32_t w = (uint32_t)pos;
	uint64_t wn = k.num, wd = k.den;

	t->key[pos] = k;
	while (i > 1) {
		uint32_t s = t->win[i ^ 1]; /* the sibling subtree's winner */
		uint64_t sn = t->key[s].num, sd = t->key[s].den;
		bool sw = wt_before(sn, sd, s, wn, wd, w);
		w = sw ? s : w;
		wn = sw ? sn : wn;
		wd = sw ? sd : wd;
		i >>= 1;
		if (w == t->win[i] && w != pos)
			break;
		t->win[i] = w;
	}
}

void albm_wintree_set(struct albm_wintree *t, size_t pos, uint64_t num, uint64_t den)
{
	struct albm_wintree_key k = { .num = num, .den = den };

	assert(den > 0 && den < (1ull << 32) && num < (1ull << 48));
	if (pos < t->size && t->key[pos].num == num && t->key[pos].den == den)
		return;
	if (pos >= t->size) {
		size_t size = t->size ? t->size : 1;
		while (size <= pos)
			size *= 2;
		wt_resize(t, size);
	}
	wt_update(t, pos, k);
}

void albm_wintree_clear(struct albm_wintree *t, size_t pos)
{
	if (pos < t->size && t->key[pos].den)
		wt_update(t, pos, WT_ABSENT);
}

void albm_wintree_delete(struct albm_wintree *t, size_t pos)
{
	if (pos >= t->size)
		return;
	memmove(&t->key[pos], &t->key[pos + 1], (t->size - pos - 1) * sizeof(*t->key));
	t->key[t->size - 1] = WT_ABSENT;
	wt_rebuild(t);
}

long albm_wintree_first_le(const struct albm_wintree *t, size_t lo, uint64_t num, uint64_t den)
{
	size_t i = t->size + lo;

	if (lo >= t->size)
		return -1;
	while (!wt_le(&t->key[t->win[i]], num, den)) {
		/* climb while i is a right child, then step to the subtree on the right */
		while (i & 1) {
			if (i == 1)
				return -1;
			i >>= 1;
		}
		i++;
	}
	while (i < t->size) {
		i *= 2;
		if (!wt_le(&t->key[t->win[i]], num, den))
			i++;
	}
	return (long)(i - t->size);
}

bool albm_wintree_check(const struct albm_wintree *t)
{
	for (size_t i = 0; i < t->size; i++)
		if (t->win[t->size + i] != i)
			return false;
	for (size_t j = 1; j < t->size; j++)
		if (t->win[j] != wt_better(t, t->win[2 * j], t->win[2 * j + 1]))
			return false;
	return true;
}

/* ---- glue for single-tree schedulers ---- */

int albm_wintree_sched_init(struct albm_service *svc, bool (*member)(const struct albm_dest *d),
			    void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den))
{
	struct albm_wintree_sched *ts = xcalloc(1, sizeof(*ts));

	albm_wintree_init(&ts->tree);
	ts->member = member;
	ts->key = key;
	svc->sched_data = ts;
	return 0;
}

void albm_wintree_sched_done(struct albm_service *svc)
{
	struct albm_wintree_sched *ts = svc->sched_data;

	albm_wintree_free(&ts->tree);
	free(ts);
	svc->sched_data = NULL;
}

void albm_wintree_sched_update(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_wintree_sched *ts = svc->sched_data;
	uint64_t num, den;

	d->eff_weight = albm_dest_usable(d) ? d->weight : 0;
	if (!ts->member(d)) {
		albm_wintree_clear(&ts->tree, d->idx);
		return;
	}
	ts->key(d, &num, &den);
	albm_wintree_set(&ts->tree, d->idx, num, den);
}

int albm_wintree_sched_add(struct albm_service *svc, struct albm_dest *d)
{
	albm_wintree_sched_update(svc, d);
	return 0;
}

void albm_wintree_sched_del(struct albm_service *svc, struct albm_dest *d)
{
	struct albm_wintree_sched *ts = svc->sched_data;

	albm_wintree_delete(&ts->tree, d->idx);
}

struct albm_dest *albm_wintree_sched_pick(struct albm_service *svc, const struct albm_flow *flow)
{
	struct albm_wintree_sched *ts = svc->sched_data;
	long pos = albm_wintree_min(&ts->tree);

	(void)flow;
	if (pos < 0) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	return svc->dests[pos];
}

enum albm_table_kind albm_wintree_sched_weights(const struct albm_service *svc, uint32_t k,
						uint32_t *w)
{
	const struct albm_wintree_sched *ts = svc->sched_data;

	return albm_weights_fill(svc, k, ts->member, ts->key, w);
}
