/* ALBM: weighted Maglev lookup table — the reals' weights as hash-table slots */
#ifndef ALBM_DR_DR_TABLE_H
#define ALBM_DR_DR_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* One candidate: a stable identity (its address bytes), the value to store in its
 * slots (the real's index, never 0) and its weight (0: no slot). */
struct dr_table_entry {
	uint8_t key[16];
	uint32_t id;
	uint32_t weight;
};

/*
 * Fill table[0..size) with the ids of e[0..n) in proportion to their weights
 * (Maglev, Eisenbud et al., NSDI 2016, with weights).  size must be a prime larger
 * than n.  Each entry has its own permutation of the slots, derived from its key
 * only, so adding, removing or reweighting one entry moves few slots of the others
 * (minimal disruption); the result does not depend on the order of e[].  With no
 * positive weight every slot is 0.  Returns 0, -EINVAL (size, n, id 0) or -ENOMEM.
 */
int dr_table_fill(const struct dr_table_entry *e, size_t n, uint32_t *table, uint32_t size);

#endif
