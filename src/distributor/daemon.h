/* ALBM: albmd's run-time state — services, servers, the lock that guards them */
#ifndef ALBM_DISTRIBUTOR_DAEMON_H
#define ALBM_DISTRIBUTOR_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "distributor/config.h"
#include "distributor/dataplane.h"
#include "distributor/fdlimit.h"
#include "distributor/passive-t.h"
#include "common/ev.h"
#include "proto/report.h"
#include "sched/sched.h"

/*
 * Threading: the main thread runs control, agents, health checks, the admin HTTP
 * server, timers, the DR plane and worker 0's proxy work; workers 1..N-1 run proxy
 * work only (worker.h).  Two kinds of lock guard what is reachable from struct albmd:
 *
 * - the service lock (albmd_service.lock) guards one service's scheduler state
 *   (svc->sched and its destinations), its configuration and its servers' fields.
 *   The proxy's hot path — accept, schedule, connection open/close — takes this
 *   lock only, and one service lock at a time;
 * - the daemon lock (albmd.lock) guards the service list, the configuration, the
 *   agents, control and reload.  albmd_lock() takes it and then every listed
 *   service's lock, so that whatever the main thread does under it (control
 *   commands, agent reports, health checks, ticks, the DR plane, the views) also
 *   holds the lock of any service it touches.
 *
 * Lock order: the daemon lock before service locks; service locks in list order;
 * a worker's inbox lock and a proxy listener's lock are leaves (nothing is taken
 * under them).  No thread takes the daemon lock while it holds a service lock.
 * The statistics counters are updated with relaxed atomics (ALBMD_STAT_ADD), so
 * that the relay path takes no lock.  Services and servers are reference counted:
 * a connection holds a reference to its service and its server, so that a reload
 * or `albmctl remove` can take them out of the scheduler while established
 * connections continue.
 */

#define ALBMD_STAT_ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define ALBMD_STAT_SUB(x, n) __atomic_fetch_sub(&(x), (n), __ATOMIC_RELAXED)
#define ALBMD_STAT_GET(x)    __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct albmd;
struct albmd_service;
struct albmd_agent;
struct albmd_health;
struct albmd_hist;
struct albmd_history;

/* Administrative state set through albmctl (enable undoes drain and disable). */
enum albmd_admin {
	ALBMD_ADMIN_ENABLED = 0,
	ALBMD_ADMIN_DRAIN,
	ALBMD_ADMIN_DISABLED
};

/* What `albmctl list` shows. */
enum albmd_state {
	ALBMD_ST_UP = 0,
	ALBMD_ST_OVERLOADED, /* the agent says so, or maxconn reached */
	ALBMD_ST_DRAIN,      /* weight 0 through albmctl drain (or configured weight 0) */
	ALBMD_ST_DOWN,       /* health check failed, agent timeout, connect failures, disable */
	ALBMD_ST_UNKNOWN,    /* agents configured, no report yet: served on static weight */
};

struct albmd_server_stats {
	uint64_t bytes_in;         /* client -> server */
	uint64_t bytes_out;        /* server -> client */
	uint64_t picks;            /* times the scheduler chose this server */
	uint64_t connect_failures; /* connect() to it failed or timed out */
	uint64_t retries;          /* connections moved from it to another server */
	uint64_t conns_active;     /* its open connections (proxied, or DR flows counted
				    * from the XDP counters), also after its removal */
	uint64_t client_aborts;    /* relayed connections the client reset (passed on as one) */
	uint64_t server_aborts;    /* relayed connections the server reset (passed on as one) */
};

/* The last state the log told of a server, and its rate limit (state_log.c). */
struct albmd_state_log {
	bool init;
	uint8_t logged; /* enum albmd_log_state */
	unsigned lines, suppressed;
	uint64_t window_ms;
};

struct albmd_server {
	char name[ALBM_NAME_MAX];
	struct albm_addr addr;
	struct albmd_service *svc;
	struct albm_dest *dest; /* the scheduler's view; NULL once removed */
	int weight;             /* configured (or albmctl weight) */
	uint32_t maxconn;
	enum albmd_admin admin;
	bool hc_down;           /* active health check failed */
	bool agent_down;        /* agent stopped reporting */
	unsigned fails;         /* consecutive connect failures (passive check) */
	uint64_t fail_until_ms; /* passive: down until then */
	uint64_t ramp_start_ms; /* albmd's slow start (schedulers without
				 * ALBM_SCHED_F_ADAPTIVE); 0 = none */
	bool was_avail;
	struct albmd_agent *agent; /* same-named agent entry, NULL without agents block */
	struct albmd_health *hc;
	struct albmd_hist *hist; /* the dashboard's samples (history.c) */
	struct albmd_state_log slog;
	int refs; /* atomic */
	struct albmd_server_stats st;
	struct albmd_passive passive; /* the data plane's timings (passive.h) */
};

/* The server behind a scheduler destination. */
static inline struct albmd_server *albmd_dest_server(const struct albm_dest *dest)
{
	return dest->owner;
}

struct albmd_service_stats {
	uint64_t conns_total;
	uint64_t conns_active;
	uint64_t no_server; /* no server available: the client was closed */
	uint64_t refused;   /* maxconn reached (service or global), or queue-max */
	uint64_t retries;
	uint64_t bytes_in, bytes_out;
	uint64_t queued;          /* gauge: clients waiting for a server (proxy/queue.c) */
	uint64_t queued_total;    /* clients that had to wait */
	uint64_t queue_timeouts;  /* waited queue-timeout without a server: closed */
	uint64_t client_aborts;   /* relayed connections the client reset or failed */
	uint64_t server_aborts;   /* relayed connections the server reset or failed */
	uint64_t queue_overflows; /* at the queue's bound: sent to the least-loaded server */
};

struct albmd_service {
	char name[ALBM_NAME_MAX];
	struct albmd_cfg_service cfg; /* servers/nservers not owned (NULL) */
	struct albm_service sched;    /* destinations: sched.dests[i]->owner is the server */
	const struct albmd_dataplane_ops *dp; /* its `mode` (dataplane.h) */
	void *dp_data;                        /* the plane's per-service state */
	bool removed;
	struct albmd_hist *hist; /* the dashboard's samples (history.c) */
	int refs;                /* atomic */
	pthread_mutex_t lock;    /* the service lock (see the top of this file) */
	struct albmd_service_stats st;
};

static inline void albmd_service_lock(struct albmd_service *svc)
{
	pthread_mutex_lock(&svc->lock);
}

static inline void albmd_service_unlock(struct albmd_service *svc)
{
	pthread_mutex_unlock(&svc->lock);
}

struct albmd_worker;
struct albmd_agents;
struct albmd_ha;
struct albmd_control;
struct albmd_http;
struct albmd_alog;
struct albmd_memguard;

/* Why the proxy refused clients for a local reason (`refusals` in albmctl stats,
 * albm_refusals_total{cause}): a local shortage is never counted against a server. */
enum albmd_refusal {
	ALBMD_REFUSE_MAXCONN,     /* accepting paused at the global maxconn */
	ALBMD_REFUSE_FD_HEADROOM, /* paused: no descriptor left for one more backend socket */
	ALBMD_REFUSE_EMFILE,      /* accept4() hit the process's descriptor limit: paused */
	ALBMD_REFUSE_ENFILE,      /* accept4() hit the system's descriptor limit: paused */
	ALBMD_REFUSE_NOMEM,       /* accept4() found no kernel memory (ENOBUFS, ENOMEM): paused */
	ALBMD_REFUSE_MEMORY,      /* paused: albmd's memory cgroup is near its limit */
	ALBMD_REFUSE_BACKEND,     /* an accepted client closed: no backend socket or local port */
	ALBMD_REFUSE_COUNT
};

#define ALBMD_ACCEPT_CAUSES 4 /* enum albmd_accept_cause (accept_guard.h) */

/* The counters of the daemon, its services and its servers; views read them
 * through the one table of stats.c. */
struct albmd_stats {
	uint64_t conns_current, conns_total, conns_refused;
	uint64_t reloads_ok, reloads_failed;
	uint64_t control_commands, control_errors;
	uint64_t accept_errors;
	uint64_t control_accept_errors[ALBMD_ACCEPT_CAUSES]; /* by cause */
	uint64_t http_accept_errors[ALBMD_ACCEPT_CAUSES];
	uint64_t refusals[ALBMD_REFUSE_COUNT];
	uint64_t pipes;        /* gauge: the proxy's splice pipes, pooled or in use */
	uint64_t alog_lines;   /* access-log lines written */
	uint64_t alog_dropped; /* access-log lines lost (write or send failed) */
};

/* Settings the workers read without the daemon lock: copied from cfg after each
 * configuration change (albmd_publish_hot), read with relaxed atomics. */
struct albmd_hot {
	uint32_t maxconn;      /* cfg.maxconn */
	bool splice;           /* cfg.splice */
	bool mem_pressure;     /* the memory cgroup is near its limit (memguard.c) */
	uint64_t mem_conn_cap; /* connections that still fit in its memory (0: no cap) */
	uint64_t fd_budget;    /* descriptors the proxy's sockets and pipes may hold (fdlimit.c) */
};

/* The services albmd_lock() locked, unlocked (and unreferenced) by albmd_unlock(). */
struct albmd_held {
	struct albmd_service **v;
	size_t n, cap;
	bool active; /* between albmd_lock() and albmd_unlock() */
};

struct dr_flow;

/* Where the DR plane hands the new flows its XDP programs publish (flow sync): the ha
 * group (ha.c) sets it while it runs.  A hook, so that the plane (dr_group.c) knows
 * nothing of the group that calls it. */
struct albmd_flow_sink {
	void (*flow)(struct albmd *d, const struct dr_flow *f); /* one new flow */
	void (*flush)(struct albmd *d);                         /* after a batch of them */
};

struct albmd {
	struct albmd_config cfg;
	pthread_mutex_t lock;
	struct albmd_held held;
	struct albmd_hot hot;
	struct albmd_service **services;
	size_t nservices;
	struct albmd_worker **workers;
	unsigned nworkers;
	struct evl *loop;                        /* the main thread's loop */
	struct albmd_agents *agents;             /* NULL without an agents block */
	struct albmd_ha *ha;                     /* NULL without an ha block (ha.h) */
	const struct albmd_flow_sink *flow_sink; /* the DR plane's new flows go here (ha.c) */
	struct albmd_control *control;
	struct albmd_http *admin;
	struct albmd_history *history; /* the samples' clock (history.c) */
	struct evl_timer tick;
	uint64_t start_ms;
	bool draining;
	bool stopping;
	uint64_t drain_deadline_ms;
	struct albmd_stats st;
	struct albmd_alog *alog;         /* the access log's target (access_log.c), NULL: off */
	struct albmd_memguard *memguard; /* memguard.c; NULL without a memory limit */
	uint64_t alog_gen;
	void *dp_state[ALBMD_DATAPLANES_MAX]; /* each plane's daemon-wide state, by mode
					       * (the DR plane: its XDP attachments) */
};

/* The daemon lock, then every listed service's lock (lock.c). */
void albmd_lock(struct albmd *d);
void albmd_unlock(struct albmd *d);
/* A service created under albmd_lock() is locked and released with the others. */
void albmd_lock_adopt(struct albmd *d, struct albmd_service *svc);
/* Free what albmd_lock() keeps between sections (at exit, unlocked). */
void albmd_lock_done(struct albmd *d);

static inline void albmd_publish_hot(struct albmd *d)
{
	__atomic_store_n(&d->hot.maxconn, d->cfg.maxconn, __ATOMIC_RELAXED);
	__atomic_store_n(&d->hot.splice, d->cfg.splice, __ATOMIC_RELAXED);
	__atomic_store_n(&d->hot.fd_budget, albmd_fd_budget(&d->cfg, d->nworkers),
			 __ATOMIC_RELAXED);
}

#endif
