/* ALBM: albm-bench's run — the ramp of steps over one event loop (common/ev.c) */
#ifndef ALBM_LAB_BENCH_RUN_H
#define ALBM_LAB_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_ramp.h"
#include "lab/bench/bench_stats.h"
#include "lab/bench/bench_url.h"

struct bench_cfg {
	struct bench_url url;
	struct bench_ramp ramp;
	struct bench_mix mix;
	uint64_t step_ms;     /* counting window of each step */
	uint64_t warmup_ms;   /* uncounted time at the start of each step */
	uint64_t timeout_ms;  /* one request, first byte sent to last byte read */
	uint64_t duration_ms; /* cap on the whole run, 0 = steps x (warmup + step) */
	uint64_t requests;    /* a step also ends after this many requests, 0 = no cap */
	uint64_t seed;
	bool keepalive;
	bool progress; /* live line on stderr */
};

/* What a run produced: one result per finished step, and the server names seen. */
struct bench_out {
	struct bench_result *res;
	size_t n;
	struct bench_servers servers;
	bool interrupted; /* stopped by bench_run_stop() */
};

/* Called once per finished step, before the next one starts. */
typedef void (*bench_step_cb)(const struct bench_result *r, const struct bench_servers *s,
			      void *arg);

/*
 * Run every step of cfg->ramp: step i keeps bench_ramp_clients(i) closed-loop
 * clients busy for warmup + step time; requests are counted in the step during
 * whose counting window they end.  Clients carry over from step to step (the
 * ramp only adds clients).  At the end, requests still in flight are abandoned
 * uncounted.  Returns 0, or -errno with a message when the run could not start.
 */
int bench_run(const struct bench_cfg *cfg, bench_step_cb cb, void *arg, struct bench_out *out,
	      char *err, size_t errlen);
/* Ask the running bench_run() to end the current step now (async-signal-safe). */
void bench_run_stop(void);
void bench_out_free(struct bench_out *out);

#endif
