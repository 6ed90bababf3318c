/* ALBM: albm-httpd's request targets — /bytes/N, /stats and /status/CODE */
#include "lab/httpd/httpd_route.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

int httpd_parse_bytes(const char *s, uint64_t *size)
{
	uint64_t v;
	int rc = albm_parse_size(s, &v);

	if (rc)
		return rc;
	if (v > HTTPD_BODY_MAX)
		return -ERANGE;
	*size = v;
	return 0;
}

enum httpd_route httpd_route(const char *target, uint64_t *size)
{
	char path[64];
	size_t n = strcspn(target, "?");

	if (n >= sizeof(path))
		return HTTPD_ROUTE_NONE;
	memcpy(path, target, n);
	path[n] = '\0';
	if (!strcmp(path, "/stats"))
		return HTTPD_ROUTE_STATS;
	if (!strncmp(path, "/status/", 8)) {
		uint64_t code;
		if (albm_parse_u64(path + 8, &code) < 0 || code < 200 || code > 599)
			return HTTPD_ROUTE_BAD_SIZE;
		*size = code;
		return HTTPD_ROUTE_STATUS;
	}
	if (strncmp(path, "/bytes/", 7))
		return HTTPD_ROUTE_NONE;
	return httpd_parse_bytes(path + 7, size) ? HTTPD_ROUTE_BAD_SIZE : HTTPD_ROUTE_BYTES;
}
