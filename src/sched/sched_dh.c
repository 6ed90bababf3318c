/* ALBM: Destination Hashing scheduler (IPVS ip_vs_dh.c semantics)
 *
 * A 256-bucket table (IP_VS_DH_TAB_SIZE, 1 << 8) maps a hash of the address the
 * client asked for (the flow's destination) to a server:
 *
 *     bucket = hash_32(fold(daddr), 8)   (fold(daddr) * 0x61C88647) >> 24
 *     server = table[bucket]             NULL when it is not usable
 *
 * fold() is the address itself for IPv4 and the XOR of the four words for IPv6.
 * The table is filled by assigning the servers to the buckets in turn, in list
 * order, one bucket each (ip_vs_dh_reassign(): weights play no part).  Used in
 * front of caches: the same destination address always reaches the same cache
 * while the list does not change.
 *
 * The table depends on the list only: it is rebuilt lazily, on the next pick after
 * an add or a removal.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/hash.h"
#include "sched/sched.h"

#define DH_TAB_BITS 8
#define DH_TAB_SIZE (1u << DH_TAB_BITS)

struct dh_state {
	struct albm_dest *buckets[DH_TAB_SIZE];
	bool dirty; /* the list changed since the last fill */
};

static int sched_dh_init(struct albm_service *svc)
{
	struct dh_state *s = xcalloc(1, sizeof(*s));

	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_dh_done(struct albm_service *svc)
{
	free(svc->sched_data);
}

/* Deal the servers round the buckets, one bucket each, in list order. */
static void sched_dh_reassign(struct albm_service *svc, struct dh_state *s)
{
	for (unsigned i = 0; i < DH_TAB_SIZE; i++)
		s->buckets[i] = svc->ndests ? svc->dests[i % svc->ndests] : NULL;
	s->dirty = false;
}

static int sched_dh_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct dh_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
	return 0;
}

static void sched_dh_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct dh_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
}

static struct albm_dest *sched_dh_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct dh_state *s = svc->sched_data;
	struct albm_dest *d;

	if (s->dirty)
		sched_dh_reassign(svc, s);
	d = s->buckets[albm_hash_32(albm_hash_fold(flow->family, flow->daddr), DH_TAB_BITS)];
	if (!d || !albm_dest_usable(d)) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	return d;
}

const struct albm_sched_ops albm_sched_dh = {
	.name = "dh",
	.description = "destination hashing: the destination address picks the server",
	.flags = ALBM_SCHED_F_HASH,
	.init_service = sched_dh_init,
	.done_service = sched_dh_done,
	.add_dest = sched_dh_add_dest,
	.del_dest = sched_dh_del_dest,
	.schedule = sched_dh_schedule,
};
