/* ALBM: the proxy's passive timings of a connection — connect, TTFB, duration, failures */
#ifndef ALBM_DISTRIBUTOR_PROXY_PASSIVE_H
#define ALBM_DISTRIBUTOR_PROXY_PASSIVE_H

#include "distributor/proxy/proxy-t.h"

/* What happened to c (lifecycle.c calls these; each is a few comparisons unless a
 * figure is taken). */
void passive_connecting(struct albmd_conn *c);     /* connect() to c->srv starts */
void passive_connected(struct albmd_conn *c);      /* ... established: connect time */
void passive_connect_failed(struct albmd_conn *c); /* ... failed or timed out: an error */
/* Around each relay pump: the time before it (0 when no figure can start), then what
 * it moved: the request sent, the first response byte (TTFB). */
uint64_t passive_pump_start(const struct albmd_conn *c);
void passive_relayed(struct albmd_conn *c, uint64_t t0);
void passive_closing(struct albmd_conn *c); /* closed: duration, or an error */

#endif
