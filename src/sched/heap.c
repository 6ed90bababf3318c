/* ALBM: indexed binary min-heap of destinations (see heap.h for the contract) */
#include "sched/heap.h"

#include <stdlib.h>

#include "common/util.h"

void albm_heap_init(struct albm_heap *h, unsigned slot,
		    bool (*less)(const struct albm_dest *a, const struct albm_dest *b))
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->slot = slot;
	h->less = less;
}

void albm_heap_free(struct albm_heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->heap_pos[h->slot] = -1;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Place d at index i and record the position in d. */
static inline void heap_put(struct albm_heap *h, size_t i, struct albm_dest *d)
{
	h->v[i] = d;
	d->heap_pos[h->slot] = (int)i;
}

/* Let d rise from the hole at i (parents slide down, d is written once). */
static void heap_sift_up(struct albm_heap *h, size_t i, struct albm_dest *d)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!h->less(d, h->v[p]))
			break;
		heap_put(h, i, h->v[p]);
		i = p;
	}
	heap_put(h, i, d);
}

/* Sink d from the hole at i while a child is before it. */
static void heap_sift_down(struct albm_heap *h, size_t i, struct albm_dest *d)
{
	size_t n = h->n;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && h->less(h->v[c + 1], h->v[c]))
			c++;
		if (!h->less(h->v[c], d))
			break;
		heap_put(h, i, h->v[c]);
		i = c;
	}
	heap_put(h, i, d);
}

/* Put d, whose key may have become smaller or larger, at hole i. */
static void heap_resort(struct albm_heap *h, size_t i, struct albm_dest *d)
{
	if (i > 0 && h->less(d, h->v[(i - 1) / 2]))
		heap_sift_up(h, i, d);
	else
		heap_sift_down(h, i, d);
}

void albm_heap_push(struct albm_heap *h, struct albm_dest *d)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->n++;
	heap_sift_up(h, h->n - 1, d);
}

void albm_heap_remove(struct albm_heap *h, struct albm_dest *d)
{
	int pos = d->heap_pos[h->slot];
	struct albm_dest *last;

	if (pos < 0)
		return;
	d->heap_pos[h->slot] = -1;
	last = h->v[--h->n];
	if ((size_t)pos < h->n)
		heap_resort(h, (size_t)pos, last); /* the last element fills the hole */
}

void albm_heap_fix(struct albm_heap *h, struct albm_dest *d)
{
	heap_resort(h, (size_t)d->heap_pos[h->slot], d);
}

void albm_heap_sync(struct albm_heap *h, struct albm_dest *d, bool member)
{
	if (!member)
		albm_heap_remove(h, d);
	else if (d->heap_pos[h->slot] < 0)
		albm_heap_push(h, d);
	else
		albm_heap_fix(h, d);
}

bool albm_heap_check(const struct albm_heap *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i]->heap_pos[h->slot] != (int)i)
			return false;
		if (i > 0 && h->less(h->v[i], h->v[(i - 1) / 2]))
			return false;
	}
	return true;
}
