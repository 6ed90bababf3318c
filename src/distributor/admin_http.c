/* ALBM: albmd's admin HTTP server — connections, limits and timeouts; one request each
 *
 * Deliberately minimal (HTTP/1.0 semantics, Connection: close): Prometheus, curl and
 * the dashboard need nothing more, and every byte parsed is a byte that could be
 * malformed.  The routes are in admin_routes.c, the head parser in admin_http_parse.c.
 *
 * Local clients must not be able to lock the scrapes out:
 *  - a client has HTTP_HEAD_TIMEOUT_MS to send its request head, HTTP_TIMEOUT_MS in
 *    all (to read its response too);
 *  - a head that cannot be valid (a NUL or another control byte, a bad request line)
 *    is answered 400 as soon as it arrives;
 *  - at HTTP_MAX_CLIENTS, a new connection evicts the client that has been idle
 *    longest (connected, no complete head yet).  A scrape sends its head at once, so
 *    the longest-idle client is the least likely to be one; evicting the newest
 *    instead would let a flood of connections evict each scrape right after accept.
 *    A new connection is refused only when every client is being answered.
 *  - accept4() failures for want of descriptors pause the listener (accept_guard.c).
 */
#define LOG_COMPONENT "http"
#include "distributor/admin_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/accept_guard.h"

#define HTTP_HEAD_MAX        8192
#define HTTP_MAX_CLIENTS     64
#define HTTP_HEAD_TIMEOUT_MS 3000
#define HTTP_TIMEOUT_MS      10000
#define HTTP_SWEEP_MS        250

struct http_client {
	struct evl_io io; /* first */
	struct albmd_http *adm;
	struct http_client *next;
	char in[HTTP_HEAD_MAX];
	size_t inlen;
	struct albmd_buf out;
	bool responded;
	uint64_t start_ms;
};

struct albmd_http {
	struct evl_io io; /* first */
	struct albmd *d;
	struct albm_addr addr;
	struct albmd_admin_conf conf;
	struct http_client *clients;
	unsigned nclients;
	struct evl_timer timer;
	struct albmd_accept_guard guard;
};

const struct albm_addr *albmd_admin_addr(const struct albmd_http *adm)
{
	return &adm->addr;
}

void albmd_admin_configure(struct albmd_http *adm, const struct albmd_admin_conf *conf)
{
	adm->conf = *conf;
}

struct albmd_http *albmd_admin_open(const struct albm_addr *addr, char *err, size_t errlen)
{
	struct albmd_http *adm;
	char abuf[ALBM_ADDRSTRLEN];
	int one = 1, fd;

	fd = socket(albm_addr_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		albm_seterr(err, errlen, "http: socket: %s", strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr->u.sa, addr->len) < 0 || listen(fd, 64) < 0) {
		albm_seterr(err, errlen, "http: listen on %s: %s",
			    albm_addr_format(addr, abuf, sizeof(abuf)), strerror(errno));
		close(fd);
		return NULL;
	}
	adm = xcalloc(1, sizeof(*adm));
	adm->io.fd = fd;
	adm->addr = *addr;
	evl_timer_init(&adm->timer);
	evl_timer_init(&adm->guard.resume); /* a plan abandoned before start stops it */
	return adm;
}

static void client_close(struct albmd_http *adm, struct http_client *c)
{
	struct http_client **pp = &adm->clients;
	int fd = c->io.fd;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	adm->nclients--;
	evl_del(adm->d->loop, &c->io);
	close(fd);
	albmd_buf_free(&c->out);
	evl_defer_free(adm->d->loop, c);
}

static void client_write(struct albmd_http *adm, struct http_client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->io.fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			evl_mod(adm->d->loop, &c->io, EPOLLOUT);
			return;
		}
		if (n < 0)
			break;
		albmd_buf_consume(&c->out, (size_t)n);
	}
	client_close(adm, c);
}

/* Read what came and answer once the head is complete, or bad, or too large. */
static void client_read(struct albmd_http *adm, struct http_client *c)
{
	struct albmd_http_req req;
	ssize_t n;
	int rc;

	n = recv(c->io.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(adm, c);
		return;
	}
	c->inlen += (size_t)n;
	rc = albmd_http_parse(c->in, c->inlen, &req);
	if (rc > 0)
		albmd_admin_respond(adm->d, &adm->conf, &req, &c->out);
	else if (rc < 0)
		albmd_http_text(&c->out, 400, "bad request\n");
	else if (c->inlen == sizeof(c->in))
		albmd_http_text(&c->out, 431, "request too large\n");
	else
		return;
	c->responded = true;
	client_write(adm, c);
}

static void client_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct http_client *c = (struct http_client *)io;

	(void)loop;
	if (!c->responded)
		client_read(c->adm, c);
	else if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		client_write(c->adm, c);
}

/* At the cap: the client idle the longest (no complete head), or NULL. */
static struct http_client *oldest_idle(struct albmd_http *adm)
{
	struct http_client *best = NULL;

	for (struct http_client *c = adm->clients; c; c = c->next)
		if (!c->responded && (!best || c->start_ms < best->start_ms))
			best = c;
	return best;
}

static void client_new(struct evl *loop, struct albmd_http *adm, int fd)
{
	struct http_client *c, *victim;

	if (adm->nclients >= HTTP_MAX_CLIENTS) {
		if (!(victim = oldest_idle(adm))) {
			close(fd);
			return;
		}
		client_close(adm, victim);
	}
	c = xcalloc(1, sizeof(*c));
	c->adm = adm;
	c->start_ms = evl_now(loop);
	if (evl_add(loop, &c->io, fd, EPOLLIN, client_io) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = adm->clients;
	adm->clients = c;
	adm->nclients++;
	client_read(adm, c); /* a scrape's head is usually there already */
}

static void http_accept(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_http *adm = (struct albmd_http *)io;

	(void)revents;
	for (int i = 0; i < HTTP_MAX_CLIENTS; i++) {
		int fd = accept4(adm->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || albmd_accept_failed(loop, &adm->guard, errno))
				return;
			continue;
		}
		client_new(loop, adm, fd);
	}
}

static void http_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_http *adm =
		(struct albmd_http *)((char *)t - offsetof(struct albmd_http, timer));
	struct http_client *c, *next;
	uint64_t now = evl_now(loop);

	for (c = adm->clients; c; c = next) {
		next = c->next;
		if (now - c->start_ms > (c->responded ? HTTP_TIMEOUT_MS : HTTP_HEAD_TIMEOUT_MS))
			client_close(adm, c);
	}
	evl_timer_start(loop, t, HTTP_SWEEP_MS, http_timer);
}

void albmd_admin_start(struct albmd *d, struct albmd_http *adm)
{
	int fd = adm->io.fd;

	adm->d = d;
	albmd_accept_guard_init(&adm->guard, &adm->io, "http", d->st.http_accept_errors);
	if (evl_add(d->loop, &adm->io, fd, EPOLLIN, http_accept) < 0)
		LOG_ERR("http: epoll_ctl: %s", strerror(errno));
	evl_timer_start(d->loop, &adm->timer, HTTP_SWEEP_MS, http_timer);
}

void albmd_admin_close(struct albmd *d, struct albmd_http *adm)
{
	int fd;

	if (!adm)
		return;
	adm->d = d;
	while (adm->clients)
		client_close(adm, adm->clients);
	fd = adm->io.fd;
	evl_del(d->loop, &adm->io);
	evl_timer_stop(d->loop, &adm->timer);
	albmd_accept_guard_stop(d->loop, &adm->guard);
	if (fd >= 0)
		close(fd);
	evl_defer_free(d->loop, adm);
}
