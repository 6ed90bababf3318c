/* ALBM: the DR plane's weights policy — scheduler state to XDP table weights, pure
 *
 * See dr_weights.h for the three steps and docs/dr.md for what each scheduler's
 * table means.  The scheduler decides (albm_sched_weights: its weights() hook, or
 * the default its ALBM_SCHED_F_* flags select); this file only adds what the XDP
 * plane itself imposes: a server is in the real set while it is up and its MAC is
 * known, and out of the set it has no weight.
 */
#include "distributor/dr_weights.h"

#include <stdlib.h>

#include "common/util.h"

uint32_t dr_weights_k(uint64_t rate)
{
	uint64_t k = 2 * ALBM_MIN(rate, (uint64_t)DR_WEIGHTS_K_MAX);

	k = ALBM_MAX(k, (uint64_t)DR_WEIGHTS_K_MIN);
	return (uint32_t)ALBM_MIN(k, (uint64_t)DR_WEIGHTS_K_MAX);
}

enum albm_table_kind dr_weights_compute(const struct dr_weights_in *in, struct dr_weight *out)
{
	const struct albm_service *s = in->svc;
	uint32_t *w = xcalloc(s->ndests + 1, sizeof(*w));
	enum albm_table_kind kind = albm_sched_weights(s, dr_weights_k(in->rate), w);

	for (size_t i = 0; i < s->ndests; i++) {
		out[i].in = in->resolved[i] && (s->dests[i]->flags & ALBM_DEST_F_AVAILABLE);
		out[i].w = out[i].in ? w[i] : 0;
	}
	free(w);
	return kind;
}

unsigned dr_weights_shift(enum albm_table_kind kind)
{
	switch (kind) {
	case ALBM_TABLE_PICKS:
		return 3;
	case ALBM_TABLE_EFFECTIVE:
		return 5;
	default:
		return 0;
	}
}

bool dr_weight_moved(uint32_t old, uint32_t now, unsigned shift)
{
	uint32_t hi = ALBM_MAX(old, now), diff = hi - ALBM_MIN(old, now);

	if (old == now)
		return false;
	if (!shift || !old || !now)
		return true;
	return diff > (hi >> shift);
}

bool dr_weights_differ(enum albm_table_kind kind, const struct dr_weight *old,
		       const struct dr_weight *now, size_t n)
{
	unsigned shift = dr_weights_shift(kind);

	for (size_t i = 0; i < n; i++)
		if (old[i].in != now[i].in ||
		    (now[i].in && dr_weight_moved(old[i].w, now[i].w, shift)))
			return true;
	return false;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void dr_weights_quantise(const struct dr_weight *in, size_t n, uint32_t *q)
{
	uint32_t g = 0;

	for (size_t i = 0; i < n; i++)
		if (in[i].in && in[i].w)
			g = gcd32(in[i].w, g);
	for (size_t i = 0; i < n; i++)
		q[i] = in[i].in && g ? in[i].w / g : 0;
}
