/* ALBM: a proxy connection's life — admission, connect with retries, relay, close */
#ifndef ALBM_DISTRIBUTOR_PROXY_LIFECYCLE_H
#define ALBM_DISTRIBUTOR_PROXY_LIFECYCLE_H

#include "distributor/proxy/proxy-t.h"

/* Clients accepted on l: admit them to l's service in one service lock section, then
 * connect, queue or close each (all closed when l has no service). */
void proxy_accepted(struct albmd_pworker *pw, struct albmd_listener *l, const int *fds,
		    const struct albm_addr *peers, unsigned n);
/* After a batch: reconnect failed connects, dispatch the queue if a server was given
 * back, reap the closed connections. */
void proxy_after_batch(struct albmd_pworker *pw);
/* Periodic: connect and idle timeouts, byte counters of long transfers. */
void proxy_sweep_conns(struct albmd_pworker *pw);
/* Shutdown: close every connection and reap them. */
void proxy_close_all(struct albmd_pworker *pw);
/* The queue timer (pw->qtimer): expire waiting clients, dispatch, re-arm while any wait. */
void proxy_queue_timer(struct evl *loop, struct evl_timer *t);

#endif
