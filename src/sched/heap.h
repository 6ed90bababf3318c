/* ALBM: indexed binary min-heap of destinations under a caller-given order */
#ifndef ALBM_SCHED_HEAP_H
#define ALBM_SCHED_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#include "sched/sched-t.h"

/*
 * A binary min-heap of struct albm_dest pointers ordered by a caller-given strict
 * `less`, which must be a total order (break ties with dest->seq, the list
 * position, to get IPVS's "first in the list" rule).  Each destination knows
 * where it sits: dest->heap_pos[slot] is its index in the heap array, or -1 when
 * it is not in this heap, so membership tests are O(1) and re-sorting or removing
 * any member after its key changed is O(log n).
 *
 * A scheduler keeps up to two heaps per service (slot 0 and slot 1); a destination
 * is in at most one heap per slot.  The heap does not own the destinations;
 * albm_heap_free() only releases the array and marks the members out.
 *
 * Every comparison calls `less` on two destinations, so it suits orders that are
 * re-evaluated lazily or rarely.  For per-connection hot paths whose order is
 * "smallest num/den, then list position" (lc, wlc, sed, nq, fo, ovf, wrr) the
 * winner tree of wintree.h is several times cheaper and needs no heap_pos.
 */
struct albm_heap {
	struct albm_dest **v; /* v[0] is the minimum */
	size_t n, cap;
	unsigned slot; /* which dest->heap_pos[] entry this heap uses (0 or 1) */
	bool (*less)(const struct albm_dest *a, const struct albm_dest *b);
};

/* Initialise an empty heap using dest->heap_pos[slot] and the order `less`. */
void albm_heap_init(struct albm_heap *h, unsigned slot,
		    bool (*less)(const struct albm_dest *a, const struct albm_dest *b));
/* Release the array; every member's heap_pos[slot] becomes -1. */
void albm_heap_free(struct albm_heap *h);

/* Insert d, which must not be in the heap.  O(log n); aborts on out-of-memory. */
void albm_heap_push(struct albm_heap *h, struct albm_dest *d);
/* Remove d if it is in the heap (no-op otherwise).  O(log n). */
void albm_heap_remove(struct albm_heap *h, struct albm_dest *d);
/* d's key has changed: restore the order around it.  d must be in the heap. */
void albm_heap_fix(struct albm_heap *h, struct albm_dest *d);
/* Make membership follow `member` and re-sort d: push, fix or remove as needed
 * (what a scheduler's hooks call after any change to d). */
void albm_heap_sync(struct albm_heap *h, struct albm_dest *d, bool member);
/* Verify the heap order and every position index (for tests); true when sound. */
bool albm_heap_check(const struct albm_heap *h);

static inline bool albm_heap_contains(const struct albm_heap *h, const struct albm_dest *d)
{
	return d->heap_pos[h->slot] >= 0;
}

/* The minimum, or NULL when empty.  O(1). */
static inline struct albm_dest *albm_heap_top(const struct albm_heap *h)
{
	return h->n ? h->v[0] : NULL;
}

static inline size_t albm_heap_size(const struct albm_heap *h)
{
	return h->n;
}

#endif
