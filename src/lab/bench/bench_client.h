/* ALBM: one HTTP/1.1 client of albm-bench (non-blocking state machine), closed or open loop */
#ifndef ALBM_LAB_BENCH_CLIENT_H
#define ALBM_LAB_BENCH_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ev.h"
#include "lab/common/http.h"
#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_rng.h"
#include "lab/bench/bench_series.h"
#include "lab/bench/bench_stats.h"
#include "lab/bench/bench_url.h"

#define BENCH_HEAD_MAX     4096         /* largest response head we accept */
#define BENCH_SCRATCH      (256u << 10) /* shared body buffer: bodies are discarded */
#define BENCH_READS_PER_EV 4            /* recv() calls per event: fairness */
#define BENCH_BACKOFF_MS   10           /* pause after a connection failure */

struct bench_client;

/* What every client shares: configuration, the event loop, the current step. */
struct bench_ctx {
	const struct bench_url *url;
	const struct bench_mix *mix;
	uint64_t timeout_ms;
	bool keepalive;
	struct evl *loop;
	char *scratch;           /* BENCH_SCRATCH bytes, reused by every read */
	struct bench_step *step; /* NULL outside a counting window (warm-up) */
	struct bench_servers *servers;
	struct bench_series *series; /* NULL: no --series */
	bool running;                /* false: finish nothing new, the run is ending */
	/*
	 * Open loop: called when a client's request has ended (it is idle again and
	 * waits for bench_client_send()).  NULL in closed loop, where a client issues
	 * its next request itself.
	 */
	void (*idle)(struct bench_client *c, void *arg);
	void *idle_arg;
};

enum bench_client_state {
	BC_IDLE,       /* no request (not started, stopped, or open loop: waiting) */
	BC_WAIT,       /* back-off after a failure, until the timer fires */
	BC_CONNECTING, /* non-blocking connect() in progress */
	BC_SENDING,    /* request partly sent */
	BC_HEAD,       /* reading the response head */
	BC_BODY,       /* reading (and discarding) the body */
};

/*
 * One connection.  Its evl_io may still be named by later events of the batch in
 * which it was closed, so it is freed only after the batch (evl_defer_free()):
 * those stale events then find io.fd = -1 and are skipped by the loop, and a new
 * connection of the same client never receives them.
 */
struct bench_sock {
	struct evl_io io; /* first */
	struct bench_client *c;
};

struct bench_client {
	struct bench_ctx *ctx;
	unsigned id;
	enum bench_client_state state;
	struct bench_sock *sock; /* NULL: no connection */
	struct evl_timer timer;  /* the request's timeout, or the end of a back-off */
	bool reused;             /* this request runs on a kept-alive connection */
	bool retried;            /* ... and was already retried once on a fresh one */
	struct bench_rng rng;
	uint64_t size;       /* body size asked for */
	uint64_t t_start_ns; /* latency origin: the start, or the intended start (open loop) */
	char req[512];
	size_t req_len, req_off;
	char head[BENCH_HEAD_MAX];
	size_t head_len;
	struct albm_http_resp resp;
	size_t srv; /* index of resp.server in ctx->servers */
	uint64_t body_left;
};

/* Prepare client `id`; its size sequence is seeded from (seed, id). */
void bench_client_init(struct bench_client *c, struct bench_ctx *ctx, unsigned id, uint64_t seed);
/* Closed loop: issue the next request (called again when one ends). */
void bench_client_begin(struct bench_client *c);
/*
 * Open loop: issue a request for `size` bytes whose intended send time was
 * intended_ns; its latency is timed from then, its timeout from now.
 */
void bench_client_send(struct bench_client *c, uint64_t size, uint64_t intended_ns);
/* Abort whatever is in flight, uncounted, close the socket and stop the timer. */
void bench_client_stop(struct bench_client *c);

#endif
