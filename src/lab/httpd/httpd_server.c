/* ALBM: albm-httpd's server — listener, epoll loop, lists, counters */
#include "lab/httpd/httpd_server.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

#define LOG_COMPONENT "server"
#include "common/log.h"

#define SRV_EVENTS 256
#define SRV_ACCEPTS 64 /* per listener event */
#define SRV_IDLE_SCAN_NS 1000000000ull
#define SRV_MAX_WAIT_MS 1000

static volatile sig_atomic_t srv_stop_flag;

void httpd_server_stop(void)
{
	srv_stop_flag = 1;
}

bool httpd_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= ALBM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

int httpd_server_watch(struct httpd_server *s, struct httpd_conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	int op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (c->events == events)
		return 0;
	if (epoll_ctl(s->epfd, op, c->fd, &ev)) {
		LOG_RL(ALBM_LOG_ERR, "epoll_ctl(fd=%d): %s", c->fd, strerror(errno));
		return -errno;
	}
	c->events = events;
	return 0;
}

static struct httpd_conn_list_head *srv_list_head(struct httpd_server *s, enum httpd_conn_list l)
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

void httpd_server_list(struct httpd_server *s, struct httpd_conn *c, enum httpd_conn_list to)
{
	struct httpd_conn_list_head *from = srv_list_head(s, c->on), *dst = srv_list_head(s, to);

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

/* One fd per connection plus slack: raise the soft limit, or lower max_conns. */
static unsigned srv_fd_budget(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return want;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return want;
	LOG_WARN("file descriptor limit %llu: --max-conns lowered to %llu",
		 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_cur - 32);
	return rl.rlim_cur > 64 ? (unsigned)(rl.rlim_cur - 32) : 32;
}

static int srv_listen(struct httpd_server *s, char *err, size_t errlen)
{
	const struct albm_addr *a = &s->cfg->listen;
	char buf[ALBM_ADDRSTRLEN];
	int one = 1;

	s->lfd = socket(albm_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		albm_seterr(err, errlen, "socket(): %s", strerror(errno));
		return -errno;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, &a->u.sa, a->len) || listen(s->lfd, 1024)) {
		albm_seterr(err, errlen, "listen on %s: %s", albm_addr_format(a, buf, sizeof(buf)),
			    strerror(errno));
		return -errno;
	}
	return 0;
}

int httpd_server_open(struct httpd_server *s, const struct httpd_cfg *cfg, char *err, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lfd = s->epfd = -1;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->runq);
	TAILQ_INIT(&s->sleepers);
	TAILQ_INIT(&s->dead);
	httpd_cost_init(&s->cost, &cfg->cost);
	s->start_ns = albm_now_ns();
	s->pattern = xmalloc(HTTPD_CHUNK);
	for (size_t i = 0; i < HTTPD_CHUNK; i++) /* printable, 64-byte lines */
		s->pattern[i] = (i & 63) == 63 ? '\n' : (char)('a' + i % 26);
	rc = srv_listen(s, err, errlen);
	if (rc)
		return rc;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev)) {
		albm_seterr(err, errlen, "epoll: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Over --max-conns: answer 503 in one non-blocking write (X-Server included). */
static void srv_refuse(struct httpd_server *s, int fd)
{
	char buf[256];
	int n =
	    snprintf(buf, sizeof(buf),
		     "HTTP/1.1 503 Service Unavailable\r\nServer: albm-httpd\r\nX-Server: %s\r\n"
		     "Content-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\n"
		     "too many conns",
		     s->cfg->name);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LOG_RL(ALBM_LOG_DEBUG, "refusing fd %d: %s", fd, strerror(errno));
	close(fd);
	s->n.rejected++;
}

static void srv_accept(struct httpd_server *s, unsigned max_conns)
{
	for (int i = 0; i < SRV_ACCEPTS; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				LOG_RL(ALBM_LOG_WARN, "accept4(): %s", strerror(errno));
			return;
		}
		s->n.accepted++;
		if (s->nconns >= max_conns)
			srv_refuse(s, fd);
		else
			httpd_conn_new(s, fd);
	}
}

/* Wake sleepers that are due; returns the ms until the next one (capped). */
static int srv_wake(struct httpd_server *s, uint64_t now)
{
	uint64_t next = now + SRV_MAX_WAIT_MS * 1000000ull;
	struct httpd_conn *c, *nx;

	for (c = TAILQ_FIRST(&s->sleepers); c; c = nx) {
		nx = TAILQ_NEXT(c, link);
		if (c->wake_ns <= now) {
			httpd_server_list(s, c, HC_ON_NONE);
			httpd_conn_wake(c);
		} else if (c->wake_ns < next) {
			next = c->wake_ns;
		}
	}
	return (int)((next - now + 999999) / 1000000);
}

/* One turn for each connection that was runnable when the turn began. */
static void srv_run(struct httpd_server *s)
{
	for (unsigned n = s->nrun; n && !TAILQ_EMPTY(&s->runq); n--) {
		struct httpd_conn *c = TAILQ_FIRST(&s->runq);

		httpd_server_list(s, c, HC_ON_NONE);
		httpd_conn_run(c);
	}
}

/* Close connections idle (reading), stalled (sending) or lingering past their time. */
static void srv_idle_scan(struct httpd_server *s, uint64_t now)
{
	uint64_t idle = s->cfg->idle_timeout_ms * 1000000ull, limit;
	struct httpd_conn *c, *nx;

	for (c = TAILQ_FIRST(&s->conns); c; c = nx) {
		nx = TAILQ_NEXT(c, all);
		limit = c->state == HC_LINGER ? HTTPD_LINGER_NS : idle;

		/* last_active may be later than `now` (set during this turn): no underflow. */
		if (c->state == HC_QUEUED || c->state == HC_PRODUCE || c->on != HC_ON_NONE ||
		    c->last_active_ns + limit > now)
			continue;
		s->n.aborted += c->state == HC_SEND;
		httpd_conn_close(c);
	}
}

static void srv_reap(struct httpd_server *s)
{
	struct httpd_conn *c;

	while ((c = TAILQ_FIRST(&s->dead))) {
		TAILQ_REMOVE(&s->dead, c, all);
		free(c);
	}
}

int httpd_server_run(struct httpd_server *s)
{
	unsigned max_conns = srv_fd_budget(s->cfg->max_conns);
	struct epoll_event ev[SRV_EVENTS];
	uint64_t now = albm_now_ns(), last_scan = now;

	while (!srv_stop_flag) {
		int timeout = s->nrun ? 0 : srv_wake(s, now);
		int n = epoll_wait(s->epfd, ev, SRV_EVENTS, timeout);

		if (n < 0 && errno != EINTR) {
			LOG_ERR("epoll_wait(): %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct httpd_conn *c = ev[i].data.ptr;
			if (!c)
				srv_accept(s, max_conns);
			else if (c->fd >= 0)
				httpd_conn_event(c, ev[i].events);
		}
		now = albm_now_ns();
		srv_wake(s, now);
		srv_run(s);
		if (now - last_scan >= SRV_IDLE_SCAN_NS) {
			last_scan = now;
			srv_idle_scan(s, albm_now_ns());
		}
		srv_reap(s);
	}
	return 0;
}

void httpd_server_close(struct httpd_server *s)
{
	while (!TAILQ_EMPTY(&s->conns))
		httpd_conn_close(TAILQ_FIRST(&s->conns));
	srv_reap(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->pattern);
	s->pattern = NULL;
}
