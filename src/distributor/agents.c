/* ALBM: albmd's agent report receiver — verify, de-duplicate, feed the scheduler
 *
 * Every datagram goes through the shared codec (HMAC, then fields), then the
 * per-agent replay check, then lands in the scheduler of every server that follows
 * the agent (its follower list: the servers of that name, kept by attach/detach).
 * Rejections are counted by reason and logged rate-limited: a flood of forged
 * reports must neither fill the log nor cost more than a hash.  Agents fall silent
 * -> after `timeout` their servers are down; the next accepted report brings them
 * back (the schedulers' slow start does the ramp).
 *
 * Layering: this file calls down into service.c (albmd_server_refresh) and the
 * scheduler library; service.c knows nothing of agents.
 */
#define LOG_COMPONENT "agents"
#include "distributor/agents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"

#define AGENTS_BATCH 64 /* datagrams per wakeup: the loop stays fair to other events */

const char *albmd_reject_name(enum albmd_reject r)
{
	static const char *const names[] = { "malformed", "version", "bad_mac",
					     "replay",    "stale",   "unknown_server" };

	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "?";
}

bool albmd_agent_has_report(const struct albmd_agent *a)
{
	return a->has_report;
}

uint64_t albmd_agent_age_ms(const struct albmd_agent *a)
{
	uint64_t now = albm_now_ms();

	if (!a->has_report)
		return UINT64_MAX;
	return now > a->last_ms ? now - a->last_ms : 0;
}

static void agents_rl_init(struct albmd_agents *ag)
{
	for (int r = 0; r < ALBMD_REJ_COUNT; r++) {
		struct albm_ratelimit rl = ALBM_RATELIMIT_INIT(5000, 10);
		rl.what = albmd_reject_name((enum albmd_reject)r);
		ag->rl[r] = rl;
	}
}

/* Where the replay state lives, and what it held at the last stop. */
static void agents_state_open(struct albmd_agents *ag, const struct albmd_config *cfg)
{
	const char *dir = albmd_state_dir(cfg->state_dir);
	char e[512];

	evl_timer_init(&ag->persist);
	if (!dir) {
		LOG_INFO("no state-dir: agents' replay state is kept in memory only (a report "
			 "captured before a restart is accepted again within max-age)");
		return;
	}
	snprintf(ag->state_dir, sizeof(ag->state_dir), "%s", dir);
	if (albmd_replay_load(dir, &ag->saved, &ag->nsaved, e, sizeof(e)) < 0)
		LOG_WARN("replay state not restored: %s", e);
	else if (ag->nsaved)
		LOG_INFO("replay state of %zu agent(s) restored from %s", ag->nsaved, dir);
}

struct albmd_agents *albmd_agents_open(const struct albmd_config *cfg, char *err, size_t errlen)
{
	struct albmd_agents *ag = xcalloc(1, sizeof(*ag));
	char e[256], abuf[ALBM_ADDRSTRLEN];
	int fd, one = 1;

	ag->io.fd = -1;
	if (albm_key_load(cfg->key_file, ag->key, e, sizeof(e)) < 0) {
		albm_seterr(err, errlen, "agents: %s", e);
		goto fail;
	}
	fd = socket(albm_addr_family(&cfg->agents_listen),
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		albm_seterr(err, errlen, "agents: socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &cfg->agents_listen.u.sa, cfg->agents_listen.len) < 0) {
		albm_seterr(err, errlen, "agents: bind %s: %s",
			    albm_addr_format(&cfg->agents_listen, abuf, sizeof(abuf)),
			    strerror(errno));
		close(fd);
		goto fail;
	}
	ag->io.fd = fd;
	ag->listen = cfg->agents_listen;
	ag->timeout_ms = cfg->agent_timeout_ms;
	ag->max_age_ms = cfg->report_max_age_ms;
	agents_rl_init(ag);
	agents_state_open(ag, cfg);
	return ag;
fail:
	free(ag);
	return NULL;
}

/* The name index: with 1,000 agents reporting 10 times a second, a walk of the list
 * per report was a third of albmd's CPU (make bench-control). */
static struct albmd_agent **agent_bucket(struct albmd_agents *ag, const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &ag->index[h % ALBMD_AGENT_BUCKETS];
}

static struct albmd_agent *agent_find(struct albmd_agents *ag, const char *name)
{
	for (struct albmd_agent *a = *agent_bucket(ag, name); a; a = a->hnext)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void agent_index_del(struct albmd_agents *ag, struct albmd_agent *a)
{
	struct albmd_agent **pp = agent_bucket(ag, a->name);

	while (*pp && *pp != a)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = a->hnext;
}

/* Apply fn to every server that follows agent a; returns how many. */
static int agent_for_followers(struct albmd *d, struct albmd_agent *a,
			       void (*fn)(struct albmd *, struct albmd_server *))
{
	for (size_t i = 0; i < a->nfollowers; i++)
		fn(d, a->followers[i]);
	return (int)a->nfollowers;
}

static void server_take_report(struct albmd *d, struct albmd_server *srv)
{
	albm_svc_report(&srv->svc->sched, srv->dest, &srv->agent->m);
	if (srv->agent_down) {
		srv->agent_down = false;
		LOG_INFO("service '%s': server '%s' reports again: up", srv->svc->name, srv->name);
	}
	albmd_server_refresh(d, srv);
}

static void server_agent_lost(struct albmd *d, struct albmd_server *srv)
{
	srv->agent_down = true;
	albmd_server_refresh(d, srv);
}

void albmd_agents_attach(struct albmd *d, struct albmd_server *srv)
{
	struct albmd_agents *ag = d->agents;
	struct albmd_agent *a = agent_find(ag, srv->name);

	if (srv->agent)
		return;
	if (!a) {
		a = xcalloc(1, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", srv->name);
		for (size_t i = 0; i < ag->nsaved; i++)
			if (!strcmp(ag->saved[i].name, a->name))
				a->replay = ag->saved[i].st; /* what it had before a restart */
		a->next = ag->list;
		ag->list = a;
		a->hnext = *agent_bucket(ag, a->name);
		*agent_bucket(ag, a->name) = a;
	}
	if (a->nfollowers == a->capfollowers) {
		a->capfollowers = a->capfollowers ? a->capfollowers * 2 : 4;
		a->followers = xrealloc(a->followers, a->capfollowers * sizeof(*a->followers));
	}
	a->followers[a->nfollowers++] = srv;
	srv->agent = a;
	if (a->has_report && srv->dest)
		albm_svc_report(&srv->svc->sched, srv->dest, &a->m);
	srv->agent_down = a->timed_out;
}

/* Unlink srv from a's followers, and its destination from a's report. */
static void agent_unlink(struct albmd_agent *a, struct albmd_server *srv)
{
	for (size_t i = 0; i < a->nfollowers; i++) {
		if (a->followers[i] == srv) {
			a->followers[i] = a->followers[--a->nfollowers];
			break;
		}
	}
	srv->agent = NULL;
	srv->agent_down = false;
	if (srv->dest && srv->dest->report == &a->m)
		albm_svc_report(&srv->svc->sched, srv->dest, NULL);
}

void albmd_agents_detach(struct albmd *d, struct albmd_server *srv)
{
	(void)d;
	if (srv->agent)
		agent_unlink(srv->agent, srv);
}

/* One limiter per reason: a garbage flood must not hide bad MACs or replays. */
static void count_reject(struct albmd_agents *ag, enum albmd_reject r, const char *why)
{
	ALBMD_STAT_ADD(ag->rejected[r], 1);
	LOG_RL_WITH(&ag->rl[r], ALBM_LOG_WARN, "report rejected (%s): %s", albmd_reject_name(r),
		    why);
}

static enum albmd_reject reject_reason(int rc)
{
	switch (rc) {
	case -EPROTO:
		return ALBMD_REJ_VERSION;
	case -EPERM:
		return ALBMD_REJ_BAD_MAC;
	case -EALREADY:
		return ALBMD_REJ_REPLAY;
	case -ETIME:
		return ALBMD_REJ_STALE;
	default:
		return ALBMD_REJ_MALFORMED;
	}
}

int albmd_agents_input(struct albmd *d, const uint8_t *buf, size_t len)
{
	struct albmd_agents *ag = d->agents;
	struct albm_report r;
	struct albmd_agent *a;
	char e[256];
	int rc;

	ALBMD_STAT_ADD(ag->received, 1);
	rc = albm_report_decode(buf, len, ag->key, &r, e, sizeof(e));
	if (rc < 0) {
		count_reject(ag, reject_reason(rc), e);
		return -(int)reject_reason(rc) - 1;
	}
	r.m.name[sizeof(r.m.name) - 1] = '\0';
	a = agent_find(ag, r.m.name);
	if (!a) {
		snprintf(e, sizeof(e), "no server named '%.64s'", r.m.name);
		count_reject(ag, ALBMD_REJ_UNKNOWN, e);
		return -(int)ALBMD_REJ_UNKNOWN - 1;
	}
	rc = albm_replay_check(&a->replay, &r, albm_wall_ms(), ag->max_age_ms, e, sizeof(e));
	if (rc < 0) {
		a->rejected++;
		count_reject(ag, reject_reason(rc), e);
		return -(int)reject_reason(rc) - 1;
	}
	if (a->timed_out)
		LOG_INFO("agent '%s' reports again", a->name);
	a->m = r.m;
	a->has_report = true;
	a->timed_out = false;
	a->last_ms = albm_now_ms();
	a->reports++;
	ag->dirty = true;
	return agent_for_followers(d, a, server_take_report);
}

static void agent_free(struct albmd_agent *a)
{
	while (a->nfollowers) /* only at close: the servers stop following */
		agent_unlink(a, a->followers[a->nfollowers - 1]);
	free(a->followers);
	free(a);
}

void albmd_agents_prune(struct albmd *d)
{
	struct albmd_agent **pp;

	if (!d->agents)
		return;
	pp = &d->agents->list;
	while (*pp) {
		struct albmd_agent *a = *pp;
		if (!a->nfollowers) {
			*pp = a->next;
			agent_index_del(d->agents, a);
			agent_free(a);
		} else {
			pp = &a->next;
		}
	}
}

void albmd_agents_tick(struct albmd *d)
{
	uint64_t now = albm_now_ms();

	if (!d->agents)
		return;
	for (struct albmd_agent *a = d->agents->list; a; a = a->next) {
		if (!a->has_report || a->timed_out || now - a->last_ms <= d->agents->timeout_ms)
			continue;
		a->timed_out = true;
		LOG_WARN("agent '%s': no report for %llu ms: its servers are down", a->name,
			 (unsigned long long)(now - a->last_ms));
		agent_for_followers(d, a, server_agent_lost);
	}
}

/* Up to AGENTS_BATCH datagrams in one recvmmsg() and one lock section: at 10,000
 * reports/s a system call and a lock per datagram were most of albmd's CPU
 * (make bench-control). */
static void agents_readable(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_agents *ag = (struct albmd_agents *)io;
	struct albmd *d = evl_data(loop);
	static uint8_t bufs[AGENTS_BATCH][ALBM_REPORT_MAX + 1];
	struct mmsghdr m[AGENTS_BATCH];
	struct iovec iov[AGENTS_BATCH];
	int n;

	(void)revents;
	for (int i = 0; i < AGENTS_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while ((n = recvmmsg(ag->io.fd, m, AGENTS_BATCH, MSG_DONTWAIT, NULL)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		if (errno != EAGAIN)
			LOG_RL(ALBM_LOG_WARN, "recv: %s", strerror(errno));
		return;
	}
	albmd_lock(d);
	for (int i = 0; i < n && d->agents == ag; i++)
		albmd_agents_input(d, bufs[i], m[i].msg_len);
	albmd_unlock(d);
}

/* The entries to write: every agent that accepted a report, and the restored ones not
 * (yet) taken up by an agent, while they can still matter (younger than max-age). */
static void agents_state_text(struct albmd_agents *ag, struct albmd_buf *b)
{
	struct albmd_replay_entry *e = NULL;
	uint64_t now = albm_wall_ms();
	size_t n = 0, cap = 0;

	for (struct albmd_agent *a = ag->list; a; a = a->next) {
		if (n == cap)
			e = xrealloc(e, (cap = cap ? cap * 2 : 16) * sizeof(*e));
		if (a->replay.seen) {
			snprintf(e[n].name, sizeof(e[n].name), "%s", a->name);
			e[n++].st = a->replay;
		}
	}
	for (size_t i = 0; i < ag->nsaved; i++) {
		if (agent_find(ag, ag->saved[i].name) ||
		    ag->saved[i].st.last_ts_ms + ag->max_age_ms < now)
			continue;
		if (n == cap)
			e = xrealloc(e, (cap = cap ? cap * 2 : 16) * sizeof(*e));
		e[n++] = ag->saved[i];
	}
	albmd_replay_format(b, e, n);
	free(e);
}

int albmd_agents_persist(struct albmd *d, struct albmd_agents *ag)
{
	struct albmd_buf b = { 0 };
	char e[512];
	int rc;

	(void)d;
	if (!ag->state_dir[0] || !ag->dirty)
		return 0;
	agents_state_text(ag, &b); /* the main thread is the only writer of the agents */
	ag->dirty = false;
	rc = albmd_replay_save(ag->state_dir, b.p, b.len, e, sizeof(e));
	if (rc < 0)
		LOG_RL(ALBM_LOG_WARN, "replay state not saved: %s", e);
	albmd_buf_free(&b);
	return rc;
}

static void agents_persist_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_agents *ag =
		(struct albmd_agents *)((char *)t - offsetof(struct albmd_agents, persist));

	albmd_agents_persist(ag->d, ag);
	evl_timer_start(loop, t, ALBMD_REPLAY_PERSIST_MS, agents_persist_timer);
}

void albmd_agents_start(struct albmd *d, struct albmd_agents *ag)
{
	int fd = ag->io.fd;

	if (evl_add(d->loop, &ag->io, fd, EPOLLIN, agents_readable) < 0)
		LOG_ERR("agents: epoll: %s", strerror(errno));
	ag->io.fd = fd;
	ag->d = d;
	if (ag->state_dir[0])
		evl_timer_start(d->loop, &ag->persist, ALBMD_REPLAY_PERSIST_MS,
				agents_persist_timer);
}

void albmd_agents_replace(struct albmd *d, struct albmd_agents *old, struct albmd_agents *ag)
{
	if (old) {
		ag->list = old->list;
		old->list = NULL;
		memcpy(ag->index, old->index, sizeof(ag->index));
		memcpy(ag->rejected, old->rejected, sizeof(ag->rejected));
		ag->received = old->received;
		free(ag->saved); /* the running daemon's restored state is the one that counts */
		ag->saved = old->saved;
		ag->nsaved = old->nsaved;
		old->saved = NULL;
		old->nsaved = 0;
		ag->dirty = old->dirty || strcmp(ag->state_dir, old->state_dir);
		old->dirty = false;
		albmd_agents_close(d, old);
	}
	d->agents = ag;
	albmd_agents_start(d, ag);
}

void albmd_agents_close(struct albmd *d, struct albmd_agents *ag)
{
	int fd;

	if (!ag)
		return;
	if (ag->list)
		albmd_agents_persist(d, ag);
	evl_timer_stop(d->loop, &ag->persist);
	free(ag->saved);
	fd = ag->io.fd;
	evl_del(d->loop, &ag->io);
	if (fd >= 0)
		close(fd);
	while (ag->list) {
		struct albmd_agent *a = ag->list;
		ag->list = a->next;
		agent_free(a);
	}
	free(ag);
}
