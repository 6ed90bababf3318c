/* ALBM: Locality-Based Least-Connection scheduler (IPVS ip_vs_lblc.c semantics)
 *
 * For caches: requests for the same destination address go to the same server as
 * long as it is not overloaded.  As in ip_vs_lblc.c:
 *
 *     n <- cache[daddr]
 *     if n is none, or n is not usable, or
 *        (n.activeconns > n.weight and some server m has m.activeconns * 2 < m.weight)
 *         n <- weighted least-connection server; cache[daddr] <- n
 *     return n
 *
 * "Weighted least-connection" is wlc's rule over the usable servers: least
 * (activeconns * 256 + inactconns) / weight, ties to the first in list order
 * (__ip_vs_lblc_schedule()); here a lazily re-sorted min-heap keeps it instead of
 * IPVS's O(n) scan (a connection change costs O(1), a new entry O(log n) per
 * server changed since the last one), and a counter of the servers below half
 * their weight makes the overload rule O(1) (see lbl.h).
 *
 * Entries expire after 24 hours without use (IPVS's lblc_expiration default);
 * expiry is lazy plus the tick hook, and the table is capped at 16384 entries,
 * the least recently used being evicted (IPVS: IP_VS_LBLC_TAB_SIZE * 16).  A
 * removed server's entries are dropped at once.
 */
#include <stdlib.h>

#include "common/util.h"
#include "sched/lbl.h"
#include "sched/sched.h"

struct lblc_entry {
	struct albm_lbl_entry base; /* first: the table hands it back */
	struct albm_dest *dest;
};

struct lblc_state {
	struct albm_lbl_table tbl;
	struct albm_lbl_load load;
};

static void lblc_free_entry(struct albm_lbl_entry *e)
{
	free(e);
}

static int sched_lblc_init(struct albm_service *svc)
{
	struct lblc_state *s = xcalloc(1, sizeof(*s));

	albm_lbl_table_init(&s->tbl, ALBM_LBL_MAX_ENTRIES, ALBM_LBL_EXPIRE_MS, lblc_free_entry);
	albm_lbl_load_init(&s->load);
	svc->sched_data = s;
	return 0;
}

static void sched_lblc_done(struct albm_service *svc)
{
	struct lblc_state *s = svc->sched_data;

	albm_lbl_table_free(&s->tbl);
	albm_lbl_load_free(&s->load, svc);
	free(s);
}

static int sched_lblc_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblc_state *s = svc->sched_data;

	albm_lbl_load_add(&s->load, dest);
	return 0;
}

/* Forget the server everywhere: the heap, and every entry that points to it. */
static void sched_lblc_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblc_state *s = svc->sched_data;
	struct albm_lbl_entry *e, *tmp;

	albm_lbl_load_remove(&s->load, dest);
	albm_lbl_foreach(&s->tbl, e, tmp) if (((struct lblc_entry *)e)->dest == dest)
		albm_lbl_del(&s->tbl, e);
}

/* Weight, flags or connection counts changed. */
static void sched_lblc_update(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblc_state *s = svc->sched_data;

	albm_lbl_load_update(&s->load, dest);
}

static void sched_lblc_tick(struct albm_service *svc)
{
	struct lblc_state *s = svc->sched_data;

	albm_lbl_expire(&s->tbl, albm_svc_now(svc));
}

static struct albm_dest *sched_lblc_schedule(struct albm_service *svc, const struct albm_flow *flow)
{
	struct lblc_state *s = svc->sched_data;
	uint64_t now = albm_svc_now(svc);
	struct lblc_entry *en = (struct lblc_entry *)albm_lbl_get(&s->tbl, flow, now);
	struct albm_dest *d;

	if (en && albm_dest_usable(en->dest) && !albm_lbl_overloaded(&s->load, en->dest))
		return en->dest;
	/* no entry, or its server is down or overloaded: time to schedule */
	d = albm_lbl_least(&s->load);
	if (!d) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	if (!en) {
		en = xmalloc(sizeof(*en));
		albm_lbl_insert(&s->tbl, &en->base, flow, now);
	}
	en->dest = d;
	return d;
}

const struct albm_sched_ops albm_sched_lblc = {
	.name = "lblc",
	.description = "locality-based least-connection: one server per destination address",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_lblc_init,
	.done_service = sched_lblc_done,
	.add_dest = sched_lblc_add_dest,
	.del_dest = sched_lblc_del_dest,
	.upd_dest = sched_lblc_update,
	.schedule = sched_lblc_schedule,
	.conn_changed = sched_lblc_update,
	.tick = sched_lblc_tick,
};
