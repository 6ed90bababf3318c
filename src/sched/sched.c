/* ALBM: scheduler registry and the service/destination bookkeeping around it */
#define LOG_COMPONENT "sched"
#include "sched/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Every scheduler, in the order --list-schedulers prints them.  Adding a scheduler
 * is one file in src/sched/ and one line here. */
extern const struct albm_sched_ops albm_sched_rr, albm_sched_wrr, albm_sched_lc, albm_sched_wlc,
	albm_sched_sed, albm_sched_nq, albm_sched_sh, albm_sched_dh, albm_sched_mh, albm_sched_lblc,
	albm_sched_lblcr, albm_sched_fo, albm_sched_ovf, albm_sched_twos, albm_sched_albm,
	albm_sched_orca, albm_sched_prequal, albm_sched_lr;

static const struct albm_sched_ops *const sched_table[] = {
	&albm_sched_rr,    &albm_sched_wrr,     &albm_sched_lc,  &albm_sched_wlc,  &albm_sched_sed,
	&albm_sched_nq,    &albm_sched_sh,      &albm_sched_dh,  &albm_sched_mh,   &albm_sched_lblc,
	&albm_sched_lblcr, &albm_sched_fo,      &albm_sched_ovf, &albm_sched_twos, &albm_sched_albm,
	&albm_sched_orca,  &albm_sched_prequal, &albm_sched_lr,
};

/* A table searched after the built-in one (albm_sched_set_extra): tests register
 * their own schedulers here. */
static const struct albm_sched_ops *const *sched_extra;
static size_t sched_nextra;

void albm_sched_set_extra(const struct albm_sched_ops *const *ops, size_t n)
{
	sched_extra = ops;
	sched_nextra = ops ? n : 0;
}

size_t albm_sched_count(void)
{
	return ARRAY_SIZE(sched_table) + sched_nextra;
}

const struct albm_sched_ops *albm_sched_at(size_t i)
{
	if (i < ARRAY_SIZE(sched_table))
		return sched_table[i];
	i -= ARRAY_SIZE(sched_table);
	return i < sched_nextra ? sched_extra[i] : NULL;
}

const struct albm_sched_ops *albm_sched_find(const char *name)
{
	const struct albm_sched_ops *ops;

	for (size_t i = 0; (ops = albm_sched_at(i)); i++)
		if (!strcmp(ops->name, name))
			return ops;
	return NULL;
}

/* ---- clock and randomness ---- */

static uint64_t default_clock(void *arg)
{
	(void)arg;
	return albm_now_ms();
}

void albm_svc_set_clock(struct albm_service *svc, uint64_t (*clock)(void *), void *arg)
{
	svc->clock = clock ? clock : default_clock;
	svc->clock_arg = arg;
}

uint64_t albm_svc_now(const struct albm_service *svc)
{
	return svc->clock(svc->clock_arg);
}

void albm_svc_seed(struct albm_service *svc, uint64_t seed)
{
	/* splitmix64 of the seed, so that small seeds give well-mixed states */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	svc->rng_state = z ? z : 0x2545f4914f6cdd1dull;
}

/* xorshift64*: fast, good enough for choosing servers, never returns the same
 * sequence for different seeds. */
uint64_t albm_svc_rand(struct albm_service *svc)
{
	uint64_t x = svc->rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	svc->rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- service lifecycle ---- */

void albm_svc_init(struct albm_service *svc, const char *name)
{
	memset(svc, 0, sizeof(*svc));
	snprintf(svc->name, sizeof(svc->name), "%s", name ? name : "");
	svc->clock = default_clock;
	albm_svc_seed(svc, albm_now_ns() ^ (uint64_t)(uintptr_t)svc);
	svc->adaptive.report_timeout_ms = 1000;
	svc->adaptive.slow_start_ms = 5000;
	svc->adaptive.slow_start_aggression = 1.0;
	svc->adaptive.slow_start_min = 0.5; /* docs/schedulers.md: albm defaults */
	svc->adaptive.rise_alpha = 0.3;
	svc->adaptive.all_overloaded_policy = ALBM_ALL_OVL_QUEUE;
	svc->adaptive.mem_reserve = 0.20;
	/* the peers' published defaults (docs/schedulers.md) */
	svc->orca = (struct albm_orca_params){ .blackout_ms = 10000,
					       .expiration_ms = 180000,
					       .update_ms = 1000,
					       .error_penalty = 1.0 };
	svc->prequal = (struct albm_prequal_params){ .q_rif = 0.84,
						     .pool = 16,
						     .latency_max_age_ms = 2000 };
	svc->lr = (struct albm_lr_params){ .choice_count = 2, .active_request_bias = 1.0 };
}

static void svc_unbind(struct albm_service *svc)
{
	if (svc->sched && svc->sched->done_service)
		svc->sched->done_service(svc);
	svc->sched = NULL;
	svc->sched_data = NULL;
	for (size_t i = 0; i < svc->ndests; i++) {
		svc->dests[i]->heap_pos[0] = svc->dests[i]->heap_pos[1] = -1;
		svc->dests[i]->sched_priv = NULL;
	}
}

void albm_svc_destroy(struct albm_service *svc)
{
	svc_unbind(svc);
	for (size_t i = 0; i < svc->ndests; i++)
		free(svc->dests[i]);
	free(svc->dests);
	svc->dests = NULL;
	svc->ndests = svc->cap = 0;
}

int albm_svc_bind(struct albm_service *svc, const struct albm_sched_ops *ops)
{
	int rc;

	svc_unbind(svc);
	svc->sched = ops;
	if (ops->init_service && (rc = ops->init_service(svc)) < 0) {
		svc->sched = NULL;
		return rc;
	}
	for (size_t i = 0; i < svc->ndests; i++) {
		if (ops->add_dest && (rc = ops->add_dest(svc, svc->dests[i])) < 0) {
			svc_unbind(svc);
			return rc;
		}
	}
	return 0;
}

int albm_svc_bind_name(struct albm_service *svc, const char *name)
{
	const struct albm_sched_ops *ops = albm_sched_find(name);

	if (!ops)
		return -ENOENT;
	return albm_svc_bind(svc, ops);
}

/* ---- destinations ---- */

struct albm_dest *albm_svc_find_dest(const struct albm_service *svc, const char *name)
{
	for (size_t i = 0; i < svc->ndests; i++)
		if (!strcmp(svc->dests[i]->name, name))
			return svc->dests[i];
	return NULL;
}

struct albm_dest *albm_svc_add_dest(struct albm_service *svc, const char *name,
				    const struct albm_addr *addr, int weight, char *err,
				    size_t errlen)
{
	struct albm_dest *d;

	if (!name || !*name || strlen(name) >= ALBM_NAME_MAX) {
		albm_seterr(err, errlen, "bad server name (1-%d characters)", ALBM_NAME_MAX - 1);
		return NULL;
	}
	if (albm_svc_find_dest(svc, name)) {
		albm_seterr(err, errlen, "server '%s' already exists in service '%s'", name,
			    svc->name);
		return NULL;
	}
	if (weight < 0 || weight > 65535) {
		albm_seterr(err, errlen, "bad weight %d for server '%s' (0-65535)", weight, name);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (addr)
		d->addr = *addr;
	d->weight = weight;
	d->eff_weight = weight;
	d->flags = ALBM_DEST_F_AVAILABLE;
	d->seq = svc->next_seq++;
	d->heap_pos[0] = d->heap_pos[1] = -1;
	if (svc->ndests == svc->cap) {
		svc->cap = svc->cap ? svc->cap * 2 : 8;
		svc->dests = xrealloc(svc->dests, svc->cap * sizeof(*svc->dests));
	}
	d->idx = svc->ndests;
	svc->dests[svc->ndests++] = d;
	if (svc->sched && svc->sched->add_dest && svc->sched->add_dest(svc, d) < 0) {
		svc->ndests--;
		free(d);
		albm_seterr(err, errlen, "scheduler %s could not add server '%s'", svc->sched->name,
			    name);
		return NULL;
	}
	return d;
}

void albm_svc_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	size_t i = dest->idx;

	if (svc->sched && svc->sched->del_dest)
		svc->sched->del_dest(svc, dest);
	/* keep list order: shift the tail down (IPVS list_del keeps the order too) */
	memmove(&svc->dests[i], &svc->dests[i + 1], (svc->ndests - i - 1) * sizeof(*svc->dests));
	svc->ndests--;
	for (; i < svc->ndests; i++)
		svc->dests[i]->idx = i;
	free(dest);
}

static void dest_changed(struct albm_service *svc, struct albm_dest *dest)
{
	if (svc->sched && svc->sched->upd_dest)
		svc->sched->upd_dest(svc, dest);
}

void albm_svc_set_weight(struct albm_service *svc, struct albm_dest *dest, int weight)
{
	if (weight < 0)
		weight = 0;
	dest->weight = weight;
	dest_changed(svc, dest);
}

void albm_svc_set_flags(struct albm_service *svc, struct albm_dest *dest, uint32_t set,
			uint32_t clear)
{
	uint32_t old = dest->flags;

	dest->flags = (dest->flags | set) & ~clear;
	if (dest->flags != old)
		dest_changed(svc, dest);
}

void albm_svc_set_thresholds(struct albm_service *svc, struct albm_dest *dest, uint32_t upper,
			     uint32_t lower)
{
	dest->u_threshold = upper;
	dest->l_threshold = lower;
	albm_dest_update_overload(dest);
	dest_changed(svc, dest);
}

/* ---- data path ---- */

struct albm_dest *albm_svc_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct albm_dest *d = NULL;

	if (svc->sched)
		d = svc->sched->schedule(svc, flow);
	if (d)
		svc->picks++;
	else
		svc->no_dest++;
	return d;
}

bool albm_svc_may_wait(const struct albm_service *svc)
{
	return !(svc->sched && (svc->sched->flags & ALBM_SCHED_F_ADAPTIVE) &&
		 svc->adaptive.all_overloaded_policy == ALBM_ALL_OVL_REFUSE);
}

struct albm_dest *albm_svc_overflow(struct albm_service *svc)
{
	struct albm_dest *d = NULL;

	if (svc->sched && svc->sched->overflow)
		d = svc->sched->overflow(svc);
	if (d)
		svc->picks++;
	return d;
}

static void conns_changed(struct albm_service *svc, struct albm_dest *dest)
{
	if (albm_dest_update_overload(dest))
		dest_changed(svc, dest);
	if (svc->sched && svc->sched->conn_changed)
		svc->sched->conn_changed(svc, dest);
}

void albm_svc_conn_open(struct albm_service *svc, struct albm_dest *dest, bool active)
{
	if (active)
		dest->activeconns++;
	else
		dest->inactconns++;
	dest->total_conns++;
	conns_changed(svc, dest);
}

void albm_svc_conn_set_active(struct albm_service *svc, struct albm_dest *dest, bool active)
{
	if (active && dest->inactconns) {
		dest->inactconns--;
		dest->activeconns++;
	} else if (!active && dest->activeconns) {
		dest->activeconns--;
		dest->inactconns++;
	} else {
		return;
	}
	conns_changed(svc, dest);
}

void albm_svc_conn_close(struct albm_service *svc, struct albm_dest *dest, bool active)
{
	if (active && dest->activeconns)
		dest->activeconns--;
	else if (!active && dest->inactconns)
		dest->inactconns--;
	conns_changed(svc, dest);
}

void albm_svc_report(struct albm_service *svc, struct albm_dest *dest, const struct albm_metrics *m)
{
	uint32_t old = dest->flags;

	dest->report = m;
	dest->report_ms = m ? albm_svc_now(svc) : 0;
	if (m && m->state == ALBM_AGENT_OVERLOADED)
		dest->flags |= ALBM_DEST_F_AGENT_OVL;
	else
		dest->flags &= ~ALBM_DEST_F_AGENT_OVL;
	if (svc->sched && svc->sched->report)
		svc->sched->report(svc, dest);
	if (dest->flags != old)
		dest_changed(svc, dest);
}

void albm_svc_tick(struct albm_service *svc)
{
	if (svc->sched && svc->sched->tick)
		svc->sched->tick(svc);
}

void albm_sched_err(const struct albm_service *svc, const char *msg)
{
	LOG_RL(ALBM_LOG_WARN, "%s: service '%s': %s", svc->sched ? svc->sched->name : "?",
	       svc->name, msg);
}

void albm_flow_from_addrs(struct albm_flow *flow, const struct albm_addr *client,
			  const struct albm_addr *vip)
{
	memset(flow, 0, sizeof(*flow));
	flow->proto = 6; /* IPPROTO_TCP */
	flow->family = (uint8_t)albm_addr_family(client);
	if (flow->family == AF_INET6) {
		memcpy(flow->saddr, &client->u.sin6.sin6_addr, 16);
		if (vip && albm_addr_family(vip) == AF_INET6)
			memcpy(flow->daddr, &vip->u.sin6.sin6_addr, 16);
	} else {
		memcpy(flow->saddr, &client->u.sin.sin_addr, 4);
		if (vip && albm_addr_family(vip) == AF_INET)
			memcpy(flow->daddr, &vip->u.sin.sin_addr, 4);
	}
	flow->sport = (uint16_t)albm_addr_port(client);
	flow->dport = vip ? (uint16_t)albm_addr_port(vip) : 0;
}
