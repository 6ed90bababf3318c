/* ALBM: the proxy's relay — copy through a scratch buffer, splice through pooled pipes */
#ifndef ALBM_DISTRIBUTOR_PROXY_RELAY_H
#define ALBM_DISTRIBUTOR_PROXY_RELAY_H

#include "distributor/proxy/proxy-t.h"

/* Move data both ways until it would block: 0 (continue), 1 (both directions have
 * ended: close), -1 (error: close; c->failed_side is the side whose socket failed,
 * -1 when albmd ran out of memory). */
int relay_pump(struct albmd_conn *c);
/* Queue bytes to be written to the other side of direction i before anything it
 * reads (the PROXY protocol header); 0, or -ENOMEM. */
int relay_stash(struct albmd_conn *c, int i, const char *data, size_t n);
/* The same with a malloc'd buffer the relay takes over (frees once written). */
void relay_stash_own(struct albmd_conn *c, int i, char *buf, size_t n);
/* Give back the connection's pipes and buffers (closing). */
void relay_release(struct albmd_conn *c);

/* The worker's pipe pool. */
void relay_pipes_init(struct albmd_pworker *pw);
void relay_pipes_free(struct albmd_pworker *pw);

#endif
