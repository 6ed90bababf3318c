/* ALBM: proxy connections as objects — allocation, pool, admission, servers, reaping
 *
 * A connection object lives on its worker's live list from accept to close, then on
 * the dead list until the end of the event batch (its evl_io may still be in the
 * batch), when conn_reap() recycles it into the worker's pool.  A dead connection's
 * server goes back to the scheduler in the next lock section of the worker: the
 * admission of the next accepted clients, or the end of the batch, so that one
 * service lock covers the closes and the opens of a batch, and a pick never sees a
 * server taken by a connection that has already closed.  This file owns the
 * objects: it alone allocates and frees them.  The scheduler is only touched under the
 * connection's service lock (daemon.h); counters are relaxed atomics.
 */
#define LOG_COMPONENT "proxy"
#include "distributor/proxy/conn.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy/fastpath.h"
#include "distributor/service.h"

#define CONN_POOL_MAX 1024 /* recycled connection objects kept per worker */

/* ---- allocation and the pool ---- */

struct albmd_conn *conn_alloc(struct albmd_pworker *pw)
{
	struct albmd_conn *c = pw->free_conns;

	if (c) {
		pw->free_conns = c->next_free;
		pw->nfree--;
	} else {
		c = xmalloc(sizeof(*c));
	}
	memset(c, 0, sizeof(*c));
	c->pw = pw;
	for (int i = 0; i < 2; i++) {
		c->end[i].io.fd = -1;
		c->end[i].c = c;
		c->end[i].side = i;
		c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
	}
	c->next = pw->conns;
	if (pw->conns)
		pw->conns->prev = c;
	pw->conns = c;
	pw->nconns++;
	ALBMD_STAT_ADD(pw->d->st.conns_current, 1);
	ALBMD_STAT_ADD(pw->d->st.conns_total, 1);
	return c;
}

void conn_bury(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;

	c->state = CONN_CLOSED;
	if (c->prev)
		c->prev->next = c->next;
	else
		pw->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pw->nconns--;
	c->dead_next = pw->dead;
	pw->dead = c;
	/* the limits (maxconn) see the close at once; the scheduler when the server is back */
	if (c->svc)
		ALBMD_STAT_SUB(c->svc->st.conns_active, 1);
	ALBMD_STAT_SUB(pw->d->st.conns_current, 1);
}

/* Release the servers of the dead connections of svc, or of every service but
 * `except`; the caller holds svc's lock when svc is given. */
static void release_dead_of(struct albmd_pworker *pw, struct albmd_service *svc,
			    struct albmd_service *except)
{
	struct albmd_service *locked = NULL;

	for (struct albmd_conn *c = pw->dead; c; c = c->dead_next) {
		if (!c->srv || (svc && c->svc != svc) || (except && c->svc == except))
			continue;
		if (!svc && locked != c->svc) {
			if (locked)
				albmd_service_unlock(locked);
			locked = c->svc;
			albmd_service_lock(locked);
		}
		conn_release_server(c);
	}
	if (locked)
		albmd_service_unlock(locked);
}

void conn_release_dead(struct albmd_pworker *pw, struct albmd_service *keep)
{
	if (pw->dead)
		release_dead_of(pw, NULL, keep);
	if (!keep)
		return;
	albmd_service_lock(keep);
	if (pw->dead)
		release_dead_of(pw, keep, NULL);
}

static void conn_recycle(struct albmd_pworker *pw, struct albmd_conn *c)
{
	if (pw->nfree < CONN_POOL_MAX) {
		c->next_free = pw->free_conns;
		pw->free_conns = c;
		pw->nfree++;
	} else {
		free(c);
	}
}

void conn_reap(struct albmd_pworker *pw)
{
	struct albmd_conn *c, *list;

	conn_release_dead(pw, NULL);
	list = pw->dead;
	pw->dead = NULL;
	while (list) {
		c = list;
		list = c->dead_next;
		if (c->svc) {
			conn_flush_stats(c);
			albmd_service_unref(c->svc);
		}
		conn_recycle(pw, c);
	}
}

void conn_pool_free(struct albmd_pworker *pw)
{
	conn_reap(pw);
	while (pw->free_conns) {
		struct albmd_conn *c = pw->free_conns;
		pw->free_conns = c->next_free;
		free(c);
	}
	pw->nfree = 0;
}

/* ---- statistics: per-connection counters are added up without the lock ---- */

void conn_flush_stats(struct albmd_conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct conn_dir *dr = &c->dir[i];
		uint64_t delta = dr->bytes - dr->flushed;
		if (!delta)
			continue;
		dr->flushed = dr->bytes;
		if (c->srv)
			ALBMD_STAT_ADD(*(i == 0 ? &c->srv->st.bytes_in : &c->srv->st.bytes_out),
				       delta);
		ALBMD_STAT_ADD(*(i == 0 ? &c->svc->st.bytes_in : &c->svc->st.bytes_out), delta);
	}
}

/* ---- scheduling (the service lock held) ---- */

static bool conn_tried(const struct albmd_conn *c, const struct albmd_server *srv)
{
	for (unsigned i = 0; i < c->ntried; i++)
		if (c->tried[i] == srv)
			return true;
	return false;
}

/* Open dest in the scheduler for c: its server, referenced. */
static struct albmd_server *conn_take(struct albmd_conn *c, struct albm_dest *dest)
{
	struct albmd_service *svc = c->svc;

	albm_svc_conn_open(&svc->sched, dest, true);
	struct albmd_server *srv = albmd_dest_server(dest);
	albmd_server_ref(srv);
	ALBMD_STAT_ADD(srv->st.picks, 1);
	ALBMD_STAT_ADD(srv->st.conns_active, 1);
	if (c->ntried < ALBMD_CONN_MAX_TRIED)
		c->tried[c->ntried++] = srv;
	return srv;
}

struct albmd_server *conn_pick(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;
	struct albm_flow flow;
	struct albm_dest *dest = NULL;
	struct albm_addr vip = svc->cfg.listen;

	albm_flow_from_addrs(&flow, &c->peer, &vip);
	for (int k = 0; k < 4; k++) {
		dest = albm_svc_schedule(&svc->sched, &flow);
		if (!dest || !conn_tried(c, albmd_dest_server(dest)))
			break;
	}
	return dest ? conn_take(c, dest) : NULL;
}

struct albmd_server *conn_overflow(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;
	struct albm_dest *dest;

	if (svc->removed || svc->cfg.queue_overflow != ALBMD_QOVF_LEAST_LOADED ||
	    !(dest = albm_svc_overflow(&svc->sched)))
		return NULL;
	ALBMD_STAT_ADD(svc->st.queue_overflows, 1);
	return conn_take(c, dest);
}

void conn_release_server(struct albmd_conn *c)
{
	struct albmd_server *srv = c->srv;

	if (!srv)
		return;
	conn_flush_stats(c);
	if (srv->dest)
		albm_svc_conn_close(&srv->svc->sched, srv->dest, true);
	ALBMD_STAT_SUB(srv->st.conns_active, 1);
	c->srv = NULL;
	albmd_server_unref(srv);
	c->pw->released = true; /* queued clients may take it (after the batch) */
}

bool conn_svc_has_live_server(const struct albmd_service *svc)
{
	for (size_t i = 0; i < svc->sched.ndests; i++)
		if (albm_dest_live(svc->sched.dests[i]))
			return true;
	return false;
}

bool conn_may_queue(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;

	if (svc->removed || !conn_svc_has_live_server(svc) || !albm_svc_may_wait(&svc->sched)) {
		ALBMD_STAT_ADD(svc->st.no_server, 1);
		c->refusal = 'S';
		return false;
	}
	/* a bound of 0 (queue-timeout off): the overflow server at once, or closed */
	if (!svc->cfg.queue_timeout_ms) {
		if (!(c->srv = conn_overflow(c)))
			ALBMD_STAT_ADD(svc->st.no_server, 1);
		return false;
	}
	if (ALBMD_STAT_GET(svc->st.queued) >= svc->cfg.queue_max) {
		if ((c->srv = conn_overflow(c)))
			return false;
		ALBMD_STAT_ADD(svc->st.refused, 1);
		c->refusal = 'P';
		LOG_RL(ALBM_LOG_WARN, "service '%s': queue full (queue-max %u), client closed",
		       svc->name, svc->cfg.queue_max);
		return false;
	}
	/* under the service lock: queue-max holds exactly for the service's clients */
	ALBMD_STAT_ADD(svc->st.queued, 1);
	ALBMD_STAT_ADD(svc->st.queued_total, 1);
	c->queue_timeout_ms = svc->cfg.queue_timeout_ms;
	return true;
}

enum conn_admission conn_admit(struct albmd_conn *c, struct albmd_service *svc, bool splice)
{
	if (svc->removed) {
		c->refusal = 'K';
		return ADMIT_CLOSE;
	}
	c->svc = svc;
	albmd_service_ref(svc);
	ALBMD_STAT_ADD(svc->st.conns_active, 1);
	if (svc->cfg.maxconn && ALBMD_STAT_GET(svc->st.conns_active) > svc->cfg.maxconn) {
		ALBMD_STAT_ADD(svc->st.refused, 1);
		c->refusal = 'P';
		return ADMIT_CLOSE;
	}
	ALBMD_STAT_ADD(svc->st.conns_total, 1);
	c->connect_timeout_ms = svc->cfg.connect_timeout_ms;
	c->idle_timeout_ms = svc->cfg.idle_timeout_ms;
	c->client_fin_timeout_ms = svc->cfg.client_fin_timeout_ms;
	c->server_fin_timeout_ms = svc->cfg.server_fin_timeout_ms;
	c->retries = svc->cfg.retries;
	c->pp = svc->cfg.proxy_protocol;
	c->splice = splice;
	fastpath_conn_init(c, svc);
	c->srv = conn_pick(c);
	if (c->srv)
		return ADMIT_CONNECT;
	if (conn_may_queue(c))
		return ADMIT_QUEUE;
	return c->srv ? ADMIT_CONNECT : ADMIT_CLOSE;
}
