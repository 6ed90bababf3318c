/* ALBM: albmd services and servers — config to scheduler, admin changes, state
 *
 * A server's availability for new connections combines four independent inputs:
 * the administrator (albmctl disable), the active health check, the agent's report
 * timeout and the passive check (connect failures).  albmd_server_refresh() folds
 * them into the scheduler's ALBM_DEST_F_AVAILABLE flag and weight, so each input
 * only sets its own field and calls it.
 *
 * This is the bottom layer of the server side: it knows services, servers and the
 * scheduler library, and nothing of agents.c or health.c.  Those call down into it
 * (albmd_server_refresh); reload.c and control.c, which add and remove servers,
 * attach and detach them (albmd_server_attach/detach in reload.h).
 */
#define LOG_COMPONENT "service"
#include "distributor/service.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/passive.h"

/* ---- lookup and reference counting ---- */

struct albmd_service *albmd_service_find(struct albmd *d, const char *name)
{
	for (size_t i = 0; i < d->nservices; i++)
		if (!strcmp(d->services[i]->name, name))
			return d->services[i];
	return NULL;
}

struct albmd_server *albmd_server_find(struct albmd_service *svc, const char *name)
{
	struct albm_dest *dest = albm_svc_find_dest(&svc->sched, name);

	return dest ? albmd_dest_server(dest) : NULL;
}

void albmd_service_ref(struct albmd_service *svc)
{
	__atomic_fetch_add(&svc->refs, 1, __ATOMIC_RELAXED);
}

void albmd_service_unref(struct albmd_service *svc)
{
	if (__atomic_sub_fetch(&svc->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		albm_svc_destroy(&svc->sched);
		pthread_mutex_destroy(&svc->lock);
		free(svc->hist);
		free(svc);
	}
}

void albmd_server_ref(struct albmd_server *srv)
{
	__atomic_fetch_add(&srv->refs, 1, __ATOMIC_RELAXED);
}

void albmd_server_unref(struct albmd_server *srv)
{
	if (__atomic_sub_fetch(&srv->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		albmd_service_unref(srv->svc);
		free(srv->hist);
		albmd_passive_destroy(&srv->passive);
		free(srv);
	}
}

/* ---- state ---- */

const char *albmd_state_name(enum albmd_state st)
{
	static const char *const names[] = { "up", "overloaded", "drain", "down", "unknown" };

	return (unsigned)st < ARRAY_SIZE(names) ? names[st] : "?";
}

const char *albmd_admin_name(enum albmd_admin a)
{
	static const char *const names[] = { "enabled", "drain", "disabled" };

	return (unsigned)a < ARRAY_SIZE(names) ? names[a] : "?";
}

enum albmd_state albmd_server_state(const struct albmd *d, const struct albmd_server *srv)
{
	const struct albm_dest *dest = srv->dest;

	if (!dest || !(dest->flags & ALBM_DEST_F_AVAILABLE))
		return ALBMD_ST_DOWN;
	if (srv->admin == ALBMD_ADMIN_DRAIN || srv->weight == 0)
		return ALBMD_ST_DRAIN;
	if (dest->flags & (ALBM_DEST_F_OVERLOAD | ALBM_DEST_F_AGENT_OVL))
		return ALBMD_ST_OVERLOADED;
	(void)d;
	if (srv->agent && !dest->report) /* it follows an agent that has not reported */
		return ALBMD_ST_UNKNOWN;
	return ALBMD_ST_UP;
}

static bool svc_adaptive(const struct albmd_service *svc)
{
	/* such a scheduler ramps up by itself (slow start is part of its weight) */
	return svc->sched.sched && (svc->sched.sched->flags & ALBM_SCHED_F_ADAPTIVE);
}

/* Linear slow start for the static schedulers: weight x max(min, t / window). */
static int server_ramped_weight(const struct albmd_service *svc, struct albmd_server *srv,
				int weight, uint64_t now)
{
	const struct albm_adaptive_params *p = &svc->cfg.adaptive;
	double f;

	if (!srv->ramp_start_ms || !p->slow_start_ms || svc_adaptive(svc) || weight <= 1)
		return weight;
	if (now - srv->ramp_start_ms >= p->slow_start_ms) {
		srv->ramp_start_ms = 0;
		return weight;
	}
	f = (double)(now - srv->ramp_start_ms) / (double)p->slow_start_ms;
	f = ALBM_MAX(f, p->slow_start_min);
	return ALBM_MAX(1, (int)lround(weight * f));
}

void albmd_server_refresh(struct albmd *d, struct albmd_server *srv)
{
	struct albmd_service *svc = srv->svc;
	uint64_t now = albm_now_ms();
	bool avail;
	int weight;

	if (!srv->dest)
		return;
	avail = srv->admin != ALBMD_ADMIN_DISABLED && !srv->hc_down && !srv->agent_down &&
		now >= srv->fail_until_ms;
	if (avail && !srv->was_avail)
		srv->ramp_start_ms = now;
	else if (!avail)
		srv->ramp_start_ms = 0;
	srv->was_avail = avail;
	weight = srv->admin == ALBMD_ADMIN_DRAIN ? 0 : srv->weight;
	weight = server_ramped_weight(svc, srv, weight, now);
	if (srv->dest->weight != weight)
		albm_svc_set_weight(&svc->sched, srv->dest, weight);
	albm_svc_set_flags(&svc->sched, srv->dest, avail ? ALBM_DEST_F_AVAILABLE : 0,
			   avail ? 0 : ALBM_DEST_F_AVAILABLE);
	if (svc->dp && svc->dp->changed)
		svc->dp->changed(d, svc);
}

void albmd_server_connect_result(struct albmd *d, struct albmd_server *srv, bool ok)
{
	unsigned max = srv->svc->cfg.max_fails;

	if (ok) {
		srv->fails = 0;
		return;
	}
	ALBMD_STAT_ADD(srv->st.connect_failures, 1);
	if (!max || ++srv->fails < max)
		return;
	srv->fails = 0;
	srv->fail_until_ms = albm_now_ms() + srv->svc->cfg.fail_timeout_ms;
	LOG_RL(ALBM_LOG_WARN,
	       "service '%s': server '%s' marked down for %llu ms after %u "
	       "failed connect(s)",
	       srv->svc->name, srv->name, (unsigned long long)srv->svc->cfg.fail_timeout_ms, max);
	albmd_server_refresh(d, srv);
}

/* ---- servers ---- */

struct albmd_server *albmd_server_add(struct albmd *d, struct albmd_service *svc,
				      const struct albmd_cfg_server *cs, char *err, size_t errlen)
{
	struct albmd_server *srv = xcalloc(1, sizeof(*srv));

	srv->dest = albm_svc_add_dest(&svc->sched, cs->name, &cs->addr, cs->weight, err, errlen);
	if (!srv->dest) {
		free(srv);
		return NULL;
	}
	snprintf(srv->name, sizeof(srv->name), "%s", cs->name);
	albmd_passive_init(&srv->passive);
	srv->addr = cs->addr;
	srv->svc = svc;
	srv->weight = cs->weight;
	srv->maxconn = cs->maxconn;
	srv->admin = cs->disabled ? ALBMD_ADMIN_DISABLED : ALBMD_ADMIN_ENABLED;
	srv->was_avail = true; /* no slow start for a server present from the start */
	srv->refs = 1;         /* the service's reference */
	srv->dest->owner = srv;
	albmd_service_ref(svc);
	if (cs->maxconn)
		albm_svc_set_thresholds(&svc->sched, srv->dest, cs->maxconn, 0);
	albmd_server_refresh(d, srv);
	return srv;
}

void albmd_server_remove(struct albmd *d, struct albmd_server *srv)
{
	struct albmd_service *svc = srv->svc;

	if (!srv->dest)
		return;
	if (srv->agent || srv->hc) /* a dangling follower or check would follow */
		LOG_ERR("bug: server '%s' removed while attached", srv->name);
	albm_svc_del_dest(&svc->sched, srv->dest);
	srv->dest = NULL;
	if (svc->dp && svc->dp->changed)
		svc->dp->changed(d, svc);
	albmd_server_unref(srv);
}

void albmd_server_set_weight(struct albmd *d, struct albmd_server *srv, int weight)
{
	srv->weight = weight;
	albmd_server_refresh(d, srv);
}

void albmd_server_set_admin(struct albmd *d, struct albmd_server *srv, enum albmd_admin admin)
{
	if (admin == ALBMD_ADMIN_ENABLED) {
		/* an operator's enable also forgets the passive failure verdict */
		srv->fail_until_ms = 0;
		srv->fails = 0;
	}
	srv->admin = admin;
	albmd_server_refresh(d, srv);
}

/* ---- services ---- */

int albmd_service_set_scheduler(struct albmd *d, struct albmd_service *svc, const char *name,
				char *err, size_t errlen)
{
	const struct albm_sched_ops *ops = albm_sched_find(name);
	const struct albm_sched_ops *old = svc->sched.sched;
	int rc;

	if (!ops) {
		albm_seterr(err, errlen, "unknown scheduler '%s'", name);
		return -ENOENT;
	}
	if (old == ops)
		return 0;
	rc = albm_svc_bind(&svc->sched, ops);
	if (rc < 0) {
		albm_seterr(err, errlen, "scheduler %s: %s", name, strerror(-rc));
		if (old)
			albm_svc_bind(&svc->sched, old);
		return rc;
	}
	snprintf(svc->cfg.scheduler, sizeof(svc->cfg.scheduler), "%s", name);
	if (svc->dp && svc->dp->changed)
		svc->dp->changed(d, svc);
	LOG_INFO("service '%s': scheduler %s -> %s", svc->name, old ? old->name : "none", name);
	return 0;
}

static void service_copy_cfg(struct albmd_service *svc, const struct albmd_cfg_service *cfg)
{
	svc->cfg = *cfg;
	svc->cfg.servers = NULL;
	svc->cfg.nservers = 0;
	svc->sched.adaptive = cfg->adaptive;
	svc->sched.orca = cfg->orca;
	svc->sched.prequal = cfg->prequal;
	svc->sched.lr = cfg->lr;
	svc->sched.flags = cfg->sched_flags;
}

struct albmd_service *albmd_service_new(struct albmd *d, const struct albmd_cfg_service *cfg,
					char *err, size_t errlen)
{
	struct albmd_service *svc = xcalloc(1, sizeof(*svc));

	snprintf(svc->name, sizeof(svc->name), "%s", cfg->name);
	albm_svc_init(&svc->sched, cfg->name);
	service_copy_cfg(svc, cfg);
	svc->refs = 1; /* the daemon's list */
	pthread_mutex_init(&svc->lock, NULL);
	albmd_lock_adopt(d, svc); /* under albmd_lock(): held like the listed services */
	svc->dp = albmd_dataplane_for(cfg->mode);
	/* servers first, then the scheduler: binding sees the whole list at once, which
	 * is what gives wrr its IPVS sequence from the first connection on */
	for (size_t i = 0; i < cfg->nservers; i++)
		if (!albmd_server_add(d, svc, &cfg->servers[i], err, errlen))
			goto fail;
	if (albmd_service_set_scheduler(d, svc, cfg->scheduler, err, errlen) < 0)
		goto fail;
	return svc;
fail:
	svc->dp = NULL;
	albmd_service_retire(d, svc);
	return NULL;
}

void albmd_server_update(struct albmd *d, struct albmd_server *srv,
			 const struct albmd_cfg_server *cs)
{
	if (!srv->dest)
		return;
	if (srv->maxconn != cs->maxconn) {
		srv->maxconn = cs->maxconn;
		albm_svc_set_thresholds(&srv->svc->sched, srv->dest, cs->maxconn, 0);
	}
	if (cs->disabled && srv->admin == ALBMD_ADMIN_ENABLED)
		srv->admin = ALBMD_ADMIN_DISABLED;
	srv->weight = cs->weight;
	albmd_server_refresh(d, srv);
}

void albmd_service_update(struct albmd *d, struct albmd_service *svc,
			  const struct albmd_cfg_service *cfg)
{
	char err[256];

	service_copy_cfg(svc, cfg);
	if (strcmp(svc->sched.sched ? svc->sched.sched->name : "", cfg->scheduler) &&
	    albmd_service_set_scheduler(d, svc, cfg->scheduler, err, sizeof(err)) < 0)
		LOG_ERR("service '%s': %s", svc->name, err);
}

void albmd_service_retire(struct albmd *d, struct albmd_service *svc)
{
	if (svc->dp && svc->dp->stop)
		svc->dp->stop(d, svc);
	svc->removed = true;
	while (svc->sched.ndests)
		albmd_server_remove(d, albmd_dest_server(svc->sched.dests[svc->sched.ndests - 1]));
	albmd_service_unref(svc);
}

/* ---- periodic work ---- */

void albmd_services_tick(struct albmd *d)
{
	uint64_t now = albm_now_ms();

	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_service *svc = d->services[i];
		for (size_t j = 0; j < svc->sched.ndests; j++) {
			struct albmd_server *srv = albmd_dest_server(svc->sched.dests[j]);
			bool expired = srv->fail_until_ms && now >= srv->fail_until_ms;
			if (expired)
				srv->fail_until_ms = 0;
			if (expired || srv->ramp_start_ms)
				albmd_server_refresh(d, srv);
		}
		albmd_passive_publish(svc); /* before the schedulers read the figures */
		albm_svc_tick(&svc->sched);
		if (svc->dp && svc->dp->tick)
			svc->dp->tick(d, svc);
	}
}
