/* ALBM: scheduler library types — service, destination (real server), flow key */
#ifndef ALBM_SCHED_SCHED_T_H
#define ALBM_SCHED_SCHED_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "common/addr.h"

struct albm_sched_ops;

/* Destination flags (IPVS naming). */
#define ALBM_DEST_F_AVAILABLE (1u << 0) /* up: healthy / reports arriving (IPVS: in the list) */
#define ALBM_DEST_F_OVERLOAD  (1u << 1) /* IPVS overload: maxconn (u_threshold) reached */
#define ALBM_DEST_F_AGENT_OVL (1u << 2) /* the agent reports the server overloaded */

/* Service scheduler flags (IPVS's sched-flags for sh and mh). */
#define ALBM_SVC_F_SCHED_FALLBACK (1u << 0) /* sh/mh: "sh-fallback"/"mh-fallback" */
#define ALBM_SVC_F_SCHED_PORT     (1u << 1) /* sh/mh: "sh-port"/"mh-port", hash the port too */

/*
 * The key a new connection is scheduled by: the client's and the virtual service's
 * addresses.  Addresses are in network byte order (IPv4 in the first 4 bytes);
 * ports in host order.
 */
struct albm_flow {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t proto;  /* IPPROTO_TCP */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
};

/*
 * One latency figure the data plane measures passively per server (µs).  All zero
 * until the first sample.  albmd's proxy fills them (docs/albmd.md); schedulers only
 * read them, at pick or tick time (prequal: ttfb; orca: errors).
 */
struct albm_dest_latency {
	uint32_t ewma_us; /* exponentially weighted moving average */
	uint32_t p90_us;  /* 90th percentile over the data plane's last window */
	uint64_t samples; /* measurements taken so far; 0 = nothing known */
};

/* What the data plane has measured of a server's connections (passive, no probes). */
struct albm_dest_passive {
	struct albm_dest_latency connect;  /* TCP connect to the server */
	struct albm_dest_latency ttfb;     /* request forwarded -> first response byte */
	struct albm_dest_latency duration; /* connection opened -> closed */
	uint64_t errors;     /* connections that failed: connect error, or reset / closed by
			      * the server before any response byte (cumulative) */
	uint64_t updated_ms; /* svc clock of the last sample of any figure; 0 = never */
	uint32_t waiting;    /* requests forwarded and not answered yet (no response byte) */
	uint64_t resp_bytes; /* bytes the server sent to clients (cumulative; albm: its speed) */
};

/* A real server as the scheduler sees it. */
struct albm_dest {
	char name[ALBM_NAME_MAX];
	struct albm_addr addr;
	int weight;           /* static weight; 0 = drained (no new connections) */
	uint32_t flags;       /* ALBM_DEST_F_* */
	uint32_t activeconns; /* established connections */
	uint32_t inactconns;  /* connections not (yet / any more) established */
	uint32_t u_threshold; /* maxconn: 0 = no limit; at the limit ALBM_DEST_F_OVERLOAD */
	uint32_t l_threshold; /* clear OVERLOAD below this (0: at u_threshold * 3 / 4) */
	uint64_t total_conns; /* connections ever scheduled to this server */

	/* The agent's latest measurement, NULL = none.  Not a copy: it points at the
	 * caller's one copy (albmd's agent entry), see albm_svc_report(). */
	const struct albm_metrics *report;
	uint64_t report_ms; /* when it arrived (svc clock); 0 = never */

	/* Passive measurements by the data plane (zero where it measures nothing). */
	struct albm_dest_passive passive;

	double eff_weight; /* effective weight published by the scheduler (albm: from
			    * measurements; others: = weight, or 0 when not eligible) */

	/* Private to the scheduler library: */
	uint64_t seq;     /* insertion order, the IPVS list position for tie-breaks */
	size_t idx;       /* position in svc->dests */
	int heap_pos[2];  /* positions in up to two indexed heaps (-1 = not in) */
	void *sched_priv; /* per-destination scheduler state */
	void *owner;      /* the data plane's own per-server object */
};

/* A virtual service: its destinations in list order plus the bound scheduler. */
struct albm_service {
	char name[ALBM_NAME_MAX];
	struct albm_dest **dests; /* list order = insertion order (IPVS n_list) */
	size_t ndests, cap;
	uint64_t next_seq;
	uint32_t flags; /* ALBM_SVC_F_* */

	const struct albm_sched_ops *sched;
	void *sched_data;

	/* Clock (ms) and randomness: overridable so that tests are deterministic. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t rng_state; /* xorshift64* state, never 0 */

	/* Parameters of the adaptive scheduler (ignored by the others). */
	struct albm_adaptive_params {
		uint64_t report_timeout_ms;   /* no report this long: the server is failed */
		uint64_t slow_start_ms;       /* ramp-up window after recovery (0 = off) */
		double slow_start_aggression; /* Envoy's aggression (1.0 = linear) */
		double slow_start_min;        /* Envoy's min_weight_percent, as a fraction */
		double rise_alpha;            /* smoothing of rising capacity (0-1] */
		int all_overloaded_policy;    /* ALBM_ALL_OVL_LEAST_LOADED, _REFUSE or _QUEUE */
		double mem_reserve;           /* fraction of each server's memory kept free */
	} adaptive;

	/* Parameters of orca, gRPC's weighted_round_robin (sched_orca.c). */
	struct albm_orca_params {
		uint64_t blackout_ms;   /* weights ignored this long after reports (re)start */
		uint64_t expiration_ms; /* a weight not updated this long is dropped */
		uint64_t update_ms;     /* weights recomputed this often (at least 100 ms) */
		double error_penalty;   /* error_utilization_penalty (>= 0) */
	} orca;

	/* Parameters of prequal, hot-cold lexicographic selection (sched_prequal.c). */
	struct albm_prequal_params {
		double q_rif;  /* hot: requests in flight above this quantile of the pool */
		uint32_t pool; /* servers drawn per pick (the probe pool), >= 1 */
		uint64_t latency_max_age_ms; /* an older latency counts as unknown */
	} prequal;

	/* Parameters of lr, Envoy's least_request (sched_lr.c). */
	struct albm_lr_params {
		uint32_t choice_count; /* equal weights: best of this many random draws (>= 1) */
		double active_request_bias; /* unequal weights: weight / (active + 1)^bias (>= 0) */
	} lr;

	/* Statistics kept by the library. */
	uint64_t picks;   /* successful schedule() calls */
	uint64_t no_dest; /* schedule() calls that found no server */
};

#define ALBM_ALL_OVL_LEAST_LOADED 0
#define ALBM_ALL_OVL_REFUSE       1
/* Like REFUSE for the scheduler (schedule() returns NULL); the proxy data plane
 * then holds the new connection in a queue until a server can take it. */
#define ALBM_ALL_OVL_QUEUE        2

#endif
