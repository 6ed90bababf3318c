/* ALBM: albm-bench's run — the ramp of steps over one event loop (common/ev.c) */
#include "lab/bench/bench_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "lab/bench/bench_client.h"
#include "lab/bench/bench_open.h"
#include "lab/bench/bench_series.h"

#define LOG_COMPONENT "run"
#include "common/log.h"

#define RUN_PROGRESS_MS 500 /* live line refresh */

static volatile sig_atomic_t run_stop_flag;
static struct evl *run_loop; /* for bench_run_stop() from a signal handler */

void bench_run_stop(void)
{
	run_stop_flag = 1;
	if (run_loop)
		evl_wakeup(run_loop); /* async-signal-safe: the loop checks the flag next */
}

/* Everything one run owns. */
struct run {
	const struct bench_cfg *cfg;
	struct bench_ctx ctx;
	struct bench_client *clients;
	unsigned active;
	struct bench_step step;
	size_t index, steps;             /* the current step (0-based) and how many */
	uint64_t t_count, t_end, t_open; /* ns: window opens, step ends, window opened */
	struct evl_timer phase, progress, interval;
	struct bench_open open;     /* open loop */
	struct bench_series series; /* --series */
};

size_t bench_cfg_steps(const struct bench_cfg *cfg)
{
	return bench_cfg_open(cfg) ? cfg->rates.n : bench_ramp_steps(&cfg->ramp);
}

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

static void run_progress(struct evl *loop, struct evl_timer *t)
{
	struct run *r = evl_data(loop);
	const struct bench_step *st = &r->step;
	uint64_t now = albm_now_ns();
	double secs = now > r->t_count ? (double)(now - r->t_count) / 1e9 : 0;

	fprintf(stderr,
		"\r\033[K[step %zu/%zu] %s %u  %s %.1f/%.0fs  ok %llu  err %llu  "
		"%.1f req/s  %.1f MiB/s",
		r->index + 1, r->steps, st->rate > 0 ? "pool" : "clients", r->active,
		r->ctx.step ? "t" : "warm-up", secs, (double)r->cfg->step_ms / 1000,
		(unsigned long long)st->ok, (unsigned long long)st->errors,
		secs > 0 ? (double)st->ok / secs : 0,
		secs > 0 ? (double)st->bytes / 1048576.0 / secs : 0);
	fflush(stderr);
	evl_timer_start(loop, t, RUN_PROGRESS_MS, run_progress);
}

/* Milliseconds from now_ns until when_ns, rounded up (a timer never fires early). */
static uint64_t run_ms_until(uint64_t when_ns, uint64_t now_ns)
{
	return when_ns > now_ns ? (when_ns - now_ns + 999999) / 1000000 : 0;
}

/* The step's clock: the warm-up ends (the counting window opens), the step ends. */
static void run_phase(struct evl *loop, struct evl_timer *t)
{
	struct run *r = evl_data(loop);
	uint64_t now = albm_now_ns();

	if (now >= r->t_end) {
		evl_stop(loop);
		return;
	}
	if (!r->ctx.step && now >= r->t_count) {
		r->ctx.step = &r->step;
		r->t_open = now;
		r->series.warmup = false;
	}
	evl_timer_start(loop, t, run_ms_until(r->ctx.step ? r->t_end : r->t_count, now), run_phase);
}

/* After every batch: a signal or the request cap ends the step now. */
static void run_check(struct evl *loop, void *arg)
{
	struct run *r = arg;
	const struct bench_cfg *cfg = r->cfg;

	if (run_stop_flag || (cfg->requests && r->step.ok + r->step.errors >= cfg->requests))
		evl_stop(loop);
}

/* --series: one row per interval. */
static void run_interval(struct evl *loop, struct evl_timer *t)
{
	struct run *r = evl_data(loop);

	bench_series_flush(&r->series, albm_now_ns());
	evl_timer_start(loop, t, r->cfg->interval_ms, run_interval);
}

/* Closed loop: bring the number of busy clients up to `want`. */
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
static bool run_step(struct run *r, size_t i, uint64_t deadline, uint64_t *window_ns)
{
	const struct bench_cfg *cfg = r->cfg;
	uint64_t t0 = albm_now_ns();

	r->index = i;
	r->t_count = t0 + cfg->warmup_ms * 1000000ull;
	r->t_end = ALBM_MIN(r->t_count + cfg->step_ms * 1000000ull, deadline);
	r->t_open = 0;
	r->series.step = (unsigned)i + 1;
	r->series.warmup = true;
	bench_step_begin(&r->step, (unsigned)i + 1,
			 bench_cfg_open(cfg) ? r->active : bench_ramp_clients(&cfg->ramp, i),
			 bench_cfg_open(cfg) ? cfg->rates.r[i] : 0);
	run_phase(r->ctx.loop, &r->phase); /* opens the window now when there is no warm-up */
	if (bench_cfg_open(cfg))
		bench_open_rate(&r->open, cfg->rates.r[i]);
	else
		run_grow(r, r->step.clients);
	if (cfg->progress)
		evl_timer_start(r->ctx.loop, &r->progress, 0, run_progress);
	/* Not armed: the step's end (the run's deadline) has passed already. */
	if (!run_stop_flag && evl_timer_armed(&r->phase))
		evl_run(r->ctx.loop);
	evl_timer_stop(r->ctx.loop, &r->phase);
	evl_timer_stop(r->ctx.loop, &r->progress);
	if (bench_cfg_open(cfg))
		r->step.backlog = bench_open_backlog(&r->open);
	r->ctx.step = NULL;
	*window_ns = r->t_open ? albm_now_ns() - r->t_open : 0;
	if (cfg->progress)
		fprintf(stderr, "\r\033[K");
	return r->t_open != 0;
}

/* The open loop's pool (all of it from the start, idle) and the --series. */
static void run_setup_options(struct run *r, const struct bench_cfg *cfg)
{
	if (bench_cfg_open(cfg)) {
		for (r->active = 0; r->active < cfg->ramp.end; r->active++)
			bench_client_init(&r->clients[r->active], &r->ctx, r->active, cfg->seed);
		bench_open_init(&r->open, &r->ctx, r->clients, r->active, cfg->seed);
	}
	if (cfg->series) {
		bench_series_open(&r->series, cfg->series, cfg->interval_ms, cfg->seed);
		r->ctx.series = &r->series;
		evl_timer_start(r->ctx.loop, &r->interval, cfg->interval_ms, run_interval);
	}
}

static int run_setup(struct run *r, const struct bench_cfg *cfg, struct bench_out *out, char *err,
		     size_t errlen)
{
	int rc = run_fd_limit(cfg->ramp.end, err, errlen);

	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ctx.loop = evl_create(err, errlen);
	if (!r->ctx.loop)
		return -ENOMEM;
	evl_set_data(r->ctx.loop, r);
	evl_set_before_sleep(r->ctx.loop, run_check, r);
	evl_timer_init(&r->phase);
	evl_timer_init(&r->progress);
	evl_timer_init(&r->interval);
	r->steps = bench_cfg_steps(cfg);
	r->ctx.url = &cfg->url;
	r->ctx.mix = &cfg->mix;
	r->ctx.timeout_ms = cfg->timeout_ms;
	r->ctx.keepalive = cfg->keepalive;
	r->ctx.scratch = xmalloc(BENCH_SCRATCH);
	r->ctx.servers = &out->servers;
	r->ctx.running = true;
	r->clients = xcalloc(cfg->ramp.end, sizeof(*r->clients));
	bench_lat_init(&r->step.lat, BENCH_LAT_LIMIT, cfg->seed);
	run_setup_options(r, cfg);
	return 0;
}

static void run_teardown(struct run *r, struct bench_out *out)
{
	r->ctx.running = false;
	if (bench_cfg_open(r->cfg)) {
		bench_open_stop(&r->open);
		bench_open_free(&r->open);
	}
	if (r->ctx.series) {
		evl_timer_stop(r->ctx.loop, &r->interval);
		out->series_failed = bench_series_close(&r->series, albm_now_ns()) != 0;
	}
	for (unsigned i = 0; i < r->active; i++)
		bench_client_stop(&r->clients[i]);
	run_loop = NULL;
	evl_destroy(r->ctx.loop); /* also frees the closed connections */
	free(r->clients);
	free(r->ctx.scratch);
	bench_lat_free(&r->step.lat);
}

int bench_run(const struct bench_cfg *cfg, bench_step_cb cb, void *arg, struct bench_out *out,
	      char *err, size_t errlen)
{
	size_t steps = bench_cfg_steps(cfg);
	uint64_t deadline = UINT64_MAX, window;
	struct run r;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = run_setup(&r, cfg, out, err, errlen);
	if (rc)
		return rc;
	run_loop = r.ctx.loop;
	if (cfg->duration_ms)
		deadline = albm_now_ns() + cfg->duration_ms * 1000000ull;
	out->res = xcalloc(steps, sizeof(*out->res));
	for (size_t i = 0; i < steps && !run_stop_flag && albm_now_ns() < deadline; i++) {
		if (!run_step(&r, i, deadline, &window))
			continue;
		bench_step_finish(&r.step, window, &out->res[out->n]);
		if (cb)
			cb(&out->res[out->n], &out->servers, arg);
		out->n++;
	}
	out->interrupted = run_stop_flag != 0;
	run_teardown(&r, out);
	return 0;
}

void bench_out_free(struct bench_out *out)
{
	free(out->res);
	out->res = NULL;
	out->n = 0;
}
