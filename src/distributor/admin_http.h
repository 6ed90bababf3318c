/* ALBM: albmd's admin HTTP server — /metrics (Prometheus) and /api/state (JSON) */
#ifndef ALBM_DISTRIBUTOR_ADMIN_HTTP_H
#define ALBM_DISTRIBUTOR_ADMIN_HTTP_H

#include "distributor/buf.h"
#include "distributor/daemon.h"

/* Bind addr (no state changes); NULL with err. */
struct albmd_http *albmd_admin_open(const struct albm_addr *addr, char *err, size_t errlen);
void albmd_admin_start(struct albmd *d, struct albmd_http *adm);
void albmd_admin_close(struct albmd *d, struct albmd_http *adm);
const struct albm_addr *albmd_admin_addr(const struct albmd_http *adm);

/* Answer one request (the bytes up to the blank line) into out: a complete HTTP/1.0
 * response.  Takes d->lock for the state it reads. */
void albmd_admin_respond(struct albmd *d, const char *req, size_t len, struct albmd_buf *out);

#endif
