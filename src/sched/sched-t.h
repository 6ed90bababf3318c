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

/* A real server as the scheduler sees it. */
struct albm_dest {
	char name[ALBM_NAME_MAX];
	struct albm_addr addr;
	int weight;              /* static weight; 0 = drained (no new connections) */
	uint32_t flags;          /* ALBM_DEST_F_* */
	uint32_t activeconns;    /* established connections */
	uint32_t inactconns;     /* connections not (yet / any more) established */
	uint32_t u_threshold;    /* maxconn: 0 = no limit; at the limit ALBM_DEST_F_OVERLOAD */
	uint32_t l_threshold;    /* clear OVERLOAD below this (0: at u_threshold * 3 / 4) */
	uint64_t total_conns;    /* connections ever scheduled to this server */

	/* The agent's latest measurement, NULL = none.  Not a copy: it points at the
	 * caller's one copy (albmd's agent entry), see albm_svc_report(). */
	const struct albm_metrics *report;
	uint64_t report_ms;      /* when it arrived (svc clock); 0 = never */

	double eff_weight;       /* effective weight published by the scheduler (albm: from
				  * measurements; others: = weight, or 0 when not eligible) */

	/* Private to the scheduler library: */
	uint64_t seq;            /* insertion order, the IPVS list position for tie-breaks */
	size_t idx;              /* position in svc->dests */
	int heap_pos[2];         /* positions in up to two indexed heaps (-1 = not in) */
	void *sched_priv;        /* per-destination scheduler state */
	void *owner;             /* the data plane's own per-server object */
};

/* A virtual service: its destinations in list order plus the bound scheduler. */
struct albm_service {
	char name[ALBM_NAME_MAX];
	struct albm_dest **dests; /* list order = insertion order (IPVS n_list) */
	size_t ndests, cap;
	uint64_t next_seq;
	uint32_t flags;           /* ALBM_SVC_F_* */

	const struct albm_sched_ops *sched;
	void *sched_data;

	/* Clock (ms) and randomness: overridable so that tests are deterministic. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t rng_state;       /* xorshift64* state, never 0 */

	/* Parameters of the adaptive scheduler (ignored by the others). */
	struct albm_adaptive_params {
		uint64_t report_timeout_ms; /* no report this long: the server is failed */
		uint64_t slow_start_ms;     /* ramp-up window after recovery (0 = off) */
		double slow_start_aggression; /* Envoy's aggression (1.0 = linear) */
		double slow_start_min;      /* Envoy's min_weight_percent, as a fraction */
		double rise_alpha;          /* smoothing of rising capacity (0-1] */
		int all_overloaded_policy;  /* ALBM_ALL_OVL_LEAST_LOADED, _REFUSE or _QUEUE */
		double mem_reserve;         /* fraction of each server's memory kept free */
	} adaptive;

	/* Statistics kept by the library. */
	uint64_t picks;          /* successful schedule() calls */
	uint64_t no_dest;        /* schedule() calls that found no server */
};

#define ALBM_ALL_OVL_LEAST_LOADED 0
#define ALBM_ALL_OVL_REFUSE       1
/* Like REFUSE for the scheduler (schedule() returns NULL); the proxy data plane
 * then holds the new connection in a queue until a server can take it. */
#define ALBM_ALL_OVL_QUEUE        2

#endif
