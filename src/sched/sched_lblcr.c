/* ALBM: Locality-Based Least-Connection with Replication scheduler (IPVS ip_vs_lblcr.c)
 *
 * As lblc, but a destination address maps to a set of servers, so a popular
 * address can be served by several caches.  As in ip_vs_lblcr.c:
 *
 *     if set[daddr] is none
 *         n <- weighted least-connection server; set[daddr] <- {n}
 *     else
 *         n <- weighted least-connection usable server within set[daddr]
 *         if |set| > 1 and now > set.lastmod + T
 *             remove the weighted most-connection server from the set
 *         if n is none, or (n.activeconns > n.weight and some server m has
 *            m.activeconns * 2 < m.weight)
 *             n <- weighted least-connection server; add n to the set
 *     a change of the set sets set.lastmod <- now
 *     return n
 *
 * T is the expiration (24 hours, IPVS's lblcr_expiration default), which also
 * expires entries unused that long.  "Weighted least-connection" over all servers
 * is wlc's rule kept in a lazily re-sorted min-heap, and the overload rule is O(1)
 * (see lbl.h).  Within a set the scan is linear, as in the kernel: sets stay small
 * (a server joins only when the others are overloaded, and one leaves every T).
 * The scan visits the newest member first (IPVS adds members at the head of the
 * list), so ties go to the most recently added.  The table is capped at 16384
 * entries (LRU eviction); a removed server leaves every set at once.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sched/lbl.h"
#include "sched/sched.h"

struct lblcr_entry {
	struct albm_lbl_entry base; /* first: the table hands it back */
	struct albm_dest **set;     /* members, oldest first */
	uint32_t n, cap;
	uint64_t lastmod; /* svc clock, ms: when the set last changed */
};

struct lblcr_state {
	struct albm_lbl_table tbl;
	struct albm_lbl_load load;
};

static void lblcr_free_entry(struct albm_lbl_entry *e)
{
	free(((struct lblcr_entry *)e)->set);
	free(e);
}

static int sched_lblcr_init(struct albm_service *svc)
{
	struct lblcr_state *s = xcalloc(1, sizeof(*s));

	albm_lbl_table_init(&s->tbl, ALBM_LBL_MAX_ENTRIES, ALBM_LBL_EXPIRE_MS, lblcr_free_entry);
	albm_lbl_load_init(&s->load);
	svc->sched_data = s;
	return 0;
}

static void sched_lblcr_done(struct albm_service *svc)
{
	struct lblcr_state *s = svc->sched_data;

	albm_lbl_table_free(&s->tbl);
	albm_lbl_load_free(&s->load, svc);
	free(s);
}

/* ---- the server set of one entry (ip_vs_dest_set) ---- */

static void lblcr_set_insert(struct lblcr_entry *en, struct albm_dest *d, uint64_t now)
{
	for (uint32_t i = 0; i < en->n; i++)
		if (en->set[i] == d)
			return;
	if (en->n == en->cap) {
		en->cap = en->cap ? en->cap * 2 : 2;
		en->set = xrealloc(en->set, en->cap * sizeof(*en->set));
	}
	en->set[en->n++] = d;
	en->lastmod = now;
}

/* Remove d if it is a member; returns whether it was. */
static bool lblcr_set_erase(struct lblcr_entry *en, struct albm_dest *d)
{
	for (uint32_t i = 0; i < en->n; i++) {
		if (en->set[i] == d) {
			memmove(&en->set[i], &en->set[i + 1], (en->n - i - 1) * sizeof(*en->set));
			en->n--;
			return true;
		}
	}
	return false;
}

/* Weighted least-connection usable member, newest first on ties; NULL if none. */
static struct albm_dest *lblcr_set_min(const struct lblcr_entry *en)
{
	struct albm_dest *least = NULL;

	for (uint32_t i = en->n; i-- > 0;) {
		struct albm_dest *d = en->set[i];
		if (!albm_dest_usable(d))
			continue;
		if (!least || albm_dest_overhead(least) * (uint64_t)d->weight >
				      albm_dest_overhead(d) * (uint64_t)least->weight)
			least = d;
	}
	return least;
}

/* Weighted most-connection member with weight > 0 (up or not), newest first on
 * ties; NULL if none. */
static struct albm_dest *lblcr_set_max(const struct lblcr_entry *en)
{
	struct albm_dest *most = NULL;

	for (uint32_t i = en->n; i-- > 0;) {
		struct albm_dest *d = en->set[i];
		if (d->weight <= 0)
			continue;
		if (!most || albm_dest_overhead(most) * (uint64_t)d->weight <
				     albm_dest_overhead(d) * (uint64_t)most->weight)
			most = d;
	}
	return most;
}

/* ---- hooks ---- */

static int sched_lblcr_add_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblcr_state *s = svc->sched_data;

	albm_lbl_load_add(&s->load, dest);
	return 0;
}

static void sched_lblcr_del_dest(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblcr_state *s = svc->sched_data;
	struct albm_lbl_entry *e, *tmp;

	albm_lbl_load_remove(&s->load, dest);
	albm_lbl_foreach(&s->tbl, e, tmp) lblcr_set_erase((struct lblcr_entry *)e, dest);
}

/* Weight, flags or connection counts changed. */
static void sched_lblcr_update(struct albm_service *svc, struct albm_dest *dest)
{
	struct lblcr_state *s = svc->sched_data;

	albm_lbl_load_update(&s->load, dest);
}

static void sched_lblcr_tick(struct albm_service *svc)
{
	struct lblcr_state *s = svc->sched_data;

	albm_lbl_expire(&s->tbl, albm_svc_now(svc));
}

/* An existing entry: its best member, after shrinking a set left alone for T. */
static struct albm_dest *lblcr_from_set(struct lblcr_state *s, struct lblcr_entry *en, uint64_t now)
{
	struct albm_dest *d = lblcr_set_min(en);

	if (en->n > 1 && now > en->lastmod + s->tbl.expire_ms) {
		struct albm_dest *m = lblcr_set_max(en);
		if (m && lblcr_set_erase(en, m))
			en->lastmod = now;
	}
	return d && !albm_lbl_overloaded(&s->load, d) ? d : NULL;
}

static struct albm_dest *sched_lblcr_schedule(struct albm_service *svc,
					      const struct albm_flow *flow)
{
	struct lblcr_state *s = svc->sched_data;
	uint64_t now = albm_svc_now(svc);
	struct lblcr_entry *en = (struct lblcr_entry *)albm_lbl_get(&s->tbl, flow, now);
	struct albm_dest *d = en ? lblcr_from_set(s, en, now) : NULL;

	if (d)
		return d;
	/* no entry, or no member fit to serve: add the least loaded server */
	d = albm_lbl_least(&s->load);
	if (!d) {
		albm_sched_err(svc, "no destination available");
		return NULL;
	}
	if (!en) {
		en = xcalloc(1, sizeof(*en));
		albm_lbl_insert(&s->tbl, &en->base, flow, now);
	}
	lblcr_set_insert(en, d, now);
	return d;
}

const struct albm_sched_ops albm_sched_lblcr = {
	.name = "lblcr",
	.description = "locality-based least-connection with replication: a server set per address",
	.flags = ALBM_SCHED_F_WEIGHTED | ALBM_SCHED_F_CONNS,
	.init_service = sched_lblcr_init,
	.done_service = sched_lblcr_done,
	.add_dest = sched_lblcr_add_dest,
	.del_dest = sched_lblcr_del_dest,
	.upd_dest = sched_lblcr_update,
	.schedule = sched_lblcr_schedule,
	.conn_changed = sched_lblcr_update,
	.tick = sched_lblcr_tick,
};
