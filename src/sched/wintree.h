/* ALBM: winner tree over list positions - the least-loaded server in O(1), updates in O(log n) */
#ifndef ALBM_SCHED_WINTREE_H
#define ALBM_SCHED_WINTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched-t.h"

/*
 * A tournament ("winner") tree over the positions 0..n-1 of a service's list.  Each
 * position holds a key num/den (den > 0) or is absent; every internal node stores
 * the position of the smallest key in its range, where keys compare by
 * cross-multiplication in 128 bits, exactly as IPVS compares loads
 * (a.num * b.den < b.num * a.den), and equal keys go to the earlier position - the
 * tie-break of IPVS's strict-< scans of the list.  So the root is, for any state,
 * the very server IPVS's linear scan returns:
 *
 *	lc  num = active*256 + inactive, den = 1	wlc num = that, den = weight
 *	sed num = active + 1, den = weight		fo  num = INT_MAX - weight, den = 1
 *
 * Costs: min O(1); set/clear O(log n) with one comparison per level, no data
 * movement, and an early stop once the change no longer alters a node's winner;
 * delete (positions after it shift down, as in the list) and growth O(n).
 * first_le() finds the first position at or after p whose key is <= a bound in
 * O(log n) (wrr's walk).  At 1024 servers the tree is 24 KiB: it stays in L1.
 */
struct albm_wintree_key {
	uint64_t num, den; /* absent: {1, 0}, which loses to every key */
};

struct albm_wintree {
	struct albm_wintree_key *key; /* [size]: per position */
	uint32_t *win;                /* [2 * size]: node -> winning position; leaves at size + i */
	size_t size;                  /* number of leaves, a power of two (>= 1) */
};

/* An empty tree (one absent leaf); allocation aborts on out-of-memory. */
void albm_wintree_init(struct albm_wintree *t);
void albm_wintree_free(struct albm_wintree *t);

/* Position pos gets key num/den (0 < den < 2^32, num < 2^48: connection counts
 * and weights fit); the tree grows if pos >= size. */
void albm_wintree_set(struct albm_wintree *t, size_t pos, uint64_t num, uint64_t den);
/* Position pos becomes absent. */
void albm_wintree_clear(struct albm_wintree *t, size_t pos);
/* Position pos leaves: later positions shift down by one (list deletion).  O(n). */
void albm_wintree_delete(struct albm_wintree *t, size_t pos);
/* The first position >= lo whose key is <= num/den, or -1.  O(log n). */
long albm_wintree_first_le(const struct albm_wintree *t, size_t lo, uint64_t num, uint64_t den);
/* Verify every node (for tests): true when each holds its range's winner. */
bool albm_wintree_check(const struct albm_wintree *t);

/* The position with the smallest key (earliest on ties), or -1 when all are absent. */
static inline long albm_wintree_min(const struct albm_wintree *t)
{
	uint32_t w = t->win[1];

	return t->key[w].den ? (long)w : -1;
}

static inline bool albm_wintree_present(const struct albm_wintree *t, size_t pos)
{
	return pos < t->size && t->key[pos].den;
}

/* The numerator of a present position's key. */
static inline uint64_t albm_wintree_num(const struct albm_wintree *t, size_t pos)
{
	return t->key[pos].num;
}

/*
 * Glue for the schedulers whose pick is "the minimum of one tree" (lc, wlc, sed,
 * fo, ovf): svc->sched_data is a struct albm_wintree_sched; a scheduler supplies
 * which servers take part (`member`) and their key, and points its hooks at the
 * functions below.  Every hook also publishes dest->eff_weight: the weight while
 * the server is usable, 0 otherwise.
 */
struct albm_wintree_sched {
	struct albm_wintree tree;
	bool (*member)(const struct albm_dest *d);
	void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den);
};

/* init_service (cannot fail: allocation aborts). */
int albm_wintree_sched_init(struct albm_service *svc, bool (*member)(const struct albm_dest *d),
			    void (*key)(const struct albm_dest *d, uint64_t *num, uint64_t *den));
void albm_wintree_sched_done(struct albm_service *svc);
/* add_dest / upd_dest / conn_changed: re-evaluate d's membership and key. */
int albm_wintree_sched_add(struct albm_service *svc, struct albm_dest *d);
void albm_wintree_sched_update(struct albm_service *svc, struct albm_dest *d);
/* del_dest */
void albm_wintree_sched_del(struct albm_service *svc, struct albm_dest *d);
/* conn_changed fast path for schedulers whose membership does not depend on the
 * connection counts (lc, wlc, sed): the new key of d, if d takes part.  (An
 * overload flip caused by the same change has already gone through upd_dest.) */
static inline void albm_wintree_sched_rekey(struct albm_service *svc, struct albm_dest *d,
					    uint64_t num, uint64_t den)
{
	struct albm_wintree_sched *ts = (struct albm_wintree_sched *)svc->sched_data;

	if (albm_wintree_present(&ts->tree, d->idx))
		albm_wintree_set(&ts->tree, d->idx, num, den);
}
/* schedule: the root, or NULL (logged, rate-limited) when nobody takes part. */
struct albm_dest *albm_wintree_sched_pick(struct albm_service *svc, const struct albm_flow *flow);
/* weights: k picks water-filled with the scheduler's own member and key (pure). */
enum albm_table_kind albm_wintree_sched_weights(const struct albm_service *svc, uint32_t k,
						uint32_t *w);

#endif
