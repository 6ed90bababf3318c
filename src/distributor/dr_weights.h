/* ALBM: the DR plane's weights policy — scheduler state to XDP table weights, pure */
#ifndef ALBM_DISTRIBUTOR_DR_WEIGHTS_H
#define ALBM_DISTRIBUTOR_DR_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

/*
 * A DR service's table is a pure function of its inputs, in three steps, so that
 * every step can be tested alone and so that distributors given the same inputs
 * build the same table (docs/dr.md, "The weights policy"):
 *
 *   1. decide    dr_weights_compute(): which servers are in the real set and the
 *                share of new flows each gets (the scheduler's weights() hook, or
 *                the library default its capabilities select);
 *   2. compare   dr_weights_differ(): is the change worth a new table?  (measured
 *                weights move a little all the time; static ones never by chance);
 *   3. quantise  dr_weights_quantise(): the integer weights handed to
 *                dr_set_reals(), in one canonical form.
 *
 * Nothing here touches albmd, the scheduler's state or BPF.
 */

#define DR_WEIGHTS_K_MIN 32   /* picks a PICKS table stands for, at least ... */
#define DR_WEIGHTS_K_MAX 1024 /* ... and at most */

/* One server's place in the table. */
struct dr_weight {
	bool in;    /* in the XDP real set (its flows stay; out: they are rescheduled) */
	uint32_t w; /* its share of new flows; 0: none (drained, full, overloaded) */
};

/* What a table depends on besides the scheduler's state. */
struct dr_weights_in {
	const struct albm_service *svc; /* the scheduler and its servers (read only) */
	const bool *resolved;           /* [svc->ndests]: the server's MAC is known */
	uint64_t rate;                  /* new flows in the last tick */
};

/* K: twice the recent rate, within DR_WEIGHTS_K_MIN..MAX, so that the picks of a
 * burst spread over the servers the way that many connections would. */
uint32_t dr_weights_k(uint64_t rate);

/* Step 1: out[i] for svc->dests[i] (in: up and resolved; w: the scheduler's table
 * weight, 0 when out).  Returns what the weights are (their kind). */
enum albm_table_kind dr_weights_compute(const struct dr_weights_in *in, struct dr_weight *out);

/* Step 2: true when `now` should replace the applied `old` (n servers each): the set
 * changed, a weight went to or from 0, or one moved by more than the kind's
 * tolerance (dr_weight_moved with dr_weights_shift(kind)). */
bool dr_weights_differ(enum albm_table_kind kind, const struct dr_weight *old,
		       const struct dr_weight *now, size_t n);
/* Tolerance of a kind as a shift: 0 = any change (static weights), 5 = 1/32
 * (effective weights), 3 = 1/8 (pick counts, which vary by a few on the same state). */
unsigned dr_weights_shift(enum albm_table_kind kind);
/* old -> now is a move: a change to or from 0, or by more than max(old, now) >> shift
 * (shift 0: any change). */
bool dr_weight_moved(uint32_t old, uint32_t now, unsigned shift);

/* Step 3: q[i], the weight dr_set_reals() gets for server i (0 when out): the
 * weights of the servers in the set divided by their greatest common divisor.  The
 * Maglev table depends only on the weights' ratios, so this changes no table; it
 * gives every set of ratios one representation (2:4 and 1:2, K = 32 or 64 picks,
 * any scale), the step where distributors that must agree on a table (HA) would
 * also round their inputs to a common grid. */
void dr_weights_quantise(const struct dr_weight *in, size_t n, uint32_t *q);

#endif
