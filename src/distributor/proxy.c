/* ALBM: albmd's proxy data plane — accept, schedule, connect with retries, relay
 *
 * Each client connection is relayed to the server the service's scheduler picks.
 * Both sockets are registered once, edge-triggered, for reading and writing; the
 * relay keeps nginx-style "ready" flags per socket so that it only makes system
 * calls that can do work.  A direction starts in copy mode (read()/write() through
 * the worker's scratch buffer: the cheapest for small requests and responses) and
 * switches to splice() through a pooled pipe as soon as one read fills the buffer,
 * so bulk transfers never cross user space.  End of stream in one direction is
 * passed on with shutdown(SHUT_WR) once the pending bytes are out (half-close); the
 * connection ends when both directions have, or on an error or timeout.
 *
 * The scheduler is consulted under the daemon lock at accept time and again after a
 * failed connect: the failed server is reported to the passive health check (which
 * may take it out of rotation for fail-timeout) and another server is tried, up to
 * `retries` times, so that a dead server does not fail clients while others are up.
 * When every server is full (the scheduler picks none while one is up and not
 * drained), the client waits in the worker's queue for up to `queue-timeout`
 * (HAProxy's `timeout queue`; "the queue" below).
 */
#define LOG_COMPONENT "proxy"
#include "distributor/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/service.h"

#define CONN_POOL_MAX 1024   /* recycled connection objects kept per worker */
#define ACCEPT_BATCH 64      /* connections accepted per listener event */
#define MAX_TRIED 8

enum conn_state { CONN_CONNECTING, CONN_QUEUED, CONN_RELAY, CONN_CLOSED };
enum { SIDE_CLIENT = 0, SIDE_SERVER = 1 };

/* One direction of the relay: from side `dir` to side `1 - dir`. */
struct conn_dir {
	int pipe[2];        /* splice mode when pipe[0] >= 0 */
	size_t pipe_bytes;  /* bytes waiting in the pipe */
	char *buf;          /* copy mode: bytes read but not yet written */
	uint32_t off, len;
	bool eof, shut;     /* source ended / destination shut down for writing */
	uint64_t bytes, flushed; /* relayed; part already added to the statistics */
};

struct albmd_conn;

/* One socket of a connection; the epoll callback gets &end->io. */
struct conn_end {
	struct evl_io io;  /* first */
	struct albmd_conn *c;
	int side;
};

struct albmd_conn {
	struct albmd_conn *next_free; /* first: the free list links through it */
	struct albmd_conn *prev, *next; /* worker's live list */
	struct albmd_conn *dead_next, *retry_next;
	struct albmd_conn *qprev, *qnext; /* worker's queue (CONN_QUEUED) */
	struct albmd_worker *w;
	struct conn_end end[2];       /* client, server */
	enum conn_state state;
	bool rd_ready[2], wr_ready[2], rdhup[2];
	struct conn_dir dir[2];
	struct albmd_service *svc;
	struct albmd_server *srv;
	struct albmd_server *tried[MAX_TRIED];
	unsigned ntried, attempts;
	struct albm_addr peer;
	uint64_t start_ms, last_ms, queued_ms;
	/* copied from the service at accept time: read without the lock */
	uint64_t connect_timeout_ms, idle_timeout_ms, queue_timeout_ms;
	unsigned retries;
	enum albmd_proxy_proto pp;
	bool splice;
};

static void conn_close(struct albmd_conn *c);
static int conn_connect(struct albmd_conn *c);
static void queue_push(struct albmd_conn *c);

static struct albmd_conn *conn_of(struct evl_io *io, int *side)
{
	struct conn_end *e = (struct conn_end *)io;

	*side = e->side;
	return e->c;
}

/* ---- allocation ---- */

static struct albmd_conn *conn_alloc(struct albmd_worker *w)
{
	struct albmd_conn *c = w->free_conns;

	if (c) {
		w->free_conns = c->next_free;
		w->nfree--;
	} else {
		c = xmalloc(sizeof(*c));
	}
	memset(c, 0, sizeof(*c));
	c->w = w;
	for (int i = 0; i < 2; i++) {
		c->end[i].io.fd = -1;
		c->end[i].c = c;
		c->end[i].side = i;
		c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
	}
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	return c;
}

static void conn_unlink(struct albmd_conn *c)
{
	struct albmd_worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
}

/* ---- statistics: per-connection counters are added up without the lock ---- */

static void conn_flush_stats(struct albmd_conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct conn_dir *dr = &c->dir[i];
		uint64_t delta = dr->bytes - dr->flushed;
		if (!delta)
			continue;
		dr->flushed = dr->bytes;
		if (c->srv)
			ALBMD_STAT_ADD(*(i == 0 ? &c->srv->st.bytes_in : &c->srv->st.bytes_out), delta);
		ALBMD_STAT_ADD(*(i == 0 ? &c->svc->st.bytes_in : &c->svc->st.bytes_out), delta);
	}
}

/* ---- scheduling (lock held) ---- */

static bool conn_tried(const struct albmd_conn *c, const struct albmd_server *srv)
{
	for (unsigned i = 0; i < c->ntried; i++)
		if (c->tried[i] == srv)
			return true;
	return false;
}

/* Pick a server, preferring one not tried yet; opens it in the scheduler. */
static struct albmd_server *conn_pick(struct albmd *d, struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;
	struct albm_flow flow;
	struct albm_dest *dest = NULL;
	struct albm_addr vip = svc->cfg.listen;

	(void)d;
	albm_flow_from_addrs(&flow, &c->peer, &vip);
	for (int k = 0; k < 4; k++) {
		dest = albm_svc_schedule(&svc->sched, &flow);
		if (!dest || !conn_tried(c, albmd_dest_server(dest)))
			break;
	}
	if (!dest)
		return NULL;
	albm_svc_conn_open(&svc->sched, dest, true);
	struct albmd_server *srv = albmd_dest_server(dest);
	albmd_server_ref(srv);
	ALBMD_STAT_ADD(srv->st.picks, 1);
	ALBMD_STAT_ADD(srv->st.conns_active, 1);
	if (c->ntried < MAX_TRIED)
		c->tried[c->ntried++] = srv;
	return srv;
}

/* Give the current server back to the scheduler (lock held). */
static void conn_release_server(struct albmd_conn *c)
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
	c->w->released = true; /* queued clients may take it (after the batch) */
}

/* At least one server up and not drained: the service is full, not gone, so a
 * client may wait for it (lock held). */
static bool svc_has_live_server(const struct albmd_service *svc)
{
	for (size_t i = 0; i < svc->sched.ndests; i++)
		if (albm_dest_live(svc->sched.dests[i]))
			return true;
	return false;
}

/* No server was picked: may the client wait in the queue?  Counts the outcome
 * (lock held; the caller queues it with queue_push() after unlocking). */
static bool conn_may_queue(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;

	if (svc->removed || !svc->cfg.queue_timeout_ms || !svc_has_live_server(svc)) {
		ALBMD_STAT_ADD(svc->st.no_server, 1);
		return false;
	}
	if (ALBMD_STAT_GET(svc->st.queued) >= svc->cfg.queue_max) {
		ALBMD_STAT_ADD(svc->st.refused, 1);
		LOG_RL(ALBM_LOG_WARN, "service '%s': queue full (queue-max %u), client closed",
		       svc->name, svc->cfg.queue_max);
		return false;
	}
	ALBMD_STAT_ADD(svc->st.queued, 1); /* under the lock: queue-max holds exactly */
	ALBMD_STAT_ADD(svc->st.queued_total, 1);
	c->queue_timeout_ms = svc->cfg.queue_timeout_ms;
	return true;
}

/* ---- accept ---- */

static void conn_setup_socket(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

enum conn_admission { ADMIT_CLOSE, ADMIT_CONNECT, ADMIT_QUEUE };

/* Admission and first pick for a new client (lock held). */
static enum conn_admission conn_admit(struct albmd *d, struct albmd_conn *c,
				      struct albmd_service *svc)
{
	if (!svc || svc->removed)
		return ADMIT_CLOSE;
	c->svc = svc;
	albmd_service_ref(svc);
	ALBMD_STAT_ADD(svc->st.conns_active, 1);
	if (svc->cfg.maxconn && ALBMD_STAT_GET(svc->st.conns_active) > svc->cfg.maxconn) {
		ALBMD_STAT_ADD(svc->st.refused, 1);
		return ADMIT_CLOSE;
	}
	ALBMD_STAT_ADD(svc->st.conns_total, 1);
	c->connect_timeout_ms = svc->cfg.connect_timeout_ms;
	c->idle_timeout_ms = svc->cfg.idle_timeout_ms;
	c->retries = svc->cfg.retries;
	c->pp = svc->cfg.proxy_protocol;
	c->splice = d->cfg.splice;
	c->srv = conn_pick(d, c);
	if (c->srv)
		return ADMIT_CONNECT;
	return conn_may_queue(c) ? ADMIT_QUEUE : ADMIT_CLOSE;
}

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents);

static void conn_new(struct albmd_worker *w, struct albmd_listener *l, int fd,
		     const struct albm_addr *peer)
{
	struct albmd *d = w->d;
	struct albmd_conn *c = conn_alloc(w);
	enum conn_admission adm;

	c->peer = *peer;
	c->start_ms = c->last_ms = evl_now(w->loop);
	c->state = CONN_CONNECTING;
	ALBMD_STAT_ADD(d->st.conns_current, 1);
	ALBMD_STAT_ADD(d->st.conns_total, 1);
	/* TCP_NODELAY comes from the listening socket (listener.c) */
	if (evl_add(w->loop, &c->end[SIDE_CLIENT].io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		    conn_io) < 0) {
		close(fd);
		conn_close(c);
		return;
	}
	albmd_lock(d);
	adm = conn_admit(d, c, l->set->svc);
	albmd_unlock(d);
	if (adm == ADMIT_CLOSE)
		conn_close(c);
	else if (adm == ADMIT_QUEUE)
		queue_push(c);
	else
		conn_connect(c);
}

static bool global_full(struct albmd *d)
{
	return d->cfg.maxconn && ALBMD_STAT_GET(d->st.conns_current) >= d->cfg.maxconn;
}

void albmd_proxy_accept(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_listener *l = (struct albmd_listener *)io;
	struct albmd_worker *w = l->w;

	(void)loop;
	(void)revents;
	for (int i = 0; i < ACCEPT_BATCH && l->io.fd >= 0; i++) {
		struct albm_addr peer = { .len = sizeof(peer.u) };
		int fd;

		if (global_full(w->d)) {
			ALBMD_STAT_ADD(w->d->st.conns_refused, 1);
			albmd_proxy_pause(w, true);
			return;
		}
		fd = accept4(l->fd, &peer.u.sa, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				ALBMD_STAT_ADD(w->d->st.accept_errors, 1);
				LOG_RL(ALBM_LOG_ERR, "accept4: %s", strerror(errno));
				if (errno == EMFILE || errno == ENFILE)
					albmd_proxy_pause(w, true); /* resumed by the sweep */
			}
			return;
		}
		conn_new(w, l, fd, &peer);
	}
}

void albmd_proxy_pause(struct albmd_worker *w, bool pause)
{
	if (w->paused == pause)
		return;
	w->paused = pause;
	for (struct albmd_listener *l = w->listeners; l; l = l->next)
		evl_mod(w->loop, &l->io, pause ? 0 : EPOLLIN);
}

/* ---- connect and retry ---- */

static int conn_socket_for(const struct albm_addr *a)
{
	int fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		conn_setup_socket(fd);
	return fd;
}

/* Start connecting to c->srv; on immediate failure queue a retry. */
static int conn_connect(struct albmd_conn *c)
{
	struct albmd_worker *w = c->w;
	int fd = conn_socket_for(&c->srv->addr);

	c->attempts++;
	c->start_ms = evl_now(w->loop);
	c->state = CONN_CONNECTING;
	c->rd_ready[SIDE_SERVER] = c->wr_ready[SIDE_SERVER] = c->rdhup[SIDE_SERVER] = false;
	if (fd < 0 || (connect(fd, &c->srv->addr.u.sa, c->srv->addr.len) < 0 && errno != EINPROGRESS) ||
	    evl_add(w->loop, &c->end[SIDE_SERVER].io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		    conn_io) < 0) {
		LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s': %s", c->svc->name,
		       c->srv->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		c->retry_next = w->retry;
		w->retry = c;
		return -1;
	}
	return 0;
}

/* The connect failed or timed out: close the server socket and queue a retry. */
static void conn_connect_failed(struct albmd_conn *c, const char *why)
{
	struct albmd_worker *w = c->w;

	LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s' failed: %s", c->svc->name,
	       c->srv->name, why);
	evl_close(w->loop, &c->end[SIDE_SERVER].io);
	/* reconnect after the batch: a stale event of the old fd must not meet the new one */
	c->retry_next = w->retry;
	w->retry = c;
}

/* Retry one connection whose connect failed (after the batch). */
static void conn_retry(struct albmd_conn *c)
{
	struct albmd *d = c->w->d;
	struct albmd_server *old = c->srv;
	bool again, queued = false;

	albmd_lock(d);
	albmd_server_connect_result(d, old, false);
	again = c->attempts <= c->retries && !c->svc->removed;
	if (again) {
		ALBMD_STAT_ADD(old->st.retries, 1);
		ALBMD_STAT_ADD(c->svc->st.retries, 1);
	}
	conn_release_server(c);
	if (again && !(c->srv = conn_pick(d, c)))
		queued = conn_may_queue(c);
	albmd_unlock(d);
	if (queued)
		queue_push(c);
	else if (!c->srv)
		conn_close(c);
	else
		conn_connect(c);
}

/* ---- the queue: clients waiting for a server (HAProxy's `timeout queue`) ----
 *
 * A client for whom the scheduler found no server while the service still has a
 * live one (up, not drained: every server is full) waits in its worker's FIFO
 * instead of being closed.  Its socket stays registered but is not read: the
 * request waits in the kernel.  Dispatch runs after an event batch in which a
 * connection of this worker gave a server back, and on the worker's queue timer
 * (ALBMD_QUEUE_POLL_MS while the queue is not empty), which also catches servers
 * freed by other workers, agent reports and the scheduler's tick.
 */

#define QUEUE_BLOCKED_MAX 16 /* services skipped in one dispatch pass */

static void queue_push(struct albmd_conn *c)
{
	struct albmd_worker *w = c->w;

	c->state = CONN_QUEUED;
	c->queued_ms = evl_now(w->loop);
	c->qnext = NULL;
	c->qprev = w->qtail;
	if (w->qtail)
		w->qtail->qnext = c;
	else
		w->qhead = c;
	w->qtail = c;
	albmd_worker_queue_arm(w);
}

/* Take c out of the queue (it continues as CONN_CONNECTING or is being closed). */
static void queue_unlink(struct albmd_conn *c)
{
	struct albmd_worker *w = c->w;

	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		w->qhead = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		w->qtail = c->qprev;
	c->qprev = c->qnext = NULL;
	c->state = CONN_CONNECTING;
	ALBMD_STAT_SUB(c->svc->st.queued, 1);
}

/* The waiting client hung up: reset, or end of stream with no request bytes left
 * (a client that sent its request and then shut down writing still waits). */
static bool queue_client_gone(struct albmd_conn *c, uint32_t revents)
{
	char b;
	ssize_t n;

	if (revents & (EPOLLHUP | EPOLLERR))
		return true;
	if (!(revents & EPOLLRDHUP))
		return false;
	n = recv(c->end[SIDE_CLIENT].io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

static bool svc_listed(struct albmd_service *const *v, size_t n, const struct albmd_service *svc)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == svc)
			return true;
	return false;
}

/* Pick servers for waiting clients, oldest first, under one lock.  A service whose
 * pick fails is skipped for the rest of the pass, so no client overtakes an older
 * one of its service; one whose servers are all gone (down, drained, removed) has
 * its clients closed.  The connects and closes happen after unlocking. */
static void queue_dispatch(struct albmd_worker *w)
{
	struct albmd_service *blocked[QUEUE_BLOCKED_MAX];
	struct albmd_conn *c, *next, *out = NULL, **tail = &out;
	size_t nblocked = 0;

	w->released = false;
	albmd_lock(w->d);
	for (c = w->qhead; c && nblocked < QUEUE_BLOCKED_MAX; c = next) {
		struct albmd_service *svc = c->svc;
		next = c->qnext;
		if (svc_listed(blocked, nblocked, svc))
			continue;
		if (svc->removed || !(c->srv = conn_pick(w->d, c))) {
			if (!svc->removed && svc_has_live_server(svc)) {
				blocked[nblocked++] = svc;
				continue;
			}
			ALBMD_STAT_ADD(svc->st.no_server, 1);
		}
		queue_unlink(c);
		*tail = c; /* the out list reuses qnext */
		tail = &c->qnext;
	}
	albmd_unlock(w->d);
	for (c = out; c; c = next) {
		next = c->qnext;
		c->qnext = NULL;
		if (c->srv)
			conn_connect(c);
		else
			conn_close(c);
	}
}

void albmd_proxy_queue_tick(struct albmd_worker *w)
{
	uint64_t now = evl_now(w->loop);
	struct albmd_conn *c, *next;
	char abuf[ALBM_ADDRSTRLEN];

	for (c = w->qhead; c; c = next) {
		next = c->qnext;
		if (now - c->queued_ms < c->queue_timeout_ms)
			continue;
		ALBMD_STAT_ADD(c->svc->st.queue_timeouts, 1);
		LOG_RL(ALBM_LOG_WARN, "service '%s': client %s waited %llu ms without a free server "
		       "(queue-timeout): closed", c->svc->name,
		       albm_addr_format(&c->peer, abuf, sizeof(abuf)),
		       (unsigned long long)(now - c->queued_ms));
		conn_close(c);
	}
	if (w->qhead)
		queue_dispatch(w);
	if (w->qhead)
		albmd_worker_queue_arm(w);
}

/* ---- PROXY protocol (to the servers) ---- */

static const uint8_t pp2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55,
				     0x49, 0x54, 0x0A };

static int pp_header(struct albmd_conn *c, char *out, size_t len)
{
	struct albm_addr local = { .len = sizeof(local.u) };
	char src[ALBM_ADDRSTRLEN], dst[ALBM_ADDRSTRLEN];
	bool v6;

	if (getsockname(c->end[SIDE_CLIENT].io.fd, &local.u.sa, &local.len) < 0)
		return -1;
	v6 = albm_addr_family(&c->peer) == AF_INET6;
	if (c->pp == ALBMD_PP_V1)
		return snprintf(out, len, "PROXY %s %s %s %u %u\r\n", v6 ? "TCP6" : "TCP4",
				albm_addr_format_host(&c->peer, src, sizeof(src)),
				albm_addr_format_host(&local, dst, sizeof(dst)),
				albm_addr_port(&c->peer), albm_addr_port(&local));
	/* v2: signature, PROXY command, TCP over IPv4 (0x11) or IPv6 (0x21), addresses */
	size_t alen = v6 ? 36 : 12, n = 16 + alen;
	uint16_t sp = htons((uint16_t)albm_addr_port(&c->peer));
	uint16_t dp = htons((uint16_t)albm_addr_port(&local));
	memcpy(out, pp2_sig, 12);
	out[12] = 0x21;
	out[13] = v6 ? 0x21 : 0x11;
	out[14] = (char)(alen >> 8);
	out[15] = (char)(alen & 0xff);
	if (v6) {
		memcpy(out + 16, &c->peer.u.sin6.sin6_addr, 16);
		memcpy(out + 32, &local.u.sin6.sin6_addr, 16);
		memcpy(out + 48, &sp, 2);
		memcpy(out + 50, &dp, 2);
	} else {
		memcpy(out + 16, &c->peer.u.sin.sin_addr, 4);
		memcpy(out + 20, &local.u.sin.sin_addr, 4);
		memcpy(out + 24, &sp, 2);
		memcpy(out + 26, &dp, 2);
	}
	return (int)n;
}

/* ---- relay ---- */

static bool dir_pending(const struct conn_dir *dr)
{
	return dr->pipe_bytes || dr->off < dr->len;
}

static void dir_stash(struct conn_dir *dr, const char *data, size_t n)
{
	if (!dr->buf)
		dr->buf = xmalloc(ALBMD_SCRATCH_SIZE);
	memcpy(dr->buf, data, n);
	dr->off = 0;
	dr->len = (uint32_t)n;
}

/* Write what is pending for direction i; 0 (done or would block) or -1 (error). */
static int dir_flush(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];
	int dst = c->end[1 - i].io.fd;

	while (dir_pending(dr) && c->wr_ready[1 - i]) {
		ssize_t n;
		if (dr->off < dr->len)
			n = write(dst, dr->buf + dr->off, dr->len - dr->off);
		else
			n = splice(dr->pipe[0], NULL, dst, NULL, dr->pipe_bytes,
				   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->wr_ready[1 - i] = false;
				return 0;
			}
			return -1;
		}
		if (dr->off < dr->len)
			dr->off += (uint32_t)n;
		else
			dr->pipe_bytes -= (size_t)n;
	}
	return 0;
}

/* Read once from side i into direction i; >0 bytes, 0 end, -1 error, -2 would block. */
static ssize_t dir_read(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];
	int src = c->end[i].io.fd;
	ssize_t n;

	if (dr->pipe[0] >= 0) {
		n = splice(src, NULL, dr->pipe[1], NULL, ALBMD_PIPE_SIZE,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0)
			dr->pipe_bytes = (size_t)n;
	} else {
		n = read(src, c->w->scratch, ALBMD_SCRATCH_SIZE);
		if (n > 0 && n < ALBMD_SCRATCH_SIZE && !c->rdhup[i])
			c->rd_ready[i] = false; /* short read: drained (ET re-arms on new data) */
	}
	if (n < 0) {
		if (errno == EAGAIN) {
			c->rd_ready[i] = false;
			return -2;
		}
		return errno == EINTR ? -2 : -1;
	}
	return n;
}

/* Copy mode: pass freshly read bytes on, stash what does not fit. */
static int dir_copy_out(struct albmd_conn *c, int i, size_t n)
{
	const char *data = c->w->scratch;
	ssize_t wn = 0;

	if (c->wr_ready[1 - i]) {
		wn = write(c->end[1 - i].io.fd, data, n);
		if (wn < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
			c->wr_ready[1 - i] = false;
			wn = 0;
		} else if ((size_t)wn < n) {
			c->wr_ready[1 - i] = false;
		}
	}
	if ((size_t)wn < n)
		dir_stash(&c->dir[i], data + wn, n - (size_t)wn);
	/* a full buffer means bulk data: move this direction to splice */
	if (c->splice && n == ALBMD_SCRATCH_SIZE && c->dir[i].pipe[0] < 0 &&
	    albmd_worker_pipe_get(c->w, c->dir[i].pipe) < 0)
		c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
	return 0;
}

/* Move data in direction i until it would block; 0 or -1 (error: abort). */
static int dir_pump(struct albmd_conn *c, int i)
{
	struct conn_dir *dr = &c->dir[i];

	for (;;) {
		ssize_t n;
		if (dir_pending(dr)) {
			if (dir_flush(c, i) < 0)
				return -1;
			if (dir_pending(dr))
				return 0;
		}
		if (dr->eof) {
			if (!dr->shut) {
				/* the last direction to end: conn_relay() closes the socket,
				 * which sends the FIN after the queued bytes by itself */
				if (!c->dir[1 - i].shut)
					shutdown(c->end[1 - i].io.fd, SHUT_WR);
				dr->shut = true;
			}
			return 0;
		}
		if (!c->rd_ready[i])
			return 0;
		n = dir_read(c, i);
		if (n == -2)
			continue; /* rd_ready was cleared, or EINTR */
		if (n < 0)
			return -1;
		if (n == 0) {
			dr->eof = true;
			continue;
		}
		dr->bytes += (uint64_t)n;
		c->last_ms = evl_now(c->w->loop);
		if (dr->pipe_bytes == 0 && dir_copy_out(c, i, (size_t)n) < 0)
			return -1;
	}
}

static void conn_relay(struct albmd_conn *c)
{
	if (dir_pump(c, SIDE_CLIENT) < 0 || dir_pump(c, SIDE_SERVER) < 0 ||
	    (c->dir[0].shut && c->dir[1].shut))
		conn_close(c);
}

/* The server socket became writable or failed while connecting. */
static void conn_connected(struct albmd_conn *c, uint32_t revents)
{
	struct albmd *d = c->w->d;
	int err = 0;
	socklen_t len = sizeof(err);

	/* a connect that failed reports EPOLLERR; EPOLLOUT alone means it succeeded */
	if (!(revents & EPOLLOUT) || (revents & (EPOLLERR | EPOLLHUP))) {
		if (getsockopt(c->end[SIDE_SERVER].io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
	if (!err && !(revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return; /* readable before writable: not a verdict yet */
	if (err || (revents & (EPOLLERR | EPOLLHUP)) == (EPOLLERR | EPOLLHUP)) {
		conn_connect_failed(c, strerror(err ? err : ECONNREFUSED));
		return;
	}
	c->state = CONN_RELAY;
	c->last_ms = evl_now(c->w->loop);
	c->wr_ready[SIDE_SERVER] = true;
	c->rd_ready[SIDE_CLIENT] = true; /* its edge may have come while connecting */
	if (__atomic_load_n(&c->srv->fails, __ATOMIC_RELAXED)) {
		albmd_lock(d);
		albmd_server_connect_result(d, c->srv, true);
		albmd_unlock(d);
	}
	if (c->pp != ALBMD_PP_OFF) {
		char hdr[128];
		int n = pp_header(c, hdr, sizeof(hdr));
		if (n <= 0) {
			conn_close(c);
			return;
		}
		dir_stash(&c->dir[SIDE_CLIENT], hdr, (size_t)n);
	}
	conn_relay(c);
}

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	int side;
	struct albmd_conn *c = conn_of(io, &side);

	(void)loop;
	if (c->state == CONN_CLOSED)
		return;
	if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rd_ready[side] = true;
	if (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->wr_ready[side] = true;
	if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup[side] = true;
	if (c->state == CONN_QUEUED) {
		/* its request waits in the kernel; conn_connected() reads it later */
		if (queue_client_gone(c, revents))
			conn_close(c);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		if (side == SIDE_SERVER)
			conn_connected(c, revents);
		return;
	}
	conn_relay(c);
}

/* ---- closing, timeouts, recycling ---- */

static void conn_close(struct albmd_conn *c)
{
	struct albmd_worker *w = c->w;
	struct albmd *d = w->d;

	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_QUEUED)
		queue_unlink(c);
	c->state = CONN_CLOSED;
	for (int i = 0; i < 2; i++) {
		evl_close(w->loop, &c->end[i].io); /* no-op when not open */
		albmd_worker_pipe_put(w, c->dir[i].pipe, c->dir[i].pipe_bytes == 0);
		free(c->dir[i].buf);
		c->dir[i].buf = NULL;
	}
	if (c->svc) {
		albmd_lock(d);
		conn_release_server(c);
		albmd_unlock(d);
		conn_flush_stats(c);
		ALBMD_STAT_SUB(c->svc->st.conns_active, 1);
		albmd_service_unref(c->svc);
		c->svc = NULL;
	}
	ALBMD_STAT_SUB(d->st.conns_current, 1);
	conn_unlink(c);
	c->dead_next = w->dead;
	w->dead = c;
}

static void proxy_retries(struct albmd_worker *w)
{
	while (w->retry) {
		struct albmd_conn *c = w->retry;
		w->retry = c->retry_next;
		if (c->state != CONN_CLOSED)
			conn_retry(c);
	}
}

void albmd_proxy_after_batch(struct albmd_worker *w)
{
	proxy_retries(w);
	if (w->released && w->qhead) {
		queue_dispatch(w);
		proxy_retries(w); /* connects that failed at once */
	}
	if (!w->qhead)
		w->released = false;
	while (w->dead) {
		struct albmd_conn *c = w->dead;
		w->dead = c->dead_next;
		if (w->nfree < CONN_POOL_MAX) {
			c->next_free = w->free_conns;
			w->free_conns = c;
			w->nfree++;
		} else {
			free(c);
		}
	}
}

void albmd_proxy_sweep(struct albmd_worker *w)
{
	uint64_t now = evl_now(w->loop);
	struct albmd_conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_CONNECTING && c->end[SIDE_SERVER].io.fd >= 0 &&
		    now - c->start_ms >= c->connect_timeout_ms) {
			conn_connect_failed(c, "connect timeout");
		} else if (c->state == CONN_RELAY && now - c->last_ms >= c->idle_timeout_ms) {
			LOG_DEBUG("service '%s': idle timeout", c->svc->name);
			conn_close(c);
		} else if (c->state == CONN_RELAY && c->svc) {
			conn_flush_stats(c);
		}
	}
	if (w->paused && !global_full(w->d))
		albmd_proxy_pause(w, false);
}

void albmd_proxy_close_all(struct albmd_worker *w)
{
	while (w->conns)
		conn_close(w->conns);
}
