/* ALBM: one closed-loop HTTP/1.1 client of albm-bench (non-blocking state machine) */
#include "lab/bench/bench_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

#define LOG_COMPONENT "client"
#include "common/log.h"

static void client_finish(struct bench_client *c);

void bench_client_init(struct bench_client *c, struct bench_ctx *ctx, unsigned id, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->id = id;
	c->fd = -1;
	c->state = BC_IDLE;
	bench_rng_seed(&c->rng, seed, id);
}

static void client_close(struct bench_client *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->reused = false;
}

/*
 * Watch `events` on the socket (adding it to the epoll set when new).  The epoll
 * data carries (generation, id) so that an event queued for a socket closed earlier
 * in the same batch is recognised as stale.
 */
static int client_watch(struct bench_client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)c->gen << 32) | c->id};
	int op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (c->events == events)
		return 0;
	if (epoll_ctl(c->ctx->epfd, op, c->fd, &ev)) {
		LOG_RL(ALBM_LOG_ERR, "epoll_ctl(fd=%d): %s", c->fd, strerror(errno));
		return -errno;
	}
	c->events = events;
	return 0;
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
	client_close(c);
	c->state = BC_IDLE;
	if (!c->ctx->running)
		return;
	if (kind == BENCH_ERR_STATUS || kind == BENCH_ERR_LENGTH) {
		bench_client_begin(c);
		return;
	}
	/* No answer at all: pause so that a refusing server is not hammered in a spin. */
	c->state = BC_WAIT;
	c->wake_ns = albm_now_ns() + BENCH_BACKOFF_NS;
}

/* A kept-alive connection died before any response byte: retry once, fresh. */
static bool client_retry(struct bench_client *c);

static void client_send(struct bench_client *c)
{
	while (c->req_off < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
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
	int one = 1;

	c->fd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		LOG_RL(ALBM_LOG_ERR, "socket(): %s", strerror(errno));
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->gen++;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, &a->u.sa, a->len) && errno != EINPROGRESS) {
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->state = BC_CONNECTING;
	if (client_watch(c, EPOLLOUT))
		client_fail(c, BENCH_ERR_CONNECT);
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

void bench_client_begin(struct bench_client *c)
{
	const struct bench_ctx *ctx = c->ctx;
	int n;

	if (!ctx->running) {
		c->state = BC_IDLE;
		return;
	}
	c->size = bench_mix_pick(ctx->mix, &c->rng);
	n = snprintf(c->req, sizeof(c->req),
		     "GET %s/bytes/%llu HTTP/1.1\r\nHost: %s\r\nUser-Agent: albm-bench\r\n"
		     "Connection: %s\r\n\r\n",
		     ctx->url->prefix, (unsigned long long)c->size, ctx->url->host,
		     ctx->keepalive ? "keep-alive" : "close");
	c->req_len = (size_t)n < sizeof(c->req) ? (size_t)n : sizeof(c->req) - 1;
	c->req_off = 0;
	c->retried = false;
	c->t_start_ns = albm_now_ns();
	c->deadline_ns = c->t_start_ns + ctx->timeout_ns;
	if (c->fd < 0) {
		client_connect(c);
		return;
	}
	c->reused = true;
	c->state = BC_SENDING;
	client_send(c);
}

/* Count body bytes toward the window's throughput. */
static void client_got(struct bench_client *c, uint64_t n)
{
	c->body_left -= n;
	if (c->ctx->step)
		c->ctx->step->bytes += n;
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
	ssize_t n = recv(c->fd, c->head + c->head_len, sizeof(c->head) - c->head_len, 0);
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
		ssize_t n = recv(c->fd, c->ctx->scratch, want, 0);

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
	if (!keep)
		client_close(c);
	c->state = BC_IDLE;
	bench_client_begin(c);
}

static void client_connected(struct bench_client *c)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		client_fail(c, BENCH_ERR_CONNECT);
		return;
	}
	c->state = BC_SENDING;
	client_send(c);
}

void bench_client_event(struct bench_client *c, uint32_t gen, uint32_t events)
{
	if (gen != c->gen || c->fd < 0)
		return; /* queued for a socket this client has closed since */
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
	default:
		break;
	}
	(void)events;
}

void bench_client_tick(struct bench_client *c, uint64_t now_ns)
{
	if (c->state == BC_WAIT) {
		if (now_ns >= c->wake_ns)
			bench_client_begin(c);
		return;
	}
	if (c->state != BC_IDLE && now_ns >= c->deadline_ns)
		client_fail(c, BENCH_ERR_TIMEOUT);
}

void bench_client_stop(struct bench_client *c)
{
	client_close(c);
	c->state = BC_IDLE;
}
