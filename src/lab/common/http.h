/* ALBM: minimal HTTP/1.x head parsing (request and response) for the lab tools */
#ifndef ALBM_LAB_COMMON_HTTP_H
#define ALBM_LAB_COMMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"

/*
 * Only what albm-httpd and albm-bench need: the head of one message (start line and
 * header fields, up to the blank line), CRLF line endings only, no obs-fold, no
 * chunked bodies.  Both parsers work on a buffer that may hold a partial head and
 * return:
 *   > 0      the length of the head, including the final CRLF CRLF
 *   0        the head is not complete yet (read more; the caller bounds the size)
 *   -EINVAL  the bytes are not a head we accept (the caller answers 400 / counts
 *            a protocol error and closes the connection)
 */
#define ALBM_HTTP_TARGET_MAX 1024 /* longest request target we accept */

struct albm_http_req {
	char method[16];
	char target[ALBM_HTTP_TARGET_MAX];
	int minor;      /* HTTP/1.<minor> */
	bool keepalive; /* after Connection: and the version's default */
	bool has_body;  /* Content-Length > 0 or any Transfer-Encoding */
};

struct albm_http_resp {
	int status; /* 100..999 */
	int minor;
	bool keepalive;  /* the server keeps the connection open */
	bool has_length; /* a Content-Length field was present */
	uint64_t content_length;
	bool chunked;               /* Transfer-Encoding present (we do not decode it) */
	char server[ALBM_NAME_MAX]; /* X-Server value, "" when absent */
};

int albm_http_parse_request(const char *buf, size_t len, struct albm_http_req *req);
int albm_http_parse_response(const char *buf, size_t len, struct albm_http_resp *resp);

/* Reason phrase of a status code the lab tools send ("OK", "Not Found", ...). */
const char *albm_http_reason(int status);

#endif
