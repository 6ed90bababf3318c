/* ALBM: unit tests for src/lab/common/http — request and response head parsing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lab/common/http.h"
#include "common/util.h"

static int req(const char *text, struct albm_http_req *r)
{
	return albm_http_parse_request(text, strlen(text), r);
}

static int resp(const char *text, struct albm_http_resp *r)
{
	return albm_http_parse_response(text, strlen(text), r);
}

static void test_request_ok(void **state)
{
	const char *t = "GET /bytes/5M HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\nGET /next";
	struct albm_http_req r;
	(void)state;

	assert_int_equal(req(t, &r), strstr(t, "GET /next") - t); /* head length only */
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.target, "/bytes/5M");
	assert_int_equal(r.minor, 1);
	assert_true(r.keepalive);
	assert_false(r.has_body);
	assert_true(req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r) > 0);
	assert_false(r.keepalive);
	assert_true(req("GET / HTTP/1.1\r\nconnection:  Keep-Alive , CLOSE \r\n\r\n", &r) > 0);
	assert_false(r.keepalive);
	assert_true(req("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	assert_false(r.keepalive);
	assert_true(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r) > 0);
	assert_true(r.keepalive);
	assert_true(req("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &r) > 0);
	assert_true(r.has_body);
	assert_true(req("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r) > 0);
	assert_false(r.has_body);
	assert_true(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0);
	assert_true(r.has_body);
}

static void test_request_partial(void **state)
{
	const char *t = "GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n";
	struct albm_http_req r;
	(void)state;

	for (size_t n = 0; n < strlen(t); n++) /* every prefix: not complete yet */
		assert_int_equal(albm_http_parse_request(t, n, &r), 0);
	assert_int_equal(albm_http_parse_request(t, strlen(t), &r), (int)strlen(t));
}

static void test_request_bad(void **state)
{
	static const char *const bad[] = {
		"GET /\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		" GET / HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET / HTTP/1.1\r\n: x\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
		"GET / HTTP/1.1\r\n folded\r\n\r\n",
		"GET /a\x01 HTTP/1.1\r\n\r\n",
		"GETTTTTTTTTTTTTTTT / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n",
	};
	struct albm_http_req r;
	char big[2000];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (req(bad[i], &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	strcpy(big + 1100, " HTTP/1.1\r\n\r\n"); /* target over ALBM_HTTP_TARGET_MAX */
	assert_int_equal(req(big, &r), -EINVAL);
	/* A NUL inside the head is rejected, not treated as its end. */
	assert_int_equal(albm_http_parse_request("GET / HTTP/1.1\r\nA: \0b\r\n\r\n", 26, &r),
			 -EINVAL);
}

static void test_response(void **state)
{
	struct albm_http_resp r;
	char long_name[200];
	(void)state;

	assert_true(resp("HTTP/1.1 200 OK\r\nX-Server: s1\r\nContent-Length: 15728640\r\n\r\n",
			 &r) > 0);
	assert_int_equal(r.status, 200);
	assert_true(r.has_length);
	assert_int_equal(r.content_length, 15728640);
	assert_string_equal(r.server, "s1");
	assert_true(r.keepalive);
	assert_false(r.chunked);
	assert_true(
		resp("HTTP/1.1 503 Service Unavailable\r\nx-server:  b2 \r\nConnection: close\r\n\r\n",
		     &r) > 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.server, "b2");
	assert_false(r.keepalive);
	assert_false(r.has_length);
	assert_true(resp("HTTP/1.0 204\r\n\r\n", &r) > 0);
	assert_int_equal(r.status, 204);
	assert_false(r.keepalive);
	assert_string_equal(r.server, "");
	assert_true(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0);
	assert_true(r.chunked);
	memset(long_name, 'n', sizeof(long_name));
	memcpy(long_name, "HTTP/1.1 200 OK\r\nX-Server: ", 27);
	strcpy(long_name + 150, "\r\n\r\n");
	assert_true(resp(long_name, &r) > 0);
	assert_int_equal(strlen(r.server), ALBM_NAME_MAX - 1); /* truncated, terminated */
}

static void test_response_bad(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 X\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	};
	struct albm_http_resp r;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (resp(bad[i], &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\n", &r), 0);
	assert_string_equal(albm_http_reason(503), "Service Unavailable");
	assert_string_equal(albm_http_reason(299), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),   cmocka_unit_test(test_request_partial),
		cmocka_unit_test(test_request_bad),  cmocka_unit_test(test_response),
		cmocka_unit_test(test_response_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
