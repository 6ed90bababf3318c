/* ALBM: Round-Robin scheduler (IPVS ip_vs_rr.c semantics)
 *
 * Walk the destination list circularly, starting after the server chosen last, and
 * take the first one that is usable (up, weight > 0, not over its connection
 * limit).  The cursor is a list position; when the server under the cursor is
 * removed, the cursor steps back to its predecessor, so the next pick is the server
 * that followed it, as in IPVS's ip_vs_rr_del_dest().
 */
#include <assert.h>
#include <stdint.h>

#include "sched/sched.h"

/* svc->sched_data holds the cursor itself: the list position of the last pick, or
 * RR_HEAD, before the first element (IPVS: the list head). */
#define RR_HEAD SIZE_MAX

static int sched_rr_init(struct albm_service *svc)
{
	static_assert(sizeof(size_t) <= sizeof(void *), "cursor fits in a pointer");
	svc->sched_data = (void *)(uintptr_t)RR_HEAD;
	return 0;
}

static size_t rr_cursor(const struct albm_service *svc)
{
	return (size_t)(uintptr_t)svc->sched_data;
}

static void sched_rr_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	size_t last = rr_cursor(svc);

	if (last == RR_HEAD || last < dest->idx)
		return;
	/* the cursor's server (or one before it) leaves: step back one position */
	last = last == 0 ? RR_HEAD : last - 1;
	svc->sched_data = (void *)(uintptr_t)last;
}

static struct albm_dest *sched_rr_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	size_t n = svc->ndests, start = rr_cursor(svc);

	(void)flow;
	start = (start == RR_HEAD || start >= n) ? 0 : start + 1;
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		if (albm_dest_usable(svc->dests[i])) {
			svc->sched_data = (void *)(uintptr_t)i;
			return svc->dests[i];
		}
	}
	albm_sched_err(svc, "no destination available");
	return NULL;
}

const struct albm_sched_ops albm_sched_rr = {
	.name = "rr",
	.description = "round robin: each usable server in turn",
	.init_service = sched_rr_init,
	.del_dest = sched_rr_del_dest,
	.schedule = sched_rr_schedule,
};
