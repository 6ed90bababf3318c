/* ALBM: unit tests for albmd's replay store (format, torn files, atomic save) and the L7
 * health check's wire side (the request with PROXY v1/v2 headers, the status line) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/health_http.h"
#include "distributor/replay_store.h"

static void test_replay_roundtrip(void **state)
{
	struct albmd_replay_entry in[2] = {
		{ .name = "s1",
		  .st = { .boot_id = 0xdeadbeef12345678ull,
			  .last_seq = 42,
			  .last_ts_ms = 1700000000123ull,
			  .seen = 1 } },
		{ .name = "web-2.x",
		  .st = { .boot_id = 1, .last_seq = 0, .last_ts_ms = 5, .seen = 1 } },
	};
	char dir[] = "/tmp/albm-test-replay.XXXXXX", err[256], path[96];
	struct albmd_replay_entry *out;
	struct albmd_buf b = { 0 };
	struct stat st;
	size_t n;
	(void)state;

	albmd_replay_format(&b, in, 2);
	assert_int_equal(albmd_replay_parse(b.p, b.len, &out, &n), 0);
	assert_int_equal(n, 2);
	for (int i = 0; i < 2; i++) { /* field by field: the struct has padding */
		assert_string_equal(out[i].name, in[i].name);
		assert_int_equal(out[i].st.boot_id, in[i].st.boot_id);
		assert_int_equal(out[i].st.last_seq, in[i].st.last_seq);
		assert_int_equal(out[i].st.last_ts_ms, in[i].st.last_ts_ms);
		assert_int_equal(out[i].st.seen, 1);
	}
	free(out);
	/* on disk: atomic replace, mode 0600, no temporary left */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(albmd_replay_load(dir, &out, &n, err, sizeof(err)), 0); /* none yet */
	assert_int_equal(n, 0);
	assert_int_equal(albmd_replay_save(dir, b.p, b.len, err, sizeof(err)), 0);
	assert_int_equal(albmd_replay_load(dir, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].st.last_seq, 42);
	free(out);
	snprintf(path, sizeof(path), "%s/%s", dir, ALBMD_REPLAY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, ALBMD_REPLAY_FILE);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, ALBMD_REPLAY_FILE);
	unlink(path);
	rmdir(dir);
	albmd_buf_free(&b);
}

static void test_replay_torn_and_foreign(void **state)
{
	static const char torn[] = "albm-replay 1\ns1 00000000000000aa 7 1000\n"
				   "bad name! 1 2 3\ns2 zz 1 2\ns3 0000000000000001 9 99 extra\n"
				   "s4 00000000000000bb 3 4";
	struct albmd_replay_entry *out;
	size_t n;
	(void)state;

	assert_int_equal(albmd_replay_parse(torn, sizeof(torn) - 1, &out, &n), 0);
	assert_int_equal(n, 2); /* s1 and the last line without its newline */
	assert_string_equal(out[0].name, "s1");
	assert_int_equal(out[0].st.boot_id, 0xaa);
	free(out);
	assert_int_equal(albmd_replay_parse("#!/bin/sh\n", 10, &out, &n), -EINVAL);
	assert_int_equal(n, 0);
}

static void test_state_dir(void **state)
{
	(void)state;
	setenv("STATE_DIRECTORY", "/var/lib/albm:/var/lib/other", 1);
	assert_string_equal(albmd_state_dir(""), "/var/lib/albm");
	assert_string_equal(albmd_state_dir("/srv/x"), "/srv/x");
	unsetenv("STATE_DIRECTORY");
	assert_null(albmd_state_dir(""));
}

static void test_hc_status(void **state)
{
	(void)state;
	assert_int_equal(albmd_hc_http_status("HTTP/1.0 200 OK\r\n", 17), 200);
	assert_int_equal(albmd_hc_http_status("HTTP/1.1 503\r\n", 14), 503);
	assert_int_equal(albmd_hc_http_status("HTTP/1.1 20", 11), 0);
	assert_int_equal(albmd_hc_http_status("HTT", 3), 0);
	assert_int_equal(albmd_hc_http_status("SSH-2.0-x\r\n", 11), -1);
	assert_int_equal(albmd_hc_http_status("HTTP/1.1 2x0 OK\r\n", 17), -1);
	assert_int_equal(albmd_hc_http_status("HTTP/1.1 2000 OK\r\n", 18), -1);
	assert_int_equal(albmd_hc_http_status("HTTP/1.1 099 X\r\n", 16), -1);
}

/* A connected loopback TCP socket (the check's), and the server's address. */
static int connected(struct albm_addr *server)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(server, 0, sizeof(*server));
	memcpy(&server->u.sin, &a, sizeof(a));
	server->len = sizeof(a);
	close(l);
	return c;
}

static void test_hc_request(void **state)
{
	struct albmd_cfg_health cfg = { .kind = ALBMD_HC_HTTP, .path = "/health", .expect = 200 };
	struct albm_addr server;
	char out[ALBMD_HC_REQ_MAX], want[64];
	int fd = connected(&server), n;
	(void)state;

	n = albmd_hc_http_request(&cfg, ALBMD_PP_OFF, fd, &server, out, sizeof(out));
	assert_true(n > 0);
	snprintf(want, sizeof(want), "GET /health HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n",
		 albm_addr_port(&server));
	assert_memory_equal(out, want, strlen(want));
	assert_memory_equal(out + n - 4, "\r\n\r\n", 4);
	/* v1: a text line first, the check connection's addresses */
	snprintf(cfg.host, sizeof(cfg.host), "example.test");
	n = albmd_hc_http_request(&cfg, ALBMD_PP_V1, fd, &server, out, sizeof(out));
	out[n] = '\0';
	assert_memory_equal(out, "PROXY TCP4 127.0.0.1 127.0.0.1 ", 31);
	assert_non_null(strstr(out, "\r\nGET /health HTTP/1.0\r\nHost: example.test\r\n"));
	/* v2: the binary signature, PROXY TCP4, 12 address bytes, then the request */
	n = albmd_hc_http_request(&cfg, ALBMD_PP_V2, fd, &server, out, sizeof(out));
	assert_memory_equal(out, "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
	assert_memory_equal(out + 20, "\x7f\x00\x00\x01", 4);
	assert_memory_equal(out + 28, "GET /health", 11);
	assert_true(n > 28);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_roundtrip),
		cmocka_unit_test(test_replay_torn_and_foreign),
		cmocka_unit_test(test_state_dir),
		cmocka_unit_test(test_hc_status),
		cmocka_unit_test(test_hc_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
