/* ALBM: albmd's proxy listeners — one socket per worker per service address
 *
 * The proxy data plane's prepare/start/stop (struct albmd_dataplane_ops).  A
 * listener set is bound in prepare() so that a reload whose address is taken fails
 * before anything changes; a set whose address another (or the same) service
 * already holds is reused, so a reload never closes and re-binds a listening
 * address (no refused connections, no SO_REUSEPORT needed with one worker).
 */
#define LOG_COMPONENT "listener"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy.h"
#include "distributor/service.h"

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
		albm_seterr(err, errlen, "listen on %s: %s", albm_addr_format(a, abuf, sizeof(abuf)),
			    strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static void lset_free(struct albmd_lset *set)
{
	if (set->svc)
		albmd_service_unref(set->svc);
	free(set->l);
	free(set);
}

/* Close a set that never reached the workers. */
static void lset_close_now(struct albmd_lset *set)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (set->l[i]) {
			close(set->l[i]->fd);
			free(set->l[i]);
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
	for (unsigned i = 0; i < set->n; i++) {
		set->l[i]->closing = true;
		albmd_worker_post(set->l[i]->w, set->l[i]);
	}
}

void albmd_listener_process(struct albmd_worker *w, struct albmd_listener *l)
{
	struct albmd_lset *set = l->set;

	if (l->closing) {
		if (l->registered) {
			struct albmd_listener **pp = &w->listeners;
			while (*pp && *pp != l)
				pp = &(*pp)->next;
			if (*pp)
				*pp = l->next;
			evl_del(w->loop, &l->io);
		}
		close(l->fd);
		evl_defer_free(w->loop, l); /* its io may still be in this batch */
		if (--set->pending == 0)
			lset_free(set);
		return;
	}
	if (l->registered)
		return;
	if (evl_add(w->loop, &l->io, l->fd, w->paused ? 0 : EPOLLIN, albmd_proxy_accept) < 0) {
		LOG_ERR("worker %u: epoll_ctl(ADD, listener fd=%d): %s", w->id, l->fd, strerror(errno));
		return;
	}
	l->registered = true;
	l->next = w->listeners;
	w->listeners = l;
}

static int proxy_prepare(struct albmd *d, const struct albmd_cfg_service *cfg, void **prep,
			 char *err, size_t errlen)
{
	struct albmd_lset *set;
	char e[256];

	for (size_t i = 0; i < d->nservices; i++) {
		struct albmd_lset *old = d->services[i]->dp_data;
		if (d->services[i]->dp == &albmd_dp_proxy && old && !old->closing &&
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
		set->l[i] = xcalloc(1, sizeof(*set->l[i]));
		set->l[i]->fd = fd;
		set->l[i]->io.fd = -1;
		set->l[i]->set = set;
	}
	*prep = set;
	return 0;
}

static void proxy_abandon(struct albmd *d, void *prep)
{
	struct albmd_lset *set = prep;

	(void)d;
	if (!set->installed && !set->svc)
		lset_close_now(set);
}

static void proxy_start(struct albmd *d, struct albmd_service *svc, void *prep)
{
	struct albmd_lset *set = prep, *old = svc->dp_data;

	if (set->svc != svc) {
		if (set->svc) { /* taken over from another service (a reload moved it) */
			if (set->svc->dp_data == set)
				set->svc->dp_data = NULL;
			albmd_service_unref(set->svc);
		}
		set->svc = svc;
		albmd_service_ref(svc);
	}
	svc->dp_data = set;
	if (!set->installed) {
		set->installed = true;
		set->pending = set->n;
		for (unsigned i = 0; i < set->n; i++) {
			set->l[i]->w = d->workers[i];
			albmd_worker_post(d->workers[i], set->l[i]);
		}
	}
	if (old && old != set && old->svc == svc)
		lset_close(old);
}

static void proxy_stop(struct albmd *d, struct albmd_service *svc)
{
	struct albmd_lset *set = svc->dp_data;

	(void)d;
	svc->dp_data = NULL;
	if (set && set->svc == svc)
		lset_close(set);
}

const struct albmd_dataplane_ops albmd_dp_proxy = {
	.name = "proxy",
	.prepare = proxy_prepare,
	.abandon = proxy_abandon,
	.start = proxy_start,
	.stop = proxy_stop,
};
