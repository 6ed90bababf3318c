/* ALBM: one closed-loop HTTP/1.1 client of albm-bench (non-blocking state machine) */
#ifndef ALBM_LAB_BENCH_CLIENT_H
#define ALBM_LAB_BENCH_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/http.h"
#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_rng.h"
#include "lab/bench/bench_stats.h"
#include "lab/bench/bench_url.h"

#define BENCH_HEAD_MAX 4096	     /* largest response head we accept */
#define BENCH_SCRATCH (256u << 10)   /* shared body buffer: bodies are discarded */
#define BENCH_READS_PER_EV 4	     /* recv() calls per event: fairness */
#define BENCH_BACKOFF_NS 10000000ull /* 10 ms pause after a connection failure */

/* What every client shares: configuration, the epoll set, the current step. */
struct bench_ctx {
	const struct bench_url *url;
	const struct bench_mix *mix;
	uint64_t timeout_ns;
	bool keepalive;
	int epfd;
	char *scratch;		 /* BENCH_SCRATCH bytes, reused by every read */
	struct bench_step *step; /* NULL outside a counting window (warm-up) */
	struct bench_servers *servers;
	bool running; /* false: finish nothing new, the run is ending */
};

enum bench_client_state {
	BC_IDLE,       /* no request (not started, or stopped) */
	BC_WAIT,       /* back-off after a failure, until wake_ns */
	BC_CONNECTING, /* non-blocking connect() in progress */
	BC_SENDING,    /* request partly sent */
	BC_HEAD,       /* reading the response head */
	BC_BODY,       /* reading (and discarding) the body */
};

struct bench_client {
	struct bench_ctx *ctx;
	unsigned id;
	enum bench_client_state state;
	int fd;
	uint32_t gen;	 /* +1 per socket; epoll events carry it */
	uint32_t events; /* what the socket is registered for (0: not yet) */
	bool reused;	 /* this request runs on a kept-alive connection */
	bool retried;	 /* ... and was already retried once on a fresh one */
	struct bench_rng rng;
	uint64_t size; /* body size asked for */
	uint64_t t_start_ns, deadline_ns, wake_ns;
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
/* Issue the next request (closed loop: called again when one ends). */
void bench_client_begin(struct bench_client *c);
/* An epoll event whose data was (gen << 32 | id); stale generations are ignored. */
void bench_client_event(struct bench_client *c, uint32_t gen, uint32_t events);
/* Time-driven work at `now`: request timeouts, end of a back-off. */
void bench_client_tick(struct bench_client *c, uint64_t now_ns);
/* Abort whatever is in flight, uncounted, and close the socket. */
void bench_client_stop(struct bench_client *c);

#endif
