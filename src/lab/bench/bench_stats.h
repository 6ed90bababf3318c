/* ALBM: albm-bench's per-step statistics — latency percentiles, errors, shares */
#ifndef ALBM_LAB_BENCH_STATS_H
#define ALBM_LAB_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "lab/bench/bench_arrival.h"
#include "lab/bench/bench_rng.h"

/*
 * Latency samples (microseconds) kept in full and sorted on demand: percentiles are
 * exact (nearest rank: the smallest sample with at least p% of the samples <= it)
 * as long as a step has at most `limit` samples.  Beyond that the set becomes a
 * uniform reservoir sample (Vitter's algorithm R, seeded), which bounds memory to
 * 4 bytes x limit for any step length.
 */
#define BENCH_LAT_LIMIT (1u << 22) /* 16 MiB of samples per step */

struct bench_lat {
	uint32_t *v;
	size_t n, cap, limit;
	uint64_t seen; /* samples offered, including those the reservoir dropped */
	bool sorted;
	struct bench_rng rng;
};

void bench_lat_init(struct bench_lat *l, size_t limit, uint64_t seed);
void bench_lat_add(struct bench_lat *l, uint64_t us);
/* Nearest-rank percentile, 0 < p <= 100; 0, or -ENODATA when there is no sample. */
int bench_lat_percentile(struct bench_lat *l, double p, uint64_t *us);
void bench_lat_reset(struct bench_lat *l);
void bench_lat_free(struct bench_lat *l);

/* Why a request failed. */
enum bench_err {
	BENCH_ERR_CONNECT,  /* connect() failed */
	BENCH_ERR_IO,       /* reset / closed before any response byte */
	BENCH_ERR_TIMEOUT,  /* --timeout elapsed before the last body byte */
	BENCH_ERR_STATUS,   /* a complete response with a status other than 2xx */
	BENCH_ERR_SHORT,    /* closed or reset in the middle of the response */
	BENCH_ERR_LENGTH,   /* 2xx with a Content-Length other than the size asked for */
	BENCH_ERR_PROTOCOL, /* unparsable head, no Content-Length, extra bytes */
	BENCH_ERR__MAX
};
extern const char *const bench_err_names[BENCH_ERR__MAX];

/*
 * Server names seen in X-Server, in order of first appearance.  Responses without
 * the header count under "unknown"; past BENCH_SERVERS_MAX - 1 names every new name
 * counts under "other", so a misbehaving server cannot grow the table.  Stored
 * names are printable ASCII: space, control, non-ASCII, ',' and '"' become '_'.
 */
#define BENCH_SERVERS_MAX 64
struct bench_servers {
	char name[BENCH_SERVERS_MAX][ALBM_NAME_MAX];
	size_t n;
};
/* Index of name in the table (added when new). */
size_t bench_servers_id(struct bench_servers *s, const char *name);

/* What one step accumulates while it runs. */
struct bench_step {
	unsigned index, clients;
	double rate; /* open loop: target requests/s (0: closed loop) */
	uint64_t ok, errors, bytes;
	uint64_t sent;    /* open loop: requests sent in the window */
	uint64_t late[3]; /* ... of which on time / late (enum bench_lateness) */
	uint64_t backlog; /* ... arrivals due by the window's end, not sent */
	uint64_t err_kind[BENCH_ERR__MAX];
	uint64_t srv_resp[BENCH_SERVERS_MAX]; /* responses (any status) per server */
	uint64_t srv_err[BENCH_SERVERS_MAX];  /* of which errors */
	struct bench_lat lat;                 /* successful requests only */
};

/* A finished step, as the outputs print it. */
struct bench_result {
	unsigned step, clients;
	double duration_s, rps, mib_s;
	bool has_lat; /* false: no successful request, percentiles undefined */
	double p50_ms, p90_ms, p99_ms, p999_ms;
	/* Open loop only (rate > 0). */
	double rate, sent_rps;
	uint64_t sent, late_pool, late_loop, backlog;
	uint64_t requests, errors, bytes, responses;
	uint64_t err_kind[BENCH_ERR__MAX];
	uint64_t srv_resp[BENCH_SERVERS_MAX];
	uint64_t srv_err[BENCH_SERVERS_MAX];
};

/* Start step `index` (1-based) with `clients` (open loop: at `rate`, else 0); the
 * latency store is reused. */
void bench_step_begin(struct bench_step *st, unsigned index, unsigned clients, double rate);
/* A request that ended: ok with its latency, or an error of `kind`. */
void bench_step_ok(struct bench_step *st, uint64_t latency_us);
void bench_step_error(struct bench_step *st, enum bench_err kind);
/* Open loop: a request went out, on time or late. */
void bench_step_sent(struct bench_step *st, enum bench_lateness lateness);
/* A response head arrived from server `srv` (index in bench_servers). */
void bench_step_response(struct bench_step *st, size_t srv, bool error);
/* Compute the result over a counting window of duration_ns. */
void bench_step_finish(struct bench_step *st, uint64_t duration_ns, struct bench_result *r);
/* Percent of the step's responses that server i sent (0 when there were none). */
double bench_result_share(const struct bench_result *r, size_t i);
/*
 * Open loop: percent of the step's arrivals that went out late or not at all,
 * (late + backlog) / (sent + backlog); and whether the target rate was met, i.e.
 * at most BENCH_LATE_PCT_MAX of them.
 */
#define BENCH_LATE_PCT_MAX 1.0
double bench_result_late_pct(const struct bench_result *r);
bool bench_result_rate_met(const struct bench_result *r);

#endif
