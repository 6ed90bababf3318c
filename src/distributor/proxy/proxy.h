/* ALBM: albmd's proxy data plane — what the rest of albmd sees of it */
#ifndef ALBM_DISTRIBUTOR_PROXY_PROXY_H
#define ALBM_DISTRIBUTOR_PROXY_PROXY_H

#include "distributor/worker.h"

/*
 * The plane's data-plane operations are albmd_dp_proxy (daemon.h; plane.c); its
 * part in the workers is albmd_proxy_plane, which main.c hands to the worker runtime.
 * Files (docs/architecture.md): listener.c (sockets, accept), lifecycle.c (a
 * connection's life), conn.c (the objects, the scheduler calls), queue.c (clients
 * waiting for a server), relay.c (copy and splice), pp.c (PROXY protocol), plane.c
 * (the per-worker state and hooks).
 */
extern const struct albmd_worker_plane albmd_proxy_plane;

#endif
