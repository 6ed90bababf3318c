/* ALBM: the PROXY protocol header (v1 text, v2 binary) albmd sends to the servers */
#ifndef ALBM_DISTRIBUTOR_PROXY_PP_H
#define ALBM_DISTRIBUTOR_PROXY_PP_H

#include <stddef.h>

#include "common/addr.h"
#include "distributor/config.h"

#define ALBMD_PP_HEADER_MAX 128 /* v1: at most 107 bytes; v2 over IPv6: 52 */

/* Write the header for a client `peer` that connected to `local` into out (len >=
 * ALBMD_PP_HEADER_MAX); its length, or -1 (version off, mixed families, no room). */
int albmd_pp_header(enum albmd_proxy_proto v, const struct albm_addr *peer,
		    const struct albm_addr *local, char *out, size_t len);

#endif
