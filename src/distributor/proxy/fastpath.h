/* ALBM: the proxy's data paths — which relay a connection uses, and the hand-off points */
#ifndef ALBM_DISTRIBUTOR_PROXY_FASTPATH_H
#define ALBM_DISTRIBUTOR_PROXY_FASTPATH_H

#include <jansson.h>

#include "distributor/buf.h"
#include "distributor/proxy/proxy-t.h"

/*
 * A service's `data-path` (auto, epoll, sockmap, uring) resolves to the relay its new
 * connections use: epoll (relay.c: copy and splice in the worker), sockmap (the
 * kernel relays socket to socket: relay_sockmap.c) or uring (the worker's io_uring:
 * relay_uring.c).  What the kernel can do is probed
 * once, when the first proxy service is prepared; what it cannot do falls back to
 * epoll with an info log.  docs/albmd.md ("Data path") says what each mode keeps.
 */

/* The worker hooks (plane.c): the daemon-wide state lives while a worker is attached. */
void fastpath_attach(struct albmd_pworker *pw);
void fastpath_detach(struct albmd_pworker *pw);
/* Main thread, before the first proxy service starts: probe the kernel (once). */
void fastpath_probe(struct albmd *d);
/* What a service configured with `want` runs now: EPOLL, SOCKMAP or URING. */
enum albmd_data_path fastpath_resolve(const struct albmd *d, enum albmd_data_path want);
const char *fastpath_name(enum albmd_data_path p);
/* Main thread, when svc starts: log a forced mode that the kernel cannot give. */
void fastpath_service_started(struct albmd *d, const struct albmd_service *svc);

/* ---- the hand-off points (lifecycle.c, conn.c) ---- */

/* Admission (service lock held): the connection's data path, from its service. */
void fastpath_conn_init(struct albmd_conn *c, const struct albmd_service *svc);
/* The user-space relay has pumped c and goes on: the relay is established and idle,
 * offer it to the kernel. */
void fastpath_offer(struct albmd_conn *c);
/* An epoll event of a connection the kernel relays (c->k.state != KERNEL_OFF):
 * EOF, reset or error start giving it back.  1 when it is back in user space (the
 * caller pumps it: relay.c passes the EOF or error on), else 0. */
int fastpath_event(struct albmd_conn *c, uint32_t revents);
/* The sweep: the kernel's byte counts and last activity into c (for the statistics
 * and the idle timeout). */
void fastpath_sweep(struct albmd_conn *c, uint64_t now);
/* c is closing: its final counts; forget it. */
void fastpath_closing(struct albmd_conn *c);
/* After each event batch: submit what the batch prepared for the io_uring relay. */
void fastpath_after_batch(struct albmd_pworker *pw);

/* ---- views ---- */

/* The "proxy" object of a service in list --json: {"data_path": ..., ...}. */
json_t *fastpath_service_json(const struct albmd_service *svc);
/* "  data-path epoll (sockmap)" after the service's line in albmctl list. */
void fastpath_service_words(const struct albmd_service *svc, struct albmd_buf *out);
/* The /metrics families of the data paths. */
void fastpath_metrics(struct albmd *d, struct albmd_buf *out);

#endif
