/* ALBM: albmd's L7 health check — the request (PROXY header first where the service
 * sends one) and the status line of the answer */
#ifndef ALBM_DISTRIBUTOR_HEALTH_HTTP_H
#define ALBM_DISTRIBUTOR_HEALTH_HTTP_H

#include <stddef.h>

#include "distributor/config.h"

#define ALBMD_HC_REQ_MAX 768 /* PROXY v2 (52) + request line and headers */

/* The bytes an HTTP check sends on the connected socket fd to server: a PROXY header
 * (v1 or v2, the check connection's own addresses) when pp is set, then
 * "GET PATH HTTP/1.0" with Host (cfg->host or the server's address).  Returns the
 * length written to out, or -1. */
int albmd_hc_http_request(const struct albmd_cfg_health *cfg, enum albmd_proxy_proto pp, int fd,
			  const struct albm_addr *server, char *out, size_t len);
/* The status code once the status line of buf[0..len) is complete (100-599), 0 while
 * more is needed, -1 when it is not an HTTP status line. */
int albmd_hc_http_status(const char *buf, size_t len);

#endif
