/* ALBM: locality-based scheduling helpers shared by lblc and lblcr (IPVS ip_vs_lblc*.c) */
#ifndef ALBM_SCHED_LBL_H
#define ALBM_SCHED_LBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/heap.h"
#include "sched/sched-t.h"

/* IPVS defaults: entries unused for a day expire (sysctl lblc_expiration and
 * lblcr_expiration, DEFAULT_EXPIRATION); the table holds IP_VS_LBLC_TAB_SIZE * 16. */
#define ALBM_LBL_EXPIRE_MS   (24ull * 60 * 60 * 1000)
#define ALBM_LBL_MAX_ENTRIES 16384

/* ---- the destination-address table ---- */

/*
 * One cached destination address.  A scheduler embeds it first in its own entry
 * type and frees that type in the table's free_entry callback.
 */
struct albm_lbl_entry {
	struct albm_lbl_entry *hnext;               /* hash chain */
	struct albm_lbl_entry *lru_prev, *lru_next; /* most recently used first */
	uint64_t lastuse;                           /* svc clock, ms */
	uint8_t family;
	uint8_t addr[16]; /* the flow's daddr */
};

/*
 * Hash table of entries keyed by the flow's destination address, plus an LRU list.
 * Memory is bounded: inserting into a full table evicts the least recently used
 * entry (IPVS instead refuses new entries and lets a 60 s timer collect those idle
 * for 6 minutes; an LRU does the same job without a timer).  Expiry is lazy: an
 * entry unused for `expire_ms` is never returned, and albm_lbl_expire() (the tick
 * hook) frees such entries from the old end of the list.  Everything is O(1)
 * except albm_lbl_expire(), which is O(entries freed).
 */
struct albm_lbl_table {
	struct albm_lbl_entry **buckets;
	unsigned bits;             /* log2 of the bucket count */
	struct albm_lbl_entry lru; /* list sentinel: lru.lru_next is the newest */
	size_t count, max;
	uint64_t expire_ms;
	void (*free_entry)(struct albm_lbl_entry *e);
};

void albm_lbl_table_init(struct albm_lbl_table *t, size_t max, uint64_t expire_ms,
			 void (*free_entry)(struct albm_lbl_entry *e));
/* Free every entry and the buckets. */
void albm_lbl_table_free(struct albm_lbl_table *t);
/* The live entry for flow->daddr, marked used at `now` (lastuse, LRU front); an
 * expired one is freed and NULL returned. */
struct albm_lbl_entry *albm_lbl_get(struct albm_lbl_table *t, const struct albm_flow *flow,
				    uint64_t now);
/* Insert e (allocated by the caller, not in the table) for flow->daddr at `now`,
 * evicting the least recently used entry when the table is full. */
void albm_lbl_insert(struct albm_lbl_table *t, struct albm_lbl_entry *e,
		     const struct albm_flow *flow, uint64_t now);
/* Unlink e and hand it to free_entry. */
void albm_lbl_del(struct albm_lbl_table *t, struct albm_lbl_entry *e);
/* Free the entries unused for expire_ms or more. */
void albm_lbl_expire(struct albm_lbl_table *t, uint64_t now);

/* Walk every entry (newest first); albm_lbl_del(t, e) is allowed inside. */
#define albm_lbl_foreach(t, e, tmp) \
	for ((e) = (t)->lru.lru_next; (e) != &(t)->lru && ((tmp) = (e)->lru_next, 1); (e) = (tmp))

/* ---- the load side: weighted least-connection and IPVS's overload rule ---- */

/*
 * The usable servers in a min-heap by overhead / weight (wlc: ties go to the first
 * in list order), and the number of "lightly loaded" servers, those up with
 * activeconns * 2 < weight.
 *
 * The heap is brought up to date lazily: a change only marks the server dirty
 * (O(1)), and albm_lbl_least() re-sorts the dirty ones first (O(log n) each).
 * Most picks of lblc/lblcr hit their cache and never read the heap, so the
 * connection churn between picks costs O(1) instead of two heap repairs.  The heap
 * orders the servers by the snapshot of their keys taken when they were last
 * re-sorted, so it is always a valid heap, and the top is exact after the flush.
 * The nlight count is kept exact at every change.
 *
 * Uses dest->heap_pos[0] and dest->sched_priv (a small struct owned here).
 */
struct albm_lbl_load {
	struct albm_heap wlc;
	size_t nlight;
	struct albm_dest **dirty; /* servers changed since the last flush */
	size_t ndirty, cap;
};

void albm_lbl_load_init(struct albm_lbl_load *l);
/* Free everything, including the per-server state of svc's servers. */
void albm_lbl_load_free(struct albm_lbl_load *l, struct albm_service *svc);
/* d has joined the service. */
void albm_lbl_load_add(struct albm_lbl_load *l, struct albm_dest *d);
/* d's weight, flags or connection counts changed.  O(1). */
void albm_lbl_load_update(struct albm_lbl_load *l, struct albm_dest *d);
/* d is leaving the service. */
void albm_lbl_load_remove(struct albm_lbl_load *l, struct albm_dest *d);

/* The weighted least-connection usable server, or NULL. */
struct albm_dest *albm_lbl_least(struct albm_lbl_load *l);

/*
 * IPVS's is_overloaded() of ip_vs_lblc.c/ip_vs_lblcr.c: d has more active
 * connections than its weight while some server is below half of its weight.
 * O(1) thanks to the nlight count.
 */
bool albm_lbl_overloaded(const struct albm_lbl_load *l, const struct albm_dest *d);

#endif
