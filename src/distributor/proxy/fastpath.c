/* ALBM: the proxy's data paths — which relay a connection uses, and the hand-off points
 *
 * A connection always starts in the user-space relay (relay.c): connect, retries, the
 * queue and the PROXY header are the worker's.  Once its relay is established and
 * nothing is pending in user space, a connection of a `data-path sockmap` service is
 * handed to the kernel (relay_sockmap.c).  While the kernel relays, the worker
 * watches the two sockets for EOF, reset and error only.  On any of them it stops the
 * kernel's relay, waits until the bytes the kernel took have reached the other
 * socket, and gives the connection back to relay.c, which passes the EOF on
 * (half-close), or the error, exactly as for any connection.  Idle timeout and byte
 * counts come from the BPF program's per-socket counters, read by the sweep.
 * `data-path uring` hands the relay to the worker's io_uring instead (relay_uring.c)
 * at the same point, and gets it back the same way.  `auto` is epoll: neither fast
 * path gave more requests per second, and the io_uring relay cost more CPU and memory
 * per request on a quiet machine (docs/BENCHMARKS.md, "Issue 14").
 *
 * ALBMD_DATA_PATH_DISABLE=sockmap,uring in albmd's environment makes the probes fail
 * (tests of the fallback).
 */
#define LOG_COMPONENT "proxy"
#include "distributor/proxy/fastpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bpf/albm_sockmap.h"
#include "common/log.h"
#include "common/util.h"
#include "distributor/proxy/relay_sockmap.h"
#include "distributor/proxy/relay_uring.h"

#define DRAIN_POLL_MS 1    /* re-check a connection leaving the kernel */
#define REFRESH_MS    1000 /* read the kernel's counts at least this often */
#define RELAY_EVENTS  (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define KERNEL_EVENTS (EPOLLRDHUP | EPOLLET) /* EPOLLERR and EPOLLHUP come anyway */

/* The daemon-wide state: d->dp_state[ALBMD_MODE_PROXY]. */
struct albmd_fastpath {
	bool probed;
	struct sockmap_relay *sockmap; /* NULL: the kernel relay is not available */
	char why[192];                 /* ... and why */
	bool uring;                    /* the io_uring relay is available */
	char uring_why[160];
	unsigned users;                                    /* attached workers */
	uint64_t handoffs, handbacks, refused, kernel_now; /* relaxed atomics */
};

static struct albmd_fastpath *fp_of(const struct albmd *d)
{
	return d->dp_state[ALBMD_MODE_PROXY];
}

const char *fastpath_name(enum albmd_data_path p)
{
	switch (p) {
	case ALBMD_DATA_PATH_AUTO:
		return "auto";
	case ALBMD_DATA_PATH_EPOLL:
		return "epoll";
	case ALBMD_DATA_PATH_SOCKMAP:
		return "sockmap";
	case ALBMD_DATA_PATH_URING:
		return "uring";
	}
	return "?";
}

/* ---- the daemon-wide state ---- */

void fastpath_attach(struct albmd_pworker *pw)
{
	struct albmd *d = pw->d;

	if (!fp_of(d))
		d->dp_state[ALBMD_MODE_PROXY] = xcalloc(1, sizeof(struct albmd_fastpath));
	fp_of(d)->users++;
	evl_timer_init(&pw->ktimer);
}

void fastpath_detach(struct albmd_pworker *pw)
{
	struct albmd_fastpath *fp = fp_of(pw->d);

	evl_timer_stop(pw->loop, &pw->ktimer);
	uring_worker_free(pw);
	if (--fp->users)
		return;
	sockmap_close(fp->sockmap);
	free(fp);
	pw->d->dp_state[ALBMD_MODE_PROXY] = NULL;
}

static bool disabled_by_env(const char *what)
{
	const char *e = getenv("ALBMD_DATA_PATH_DISABLE");

	return e && strstr(e, what);
}

void fastpath_probe(struct albmd *d)
{
	struct albmd_fastpath *fp = fp_of(d);
	char err[160];

	if (!fp || fp->probed)
		return;
	fp->probed = true;
	if (disabled_by_env("sockmap"))
		snprintf(fp->why, sizeof(fp->why), "disabled by ALBMD_DATA_PATH_DISABLE");
	else if (sockmap_open(&fp->sockmap, ALBM_SK_MAX, err, sizeof(err)) < 0)
		snprintf(fp->why, sizeof(fp->why), "%s", err);
	if (fp->sockmap)
		LOG_INFO("data path: sockmap (in-kernel relay) available");
	else
		LOG_INFO("data path: sockmap unavailable (%s): data-path sockmap relays with epoll",
			 fp->why);
	if (disabled_by_env("uring"))
		snprintf(fp->uring_why, sizeof(fp->uring_why),
			 "disabled by ALBMD_DATA_PATH_DISABLE");
	else if (uring_probe(err, sizeof(err)) < 0)
		snprintf(fp->uring_why, sizeof(fp->uring_why), "%s", err);
	else
		fp->uring = true;
	if (fp->uring)
		LOG_INFO("data path: uring (io_uring relay) available");
	else
		LOG_INFO("data path: uring unavailable (%s): proxy services relay with epoll",
			 fp->uring_why);
}

enum albmd_data_path fastpath_resolve(const struct albmd *d, enum albmd_data_path want)
{
	const struct albmd_fastpath *fp = fp_of(d);

	if (want == ALBMD_DATA_PATH_EPOLL || !fp)
		return ALBMD_DATA_PATH_EPOLL;
	if (want == ALBMD_DATA_PATH_SOCKMAP)
		return fp->sockmap ? ALBMD_DATA_PATH_SOCKMAP : ALBMD_DATA_PATH_EPOLL;
	if (want == ALBMD_DATA_PATH_URING)
		return fp->uring ? ALBMD_DATA_PATH_URING : ALBMD_DATA_PATH_EPOLL;
	/* auto: epoll and splice won the measurements (docs/BENCHMARKS.md, "Issue 14") */
	return ALBMD_DATA_PATH_EPOLL;
}

void fastpath_service_started(struct albmd *d, const struct albmd_service *svc)
{
	enum albmd_data_path want = svc->cfg.data_path, got = fastpath_resolve(d, want);
	struct albmd_lset *set = svc->dp_data;

	if (set)
		set->data_path = got;
	if (want != ALBMD_DATA_PATH_AUTO && want != got)
		LOG_WARN("service '%s': data-path %s is not available (%s): using %s", svc->name,
			 fastpath_name(want),
			 !fp_of(d)                         ? "not probed"
			 : want == ALBMD_DATA_PATH_SOCKMAP ? fp_of(d)->why
							   : fp_of(d)->uring_why,
			 fastpath_name(got));
}

/* ---- connections ---- */

void fastpath_conn_init(struct albmd_conn *c, const struct albmd_service *svc)
{
	c->data_path = fastpath_resolve(c->pw->d, svc->cfg.data_path);
	/* a fast path takes the connection as soon as the relay is idle */
	c->k.refused = c->data_path == ALBMD_DATA_PATH_EPOLL;
}

static bool dir_idle(const struct albmd_conn *c, int i)
{
	const struct conn_dir *dr = &c->dir[i];

	return !dr->pipe_bytes && dr->off >= dr->len && !dr->eof && !dr->shut && !c->rdhup[i];
}

static void leave_kernel(struct albmd_conn *c);

/* The io_uring relay gave c back (uring_pair's callback). */
static void uring_back(struct albmd_conn *c)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);

	ALBMD_STAT_ADD(fp->handbacks, 1);
	ALBMD_STAT_SUB(fp->kernel_now, 1);
}

void fastpath_offer(struct albmd_conn *c)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);
	int rc;

	if (c->k.refused || c->k.state != KERNEL_OFF || !dir_idle(c, SIDE_CLIENT) ||
	    !dir_idle(c, SIDE_SERVER))
		return;
	c->k.refused = true; /* once: a connection given back stays in user space */
	if (c->data_path == ALBMD_DATA_PATH_URING) {
		if ((rc = uring_pair(c, uring_back)) < 0) {
			ALBMD_STAT_ADD(fp->refused, 1);
			return;
		}
		ALBMD_STAT_ADD(fp->handoffs, 1);
		ALBMD_STAT_ADD(fp->kernel_now, 1);
		return;
	}
	rc = sockmap_pair(fp->sockmap, c);
	if (rc == 0 && (evl_mod(c->pw->loop, &c->end[0].io, KERNEL_EVENTS) < 0 ||
			evl_mod(c->pw->loop, &c->end[1].io, KERNEL_EVENTS) < 0))
		rc = -errno;
	if (rc < 0) {
		ALBMD_STAT_ADD(fp->refused, 1);
		LOG_RL(ALBM_LOG_WARN,
		       "service '%s': in-kernel relay refused (%s): relaying in "
		       "user space",
		       c->svc->name, strerror(-rc));
		if (c->k.state != KERNEL_OFF)
			leave_kernel(c);
		return;
	}
	ALBMD_STAT_ADD(fp->handoffs, 1);
	ALBMD_STAT_ADD(fp->kernel_now, 1);
	LOG_DEBUG("service '%s': relayed by the kernel from now on (%llu/%llu bytes so far)",
		  c->svc->name, (unsigned long long)c->dir[0].bytes,
		  (unsigned long long)c->dir[1].bytes);
}

/* ---- giving a connection back ---- */

static void drain_unlink(struct albmd_conn *c)
{
	for (struct albmd_conn **pp = &c->pw->kdrain; *pp; pp = &(*pp)->k.drain_next) {
		if (*pp == c) {
			*pp = c->k.drain_next;
			break;
		}
	}
	c->k.drain_next = NULL;
}

/* Drained: normal sockets again, watched for everything; relay.c takes over. */
static void back_to_user(struct albmd_conn *c)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);

	sockmap_unpair(fp->sockmap, c);
	LOG_DEBUG("service '%s': back from the kernel (%llu/%llu bytes)", c->svc->name,
		  (unsigned long long)c->dir[0].bytes, (unsigned long long)c->dir[1].bytes);
	ALBMD_STAT_ADD(fp->handbacks, 1);
	ALBMD_STAT_SUB(fp->kernel_now, 1);
	for (int i = 0; i < 2; i++) {
		evl_mod(c->pw->loop, &c->end[i].io, RELAY_EVENTS);
		c->rd_ready[i] = c->wr_ready[i] = true; /* they tell the truth by EAGAIN */
	}
}

static void drain_timer(struct evl *loop, struct evl_timer *t)
{
	struct albmd_pworker *pw =
		(struct albmd_pworker *)((char *)t - offsetof(struct albmd_pworker, ktimer));
	struct albmd_fastpath *fp = fp_of(pw->d);
	struct albmd_conn *c, *next;

	for (c = pw->kdrain; c; c = next) {
		next = c->k.drain_next;
		if (!sockmap_drained(fp->sockmap, c))
			continue;
		drain_unlink(c);
		/* the re-armed registration reports what is ready: conn_io pumps it */
		back_to_user(c);
	}
	if (pw->kdrain)
		evl_timer_start(loop, &pw->ktimer, DRAIN_POLL_MS, drain_timer);
}

/* Stop the kernel's relay of c; back at once if drained, else after the timer. */
static void leave_kernel(struct albmd_conn *c)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);
	struct albmd_pworker *pw = c->pw;

	if (c->k.state == KERNEL_ON)
		sockmap_stop(fp->sockmap, c);
	if (sockmap_drained(fp->sockmap, c)) {
		back_to_user(c);
		return;
	}
	c->k.drain_next = pw->kdrain;
	pw->kdrain = c;
	if (!evl_timer_armed(&pw->ktimer))
		evl_timer_start(pw->loop, &pw->ktimer, DRAIN_POLL_MS, drain_timer);
}

int fastpath_event(struct albmd_conn *c, uint32_t revents)
{
	if (c->data_path == ALBMD_DATA_PATH_URING)
		return 0; /* the ring sees EOF and errors itself */
	if (c->k.state != KERNEL_ON || !(revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return 0; /* draining: the timer decides */
	leave_kernel(c);
	return c->k.state == KERNEL_OFF;
}

void fastpath_sweep(struct albmd_conn *c, uint64_t now)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);

	if (c->data_path == ALBMD_DATA_PATH_URING)
		return; /* the ring's completions keep the counts and last_ms */
	/* cheap unless a figure is due: the statistics, or an idle timeout to confirm */
	if (now - c->k.checked_ms < REFRESH_MS && now - c->last_ms < c->idle_timeout_ms)
		return;
	c->k.checked_ms = now;
	sockmap_refresh(fp->sockmap, c);
}

void fastpath_closing(struct albmd_conn *c)
{
	struct albmd_fastpath *fp = fp_of(c->pw->d);

	if (c->k.state == KERNEL_OFF)
		return;
	if (c->data_path == ALBMD_DATA_PATH_URING) {
		uring_forget(c);
		ALBMD_STAT_SUB(fp->kernel_now, 1);
		return;
	}
	if (c->k.state == KERNEL_DRAIN)
		drain_unlink(c);
	LOG_DEBUG("service '%s': closed while the kernel relayed it (state %d)", c->svc->name,
		  c->k.state);
	sockmap_forget(fp->sockmap, c);
	c->k.state = KERNEL_OFF;
	ALBMD_STAT_SUB(fp->kernel_now, 1);
}

void fastpath_after_batch(struct albmd_pworker *pw)
{
	uring_flush(pw);
}

/* ---- views ---- */

static enum albmd_data_path service_path(const struct albmd_service *svc)
{
	const struct albmd_lset *set = svc->dp_data;

	return set ? set->data_path : ALBMD_DATA_PATH_EPOLL;
}

json_t *fastpath_service_json(const struct albmd_service *svc)
{
	return json_pack("{s:s, s:s}", "data_path", fastpath_name(service_path(svc)),
			 "data_path_config", fastpath_name(svc->cfg.data_path));
}

void fastpath_service_words(const struct albmd_service *svc, struct albmd_buf *out)
{
	albmd_buf_printf(out, "  data-path %s", fastpath_name(service_path(svc)));
	if (svc->cfg.data_path != service_path(svc))
		albmd_buf_printf(out, " (%s)", fastpath_name(svc->cfg.data_path));
}

void fastpath_metrics(struct albmd *d, struct albmd_buf *b)
{
	struct albmd_fastpath *fp = fp_of(d);
	uint64_t st[ALBM_SK_STAT__COUNT];

	albmd_buf_printf(b, "# HELP albm_proxy_data_path Proxy mode: the relay a service's "
			    "connections use (docs/albmd.md)\n# TYPE albm_proxy_data_path gauge\n");
	for (size_t i = 0; i < d->nservices; i++)
		if (d->services[i]->dp == &albmd_dp_proxy)
			albmd_buf_printf(b, "albm_proxy_data_path{service=\"%s\",path=\"%s\"} 1\n",
					 d->services[i]->name,
					 fastpath_name(service_path(d->services[i])));
	if (!fp || (!fp->sockmap && !fp->uring))
		return;
	albmd_buf_printf(b,
			 "# HELP albm_proxy_fastpath_conns Connections a fast path (sockmap, "
			 "uring) relays now\n# TYPE albm_proxy_fastpath_conns gauge\n"
			 "albm_proxy_fastpath_conns %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(fp->kernel_now));
	albmd_buf_printf(b,
			 "# HELP albm_proxy_fastpath_handoffs_total Connections handed to, "
			 "given back by and refused by a fast path\n"
			 "# TYPE albm_proxy_fastpath_handoffs_total counter\n"
			 "albm_proxy_fastpath_handoffs_total{event=\"handoff\"} %llu\n"
			 "albm_proxy_fastpath_handoffs_total{event=\"handback\"} %llu\n"
			 "albm_proxy_fastpath_handoffs_total{event=\"refused\"} %llu\n",
			 (unsigned long long)ALBMD_STAT_GET(fp->handoffs),
			 (unsigned long long)ALBMD_STAT_GET(fp->handbacks),
			 (unsigned long long)ALBMD_STAT_GET(fp->refused));
	if (fp->sockmap && sockmap_stats(fp->sockmap, st, ALBM_SK_STAT__COUNT) == 0)
		albmd_buf_printf(b,
				 "# HELP albm_proxy_sockmap_skbs_total skbs the verdict program "
				 "redirected, or dropped because the peer had gone\n"
				 "# TYPE albm_proxy_sockmap_skbs_total counter\n"
				 "albm_proxy_sockmap_skbs_total{result=\"redirected\"} %llu\n"
				 "albm_proxy_sockmap_skbs_total{result=\"no_peer\"} %llu\n",
				 (unsigned long long)st[ALBM_SK_REDIRECTED],
				 (unsigned long long)st[ALBM_SK_NO_PEER]);
}
