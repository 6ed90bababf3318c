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
#include "distributor/proxy/alog.h"
#include "distributor/proxy/conn.h"
#include "distributor/proxy/fastpath.h"
#include "distributor/proxy/passive.h"
#include "distributor/proxy/pp.h"
#include "distributor/proxy/queue.h"
#include "distributor/proxy/relay.h"
#include "distributor/service.h"

#define ACCEPT_BATCH_MAX 64

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents);

/* ---- closing ---- */

/* The phase a connection ends in (the access log's second letter): queued, connecting
 * (or admitted without a server yet), or relaying data. */
static char conn_phase(const struct albmd_conn *c)
{
	return c->state == CONN_QUEUED ? 'Q' : c->state == CONN_CONNECTING ? 'C' : 'D';
}

/* An abort seen on one side of a relayed connection goes on to the other as an abort:
 * a close with SO_LINGER 0 sends a reset, so a truncated transfer never looks like a
 * complete one (a clean end of stream stays a FIN).  Counted on the service and the
 * server. */
static void conn_pass_abort(struct albmd_conn *c, char cause)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	int other = cause == 'C' ? SIDE_SERVER : SIDE_CLIENT;
	bool by_client = cause == 'C';

	if (c->end[other].io.fd >= 0)
		setsockopt(c->end[other].io.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	ALBMD_STAT_ADD(*(by_client ? &c->svc->st.client_aborts : &c->svc->st.server_aborts), 1);
	if (c->srv)
		ALBMD_STAT_ADD(*(by_client ? &c->srv->st.client_aborts : &c->srv->st.server_aborts),
			       1);
}

/* Time spent in the queue, added up when a client leaves it (the access log's Tw). */
static void conn_unqueued(struct albmd_conn *c)
{
	if (c->queued_ms) {
		c->wait_ms += (uint32_t)(evl_now(c->pw->loop) - c->queued_ms);
		c->queued_ms = 0;
	}
}

/*
 * Close a connection; `cause` says who ended it, with HAProxy's letters, and `phase`
 * when (the access log's termination state, docs/albmd.md): '-' both sides finished,
 * 'C' / 'S' the client / server aborted (a reset or an error; the server also when it
 * refused or none was left), 'c' / 's' a client-side / server-side timeout, 'R' a local
 * resource ran out, 'P' a limit of the proxy, 'K' shutdown or reload, 'I' an internal
 * error; phase 'Q' queued, 'C' connecting, 'D' relaying data.
 */
static void conn_close_in(struct albmd_conn *c, char cause, char phase)
{
	struct albmd_pworker *pw = c->pw;

	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_RELAY && (cause == 'C' || cause == 'S'))
		conn_pass_abort(c, cause);
	if (c->state == CONN_QUEUED)
		queue_unlink(c);
	conn_unqueued(c);
	c->term[0] = cause;
	c->term[1] = cause == '-' ? '-' : phase; /* "--": a normal end */
	if (pw->alog)
		alog_conn(pw, c, evl_now(pw->loop));
	passive_closing(c);
	fastpath_closing(c); /* the fast path: its final counts */
	for (int i = 0; i < 2; i++)
		evl_close(pw->loop, &c->end[i].io); /* no-op when not open */
	relay_release(c);
	conn_bury(c); /* its server goes back in the worker's next lock section */
}

static void conn_close(struct albmd_conn *c, char cause)
{
	conn_close_in(c, cause, conn_phase(c));
}

/* ---- connect and retry ---- */

static void retry_later(struct albmd_conn *c)
{
	passive_connect_failed(c);
	/* after the batch: a stale event of the old fd must not meet the new one */
	c->retry_next = c->pw->retry;
	c->pw->retry = c;
}

/* A failure of albmd's own, not the server's: no descriptor, no kernel memory, no
 * local port.  It is never reported to the passive health check. */
static bool local_failure(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL || err == ENOSPC;
}

/* The backend socket of an accepted client could not be made: close the client (the
 * server is given back untouched) and, on a shortage, pause accepting a moment. */
static void conn_local_failure(struct albmd_conn *c, int err)
{
	struct albmd_pworker *pw = c->pw;

	ALBMD_STAT_ADD(pw->d->st.refusals[ALBMD_REFUSE_BACKEND], 1);
	LOG_RL(ALBM_LOG_ERR,
	       "service '%s': no backend socket for server '%s': %s (a local "
	       "shortage, not the server's fault: client closed)",
	       c->svc->name, c->srv->name, strerror(err));
	if (err != EADDRNOTAVAIL)
		pw->pause_until_ms = evl_now(pw->loop) + ALBMD_ACCEPT_PAUSE_MS;
	conn_close(c, 'R');
}

/* Start connecting to c->srv; on immediate failure queue a retry. */
static void conn_connect(struct albmd_conn *c)
{
	struct albmd_pworker *pw = c->pw;
	const struct albm_addr *a = &c->srv->addr;
	int one = 1, err,
	    fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	c->attempts++;
	c->start_ms = evl_now(pw->loop);
	conn_unqueued(c);
	c->state = CONN_CONNECTING;
	c->rd_ready[SIDE_SERVER] = c->wr_ready[SIDE_SERVER] = c->rdhup[SIDE_SERVER] = false;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	passive_connecting(c);
	if (fd < 0 || (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) ||
	    evl_add(pw->loop, &c->end[SIDE_SERVER].io, fd,
		    EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, conn_io) < 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		if (local_failure(err)) {
			conn_local_failure(c, err);
			return;
		}
		LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s': %s", c->svc->name,
		       c->srv->name, strerror(err));
		c->connect_timed_out = false;
		retry_later(c);
	}
}

/* The connect failed or timed out: close the server socket and queue a retry. */
static void conn_connect_failed(struct albmd_conn *c, const char *why, bool timeout)
{
	LOG_RL(ALBM_LOG_WARN, "service '%s': connect to server '%s' failed: %s", c->svc->name,
	       c->srv->name, why);
	c->connect_timed_out = timeout;
	evl_close(c->pw->loop, &c->end[SIDE_SERVER].io);
	retry_later(c);
}

/* Connect the clients of a list chained by qnext that got a server, close the others. */
static void connect_list(struct albmd_conn *c, char close_cause)
{
	while (c) {
		struct albmd_conn *next = c->qnext;
		c->qnext = NULL;
		if (c->srv)
			conn_connect(c);
		else
			conn_close_in(c, close_cause, 'Q'); /* no server for a waiting client */
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
		conn_close(c, c->refusal ? c->refusal : c->connect_timed_out ? 's' : 'S');
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
	c->accept_ms = c->start_ms = c->last_ms = evl_now(pw->loop);
	c->connect_ms = UINT32_MAX; /* not connected yet (the access log's Tc) */
	c->state = CONN_CONNECTING;
	/* TCP_NODELAY comes from the listening socket (listener.c) */
	if (evl_add(pw->loop, &c->end[SIDE_CLIENT].io, fd,
		    EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, conn_io) < 0) {
		close(fd);
		conn_close(c, 'R');
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
		if (now == svc) {          /* no successor: its clients are closed */
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
			conn_close(cs[i], 'K');
		return;
	}
	for (unsigned i = 0; i < k; i++)
		adm[i] = conn_admit(cs[i], svc, splice);
	albmd_service_unlock(svc);
	albmd_service_unref(svc); /* the admitted connections hold their own */
	for (unsigned i = 0; i < k; i++) {
		if (adm[i] == ADMIT_CLOSE)
			conn_close(cs[i], cs[i]->refusal ? cs[i]->refusal : 'S');
		else if (adm[i] == ADMIT_QUEUE)
			queue_push(cs[i]);
		else
			conn_connect(cs[i]);
	}
}

/* ---- events ---- */

static void conn_relay(struct albmd_conn *c)
{
	uint64_t t0 = passive_pump_start(c);
	int rc = relay_pump(c);

	passive_relayed(c, t0);
	if (rc > 0)
		conn_close(c, '-');
	else if (rc < 0)
		conn_close(c, c->failed_side < 0 ? 'R' : c->failed_side == SIDE_CLIENT ? 'C' : 'S');
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
	c->connect_ms = (uint32_t)(c->last_ms - c->start_ms);
	passive_connected(c);
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
			conn_close(c, 'I');
			return;
		}
		if (relay_stash(c, SIDE_CLIENT, hdr, (size_t)n) < 0) {
			conn_close(c, 'R');
			return;
		}
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
		conn_connect_failed(c, strerror(err ? err : ECONNREFUSED), err == ETIMEDOUT);
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
			conn_close(c, 'C');
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
		connect_list(queue_dispatch(pw), 'S');
		proxy_retries(pw); /* connects that failed at once */
	}
	if (!pw->qhead)
		pw->released = false;
	conn_reap(pw);
}

void proxy_queue_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_pworker *pw =
		(struct albmd_pworker *)((char *)t - offsetof(struct albmd_pworker, qtimer));

	/* overflow to a server, or closed as timed out */
	connect_list(queue_take_expired(pw, evl_now(loop)), 's');
	if (pw->qhead) {
		conn_release_dead(pw, NULL);
		connect_list(queue_dispatch(pw), 'S');
	}
	if (pw->qhead && !evl_timer_armed(&pw->qtimer))
		evl_timer_start(loop, &pw->qtimer, ALBMD_QUEUE_POLL_MS, proxy_queue_timer);
}

/* The timeout that struck a relayed connection ('c' client side, 's' server side), or
 * 0.  Once one side has finished its stream, the other gets the shorter fin timeout
 * (HAProxy's `timeout client-fin` / `server-fin`): a half-closed connection whose
 * peer fell silent does not hold two descriptors for the whole idle-timeout. */
static char relay_timeout(const struct albmd_conn *c, uint64_t now)
{
	uint64_t idle = now - c->last_ms;

	if (c->dir[SIDE_CLIENT].eof && idle >= c->server_fin_timeout_ms)
		return 's'; /* the client has finished: the server is expected */
	if (c->dir[SIDE_SERVER].eof && idle >= c->client_fin_timeout_ms)
		return 'c'; /* the server has finished: the client is expected */
	return idle >= c->idle_timeout_ms ? 'c' : 0;
}

void proxy_sweep_conns(struct albmd_pworker *pw)
{
	uint64_t now = evl_now(pw->loop);
	struct albmd_conn *c, *next;
	char why;

	for (c = pw->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_RELAY && c->k.state != KERNEL_OFF)
			fastpath_sweep(c, now); /* the fast path's byte counts and last activity */
		if (c->state == CONN_CONNECTING && c->end[SIDE_SERVER].io.fd >= 0 &&
		    now - c->start_ms >= c->connect_timeout_ms) {
			conn_connect_failed(c, "connect timeout", true);
		} else if (c->state == CONN_RELAY && (why = relay_timeout(c, now))) {
			LOG_DEBUG("service '%s': %s timeout", c->svc->name,
				  c->dir[SIDE_CLIENT].eof   ? "server-fin"
				  : c->dir[SIDE_SERVER].eof ? "client-fin"
							    : "idle");
			conn_close(c, why);
		} else if (c->state == CONN_RELAY && c->svc) {
			conn_flush_stats(c);
		}
	}
}

void proxy_close_all(struct albmd_pworker *pw)
{
	while (pw->conns)
		conn_close(pw->conns, 'K');
	pw->retry = NULL; /* all closed: nothing to retry */
	conn_reap(pw);
}
