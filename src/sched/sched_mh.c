/* ALBM: Maglev Hashing scheduler (IPVS ip_vs_mh.c semantics)
 *
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4) as IPVS's
 * ip_vs_mh.c implements it.  A lookup table of M slots, M prime (the kernel's
 * default CONFIG_IP_VS_MH_TAB_INDEX = 12 gives M = 4093; override with
 * -DALBM_MH_TAB_INDEX=8..17 for 251 .. 131071), is filled from one permutation of
 * the slots per server, derived from its address and port:
 *
 *     h(x, key)  = hsiphash(x, key)              (SipHash-1-3 on 64-bit)
 *     offset_i   = h(fold(addr_i) + port_i, K1) mod M
 *     skip_i     = h(fold(addr_i) + port_i, K2) mod (M - 1) + 1
 *     perm_i(j)  = (offset_i + j * skip_i) mod M
 *
 * with the kernel's fixed keys K1 = {2654435761, 2654435761} and
 * K2 = {2654446892, 2654446892}.  The servers take turns, in list order, each
 * claiming the next free slot of its own permutation until every slot is taken.
 * Weights: each server claims `turns` slots per round,
 *
 *     turns_i = ((last_weight_i / gcd) >> rshift) or 1 if that is 0 and lw_i > 0
 *     rshift  = max(0, fls(max_lw / gcd) - TAB_INDEX / 2)
 *
 * where gcd is the GCD of the positive last weights.  last_weight is the latest
 * non-zero weight (IPVS keeps it in __ip_vs_update_dest()), so quiescing a server
 * with weight 0 keeps the table: its keys then fail (or fall back) while all other
 * keys stay where they were.  A server that never had a weight gets no slot.
 *
 * A flow is looked up at slot h(fold(saddr) [+ sport with ALBM_SVC_F_SCHED_PORT,
 * "mh-port"], K1) mod M.  An unusable server gives NULL, unless
 * ALBM_SVC_F_SCHED_FALLBACK ("mh-fallback"): then, as ip_vs_mh_get_fallback(),
 * rehash with the offsets roffset = (ihash + o) mod M, o = 0..M-1, added to the
 * key, and take the first usable server.
 *
 * When a server of N leaves, only its slots (about M/N) and a few others change
 * owner, so about 1/N of the keys move.  The table is rebuilt lazily on the next
 * pick after the list or a last weight changes; a pick is one hash and one load.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/hash.h"
#include "sched/sched.h"

#ifndef ALBM_MH_TAB_INDEX
#define ALBM_MH_TAB_INDEX 12 /* the kernel's default CONFIG_IP_VS_MH_TAB_INDEX */
#endif
#if ALBM_MH_TAB_INDEX < 8 || ALBM_MH_TAB_INDEX > 17
#error "ALBM_MH_TAB_INDEX must be 8..17"
#endif

static const uint32_t mh_primes[] = {
	251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071
};

#define MH_TAB_BITS (ALBM_MH_TAB_INDEX / 2)
#define MH_TAB_SIZE (mh_primes[ALBM_MH_TAB_INDEX - 8])

static const struct albm_hsiphash_key mh_hash1 = { { 2654435761u, 2654435761u } };
static const struct albm_hsiphash_key mh_hash2 = { { 2654446892u, 2654446892u } };

struct mh_state {
	struct albm_dest **lookup; /* MH_TAB_SIZE slots */
	bool dirty;                /* the list or a last weight changed */
};

/* Per-server values while the table is filled (ip_vs_mh_dest_setup). */
struct mh_setup {
	uint32_t offset, skip, perm;
	int turns;
};

/* sched_priv holds the server's last non-zero weight (IPVS last_weight). */
static int mh_last_weight(const struct albm_dest *d)
{
	return (int)(uintptr_t)d->sched_priv;
}

static uint32_t mh_hashkey(uint32_t fold, uint16_t port, const struct albm_hsiphash_key *key,
			   uint32_t offset)
{
	return albm_hsiphash_u32(offset + port + fold, key);
}

static int sched_mh_init(struct albm_service *svc)
{
	struct mh_state *s = xcalloc(1, sizeof(*s));

	s->lookup = xcalloc(MH_TAB_SIZE, sizeof(*s->lookup));
	s->dirty = true;
	svc->sched_data = s;
	return 0;
}

static void sched_mh_done(struct albm_service *svc)
{
	struct mh_state *s = svc->sched_data;

	free(s->lookup);
	free(s);
}

static int mh_gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Compute every server's permutation and turns; returns false when no server
 * has a positive last weight (the table is then empty). */
static bool sched_mh_permutate(const struct albm_service *svc, struct mh_setup *ds)
{
	int g = 0, maxw = 0, rshift, fls;

	for (size_t i = 0; i < svc->ndests; i++) {
		int lw = mh_last_weight(svc->dests[i]);
		if (lw > 0) {
			g = g ? mh_gcd(lw, g) : lw;
			maxw = ALBM_MAX(maxw, lw);
		}
	}
	if (g < 1)
		return false;
	/* keep turns within TAB_BITS bits so that big weights don't flood the table */
	fls = 32 - __builtin_clz((unsigned)(maxw / g));
	rshift = ALBM_MAX(fls - MH_TAB_BITS, 0);
	for (size_t i = 0; i < svc->ndests; i++) {
		const struct albm_dest *d = svc->dests[i];
		uint32_t fold = albm_hash_fold_sockaddr(&d->addr);
		uint16_t port = (uint16_t)albm_addr_port(&d->addr);
		int lw = mh_last_weight(d);

		ds[i].offset = mh_hashkey(fold, port, &mh_hash1, 0) % MH_TAB_SIZE;
		ds[i].skip = mh_hashkey(fold, port, &mh_hash2, 0) % (MH_TAB_SIZE - 1) + 1;
		ds[i].perm = ds[i].offset;
		ds[i].turns = (lw / g) >> rshift;
		if (!ds[i].turns)
			ds[i].turns = lw > 0;
	}
	return true;
}

/* The servers take turns claiming the next free slot of their permutation. */
static void sched_mh_populate(const struct albm_service *svc, struct mh_state *s,
			      struct mh_setup *ds)
{
	uint8_t *taken = xcalloc(MH_TAB_SIZE, 1);
	uint32_t n = 0;

	while (n < MH_TAB_SIZE) {
		for (size_t i = 0; i < svc->ndests && n < MH_TAB_SIZE; i++) {
			for (int t = 0; t < ds[i].turns && n < MH_TAB_SIZE; t++) {
				while (taken[ds[i].perm]) {
					ds[i].perm += ds[i].skip;
					if (ds[i].perm >= MH_TAB_SIZE)
						ds[i].perm -= MH_TAB_SIZE;
				}
				taken[ds[i].perm] = 1;
				s->lookup[ds[i].perm] = svc->dests[i];
				n++;
			}
		}
	}
	free(taken);
}

static void sched_mh_reassign(struct albm_service *svc, struct mh_state *s)
{
	struct mh_setup *ds = xcalloc(svc->ndests ? svc->ndests : 1, sizeof(*ds));

	if (sched_mh_permutate(svc, ds))
		sched_mh_populate(svc, s, ds);
	else
		memset(s->lookup, 0, MH_TAB_SIZE * sizeof(*s->lookup));
	free(ds);
	s->dirty = false;
}

static int sched_mh_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct mh_state *s = svc->sched_data;

	if (svc->ndests > MH_TAB_SIZE)
		return -E2BIG; /* more servers than slots: ip_vs_mh_reassign()'s -EINVAL */
	dest->sched_priv = (void *)(uintptr_t)dest->weight;
	s->dirty = true;
	return 0;
}

static void sched_mh_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct mh_state *s = svc->sched_data;

	(void)dest;
	s->dirty = true;
}

/* Only a new non-zero weight changes the table (weight 0 quiesces). */
static void sched_mh_upd_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct mh_state *s = svc->sched_data;

	if (dest->weight != 0 && dest->weight != mh_last_weight(dest)) {
		dest->sched_priv = (void *)(uintptr_t)dest->weight;
		s->dirty = true;
	}
}

/* ip_vs_mh_get_fallback(): rehash with growing offsets until a usable server. */
static struct albm_dest *sched_mh_fallback(struct mh_state *s, uint32_t fold, uint16_t port,
					   uint32_t ihash)
{
	for (uint32_t offset = 0; offset < MH_TAB_SIZE; offset++) {
		uint32_t roffset = (offset + ihash) % MH_TAB_SIZE;
		struct albm_dest *d =
			s->lookup[mh_hashkey(fold, port, &mh_hash1, roffset) % MH_TAB_SIZE];

		if (!d)
			break;
		if (albm_dest_usable(d))
			return d;
	}
	return NULL;
}

static struct albm_dest *sched_mh_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct mh_state *s = svc->sched_data;
	uint32_t fold = albm_hash_fold(flow->family, flow->saddr), ihash;
	uint16_t port = (svc->flags & ALBM_SVC_F_SCHED_PORT) ? flow->sport : 0;
	struct albm_dest *d;

	if (s->dirty)
		sched_mh_reassign(svc, s);
	ihash = mh_hashkey(fold, port, &mh_hash1, 0) % MH_TAB_SIZE;
	d = s->lookup[ihash];
	if (d && !albm_dest_usable(d))
		d = (svc->flags & ALBM_SVC_F_SCHED_FALLBACK)
			    ? sched_mh_fallback(s, fold, port, ihash)
			    : NULL;
	if (!d)
		albm_sched_err(svc, "no destination available");
	return d;
}

const struct albm_sched_ops albm_sched_mh = {
	.name = "mh",
	.description = "Maglev hashing: consistent source hashing (mh-port, mh-fallback)",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_HASH,
	.init_service = sched_mh_init,
	.done_service = sched_mh_done,
	.add_dest = sched_mh_add_dest,
	.del_dest = sched_mh_del_dest,
	.upd_dest = sched_mh_upd_dest,
	.schedule = sched_mh_schedule,
};
