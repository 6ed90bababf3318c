/* ALBM: albmd's configuration apply — prepare everything that can fail, then commit
 *
 * It is also the layer that adds and removes servers for the config, and so the
 * one that attaches them to their agent and health check (albmd_server_attach;
 * control.c uses the same for `albmctl add`/`remove`): service.c below knows nothing
 * of agents or health checks.
 *
 * What a reload changes, by name: services (added, removed, changed), their servers
 * (weight, maxconn, address -> replaced), scheduler and parameters, the agents
 * receiver, the ha group (its socket, key, peers), the admin HTTP address.  What it
 * keeps: established connections (they hold references to their service and server),
 * listening sockets whose address is unchanged, the administrative state
 * (drain/disable) of servers that stay, agent reports, the ha peers' replay windows.  What needs a
 * restart: `workers`, the control socket path (a warning is logged).
 */
#define LOG_COMPONENT "reload"
#include "distributor/reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/admin_http.h"
#include "distributor/access_log.h"
#include "distributor/agents.h"
#include "distributor/ha.h"
#include "distributor/health.h"
#include "distributor/service.h"

/* ---- attaching servers to their agent and health check ---- */

void albmd_server_attach(struct albmd *d, struct albmd_server *srv)
{
	if (d->agents)
		albmd_agents_attach(d, srv);
	if (srv->svc->cfg.health.enabled)
		albmd_health_attach(d, srv);
	albmd_server_refresh(d, srv);
}

void albmd_server_detach(struct albmd *d, struct albmd_server *srv)
{
	albmd_health_detach(d, srv);
	albmd_agents_detach(d, srv);
}

static void server_drop(struct albmd *d, struct albmd_server *srv)
{
	albmd_server_detach(d, srv);
	albmd_server_remove(d, srv);
}

static struct albmd_server *server_join(struct albmd *d, struct albmd_service *svc,
					const struct albmd_cfg_server *cs)
{
	struct albmd_server *srv;
	char err[256];

	if (!(srv = albmd_server_add(d, svc, cs, err, sizeof(err)))) {
		LOG_ERR("service '%s': %s", svc->name, err);
		return NULL;
	}
	albmd_server_attach(d, srv);
	return srv;
}

void albmd_service_withdraw(struct albmd *d, struct albmd_service *svc)
{
	for (size_t i = 0; i < svc->sched.ndests; i++)
		albmd_server_detach(d, albmd_dest_server(svc->sched.dests[i]));
	albmd_service_retire(d, svc);
}

/* A configured server in a running service: a new one joins, one whose address
 * changed is replaced (live connections stay with the old one), a kept one is
 * updated and its health check re-armed with the service's settings. */
static void reconfigure_server(struct albmd *d, struct albmd_service *svc,
			       const struct albmd_cfg_server *cs)
{
	struct albmd_server *srv = albmd_server_find(svc, cs->name);

	if (srv && !albm_addr_equal(&srv->addr, &cs->addr)) {
		server_drop(d, srv);
		srv = NULL;
	}
	if (!srv) {
		server_join(d, svc, cs);
		return;
	}
	albmd_health_detach(d, srv);
	if (svc->cfg.health.enabled)
		albmd_health_attach(d, srv);
	else
		srv->hc_down = false;
	albmd_server_update(d, srv, cs);
}

void albmd_service_reconfigure(struct albmd *d, struct albmd_service *svc,
			       const struct albmd_cfg_service *cfg)
{
	albmd_service_update(d, svc, cfg);
	/* servers gone from the config leave (walk backwards: removal shifts the list) */
	for (size_t i = svc->sched.ndests; i-- > 0;) {
		struct albmd_server *srv = albmd_dest_server(svc->sched.dests[i]);
		bool keep = false;
		for (size_t j = 0; j < cfg->nservers && !keep; j++)
			keep = !strcmp(cfg->servers[j].name, srv->name);
		if (!keep)
			server_drop(d, srv);
	}
	for (size_t i = 0; i < cfg->nservers; i++)
		reconfigure_server(d, svc, &cfg->servers[i]);
}

/* ---- the two phases ---- */

/* What phase one produced for phase two. */
struct apply_plan {
	void **prep;                 /* per new service: data-plane state, or NULL */
	struct albmd_service **keep; /* per new service: the running one it updates */
	struct albmd_agents *new_agents;
	bool agents_key_only; /* same address: only the key and timeouts change */
	uint8_t key[ALBM_KEY_LEN];
	struct albmd_http *new_admin;
	bool admin_change;
	struct albmd_ha *new_ha; /* a new socket for the ha group */
	bool ha_same;            /* same listen address: key and settings only */
	uint8_t ha_key[ALBM_KEY_LEN];
	struct albmd_admin_conf admin_conf; /* token (loaded here), chart library */
};

static bool same_http(const struct albmd *d, const struct albmd_config *cfg)
{
	if (!cfg->has_http)
		return !d->admin;
	return d->admin && albm_addr_equal(albmd_admin_addr(d->admin), &cfg->http);
}

static int plan_agents(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p,
		       char *err, size_t errlen)
{
	char e[256];

	if (!cfg->has_agents)
		return 0;
	if (d->agents && albm_addr_equal(&d->agents->listen, &cfg->agents_listen)) {
		p->agents_key_only = true;
		if (albm_key_load(cfg->key_file, p->key, e, sizeof(e)) < 0) {
			albm_seterr(err, errlen, "agents: %s", e);
			return -EINVAL;
		}
		return 0;
	}
	p->new_agents = albmd_agents_open(cfg, err, errlen);
	return p->new_agents ? 0 : -EINVAL;
}

static int plan_ha(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p, char *err,
		   size_t errlen)
{
	char e[256];

	if (!cfg->has_ha)
		return 0;
	if (d->ha && albm_addr_equal(&d->ha->cfg.listen, &cfg->ha.listen)) {
		p->ha_same = true;
		if (albm_key_load(cfg->ha.key_file, p->ha_key, e, sizeof(e)) < 0) {
			albm_seterr(err, errlen, "ha: %s", e);
			return -EINVAL;
		}
		return 0;
	}
	p->new_ha = albmd_ha_open(&cfg->ha, err, errlen);
	return p->new_ha ? 0 : -EINVAL;
}

static void plan_abandon(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p)
{
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct albmd_dataplane_ops *dp = albmd_dataplane_for(cfg->services[i].mode);
		if (p->prep[i] && dp->abandon)
			dp->abandon(d, p->prep[i]);
	}
	if (p->new_agents)
		albmd_agents_close(d, p->new_agents);
	if (p->new_ha)
		albmd_ha_close(d, p->new_ha);
	if (p->new_admin)
		albmd_admin_close(d, p->new_admin);
}

/* The admin HTTP's token file is read here, so that a bad one rejects the config. */
static int plan_admin_conf(const struct albmd_config *cfg, struct apply_plan *p, char *err,
			   size_t errlen)
{
	char e[512];

	snprintf(p->admin_conf.chart_js, sizeof(p->admin_conf.chart_js), "%s", cfg->chart_js);
	if (!cfg->has_http || !cfg->http_token_file[0])
		return 0;
	if (albmd_admin_token_load(cfg->http_token_file, p->admin_conf.token,
				   sizeof(p->admin_conf.token), e, sizeof(e)) < 0) {
		albm_seterr(err, errlen, "%s:%d: %s", cfg->path, cfg->http_token_line, e);
		return -EINVAL;
	}
	return 0;
}

/* Phase one: bind, load, check; nothing visible changes. */
static int plan_make(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p,
		     char *err, size_t errlen)
{
	int rc;

	p->prep = xcalloc(cfg->nservices + 1, sizeof(*p->prep));
	p->keep = xcalloc(cfg->nservices + 1, sizeof(*p->keep));
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct albmd_cfg_service *cs = &cfg->services[i];
		const struct albmd_dataplane_ops *dp = albmd_dataplane_for(cs->mode);
		struct albmd_service *old = albmd_service_find(d, cs->name);
		if (old && old->cfg.mode == cs->mode) {
			p->keep[i] = old;
			/* same address (and, in mode dr, same interface): keep what is bound */
			if (albm_addr_equal(&old->cfg.listen, &cs->listen) && old->dp_data &&
			    !strcmp(old->cfg.interface, cs->interface) &&
			    old->cfg.xdp_mode == cs->xdp_mode)
				continue;
		}
		rc = dp->prepare(d, cs, &p->prep[i], err, errlen);
		if (rc < 0)
			goto fail;
	}
	if ((rc = plan_agents(d, cfg, p, err, errlen)) < 0)
		goto fail;
	if ((rc = plan_ha(d, cfg, p, err, errlen)) < 0)
		goto fail;
	if ((rc = plan_admin_conf(cfg, p, err, errlen)) < 0)
		goto fail;
	p->admin_change = !same_http(d, cfg);
	if (p->admin_change && cfg->has_http &&
	    !(p->new_admin = albmd_admin_open(&cfg->http, err, errlen))) {
		rc = -EADDRINUSE;
		goto fail;
	}
	return 0;
fail:
	plan_abandon(d, cfg, p);
	return rc;
}

/* Every server of every running service. */
static void for_all_servers(struct albmd *d, void (*fn)(struct albmd *, struct albmd_server *))
{
	for (size_t i = 0; i < d->nservices; i++)
		for (size_t j = 0; j < d->services[i]->sched.ndests; j++)
			fn(d, albmd_dest_server(d->services[i]->sched.dests[j]));
}

static void server_leave_agent(struct albmd *d, struct albmd_server *srv)
{
	albmd_agents_detach(d, srv);
	albmd_server_refresh(d, srv);
}

static void server_join_agent(struct albmd *d, struct albmd_server *srv)
{
	albmd_agents_attach(d, srv);
	albmd_server_refresh(d, srv);
}

static void commit_agents(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p)
{
	bool had = d->agents != NULL;

	if (p->agents_key_only) {
		memcpy(d->agents->key, p->key, sizeof(p->key));
	} else if (p->new_agents) {
		albmd_agents_replace(d, d->agents, p->new_agents);
	} else if (d->agents) { /* the agents block is gone: back to static weights */
		for_all_servers(d, server_leave_agent);
		albmd_agents_close(d, d->agents);
		d->agents = NULL;
	}
	if (!d->agents)
		return;
	d->agents->timeout_ms = cfg->agent_timeout_ms;
	d->agents->max_age_ms = cfg->report_max_age_ms;
	if (!had) /* agents just configured: everyone follows the agent of its name */
		for_all_servers(d, server_join_agent);
}

static void commit_ha(struct albmd *d, const struct albmd_config *cfg, struct apply_plan *p)
{
	if (p->ha_same)
		albmd_ha_update(d, d->ha, &cfg->ha, p->ha_key);
	else if (p->new_ha)
		albmd_ha_replace(d, d->ha, p->new_ha);
	else if (d->ha)
		albmd_ha_close(d, d->ha); /* the block is gone */
}

static void commit_admin(struct albmd *d, struct apply_plan *p)
{
	if (p->admin_change) {
		if (d->admin)
			albmd_admin_close(d, d->admin);
		d->admin = p->new_admin;
		if (d->admin)
			albmd_admin_start(d, d->admin);
	}
	if (d->admin)
		albmd_admin_configure(d->admin, &p->admin_conf);
	memset(&p->admin_conf, 0, sizeof(p->admin_conf)); /* no copy of the token lingers */
}

/* Phase two: apply; cannot fail. */
static void plan_commit(struct albmd *d, struct albmd_config *cfg, struct apply_plan *p)
{
	struct albmd_service **next = xcalloc(cfg->nservices + 1, sizeof(*next));
	char err[512];

	commit_agents(d, cfg, p);
	commit_ha(d, cfg, p);
	commit_admin(d, p);
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct albmd_service *svc = p->keep[i];
		if (svc) {
			albmd_service_reconfigure(d, svc, &cfg->services[i]);
		} else if ((svc = albmd_service_new(d, &cfg->services[i], err, sizeof(err)))) {
			for (size_t j = 0; j < svc->sched.ndests; j++)
				albmd_server_attach(d, albmd_dest_server(svc->sched.dests[j]));
		} else {
			LOG_ERR("%s", err); /* validated before: not expected */
			if (p->prep[i] && albmd_dataplane_for(cfg->services[i].mode)->abandon)
				albmd_dataplane_for(cfg->services[i].mode)->abandon(d, p->prep[i]);
			continue;
		}
		if (p->prep[i])
			svc->dp->start(d, svc, p->prep[i]);
		next[i] = svc;
	}
	/* services that are not kept leave after the new ones took over their sockets */
	for (size_t i = 0; i < d->nservices; i++) {
		bool kept = false;
		for (size_t j = 0; j < cfg->nservices && !kept; j++)
			kept = next[j] == d->services[i];
		if (!kept)
			albmd_service_withdraw(d, d->services[i]);
	}
	free(d->services);
	d->services = next;
	d->nservices = 0;
	for (size_t i = 0; i < cfg->nservices; i++)
		if (next[i])
			next[d->nservices++] = next[i];
	albmd_agents_prune(d);
}

int albmd_apply_config(struct albmd *d, struct albmd_config *cfg, char *err, size_t errlen)
{
	struct apply_plan p = { 0 };
	struct albmd_alog *alog = NULL;
	int rc;

	albmd_lock(d);
	if (d->nworkers && cfg->workers != d->cfg.workers && d->cfg.workers)
		LOG_WARN("workers %u -> %u needs a restart; keeping %u", d->cfg.workers,
			 cfg->workers, d->nworkers);
	if (d->control && strcmp(cfg->control_socket, d->cfg.control_socket))
		LOG_WARN("control socket %s -> %s needs a restart", d->cfg.control_socket,
			 cfg->control_socket);
	rc = albmd_alog_open(cfg, &alog, err, errlen); /* a reload reopens it: log rotation */
	if (rc == 0 && (rc = plan_make(d, cfg, &p, err, errlen)) < 0)
		albmd_alog_put(alog);
	if (rc == 0) {
		plan_commit(d, cfg, &p);
		albmd_alog_install(d, alog);
		cfg->workers = d->nworkers ? d->nworkers : cfg->workers;
		if (d->control)
			snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
				 d->cfg.control_socket);
		albmd_config_free(&d->cfg);
		d->cfg = *cfg;
		albmd_publish_hot(d);
		memset(cfg, 0, sizeof(*cfg));
	}
	albmd_unlock(d);
	free(p.prep);
	free(p.keep);
	return rc;
}

int albmd_reload(struct albmd *d, char *err, size_t errlen)
{
	struct albmd_config cfg;
	char path[ALBMD_PATH_MAX];
	int rc;

	albmd_lock(d);
	snprintf(path, sizeof(path), "%s", d->cfg.path);
	albmd_unlock(d);
	rc = albmd_config_load(path, &cfg, err, errlen);
	if (rc == 0) {
		rc = albmd_apply_config(d, &cfg, err, errlen);
		if (rc < 0)
			albmd_config_free(&cfg);
	}
	albmd_lock(d);
	if (rc == 0)
		d->st.reloads_ok++;
	else
		d->st.reloads_failed++;
	albmd_unlock(d);
	if (rc == 0)
		LOG_INFO("reloaded %s: %zu service(s)", path, d->nservices);
	else
		LOG_ERR("reload of %s rejected, the running configuration stays: %s", path, err);
	return rc;
}
