/* ALBM: locality-based scheduling helpers shared by lblc and lblcr (see lbl.h) */
#include "sched/lbl.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/hash.h"
#include "sched/sched.h"

/* ---- the destination-address table ---- */

void albm_lbl_table_init(struct albm_lbl_table *t, size_t max, uint64_t expire_ms,
			 void (*free_entry)(struct albm_lbl_entry *e))
{
	memset(t, 0, sizeof(*t));
	/* about one entry per bucket when full: chains stay short */
	t->bits = 4;
	while ((1ull << t->bits) < max && t->bits < 20)
		t->bits++;
	t->buckets = xcalloc((size_t)1 << t->bits, sizeof(*t->buckets));
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	t->max = max ? max : 1;
	t->expire_ms = expire_ms;
	t->free_entry = free_entry;
}

void albm_lbl_table_free(struct albm_lbl_table *t)
{
	struct albm_lbl_entry *e, *tmp;

	albm_lbl_foreach(t, e, tmp) t->free_entry(e);
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
}

static uint8_t lbl_addr_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* IPVS's ip_vs_lblc_hashkey(): hash_32 of the folded address. */
static struct albm_lbl_entry **lbl_bucket(struct albm_lbl_table *t, uint8_t family,
					  const uint8_t addr[16])
{
	return &t->buckets[albm_hash_32(albm_hash_fold(family, addr), t->bits)];
}

static void lbl_lru_unlink(struct albm_lbl_entry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void lbl_lru_push_front(struct albm_lbl_table *t, struct albm_lbl_entry *e)
{
	e->lru_prev = &t->lru;
	e->lru_next = t->lru.lru_next;
	t->lru.lru_next->lru_prev = e;
	t->lru.lru_next = e;
}

static bool lbl_expired(const struct albm_lbl_table *t, const struct albm_lbl_entry *e,
			uint64_t now)
{
	/* the kernel keeps an entry while now < lastuse + expiration */
	return now >= e->lastuse + t->expire_ms;
}

struct albm_lbl_entry *albm_lbl_get(struct albm_lbl_table *t, const struct albm_flow *flow,
				    uint64_t now)
{
	uint8_t len = lbl_addr_len(flow->family);
	struct albm_lbl_entry *e = *lbl_bucket(t, flow->family, flow->daddr);

	for (; e; e = e->hnext)
		if (e->family == flow->family && !memcmp(e->addr, flow->daddr, len))
			break;
	if (!e)
		return NULL;
	if (lbl_expired(t, e, now)) {
		albm_lbl_del(t, e);
		return NULL;
	}
	e->lastuse = now;
	lbl_lru_unlink(e);
	lbl_lru_push_front(t, e);
	return e;
}

void albm_lbl_insert(struct albm_lbl_table *t, struct albm_lbl_entry *e,
		     const struct albm_flow *flow, uint64_t now)
{
	struct albm_lbl_entry **b;

	if (t->count >= t->max)
		albm_lbl_del(t, t->lru.lru_prev); /* the least recently used */
	e->family = flow->family;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, flow->daddr, lbl_addr_len(flow->family));
	e->lastuse = now;
	b = lbl_bucket(t, e->family, e->addr);
	e->hnext = *b;
	*b = e;
	lbl_lru_push_front(t, e);
	t->count++;
}

void albm_lbl_del(struct albm_lbl_table *t, struct albm_lbl_entry *e)
{
	struct albm_lbl_entry **pp = lbl_bucket(t, e->family, e->addr);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lbl_lru_unlink(e);
	t->count--;
	t->free_entry(e);
}

void albm_lbl_expire(struct albm_lbl_table *t, uint64_t now)
{
	while (t->lru.lru_prev != &t->lru && lbl_expired(t, t->lru.lru_prev, now))
		albm_lbl_del(t, t->lru.lru_prev);
}

/* ---- the load side ---- */

/* Per-server state (dest->sched_priv). */
struct lbl_dest {
	uint64_t oh;     /* overhead when last re-sorted: the heap's key */
	uint32_t weight; /* weight then */
	bool light;      /* counted in nlight */
	bool dirty;      /* in the dirty list */
};

static struct lbl_dest *lbl_priv(const struct albm_dest *d)
{
	return d->sched_priv;
}

/* wlc order on the snapshots: overhead / weight by cross-multiplication (members
 * have weight > 0); ties go to the earlier server in list order, as IPVS's scan. */
static bool lbl_wlc_less(const struct albm_dest *a, const struct albm_dest *b)
{
	const struct lbl_dest *pa = lbl_priv(a), *pb = lbl_priv(b);
	uint64_t l = pa->oh * pb->weight, r = pb->oh * pa->weight;

	return l < r || (l == r && a->seq < b->seq);
}

void albm_lbl_load_init(struct albm_lbl_load *l)
{
	memset(l, 0, sizeof(*l));
	albm_heap_init(&l->wlc, 0, lbl_wlc_less);
}

void albm_lbl_load_free(struct albm_lbl_load *l, struct albm_service *svc)
{
	albm_heap_free(&l->wlc);
	for (size_t i = 0; i < svc->ndests; i++) {
		free(svc->dests[i]->sched_priv);
		svc->dests[i]->sched_priv = NULL;
	}
	free(l->dirty);
	memset(l, 0, sizeof(*l));
}

static void lbl_set_light(struct albm_lbl_load *l, struct lbl_dest *p, bool light)
{
	if (light != p->light) {
		if (light)
			l->nlight++;
		else
			l->nlight--;
		p->light = light;
	}
}

void albm_lbl_load_add(struct albm_lbl_load *l, struct albm_dest *d)
{
	d->sched_priv = xcalloc(1, sizeof(struct lbl_dest));
	albm_lbl_load_update(l, d);
}

void albm_lbl_load_update(struct albm_lbl_load *l, struct albm_dest *d)
{
	struct lbl_dest *p = lbl_priv(d);

	lbl_set_light(l, p,
		      (d->flags & ALBM_DEST_F_AVAILABLE) &&
			      (int64_t)d->activeconns * 2 < (int64_t)d->weight);
	if (p->dirty)
		return;
	if (l->ndirty == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->dirty = xrealloc(l->dirty, l->cap * sizeof(*l->dirty));
	}
	l->dirty[l->ndirty++] = d;
	p->dirty = true;
}

void albm_lbl_load_remove(struct albm_lbl_load *l, struct albm_dest *d)
{
	struct lbl_dest *p = lbl_priv(d);

	lbl_set_light(l, p, false);
	if (p->dirty) {
		for (size_t i = 0; i < l->ndirty; i++) {
			if (l->dirty[i] == d) {
				l->dirty[i] = l->dirty[--l->ndirty];
				break;
			}
		}
	}
	albm_heap_remove(&l->wlc, d); /* by its unchanged snapshot: the heap is valid */
	free(p);
	d->sched_priv = NULL;
}

/* Re-sort each dirty server: one key change at a time keeps the heap valid. */
struct albm_dest *albm_lbl_least(struct albm_lbl_load *l)
{
	for (size_t i = 0; i < l->ndirty; i++) {
		struct albm_dest *d = l->dirty[i];
		struct lbl_dest *p = lbl_priv(d);

		p->dirty = false;
		p->oh = albm_dest_overhead(d);
		p->weight = (uint32_t)(d->weight > 0 ? d->weight : 0);
		albm_heap_sync(&l->wlc, d, albm_dest_usable(d));
	}
	l->ndirty = 0;
	return albm_heap_top(&l->wlc);
}

bool albm_lbl_overloaded(const struct albm_lbl_load *l, const struct albm_dest *d)
{
	return (int64_t)d->activeconns > (int64_t)d->weight && l->nlight > 0;
}
