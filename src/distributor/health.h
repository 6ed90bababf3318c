/* ALBM: albmd's active TCP health check (for servers without an agent) */
#ifndef ALBM_DISTRIBUTOR_HEALTH_H
#define ALBM_DISTRIBUTOR_HEALTH_H

#include "distributor/daemon.h"

/* Start checking srv with its service's health-check settings (main thread, lock
 * held).  The server counts as up until `fall` checks in a row fail; then it is
 * down until `rise` checks in a row succeed. */
void albmd_health_attach(struct albmd *d, struct albmd_server *srv);
/* Stop checking (safe when not attached). */
void albmd_health_detach(struct albmd *d, struct albmd_server *srv);
/* Checks that failed so far (for /metrics). */
uint64_t albmd_health_failures(const struct albmd_server *srv);

#endif
