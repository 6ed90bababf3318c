/* ALBM: the DR plane's table weights in an ha group — shared inputs, levels, boundaries (pure) */
#ifndef ALBM_DISTRIBUTOR_DR_LEVELS_H
#define ALBM_DISTRIBUTOR_DR_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distributor/dr_weights.h"

/*
 * Distributors of one group must build the same Maglev table, so that a flow the
 * router moves from one to another reaches the same real (docs/ha.md, "Consistent
 * tables").  They hear the agents' reports at slightly different moments and count
 * different connections, so in a group a table is made only of what they share:
 *
 *   membership  a server is in the set while it is up and its MAC known; applied at
 *               once on every distributor (a removed real must leave every table);
 *   base        the configured weight (1 for schedulers that ignore weights; 0 when
 *               drained, also applied at once);
 *   measured    for adaptive schedulers, base x the capacity (available memory
 *               fraction) of the agent's report, 0 when the agent says overloaded —
 *               of the newest report DATED (by the agent) at least `guard` before the
 *               boundary, so that a report that reaches one distributor up to `guard`
 *               later than another still counts on both;
 *   levels      measured weights are quantised to DR_LEVELS levels of the largest,
 *               with hysteresis: a level changes only when the value is past the
 *               boundary between levels by DR_LEVEL_HYST of a level;
 *   boundaries  weights (not membership) change only at wall-clock multiples of the
 *               interval since the epoch, the same instants everywhere; every
 *               DR_LEVEL_RESET_EVERY-th boundary forgets the hysteresis, so that a
 *               distributor that started later (without the others' history) agrees
 *               again within that many intervals.
 *
 * Nothing here reads a clock or touches albmd: the plane (dr_group.c) feeds reports
 * and calls dr_levels_hold() at each boundary.
 */

#define DR_LEVELS            8
#define DR_LEVEL_HYST        0.25
#define DR_LEVEL_RESET_EVERY 12

/* One agent report as the levels see it. */
struct dr_level_report {
	uint64_t ts_ms;  /* the agent's wall-clock timestamp */
	double capacity; /* available memory / total, 0..1 */
	bool overloaded; /* the agent's overload decision */
};

/* Per server: the report that counts at the next boundary, and a newer one. */
struct dr_level_reports {
	bool has_sel, has_pending;
	struct dr_level_report sel;     /* newest dated <= the next boundary's cutoff */
	struct dr_level_report pending; /* newest dated after it */
};

/* A report arrived; cutoff_ms = the next boundary - guard.  Older than what is kept:
 * ignored (reordered datagrams). */
void dr_level_offer(struct dr_level_reports *r, const struct dr_level_report *rep,
		    uint64_t cutoff_ms);
/* The cutoff moved on to cutoff_ms (a boundary passed): a pending report dated at or
 * before it now counts. */
void dr_level_advance(struct dr_level_reports *r, uint64_t cutoff_ms);

/* The first boundary strictly after now_ms (multiples of interval_ms since the epoch). */
uint64_t dr_level_boundary_after(uint64_t now_ms, uint64_t interval_ms);
/* Is boundary_ms one where the hysteresis is forgotten? */
bool dr_level_reset_at(uint64_t boundary_ms, uint64_t interval_ms);

/* What one server's held weight is made of, at a boundary. */
struct dr_level_in {
	bool in;       /* in the set now */
	uint32_t base; /* configured weight, 1 when the scheduler ignores weights */
	bool measured; /* adaptive scheduler: levels of base x capacity */
	const struct dr_level_report *report; /* the selected report, NULL: none (capacity 1) */
	bool has_prev;                        /* prev is a level of the same kind (hysteresis) */
	uint32_t prev;
};

/*
 * At a boundary: the weight each of the n servers holds until the next one.  Measured
 * ones: levels 0..DR_LEVELS of base x capacity relative to the largest among the
 * servers in the set (all servers when none is), with hysteresis unless reset; others:
 * base.  held[i] is written; has_prev/prev are read.  Returns that largest value (the
 * scale of the levels; 0 when nothing is measured or all is 0).
 */
double dr_levels_hold(const struct dr_level_in *in, size_t n, bool reset, uint32_t *held);
/* A server that joined between boundaries: its level on the boundary's scale (what
 * dr_levels_hold returned; 0: level DR_LEVELS for any positive value), no hysteresis;
 * base for the others. */
uint32_t dr_level_join(const struct dr_level_in *in, double scale);

/*
 * Between boundaries: the table weights out[i] (as dr_weights_compute() gives them)
 * from the held weights, the membership now (in[i]) and drains now (drained[i]: base
 * 0 since the boundary).  When every server in the set holds 0 (all overloaded), each
 * one not drained gets 1: a table must send new flows somewhere, the same place on
 * every distributor.
 */
void dr_levels_weights(const uint32_t *held, const bool *in, const bool *drained, size_t n,
		       struct dr_weight *out);

#endif
