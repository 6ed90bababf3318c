/* ALBM: the DR plane's table weights in an ha group — shared inputs, levels, boundaries (pure)
 *
 * See dr_levels.h for the rules and docs/ha.md ("Consistent tables") for why.  Every
 * function is a function of its arguments: two distributors that call them with the
 * same inputs get the same weights, bit for bit (the same binary computes the same
 * doubles from the same integers).
 */
#include "distributor/dr_levels.h"

#include <math.h>
#include <stdlib.h>

#include "common/util.h"

void dr_level_offer(struct dr_level_reports *r, const struct dr_level_report *rep,
		    uint64_t cutoff_ms)
{
	if (rep->ts_ms <= cutoff_ms) {
		if (!r->has_sel || rep->ts_ms >= r->sel.ts_ms) {
			r->sel = *rep;
			r->has_sel = true;
		}
		return;
	}
	if (!r->has_pending || rep->ts_ms >= r->pending.ts_ms) {
		r->pending = *rep;
		r->has_pending = true;
	}
}

void dr_level_advance(struct dr_level_reports *r, uint64_t cutoff_ms)
{
	if (!r->has_pending || r->pending.ts_ms > cutoff_ms)
		return;
	if (!r->has_sel || r->pending.ts_ms >= r->sel.ts_ms) {
		r->sel = r->pending;
		r->has_sel = true;
	}
	r->has_pending = false;
}

uint64_t dr_level_boundary_after(uint64_t now_ms, uint64_t interval_ms)
{
	return (now_ms / interval_ms + 1) * interval_ms;
}

bool dr_level_reset_at(uint64_t boundary_ms, uint64_t interval_ms)
{
	return boundary_ms % (interval_ms * DR_LEVEL_RESET_EVERY) == 0;
}

/* base x capacity of the selected report; 0 when the agent says overloaded. */
static double level_raw(const struct dr_level_in *in)
{
	double cap = 1.0;

	if (in->report) {
		if (in->report->overloaded)
			return 0.0;
		cap = in->report->capacity;
		if (!(cap > 0.0)) /* also NaN */
			return 0.0;
		if (cap > 1.0)
			cap = 1.0;
	}
	return (double)in->base * cap;
}

/* The level of x (0..DR_LEVELS, a real) given the previous one: kept while x is
 * within half a level plus the hysteresis of it; never 0 for a positive value. */
static uint32_t level_of(double x, bool has_prev, uint32_t prev)
{
	long q;

	if (!(x > 0.0))
		return 0;
	if (has_prev && prev > 0 && fabs(x - (double)prev) < 0.5 + DR_LEVEL_HYST)
		return prev;
	q = lround(x);
	if (q < 1)
		q = 1;
	return q > DR_LEVELS ? DR_LEVELS : (uint32_t)q;
}

/* The largest raw value among the servers in the set (all when none is in it). */
static double level_max(const struct dr_level_in *in, const double *raw, size_t n)
{
	double in_max = 0.0, all_max = 0.0;
	bool any_in = false;

	for (size_t i = 0; i < n; i++) {
		if (!in[i].measured)
			continue;
		if (raw[i] > all_max)
			all_max = raw[i];
		if (in[i].in) {
			any_in = true;
			if (raw[i] > in_max)
				in_max = raw[i];
		}
	}
	return any_in ? in_max : all_max;
}

double dr_levels_hold(const struct dr_level_in *in, size_t n, bool reset, uint32_t *held)
{
	double *raw = xcalloc(n + 1, sizeof(*raw)), max;

	for (size_t i = 0; i < n; i++)
		raw[i] = in[i].measured ? level_raw(&in[i]) : 0.0;
	max = level_max(in, raw, n);
	for (size_t i = 0; i < n; i++) {
		if (!in[i].measured)
			held[i] = in[i].base;
		else if (!(max > 0.0))
			held[i] = 0;
		else
			held[i] = level_of(DR_LEVELS * raw[i] / max, in[i].has_prev && !reset,
					   in[i].prev);
	}
	free(raw);
	return max > 0.0 ? max : 0.0;
}

uint32_t dr_level_join(const struct dr_level_in *in, double scale)
{
	double raw;

	if (!in->measured)
		return in->base;
	raw = level_raw(in);
	if (!(scale > 0.0))
		return raw > 0.0 ? DR_LEVELS : 0;
	return level_of(DR_LEVELS * raw / scale, false, 0);
}

void dr_levels_weights(const uint32_t *held, const bool *in, const bool *drained, size_t n,
		       struct dr_weight *out)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		out[i].in = in[i];
		out[i].w = in[i] && !drained[i] ? held[i] : 0;
		any |= out[i].w > 0;
	}
	if (any)
		return;
	for (size_t i = 0; i < n; i++) /* all overloaded: spread evenly, deterministically */
		if (in[i] && !drained[i])
			out[i].w = 1;
}
