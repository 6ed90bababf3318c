/* ALBM: libFuzzer target for the HTTP head parsers (albm-httpd requests, albm-bench
 * responses) and albm-httpd's request-target routing */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/common/http.h"
#include "lab/httpd/httpd_route.h"

/* Input: one selector byte, then the bytes a peer sent. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct albm_http_resp resp;
	struct albm_http_req req;
	uint64_t n;
	char *buf;
	int rc;

	if (size < 1)
		return 0;
	/* An exact-size copy, so that ASan sees any read past the peer's bytes. */
	buf = malloc(size - 1 ? size - 1 : 1);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1) {
		rc = albm_http_parse_response(buf, size - 1, &resp);
		if (rc > 0 && ((size_t)rc > size - 1 || strlen(resp.server) >= sizeof(resp.server)))
			abort();
	} else {
		rc = albm_http_parse_request(buf, size - 1, &req);
		if (rc > 0 && (size_t)rc > size - 1)
			abort();
		if (rc > 0)
			httpd_route(req.target, &n);
	}
	free(buf);
	return 0;
}
