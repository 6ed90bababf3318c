/* ALBM: albmd's file-descriptor budget — raise RLIMIT_NOFILE, warn when maxconn exceeds it */
#ifndef ALBM_DISTRIBUTOR_FDLIMIT_H
#define ALBM_DISTRIBUTOR_FDLIMIT_H

#include <stdint.h>

#include "distributor/config.h"

/*
 * Descriptors the config allows albmd to hold at once: per proxied connection 2
 * sockets, and with `splice on` 4 more (a pipe each way); plus a reserve for the
 * listeners of every worker, health-check sockets, the per-worker pipe pools, control
 * and admin clients.  0 when no connection limit is configured (maxconn 0 everywhere).
 */
uint64_t albmd_fd_need(const struct albmd_config *cfg);

/* The descriptors albmd keeps for itself, apart from the proxy's connections and pipes:
 * listeners, health checks, control and admin clients, per-worker fixed ones and the
 * slack of a worker's accept batch (workers 0: the config's). */
uint64_t albmd_fd_reserve(const struct albmd_config *cfg, unsigned workers);

/*
 * HAProxy's rule: a client is accepted only when its backend socket can be made.  The
 * proxy's sockets and pipes may hold this many descriptors (RLIMIT_NOFILE less the
 * reserve), read at each configuration change; the accept path keeps 2 per connection.
 */
uint64_t albmd_fd_budget(const struct albmd_config *cfg, unsigned workers);

/*
 * At start-up: raise the soft RLIMIT_NOFILE to the hard limit (the default soft limit,
 * 1024, is far below what a balancer needs) and warn when albmd_fd_need() exceeds it.
 * Returns the soft limit in force afterwards.
 */
uint64_t albmd_fd_limit_raise(const struct albmd_config *cfg);

#endif
