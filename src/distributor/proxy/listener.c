/* ALBM: the proxy's listeners — one socket per worker per service address
 *
 * The work behind the proxy data plane's prepare/start/stop (plane.c).  A
 * listener set is bound in prepare() so that a reload whose address is taken fails
 * before anything changes; a set whose address another (or the same) service
 * already holds is reused, so a reload never closes and re-binds a listening
 * address (no refused connections, no SO_REUSEPORT needed with one worker).  Each
 * worker gets its own socket (SO_REUSEPORT spreads the clients); the main thread
 * posts it to the worker's inbox, which registers it and later closes it.  The
 * service a listener feeds is the listener's own reference under its leaf lock, so
 * that a reload can hand the address to another service while the worker accepts.
 */
#define LOG_COMPONENT "listener"
#include "distributor/proxy/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy/lifecycle.h"
#include "distributor/service.h"

#define ACCEPT_BATCH  16 /* connections accepted, then admitted in one lock section */
#define ACCEPT_ROUNDS 4  /* batches per listener event */

static int listen_socket(const struct albm_addr *a, bool reuseport, char *err, size_t errlen)
{
	char abuf[ALBM_ADDRSTRLEN];
	int one = 1, fd;

	fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		albm_seterr(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (albm_addr_family(a) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* accepted sockets inherit it: saves a setsockopt() per connection */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, &a->u.sa, a->len) < 0 || listen(fd, SOMAXCONN) < 0) {
		int rc = -errno;
		albm_seterr(err, errlen, "listen on %s: %s",
			    albm_addr_format(a, abuf, sizeof(abuf)), strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* ---- accepting (the worker's thread) ---- */

/*
 * Room for one more client beside the n accepted in this batch, or why not (a refusal
 * cause, else -1).  HAProxy's rule: accept only a client whose backend socket can be
 * made, so every live connection keeps two descriptors of the budget (fdlimit.c) and
 * the splice pipes count too; descriptors never run out in the middle of a connect,
 * where a failure would look like the server's.  The global maxconn and the memory
 * guard (memguard.c) pause accepting the same way.
 */
static int accept_refusal(struct albmd *d, unsigned n)
{
	uint64_t conns = ALBMD_STAT_GET(d->st.conns_current) + n;
	uint64_t max = __atomic_load_n(&d->hot.maxconn, __ATOMIC_RELAXED);
	uint64_t fds = 2 * (conns + 1) + 2 * ALBMD_STAT_GET(d->st.pipes);

	if (max && conns >= max)
		return ALBMD_REFUSE_MAXCONN;
	if (fds > __atomic_load_n(&d->hot.fd_budget, __ATOMIC_RELAXED))
		return ALBMD_REFUSE_FD_HEADROOM;
	max = __atomic_load_n(&d->hot.mem_conn_cap, __ATOMIC_RELAXED); /* 0: no memory limit */
	if ((max && conns >= max) || __atomic_load_n(&d->hot.mem_pressure, __ATOMIC_RELAXED))
		return ALBMD_REFUSE_MEMORY;
	return -1;
}

void listener_pause(struct albmd_pworker *pw, bool pause)
{
	if (pw->paused == pause)
		return;
	pw->paused = pause;
	for (struct albmd_listener *l = pw->listeners; l; l = l->next)
		evl_mod(pw->loop, &l->io, pause ? 0 : EPOLLIN);
}

/* Stop accepting for a reason; counted once per pause. */
static void pause_for(struct albmd_pworker *pw, int cause, uint64_t hold_ms)
{
	struct albmd *d = pw->d;

	if (hold_ms)
		pw->pause_until_ms = evl_now(pw->loop) + hold_ms;
	if (pw->paused)
		return;
	ALBMD_STAT_ADD(d->st.refusals[cause], 1);
	if (cause == ALBMD_REFUSE_MAXCONN)
		ALBMD_STAT_ADD(d->st.conns_refused, 1);
	else if (cause == ALBMD_REFUSE_FD_HEADROOM)
		LOG_RL(ALBM_LOG_WARN,
		       "accepting paused: %llu connections hold the descriptor "
		       "budget of %llu (RLIMIT_NOFILE less a reserve; raise LimitNOFILE=)",
		       (unsigned long long)ALBMD_STAT_GET(d->st.conns_current),
		       (unsigned long long)__atomic_load_n(&d->hot.fd_budget, __ATOMIC_RELAXED));
	else if (cause == ALBMD_REFUSE_MEMORY)
		LOG_RL(ALBM_LOG_WARN, "accepting paused: the memory cgroup is near its limit");
	listener_pause(pw, true);
}

void listener_update(struct albmd_pworker *pw)
{
	if (pw->pause_until_ms) {
		if (pw->pause_until_ms > evl_now(pw->loop)) {
			listener_pause(pw, true); /* a shortage asked for a moment */
			return;
		}
		pw->pause_until_ms = 0;
	}
	if (pw->paused && accept_refusal(pw->d, 0) < 0)
		listener_pause(pw, false);
}

/* accept4() failed with err: count it, and pause on a shortage (no busy loop on a
 * level-triggered listener whose pending client cannot be taken). */
static void accept_failed(struct albmd_pworker *pw, int err)
{
	int cause = err == EMFILE                       ? ALBMD_REFUSE_EMFILE
		    : err == ENFILE                     ? ALBMD_REFUSE_ENFILE
		    : (err == ENOBUFS || err == ENOMEM) ? ALBMD_REFUSE_NOMEM
							: -1;

	ALBMD_STAT_ADD(pw->d->st.accept_errors, 1);
	LOG_RL(ALBM_LOG_ERR, "accept4: %s%s", strerror(err),
	       cause >= 0 ? " (accepting paused for 100 ms)" : "");
	if (cause >= 0)
		pause_for(pw, cause, ALBMD_ACCEPT_PAUSE_MS);
}

/* Accept up to ACCEPT_BATCH clients; how many, and whether to go on. */
static unsigned accept_batch(struct albmd_listener *l, int *fds, struct albm_addr *peers,
			     bool *more)
{
	struct albmd_pworker *pw = l->pw;
	unsigned n = 0;
	int cause;

	*more = false;
	while (n < ACCEPT_BATCH) {
		if ((cause = accept_refusal(pw->d, n)) >= 0) {
			pause_for(pw, cause, 0);
			return n;
		}
		peers[n].len = sizeof(peers[n].u);
		fds[n] =
			accept4(l->fd, &peers[n].u.sa, &peers[n].len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fds[n] >= 0) {
			n++;
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN)
			accept_failed(pw, errno);
		return n;
	}
	*more = true;
	return n;
}

static void listener_accept(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_listener *l = (struct albmd_listener *)io;
	int fds[ACCEPT_BATCH];
	struct albm_addr peers[ACCEPT_BATCH];
	bool more = true;

	(void)loop;
	(void)revents;
	for (int r = 0; r < ACCEPT_ROUNDS && more && l->io.fd >= 0; r++) {
		unsigned n = accept_batch(l, fds, peers, &more);
		if (!n)
			break;
		proxy_accepted(l->pw, l, fds, peers, n);
	}
}

/* ---- the inbox: registering and closing (the worker's thread) ---- */

static void listener_set_service(struct albmd_listener *l, struct albmd_service *svc)
{
	struct albmd_service *old;

	if (svc)
		albmd_service_ref(svc);
	pthread_mutex_lock(&l->lock);
	old = l->svc;
	l->svc = svc;
	pthread_mutex_unlock(&l->lock);
	if (old)
		albmd_service_unref(old);
}

static void listener_free(struct albmd_listener *l)
{
	listener_set_service(l, NULL);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void lset_free(struct albmd_lset *set)
{
	if (set->svc)
		albmd_service_unref(set->svc);
	free(set->l);
	free(set);
}

static void listener_close(struct albmd_pworker *pw, struct albmd_listener *l)
{
	struct albmd_lset *set = l->set;

	if (l->registered) {
		struct albmd_listener **pp = &pw->listeners;
		while (*pp && *pp != l)
			pp = &(*pp)->next;
		if (*pp)
			*pp = l->next;
		evl_del(pw->loop, &l->io);
	}
	close(l->fd);
	listener_set_service(l, NULL);
	pthread_mutex_destroy(&l->lock);
	evl_defer_free(pw->loop, l); /* its io may still be in this batch */
	if (__atomic_sub_fetch(&set->pending, 1, __ATOMIC_ACQ_REL) == 0)
		lset_free(set);
}

static void listener_work(struct albmd_worker *w, struct albmd_work *work, unsigned ops)
{
	struct albmd_listener *l =
		(struct albmd_listener *)((char *)work - offsetof(struct albmd_listener, work));
	struct albmd_pworker *pw = l->pw;

	if (ops & LISTENER_OP_CLOSE) {
		listener_close(pw, l);
		return;
	}
	if (l->registered)
		return;
	if (evl_add(pw->loop, &l->io, l->fd, pw->paused ? 0 : EPOLLIN, listener_accept) < 0) {
		LOG_ERR("worker %u: epoll_ctl(ADD, listener fd=%d): %s", w->id, l->fd,
			strerror(errno));
		return;
	}
	l->registered = true;
	l->next = pw->listeners;
	pw->listeners = l;
}

/* ---- the data-plane operations (main thread, under albmd_lock(); plane.c) ---- */

/* Close a set that never reached the workers. */
static void lset_close_now(struct albmd_lset *set)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (set->l[i]) {
			close(set->l[i]->fd);
			listener_free(set->l[i]);
		}
	}
	lset_free(set);
}

/* Ask each worker to close its socket; the last one frees the set. */
static void lset_close(struct albmd_lset *set)
{
	if (!set->installed) {
		lset_close_now(set);
		return;
	}
	set->closing = true;
	for (unsigned i = 0; i < set->n; i++)
		albmd_worker_post(set->l[i]->pw->w, &set->l[i]->work, LISTENER_OP_CLOSE);
}

static struct albmd_listener *listener_new(struct albmd_lset *set, int fd)
{
	struct albmd_listener *l = xcalloc(1, sizeof(*l));

	l->fd = fd;
	l->io.fd = -1;
	l->set = set;
	l->work.fn = listener_work;
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

int listener_prepare(struct albmd *d, const struct albmd_dataplane_ops *self,
		     const struct albmd_cfg_service *cfg, void **prep, char *err, size_t errlen)
{
	struct albmd_lset *set;
	char e[256];

	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_lset *old = d->services[i]->dp_data;
		if (d->services[i]->dp == self && old && !old->closing &&
		    albm_addr_equal(&old->addr, &cfg->listen)) {
			*prep = old; /* keep the bound sockets */
			return 0;
		}
	}
	set = xcalloc(1, sizeof(*set));
	set->addr = cfg->listen;
	set->n = d->nworkers;
	set->l = xcalloc(set->n, sizeof(*set->l));
	for (unsigned i = 0; i < set->n; i++) {
		int fd = listen_socket(&cfg->listen, set->n > 1, e, sizeof(e));
		if (fd < 0) {
			albm_seterr(err, errlen, "service '%s': %s", cfg->name, e);
			set->n = i;
			lset_close_now(set);
			return fd;
		}
		set->l[i] = listener_new(set, fd);
	}
	*prep = set;
	return 0;
}

void listener_abandon(void *prep)
{
	struct albmd_lset *set = prep;

	if (!set->installed && !set->svc)
		lset_close_now(set);
}

/* The set now feeds svc (a reload may move a set from a retired service). */
static void lset_set_owner(struct albmd_lset *set, struct albmd_service *svc)
{
	if (set->svc == svc)
		return;
	if (set->svc) {
		if (set->svc->dp_data == set)
			set->svc->dp_data = NULL;
		albmd_service_unref(set->svc);
	}
	set->svc = svc;
	albmd_service_ref(svc);
	for (unsigned i = 0; i < set->n; i++)
		listener_set_service(set->l[i], svc);
}

void listener_start(struct albmd *d, const struct albmd_worker_plane *plane,
		    struct albmd_service *svc, void *prep)
{
	struct albmd_lset *set = prep, *old = svc->dp_data;

	lset_set_owner(set, svc);
	svc->dp_data = set;
	if (!set->installed) {
		struct albmd_pworker *pw;
		set->installed = true;
		set->pending = set->n;
		for (unsigned i = 0; i < set->n; i++) {
			pw = albmd_worker_state(d->workers[i], plane);
			set->l[i]->pw = pw;
			albmd_worker_post(d->workers[i], &set->l[i]->work, LISTENER_OP_REGISTER);
		}
	}
	if (old && old != set && old->svc == svc)
		lset_close(old);
}

void listener_stop(struct albmd_service *svc)
{
	struct albmd_lset *set = svc->dp_data;

	svc->dp_data = NULL;
	if (set && set->svc == svc)
		lset_close(set);
}
