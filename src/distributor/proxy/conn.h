/* ALBM: proxy connections as objects — allocation, pool, admission, servers, reaping */
#ifndef ALBM_DISTRIBUTOR_PROXY_CONN_H
#define ALBM_DISTRIBUTOR_PROXY_CONN_H

#include "distributor/proxy/proxy-t.h"

/* A new connection object on pw's live list (from the pool when it has one). */
struct albmd_conn *conn_alloc(struct albmd_pworker *pw);
/* Closed: off the live list, onto the dead list; conn_reap() finishes it. */
void conn_bury(struct albmd_conn *c);
/* Give the dead connections' servers back to their schedulers (a lock section per
 * service).  With keep non-NULL, return with keep's service lock held (a caller
 * about to schedule for keep: its dead connections are released in that section). */
void conn_release_dead(struct albmd_pworker *pw, struct albmd_service *keep);
/* After a batch: release the dead connections' servers and references and recycle
 * the objects.  Nothing may still point at them (retry list, queue). */
void conn_reap(struct albmd_pworker *pw);
/* Shutdown: free the pool (the dead list is reaped first). */
void conn_pool_free(struct albmd_pworker *pw);

/* Add the bytes relayed since the last call to the server and service counters. */
void conn_flush_stats(struct albmd_conn *c);

/* The following run under svc's service lock (c->svc for the conn_* ones). */
enum conn_admission {
	ADMIT_CLOSE,
	ADMIT_CONNECT,
	ADMIT_QUEUE
};
/* Admission and first pick for a new client of svc (takes a reference to svc);
 * ADMIT_CONNECT with c->srv set. */
enum conn_admission conn_admit(struct albmd_conn *c, struct albmd_service *svc, bool splice);
/* Pick a server, preferring one not tried yet, and open it in the scheduler. */
struct albmd_server *conn_pick(struct albmd_conn *c);
/* Give the current server back to the scheduler (sets pw->released). */
void conn_release_server(struct albmd_conn *c);
/* No server was picked: may the client wait in the queue?  Counts the outcome.  When
 * not, c->srv may have been set to the scheduler's overflow server (queue-timeout 0,
 * or the queue full): connect it; else close. */
bool conn_may_queue(struct albmd_conn *c);
/* At the queue's bound: the scheduler's overflow server (queue-overflow least-loaded),
 * opened and counted, or NULL. */
struct albmd_server *conn_overflow(struct albmd_conn *c);
/* At least one server up and not drained: the service is full, not gone. */
bool conn_svc_has_live_server(const struct albmd_service *svc);

#endif
