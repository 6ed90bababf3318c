/* ALBM: albm-httpd's server — listener, event loop (common/ev.c), lists, counters */
#include "lab/httpd/httpd_server.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "lab/httpd/httpd_conn.h"

#define LOG_COMPONENT "server"
#include "common/log.h"

#define SRV_ACCEPTS      64 /* per listener event */
#define SRV_IDLE_SCAN_NS 1000000000ull
#define SRV_MAX_WAIT_MS  1000

static volatile sig_atomic_t srv_stop_flag;
static struct evl *srv_loop; /* for httpd_server_stop() from a signal handler */

void httpd_server_stop(void)
{
	srv_stop_flag = 1;
	if (srv_loop)
		evl_wakeup(srv_loop); /* async-signal-safe: the loop checks the flag next */
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

static void srv_accept_io(struct evl *loop, struct evl_io *io, uint32_t revents);

int httpd_server_open(struct httpd_server *s, const struct httpd_cfg *cfg, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lfd = -1;
	s->lio.fd = -1;
	evl_timer_init(&s->turn);
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->runq);
	TAILQ_INIT(&s->sleepers);
	httpd_cost_init(&s->cost, &cfg->cost);
	s->start_ns = albm_now_ns();
	s->pattern = xmalloc(HTTPD_CHUNK);
	for (size_t i = 0; i < HTTPD_CHUNK; i++) /* printable, 64-byte lines */
		s->pattern[i] = (i & 63) == 63 ? '\n' : (char)('a' + i % 26);
	rc = srv_listen(s, err, errlen);
	if (rc)
		return rc;
	s->loop = evl_create(err, errlen);
	if (!s->loop)
		return -ENOMEM;
	evl_set_data(s->loop, s);
	rc = evl_add(s->loop, &s->lio, s->lfd, EPOLLIN, srv_accept_io);
	if (rc) {
		albm_seterr(err, errlen, "epoll: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Over --max-conns: answer 503 in one non-blocking write (X-Server included). */
static void srv_refuse(struct httpd_server *s, int fd)
{
	char buf[256];
	int n = snprintf(
		buf, sizeof(buf),
		"HTTP/1.1 503 Service Unavailable\r\nServer: albm-httpd\r\nX-Server: %s\r\n"
		"Content-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\n"
		"too many conns",
		s->cfg->name);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LOG_RL(ALBM_LOG_DEBUG, "refusing fd %d: %s", fd, strerror(errno));
	close(fd);
	s->n.rejected++;
}

static void srv_accept_io(struct evl *loop, struct evl_io *io, uint32_t revents)
{
	struct httpd_server *s = evl_data(loop);

	(void)io;
	(void)revents;
	for (int i = 0; i < SRV_ACCEPTS; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				LOG_RL(ALBM_LOG_WARN, "accept4(): %s", strerror(errno));
			return;
		}
		s->n.accepted++;
		if (s->nconns >= s->max_conns)
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
			httpd_conn_move(s, c, HC_ON_NONE);
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

		httpd_conn_move(s, c, HC_ON_NONE);
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

/* Only bounds epoll's sleep: the work runs in srv_turn() after every batch anyway. */
static void srv_turn_due(struct evl *loop, struct evl_timer *t)
{
	(void)loop;
	(void)t;
}

/*
 * After each batch of socket events: wake the sleepers that are due, give every
 * runnable connection one turn, scan for idle connections once a second, and
 * sleep no longer than until the next sleeper is due (not at all while work is
 * runnable).
 */
static void srv_turn(struct evl *loop, void *arg)
{
	struct httpd_server *s = arg;
	uint64_t now = albm_now_ns();
	int wait_ms;

	if (srv_stop_flag) {
		evl_stop(loop);
		return;
	}
	srv_wake(s, now);
	srv_run(s);
	if (now - s->last_scan_ns >= SRV_IDLE_SCAN_NS) {
		s->last_scan_ns = now;
		srv_idle_scan(s, albm_now_ns());
	}
	wait_ms = srv_wake(s, albm_now_ns());
	evl_timer_start(loop, &s->turn, s->nrun ? 0 : (uint64_t)wait_ms, srv_turn_due);
}

int httpd_server_run(struct httpd_server *s)
{
	s->max_conns = srv_fd_budget(s->cfg->max_conns);
	s->last_scan_ns = albm_now_ns();
	srv_loop = s->loop;
	evl_set_before_sleep(s->loop, srv_turn, s);
	evl_timer_start(s->loop, &s->turn, 0, srv_turn_due);
	if (srv_stop_flag)
		return 0;
	return evl_run(s->loop);
}

void httpd_server_close(struct httpd_server *s)
{
	srv_loop = NULL;
	while (!TAILQ_EMPTY(&s->conns))
		httpd_conn_close(TAILQ_FIRST(&s->conns));
	if (s->lfd >= 0)
		close(s->lfd);
	evl_destroy(s->loop); /* also frees the closed connections */
	s->loop = NULL;
	free(s->pattern);
	s->pattern = NULL;
}
