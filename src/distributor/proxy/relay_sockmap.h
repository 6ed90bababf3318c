/* ALBM: the in-kernel relay (BPF sockmap) — pair a connection's sockets, watch, unpair */
#ifndef ALBM_DISTRIBUTOR_PROXY_RELAY_SOCKMAP_H
#define ALBM_DISTRIBUTOR_PROXY_RELAY_SOCKMAP_H

#include <stdint.h>

#include "distributor/proxy/proxy-t.h"

struct sockmap_relay;

/* Load src/bpf/albm_sockmap.bpf.c (maps sized for max_socks sockets) and attach its
 * verdict to the relay map: 0, or -errno with err (the kernel or the privileges lack
 * something: the caller falls back to epoll). */
int sockmap_open(struct sockmap_relay **out, uint32_t max_socks, char *err, size_t errlen);
void sockmap_close(struct sockmap_relay *r);
/* The program's global counters (enum albm_sk_stat), summed over the CPUs. */
int sockmap_stats(const struct sockmap_relay *r, uint64_t *out, unsigned n);

/* Hand c's two sockets to the kernel: from now on their data flows socket to socket
 * and only EOF, reset or error wake the worker.  Nothing may be pending in user space.
 * 0, or -errno when c stays in user space (nothing changed). */
int sockmap_pair(struct sockmap_relay *r, struct albmd_conn *c);
/* Stop relaying new data (the verdict is detached from both sockets). */
void sockmap_stop(struct sockmap_relay *r, struct albmd_conn *c);
/* After sockmap_stop: has everything the kernel took been written into the other
 * socket?  Then sockmap_unpair() may give the sockets back; updates c->k.fwd and
 * c->last_ms. */
bool sockmap_drained(struct sockmap_relay *r, struct albmd_conn *c);
/* Give the sockets back to user space (normal sockets again) and the counts to dir[]. */
void sockmap_unpair(struct sockmap_relay *r, struct albmd_conn *c);
/* Read what the kernel passed on (c->k.fwd, dir[].bytes) and when (c->last_ms). */
void sockmap_refresh(struct sockmap_relay *r, struct albmd_conn *c);
/* Closing: the final counts; the sockets leave the maps when they are closed. */
void sockmap_forget(struct sockmap_relay *r, struct albmd_conn *c);

#endif
