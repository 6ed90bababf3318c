/* ALBM: albm-bench's run — the ramp of steps over one event loop (common/ev.c) */
#ifndef ALBM_LAB_BENCH_RUN_H
#define ALBM_LAB_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_ramp.h"
#include "lab/bench/bench_rate.h"
#include "lab/bench/bench_stats.h"
#include "lab/bench/bench_url.h"

struct bench_cfg {
	struct bench_url url;
	struct bench_ramp ramp;   /* closed loop: clients per step; open loop: the pool */
	struct bench_rates rates; /* open loop: one step per rate (n = 0: closed loop) */
	struct bench_mix mix;
	uint64_t step_ms;     /* counting window of each step */
	uint64_t warmup_ms;   /* uncounted time at the start of each step */
	uint64_t timeout_ms;  /* one request, first byte sent to last byte read */
	uint64_t duration_ms; /* cap on the whole run, 0 = steps x (warmup + step) */
	uint64_t requests;    /* a step also ends after this many requests, 0 = no cap */
	uint64_t seed;
	bool keepalive;
	bool progress;        /* live line on stderr */
	FILE *series;         /* --series: one CSV row per interval, NULL: none */
	uint64_t interval_ms; /* ... of this length */
};

/* Open loop when rates are given. */
static inline bool bench_cfg_open(const struct bench_cfg *cfg)
{
	return cfg->rates.n > 0;
}
/* Steps of the run: one per ramp step (closed loop) or per rate (open loop). */
size_t bench_cfg_steps(const struct bench_cfg *cfg);

/* What a run produced: one result per finished step, and the server names seen. */
struct bench_out {
	struct bench_result *res;
	size_t n;
	struct bench_servers servers;
	bool interrupted;   /* stopped by bench_run_stop() */
	bool series_failed; /* a --series write failed */
};

/* Called once per finished step, before the next one starts. */
typedef void (*bench_step_cb)(const struct bench_result *r, const struct bench_servers *s,
			      void *arg);

/*
 * Run every step for warmup + step time; requests are counted in the step during
 * whose counting window they end.  Closed loop: step i keeps
 * bench_ramp_clients(i) clients busy; clients carry over from step to step (the
 * ramp only adds clients).  Open loop: step i sends Poisson arrivals at
 * cfg->rates.r[i] through a pool of cfg->ramp.end clients (bench_open.h).  At the
 * end, requests still in flight are abandoned uncounted.  Returns 0, or -errno
 * with a message when the run could not start.
 */
int bench_run(const struct bench_cfg *cfg, bench_step_cb cb, void *arg, struct bench_out *out,
	      char *err, size_t errlen);
/* Ask the running bench_run() to end the current step now (async-signal-safe). */
void bench_run_stop(void);
void bench_out_free(struct bench_out *out);

#endif
