/* ALBM: albmd's admin HTTP routes — the dashboard, its chart library, /metrics, the JSON APIs
 *
 * GET and HEAD only, every page read-only.  With a token (required to bind anything
 * but loopback) the data routes want `Authorization: Bearer TOKEN`; the dashboard page
 * and the chart library hold no data and load without it (the page asks for the token
 * and sends it with its own requests).
 */
#define LOG_COMPONENT "http"
#include "distributor/admin_http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/dashboard.h"
#include "distributor/history.h"
#include "distributor/state.h"

#define CHART_JS_MAX (4u << 20) /* the Debian chart.min.js is 200 KB */

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Error";
	}
}

static void http_reply(struct albmd_buf *out, int code, const char *ctype, const char *extra,
		       const char *body, size_t blen, bool head)
{
	albmd_buf_printf(out,
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n%s\r\n",
			 code, reason_phrase(code), ctype, blen, extra ? extra : "");
	if (!head)
		albmd_buf_append(out, body, blen);
}

void albmd_http_text(struct albmd_buf *out, int code, const char *msg)
{
	http_reply(out, code, "text/plain; charset=utf-8", NULL, msg, strlen(msg), false);
}

/* Equal tokens, in a time that does not depend on where they differ. */
static bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

static bool authorized(const struct albmd_admin_conf *conf, const struct albmd_http_req *req)
{
	return !conf->token[0] || (req->bearer && token_equal(req->token, conf->token));
}

int albmd_admin_token_load(const char *path, char *token, size_t size, char *err, size_t errlen)
{
	char text[ALBMD_HTTP_TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		albm_seterr(err, errlen, "http-token-file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		albm_seterr(err, errlen, "http-token-file %s: %s", path,
			    !S_ISREG(st.st_mode) ? "not a regular file"
						 : "readable by group or others; run: chmod 600");
		close(fd);
		return -EPERM;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	len = strcspn(text, "\r\n");
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (text[i] <= ' ' || text[i] >= 0x7f)
			len = 0;
	if (len < 16 || len >= size) {
		albm_seterr(err, errlen,
			    "http-token-file %s: the first line must be a token of "
			    "16-%zu printable characters without spaces",
			    path, size - 1);
		return -EINVAL;
	}
	memcpy(token, text, len + 1);
	return 0;
}

/* The chart library from its Debian package (libjs-chart.js), never a CDN. */
static void serve_chart_js(const struct albmd_admin_conf *conf, struct albmd_buf *out, bool head)
{
	struct albmd_buf body = { 0 };
	char buf[65536];
	struct stat st;
	ssize_t n;
	int fd = open(conf->chart_js, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CHART_JS_MAX) {
		if (fd >= 0)
			close(fd);
		albmd_http_text(out, 404,
				"chart library not found (control { chart-js PATH; }; "
				"Debian package libjs-chart.js)\n");
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 && body.len < CHART_JS_MAX)
		albmd_buf_append(&body, buf, (size_t)n);
	close(fd);
	http_reply(out, 200, "application/javascript; charset=utf-8",
		   "Cache-Control: max-age=3600\r\n", body.p ? body.p : "", body.len, head);
	albmd_buf_free(&body);
}

static void serve_json(struct albmd_buf *out, json_t *j, size_t flags, bool head)
{
	char *s = json_dumps(j, flags);

	json_decref(j);
	http_reply(out, 200, "application/json", NULL, s ? s : "{}", s ? strlen(s) : 2, head);
	free(s);
}

/* ?since=N of /api/history (0 when absent or bad). */
static uint64_t query_since(const char *q)
{
	const char *p = strstr(q, "since=");
	uint64_t v = 0;

	if (p && (p == q || p[-1] == '&')) {
		char num[24];
		snprintf(num, sizeof(num), "%.*s", (int)strcspn(p + 6, "&"), p + 6);
		if (albm_parse_u64(num, &v) < 0)
			v = 0;
	}
	return v;
}

static void serve_data(struct albmd *d, const struct albmd_http_req *req, struct albmd_buf *out,
		       bool head)
{
	json_t *j;

	if (!strcmp(req->path, "/metrics")) {
		struct albmd_buf body = { 0 };
		albmd_lock(d);
		albmd_metrics(d, &body);
		albmd_unlock(d);
		http_reply(out, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
			   body.p ? body.p : "", body.len, head);
		albmd_buf_free(&body);
		return;
	}
	bool state = !strcmp(req->path, "/api/state");

	albmd_lock(d); /* a snapshot under the lock, serialised after */
	j = state ? albmd_state_json(d) : albmd_history_json(d, query_since(req->query));
	albmd_unlock(d);
	serve_json(out, j, state ? JSON_INDENT(2) : JSON_COMPACT, head);
}

void albmd_admin_respond(struct albmd *d, const struct albmd_admin_conf *conf,
			 const struct albmd_http_req *req, struct albmd_buf *out)
{
	bool head = !strcmp(req->method, "HEAD");
	const char *p = req->path;

	if (strcmp(req->method, "GET") && !head) {
		albmd_http_text(out, 405, "only GET and HEAD\n");
	} else if (!strcmp(p, "/") || !strcmp(p, "/index.html")) {
		http_reply(out, 200, "text/html; charset=utf-8",
			   "Content-Security-Policy: default-src 'self'; style-src 'self' "
			   "'unsafe-inline'; script-src 'self' 'unsafe-inline'\r\n",
			   albmd_dashboard_html, albmd_dashboard_html_len, head);
	} else if (!strcmp(p, "/chart.js")) {
		serve_chart_js(conf, out, head);
	} else if (strcmp(p, "/metrics") && strcmp(p, "/api/state") && strcmp(p, "/api/history")) {
		albmd_http_text(out, 404, "not found\n");
	} else if (!authorized(conf, req)) {
		static const char msg[] = "a token is required (Authorization: Bearer TOKEN)\n";
		http_reply(out, 401, "text/plain; charset=utf-8",
			   "WWW-Authenticate: Bearer realm=\"albmd\"\r\n", msg, sizeof(msg) - 1,
			   head);
	} else {
		serve_data(d, req, out, head);
	}
}
