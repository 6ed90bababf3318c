/* ALBM: Source Hashing scheduler (IPVS ip_vs_sh.c semantics)
 *
 * A 256-bucket table (IP_VS_SH_TAB_SIZE, 1 << 8) maps a hash of the client's
 * address to a server:
 *
 *     key    = fold(saddr) [+ sport with ALBM_SVC_F_SCHED_PORT, "sh-port"]
 *     bucket = hash_32(key, 8)           (key * 0x61C88647) >> 24
 *     server = table[bucket]             NULL when it is not usable
 *
 * fold() is the address itself for IPv4 and the XOR of the four words for IPv6.
 * The table is tiled in list order, each server taking `weight` consecutive
 * buckets before the next one (ip_vs_sh_reassign(): a server of weight 0 still
 * takes one bucket, and when the weights add up to more than 256 the servers at the
 * end of the list get none).  So the same key always goes to the same server while
 * the set of servers and their weights stay the same, and keys spread in
 * proportion to the weights.
 *
 * With ALBM_SVC_F_SCHED_FALLBACK ("sh-fallback") an unusable server does not refuse
 * the connection: as ip_vs_sh_get_fallback(), try the buckets
 * (offset + ihash + hash_32(key)) & 255 for offset = 0..255, where ihash is the
 * original bucket, and take the first usable server; without the flag an unusable
 * server means NULL ("no destination available").
 *
 * The table depends on the list and the weights only, so it is rebuilt lazily (on
 * the next pick) after an add, a removal or a weight change; flag changes (down,
 * overload) need no rebuild.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "sched/hash.h"
#include "sched/sched.h"

#define SH_TAB_BITS 8
#define SH_TAB_SIZE (1u << SH_TAB_BITS)
#define SH_TAB_MASK (SH_TAB_SIZE - 1)

struct sh_state {
	struct albm_dest *buckets[SH_TAB_SIZE];
	bool dirty; /* the list or a weight changed since the last fill */
};

static int sched_sh_init(struct albm_service *svc)
{
	struct sh_state *s = xcalloc(1, sizeof(*s));

	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_sh_done(struct albm_service *svc)
{
	free(svc->sched_data);
}

/* Tile the buckets with the servers in list order, `weight` buckets each. */
static void sched_sh_reassign(struct albm_service *svc, struct sh_state *s)
{
	size_t p = 0;
	int count = 0;

	for (unsigned i = 0; i < SH_TAB_SIZE; i++) {
		if (!svc->ndests) {
			s->buckets[i] = NULL;
			continue;
		}
		if (p == svc->ndests)
			p = 0;
		s->buckets[i] = svc->dests[p];
		/* don't move to the next server until this one has `weight` buckets */
		if (++count >= svc->dests[p]->weight) {
			p++;
			count = 0;
		}
	}
	s->dirty = false;
}

static int sched_sh_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct sh_state *s = svc->sched_data;

	dest->sched_priv = (void *)(uintptr_t)dest->weight;
	s->dirty = true;
	return 0;
}

static void sched_sh_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct sh_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
}

/* sched_priv holds the weight the table was tiled with. */
static void sched_sh_upd_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct sh_state *s = svc->sched_data;

	if ((uintptr_t)dest->sched_priv != (uintptr_t)dest->weight) {
		dest->sched_priv = (void *)(uintptr_t)dest->weight;
		s->dirty = true;
	}
}

static unsigned sh_hashkey(uint32_t key, unsigned offset)
{
	return (offset + albm_hash_32(key, SH_TAB_BITS)) & SH_TAB_MASK;
}

/* ip_vs_sh_get_fallback(): walk the table from the original bucket. */
static struct albm_dest *sched_sh_fallback(struct sh_state *s, uint32_t key, unsigned ihash)
{
	for (unsigned offset = 0; offset < SH_TAB_SIZE; offset++) {
		unsigned roffset = (offset + ihash) & SH_TAB_MASK;
		struct albm_dest *d = s->buckets[sh_hashkey(key, roffset)];

		if (!d)
			break;
		if (albm_dest_usable(d))
			return d;
	}
	return NULL;
}

static struct albm_dest *sched_sh_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct sh_state *s = svc->sched_data;
	uint32_t key = albm_hash_fold(flow->family, flow->saddr);
	unsigned ihash;
	struct albm_dest *d;

	if (s->dirty)
		sched_sh_reassign(svc, s);
	if (svc->flags & ALBM_SVC_F_SCHED_PORT)
		key += flow->sport;
	ihash = sh_hashkey(key, 0);
	d = s->buckets[ihash];
	if (d && !albm_dest_usable(d))
		d = (svc->flags & ALBM_SVC_F_SCHED_FALLBACK) ? sched_sh_fallback(s, key, ihash)
							     : NULL;
	if (!d)
		albm_sched_err(svc, "no destination available");
	return d;
}

const struct albm_sched_ops albm_sched_sh = {
	.name = "sh",
	.description = "source hashing: the client address picks the server (sh-port, sh-fallback)",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_HASH,
	.init_service = sched_sh_init,
	.done_service = sched_sh_done,
	.add_dest = sched_sh_add_dest,
	.del_dest = sched_sh_del_dest,
	.upd_dest = sched_sh_upd_dest,
	.schedule = sched_sh_schedule,
};
