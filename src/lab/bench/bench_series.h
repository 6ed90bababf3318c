/* ALBM: albm-bench's time series — one CSV row per interval (--series FILE --interval DUR) */
#ifndef ALBM_LAB_BENCH_SERIES_H
#define ALBM_LAB_BENCH_SERIES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/bench/bench_stats.h"

/*
 * Steps say how a load level did on average; the series says when things happened
 * (a server paused, killed, out of memory): every interval of the whole run,
 * warm-ups included, gets one row
 *   t_s,unix_s,step,warmup,requests,errors,rps,mib_s,p50_ms,p99_ms,sent
 * t_s = end of the interval in seconds since the run began, unix_s = the same on the
 * wall clock (to line up with the lab's event log and memory samples).  Requests
 * count in the interval in which they end, as in steps; `sent` = open-loop requests
 * sent (0 in closed loop).  Rows are written as the intervals end.
 */
#define BENCH_SERIES_LAT_LIMIT (1u << 20)

struct bench_series {
	FILE *f;
	uint64_t interval_ns;
	uint64_t t0_ns;    /* run start (monotonic) */
	uint64_t start_ns; /* current interval's start */
	unsigned step;     /* current step, 1-based */
	bool warmup;       /* the current step's warm-up is still running */
	uint64_t ok, errors, bytes, sent;
	struct bench_lat lat;
	bool failed; /* a write failed */
};

void bench_series_open(struct bench_series *s, FILE *f, uint64_t interval_ms, uint64_t seed);
void bench_series_ok(struct bench_series *s, uint64_t latency_us);
/* Write the row of the interval ending at now_ns and start the next one. */
void bench_series_flush(struct bench_series *s, uint64_t now_ns);
/* Flush the last partial interval (when at least half an interval long); 0 or -EIO
 * when any write failed. */
int bench_series_close(struct bench_series *s, uint64_t now_ns);

#endif
