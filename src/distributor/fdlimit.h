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

/*
 * At start-up: raise the soft RLIMIT_NOFILE to the hard limit (the default soft limit,
 * 1024, is far below what a balancer needs) and warn when albmd_fd_need() exceeds it.
 * Returns the soft limit in force afterwards.
 */
uint64_t albmd_fd_limit_raise(const struct albmd_config *cfg);

#endif
