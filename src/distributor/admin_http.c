/* ALBM: albmd's admin HTTP server — GET /metrics, /api/state; one request per connection
 *
 * Deliberately minimal (HTTP/1.0 semantics, Connection: close): Prometheus and curl
 * need nothing more, and every byte parsed is a byte that could be malformed.  The
 * request head is limited to 8 KiB and 10 s; only GET and HEAD are answered.
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
#include "distributor/state.h"

#define HTTP_HEAD_MAX 8192
#define HTTP_MAX_CLIENTS 64
#define HTTP_TIMEOUT_MS 10000

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
	struct http_client *clients;
	unsigned nclients;
	struct evl_timer timer;
};

const struct albm_addr *albmd_admin_addr(const struct albmd_http *adm)
{
	return &adm->addr;
}

static void http_reply(struct albmd_buf *out, int code, const char *reason, const char *ctype,
		       const char *body, size_t blen, bool head)
{
	albmd_buf_printf(out, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\nCache-Control: no-store\r\n\r\n", code, reason, ctype,
			 blen);
	if (!head)
		albmd_buf_append(out, body, blen);
}

static void http_text(struct albmd_buf *out, int code, const char *reason, const char *msg)
{
	http_reply(out, code, reason, "text/plain; charset=utf-8", msg, strlen(msg), false);
}

void albmd_admin_respond(struct albmd *d, const char *req, size_t len, struct albmd_buf *out)
{
	char method[8], path[256];
	const char *sp1, *sp2, *eol = memchr(req, '\n', len);
	size_t mlen, plen;
	bool head;

	sp1 = eol ? memchr(req, ' ', (size_t)(eol - req)) : NULL;
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	mlen = sp1 ? (size_t)(sp1 - req) : 0;
	plen = sp2 ? (size_t)(sp2 - sp1 - 1) : 0;
	if (!sp2 || mlen == 0 || mlen >= sizeof(method) || plen == 0 || plen >= sizeof(path) ||
	    strncmp(sp2 + 1, "HTTP/1.", 7)) {
		http_text(out, 400, "Bad Request", "bad request\n");
		return;
	}
	memcpy(method, req, mlen);
	method[mlen] = '\0';
	memcpy(path, sp1 + 1, plen);
	path[plen] = '\0';
	path[strcspn(path, "?")] = '\0'; /* query strings are ignored */
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		http_text(out, 405, "Method Not Allowed", "only GET\n");
		return;
	}
	if (!strcmp(path, "/metrics")) {
		struct albmd_buf body = { 0 };
		albmd_lock(d);
		albmd_metrics(d, &body);
		albmd_unlock(d);
		http_reply(out, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
			   body.p ? body.p : "", body.len, head);
		albmd_buf_free(&body);
	} else if (!strcmp(path, "/api/state")) {
		char *s;
		albmd_lock(d);
		json_t *j = albmd_state_json(d);
		albmd_unlock(d);
		s = json_dumps(j, JSON_INDENT(2));
		json_decref(j);
		http_reply(out, 200, "OK", "application/json", s ? s : "{}", s ? strlen(s) : 2, head);
		free(s);
	} else if (!strcmp(path, "/")) {
		http_text(out, 200, "OK", "albmd: /metrics /api/state\n");
	} else {
		http_text(out, 404, "Not Found", "not found\n");
	}
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

static void client_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct http_client *c = (struct http_client *)io;
	struct albmd_http *adm = c->adm;
	ssize_t n;

	(void)loop;
	if (c->responded) {
		if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			client_write(adm, c);
		return;
	}
	n = recv(c->io.fd, c->in + c->inlen, sizeof(c->in) - c->inlen - 1, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(adm, c);
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
		albmd_admin_respond(adm->d, c->in, c->inlen, &c->out);
	} else if (c->inlen >= sizeof(c->in) - 1) {
		http_text(&c->out, 431, "Request Header Fields Too Large", "request too large\n");
	} else {
		return;
	}
	c->responded = true;
	client_write(adm, c);
}

static void http_accept(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct albmd_http *adm = (struct albmd_http *)io;

	(void)revents;
	for (;;) {
		int fd = accept4(adm->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_client *c;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (adm->nclients >= HTTP_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->adm = adm;
		c->start_ms = evl_now(loop);
		if (evl_add(loop, &c->io, fd, EPOLLIN, client_io) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = adm->clients;
		adm->clients = c;
		adm->nclients++;
	}
}

static void http_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_http *adm = (struct albmd_http *)((char *)t - offsetof(struct albmd_http, timer));
	struct http_client *c, *next;

	for (c = adm->clients; c; c = next) {
		next = c->next;
		if (evl_now(loop) - c->start_ms > HTTP_TIMEOUT_MS)
			client_close(adm, c);
	}
	evl_timer_start(loop, t, 1000, http_timer);
}

void albmd_admin_start(struct albmd *d, struct albmd_http *adm)
{
	int fd = adm->io.fd;

	adm->d = d;
	if (evl_add(d->loop, &adm->io, fd, EPOLLIN, http_accept) < 0)
		LOG_ERR("http: epoll_ctl: %s", strerror(errno));
	evl_timer_start(d->loop, &adm->timer, 1000, http_timer);
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
	if (fd >= 0)
		close(fd);
	evl_defer_free(d->loop, adm);
}
