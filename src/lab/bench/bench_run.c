/* ALBM: albm-bench's run — the ramp of steps over one epoll loop */
#include "lab/bench/bench_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "lab/bench/bench_client.h"

#define LOG_COMPONENT "run"
#include "common/log.h"

#define RUN_TICK_MS 10	    /* timeouts and back-offs are checked this often */
#define RUN_PROGRESS_MS 500 /* live line refresh */
#define RUN_EVENTS 256

static volatile sig_atomic_t run_stop_flag;

void bench_run_stop(void)
{
	run_stop_flag = 1;
}

/* Everything one run owns. */
struct run {
	const struct bench_cfg *cfg;
	struct bench_ctx ctx;
	struct bench_client *clients;
	unsigned active;
	struct bench_step step;
	uint64_t last_progress_ns;
	uint64_t last_tick_ns;
};

/* One socket per client plus slack: raise the soft fd limit when it is too low. */
static int run_fd_limit(unsigned clients, char *err, size_t errlen)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)clients + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		albm_seterr(err, errlen,
			    "%u clients need %llu file descriptors, hard limit is %llu", clients,
			    (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		albm_seterr(err, errlen, "setrlimit(NOFILE, %llu): %s", (unsigned long long)need,
			    strerror(errno));
		return -errno;
	}
	return 0;
}

static void run_progress(struct run *r, size_t i, size_t steps, uint64_t now, uint64_t t_count)
{
	const struct bench_step *st = &r->step;
	double t = now > t_count ? (double)(now - t_count) / 1e9 : 0;

	if (!r->cfg->progress || now - r->last_progress_ns < RUN_PROGRESS_MS * 1000000ull)
		return;
	r->last_progress_ns = now;
	fprintf(stderr,
		"\r\033[K[step %zu/%zu] clients %u  %s %.1f/%.0fs  ok %llu  err %llu  "
		"%.1f req/s  %.1f MiB/s",
		i + 1, steps, r->active, r->ctx.step ? "t" : "warm-up", t,
		(double)r->cfg->step_ms / 1000, (unsigned long long)st->ok,
		(unsigned long long)st->errors, t > 0 ? (double)st->ok / t : 0,
		t > 0 ? (double)st->bytes / 1048576.0 / t : 0);
	fflush(stderr);
}

/* Wait for and dispatch socket events, then do time-driven client work. */
static void run_poll(struct run *r, int epfd, uint64_t until_ns)
{
	struct epoll_event ev[RUN_EVENTS];
	uint64_t now = albm_now_ns();
	int timeout = RUN_TICK_MS, n;

	if (until_ns > now && until_ns - now < RUN_TICK_MS * 1000000ull)
		timeout = (int)((until_ns - now + 999999) / 1000000);
	n = epoll_wait(epfd, ev, RUN_EVENTS, timeout);
	for (int i = 0; i < n; i++) {
		uint32_t id = (uint32_t)ev[i].data.u64, gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (id < r->active)
			bench_client_event(&r->clients[id], gen, ev[i].events);
	}
	now = albm_now_ns();
	if (now - r->last_tick_ns < RUN_TICK_MS * 1000000ull)
		return; /* a busy loop must not scan every client per event batch */
	r->last_tick_ns = now;
	for (unsigned i = 0; i < r->active; i++)
		bench_client_tick(&r->clients[i], now);
}

/* Bring the number of busy clients up to `want`. */
static void run_grow(struct run *r, unsigned want)
{
	while (r->active < want) {
		struct bench_client *c = &r->clients[r->active];

		bench_client_init(c, &r->ctx, r->active, r->cfg->seed);
		r->active++;
		bench_client_begin(c);
	}
}

/*
 * One step: warm-up, then the counting window, which ends at its time, at the
 * request cap, at the run deadline or on bench_run_stop().  Returns true when the
 * window opened (a result is due).
 */
static bool run_step(struct run *r, size_t i, size_t steps, uint64_t deadline, uint64_t *window_ns)
{
	const struct bench_cfg *cfg = r->cfg;
	uint64_t t0 = albm_now_ns(), t_count = t0 + cfg->warmup_ms * 1000000ull;
	uint64_t t_end = t_count + cfg->step_ms * 1000000ull, now = t0, t_open = 0;

	t_end = ALBM_MIN(t_end, deadline);
	bench_step_begin(&r->step, (unsigned)i + 1, bench_ramp_clients(&cfg->ramp, i));
	run_grow(r, r->step.clients);
	while (!run_stop_flag && now < t_end) {
		if (!r->ctx.step && now >= t_count) {
			r->ctx.step = &r->step;
			t_open = now;
		}
		if (cfg->requests && r->step.ok + r->step.errors >= cfg->requests)
			break;
		run_progress(r, i, steps, now, t_count);
		run_poll(r, r->ctx.epfd, r->ctx.step ? t_end : t_count);
		now = albm_now_ns();
	}
	r->ctx.step = NULL;
	*window_ns = t_open ? now - t_open : 0;
	if (cfg->progress)
		fprintf(stderr, "\r\033[K");
	return t_open != 0;
}

static int run_setup(struct run *r, const struct bench_cfg *cfg, struct bench_out *out, char *err,
		     size_t errlen)
{
	int rc = run_fd_limit(cfg->ramp.end, err, errlen);

	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ctx.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->ctx.epfd < 0) {
		albm_seterr(err, errlen, "epoll_create1(): %s", strerror(errno));
		return -errno;
	}
	r->ctx.url = &cfg->url;
	r->ctx.mix = &cfg->mix;
	r->ctx.timeout_ns = cfg->timeout_ms * 1000000ull;
	r->ctx.keepalive = cfg->keepalive;
	r->ctx.scratch = xmalloc(BENCH_SCRATCH);
	r->ctx.servers = &out->servers;
	r->ctx.running = true;
	r->clients = xcalloc(cfg->ramp.end, sizeof(*r->clients));
	bench_lat_init(&r->step.lat, BENCH_LAT_LIMIT, cfg->seed);
	return 0;
}

static void run_teardown(struct run *r)
{
	r->ctx.running = false;
	for (unsigned i = 0; i < r->active; i++)
		bench_client_stop(&r->clients[i]);
	free(r->clients);
	free(r->ctx.scratch);
	bench_lat_free(&r->step.lat);
	close(r->ctx.epfd);
}

int bench_run(const struct bench_cfg *cfg, bench_step_cb cb, void *arg, struct bench_out *out,
	      char *err, size_t errlen)
{
	size_t steps = bench_ramp_steps(&cfg->ramp);
	uint64_t deadline = UINT64_MAX, window;
	struct run r;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = run_setup(&r, cfg, out, err, errlen);
	if (rc)
		return rc;
	if (cfg->duration_ms)
		deadline = albm_now_ns() + cfg->duration_ms * 1000000ull;
	out->res = xcalloc(steps, sizeof(*out->res));
	for (size_t i = 0; i < steps && !run_stop_flag && albm_now_ns() < deadline; i++) {
		if (!run_step(&r, i, steps, deadline, &window))
			continue;
		bench_step_finish(&r.step, window, &out->res[out->n]);
		if (cb)
			cb(&out->res[out->n], &out->servers, arg);
		out->n++;
	}
	out->interrupted = run_stop_flag != 0;
	run_teardown(&r);
	return 0;
}

void bench_out_free(struct bench_out *out)
{
	free(out->res);
	out->res = NULL;
	out->n = 0;
}
