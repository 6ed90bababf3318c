/* ALBM: albm-httpd's request targets — /bytes/N, /stats and /status/CODE */
#ifndef ALBM_LAB_HTTPD_ROUTE_H
#define ALBM_LAB_HTTPD_ROUTE_H

#include <stdint.h>

#define HTTPD_BODY_MAX (64ull << 30) /* largest N of /bytes/N */

enum httpd_route {
	HTTPD_ROUTE_BYTES,    /* /bytes/N: N body bytes, through the cost model */
	HTTPD_ROUTE_STATS,    /* /stats: JSON counters, free of cost */
	HTTPD_ROUTE_BAD_SIZE, /* /bytes/<not a size>: 400 */
	HTTPD_ROUTE_STATUS,   /* /status/CODE: that status (200-599), a short body; for
			       * health checks that expect a status */
	HTTPD_ROUTE_NONE,     /* anything else: 404 */
};

/*
 * Parse the N of /bytes/N: decimal digits with an optional K, M or G suffix
 * (binary: 5M = 5 * 2^20; "KB"/"MB" also accepted, case-insensitive), at most
 * HTTPD_BODY_MAX.  Returns 0, -EINVAL or -ERANGE.
 */
int httpd_parse_bytes(const char *s, uint64_t *size);
/* Classify a request target (a query string is ignored); fills *size for BYTES, and
 * with the code for STATUS (a code outside 200-599 is BAD_SIZE). */
enum httpd_route httpd_route(const char *target, uint64_t *size);

#endif
