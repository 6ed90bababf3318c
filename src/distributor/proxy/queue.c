/* ALBM: the proxy's queue — clients waiting for a server (HAProxy's `timeout queue`)
 *
 * A client for whom the scheduler found no server while the service still has a
 * live one (up, not drained: every server is full) waits in its worker's FIFO
 * instead of being closed.  Its socket stays registered but is not read: the
 * request waits in the kernel.  Dispatch runs after an event batch in which a
 * connection of this worker gave a server back, and on the worker's queue timer
 * (ALBMD_QUEUE_POLL_MS while the queue is not empty), which also catches servers
 * freed by other workers, agent reports and the scheduler's tick.  This file only
 * keeps the FIFO and picks: connecting and closing are the caller's (lifecycle.c).
 */
#define LOG_COMPONENT "proxy"
#include "distributor/proxy/queue.h"

#include <errno.h>
#include <sys/socket.h>

#include "common/log.h"
#include "distributor/proxy/conn.h"

#define QUEUE_BLOCKED_MAX 16 /* services skipped in one dispatch pass */

void queue_push(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;

	c->state = CONN_QUEUED;
	c->queued_ms = evl_now(pw->loop);
	c->qnext = NULL;
	c->qprev = pw->qtail;
	if (pw->qtail)
		pw->qtail->qnext = c;
	else
		pw->qhead = c;
	pw->qtail = c;
	if (!evl_timer_armed(&pw->qtimer))
		evl_timer_start(pw->loop, &pw->qtimer, ALBMD_QUEUE_POLL_MS, pw->qtimer_cb);
}

void queue_unlink(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;

	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		pw->qhead = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		pw->qtail = c->qprev;
	c->qprev = c->qnext = NULL;
	c->state = CONN_CONNECTING;
	ALBMD_STAT_SUB(c->svc->st.queued, 1);
}

/* Reset, or end of stream with no request bytes left (a client that sent its
 * request and then shut down writing still waits). */
bool queue_client_gone(struct albmd_conn *c, uint32_t revents)
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

/* A client that waited its queue-timeout: the least-loaded server anyway
 * (queue-overflow least-loaded, where the scheduler has one), else closed. */
static void queue_expire(struct albmd_conn *c, uint64_t waited)
{
	char abuf[ALBM_ADDRSTRLEN];

	albmd_service_lock(c->svc);
	c->srv = conn_overflow(c);
	albmd_service_unlock(c->svc);
	if (c->srv) {
		LOG_RL(ALBM_LOG_INFO,
		       "service '%s': client %s waited %llu ms without a free server "
		       "(queue-timeout): sent to the least loaded, '%s'",
		       c->svc->name, albm_addr_format(&c->peer, abuf, sizeof(abuf)),
		       (unsigned long long)waited, c->srv->name);
		return;
	}
	ALBMD_STAT_ADD(c->svc->st.queue_timeouts, 1);
	LOG_RL(ALBM_LOG_WARN,
	       "service '%s': client %s waited %llu ms without a free server "
	       "(queue-timeout): closed",
	       c->svc->name, albm_addr_format(&c->peer, abuf, sizeof(abuf)),
	       (unsigned long long)waited);
}

struct albmd_conn *queue_take_expired(struct albmd_pworker *pw, uint64_t now)
{
	struct albmd_conn *c, *next, *out = NULL, **tail = &out;

	for (c = pw->qhead; c; c = next) {
		next = c->qnext;
		if (now - c->queued_ms < c->queue_timeout_ms)
			continue;
		queue_unlink(c);
		queue_expire(c, now - c->queued_ms);
		*tail = c; /* the out list reuses qnext */
		tail = &c->qnext;
	}
	return out;
}

static bool svc_listed(struct albmd_service *const *v, size_t n, const struct albmd_service *svc)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == svc)
			return true;
	return false;
}

/* One waiting client under its service lock: true if it leaves the queue (with a
 * server, or for good); false if its service has none free (blocked). */
static bool queue_try(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;

	if (!svc->removed && (c->srv = conn_pick(c)))
		return true;
	if (!svc->removed && conn_svc_has_live_server(svc))
		return false;
	ALBMD_STAT_ADD(svc->st.no_server, 1);
	return true;
}

/* A service whose pick fails is skipped for the rest of the pass, so no client
 * overtakes an older one of its service.  Consecutive clients of one service share
 * one lock section; the lock changes hands when the service does. */
struct albmd_conn *queue_dispatch(struct albmd_pworker *pw)
{
	struct albmd_service *blocked[QUEUE_BLOCKED_MAX], *locked = NULL;
	struct albmd_conn *c, *next, *out = NULL, **tail = &out;
	size_t nblocked = 0;

	pw->released = false;
	for (c = pw->qhead; c && nblocked < QUEUE_BLOCKED_MAX; c = next) {
		next = c->qnext;
		if (svc_listed(blocked, nblocked, c->svc))
			continue;
		/* (a queued client always has its service: conn_admit set it; testing
		 * !locked first keeps c->svc from being compared with NULL) */
		if (!locked || locked != c->svc) {
			if (locked)
				albmd_service_unlock(locked);
			locked = c->svc;
			albmd_service_lock(locked);
		}
		if (!queue_try(c)) {
			blocked[nblocked++] = c->svc;
			continue;
		}
		queue_unlink(c);
		*tail = c;
		tail = &c->qnext;
	}
	if (locked)
		albmd_service_unlock(locked);
	return out;
}
