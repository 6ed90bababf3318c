/* ALBM: albm-bench's target URL — "http://HOST:PORT[/PREFIX]", numeric hosts only */
#ifndef ALBM_LAB_BENCH_URL_H
#define ALBM_LAB_BENCH_URL_H

#include <stddef.h>

#include "common/addr.h"

struct bench_url {
	struct albm_addr addr;
	char host[ALBM_ADDRSTRLEN]; /* the Host header: "127.0.0.1:8080", "[::1]:80" */
	char prefix[256];           /* "" or "/x" (no trailing slash): requests go to
				     * PREFIX/bytes/N */
};

/*
 * Parse "http://1.2.3.4:8080", "http://[::1]:8080/", "http://10.0.0.1" (port 80) or
 * "http://10.0.0.1:80/lab" (a path prefix).  The host must be a numeric address:
 * the bench must measure the server, not a resolver.  No https, query, fragment or
 * user info.  Returns 0 or -EINVAL with a message naming the problem.
 */
int bench_url_parse(const char *text, struct bench_url *url, char *err, size_t errlen);

#endif
