/* ALBM: weighted Maglev lookup table — the reals' weights as hash-table slots */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dr/dr_table.h"

/*
 * Maglev population, weighted: every entry walks its own permutation of the slots
 * (offset + j * skip mod size, a full cycle because size is prime) and claims the
 * next free slot when it has its turn.  Turns follow the weights: in each round an
 * entry earns `weight` credits and takes one slot per `wmax` credits, so the entry
 * with the largest weight takes one slot per round and the others proportionally
 * fewer (a lighter entry still gets its share, just in later rounds).
 */
struct perm {
	uint64_t offset, skip, next; /* next: position in the permutation */
	uint64_t credit;
	uint32_t id, weight;
	uint8_t key[16];
};

/* splitmix64 over the key's bytes: offset and skip must depend on the key only. */
static uint64_t table_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	uint64_t h = seed;

	for (size_t i = 0; i < len; i++) {
		h += key[i] + 0x9e3779b97f4a7c15ull;
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
		h ^= h >> 31;
	}
	return h;
}

static int perm_cmp(const void *a, const void *b)
{
	const struct perm *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Claim the next free slot of p's permutation. */
static void table_claim(struct perm *p, uint32_t *table, bool *taken, uint32_t size)
{
	uint64_t c;

	do {
		c = (p->offset + p->next * p->skip) % size;
		p->next++;
	} while (taken[c]);
	taken[c] = true;
	table[c] = p->id;
}

static void table_populate(struct perm *p, size_t n, uint32_t *table, bool *taken, uint32_t size,
			   uint32_t wmax)
{
	uint32_t filled = 0;

	while (filled < size) {
		for (size_t i = 0; i < n && filled < size; i++) {
			p[i].credit += p[i].weight;
			while (p[i].credit >= wmax && filled < size) {
				p[i].credit -= wmax;
				table_claim(&p[i], table, taken, size);
				filled++;
			}
		}
	}
}

/* Permutation parameters of the entries with a positive weight; returns how many. */
static size_t table_perms(const struct dr_table_entry *e, size_t n, struct perm *p, uint32_t size,
			  uint32_t *wmax)
{
	size_t np = 0;

	*wmax = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].weight == 0)
			continue;
		memcpy(p[np].key, e[i].key, sizeof(p[np].key));
		p[np].id = e[i].id;
		p[np].weight = e[i].weight;
		p[np].offset = table_hash(e[i].key, sizeof(e[i].key), 1) % size;
		p[np].skip = table_hash(e[i].key, sizeof(e[i].key), 2) % (size - 1) + 1;
		if (e[i].weight > *wmax)
			*wmax = e[i].weight;
		np++;
	}
	return np;
}

int dr_table_fill(const struct dr_table_entry *e, size_t n, uint32_t *table, uint32_t size)
{
	struct perm *p = NULL;
	bool *taken = NULL;
	uint32_t wmax;
	size_t np;
	int rc = 0;

	if (size < 2 || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (e[i].id == 0)
			return -EINVAL;
	memset(table, 0, sizeof(*table) * size);
	p = calloc(n ? n : 1, sizeof(*p));
	taken = calloc(size, sizeof(*taken));
	if (!p || !taken) {
		rc = -ENOMEM;
		goto out;
	}
	np = table_perms(e, n, p, size, &wmax);
	/* Sorted by key: the same set gives the same table whatever the caller's order. */
	qsort(p, np, sizeof(*p), perm_cmp);
	if (np)
		table_populate(p, np, table, taken, size, wmax);
out:
	free(p);
	free(taken);
	return rc;
}
