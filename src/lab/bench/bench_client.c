/* ALBM: one HTTP/1.1 client of albm-bench (non-blocking state machine), closed or open loop */
#include "lab/bench/bench_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

#define LOG_COMPONENT "client"
#include "common/log.h"

static void client_finish(struct bench_client *c);
static void client_next(struct bench_client *c);
static void client_event(struct evl *loop, struct evl_io *io, uint32_t revents);
static void client_timer(struct evl *loop, struct evl_timer *t);

void bench_client_init(struct bench_client *c, struct bench_ctx *ctx, unsigned id, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->id = id;
	c->state = BC_IDLE;
	evl_timer_init(&c->timer);
	bench_rng_seed(&c->rng, seed, id);
}

static int client_fd(const struct bench_client *c)
{
	return c->sock ? c->sock->io.fd : -1;
}

static void client_close(struct bench_client *c)
{
	if (c->sock) {
		evl_close(c->ctx->loop, &c->sock->io); /* never dup()ed: close() leaves epoll */
		evl_defer_free(c->ctx->loop, c->sock);
		c->sock = NULL;
	}
	c->reused = false;
}

/* Watch `events` on the connection; 0 or -errno. */
static int client_watch(struct bench_client *c, uint32_t events)
{
	int rc = evl_mod(c->ctx->loop, &c->sock->io, events);

	if (rc)
		LOG_RL(ALBM_LOG_ERR, "epoll_ctl(fd=%d): %s", client_fd(c), strerror(-rc));
	return rc;
}

/*
 * The request ended in failure: count it (in a counting window), drop the
 * connection, and go on after a short back-off unless the server did answer.
 */
static void client_fail(struct bench_client *c, enum bench_err kind)
{
	LOG_DEBUG("client %u: %s error in state %d after %llu us (errno %s)", c->id,
		  bench_err_names[kind], c->state,
		  (unsigned long long)(albm_now_ns() - c->t_start_ns) / 1000, strerror(errno));
	if (c->ctx->step)
		bench_step_error(c->ctx->step, kind);
	if (c->ctx->series)
		c->ctx->series->errors++;
	client_close(c);
	c->state = BC_IDLE;
	evl_timer_stop(c->ctx->loop, &c->timer);
	if (!c->ctx->running)
		return;
	/* Open loop: the arrivals set the pace, a failure does not slow them down. */
	if (kind == BENCH_ERR_STATUS || kind == BENCH_ERR_LENGTH || c->ctx->idle) {
		client_next(c);
		return;
	}
	/* No answer at all: pause so that a refusing server is not hammered in a spin. */
	c->state = BC_WAIT;
	evl_timer_start(c->ctx->loop, &c->timer, BENCH_BACKOFF_MS, client_timer);
}

/* A kept-alive connection died before any response byte: retry once, fresh. */
static bool client_retry(struct bench_client *c);

static void client_send(struct bench_client *c)
{
	while (c->req_off < c->req_len) {
		ssize_t n = send(client_fd(c), c->req + c->req_off, c->req_len - c->req_off,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = BC_SENDING;
			client_watch(c, EPOLLOUT);
			return;
		}
		if (n < 0) {
			if (!client_retry(c))
				client_fail(c, BENCH_ERR_IO);
			return;
		}
		c->req_off += (size_t)n;
	}
	c->state = BC_HEAD;
	c->head_len = 0;
	client_watch(c, EPOLLIN | EPOLLRDHUP);
}

/* Open a non-blocking connection; the request goes out once it is writable. */
static void client_connect(struct bench_client *c)
{
	const struct albm_addr *a = &c->ctx->url->addr;
	int one = 1, fd, rc;

	fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		LOG_RL(ALBM_LOG_ERR, "socket(): %s", strerror(errno));
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &a->u.sa, a->len) && errno != EINPROGRESS) {
		close(fd);
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->sock = xcalloc(1, sizeof(*c->sock));
	c->sock->c = c;
	rc = evl_add(c->ctx->loop, &c->sock->io, fd, EPOLLOUT, client_event);
	if (rc) {
		LOG_RL(ALBM_LOG_ERR, "epoll_ctl(fd=%d): %s", fd, strerror(-rc));
		close(fd);
		free(c->sock);
		c->sock = NULL;
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->state = BC_CONNECTING;
}

static bool client_retry(struct bench_client *c)
{
	if (!c->reused || c->retried)
		return false;
	c->retried = true;
	client_close(c);
	c->req_off = 0;
	client_connect(c);
	return true;
}

/* Build and start a request for `size` bytes, its latency timed from t_start_ns. */
static void client_start(struct bench_client *c, uint64_t size, uint64_t t_start_ns)
{
	const struct bench_ctx *ctx = c->ctx;
	int n;

	c->size = size;
	n = snprintf(c->req, sizeof(c->req),
		     "GET %s/bytes/%llu HTTP/1.1\r\nHost: %s\r\nUser-Agent: albm-bench\r\n"
		     "Connection: %s\r\n\r\n",
		     ctx->url->prefix, (unsigned long long)c->size, ctx->url->host,
		     ctx->keepalive ? "keep-alive" : "close");
	c->req_len = (size_t)n < sizeof(c->req) ? (size_t)n : sizeof(c->req) - 1;
	c->req_off = 0;
	c->retried = false;
	c->t_start_ns = t_start_ns;
	evl_timer_start(ctx->loop, &c->timer, ctx->timeout_ms, client_timer);
	if (!c->sock) {
		client_connect(c);
		return;
	}
	c->reused = true;
	c->state = BC_SENDING;
	client_send(c);
}

void bench_client_begin(struct bench_client *c)
{
	if (!c->ctx->running) {
		c->state = BC_IDLE;
		return;
	}
	client_start(c, bench_mix_pick(c->ctx->mix, &c->rng), albm_now_ns());
}

void bench_client_send(struct bench_client *c, uint64_t size, uint64_t intended_ns)
{
	if (!c->ctx->running) {
		c->state = BC_IDLE;
		return;
	}
	client_start(c, size, intended_ns);
}

/* The request ended: the next one (closed loop), or back to the pool (open loop). */
static void client_next(struct bench_client *c)
{
	if (!c->ctx->idle) {
		bench_client_begin(c);
		return;
	}
	evl_timer_stop(c->ctx->loop, &c->timer);
	c->ctx->idle(c, c->ctx->idle_arg);
}

/* Count body bytes toward the window's throughput. */
static void client_got(struct bench_client *c, uint64_t n)
{
	c->body_left -= n;
	if (c->ctx->step)
		c->ctx->step->bytes += n;
	if (c->ctx->series)
		c->ctx->series->bytes += n;
}

/* The head is complete (hlen bytes of c->head); the rest of head[] is body. */
static void client_head_done(struct bench_client *c, size_t hlen)
{
	size_t extra = c->head_len - hlen;
	bool is_err;

	c->srv = bench_servers_id(c->ctx->servers, c->resp.server);
	is_err = c->resp.status < 200 || c->resp.status > 299 || c->resp.content_length != c->size;
	if (c->ctx->step)
		bench_step_response(c->ctx->step, c->srv, is_err);
	if (!c->resp.has_length || c->resp.chunked || extra > c->resp.content_length) {
		client_fail(c, BENCH_ERR_PROTOCOL);
		return;
	}
	c->body_left = c->resp.content_length;
	client_got(c, extra);
	c->state = BC_BODY;
	if (!c->body_left)
		client_finish(c);
}

static void client_read_head(struct bench_client *c)
{
	ssize_t n = recv(client_fd(c), c->head + c->head_len, sizeof(c->head) - c->head_len, 0);
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->head_len == 0 && client_retry(c))
			return;
		client_fail(c, c->head_len ? BENCH_ERR_SHORT : BENCH_ERR_IO);
		return;
	}
	c->head_len += (size_t)n;
	rc = albm_http_parse_response(c->head, c->head_len, &c->resp);
	if (rc < 0 || (rc == 0 && c->head_len == sizeof(c->head))) {
		client_fail(c, BENCH_ERR_PROTOCOL);
		return;
	}
	if (rc > 0)
		client_head_done(c, (size_t)rc);
}

static void client_read_body(struct bench_client *c)
{
	for (int i = 0; i < BENCH_READS_PER_EV && c->body_left; i++) {
		size_t want = c->body_left < BENCH_SCRATCH ? (size_t)c->body_left : BENCH_SCRATCH;
		ssize_t n = recv(client_fd(c), c->ctx->scratch, want, 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			client_fail(c, BENCH_ERR_SHORT);
			return;
		}
		client_got(c, (uint64_t)n);
	}
	if (!c->body_left)
		client_finish(c);
}

/* The last body byte arrived: record the outcome and start the next request. */
static void client_finish(struct bench_client *c)
{
	uint64_t now = albm_now_ns();
	bool keep = c->ctx->keepalive && c->resp.keepalive;

	if (c->resp.status < 200 || c->resp.status > 299) {
		client_fail(c, BENCH_ERR_STATUS);
		return;
	}
	if (c->resp.content_length != c->size) {
		client_fail(c, BENCH_ERR_LENGTH);
		return;
	}
	if (c->ctx->step)
		bench_step_ok(c->ctx->step, (now - c->t_start_ns) / 1000);
	if (c->ctx->series)
		bench_series_ok(c->ctx->series, (now - c->t_start_ns) / 1000);
	if (!keep)
		client_close(c);
	c->state = BC_IDLE;
	client_next(c);
}

static void client_connected(struct bench_client *c)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(client_fd(c), SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->state = BC_SENDING;
	client_send(c);
}

static void client_event(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct bench_client *c = ((struct bench_sock *)io)->c;

	(void)loop;
	(void)revents; /* every state reads or writes until EAGAIN and sees errors there */
	switch (c->state) {
	case BC_CONNECTING:
		client_connected(c);
		break;
	case BC_SENDING:
		client_send(c);
		break;
	case BC_HEAD:
		client_read_head(c);
		break;
	case BC_BODY:
		client_read_body(c);
		break;
	case BC_IDLE:
		/* Open loop, a kept-alive connection between requests: the server closed
		 * it (or sent junk); the next request opens a fresh one. */
		client_close(c);
		break;
	default:
		break;
	}
}

/* The request's timeout, or the end of a back-off. */
static void client_timer(struct evl *loop, struct evl_timer *t)
{
	struct bench_client *c =
		(struct bench_client *)((char *)t - offsetof(struct bench_client, timer));

	(void)loop;
	if (c->state == BC_WAIT)
		bench_client_begin(c);
	else if (c->state != BC_IDLE)
		client_fail(c, BENCH_ERR_TIMEOUT);
}

void bench_client_stop(struct bench_client *c)
{
	client_close(c);
	evl_timer_stop(c->ctx->loop, &c->timer);
	c->state = BC_IDLE;
}
