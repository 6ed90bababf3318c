/* ALBM: albmd's admin HTTP server — /metrics, /api/state, /api/history and the dashboard */
#ifndef ALBM_DISTRIBUTOR_ADMIN_HTTP_H
#define ALBM_DISTRIBUTOR_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "distributor/buf.h"
#include "distributor/daemon.h"

#define ALBMD_HTTP_TOKEN_MAX 128 /* bytes of a bearer token, NUL included */

/* A parsed request head (admin_http_parse.c). */
struct albmd_http_req {
	char method[8];
	char path[256];  /* the target up to '?' */
	char query[256]; /* after '?', undecoded ("" without) */
	bool has_auth;   /* an Authorization header came */
	bool bearer;     /* ... of the form "Bearer TOKEN" that fit in token */
	char token[ALBMD_HTTP_TOKEN_MAX];
};

/* Parse the bytes received so far, buf[0..len) (no NUL needed; NULs are refused).
 * Returns the head's length once the blank line arrived (req filled), 0 while more
 * is needed, -EBADMSG as soon as the bytes cannot be a valid head (answer 400). */
int albmd_http_parse(const char *buf, size_t len, struct albmd_http_req *req);

/* What the routes need besides the daemon: set at open and on reload. */
struct albmd_admin_conf {
	char token[ALBMD_HTTP_TOKEN_MAX]; /* "" = no token: loopback only, nothing asked */
	char chart_js[ALBMD_PATH_MAX];    /* the chart library the dashboard loads */
};

/* Read a token file (the first line; 16-127 printable characters, no spaces); refuse a
 * file group or others can read.  0 or -errno with err. */
int albmd_admin_token_load(const char *path, char *token, size_t size, char *err, size_t errlen);

/* Answer one parsed request into out (a complete HTTP/1.0 response).  Takes d->lock
 * for the state it reads. */
void albmd_admin_respond(struct albmd *d, const struct albmd_admin_conf *conf,
			 const struct albmd_http_req *req, struct albmd_buf *out);
/* A response with a short text body (400, 404, 431...). */
void albmd_http_text(struct albmd_buf *out, int code, const char *msg);

/* Bind addr (no state changes); NULL with err. */
struct albmd_http *albmd_admin_open(const struct albm_addr *addr, char *err, size_t errlen);
void albmd_admin_start(struct albmd *d, struct albmd_http *adm);
void albmd_admin_close(struct albmd *d, struct albmd_http *adm);
const struct albm_addr *albmd_admin_addr(const struct albmd_http *adm);
/* Token and chart path (reload: applied without re-binding). */
void albmd_admin_configure(struct albmd_http *adm, const struct albmd_admin_conf *conf);

#endif
