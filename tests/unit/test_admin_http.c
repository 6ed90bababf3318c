/* ALBM: unit tests for albmd's admin HTTP — the head parser (by length, NULs, early 400),
 * the routes and the bearer token, the token file, the history columns */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distributor/admin_http.h"
#include "distributor/history.h"
#include "distributor/service.h"

static int parse(const char *s, size_t len, struct albmd_http_req *req)
{
	char *copy = xmalloc(len ? len : 1); /* exact size: ASan sees a read past it */
	int rc;

	memcpy(copy, s, len);
	rc = albmd_http_parse(copy, len, req);
	free(copy);
	return rc;
}
#define PARSE(lit, req) parse(lit, sizeof(lit) - 1, req)

static void test_parse_complete(void **state)
{
	struct albmd_http_req req;
	(void)state;

	assert_int_equal(PARSE("GET /metrics HTTP/1.0\r\n\r\n", &req), 25);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.path, "/metrics");
	assert_false(req.has_auth);
	/* LF only, a query, headers, a bearer token in any case of the header name */
	assert_true(PARSE("HEAD /api/history?since=12 HTTP/1.1\nHost: x\n"
			  "aUtHoRiZaTiOn:   Bearer abc.DEF-123  \n\nrest",
			  &req) > 0);
	assert_string_equal(req.method, "HEAD");
	assert_string_equal(req.path, "/api/history");
	assert_string_equal(req.query, "since=12");
	assert_true(req.has_auth && req.bearer);
	assert_string_equal(req.token, "abc.DEF-123");
	/* another scheme is not a bearer token */
	assert_true(PARSE("GET / HTTP/1.0\r\nAuthorization: Basic eDp5\r\n\r\n", &req) > 0);
	assert_true(req.has_auth);
	assert_false(req.bearer);
}

static void test_parse_partial(void **state)
{
	static const char full[] = "GET /metrics HTTP/1.0\r\nX-A: 1\r\n\r\n";
	struct albmd_http_req req;
	(void)state;

	/* every prefix short of the blank line needs more, none is "bad" */
	for (size_t n = 0; n < sizeof(full) - 1; n++)
		assert_int_equal(parse(full, n, &req), 0);
	assert_int_equal(parse(full, sizeof(full) - 1, &req), (int)sizeof(full) - 1);
}

static void test_parse_bad_at_once(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{ "GET /\0 HTTP/1.0\r\n", 17 },           /* a NUL, the line incomplete */
		{ "GET /metrics HTTP/1.0\r\nX: \0", 27 }, /* a NUL in a header, head incomplete */
		{ "\x01\x02", 2 },
		{ "get / HTTP/1.0\r\n", 16 }, /* bad lines, as soon as complete */
		{ "GET / FTP/1.0\r\n", 15 },
		{ "GET noslash HTTP/1.0\r\n", 22 },
		{ "GET / HTTP/1.0 extra\r\n", 22 },
		{ "GET  / HTTP/1.0\r\n", 17 },
		{ "GET / HTTP/1.0\r\nno colon here\r\n", 31 },
		{ "GET / HTTP/1.0\r\nBad Name: x\r\n", 29 },
		{ "GET / HTTP/1.0\r\n\x7f: x\r\n", 23 },
	};
	struct albmd_http_req req;
	char longline[600];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (parse(bad[i].s, bad[i].n, &req) != -EBADMSG)
			fail_msg("case %zu not refused", i);
	/* a request line that cannot fit, before its end arrives */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "GET /", 5);
	assert_int_equal(parse(longline, sizeof(longline), &req), -EBADMSG);
}

/* ---- routes ---- */

static struct albmd d;

static int respond(const char *head, const struct albmd_admin_conf *conf, struct albmd_buf *out)
{
	struct albmd_http_req req;
	int code = 0;

	out->len = 0;
	assert_true(parse(head, strlen(head), &req) > 0);
	albmd_admin_respond(&d, conf, &req, out);
	assert_true(out->len > 12);
	sscanf(out->p, "HTTP/1.0 %d", &code);
	return code;
}

static void test_routes_and_token(void **state)
{
	struct albmd_admin_conf open = { .chart_js = "/nonexistent/chart.js" };
	struct albmd_admin_conf tok = open;
	struct albmd_buf out = { 0 };
	(void)state;

	snprintf(tok.token, sizeof(tok.token), "s3cr3t-t0ken-0123456789");
	assert_int_equal(respond("GET / HTTP/1.0\r\n\r\n", &open, &out), 200);
	assert_non_null(strstr(out.p, "<!doctype html>"));
	assert_non_null(strstr(out.p, "/api/history")); /* the page polls it */
	assert_null(strstr(out.p, "https://"));         /* and loads nothing from elsewhere */
	assert_int_equal(respond("GET /metrics HTTP/1.0\r\n\r\n", &open, &out), 200);
	assert_int_equal(respond("GET /api/state HTTP/1.0\r\n\r\n", &open, &out), 200);
	assert_int_equal(respond("GET /api/history?since=0 HTTP/1.0\r\n\r\n", &open, &out), 200);
	assert_int_equal(respond("GET /chart.js HTTP/1.0\r\n\r\n", &open, &out), 404);
	assert_int_equal(respond("GET /nope HTTP/1.0\r\n\r\n", &open, &out), 404);
	assert_int_equal(respond("POST /metrics HTTP/1.0\r\n\r\n", &open, &out), 405);
	/* HEAD: the head only */
	assert_int_equal(respond("HEAD / HTTP/1.0\r\n\r\n", &open, &out), 200);
	assert_null(strstr(out.p, "<!doctype"));
	/* with a token: data routes want it, the page does not */
	assert_int_equal(respond("GET /metrics HTTP/1.0\r\n\r\n", &tok, &out), 401);
	assert_non_null(strstr(out.p, "WWW-Authenticate: Bearer"));
	assert_int_equal(
		respond("GET /api/history HTTP/1.0\r\nAuthorization: Bearer s3cr3t-t0ken-012345678\r\n\r\n",
			&tok, &out),
		401);
	assert_int_equal(
		respond("GET /api/history HTTP/1.0\r\nAuthorization: Bearer s3cr3t-t0ken-01234567890\r\n\r\n",
			&tok, &out),
		401);
	assert_int_equal(
		respond("GET /api/state HTTP/1.0\r\nAuthorization: bearer s3cr3t-t0ken-0123456789\r\n\r\n",
			&tok, &out),
		200);
	assert_int_equal(respond("GET / HTTP/1.0\r\n\r\n", &tok, &out), 200);
	albmd_buf_free(&out);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static void test_token_file(void **state)
{
	char dir[] = "/tmp/albm-test-token.XXXXXX", path[64], tok[ALBMD_HTTP_TOKEN_MAX], err[256];
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t", dir);
	write_file(path, "0123456789abcdefXYZ\r\n", 0600);
	assert_int_equal(albmd_admin_token_load(path, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "0123456789abcdefXYZ");
	write_file(path, "0123456789abcdefXYZ\n", 0644);
	assert_int_equal(albmd_admin_token_load(path, tok, sizeof(tok), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	write_file(path, "short\n", 0600);
	assert_int_equal(albmd_admin_token_load(path, tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	write_file(path, "has a space in it 0123456\n", 0600);
	assert_int_equal(albmd_admin_token_load(path, tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_true(albmd_admin_token_load(path, tok, sizeof(tok), err, sizeof(err)) < 0);
	rmdir(dir);
}

/* ---- history ---- */

static void test_history_columns(void **state)
{
	struct albmd_cfg_server cs[2] = { { .name = "s1", .weight = 1 },
					  { .name = "s2", .weight = 2 } };
	struct albmd_cfg_service svc = {
		.name = "web", .scheduler = "rr", .servers = cs, .nservers = 2
	};
	char err[256];
	json_t *h, *srv;
	(void)state;

	albm_addr_parse("127.0.0.1:9001", &cs[0].addr, err, sizeof(err));
	albm_addr_parse("127.0.0.1:9002", &cs[1].addr, err, sizeof(err));
	d.services = xcalloc(1, sizeof(*d.services));
	d.services[0] = albmd_service_new(&d, &svc, err, sizeof(err));
	assert_non_null(d.services[0]);
	d.nservices = 1;
	for (int i = 0; i < ALBMD_HIST_LEN + 5; i++) /* the ring wraps */
		albmd_history_sample(&d);
	h = albmd_history_json(&d, 0);
	assert_int_equal(json_integer_value(json_object_get(h, "seq")), ALBMD_HIST_LEN + 5);
	assert_int_equal(json_array_size(json_object_get(h, "t")), ALBMD_HIST_LEN);
	srv = json_array_get(
		json_object_get(json_array_get(json_object_get(h, "services"), 0), "servers"), 1);
	assert_string_equal(json_string_value(json_object_get(srv, "name")), "s2");
	assert_int_equal(json_array_size(json_object_get(srv, "effective_weight")), ALBMD_HIST_LEN);
	assert_true(json_is_null(json_array_get(json_object_get(srv, "mem_available_pct"), 0)));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(srv, "state"), 0)),
			 ALBMD_ST_UP);
	json_decref(h);
	/* since: only what is newer */
	h = albmd_history_json(&d, ALBMD_HIST_LEN + 3);
	assert_int_equal(json_array_size(json_object_get(h, "t")), 2);
	json_decref(h);
	h = albmd_history_json(&d, ALBMD_HIST_LEN + 5);
	assert_int_equal(json_array_size(json_object_get(h, "t")), 0);
	json_decref(h);
	albmd_service_retire(&d, d.services[0]);
	free(d.services);
	d.services = NULL;
	d.nservices = 0;
	albmd_history_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_complete),    cmocka_unit_test(test_parse_partial),
		cmocka_unit_test(test_parse_bad_at_once), cmocka_unit_test(test_routes_and_token),
		cmocka_unit_test(test_token_file),        cmocka_unit_test(test_history_columns),
	};

	albm_log_level = ALBM_LOG_ERR;
	pthread_mutex_init(&d.lock, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
