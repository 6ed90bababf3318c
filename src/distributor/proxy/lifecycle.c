/* ALBM: a proxy connection's life — admission, connect with retries, relay, close
 *
 * Each client connection is relayed to the server the service's scheduler picks.
 * The scheduler is consulted under the service lock at accept time (one section
 * for all the clients of an accept batch) and again after a failed connect: the
 * failed server is reported to the passive health check (which may take it out of
 * rotation for fail-timeout) and another server is tried, up to `retries` times, so
 * that a dead server does not fail clients while others are up.  When every server
 * is full (the scheduler picks none while one is up and not drained), the client
 * waits in the worker's queue (queue.c) for up to `queue-timeout`.  The bytes move
 * in relay.c; the objects and the scheduler calls are conn.c's.
 */
#define LOG_COMPONENT "proxy"
#include "distributor/proxy/lifecycle.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "distributor/proxy/conn.h"
#include "distributor/proxy/fastpath.h"
#include "distributor/proxy/pp.h"
#include "distributor/proxy/queue.h"
#include "distributor/proxy/relay.h"
#include "distributor/service.h"

#define ACCEPT_BATCH_MAX 64

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents);

/* ---- closing ---- */

static void conn_close(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;

	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_QUEUED)
		queue_unlink(c);
	fastpath_closing(c); /* the fast path: its final counts */
	for (int i = 0; i < 2; i++)
		evl_close(pw->loop, &c->end[i].io); /* no-op when not open */
	relay_release(c);
	conn_bury(c); /* its server goes back in the worker's next lock section */
}

/* Close every connection of a list chained by qnext (queue.c's results). */
static void close_list(struct albmd_conn *c)
{
	while (c) {
		struct albmd_conn *next = c->qnext;
		c->qnext = NULL;
		conn_close(c);
		c = next;
	}
}

/* ---- connect and retry ---- */

static void retry_later(struct albmd_conn *c)
{
	/* after the batch: a stale event of the old fd must not meet the new one */
	c->retry_next = c->pw->retry;
	c->pw->retry = c;
}

/* Start connecting to c->srv; on immediate failure queue a retry. */
static void conn_connect(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;
	const struct albm_addr *a = &c->srv->addr;
	int one = 1, fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	c->attempts++;
	c->start_ms = evl_now(pw->loop);
	c->state = CONN_CONNECTING;
	c->rd_ready[SIDE_SERVER] = c->wr_ready[SIDE_SERVER] = c->rdhup[SIDE_SERVER] = false;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fd < 0 || (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) ||
	    evl_add(pw->loop, &c->end[SIDE_SERVER].io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		    conn_io) < 0) {
		LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s': %s", c->svc->name,
		       c->srv->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		retry_later(c);
	}
}

/* The connect failed or timed out: close the server socket and queue a retry. */
static void conn_connect_failed(struct albmd_conn *c, const char *why)
{
	LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s' failed: %s", c->svc->name,
	       c->srv->name, why);
	evl_close(c->pw->loop, &c->end[SIDE_SERVER].io);
	retry_later(c);
}

/* Connect the clients of a list chained by qnext that got a server, close the others. */
static void connect_list(struct albmd_conn *c)
{
	while (c) {
		struct albmd_conn *next = c->qnext;
		c->qnext = NULL;
		if (c->srv)
			conn_connect(c);
		else
			conn_close(c);
		c = next;
	}
}

/* Retry one connection whose connect failed (after the batch). */
static void conn_retry(struct albmd_conn *c)
{
	struct albmd_service *svc = c->svc;
	struct albmd_server *old = c->srv;
	bool again, queued = false;

	albmd_service_lock(svc);
	albmd_server_connect_result(c->pw->d, old, false);
	again = c->attempts <= c->retries && !svc->removed;
	if (again) {
		ALBMD_STAT_ADD(old->st.retries, 1);
		ALBMD_STAT_ADD(svc->st.retries, 1);
	}
	conn_release_server(c);
	if (again && !(c->srv = conn_pick(c)))
		queued = conn_may_queue(c);
	albmd_service_unlock(svc);
	if (queued)
		queue_push(c);
	else if (!c->srv)
		conn_close(c);
	else
		conn_connect(c);
}

static void proxy_retries(struct albmd_pworker *pw)
{
	while (pw->retry) {
		struct albmd_conn *c = pw->retry;
		pw->retry = c->retry_next;
		if (c->state != CONN_CLOSED)
			conn_retry(c);
	}
}

/* ---- accept ---- */

/* A new connection for an accepted socket, registered; NULL (fd closed) on failure. */
static struct albmd_conn *conn_new(struct albmd_pworker *pw, int fd, const struct albm_addr *peer)
{
	struct albmd_conn *c = conn_alloc(pw);

	c->peer = *peer;
	c->start_ms = c->last_ms = evl_now(pw->loop);
	c->state = CONN_CONNECTING;
	/* TCP_NODELAY comes from the listening socket (listener.c) */
	if (evl_add(pw->loop, &c->end[SIDE_CLIENT].io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		    conn_io) < 0) {
		close(fd);
		conn_close(c);
		return NULL;
	}
	return c;
}

/* The service l feeds now, referenced (NULL: none). */
static struct albmd_service *listener_service(struct albmd_listener *l)
{
	struct albmd_service *svc;

	pthread_mutex_lock(&l->lock);
	svc = l->svc;
	if (svc)
		albmd_service_ref(svc);
	pthread_mutex_unlock(&l->lock);
	return svc;
}

/* Lock the service l feeds, for a batch of its clients; NULL if none.  A reload may
 * hand the address to a new service and retire the old one between reading the
 * listener and locking: then the new one is taken. */
static struct albmd_service *lock_listener_service(struct albmd_pworker *pw,
						   struct albmd_listener *l)
{
	struct albmd_service *svc = listener_service(l), *now;

	for (int i = 0; svc; i++) {
		conn_release_dead(pw, svc); /* returns with svc's lock held */
		if (!svc->removed || i == 3)
			return svc;
		now = listener_service(l); /* the listener's lock is a leaf */
		if (now == svc) { /* no successor: its clients are closed */
			albmd_service_unref(now);
			return svc;
		}
		albmd_service_unlock(svc);
		albmd_service_unref(svc);
		svc = now;
	}
	return NULL;
}

void proxy_accepted(struct albmd_pworker *pw, struct albmd_listener *l, const int *fds,
		    const struct albm_addr *peers, unsigned n)
{
	struct albmd_conn *cs[ACCEPT_BATCH_MAX];
	enum conn_admission adm[ACCEPT_BATCH_MAX];
	bool splice = __atomic_load_n(&pw->d->hot.splice, __ATOMIC_RELAXED);
	struct albmd_service *svc;
	unsigned k = 0;

	for (unsigned i = 0; i < n && i < ACCEPT_BATCH_MAX; i++)
		if ((cs[k] = conn_new(pw, fds[i], &peers[i])))
			k++;
	if (!(svc = lock_listener_service(pw, l))) {
		for (unsigned i = 0; i < k; i++)
			conn_close(cs[i]);
		return;
	}
	for (unsigned i = 0; i < k; i++)
		adm[i] = conn_admit(cs[i], svc, splice);
	albmd_service_unlock(svc);
	albmd_service_unref(svc); /* the admitted connections hold their own */
	for (unsigned i = 0; i < k; i++) {
		if (adm[i] == ADMIT_CLOSE)
			conn_close(cs[i]);
		else if (adm[i] == ADMIT_QUEUE)
			queue_push(cs[i]);
		else
			conn_connect(cs[i]);
	}
}

/* ---- events ---- */

static void conn_relay(struct albmd_conn *c)
{
	if (relay_pump(c) != 0)
		conn_close(c);
	else
		fastpath_offer(c); /* the relay is established: offer it to the fast path */
}

/* The connect succeeded: the PROXY protocol header first, then the relay. */
static void conn_established(struct albmd_conn *c)
{
	struct albm_addr local = { .len = sizeof(local.u) };
	char hdr[ALBMD_PP_HEADER_MAX];
	int n;

	c->state = CONN_RELAY;
	c->last_ms = evl_now(c->pw->loop);
	c->wr_ready[SIDE_SERVER] = true;
	c->rd_ready[SIDE_CLIENT] = true; /* its edge may have come while connecting */
	if (__atomic_load_n(&c->srv->fails, __ATOMIC_RELAXED)) {
		albmd_service_lock(c->svc);
		albmd_server_connect_result(c->pw->d, c->srv, true);
		albmd_service_unlock(c->svc);
	}
	if (c->pp != ALBMD_PP_OFF) {
		if (getsockname(c->end[SIDE_CLIENT].io.fd, &local.u.sa, &local.len) < 0 ||
		    (n = albmd_pp_header(c->pp, &c->peer, &local, hdr, sizeof(hdr))) <= 0) {
			conn_close(c);
			return;
		}
		relay_stash(c, SIDE_CLIENT, hdr, (size_t)n);
	}
	conn_relay(c);
}

/* The server socket became writable or failed while connecting. */
static void conn_connected(struct albmd_conn *c, uint32_t revents)
{
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
	conn_established(c);
}

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct conn_end *e = (struct conn_end *)io;
	struct albmd_conn *c = e->c;
	int side = e->side;

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
		/* its request waits in the kernel; conn_established() reads it later */
		if (queue_client_gone(c, revents))
			conn_close(c);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		if (side == SIDE_SERVER)
			conn_connected(c, revents);
		return;
	}
	if (c->k.state != KERNEL_OFF && !fastpath_event(c, revents))
		return; /* the fast path relays it (until it gives it back) */
	conn_relay(c);
}

/* ---- after a batch, timers, shutdown ---- */

void proxy_after_batch(struct albmd_pworker *pw)
{
	proxy_retries(pw);
	conn_release_dead(pw, NULL); /* before the queue looks for free servers */
	if (pw->released && pw->qhead) {
		connect_list(queue_dispatch(pw));
		proxy_retries(pw); /* connects that failed at once */
	}
	if (!pw->qhead)
		pw->released = false;
	conn_reap(pw);
}

void proxy_queue_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_pworker *pw = (struct albmd_pworker *)((char *)t - offsetof(struct albmd_pworker, qtimer));

	close_list(queue_take_expired(pw, evl_now(loop)));
	if (pw->qhead) {
		conn_release_dead(pw, NULL);
		connect_list(queue_dispatch(pw));
	}
	if (pw->qhead && !evl_timer_armed(&pw->qtimer))
		evl_timer_start(loop, &pw->qtimer, ALBMD_QUEUE_POLL_MS, proxy_queue_timer);
}

void proxy_sweep_conns(struct albmd_pworker *pw)
{
	uint64_t now = evl_now(pw->loop);
	struct albmd_conn *c, *next;

	for (c = pw->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_RELAY && c->k.state != KERNEL_OFF)
			fastpath_sweep(c, now); /* the fast path's byte counts and last activity */
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
}

void proxy_close_all(struct albmd_pworker *pw)
{
	while (pw->conns)
		conn_close(pw->conns);
	pw->retry = NULL; /* all closed: nothing to retry */
	conn_reap(pw);
}
