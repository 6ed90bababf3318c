/* ALBM: albmd's active health checks — a TCP connect, or an HTTP GET, every interval
 *
 * A TCP check passes when connect() completes within the timeout; an HTTP check
 * (health_http.c) when, within the same timeout, the answer's status line carries the
 * expected status.  rise/fall
 * consecutive results flip the server's hc_down flag (HAProxy's semantics), and
 * albmd_server_refresh() turns that into the scheduler's AVAILABLE flag.
 * Everything runs in the main thread; callbacks take the daemon lock.
 */
#define LOG_COMPONENT "health"
#include "distributor/health.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/health_http.h"
#include "distributor/service.h"

struct albmd_health {
	struct evl_io io; /* first: the io callback gets this pointer */
	struct evl_timer timer;
	struct albmd *d;
	struct albmd_server *srv;
	int fd; /* -1 between checks */
	unsigned ok_streak, fail_streak;
	uint64_t failures;
	bool sent; /* http: the request is out, the status line awaited */
	size_t len;
	char buf[256]; /* http: the answer's first bytes */
};

static void health_timer(struct evl *loop, struct evl_timer *t);

static void health_close_fd(struct albmd_health *hc)
{
	if (hc->fd < 0)
		return;
	evl_del(hc->d->loop, &hc->io);
	close(hc->fd);
	hc->fd = -1;
}

/* One check finished (lock held). */
static void health_result(struct albmd_health *hc, bool ok, const char *why)
{
	struct albmd_server *srv = hc->srv;
	const struct albmd_cfg_health *cfg = &srv->svc->cfg.health;

	health_close_fd(hc);
	if (ok) {
		hc->fail_streak = 0;
		if (srv->hc_down && ++hc->ok_streak >= cfg->rise) {
			srv->hc_down = false;
			LOG_INFO("service '%s': server '%s' health check passed %u times: up",
				 srv->svc->name, srv->name, cfg->rise);
			albmd_server_refresh(hc->d, srv);
		}
	} else {
		hc->failures++;
		hc->ok_streak = 0;
		if (!srv->hc_down && ++hc->fail_streak >= cfg->fall) {
			srv->hc_down = true;
			LOG_WARN(
				"service '%s': server '%s' health check failed %u times (%s): down",
				srv->svc->name, srv->name, cfg->fall, why);
			albmd_server_refresh(hc->d, srv);
		}
	}
	evl_timer_start(hc->d->loop, &hc->timer, cfg->interval_ms, health_timer);
}

/* http: connected; send the request (small: one send) and wait for the answer. */
static void http_send(struct albmd_health *hc)
{
	const struct albmd_service *svc = hc->srv->svc;
	char req[ALBMD_HC_REQ_MAX];
	int n = albmd_hc_http_request(&svc->cfg.health, svc->cfg.proxy_protocol, hc->fd,
				      &hc->srv->addr, req, sizeof(req));

	if (n < 0 || send(hc->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		health_result(hc, false, n < 0 ? "request too long" : "send failed");
		return;
	}
	hc->sent = true;
	hc->len = 0;
	evl_mod(hc->d->loop, &hc->io, EPOLLIN);
}

/* http: read until the status line is complete, then judge it. */
static void http_read(struct albmd_health *hc)
{
	const struct albmd_cfg_health *cfg = &hc->srv->svc->cfg.health;
	ssize_t n = recv(hc->fd, hc->buf + hc->len, sizeof(hc->buf) - hc->len, 0);
	char why[64];
	int code;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		health_result(hc, false, n < 0 ? strerror(errno) : "closed before a status line");
		return;
	}
	hc->len += (size_t)n;
	code = albmd_hc_http_status(hc->buf, hc->len);
	if (code == 0 && hc->len < sizeof(hc->buf))
		return;
	snprintf(why, sizeof(why), code > 0 ? "status %d, expected %u" : "not an HTTP answer", code,
		 cfg->expect);
	health_result(hc, code == (int)cfg->expect, why);
}

static void health_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_health *hc = (struct albmd_health *)io;
	struct albmd *d = hc->d;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	(void)loop;
	(void)revents;
	albmd_lock(d);
	if (hc->sent) {
		http_read(hc);
	} else {
		if (getsockopt(hc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr || hc->srv->svc->cfg.health.kind != ALBMD_HC_HTTP)
			health_result(hc, soerr == 0, strerror(soerr));
		else
			http_send(hc);
	}
	albmd_unlock(d);
}

static void health_start_check(struct albmd_health *hc)
{
	const struct albm_addr *a = &hc->srv->addr;
	int fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		health_result(hc, false, strerror(errno));
		return;
	}
	hc->sent = false;
	if (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) {
		const char *why = strerror(errno);
		close(fd);
		health_result(hc, false, why);
		return;
	}
	/* connected or in progress: writable tells (then, for http, the request goes) */
	if (evl_add(hc->d->loop, &hc->io, fd, EPOLLOUT, health_io) < 0) {
		const char *why = strerror(errno);
		close(fd);
		health_result(hc, false, why);
		return;
	}
	hc->fd = fd;
	evl_timer_start(hc->d->loop, &hc->timer, hc->srv->svc->cfg.health.timeout_ms, health_timer);
}

static void health_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_health *hc =
		(struct albmd_health *)((char *)t - offsetof(struct albmd_health, timer));
	struct albmd *d = hc->d;

	(void)loop;
	albmd_lock(d);
	if (hc->fd >= 0)
		health_result(hc, false, "timeout");
	else
		health_start_check(hc);
	albmd_unlock(d);
}

void albmd_health_attach(struct albmd *d, struct albmd_server *srv)
{
	struct albmd_health *hc;
	uint64_t interval = srv->svc->cfg.health.interval_ms;

	if (srv->hc)
		return;
	hc = xcalloc(1, sizeof(*hc));
	hc->d = d;
	hc->srv = srv;
	hc->fd = -1;
	hc->io.fd = -1;
	evl_timer_init(&hc->timer);
	srv->hc = hc;
	/* the first check soon, spread so that many servers do not check in lockstep */
	evl_timer_start(d->loop, &hc->timer,
			10 + albm_svc_rand(&srv->svc->sched) % ALBM_MAX(interval / 4, 1),
			health_timer);
}

void albmd_health_detach(struct albmd *d, struct albmd_server *srv)
{
	struct albmd_health *hc = srv->hc;

	if (!hc)
		return;
	health_close_fd(hc);
	evl_timer_stop(d->loop, &hc->timer);
	srv->hc = NULL;
	evl_defer_free(d->loop, hc); /* its io may still be in this batch of events */
}

uint64_t albmd_health_failures(const struct albmd_server *srv)
{
	return srv->hc ? srv->hc->failures : 0;
}
