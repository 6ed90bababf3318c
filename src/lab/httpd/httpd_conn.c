/* ALBM: one albm-httpd connection — request parsing, admission, producing and
 * sending the response without blocking the others */
#include "lab/httpd/httpd_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lab/common/http.h"
#include "common/util.h"
#include "lab/httpd/httpd_cpu.h"
#include "lab/httpd/httpd_route.h"
#include "lab/httpd/httpd_stats.h"

#define LOG_COMPONENT "conn"
#include "common/log.h"

#define CONN_MMAP_MIN     (64u << 10) /* buffers this big get fresh pages from mmap() */
#define CONN_SENDS_PER_EV 4           /* sendmsg() calls per event: fairness */

static void conn_start_send(struct httpd_conn *c)
{
	c->state = HC_SEND;
	c->last_active_ns = albm_now_ns(); /* the stall timer starts now */
	c->body_off = 0;
	c->paid = 0;
	httpd_conn_watch(c->srv, c, EPOLLOUT | EPOLLRDHUP);
}

/* The response head; every response carries X-Server. */
static void conn_head(struct httpd_conn *c, int status, const char *ctype, uint64_t len)
{
	int n = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.1 %d %s\r\nServer: albm-httpd\r\nX-Server: %s\r\n"
			 "Content-Type: %s\r\nContent-Length: %llu\r\nConnection: %s\r\n\r\n",
			 status, albm_http_reason(status), c->srv->cfg->name, ctype,
			 (unsigned long long)len, c->keepalive ? "keep-alive" : "close");

	c->head_len = (size_t)n < sizeof(c->head) ? (size_t)n : sizeof(c->head) - 1;
	c->head_off = 0;
}

/* A small answer whose body (malloc()ed) the connection takes over. */
static void conn_reply(struct httpd_conn *c, int status, const char *ctype, char *body)
{
	struct httpd_counters *n = &c->srv->n;

	if (status == 400 || status == 405 || status == 431) {
		c->keepalive = false; /* the byte stream can no longer be trusted */
		n->bad_requests++;
	}
	n->rejected += status == 503;
	n->not_found += status == 404;
	c->bytes = false;
	c->small = body;
	c->size = strlen(body);
	conn_head(c, status, ctype, c->size);
	conn_start_send(c);
}

static void conn_error(struct httpd_conn *c, int status, const char *text)
{
	conn_reply(c, status, "text/plain", xstrdup(text));
}

static void conn_free_buf(struct httpd_conn *c)
{
	if (c->buf && c->buf_mapped)
		munmap(c->buf, c->mem);
	else
		free(c->buf);
	c->buf = NULL;
}

/* Give back the request's memory (accounting and pages). */
static void conn_release(struct httpd_conn *c)
{
	if (!c->admitted)
		return;
	httpd_cost_release(&c->srv->cost, c->mem);
	c->admitted = false;
	conn_free_buf(c);
}

/* Admission granted: take the memory and start producing. */
static void conn_admit(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;

	httpd_cost_acquire(&s->cost, c->mem);
	c->admitted = true;
	c->buf_mapped = c->mem >= CONN_MMAP_MIN;
	if (c->buf_mapped) {
		c->buf = mmap(NULL, c->mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
		if (c->buf == MAP_FAILED)
			c->buf = NULL;
	} else if (c->mem) {
		c->buf = malloc(c->mem);
	}
	if (c->mem && !c->buf) {
		LOG_RL(ALBM_LOG_WARN, "allocating %llu bytes: %s", (unsigned long long)c->mem,
		       strerror(errno));
		conn_release(c);
		conn_error(c, 503, "out of memory\n");
		return;
	}
	c->state = HC_PRODUCE;
	c->touched = c->computed = 0;
	c->chunk_paid = false;
	httpd_conn_watch(s, c, EPOLLRDHUP);
	httpd_conn_move(s, c, HC_ON_RUN);
}

/* GET /bytes/N: through the cost model. */
static void conn_bytes(struct httpd_conn *c, uint64_t size)
{
	struct httpd_server *s = c->srv;

	c->bytes = true;
	c->size = size;
	c->mem = httpd_cost_mem(&s->cost.cfg, size);
	conn_head(c, 200, "application/octet-stream", size);
	switch (httpd_cost_decide(&s->cost, c->mem)) {
	case HTTPD_ADMIT:
		conn_admit(c);
		break;
	case HTTPD_QUEUE:
		c->state = HC_QUEUED;
		s->n.queued_total++;
		httpd_cost_enqueue(&s->cost);
		httpd_conn_watch(s, c, EPOLLRDHUP);
		httpd_conn_move(s, c, HC_ON_QUEUE);
		break;
	case HTTPD_REJECT:
		conn_error(c, 503, "over --max-inflight-bytes\n");
		break;
	case HTTPD_TOO_BIG:
		conn_error(c, 503, "larger than --max-inflight-bytes\n");
		break;
	}
}

/* One complete request head is in c->in: answer it. */
static void conn_request(struct httpd_conn *c, const struct albm_http_req *req)
{
	uint64_t size = 0;

	c->keepalive = req->keepalive;
	if (strcmp(req->method, "GET")) {
		conn_error(c, 405, "only GET\n");
		return;
	}
	if (req->has_body) {
		conn_error(c, 400, "request bodies are not supported\n");
		return;
	}
	switch (httpd_route(req->target, &size)) {
	case HTTPD_ROUTE_BYTES:
		conn_bytes(c, size);
		break;
	case HTTPD_ROUTE_STATS:
		c->srv->n.stats++;
		conn_reply(c, 200, "application/json", httpd_stats_json(c->srv));
		break;
	case HTTPD_ROUTE_STATUS:
		conn_error(c, (int)size, "status as asked\n");
		break;
	case HTTPD_ROUTE_BAD_SIZE:
		conn_error(c, 400,
			   "bad size: /bytes/N with N digits and an optional K, M or G, "
			   "or /status/CODE with a code of 200-599\n");
		break;
	case HTTPD_ROUTE_NONE:
		conn_error(c, 404, "try /bytes/N, /stats or /status/CODE\n");
		break;
	}
}

static void conn_parse(struct httpd_conn *c)
{
	struct albm_http_req req;
	int rc = albm_http_parse_request(c->in, c->in_len, &req);

	if (rc == 0) {
		if (c->in_len == sizeof(c->in))
			conn_error(c, 431, "request head too large\n");
		return;
	}
	if (rc < 0) {
		conn_error(c, 400, "malformed request\n");
		return;
	}
	c->in_len -= (size_t)rc;
	memmove(c->in, c->in + rc, c->in_len);
	conn_request(c, &req);
}

static void conn_read(struct httpd_conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) { /* the client is done (or reset) */
		httpd_conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->last_active_ns = albm_now_ns();
	conn_parse(c);
}

/*
 * Close after the last response.  When the client sent bytes we never read (a bad
 * or pipelined request), close() would answer them with a reset that can destroy
 * our response in the client's buffers: shut down writing and drain first.
 */
static void conn_finish(struct httpd_conn *c)
{
	int unread = 0;

	if (!c->in_len && (ioctl(c->fd, FIONREAD, &unread) || unread <= 0)) {
		httpd_conn_close(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = HC_LINGER;
	c->in_len = 0;
	c->last_active_ns = albm_now_ns();
	httpd_conn_watch(c->srv, c, EPOLLIN | EPOLLRDHUP);
}

static void conn_drain(struct httpd_conn *c)
{
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0)
		httpd_conn_close(c);
}

/* The response is out: free its resources, then read the next request or close. */
static void conn_done(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;

	if (c->bytes) {
		s->n.served++;
		s->n.served_bytes += c->size;
		conn_release(c);
		httpd_conn_pump_queue(s);
	}
	free(c->small);
	c->small = NULL;
	c->bytes = false;
	if (!c->keepalive) {
		conn_finish(c);
		return;
	}
	c->state = HC_READ;
	httpd_conn_watch(s, c, EPOLLIN | EPOLLRDHUP);
	if (c->in_len) /* a pipelined request is already here: parse it next turn */
		httpd_conn_move(s, c, HC_ON_RUN);
}

static void conn_sleep(struct httpd_conn *c, uint64_t wake_ns)
{
	c->wake_ns = wake_ns;
	httpd_conn_watch(c->srv, c, EPOLLRDHUP);
	httpd_conn_move(c->srv, c, HC_ON_SLEEP);
}

/*
 * Bodies are sent from the request's buffer (round and round when mem_factor < 1),
 * except when that buffer is both smaller than the body and under a chunk: a few
 * bytes cannot carry megabytes without millions of tiny sends, so the shared
 * pattern does.
 */
static bool conn_src_is_buf(const struct httpd_conn *c)
{
	return c->bytes && c->buf && (c->mem >= c->size || c->mem >= HTTPD_CHUNK);
}

/*
 * Pay the paging model for the next MiB of body before it is sent from the
 * buffer.  Returns false when the connection went to sleep for it.
 */
static bool conn_pay_send(struct httpd_conn *c)
{
	struct httpd_cost *cost = &c->srv->cost;
	uint64_t pay, delay;

	if (!conn_src_is_buf(c) || c->paid > c->body_off || c->paid >= c->size)
		return true;
	pay = ALBM_MIN((uint64_t)HTTPD_CHUNK, c->size - c->paid);
	delay = httpd_cost_page_delay_ns(&cost->cfg, cost->inflight_bytes, pay);
	c->paid += pay;
	if (!delay)
		return true;
	conn_sleep(c, httpd_cost_swap_book(cost, albm_now_ns(), delay));
	return false;
}

/* Where the next body bytes come from: the small body, the buffer or the pattern. */
static size_t conn_body_slice(struct httpd_conn *c, const char **p)
{
	uint64_t left = c->size - c->body_off, src_len, off;
	const char *src;

	if (!c->bytes) {
		src = c->small, src_len = c->size;
	} else if (conn_src_is_buf(c)) {
		src = c->buf, src_len = c->mem;
		left = ALBM_MIN(left, c->paid - c->body_off);
	} else {
		src = c->srv->pattern, src_len = HTTPD_CHUNK;
	}
	if (!left)
		return 0;
	off = c->body_off % src_len; /* mem_factor < 1: the buffer is sent round and round */
	*p = src + off;
	return (size_t)ALBM_MIN(ALBM_MIN(left, src_len - off), (uint64_t)HTTPD_CHUNK);
}

/* Advance head_off / body_off past `sent` bytes. */
static void conn_sent(struct httpd_conn *c, size_t sent)
{
	size_t h = ALBM_MIN(sent, c->head_len - c->head_off);

	c->head_off += h;
	c->body_off += sent - h;
	c->last_active_ns = albm_now_ns();
}

static void conn_send(struct httpd_conn *c)
{
	for (int i = 0; i < CONN_SENDS_PER_EV; i++) {
		struct iovec iov[2];
		const char *body = NULL;
		size_t blen;
		int n = 0;
		ssize_t sent;

		if (c->head_off < c->head_len)
			iov[n++] =
				(struct iovec){ c->head + c->head_off, c->head_len - c->head_off };
		if (!conn_pay_send(c))
			return;
		blen = c->body_off < c->size ? conn_body_slice(c, &body) : 0;
		if (blen)
			iov[n++] = (struct iovec){ (void *)body, blen };
		if (!n)
			break;
		sent = sendmsg(c->fd, &(struct msghdr){ .msg_iov = iov, .msg_iovlen = (size_t)n },
			       MSG_NOSIGNAL);
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (sent < 0) {
			c->srv->n.aborted++;
			httpd_conn_close(c);
			return;
		}
		conn_sent(c, (size_t)sent);
	}
	if (c->head_off == c->head_len && c->body_off == c->size)
		conn_done(c);
}

/* Fill `len` bytes of the buffer: every page is written, so every page is real. */
static void conn_touch(struct httpd_conn *c, uint64_t off, uint64_t len)
{
	memcpy(c->buf + off, c->srv->pattern, len);
}

/* One turn of production: at most one MiB of buffer written and one MiB computed. */
static void conn_produce(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;
	struct httpd_cost *cost = &s->cost;

	if (c->touched < c->mem) {
		uint64_t chunk = ALBM_MIN((uint64_t)HTTPD_CHUNK, c->mem - c->touched);
		if (!c->chunk_paid) {
			uint64_t d =
				httpd_cost_page_delay_ns(&cost->cfg, cost->inflight_bytes, chunk);
			c->chunk_paid = true;
			if (d) {
				conn_sleep(c, httpd_cost_swap_book(cost, albm_now_ns(), d));
				return;
			}
		}
		conn_touch(c, c->touched, chunk);
		c->touched += chunk;
		c->chunk_paid = false;
	}
	if (c->computed < c->size) {
		uint64_t chunk = ALBM_MIN((uint64_t)HTTPD_CHUNK, c->size - c->computed);
		s->n.cpu_ns += httpd_cpu_burn(httpd_cost_cpu_ns(&cost->cfg, chunk));
		c->computed += chunk;
	}
	if (c->touched < c->mem || c->computed < c->size)
		httpd_conn_move(s, c, HC_ON_RUN); /* to the tail: round robin */
	else
		conn_start_send(c);
}

void httpd_conn_run(struct httpd_conn *c)
{
	if (c->state == HC_READ)
		conn_parse(c);
	else if (c->state == HC_PRODUCE)
		conn_produce(c);
}

void httpd_conn_wake(struct httpd_conn *c)
{
	if (c->state == HC_PRODUCE)
		httpd_conn_move(c->srv, c, HC_ON_RUN);
	else if (c->state == HC_SEND)
		httpd_conn_watch(c->srv, c, EPOLLOUT | EPOLLRDHUP);
}

void httpd_conn_event(struct httpd_conn *c, uint32_t events)
{
	if (c->state == HC_READ) {
		conn_read(c);
		return;
	}
	if (c->state == HC_LINGER) {
		conn_drain(c);
		return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* Gone while its request was queued, produced or sent: free its memory now. */
		LOG_DEBUG("fd %d: client gone (state %d, events 0x%x)", c->fd, c->state, events);
		c->srv->n.aborted++;
		httpd_conn_close(c);
		return;
	}
	if (c->state == HC_SEND && (events & EPOLLOUT))
		conn_send(c);
}

void httpd_conn_pump_queue(struct httpd_server *s)
{
	struct httpd_conn *c;

	while ((c = TAILQ_FIRST(&s->queue)) && httpd_cost_fits(&s->cost, c->mem)) {
		httpd_conn_move(s, c, HC_ON_NONE);
		httpd_cost_dequeue(&s->cost);
		conn_admit(c);
	}
}

void httpd_conn_new(struct httpd_server *s, int fd)
{
	struct httpd_conn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	c->srv = s;
	c->fd = fd;
	c->io.fd = -1;
	c->state = HC_READ;
	c->last_active_ns = albm_now_ns();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	TAILQ_INSERT_TAIL(&s->conns, c, all);
	s->nconns++;
	if (httpd_conn_watch(s, c, EPOLLIN | EPOLLRDHUP))
		httpd_conn_close(c);
}

void httpd_conn_close(struct httpd_conn *c)
{
	struct httpd_server *s = c->srv;
	bool held = c->admitted;

	if (c->fd < 0)
		return;
	if (c->on == HC_ON_QUEUE)
		httpd_cost_dequeue(&s->cost);
	httpd_conn_move(s, c, HC_ON_NONE);
	conn_release(c);
	free(c->small);
	c->small = NULL;
	if (c->io.fd >= 0)
		evl_close(s->loop, &c->io); /* the fd was never dup()ed: closing leaves epoll */
	else
		close(c->fd);
	c->fd = -1;
	s->nconns--;
	/* Freed after the current event batch: later events in it may still name c. */
	TAILQ_REMOVE(&s->conns, c, all);
	evl_defer_free(s->loop, c);
	if (held)
		httpd_conn_pump_queue(s);
}

/* ---- the server's lists and loop, as seen from one connection ---- */

static void conn_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	(void)loop;
	httpd_conn_event((struct httpd_conn *)((char *)io - offsetof(struct httpd_conn, io)),
			 revents);
}

int httpd_conn_watch(struct httpd_server *s, struct httpd_conn *c, uint32_t events)
{
	int rc;

	if (c->io.fd < 0)
		rc = evl_add(s->loop, &c->io, c->fd, events, conn_io);
	else
		rc = evl_mod(s->loop, &c->io, events);
	if (rc)
		LOG_RL(ALBM_LOG_ERR, "epoll_ctl(fd=%d): %s", c->fd, strerror(-rc));
	return rc;
}

static struct httpd_conn_list_head *conn_list_head(struct httpd_server *s, enum httpd_conn_list l)
{
	switch (l) {
	case HC_ON_QUEUE:
		return &s->queue;
	case HC_ON_RUN:
		return &s->runq;
	case HC_ON_SLEEP:
		return &s->sleepers;
	default:
		return NULL;
	}
}

void httpd_conn_move(struct httpd_server *s, struct httpd_conn *c, enum httpd_conn_list to)
{
	struct httpd_conn_list_head *from = conn_list_head(s, c->on), *dst = conn_list_head(s, to);

	if (from) {
		TAILQ_REMOVE(from, c, link);
		s->nrun -= c->on == HC_ON_RUN;
	}
	if (dst) {
		TAILQ_INSERT_TAIL(dst, c, link);
		s->nrun += to == HC_ON_RUN;
	}
	c->on = to;
}
