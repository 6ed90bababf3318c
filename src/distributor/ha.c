/* ALBM: albmd's ha group — peers, flow sync and table heartbeats over signed UDP
 *
 * IPVS's sync daemon, with the discipline of the agents' reports: see ha.h for what
 * is sent and when, docs/protocol.md ("Flow sync") for the datagrams, docs/ha.md for
 * the design.  The DR plane hands us its new flows (albmd_ha_flow, dr_group.c) and
 * installs the peers' (drd_group_install); everything else is here.
 */
#define LOG_COMPONENT "ha"
#include "distributor/ha.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define HA_RECV_BATCH 64 /* datagrams per wakeup */

/* ---- peers ---- */

static void peers_from_cfg(struct albmd_ha *ha, const struct albmd_cfg_ha *cfg,
			   const struct albmd_ha_peer *old, size_t nold)
{
	struct albmd_ha_peer next[ALBMD_MAX_PEERS];

	memset(next, 0, sizeof(next));
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct albmd_cfg_peer *c = &cfg->peers[i];
		for (size_t j = 0; j < nold; j++)
			if (old[j].node_id == c->node_id)
				next[i] = old[j]; /* its window and counters stay */
		snprintf(next[i].name, sizeof(next[i].name), "%s", c->name);
		next[i].node_id = c->node_id;
		next[i].addr = c->addr;
		next[i].win.id = c->node_id;
	}
	memcpy(ha->peers, next, sizeof(next));
	ha->npeers = cfg->npeers;
}

static struct albmd_ha_peer *peer_by_id(struct albmd_ha *ha, uint32_t id)
{
	for (size_t i = 0; i < ha->npeers; i++)
		if (ha->peers[i].node_id == id)
			return &ha->peers[i];
	return NULL;
}

/* ---- sending ---- */

/* One datagram to every peer. */
static void ha_send(struct albmd_ha *ha, const uint8_t *buf, size_t len, size_t flows)
{
	char abuf[ALBM_ADDRSTRLEN];

	ha->msgs_sent++;
	for (size_t i = 0; i < ha->npeers; i++) {
		struct albmd_ha_peer *p = &ha->peers[i];
		if (sendto(ha->io.fd, buf, len, MSG_DONTWAIT, &p->addr.u.sa, p->addr.len) < 0) {
			p->send_errors++;
			LOG_RL(ALBM_LOG_WARN, "send to peer '%s' (%s): %s", p->name,
			       albm_addr_format(&p->addr, abuf, sizeof(abuf)), strerror(errno));
			continue;
		}
		p->msgs_sent++;
		p->flows_sent += flows;
	}
}

static struct albm_sync_hdr next_hdr(struct albmd_ha *ha)
{
	return (struct albm_sync_hdr){ .sender = ha->cfg.node_id,
				       .epoch = ha->epoch,
				       .seq = ++ha->seq,
				       .timestamp_ms = albm_wall_ms() };
}

void albmd_ha_flush(struct albmd *d)
{
	struct albmd_ha *ha = d->ha;
	uint8_t buf[ALBM_SYNC_MAX];
	size_t done = 0, used;
	int len;

	while (ha && done < ha->nbatch) {
		struct albm_sync_hdr h = next_hdr(ha);
		len = albm_sync_encode(&h, ha->batch + done, ha->nbatch - done, ha->key, buf,
				       sizeof(buf), &used);
		if (len < 0 || !used) { /* not expected: the batch holds valid flows only */
			LOG_RL(ALBM_LOG_ERR, "encode %zu flows: %s", ha->nbatch - done,
			       strerror(len < 0 ? -len : EINVAL));
			break;
		}
		ha_send(ha, buf, (size_t)len, used);
		done += used;
	}
	if (ha)
		ha->nbatch = 0;
}

/* dr_flow -> the wire's flow. */
static void sync_flow_of(const struct dr_flow *f, struct albm_sync_flow *s)
{
	memset(s, 0, sizeof(*s));
	s->family = (uint8_t)albm_addr_family(&f->vip);
	s->sport = albm_addr_port(&f->client);
	s->dport = albm_addr_port(&f->vip);
	if (s->family == AF_INET) {
		memcpy(s->saddr, &f->client.u.sin.sin_addr, 4);
		memcpy(s->daddr, &f->vip.u.sin.sin_addr, 4);
		memcpy(s->raddr, &f->real.u.sin.sin_addr, 4);
	} else {
		memcpy(s->saddr, &f->client.u.sin6.sin6_addr, 16);
		memcpy(s->daddr, &f->vip.u.sin6.sin6_addr, 16);
		memcpy(s->raddr, &f->real.u.sin6.sin6_addr, 16);
	}
}

void albmd_ha_flow(struct albmd *d, const struct dr_flow *f)
{
	struct albmd_ha *ha = d->ha;

	if (!ha || !ha->cfg.flow_sync || !ha->npeers)
		return;
	sync_flow_of(f, &ha->batch[ha->nbatch++]);
	ha->flows_queued++;
	if (ha->nbatch == ALBM_SYNC_MAX_FLOWS)
		albmd_ha_flush(d);
}

/* ---- heartbeats ---- */

static void beat_send(struct albmd *d, struct albmd_ha *ha)
{
	static struct albm_sync_table t[ALBMD_MAX_SERVICES];
	size_t n = drd_group_tables(d, t, ALBMD_MAX_SERVICES), done = 0, used;
	uint8_t buf[ALBM_SYNC_MAX];
	int len;

	do { /* at least one, also without tables: liveness */
		struct albm_sync_hdr h = next_hdr(ha);
		len = albm_sync_encode_tables(&h, t + done, n - done, ha->key, buf, sizeof(buf),
					      &used);
		if (len < 0) {
			LOG_RL(ALBM_LOG_ERR, "encode a heartbeat: %s", strerror(-len));
			return;
		}
		ha_send(ha, buf, (size_t)len, 0);
		done += used;
	} while (done < n);
}

/* Peers not heard for ALBMD_HA_DOWN_BEATS heartbeats are down. */
static void peers_check(struct albmd_ha *ha, uint64_t now)
{
	for (size_t i = 0; i < ha->npeers; i++) {
		struct albmd_ha_peer *p = &ha->peers[i];
		if (!p->up || now - p->last_heard_ms <= ALBMD_HA_DOWN_BEATS * ha->cfg.heartbeat_ms)
			continue;
		p->up = false;
		LOG_WARN("peer '%s' (node %u): nothing heard for %llu ms: down", p->name,
			 p->node_id, (unsigned long long)(now - p->last_heard_ms));
	}
}

static void beat_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_ha *ha = (struct albmd_ha *)((char *)t - offsetof(struct albmd_ha, beat));
	struct albmd *d = evl_data(loop);

	albmd_lock(d);
	if (d->ha == ha) {
		albmd_ha_flush(d);
		beat_send(d, ha);
		peers_check(ha, albm_now_ms());
	}
	evl_timer_start(loop, t, ha->cfg.heartbeat_ms, beat_timer);
	albmd_unlock(d);
}

/* ---- receiving ---- */

/* A peer's heartbeat: its tables against ours; a difference that lasts longer than a
 * table interval (plus a heartbeat, for the boundary itself) is a disagreement. */
static void peer_tables(struct albmd *d, struct albmd_ha *ha, struct albmd_ha_peer *p,
			const struct albm_sync_msg *m)
{
	uint64_t now = albm_now_ms(), grace = ha->cfg.table_interval_ms + ha->cfg.heartbeat_ms;
	const char *svc = NULL, *name;
	uint32_t common = 0, differ = 0;
	bool equal;

	for (size_t i = 0; i < m->n; i++) {
		if (drd_group_compare(d, &m->tables[i], &equal, &name) < 0)
			continue;
		common++;
		if (!equal) {
			differ++;
			svc = name;
		}
	}
	p->tables_common = common;
	p->tables_differ = differ;
	if (!differ) {
		if (p->disagree)
			LOG_INFO("peer '%s': the tables agree again", p->name);
		p->differ_since_ms = 0;
		p->disagree = false;
		return;
	}
	if (!p->differ_since_ms)
		p->differ_since_ms = now;
	if (!p->disagree && now - p->differ_since_ms > grace) {
		p->disagree = true;
		p->disagreements++;
		LOG_WARN(
			"peer '%s': service '%s' (and %u more) has another table there for %llu ms "
			"(see docs/ha.md, \"Consistent tables\")",
			p->name, svc, differ - 1, (unsigned long long)(now - p->differ_since_ms));
	}
}

static void peer_flows(struct albmd *d, struct albmd_ha *ha, struct albmd_ha_peer *p,
		       const struct albm_sync_msg *m)
{
	drd_group_install(d, m->flows, m->n, ha->installs);
	p->flows_received += m->n;
}

/* An accepted message from p. */
static void peer_heard(struct albmd *d, struct albmd_ha *ha, struct albmd_ha_peer *p,
		       const struct albm_sync_msg *m)
{
	p->last_heard_ms = albm_now_ms();
	p->msgs_received++;
	if (!p->up) {
		p->up = true;
		LOG_INFO("peer '%s' (node %u): up", p->name, p->node_id);
	}
	if (m->type == ALBM_SYNC_T_FLOWS) {
		peer_flows(d, ha, p, m);
	} else {
		p->heartbeats++;
		peer_tables(d, ha, p, m);
	}
}

enum albm_sync_verdict albmd_ha_input(struct albmd *d, const uint8_t *buf, size_t len,
				      const struct albm_addr *from)
{
	static struct albm_sync_msg m;
	struct albmd_ha *ha = d->ha;
	struct albmd_ha_peer *p = NULL;
	enum albm_sync_verdict v;
	char err[256], abuf[ALBM_ADDRSTRLEN];

	ha->received++;
	v = albm_sync_decode(buf, len, ha->key, &m, err, sizeof(err));
	if (!v && !(p = peer_by_id(ha, m.h.sender))) {
		snprintf(err, sizeof(err), "sender id %u is not a configured peer", m.h.sender);
		v = ALBM_SYNC_UNKNOWN_PEER;
	}
	if (!v)
		v = albm_sync_replay_check(&p->win, &m.h, albm_wall_ms(), ha->cfg.max_age_ms, err,
					   sizeof(err));
	if (v) {
		ha->rejected[v]++;
		LOG_RL(ALBM_LOG_WARN, "sync message from %s refused (%s): %s",
		       from ? albm_addr_format(from, abuf, sizeof(abuf)) : "?",
		       albm_sync_verdict_name(v), err);
		return v;
	}
	peer_heard(d, ha, p, &m);
	return ALBM_SYNC_OK;
}

static void ha_readable(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_ha *ha = (struct albmd_ha *)((char *)io - offsetof(struct albmd_ha, io));
	struct albmd *d = evl_data(loop);
	uint8_t buf[ALBM_SYNC_MAX + 1]; /* one more: a longer datagram is seen as such */
	struct albm_addr from;

	(void)revents;
	albmd_lock(d);
	for (int i = 0; i < HA_RECV_BATCH && d->ha == ha; i++) {
		socklen_t flen = sizeof(from.u);
		ssize_t n = recvfrom(ha->io.fd, buf, sizeof(buf), 0, &from.u.sa, &flen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				LOG_RL(ALBM_LOG_WARN, "recv: %s", strerror(errno));
			if (errno != EINTR)
				break;
			continue;
		}
		from.len = flen;
		albmd_ha_input(d, buf, (size_t)n, &from);
	}
	albmd_unlock(d);
}

/* ---- life ---- */

struct albmd_ha *albmd_ha_open(const struct albmd_cfg_ha *cfg, char *err, size_t errlen)
{
	struct albmd_ha *ha = xcalloc(1, sizeof(*ha));
	char e[256], abuf[ALBM_ADDRSTRLEN];
	int fd;

	evl_timer_init(&ha->beat);
	ha->io.fd = -1;
	if (albm_key_load(cfg->key_file, ha->key, e, sizeof(e)) < 0) {
		albm_seterr(err, errlen, "ha: %s", e);
		goto fail;
	}
	fd = socket(albm_addr_family(&cfg->listen), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		albm_seterr(err, errlen, "ha: socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, &cfg->listen.u.sa, cfg->listen.len) < 0) {
		albm_seterr(err, errlen, "ha: bind %s: %s",
			    albm_addr_format(&cfg->listen, abuf, sizeof(abuf)), strerror(errno));
		close(fd);
		goto fail;
	}
	ha->io.fd = fd;
	ha->cfg = *cfg;
	ha->epoch = albm_wall_ms(); /* grows across restarts: the peers' windows start over */
	peers_from_cfg(ha, cfg, NULL, 0);
	return ha;
fail:
	free(ha);
	return NULL;
}

/* The DR plane's new flows come to the group through this hook (daemon.h). */
static const struct albmd_flow_sink ha_flow_sink = {
	.flow = albmd_ha_flow,
	.flush = albmd_ha_flush,
};

void albmd_ha_start(struct albmd *d, struct albmd_ha *ha)
{
	int fd = ha->io.fd, rc;

	ha->d = d;
	if (d->ha == ha)
		d->flow_sink = &ha_flow_sink;
	rc = evl_add(d->loop, &ha->io, fd, EPOLLIN, ha_readable);
	if (rc < 0)
		LOG_ERR("ha: epoll: %s", strerror(-rc));
	ha->io.fd = fd;
	evl_timer_start(d->loop, &ha->beat, 0, beat_timer); /* say hello at once */
	LOG_INFO("ha group: node %u, %zu peer(s), flow sync %s", ha->cfg.node_id, ha->npeers,
		 ha->cfg.flow_sync ? "on" : "off");
}

void albmd_ha_update(struct albmd *d, struct albmd_ha *ha, const struct albmd_cfg_ha *cfg,
		     const uint8_t key[ALBM_KEY_LEN])
{
	struct albmd_ha_peer old[ALBMD_MAX_PEERS];
	size_t nold = ha->npeers;

	albmd_ha_flush(d); /* signed with the key and id they were made for */
	memcpy(old, ha->peers, sizeof(old));
	memcpy(ha->key, key, ALBM_KEY_LEN);
	ha->cfg = *cfg;
	peers_from_cfg(ha, cfg, old, nold);
}

void albmd_ha_replace(struct albmd *d, struct albmd_ha *old, struct albmd_ha *nw)
{
	if (old) {
		albmd_ha_flush(d);
		peers_from_cfg(nw, &nw->cfg, old->peers, old->npeers);
		nw->epoch = old->epoch;
		nw->seq = old->seq;
		nw->received = old->received;
		nw->flows_queued = old->flows_queued;
		nw->msgs_sent = old->msgs_sent;
		memcpy(nw->rejected, old->rejected, sizeof(nw->rejected));
		memcpy(nw->installs, old->installs, sizeof(nw->installs));
		albmd_ha_close(d, old);
	}
	d->ha = nw;
	albmd_ha_start(d, nw);
}

void albmd_ha_close(struct albmd *d, struct albmd_ha *ha)
{
	if (!ha)
		return;
	if (d->ha == ha) {
		albmd_ha_flush(d);
		d->ha = NULL;
		d->flow_sink = NULL;
	}
	if (!d->loop) { /* never started */
		if (ha->io.fd >= 0)
			close(ha->io.fd);
		free(ha);
		return;
	}
	evl_timer_stop(d->loop, &ha->beat);
	evl_close(d->loop, &ha->io);
	evl_defer_free(d->loop, ha); /* its io may be later in this batch of events */
}
